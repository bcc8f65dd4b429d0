package socketio

import (
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/heraldrt/herald/engineio"
	"github.com/heraldrt/herald/internal/timewheel"
)

// Disconnect reasons, as Node's socket.io names them; the Engine.IO ones
// (engineio.Reason*) are passed through.
const (
	ReasonClientDisconnect = "client namespace disconnect"
	ReasonServerDisconnect = "server namespace disconnect"
)

// ErrAckTimeout is passed to an EmitWithAck callback when the client does
// not answer in time; ErrDisconnected when the socket goes first.
var (
	ErrAckTimeout   = errors.New("socketio: ack timeout")
	ErrDisconnected = errors.New("socketio: socket disconnected")
)

// Socket is one client's membership of a namespace. Its methods are safe
// for concurrent use.
type Socket struct {
	id   string
	nsp  *Namespace
	conn *conn
	auth json.RawMessage

	mu           sync.Mutex
	data         any
	handlers     []handler
	onDisconnect func(reason string)
	acks         map[uint64]*pendingAck
	nextAck      uint64
	closed       bool

	rooms []string // guarded by nsp.mu
}

type handler struct {
	event string
	fn    func(*Event)
}

type pendingAck struct {
	fn    func(*Event, error)
	timer timewheel.Entry
}

func newSocket(n *Namespace, c *conn, auth json.RawMessage) *Socket {
	return &Socket{id: newID(), nsp: n, conn: c, auth: auth}
}

// ID returns the socket's id, also the name of a room holding only it.
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake returns what was kept of the HTTP request that opened the
// connection (headers, query, remote address).
func (s *Socket) Handshake() *engineio.Handshake { return s.conn.eio.Handshake() }

// Auth returns the CONNECT packet's payload (the client's auth option);
// "{}" when the client sent none.
func (s *Socket) Auth() json.RawMessage { return s.auth }

// Transport returns "polling" or "websocket".
func (s *Socket) Transport() string { return s.conn.eio.Transport() }

// SetData attaches application data (such as the authenticated user) to
// the socket; middleware typically sets it.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// Data returns what SetData stored.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// On registers a handler for an event from the client. Handlers run one at
// a time per connection, on the event loop that reads the connection, as in
// Node: one that blocks delays every connection served by that loop, so
// hand slow work (database calls, HTTP requests) to a goroutine.
func (s *Socket) On(event string, fn func(*Event)) {
	s.mu.Lock()
	s.handlers = append(s.handlers, handler{event, fn})
	s.mu.Unlock()
}

// OnDisconnect sets the handler run once when the socket leaves.
func (s *Socket) OnDisconnect(fn func(reason string)) {
	s.mu.Lock()
	s.onDisconnect = fn
	s.mu.Unlock()
}

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) {
	n := s.nsp
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, live := n.sockets[s.id]; !live {
		return
	}
	for _, r := range rooms {
		set := n.rooms[r]
		if set == nil {
			set = &roomSet{}
			n.rooms[r] = set
		}
		if set.add(s) {
			s.rooms = append(s.rooms, r)
		}
	}
}

// Leave removes the socket from a room.
func (s *Socket) Leave(room string) {
	n := s.nsp
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, r := range s.rooms {
		if r == room {
			s.rooms = append(s.rooms[:i], s.rooms[i+1:]...)
			n.leaveLocked(s, room)
			return
		}
	}
}

// Rooms returns the rooms the socket is in (not counting its own id).
func (s *Socket) Rooms() []string {
	s.nsp.mu.RLock()
	defer s.nsp.mu.RUnlock()
	return append([]string(nil), s.rooms...)
}

// Emit sends an event to this socket. []byte arguments (also inside []any
// and map[string]any) travel as binary attachments; json.RawMessage
// arguments are sent verbatim; anything else is JSON-encoded.
func (s *Socket) Emit(event string, args ...any) error {
	return s.emit(event, args, nil, 0)
}

// EmitWithAck sends an event and asks the client to acknowledge it. fn
// runs once: with the client's answer, with ErrAckTimeout after timeout,
// or with ErrDisconnected if the socket goes first. It must not block. On
// a socket already disconnected EmitWithAck returns ErrDisconnected and fn
// is not called.
func (s *Socket) EmitWithAck(event string, timeout time.Duration, fn func(*Event, error), args ...any) error {
	return s.emit(event, args, fn, timeout)
}

func (s *Socket) emit(event string, args []any, ack func(*Event, error), timeout time.Duration) error {
	p := Packet{Type: PacketEvent, Namespace: s.nsp.name}
	var pa *pendingAck
	if ack != nil {
		pa = &pendingAck{fn: ack}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return ErrDisconnected
		}
		p.ID, p.HasID = s.nextAck, true
		s.nextAck++
		if s.acks == nil {
			s.acks = map[uint64]*pendingAck{}
		}
		s.acks[p.ID] = pa
		s.mu.Unlock()
		id := p.ID
		pa.timer.Init(func() { s.resolveAck(id, nil, ErrAckTimeout) })
		s.nsp.srv.wheel.Schedule(&pa.timer, timeout)
	}
	msgs, err := encode(p, []any{event}, args)
	if err != nil {
		if pa != nil {
			s.resolveAck(p.ID, nil, err)
		}
		return err
	}
	return s.send(msgs)
}

func (s *Socket) send(msgs []*engineio.Message) error {
	for _, m := range msgs {
		if err := s.conn.eio.Send(m); err != nil {
			return err
		}
	}
	return nil
}

// resolveAck runs an ack callback once.
func (s *Socket) resolveAck(id uint64, e *Event, err error) {
	s.mu.Lock()
	pa := s.acks[id]
	delete(s.acks, id)
	s.mu.Unlock()
	if pa == nil {
		return
	}
	s.nsp.srv.wheel.Cancel(&pa.timer)
	pa.fn(e, err)
}

func (s *Socket) onAck(p Packet, attachments [][]byte) {
	args, err := splitArgs(p.Data)
	if err != nil {
		s.conn.fail()
		return
	}
	s.resolveAck(p.ID, &Event{Args: args, Attachments: attachments}, nil)
}

func (s *Socket) onEvent(p Packet, attachments [][]byte) {
	all, err := splitArgs(p.Data)
	if err != nil || len(all) == 0 {
		s.conn.fail()
		return
	}
	name, _ := eventName(p.Data)
	e := &Event{Name: name, Args: all[1:], Attachments: attachments}
	if p.HasID {
		e.ack = &ackReply{s: s, id: p.ID}
	}
	s.mu.Lock()
	var fns []func(*Event)
	for _, h := range s.handlers {
		if h.event == name {
			fns = append(fns, h.fn)
		}
	}
	s.mu.Unlock()
	for _, fn := range fns {
		fn(e)
	}
}

// closeGrace is how long a client told to disconnect has to close its
// connection itself before the server closes it.
const closeGrace = 2 * time.Second

// Disconnect removes the socket from its namespace, telling the client,
// whose socket.io-client then does not reconnect on its own ("io server
// disconnect"). With closeConn the whole connection (every namespace) is
// closed too: the client closes it on receiving the DISCONNECT, or the
// server does after a short grace. (Closing at once would race the
// DISCONNECT: socket.io-client handles packets a tick late, so over
// long-polling it would see the close first and report "transport close".)
func (s *Socket) Disconnect(closeConn bool) {
	s.conn.sendPacket(Packet{Type: PacketDisconnect, Namespace: s.nsp.name})
	s.close(ReasonServerDisconnect)
	if closeConn {
		s.conn.closeAfter(closeGrace)
	}
}

// close leaves the namespace once and runs the disconnect handler.
func (s *Socket) close(reason string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	fn := s.onDisconnect
	acks := s.acks
	s.acks = nil
	s.mu.Unlock()
	s.nsp.remove(s)
	s.conn.detach(s)
	for _, pa := range acks {
		s.nsp.srv.wheel.Cancel(&pa.timer)
		pa.fn(nil, ErrDisconnected)
	}
	if fn != nil {
		fn(reason)
	}
}

// To selects the sockets of the given rooms, except this one.
func (s *Socket) To(rooms ...string) *BroadcastOperator {
	return s.nsp.To(rooms...).Except(s.id)
}
