//go:build linux

package evloop

import (
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Conn is one connection of a loop. Write and Close may be called from any
// goroutine.
type Conn struct {
	loop *loop
	fd   int

	// mu guards the descriptor: it is read, written and closed under mu,
	// so a closed descriptor number reused by a new connection is never
	// touched through this Conn.
	mu      sync.Mutex
	closed  bool
	pending []byte // bytes the socket did not take yet
	session any
}

// Session returns the value given to Add or SetSession.
func (c *Conn) Session() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session
}

// SetSession replaces what Session returns: the callbacks that follow see
// the new value.
func (c *Conn) SetSession(v any) {
	c.mu.Lock()
	c.session = v
	c.mu.Unlock()
}

// Detach takes the socket off the loop and returns it as a net.Conn of
// the Go runtime's own, as if it had never been added: no OnClose runs,
// and the Conn is closed to any further use. Pending output is dropped
// (a connection is detached before anything is written to it).
func (c *Conn) Detach() (net.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	c.closed = true
	c.pending = nil
	_ = unix.EpollCtl(c.loop.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	c.loop.remove(c)
	f := os.NewFile(uintptr(c.fd), "evloop")
	defer f.Close() // net.FileConn holds a duplicate
	nc, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("evloop: detach: %w", err)
	}
	return nc, nil
}

// Write sends b, or keeps what the socket does not take at once and sends
// it when the socket is writable again. It never blocks. If the unsent
// bytes would exceed MaxWriteBuffer, the connection is closed and Write
// returns ErrOverflow.
func (c *Conn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, ErrClosed
	}
	if len(c.pending) > 0 {
		if len(c.pending)+len(b) > c.loop.e.cfg.MaxWriteBuffer {
			c.closeLocked(ErrOverflow)
			return 0, ErrOverflow
		}
		c.pending = append(c.pending, b...)
		return len(b), nil
	}
	n, err := writeFD(c.fd, b)
	if n == len(b) {
		return n, nil
	}
	if err != nil && err != unix.EAGAIN {
		c.closeLocked(err)
		return n, err
	}
	rest := b[n:]
	if len(rest) > c.loop.e.cfg.MaxWriteBuffer {
		c.closeLocked(ErrOverflow)
		return n, ErrOverflow
	}
	c.pending = append([]byte(nil), rest...)
	if err := c.watchWrites(true); err != nil {
		c.closeLocked(err)
		return n, err
	}
	return len(b), nil
}

// flush writes pending bytes once the socket is writable.
func (c *Conn) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.pending) == 0 {
		return
	}
	n, err := writeFD(c.fd, c.pending)
	if err != nil && err != unix.EAGAIN {
		c.closeLocked(err)
		return
	}
	if n < len(c.pending) {
		c.pending = c.pending[:copy(c.pending, c.pending[n:])]
		return
	}
	c.pending = nil // a drained backlog holds no memory
	if err := c.watchWrites(false); err != nil {
		c.closeLocked(err)
	}
}

func (c *Conn) watchWrites(on bool) error {
	events := uint32(unix.EPOLLIN | unix.EPOLLRDHUP)
	if on {
		events |= unix.EPOLLOUT
	}
	ev := unix.EpollEvent{Events: events, Fd: int32(c.fd)}
	return unix.EpollCtl(c.loop.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev)
}

// read reads once into buf; err is io.EOF when the peer closed.
func (c *Conn) read(buf []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, nil
	}
	for {
		n, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(c.fd),
			uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
		switch {
		case errno == unix.EINTR:
			continue
		case errno == unix.EAGAIN:
			return 0, nil
		case errno != 0:
			return 0, errno
		case n == 0:
			return 0, io.EOF
		}
		return int(n), nil
	}
}

// Close closes the connection; OnClose runs with a nil error.
func (c *Conn) Close() error {
	c.closeWith(nil)
	return nil
}

func (c *Conn) closeWith(err error) {
	c.mu.Lock()
	c.closeLocked(err)
	c.mu.Unlock()
}

// closeLocked closes the descriptor once, then runs OnClose.
func (c *Conn) closeLocked(err error) {
	if c.closed {
		return
	}
	c.closed = true
	c.pending = nil
	_ = unix.EpollCtl(c.loop.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	_ = unix.Close(c.fd)
	c.loop.remove(c)
	c.loop.e.onClose(c, err)
}

// writeFD writes without blocking; it returns what the socket took.
func writeFD(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		n, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd),
			uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		return int(n), nil
	}
}
