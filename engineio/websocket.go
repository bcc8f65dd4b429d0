package engineio

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/heraldrt/herald/internal/evloop"
	"github.com/heraldrt/herald/internal/timewheel"
)

// handshakeWriteTimeout bounds writing the 101 response.
const handshakeWriteTimeout = 10 * time.Second

// wsLayer runs WebSocket connections. The HTTP upgrade is served by
// net/http; the socket is then handed to an event loop (internal/evloop),
// so an idle WebSocket holds no goroutine and no buffer, only a small
// wsConn. Sockets that cannot be handed over (TLS served by net/http, or a
// system without the event loop) fall back to a reading goroutine each.
type wsLayer struct {
	srv    *Server
	engine *evloop.Engine // nil: every connection has a reading goroutine

	stopOnce sync.Once
	stopped  chan struct{} // closed when the engine has stopped
}

// wsConn is one WebSocket connection and what it currently serves: a
// *Session, or a *wsProbe while it tries to take over a polling session.
type wsConn struct {
	nc io.WriteCloser // *evloop.Conn, or a blocking conn in fallback mode

	// feedMu serialises onData: the bytes read with the HTTP request,
	// then the event loop's. It also orders the event loop after accept
	// for the race detector, which cannot see the hand-over through
	// epoll: accept holds it while registering the connection, and both
	// event-loop callbacks take it first. That works only if nothing
	// writes feedMu before accept locks it, so wsConn is never built
	// with a composite literal (which may write the whole struct).
	feedMu sync.Mutex
	reader wsReader

	mu      sync.Mutex
	owner   any
	closing bool
}

func newWSLayer(srv *Server) (*wsLayer, error) {
	l := &wsLayer{srv: srv, stopped: make(chan struct{})}
	engine, err := evloop.New(evloop.Config{
		ReadBufferSize: 32 << 10,
		MaxWriteBuffer: srv.opts.MaxWriteBuffer,
		OnData: func(c *evloop.Conn, data []byte) {
			switch o := c.Session().(type) {
			case *wsConn:
				l.onData(o, data)
			case *sniffer:
				o.onData(c, data)
			}
		},
		OnClose: func(c *evloop.Conn, err error) {
			switch o := c.Session().(type) {
			case *wsConn:
				l.onClose(o, err)
			case *sniffer:
				o.closed()
			}
		},
	})
	switch {
	case errors.Is(err, evloop.ErrUnsupported):
		close(l.stopped)
	case err != nil:
		return nil, fmt.Errorf("engineio: start websocket event loop: %w", err)
	default:
		l.engine = engine
	}
	return l, nil
}

// shutdown stops the event loop, closing its connections. It may be
// called again.
func (l *wsLayer) shutdown(ctx context.Context) error {
	if l.engine == nil {
		return nil
	}
	l.stopOnce.Do(func() {
		go func() {
			l.engine.Stop()
			close(l.stopped)
		}()
	})
	select {
	case <-l.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// accept completes the WebSocket handshake and starts reading frames for
// owner. It returns nil if the handshake failed (the client has been told).
//
// first, if not nil, is a frame sent in the same write as the 101 response
// (the open packet of a new session: one system call fewer per connect).
func (l *wsLayer) accept(w http.ResponseWriter, r *http.Request, owner any, first []byte) *wsConn {
	key, ok := checkUpgrade(r)
	if !ok {
		writeError(w, errBadRequest)
		return nil
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		writeError(w, errBadRequest)
		return nil
	}
	raw, brw, err := hj.Hijack()
	if err != nil {
		return nil
	}
	early, err := l.handshake101(raw, brw, key, first)
	if err != nil {
		_ = raw.Close()
		return nil
	}
	// Allocated zeroed, fields set one by one: see feedMu.
	wc := new(wsConn)
	wc.owner = owner
	wc.reader.limit = l.srv.opts.MaxPayload
	if lc, ok := raw.(*loopNetConn); ok { // already on the loop (Server.Listen)
		wc.feedMu.Lock()
		defer wc.feedMu.Unlock()
		wc.nc = lc.c
		lc.c.SetSession(wc)
		if len(early) > 0 {
			l.feedLocked(wc, early)
		}
		return wc
	}
	if l.engine != nil {
		// feedMu holds back the event loop's bytes until the bytes the
		// client sent with its request have been handled.
		wc.feedMu.Lock()
		defer wc.feedMu.Unlock()
		if nc, err := l.engine.Add(raw, wc); err == nil {
			wc.nc = nc
			if len(early) > 0 {
				l.feedLocked(wc, early)
			}
			return wc
		}
		// Not a plain socket (TLS), or the loop is stopping (a shutdown
		// racing this upgrade, which must still tell the client): a
		// reading goroutine serves it.
	}
	wc.nc = &deadlineConn{Conn: raw}
	go l.readLoop(wc, raw, early)
	return wc
}

// handshake101 writes the switching-protocols response and returns any
// bytes the client sent after its request.
func (l *wsLayer) handshake101(raw net.Conn, brw *bufio.ReadWriter, key string, first []byte) ([]byte, error) {
	var early []byte
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ = brw.Reader.Peek(n)
		early = append([]byte(nil), early...)
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		acceptKey(key) + "\r\n\r\n"
	_ = raw.SetWriteDeadline(time.Now().Add(handshakeWriteTimeout))
	if _, err := raw.Write(append([]byte(resp), first...)); err != nil {
		return nil, err
	}
	_ = raw.SetDeadline(time.Time{})
	return early, nil
}

// checkUpgrade validates an RFC 6455 opening handshake and returns its key.
func checkUpgrade(r *http.Request) (string, bool) {
	key := r.Header.Get("Sec-Websocket-Key")
	if r.Method != http.MethodGet || !headerHasToken(r.Header, "Connection", "upgrade") ||
		!headerHasToken(r.Header, "Upgrade", "websocket") ||
		r.Header.Get("Sec-Websocket-Version") != "13" {
		return "", false
	}
	if b, err := base64.StdEncoding.DecodeString(key); err != nil || len(b) != 16 {
		return "", false
	}
	return key, true
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// readLoop serves a connection the event loop cannot take.
func (l *wsLayer) readLoop(wc *wsConn, raw net.Conn, early []byte) {
	defer l.onClose(wc, nil)
	if len(early) > 0 && !l.onData(wc, early) {
		return
	}
	buf := make([]byte, 4096)
	for {
		n, err := raw.Read(buf)
		if n > 0 && !l.onData(wc, buf[:n]) {
			return
		}
		if err != nil {
			_ = raw.Close()
			return
		}
	}
}

// deadlineConn bounds each blocking write of the fallback mode.
type deadlineConn struct{ net.Conn }

func (d *deadlineConn) Write(b []byte) (int, error) {
	_ = d.Conn.SetWriteDeadline(time.Now().Add(handshakeWriteTimeout))
	return d.Conn.Write(b)
}

// onData feeds bytes from the client; it reports false once the
// connection is closed.
func (l *wsLayer) onData(wc *wsConn, data []byte) bool {
	wc.feedMu.Lock()
	defer wc.feedMu.Unlock()
	return l.feedLocked(wc, data)
}

func (l *wsLayer) feedLocked(wc *wsConn, data []byte) bool {
	err := wc.reader.feed(data, func(op byte, payload []byte) error {
		return l.onFrame(wc, op, payload)
	})
	if err == nil {
		return true
	}
	code := uint16(closeProtocolError)
	var we *wsError
	if errors.As(err, &we) {
		code = we.code
	}
	wc.closeWith(code)
	return false
}

var errPeerClosed = errors.New("websocket: closed by peer")

func (l *wsLayer) onFrame(wc *wsConn, op byte, payload []byte) error {
	switch op {
	case opPing:
		_, _ = wc.nc.Write(appendFrame(nil, opPong, nil, payload))
		return nil
	case opPong:
		return nil
	case opClose:
		code := uint16(closeNormal)
		if len(payload) == 1 {
			return protocolError("invalid close payload")
		}
		if len(payload) >= 2 {
			code = binary.BigEndian.Uint16(payload)
			if !validCloseCode(code) {
				return protocolError("invalid close code")
			}
		}
		wc.closeWith(code)
		return errPeerClosed
	}
	wc.mu.Lock()
	owner := wc.owner
	wc.mu.Unlock()
	switch o := owner.(type) {
	case *Session:
		o.onWSMessage(op, payload)
	case *wsProbe:
		o.onMessage(wc, op, payload)
	}
	return nil
}

// write sends a complete frame.
func (wc *wsConn) write(frame []byte) error {
	_, err := wc.nc.Write(frame)
	return err
}

// closeWith sends a close frame with code and closes the socket.
func (wc *wsConn) closeWith(code uint16) {
	wc.mu.Lock()
	if wc.closing {
		wc.mu.Unlock()
		return
	}
	wc.closing = true
	wc.mu.Unlock()
	_, _ = wc.nc.Write(appendFrame(nil, opClose, binary.BigEndian.AppendUint16(nil, code), nil))
	_ = wc.nc.Close()
}

func (wc *wsConn) close() { wc.closeWith(closeNormal) }

func (wc *wsConn) setOwner(o any) {
	wc.mu.Lock()
	wc.owner = o
	wc.mu.Unlock()
}

// onClose ends what the connection served; err is why the event loop
// closed it (evloop.ErrOverflow: the client did not read its backlog).
func (l *wsLayer) onClose(wc *wsConn, err error) {
	wc.feedMu.Lock() // orders this after accept; see feedMu
	wc.feedMu.Unlock()
	wc.mu.Lock()
	owner := wc.owner
	wc.owner = nil
	wc.mu.Unlock()
	switch o := owner.(type) {
	case *Session:
		o.mu.Lock()
		mine := o.ws == wc
		o.mu.Unlock()
		if mine {
			reason := ReasonTransportClose
			if errors.Is(err, evloop.ErrOverflow) {
				reason = ReasonSlowClient
			}
			o.closeWith(reason, silent)
		}
	case *wsProbe:
		o.abort()
	}
}

// handshake opens a WebSocket-only session.
func (l *wsLayer) handshake(w http.ResponseWriter, r *http.Request) {
	sess := l.srv.newSession(r, true)
	// The open packet goes out with the 101: nothing can precede it, since
	// sends before sess.ws is set wait in the queue flushed below.
	wc := l.accept(w, r, sess, controlFrame(sess.openPacket(false)))
	if wc == nil {
		sess.closeWith(ReasonTransportError, silent)
		return
	}
	sess.mu.Lock()
	if sess.closed {
		// Closed between the 101 and here: the client has its open packet
		// and must still learn that the session ended.
		tell := sess.toldClient
		sess.mu.Unlock()
		if tell {
			_ = wc.write(frameClose)
		}
		wc.close()
		return
	}
	sess.ws = wc
	sess.flushQueueLocked()
	sess.mu.Unlock()
	if wc.dead() {
		// It closed before it was attached (a bad first frame, or the
		// client hung up at once): its close could not end the session.
		sess.closeWith(ReasonTransportClose, silent)
		return
	}
	sess.startHeartbeat()
}

// dead reports whether the connection was closed, by either side.
func (wc *wsConn) dead() bool {
	wc.mu.Lock()
	defer wc.mu.Unlock()
	return wc.closing || wc.owner == nil
}

// wsProbe is a WebSocket trying to take over a polling session.
type wsProbe struct {
	sess    *Session
	conn    *wsConn
	probed  bool // "2probe" answered; polling is paused
	timeout timewheel.Entry
}

// upgrade starts moving a polling session to a WebSocket.
func (l *wsLayer) upgrade(w http.ResponseWriter, r *http.Request, sess *Session) {
	sess.mu.Lock()
	if sess.closed || sess.ws != nil || sess.probe != nil || sess.wsOnly {
		// Only one WebSocket per session: like Node, accept and drop it.
		sess.mu.Unlock()
		if wc := l.accept(w, r, nil, nil); wc != nil {
			wc.close()
		}
		return
	}
	p := &wsProbe{sess: sess}
	sess.probe = p
	sess.mu.Unlock()

	wc := l.accept(w, r, p, nil)
	sess.mu.Lock()
	if wc != nil && sess.ws == wc {
		// The client sent its probe and upgrade with the request: the
		// upgrade is already done.
		sess.mu.Unlock()
		return
	}
	if wc == nil || sess.probe != p {
		if sess.probe == p {
			sess.probe = nil
		}
		sess.mu.Unlock()
		if wc != nil {
			wc.close()
		}
		return
	}
	p.conn = wc
	sess.mu.Unlock()
	p.timeout.Init(p.abort)
	l.srv.wheel.Schedule(&p.timeout, l.srv.opts.UpgradeTimeout)
}

// abort drops the probe; the session carries on over polling.
func (p *wsProbe) abort() {
	s := p.sess
	s.mu.Lock()
	if s.probe == p {
		s.probe = nil
	}
	c := p.conn
	if c != nil && s.ws == c {
		// The upgrade completed as the timeout fired: the connection
		// is the session's now.
		c = nil
	}
	s.mu.Unlock()
	s.srv.wheel.Cancel(&p.timeout)
	if c != nil {
		c.close()
	}
}

func (p *wsProbe) onMessage(wc *wsConn, op byte, data []byte) {
	if op != opText {
		return
	}
	s := p.sess
	switch string(data) {
	case "2probe":
		s.mu.Lock()
		if s.probe == p {
			p.probed = true
			_ = wc.write(frameProbe)
			s.wakePollLocked()
		}
		s.mu.Unlock()
	case "5":
		s.mu.Lock()
		if s.probe != p || !p.probed || s.closed {
			s.mu.Unlock()
			p.abort()
			return
		}
		s.probe = nil
		s.ws = wc
		wc.setOwner(s)
		s.flushQueueLocked()
		s.wakePollLocked()
		s.mu.Unlock()
		s.srv.wheel.Cancel(&p.timeout)
	}
}

// flushQueueLocked sends what polling had queued over the new WebSocket.
func (s *Session) flushQueueLocked() {
	for _, p := range s.queue {
		var f []byte
		if p.Binary {
			f = appendFrame(nil, opBinary, nil, p.Data)
		} else {
			f = appendFrame(nil, opText, []byte{byte(p.Type)}, p.Data)
		}
		_ = s.ws.write(f)
	}
	s.queue = nil
}

func (s *Session) onWSMessage(op byte, data []byte) {
	if op == opBinary {
		s.handlePacket(Packet{Type: PacketMessage, Data: data, Binary: true})
		return
	}
	p, err := DecodeText(data)
	if err != nil {
		s.closeWith(ReasonParseError, silent)
		return
	}
	s.handlePacket(p)
}
