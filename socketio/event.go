package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/heraldrt/herald/engineio"
)

// Event is an event or an ack answer received from a client.
type Event struct {
	// Name is the event name (empty for an ack answer).
	Name string
	// Args are the arguments as raw JSON; binary arguments appear as
	// {"_placeholder":true,"num":N} objects indexing Attachments.
	Args []json.RawMessage
	// Attachments are the binary arguments' bytes.
	Attachments [][]byte

	ack *ackReply
}

type ackReply struct {
	s    *Socket
	id   uint64
	done bool
}

// ErrNoAck is returned by Ack when the client asked for no acknowledgement
// or it was already sent.
var ErrNoAck = errors.New("socketio: no ack requested")

// Decode unmarshals argument i into v.
func (e *Event) Decode(i int, v any) error {
	if i < 0 || i >= len(e.Args) {
		return fmt.Errorf("socketio: event %q has no argument %d", e.Name, i)
	}
	return json.Unmarshal(e.Args[i], v)
}

// Values returns the arguments ready to emit again: binary placeholders
// become []byte, other arguments stay raw JSON.
func (e *Event) Values() ([]any, error) {
	out := make([]any, len(e.Args))
	for i, a := range e.Args {
		if len(e.Attachments) == 0 || !bytes.Contains(a, placeholderKey) {
			out[i] = a
			continue
		}
		v, err := reconstruct(a, e.Attachments)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// WantsAck reports whether the client asked for an acknowledgement.
func (e *Event) WantsAck() bool { return e.ack != nil }

// Ack answers the client's acknowledgement request, once.
func (e *Event) Ack(args ...any) error {
	if e.ack == nil || e.ack.done {
		return ErrNoAck
	}
	e.ack.done = true
	s := e.ack.s
	msgs, err := encode(Packet{Type: PacketAck, Namespace: s.nsp.name, ID: e.ack.id, HasID: true}, nil, args)
	if err != nil {
		return err
	}
	return s.send(msgs)
}

// splitArgs splits a JSON array into its raw elements.
func splitArgs(data json.RawMessage) ([]json.RawMessage, error) {
	var args []json.RawMessage
	if err := json.Unmarshal(data, &args); err != nil {
		return nil, err
	}
	return args, nil
}

// encode builds the Engine.IO messages of an EVENT or ACK packet: the text
// packet, then one binary message per attachment.
func encode(p Packet, prefix, args []any) ([]*engineio.Message, error) {
	data, attachments, err := encodeArgs(prefix, args)
	if err != nil {
		return nil, err
	}
	p.Data = data
	if len(attachments) > 0 {
		p.Attachments = len(attachments)
		if p.Type == PacketEvent {
			p.Type = PacketBinaryEvent
		} else {
			p.Type = PacketBinaryAck
		}
	}
	msgs := make([]*engineio.Message, 0, 1+len(attachments))
	msgs = append(msgs, engineio.NewMessage(AppendPacket(nil, p), false))
	for _, a := range attachments {
		msgs = append(msgs, engineio.NewMessage(a, true))
	}
	return msgs, nil
}
