package socketio

import (
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/heraldrt/herald/engineio"
	"github.com/heraldrt/herald/internal/timewheel"
)

// conn is the Socket.IO state of one Engine.IO session: the sockets it has
// in each namespace and a binary packet being reassembled.
type conn struct {
	srv *Server
	eio *engineio.Session

	// recv is held while a packet from the client is handled, and while
	// a socket admitted after its middleware is attached, told it is
	// connected and given to the connection handler. As in Node, where
	// all three happen before the next packet is read, the socket's first
	// events then find the handlers that the connection handler set.
	recv sync.Mutex

	mu         sync.Mutex
	sockets    []*Socket // one per joined namespace; usually one
	connecting []string  // namespaces whose CONNECT is in the middleware
	partial    *partialPacket
	closed     bool

	connectTimeout timewheel.Entry
}

// emptyAuth is the auth payload of a CONNECT without one, shared by every
// such socket. It must not be modified.
var emptyAuth = json.RawMessage(`{}`)

// partialPacket is a binary packet waiting for its attachments.
type partialPacket struct {
	p           Packet
	attachments [][]byte
}

func (c *conn) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.sockets {
		if s.nsp.name == nsp {
			return s
		}
	}
	return nil
}

// onMessage is called by Engine.IO, one message at a time.
func (c *conn) onMessage(data []byte, binary bool) {
	c.recv.Lock()
	defer c.recv.Unlock()
	if binary {
		c.onAttachment(data)
		return
	}
	c.mu.Lock()
	busy := c.partial != nil
	c.mu.Unlock()
	if busy {
		c.fail() // text while attachments are awaited
		return
	}
	p, err := Decode(data, c.srv.opts.MaxAttachments)
	if err != nil {
		c.fail()
		return
	}
	if p.Attachments > 0 {
		p.Data = append(json.RawMessage(nil), p.Data...) // outlives data
		c.mu.Lock()
		c.partial = &partialPacket{p: p}
		c.mu.Unlock()
		return
	}
	c.dispatch(p, nil)
}

func (c *conn) onAttachment(data []byte) {
	c.mu.Lock()
	pp := c.partial
	if pp == nil {
		c.mu.Unlock()
		c.fail()
		return
	}
	pp.attachments = append(pp.attachments, append([]byte(nil), data...))
	done := len(pp.attachments) == pp.p.Attachments
	if done {
		c.partial = nil
	}
	c.mu.Unlock()
	if done {
		c.dispatch(pp.p, pp.attachments)
	}
}

// closeAfter closes the connection after d unless it has closed by then.
func (c *conn) closeAfter(d time.Duration) {
	e := new(timewheel.Entry)
	e.Init(c.eio.Close)
	c.srv.wheel.Schedule(e, d)
}

// fail closes a connection that broke the protocol.
func (c *conn) fail() { c.eio.Close() }

func (c *conn) dispatch(p Packet, attachments [][]byte) {
	switch p.Type {
	case PacketConnect:
		c.onConnect(p)
	case PacketDisconnect:
		if s := c.socket(p.Namespace); s != nil {
			s.close(ReasonClientDisconnect)
		}
	case PacketEvent, PacketBinaryEvent:
		if s := c.socket(p.Namespace); s != nil {
			s.onEvent(p, attachments)
		}
	case PacketAck, PacketBinaryAck:
		if s := c.socket(p.Namespace); s != nil {
			s.onAck(p, attachments)
		}
	default:
		c.fail() // CONNECT_ERROR comes only from servers
	}
}

func (c *conn) onConnect(p Packet) {
	nsp := c.srv.namespace(p.Namespace)
	if nsp == nil {
		c.sendPacket(Packet{Type: PacketConnectError, Namespace: p.Namespace,
			Data: json.RawMessage(`{"message":"Invalid namespace"}`)})
		return
	}
	if !c.beginConnect(nsp.name) {
		return // connected there already, or being connected: one at a time
	}
	auth := emptyAuth
	if p.Data != nil {
		auth = append(json.RawMessage(nil), p.Data...)
	}
	nsp.connect(c, auth)
}

// beginConnect reserves a namespace for a CONNECT, so a client repeating
// CONNECT cannot make the server run its (possibly costly) middleware more
// than once at a time.
func (c *conn) beginConnect(nsp string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if slices.Contains(c.connecting, nsp) || slices.ContainsFunc(c.sockets, func(s *Socket) bool { return s.nsp.name == nsp }) {
		return false
	}
	c.connecting = append(c.connecting, nsp)
	return true
}

// endConnectLocked releases the reservation of beginConnect.
func (c *conn) endConnectLocked(nsp string) {
	if i := slices.Index(c.connecting, nsp); i >= 0 {
		c.connecting = slices.Delete(c.connecting, i, i+1)
	}
	if len(c.connecting) == 0 {
		c.connecting = nil // an idle connection keeps no backing array
	}
}

// refused ends a CONNECT the middleware refused.
func (c *conn) refused(nsp string) {
	c.mu.Lock()
	c.endConnectLocked(nsp)
	c.mu.Unlock()
}

// attach records a socket that passed its namespace's middleware.
func (c *conn) attach(s *Socket) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endConnectLocked(s.nsp.name)
	if c.closed {
		return false
	}
	c.sockets = append(c.sockets, s)
	c.srv.wheel.Cancel(&c.connectTimeout)
	return true
}

func (c *conn) detach(s *Socket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.sockets {
		if x == s {
			c.sockets = append(c.sockets[:i], c.sockets[i+1:]...)
			return
		}
	}
}

func (c *conn) sendPacket(p Packet) {
	_ = c.eio.Send(engineio.NewMessage(AppendPacket(nil, p), false))
}

func (c *conn) onConnectTimeout() {
	c.mu.Lock()
	idle := len(c.sockets) == 0 && !c.closed
	c.mu.Unlock()
	if idle {
		c.eio.Close()
	}
}

// onClose runs when the Engine.IO session ends: every socket goes.
func (c *conn) onClose(reason string) {
	c.srv.wheel.Cancel(&c.connectTimeout)
	c.mu.Lock()
	c.closed = true
	sockets := c.sockets
	c.sockets = nil
	c.partial = nil
	c.mu.Unlock()
	for _, s := range sockets {
		s.close(reason)
	}
}
