//go:build linux

package evloop

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Engine is a set of loops; connections are spread over them.
type Engine struct {
	cfg   Config
	loops []*loop

	stopOnce sync.Once

	// OnClose calls under way, which Stop waits for. Not a WaitGroup:
	// a connection closed by another goroutine while Stop waits would
	// Add to a WaitGroup being waited on.
	mu      sync.Mutex
	closing int
	drained chan struct{} // closed when closing reaches 0, if set
}

// New starts the loops.
func New(cfg Config) (*Engine, error) {
	if cfg.OnData == nil || cfg.OnClose == nil {
		return nil, errors.New("evloop: OnData and OnClose are required")
	}
	if cfg.Loops <= 0 {
		cfg.Loops = runtime.GOMAXPROCS(0)
	}
	if cfg.ReadBufferSize <= 0 {
		cfg.ReadBufferSize = 32 << 10
	}
	if cfg.MaxWriteBuffer <= 0 {
		cfg.MaxWriteBuffer = 4 << 20
	}
	e := &Engine{cfg: cfg}
	for range cfg.Loops {
		l, err := newLoop(e)
		if err != nil {
			e.Stop()
			return nil, err
		}
		e.loops = append(e.loops, l)
		go l.run()
	}
	return e, nil
}

// Stop closes every connection (OnClose runs for each) and ends the loops.
func (e *Engine) Stop() {
	e.stopOnce.Do(func() {
		for _, l := range e.loops {
			_ = l.file.Close() // wakes the loop, which closes its connections
		}
		for _, l := range e.loops {
			<-l.done
		}
		e.mu.Lock()
		if e.closing == 0 {
			e.mu.Unlock()
			return
		}
		drained := make(chan struct{})
		e.drained = drained
		e.mu.Unlock()
		<-drained
	})
}

// Add takes over nc's socket: from here on its bytes go to OnData, and nc
// itself is closed (the socket lives on as a duplicate descriptor). session
// is what Session returns, set before any OnData call. If Add fails, nc is
// left as it was (ErrClosed: the engine is stopped).
func (e *Engine) Add(nc net.Conn, session any) (*Conn, error) {
	fd, err := dupFD(nc)
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("evloop: set non-blocking: %w", err)
	}
	l := e.loops[fd%len(e.loops)]
	c := &Conn{loop: l, fd: fd, session: session}
	if err := l.add(c); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	_ = nc.Close()
	return c, nil
}

// dupFD duplicates the descriptor of a net.Conn that wraps a socket.
func dupFD(nc net.Conn) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1, ErrNotSocket
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("evloop: %w", err)
	}
	fd, dupErr := -1, error(nil)
	err = raw.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	})
	if err == nil {
		err = dupErr
	}
	if err != nil {
		return -1, fmt.Errorf("evloop: duplicate socket: %w", err)
	}
	return fd, nil
}

// loop is one epoll set and the goroutine that reads it.
type loop struct {
	e    *Engine
	epfd int
	file *os.File // epfd, registered with the Go network poller
	raw  syscall.RawConn
	done chan struct{}

	mu    sync.Mutex
	conns map[int32]*Conn

	events []unix.EpollEvent
	buf    []byte
}

func newLoop(e *Engine) (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("evloop: epoll_create1: %w", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("evloop: set non-blocking: %w", err)
	}
	// os.NewFile registers a non-blocking descriptor with the runtime
	// poller; RawConn.Read then parks the loop until the set is ready.
	file := os.NewFile(uintptr(epfd), "evloop")
	raw, err := file.SyscallConn()
	if err != nil {
		_ = file.Close()
		return nil, fmt.Errorf("evloop: %w", err)
	}
	return &loop{
		e: e, epfd: epfd, file: file, raw: raw, done: make(chan struct{}),
		conns:  make(map[int32]*Conn),
		events: make([]unix.EpollEvent, 256),
		buf:    make([]byte, e.cfg.ReadBufferSize),
	}, nil
}

func (l *loop) add(c *Conn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns == nil {
		return ErrClosed
	}
	l.conns[int32(c.fd)] = c
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		delete(l.conns, int32(c.fd))
		return fmt.Errorf("evloop: epoll_ctl add: %w", err)
	}
	return nil
}

func (l *loop) remove(c *Conn) {
	l.mu.Lock()
	if l.conns[int32(c.fd)] == c {
		delete(l.conns, int32(c.fd))
	}
	l.mu.Unlock()
}

func (l *loop) lookup(fd int32) *Conn {
	l.mu.Lock()
	c := l.conns[fd]
	l.mu.Unlock()
	return c
}

// run serves the loop until Stop closes its file.
func (l *loop) run() {
	defer close(l.done)
	for {
		// The runtime registers the set edge-triggered: poll returns false
		// only once epoll_wait finds nothing ready, so no edge is missed.
		if err := l.raw.Read(l.poll); err != nil {
			break
		}
	}
	l.closeAll()
}

// poll handles every ready connection; false means the set is empty.
func (l *loop) poll(uintptr) bool {
	for {
		n := epollWaitNow(l.epfd, l.events)
		if n <= 0 {
			return false
		}
		for i := range l.events[:n] {
			ev := &l.events[i]
			if c := l.lookup(ev.Fd); c != nil {
				l.serve(c, ev.Events)
			}
		}
	}
}

func (l *loop) serve(c *Conn, events uint32) {
	if events&unix.EPOLLOUT != 0 {
		c.flush()
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		// One read per event: a connection with more to read is ready
		// again on the next epoll_wait, after the others had their turn.
		n, err := c.read(l.buf)
		if n > 0 {
			l.e.cfg.OnData(c, l.buf[:n])
		}
		if err != nil {
			c.closeWith(err)
		}
	}
}

func (l *loop) closeAll() {
	l.mu.Lock()
	conns := l.conns
	l.conns = nil
	l.mu.Unlock()
	for _, c := range conns {
		c.closeWith(nil)
	}
}

// epollWaitNow returns the ready events without blocking.
func epollWaitNow(epfd int, events []unix.EpollEvent) int {
	for {
		n, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd),
			uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0
		}
		return int(n)
	}
}

// onClose runs OnClose on a goroutine of its own: the goroutine closing a
// connection may hold locks that OnClose takes (a writer that overflowed,
// say).
func (e *Engine) onClose(c *Conn, err error) {
	e.mu.Lock()
	e.closing++
	e.mu.Unlock()
	go func() {
		e.cfg.OnClose(c, err)
		e.mu.Lock()
		if e.closing--; e.closing == 0 && e.drained != nil {
			close(e.drained)
			e.drained = nil
		}
		e.mu.Unlock()
	}()
}
