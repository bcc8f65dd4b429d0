package emitter

import (
	"slices"

	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Broadcast is an emit published by an emitter or by another adapter node:
// the msgpack array [uid, packet, opts] of socketio-protocol.md §4.1.
type Broadcast struct {
	UID       string // the publisher's uid: UID for the emitters
	Namespace string // "/" when absent; a missing leading "/" is added
	Event     string
	Args      []any    // see the package doc for the Go types
	Rooms     []string // target rooms, without duplicates; empty = whole namespace
	Except    []string // rooms whose sockets are skipped
	Volatile  bool     // flags.volatile
	Local     bool     // flags.local: for the publishing node only
}

// Packet types a broadcast may carry. The type is checked but binary-ness
// is taken from the arguments (Binary), since the Ruby gem writes
// BINARY_EVENT without attachments and Node's emitter writes EVENT with
// Buffers.
const (
	packetEvent       = 2
	packetBinaryEvent = 5
)

// DecodeBroadcast decodes a payload received on a BroadcastPattern channel.
// Extra array elements and unknown map keys are ignored; opts.rooms,
// opts.except, opts.flags and packet.nsp may be missing or nil. On error
// the Broadcast is zero.
func DecodeBroadcast(payload []byte) (Broadcast, error) {
	b, err := decodeBroadcast(payload)
	if err != nil {
		return Broadcast{}, err
	}
	return b, nil
}

func decodeBroadcast(payload []byte) (Broadcast, error) {
	var b Broadcast
	if len(payload) > MaxPayloadSize {
		return b, ErrTooLarge
	}
	m := newReader(payload)
	n, err := m.arrayLen("message", 1)
	if err != nil {
		return b, err
	}
	if n < 3 {
		return b, malformed("message: %d elements, want [uid, packet, opts]", n)
	}
	if b.UID, err = m.str("uid"); err != nil {
		return b, err
	}
	if err := m.packet(&b); err != nil {
		return b, err
	}
	if err := m.opts(&b); err != nil {
		return b, err
	}
	for range n - 3 {
		if err := m.skip("message", 2); err != nil {
			return b, err
		}
	}
	if err := m.done(); err != nil {
		return b, err
	}
	return b, nil
}

// packet decodes {type, data: [event, ...args], nsp}.
func (m *reader) packet(b *Broadcast) error {
	n, err := m.mapLen("packet", 2)
	if err != nil {
		return err
	}
	if n < 0 {
		return malformed("packet: nil")
	}
	var typ any
	var haveData bool
	for range n {
		k, err := m.key("packet")
		if err != nil {
			return err
		}
		switch k {
		case "type":
			if typ, err = m.value("packet.type", 3); err != nil {
				return err
			}
		case "data":
			if err := m.data(b); err != nil {
				return err
			}
			haveData = true
		case "nsp":
			c, err := m.peek("packet.nsp")
			if err != nil {
				return err
			}
			if c == msgpcode.Nil {
				b.Namespace = ""
				err = m.d.DecodeNil()
			} else {
				b.Namespace, err = m.str("packet.nsp")
			}
			if err != nil {
				return err
			}
		default:
			if err := m.skip("packet", 3); err != nil {
				return err
			}
		}
	}
	if typ == nil {
		return malformed("packet.type: missing")
	}
	if t, ok := integral(typ); !ok || (t != packetEvent && t != packetBinaryEvent) {
		return malformed("packet.type: %s, want 2 (EVENT) or 5 (BINARY_EVENT)", describe(typ))
	}
	if !haveData {
		return malformed("packet.data: missing")
	}
	if b.Namespace == "" || b.Namespace[0] != '/' {
		b.Namespace = "/" + b.Namespace
	}
	return nil
}

// data decodes [event, ...args].
func (m *reader) data(b *Broadcast) error {
	n, err := m.arrayLen("packet.data", 3)
	if err != nil {
		return err
	}
	if n <= 0 {
		return malformed("packet.data: empty, want [event, ...args]")
	}
	if b.Event, err = m.str("packet.data: event name"); err != nil {
		return err
	}
	b.Args = nil
	if n == 1 {
		return nil
	}
	b.Args = make([]any, n-1)
	for i := range b.Args {
		v, err := m.value("packet.data", 4)
		if err != nil {
			return err
		}
		if _, ok := v.(undefinedValue); !ok {
			b.Args[i] = v
		}
	}
	return nil
}

// opts decodes {rooms, except, flags}.
func (m *reader) opts(b *Broadcast) error {
	n, err := m.mapLen("opts", 2)
	if err != nil {
		return err
	}
	if n < 0 {
		return malformed("opts: nil")
	}
	for range n {
		k, err := m.key("opts")
		if err != nil {
			return err
		}
		switch k {
		case "rooms":
			b.Rooms, err = m.rooms("opts.rooms")
		case "except":
			b.Except, err = m.rooms("opts.except")
		case "flags":
			err = m.flags(b)
		default:
			err = m.skip("opts", 3)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// rooms decodes an array of room names, or nil. Integer and bin rooms are
// accepted as their decimal or byte strings: the Ruby gem packs
// to(user.id) as an integer and ASCII-8BIT strings as bin, and publishes
// them on the channel "…#42#".
func (m *reader) rooms(what string) ([]string, error) {
	n, err := m.arrayLen(what, 3)
	if err != nil || n <= 0 {
		return nil, err
	}
	rooms := make([]string, 0, n)
	for range n {
		c, err := m.peek(what)
		if err != nil {
			return nil, err
		}
		var room string
		switch {
		case msgpcode.IsString(c), msgpcode.IsBin(c):
			b, err := m.body(what)
			if err != nil {
				return nil, err
			}
			room = string(b)
		case isInt(c):
			v, err := m.integer(what, c)
			if err != nil {
				return nil, err
			}
			room = intString(v)
		default:
			return nil, malformed("%s: %s room, want string", what, kind(c))
		}
		rooms = append(rooms, room)
	}
	return dedup(rooms), nil
}

// flags decodes opts.flags: volatile and local; the others (compress,
// broadcast, binary, json, timeout, ...) do not change local delivery.
func (m *reader) flags(b *Broadcast) error {
	n, err := m.mapLen("opts.flags", 3)
	if err != nil || n < 0 {
		return err
	}
	for range n {
		k, err := m.key("opts.flags")
		if err != nil {
			return err
		}
		switch k {
		case "volatile":
			b.Volatile, err = m.bool("opts.flags.volatile")
		case "local":
			b.Local, err = m.bool("opts.flags.local")
		default:
			err = m.skip("opts.flags", 4)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// dedup removes repeated rooms, keeping the first of each; the adapters
// hold rooms in a Set.
func dedup(rooms []string) []string {
	if len(rooms) < 2 {
		return rooms
	}
	seen := make(map[string]struct{}, len(rooms))
	out := rooms[:0]
	for _, r := range rooms {
		if _, dup := seen[r]; !dup {
			seen[r] = struct{}{}
			out = append(out, r)
		}
	}
	return out
}

// Binary reports whether any argument holds a []byte at any depth, that
// is whether the packet must go out as BINARY_EVENT with attachments.
func (b Broadcast) Binary() bool {
	return slices.ContainsFunc(b.Args, hasBinary)
}

func hasBinary(v any) bool {
	switch t := v.(type) {
	case []byte:
		return true
	case []any:
		return slices.ContainsFunc(t, hasBinary)
	case map[string]any:
		for _, e := range t {
			if hasBinary(e) {
				return true
			}
		}
	}
	return false
}

// ForChannelRoom narrows b for delivery of the copy that arrived on the
// single-room channel of room (see RoomFromChannel), so that a socket in
// several target rooms gets the event once.
//
// The Ruby gem publishes an emit to N rooms N times, once on each room's
// channel, each copy listing all N rooms; delivered as is, a socket in two
// of the rooms gets it twice (and Node servers do deliver it twice). The
// copy for the i-th room is delivered to that room's sockets except those
// in rooms 1..i-1, which the earlier copies reached. Messages from the
// Node emitter and adapter, which use a room channel only for a single
// room, are returned unchanged, as is b when room is "" or not a target.
func (b Broadcast) ForChannelRoom(room string) Broadcast {
	if room == "" || len(b.Rooms) < 2 {
		return b
	}
	i := slices.Index(b.Rooms, room)
	if i < 0 {
		return b
	}
	b.Except = append(slices.Clip(b.Except), b.Rooms[:i]...)
	b.Rooms = []string{room}
	return b
}
