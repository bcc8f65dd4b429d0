package engineio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/heraldrt/herald/internal/evloop"
)

// maxUpgradeHead is the longest request head read on the event loop: a
// longer one (a heap of cookies, say) is handed to net/http, whose own
// limits then apply, as to every other connection.
const maxUpgradeHead = 16 << 10

// upgradeTimeout bounds the wait for a request head (a variable for tests).
var upgradeTimeout = 10 * time.Second

// Listen wraps ln for an http.Server that also mounts s (at path, on its
// mux). WebSocket upgrades to path are then served on the event loop from
// the first byte: no goroutine, no net/http buffers and no hijacking per
// connection. Every other connection (polling, other routes, TLS) reaches
// the http.Server through the returned listener with nothing lost. Where
// there is no event loop, ln is returned as is.
//
// For those upgrades the Options' CheckOrigin and the server's connection
// callback run on the event loop: like message callbacks, they must not
// block.
func (s *Server) Listen(ln net.Listener, path string) net.Listener {
	if s.ws.engine == nil {
		return ln
	}
	ul := &upgradeListener{inner: ln, srv: s, prefix: []byte("GET " + path), headTimeout: upgradeTimeout,
		conns: make(chan net.Conn), done: make(chan struct{})}
	go ul.run()
	return ul
}

// upgradeListener accepts for the event loop and passes on what it does
// not serve.
type upgradeListener struct {
	inner       net.Listener
	srv         *Server
	prefix      []byte // "GET /socket.io/"
	headTimeout time.Duration

	conns chan net.Conn // handed to net/http
	done  chan struct{}
	once  sync.Once
	err   error // why run stopped, once done is closed
}

func (ul *upgradeListener) Accept() (net.Conn, error) {
	select {
	case c := <-ul.conns:
		return c, nil
	case <-ul.done:
		return nil, ul.err
	}
}

func (ul *upgradeListener) Close() error { return ul.inner.Close() }

func (ul *upgradeListener) Addr() net.Addr { return ul.inner.Addr() }

func (ul *upgradeListener) run() {
	defer close(ul.done)
	var delay time.Duration
	for {
		nc, err := ul.inner.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() { // as net/http: back off and retry
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			ul.err = err
			return
		}
		delay = 0
		ul.sniff(nc)
	}
}

// sniff puts nc on the event loop until its first request head says where
// it goes.
func (ul *upgradeListener) sniff(nc net.Conn) {
	sn := &sniffer{ul: ul, remote: nc.RemoteAddr()}
	sn.timer = time.AfterFunc(ul.headTimeout, sn.timeout)
	c, err := ul.srv.ws.engine.Add(nc, sn)
	if err != nil { // not a plain socket, or the loop is stopping
		sn.timer.Stop()
		ul.handOff(nc)
		return
	}
	sn.mu.Lock()
	sn.c = c
	sn.mu.Unlock()
}

// handOff gives a connection to net/http, without blocking the loop.
func (ul *upgradeListener) handOff(nc net.Conn) {
	go func() {
		select {
		case ul.conns <- nc:
		case <-ul.done:
			_ = nc.Close()
		}
	}()
}

// sniffer is the event-loop session of a connection whose first request
// is not complete yet.
type sniffer struct {
	ul     *upgradeListener
	remote net.Addr
	buf    []byte // loop goroutine only
	seen   int    // how much of buf was searched for the head's end

	mu    sync.Mutex
	c     *evloop.Conn // nil until Add returned
	timer *time.Timer
	over  bool // served, handed off or timed out
}

// onData runs on the loop goroutine.
func (sn *sniffer) onData(c *evloop.Conn, data []byte) {
	sn.buf = append(sn.buf, data...)
	n := min(len(sn.buf), len(sn.ul.prefix))
	if !bytes.Equal(sn.buf[:n], sn.ul.prefix[:n]) {
		sn.handBack(c) // not ours: as soon as the first bytes say so
		return
	}
	// Search only the new bytes (and the 3 before them): a head trickled
	// a byte at a time must not cost a search of all of it per byte.
	from := max(sn.seen-3, 0)
	end := bytes.Index(sn.buf[from:], []byte("\r\n\r\n"))
	sn.seen = len(sn.buf)
	switch {
	case end >= 0:
		sn.serve(c, from+end+4)
	case len(sn.buf) > maxUpgradeHead:
		sn.handBack(c)
	}
}

// serve answers a complete request head that starts with GET path.
func (sn *sniffer) serve(c *evloop.Conn, headLen int) {
	if !sn.claim() {
		return
	}
	req, err := http.ReadRequest(bufio.NewReaderSize(bytes.NewReader(sn.buf[:headLen]), headLen))
	if err != nil {
		_ = respond(c, http.StatusBadRequest, nil, nil)
		return
	}
	if req.URL.Query().Get("transport") != "websocket" || !headerHasToken(req.Header, "Upgrade", "websocket") {
		sn.detach(c) // a polling request on the path (it may wait): net/http's
		return
	}
	req.RemoteAddr = addrString(sn.remote)
	w := &loopResponse{c: c, remote: sn.remote, early: sn.buf[headLen:], header: http.Header{}}
	sn.buf = nil
	sn.ul.srv.ServeHTTP(w, req)
	if !w.hijacked {
		_ = respond(c, w.status, w.header, w.body.Bytes())
	}
}

func (sn *sniffer) handBack(c *evloop.Conn) {
	if sn.claim() {
		sn.detach(c)
	}
}

// detach hands the connection, with what was read of it, to net/http.
func (sn *sniffer) detach(c *evloop.Conn) {
	nc, err := c.Detach()
	if err != nil {
		return // closed meanwhile
	}
	sn.ul.handOff(&prefixConn{Conn: nc, prefix: sn.buf})
	sn.buf = nil
}

// claim ends the sniffing once: false if it already ended (timed out).
func (sn *sniffer) claim() bool {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.over {
		return false
	}
	sn.over = true
	sn.timer.Stop()
	return true
}

// closed ends the sniffing of a connection closed under it.
func (sn *sniffer) closed() {
	sn.mu.Lock()
	sn.over = true
	sn.timer.Stop()
	sn.mu.Unlock()
}

// timeout closes a connection that sent no complete request in time, as
// net/http's ReadHeaderTimeout would.
func (sn *sniffer) timeout() {
	sn.mu.Lock()
	c, over := sn.c, sn.over
	sn.over = true
	sn.mu.Unlock()
	if !over && c != nil {
		_ = c.Close()
	}
}

// respond writes a complete response and closes the connection.
func respond(c *evloop.Conn, status int, h http.Header, body []byte) error {
	if status == 0 {
		status = http.StatusOK
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	for k, vs := range h {
		if k == "Content-Length" || k == "Connection" {
			continue
		}
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n")
	b.Write(body)
	_, err := c.Write(b.Bytes())
	_ = c.Close()
	return err
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// loopResponse is the http.ResponseWriter of a request served on the loop:
// a WebSocket handshake hijacks it; anything else is an error response,
// written whole when the handler returns.
type loopResponse struct {
	c        *evloop.Conn
	remote   net.Addr
	early    []byte // bytes the client sent after the request head
	header   http.Header
	status   int
	body     bytes.Buffer
	hijacked bool
}

func (w *loopResponse) Header() http.Header { return w.header }

func (w *loopResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *loopResponse) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// Hijack returns the connection; its reader holds the early bytes, already
// buffered, as net/http's would.
func (w *loopResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	lc := &loopNetConn{c: w.c, remote: w.remote}
	br := bufio.NewReaderSize(bytes.NewReader(w.early), max(len(w.early), 16))
	_, _ = br.Peek(len(w.early))
	return lc, bufio.NewReadWriter(br, bufio.NewWriter(lc)), nil
}

// loopNetConn is a hijacked event-loop connection seen as a net.Conn by
// the handshake code: writes never block, so deadlines have nothing to do.
type loopNetConn struct {
	c      *evloop.Conn
	remote net.Addr
}

func (l *loopNetConn) Read([]byte) (int, error) {
	return 0, errors.New("engineio: read on the event loop")
}
func (l *loopNetConn) Write(b []byte) (int, error)      { return l.c.Write(b) }
func (l *loopNetConn) Close() error                     { return l.c.Close() }
func (l *loopNetConn) LocalAddr() net.Addr              { return nil }
func (l *loopNetConn) RemoteAddr() net.Addr             { return l.remote }
func (l *loopNetConn) SetDeadline(time.Time) error      { return nil }
func (l *loopNetConn) SetReadDeadline(time.Time) error  { return nil }
func (l *loopNetConn) SetWriteDeadline(time.Time) error { return nil }

// prefixConn replays the bytes read while sniffing before the socket's.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}
