package socketio

import (
	"encoding/json"
	"errors"
	"sync"
)

// Middleware runs for every socket that asks to join a namespace, before
// the client is told it is connected. Returning an error refuses the
// connection: a *ConnectError reaches the client's connect_error handler
// with its Message and Data; any other error with its text as the
// message. Middleware may block (for example on a database lookup): it
// runs on its own goroutine.
type Middleware func(s *Socket) error

// ConnectError refuses a connection with a message and optional data for
// the client.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

// Namespace is a Socket.IO namespace: its sockets, rooms, middleware and
// connection handler.
type Namespace struct {
	srv  *Server
	name string

	cfgMu      sync.RWMutex
	middleware []Middleware
	onConn     func(*Socket)

	mu      sync.RWMutex
	sockets map[string]*Socket
	rooms   map[string]*roomSet
}

func newNamespace(srv *Server, name string) *Namespace {
	return &Namespace{srv: srv, name: name,
		sockets: map[string]*Socket{}, rooms: map[string]*roomSet{}}
}

// Name returns the namespace's name, such as "/" or "/admin".
func (n *Namespace) Name() string { return n.name }

// Use adds a middleware; they run in the order added.
func (n *Namespace) Use(m Middleware) {
	n.cfgMu.Lock()
	n.middleware = append(n.middleware, m)
	n.cfgMu.Unlock()
}

// OnConnection sets the handler run for each socket that joins, after the
// client has been told it is connected. Register the socket's event
// handlers there.
func (n *Namespace) OnConnection(fn func(*Socket)) {
	n.cfgMu.Lock()
	n.onConn = fn
	n.cfgMu.Unlock()
}

// connect admits a socket through the middleware.
func (n *Namespace) connect(c *conn, auth json.RawMessage) {
	s := newSocket(n, c, auth)
	n.cfgMu.RLock()
	mw := n.middleware
	n.cfgMu.RUnlock()
	if len(mw) == 0 {
		n.admit(s, nil)
		return
	}
	n.srv.goMiddleware(func() {
		var err error
		for _, m := range mw {
			if err = runMiddleware(m, s); err != nil {
				break
			}
		}
		c.recv.Lock() // see conn.recv
		defer c.recv.Unlock()
		n.admit(s, err)
	})
}

// runMiddleware turns a panic in user code into a refusal.
func runMiddleware(m Middleware, s *Socket) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("server error")
		}
	}()
	return m(s)
}

func (n *Namespace) admit(s *Socket, err error) {
	if err != nil {
		s.conn.refused(n.name)
		s.conn.sendPacket(Packet{Type: PacketConnectError, Namespace: n.name, Data: connectErrorJSON(err)})
		return
	}
	if !s.conn.attach(s) {
		return // the connection closed meanwhile
	}
	n.mu.Lock()
	n.sockets[s.id] = s
	n.mu.Unlock()
	s.conn.sendPacket(Packet{Type: PacketConnect, Namespace: n.name,
		Data: json.RawMessage(`{"sid":"` + s.id + `"}`)})
	n.cfgMu.RLock()
	fn := n.onConn
	n.cfgMu.RUnlock()
	if fn != nil {
		fn(s)
	}
}

func connectErrorJSON(err error) json.RawMessage {
	body := struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{Message: err.Error()}
	var ce *ConnectError
	if errors.As(err, &ce) {
		body.Message, body.Data = ce.Message, ce.Data
	}
	b, mErr := json.Marshal(body)
	if mErr != nil {
		b, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{body.Message})
	}
	return b
}

// remove forgets a socket and its rooms.
func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.sockets, s.id)
	for _, r := range s.rooms {
		n.leaveLocked(s, r)
	}
	s.rooms = nil
}

func (n *Namespace) leaveLocked(s *Socket, room string) {
	if set := n.rooms[room]; set != nil && set.remove(s) {
		delete(n.rooms, room)
	}
}

// SocketCount returns the number of connected sockets.
func (n *Namespace) SocketCount() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.sockets)
}

// Socket returns the connected socket with the given id, or nil.
func (n *Namespace) Socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[id]
}

// To selects the sockets in the given rooms (a socket id is also a room).
func (n *Namespace) To(rooms ...string) *BroadcastOperator {
	return (&BroadcastOperator{nsp: n}).To(rooms...)
}

// Except selects every socket but those in the given rooms.
func (n *Namespace) Except(rooms ...string) *BroadcastOperator {
	return (&BroadcastOperator{nsp: n}).Except(rooms...)
}

// Emit sends an event to every socket of the namespace.
func (n *Namespace) Emit(event string, args ...any) error {
	return (&BroadcastOperator{nsp: n}).Emit(event, args...)
}
