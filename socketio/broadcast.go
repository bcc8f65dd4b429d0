package socketio

// BroadcastOperator selects sockets of a namespace by room. It is a value
// built per call: nsp.To("a").Except("b").Emit(...).
type BroadcastOperator struct {
	nsp    *Namespace
	rooms  []string
	except []string
}

// To adds rooms; with none, every socket of the namespace is selected.
func (b *BroadcastOperator) To(rooms ...string) *BroadcastOperator {
	c := *b
	c.rooms = append(append([]string(nil), b.rooms...), rooms...)
	return &c
}

// Except excludes the sockets of the given rooms.
func (b *BroadcastOperator) Except(rooms ...string) *BroadcastOperator {
	c := *b
	c.except = append(append([]string(nil), b.except...), rooms...)
	return &c
}

// Emit sends an event to every selected socket. The packet is encoded
// once; each recipient gets the same bytes. Sending never blocks: a
// recipient that cannot keep up is disconnected by its transport.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	_, err := b.EmitCount(event, args...)
	return err
}

// EmitCount is Emit that also returns the number of sockets the event was
// handed to.
func (b *BroadcastOperator) EmitCount(event string, args ...any) (int, error) {
	msgs, err := encode(Packet{Type: PacketEvent, Namespace: b.nsp.name}, []any{event}, args)
	if err != nil {
		return 0, err
	}
	targets := b.Sockets()
	for _, s := range targets {
		_ = s.send(msgs)
	}
	return len(targets), nil
}

// Sockets returns the selected sockets.
func (b *BroadcastOperator) Sockets() []*Socket {
	n := b.nsp
	n.mu.RLock()
	defer n.mu.RUnlock()
	excluded := func(s *Socket) bool {
		for _, r := range b.except {
			if r == s.id {
				return true
			}
			if n.rooms[r].has(s) {
				return true
			}
		}
		return false
	}
	if len(b.rooms) == 0 {
		out := make([]*Socket, 0, len(n.sockets))
		for _, s := range n.sockets {
			if !excluded(s) {
				out = append(out, s)
			}
		}
		return out
	}
	if len(b.rooms) == 1 { // the common case needs no de-duplication
		set := n.rooms[b.rooms[0]]
		out := make([]*Socket, 0, set.len()+1)
		set.each(func(s *Socket) {
			if !excluded(s) {
				out = append(out, s)
			}
		})
		if s := n.sockets[b.rooms[0]]; s != nil && !set.has(s) && !excluded(s) {
			out = append(out, s)
		}
		return out
	}
	var out []*Socket
	seen := map[*Socket]struct{}{}
	add := func(s *Socket) {
		if _, dup := seen[s]; !dup && !excluded(s) {
			seen[s] = struct{}{}
			out = append(out, s)
		}
	}
	for _, r := range b.rooms {
		n.rooms[r].each(add)
		if s := n.sockets[r]; s != nil {
			add(s)
		}
	}
	return out
}

// DisconnectSockets disconnects the selected sockets; with closeConn their
// whole connections are closed.
func (b *BroadcastOperator) DisconnectSockets(closeConn bool) {
	for _, s := range b.Sockets() {
		s.Disconnect(closeConn)
	}
}

// SocketsJoin makes the selected sockets join rooms.
func (b *BroadcastOperator) SocketsJoin(rooms ...string) {
	for _, s := range b.Sockets() {
		s.Join(rooms...)
	}
}

// SocketsLeave makes the selected sockets leave a room.
func (b *BroadcastOperator) SocketsLeave(room string) {
	for _, s := range b.Sockets() {
		s.Leave(room)
	}
}
