package engineio

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/heraldrt/herald/internal/timewheel"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// wsLayer runs WebSocket connections on an nbio event loop. The HTTP
// upgrade is served by net/http; the upgraded socket is then handed to the
// event loop, so an idle WebSocket holds no goroutine and no read buffer.
type wsLayer struct {
	srv      *Server
	engine   *nbhttp.Engine
	upgrader *websocket.Upgrader
	// pending maps a remote address to its session while an upgrade is in
	// progress: the event loop may deliver the first frame before Upgrade
	// returns and the connection's session is set.
	pending sync.Map
}

func newWSLayer(srv *Server) (*wsLayer, error) {
	engine := nbhttp.NewEngine(nbhttp.Config{
		Name:                    "engineio",
		ReleaseWebsocketPayload: true,
		MaxWriteBufferSize:      srv.opts.MaxWriteBuffer,
		SupportServerOnly:       true,
	})
	if err := engine.Start(); err != nil {
		return nil, fmt.Errorf("engineio: start websocket event loop: %w", err)
	}
	l := &wsLayer{srv: srv, engine: engine}
	u := websocket.NewUpgrader()
	u.Engine = engine
	u.BlockingModTrasferConnToPoller = true
	u.KeepaliveTime = 0 // the Engine.IO heartbeat detects dead peers
	u.MessageLengthLimit = srv.opts.MaxPayload
	u.CheckOrigin = func(*http.Request) bool { return true } // checked in Server.cors
	u.OnMessage(l.onMessage)
	u.OnClose(l.onClose)
	l.upgrader = u
	return l, nil
}

func (l *wsLayer) shutdown(ctx context.Context) error {
	return l.engine.Shutdown(ctx)
}

// binding returns what a connection serves: a *Session or an upgrade
// *wsProbe.
func (l *wsLayer) binding(c *websocket.Conn) any {
	if v := c.SessionWithLock(); v != nil {
		return v
	}
	v, _ := l.pending.Load(c.RemoteAddr().String())
	return v
}

func (l *wsLayer) accept(w http.ResponseWriter, r *http.Request, b any) *websocket.Conn {
	l.pending.Store(r.RemoteAddr, b)
	defer l.pending.Delete(r.RemoteAddr)
	c, err := l.upgrader.UpgradeAndTransferConnToPoller(w, r, nil)
	if err != nil {
		l.srv.opts.Logger.Debug("engineio: websocket upgrade failed", "err", err)
		return nil
	}
	c.SetSession(b)
	return c
}

// handshake opens a WebSocket-only session.
func (l *wsLayer) handshake(w http.ResponseWriter, r *http.Request) {
	sess := l.srv.newSession(r)
	sess.wsOnly = true
	c := l.accept(w, r, sess)
	if c == nil {
		sess.closeWith(ReasonTransportError, silent)
		return
	}
	sess.mu.Lock()
	if sess.closed {
		sess.mu.Unlock()
		_ = c.Close()
		return
	}
	sess.ws = c
	_, err := c.Conn.Write(controlFrame(sess.openPacket(false)))
	sess.flushQueueLocked()
	sess.mu.Unlock()
	if err != nil {
		sess.closeWith(ReasonTransportError, silent)
		return
	}
	sess.startHeartbeat()
}

// wsProbe is a WebSocket trying to take over a polling session.
type wsProbe struct {
	sess    *Session
	conn    *websocket.Conn
	probed  bool // "2probe" answered; polling is paused
	timeout timewheel.Entry
}

// upgrade starts moving a polling session to a WebSocket.
func (l *wsLayer) upgrade(w http.ResponseWriter, r *http.Request, sess *Session) {
	sess.mu.Lock()
	if sess.closed || sess.ws != nil || sess.probe != nil || sess.wsOnly {
		// Only one WebSocket per session: like Node, accept and drop it.
		sess.mu.Unlock()
		if c := l.accept(w, r, nil); c != nil {
			_ = c.Close()
		}
		return
	}
	p := &wsProbe{sess: sess}
	sess.probe = p
	sess.mu.Unlock()

	c := l.accept(w, r, p)
	sess.mu.Lock()
	if c == nil || sess.probe != p {
		if sess.probe == p {
			sess.probe = nil
		}
		sess.mu.Unlock()
		if c != nil {
			_ = c.Close()
		}
		return
	}
	p.conn = c
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
	s.mu.Unlock()
	s.srv.wheel.Cancel(&p.timeout)
	if c != nil {
		_ = c.Close()
	}
}

func (p *wsProbe) onMessage(c *websocket.Conn, mt websocket.MessageType, data []byte) {
	if mt != websocket.TextMessage {
		return
	}
	s := p.sess
	switch string(data) {
	case "2probe":
		s.mu.Lock()
		if s.probe == p {
			p.probed = true
			_, _ = c.Conn.Write(frameProbe)
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
		s.ws = c
		c.SetSession(s)
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
		_, _ = s.ws.Conn.Write(f)
	}
	s.queue = nil
}

func (l *wsLayer) onMessage(c *websocket.Conn, mt websocket.MessageType, data []byte) {
	switch b := l.binding(c).(type) {
	case *Session:
		b.onWSMessage(mt, data)
	case *wsProbe:
		b.onMessage(c, mt, data)
	default:
		_ = c.Close()
	}
}

func (s *Session) onWSMessage(mt websocket.MessageType, data []byte) {
	if mt == websocket.BinaryMessage {
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

func (l *wsLayer) onClose(c *websocket.Conn, _ error) {
	switch b := l.binding(c).(type) {
	case *Session:
		b.mu.Lock()
		mine := b.ws == c
		b.mu.Unlock()
		if mine {
			b.closeWith(ReasonTransportClose, silent)
		}
	case *wsProbe:
		b.abort()
	}
}
