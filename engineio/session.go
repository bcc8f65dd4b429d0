package engineio

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldrt/herald/internal/cookie"
	"github.com/heraldrt/herald/internal/evloop"
	"github.com/heraldrt/herald/internal/timewheel"
)

// Close reasons passed to a session's OnClose callback; the same strings as
// the Node.js server uses.
const (
	ReasonTransportClose = "transport close"
	ReasonTransportError = "transport error"
	// ReasonSlowClient: the client did not read what was sent to it fast
	// enough and its bounded queue overflowed (herald's own reason).
	ReasonSlowClient     = "slow client"
	ReasonPingTimeout    = "ping timeout"
	ReasonParseError     = "parse error"
	ReasonForcedClose    = "forced close"
	ReasonServerShutdown = "server shutting down"
)

// ErrClosed is returned when sending on a closed session.
var ErrClosed = errors.New("engineio: session closed")

// Handshake is what a session keeps of the HTTP request that opened it:
// headers (without the WebSocket and hop-by-hop ones, or only those listed
// in Options.HandshakeHeaders) and the query parameters the client added
// (without Engine.IO's own). Headers are kept as a flat list rather than a
// map: a map costs hundreds of bytes on every idle connection.
type Handshake struct {
	Query      url.Values
	RemoteAddr string
	Secure     bool
	header     []string // canonical name, value, name, value, ...
}

// Header returns a copy of the kept headers.
func (h *Handshake) Header() http.Header {
	out := make(http.Header, len(h.header)/2)
	for i := 0; i < len(h.header); i += 2 {
		out[h.header[i]] = append(out[h.header[i]], h.header[i+1])
	}
	return out
}

// Values returns the values of the named header.
func (h *Handshake) Values(name string) []string {
	name = http.CanonicalHeaderKey(name)
	var out []string
	for i := 0; i < len(h.header); i += 2 {
		if h.header[i] == name {
			out = append(out, h.header[i+1])
		}
	}
	return out
}

// Get returns the first value of the named header, or "".
func (h *Handshake) Get(name string) string {
	if v := h.Values(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Cookie returns the named cookie's value from the handshake headers. A
// malformed neighbour cookie does not hide it.
func (h *Handshake) Cookie(name string) (string, bool) {
	return cookie.Get(h.Values("Cookie"), name)
}

var droppedHeaders = map[string]bool{
	"Connection": true, "Upgrade": true, "Sec-Websocket-Key": true, "Sec-Websocket-Version": true,
	"Sec-Websocket-Extensions": true, "Sec-Websocket-Protocol": true, "Keep-Alive": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Content-Length": true, "Content-Type": true,
	"Accept-Encoding": true, "Cache-Control": true, "Pragma": true,
}

func newHandshake(r *http.Request, keep []string) *Handshake {
	h := &Handshake{RemoteAddr: r.RemoteAddr, Secure: r.TLS != nil}
	add := func(name string, values []string) {
		for _, v := range values {
			h.header = append(h.header, name, v)
		}
	}
	if keep == nil {
		for k, v := range r.Header {
			if !droppedHeaders[k] {
				add(k, v)
			}
		}
	} else {
		for _, k := range keep {
			k = http.CanonicalHeaderKey(k)
			add(k, r.Header[k])
		}
	}
	h.header = slices.Clip(h.header)
	for k, v := range r.URL.Query() {
		switch k {
		case "EIO", "transport", "sid", "t", "b64", "j":
			continue
		}
		if h.Query == nil {
			h.Query = url.Values{}
		}
		h.Query[k] = v
	}
	return h
}

// Session is one Engine.IO connection, over long-polling, WebSocket, or
// polling upgraded to WebSocket. Its methods are safe for concurrent use.
// OnMessage callbacks for one session are never called concurrently.
type Session struct {
	srv *Server
	id  string
	hs  *Handshake

	recvMu    sync.Mutex // serialises onMessage calls
	onMessage func(data []byte, binary bool)
	onClose   func(reason string)

	mu          sync.Mutex
	closed      bool
	ws          *wsConn       // the WebSocket transport, once in use
	probe       *wsProbe      // an upgrade in progress
	queue       []Packet      // polling: packets waiting for a GET
	pollWake    chan struct{} // polling: non-nil while a GET waits
	posting     bool          // polling: a POST is being read
	wsOnly      bool          // opened over WebSocket; never polls
	awaitsPong  bool
	lastPing    int64 // unix nanoseconds of the last ping sent
	heartbeat   timewheel.Entry
	closeReason string
	// toldClient: the close sends the client a close packet (a server
	// shutdown, say); a WebSocket attached after the close still gets it.
	toldClient bool
}

// ID returns the Engine.IO session id (the "sid").
func (s *Session) ID() string { return s.id }

// Handshake returns what was kept of the opening HTTP request. It must not
// be modified.
func (s *Session) Handshake() *Handshake { return s.hs }

// Transport returns "polling" or "websocket".
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ws != nil || s.wsOnly { // a WebSocket-only session, even before its socket is attached
		return "websocket"
	}
	return "polling"
}

// OnMessage sets the callback for incoming messages. Set it in the
// server's connection callback, before any message can arrive. data is only
// valid during the call.
func (s *Session) OnMessage(fn func(data []byte, binary bool)) { s.onMessage = fn }

// OnClose sets the callback run once when the session ends.
func (s *Session) OnClose(fn func(reason string)) { s.onClose = fn }

// Send queues m for the client. It never blocks: over WebSocket the frame
// is handed to the event loop; over polling it waits in a bounded queue for
// the next GET, and a client that lets the queue overflow is disconnected.
func (s *Session) Send(m *Message) error {
	return s.sendPacket(m.packet(), m.wsFrame)
}

func (s *Session) sendPacket(p Packet, frame func() []byte) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.ws != nil {
		err := s.ws.write(frame())
		s.mu.Unlock()
		if err != nil {
			reason := ReasonTransportError
			if errors.Is(err, evloop.ErrOverflow) {
				reason = ReasonSlowClient
			}
			s.closeWith(reason, silent)
			return err
		}
		return nil
	}
	if len(s.queue) >= s.srv.opts.MaxBufferedPackets {
		s.mu.Unlock()
		s.closeWith(ReasonSlowClient, silent)
		return errors.New("engineio: polling queue full, client disconnected")
	}
	s.queue = append(s.queue, p)
	s.wakePollLocked()
	s.mu.Unlock()
	return nil
}

func (s *Session) wakePollLocked() {
	if s.pollWake != nil {
		select {
		case s.pollWake <- struct{}{}:
		default:
		}
	}
}

// Close ends the session from the server side; the client is told so it
// does not reconnect on its own.
func (s *Session) Close() { s.closeWith(ReasonForcedClose, tellClient) }

// closeMode says who ends a session and whether the client is told.
type closeMode uint8

const (
	silent      closeMode = iota // the transport is gone or broken
	tellClient                   // the server ends it: send a close packet
	clientAsked                  // the client sent a close packet
)

// closeWith ends the session once.
func (s *Session) closeWith(reason string, mode closeMode) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.closeReason = reason
	s.toldClient = mode == tellClient
	ws, probe := s.ws, s.probe
	s.probe = nil
	linger := s.queueFinalLocked(mode)
	if ws != nil && mode == tellClient {
		_ = ws.write(frameClose)
	}
	s.mu.Unlock()

	if linger {
		// The heartbeat entry removes the session when it next fires.
		s.srv.wheel.Schedule(&s.heartbeat, s.srv.opts.PingTimeout)
	} else {
		s.srv.wheel.Cancel(&s.heartbeat)
		s.srv.remove(s)
	}
	if probe != nil {
		probe.abort()
	}
	if ws != nil {
		ws.close()
	}
	// Not under recvMu: the message callback itself may close the session.
	if s.onClose != nil {
		s.onClose(reason)
	}
}

// queueFinalLocked leaves a polling client its last packet: a noop when it
// asked to close, a close packet when the server ends the session. A GET
// already waiting gets it now; otherwise the closed session lingers for a
// while so that the next GET (which may race the client's own close POST)
// still gets it, as Node's polling transport does. It reports whether the
// session lingers.
func (s *Session) queueFinalLocked(mode closeMode) bool {
	if s.ws != nil || s.wsOnly || (mode == silent && s.pollWake == nil) {
		s.queue = nil
		return false
	}
	final := Packet{Type: PacketClose}
	if mode == clientAsked {
		final.Type = PacketNoop
	}
	// Packets queued before the close go first, as Node flushes its buffer.
	s.queue = append(s.queue, final)
	if s.pollWake != nil {
		s.wakePollLocked()
		return false
	}
	return true
}

// handlePacket processes one packet from the client on the active
// transport.
func (s *Session) handlePacket(p Packet) {
	switch p.Type {
	case PacketMessage:
		s.recvMu.Lock()
		defer s.recvMu.Unlock()
		if s.onMessage != nil && !s.isClosed() {
			s.onMessage(p.Data, p.Binary)
		}
	case PacketPong:
		s.mu.Lock()
		s.awaitsPong = false
		// Ping on a steady beat from the last ping, not from the pong, so
		// round trips do not stretch the interval.
		next := s.srv.opts.PingInterval - time.Duration(time.Now().UnixNano()-s.lastPing)
		s.mu.Unlock()
		s.srv.wheel.Schedule(&s.heartbeat, next)
	case PacketClose:
		s.closeWith(ReasonTransportClose, clientAsked)
	case PacketNoop:
	default:
		// A v4 client never pings, opens or upgrades here: as Node does,
		// treat it as a broken client.
		s.closeWith(ReasonParseError, silent)
	}
}

func (s *Session) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// onHeartbeat runs on the wheel: it sends a ping, or ends a session whose
// previous ping went unanswered.
func (s *Session) onHeartbeat() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.srv.remove(s) // the end of a closed session's linger
		return
	}
	if s.awaitsPong {
		s.mu.Unlock()
		s.closeWith(ReasonPingTimeout, silent)
		return
	}
	s.awaitsPong = true
	s.lastPing = time.Now().UnixNano()
	s.mu.Unlock()
	s.srv.wheel.Schedule(&s.heartbeat, s.srv.opts.PingTimeout)
	_ = s.sendPacket(Packet{Type: PacketPing}, func() []byte { return framePing })
}

func (s *Session) startHeartbeat() {
	s.heartbeat.Init(s.onHeartbeat)
	s.srv.wheel.Schedule(&s.heartbeat, s.srv.opts.PingInterval)
}

// handshakeJSON is the open packet's payload.
func (s *Session) openPacket(upgrades bool) Packet {
	var b strings.Builder
	b.WriteString(`{"sid":"`)
	b.WriteString(s.id)
	if upgrades {
		b.WriteString(`","upgrades":["websocket"],"pingInterval":`)
	} else {
		b.WriteString(`","upgrades":[],"pingInterval":`)
	}
	o := &s.srv.opts
	b.WriteString(strconv.FormatInt(int64(o.PingInterval/time.Millisecond), 10))
	b.WriteString(`,"pingTimeout":`)
	b.WriteString(strconv.FormatInt(int64(o.PingTimeout/time.Millisecond), 10))
	b.WriteString(`,"maxPayload":`)
	b.WriteString(strconv.FormatInt(int64(o.MaxPayload), 10))
	b.WriteString(`}`)
	return Packet{Type: PacketOpen, Data: []byte(b.String())}
}
