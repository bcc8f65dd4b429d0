package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// PacketType is the Socket.IO v5 packet type.
type PacketType byte

// Socket.IO v5 packet types.
const (
	PacketConnect PacketType = iota
	PacketDisconnect
	PacketEvent
	PacketAck
	PacketConnectError
	PacketBinaryEvent
	PacketBinaryAck
)

// Packet is the text part of a Socket.IO packet. Data is the raw JSON
// payload (nil when absent); binary attachments travel as separate
// Engine.IO messages and are counted by Attachments.
type Packet struct {
	Type        PacketType
	Namespace   string
	ID          uint64
	HasID       bool
	Attachments int
	Data        json.RawMessage
}

// Decoding errors. Any of them closes the connection, as in Node.
var (
	ErrInvalidPacket  = errors.New("socketio: invalid packet")
	ErrInvalidPayload = errors.New("socketio: invalid payload")
	ErrTooManyBinary  = errors.New("socketio: too many attachments")
)

// reservedEvents may not be sent by clients: they name the server's own
// lifecycle events.
var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true,
}

// IsReserved reports whether event is one of the names Socket.IO keeps for
// its own lifecycle events, which may not be emitted.
func IsReserved(event string) bool { return reservedEvents[event] }

// maxID bounds ack ids to JavaScript's safe integers.
const maxID = 1<<53 - 1

// Decode parses the text part of a packet. maxAttachments bounds the
// attachments a binary packet may announce. Data aliases b.
func Decode(b []byte, maxAttachments int) (Packet, error) {
	if len(b) == 0 || b[0] < '0' || b[0] > '6' {
		return Packet{}, ErrInvalidPacket
	}
	p := Packet{Type: PacketType(b[0] - '0'), Namespace: "/"}
	rest := b[1:]
	if p.Type == PacketBinaryEvent || p.Type == PacketBinaryAck {
		i := bytes.IndexByte(rest, '-')
		if i <= 0 {
			return Packet{}, ErrInvalidPacket
		}
		n, err := strconv.Atoi(string(rest[:i]))
		if err != nil || n < 0 {
			return Packet{}, ErrInvalidPacket
		}
		if n > maxAttachments {
			return Packet{}, ErrTooManyBinary
		}
		p.Attachments, rest = n, rest[i+1:]
	}
	if len(rest) > 0 && rest[0] == '/' {
		i := bytes.IndexByte(rest, ',')
		if i < 0 {
			p.Namespace, rest = string(rest), nil
		} else {
			p.Namespace, rest = string(rest[:i]), rest[i+1:]
		}
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i > 0 {
		id, err := strconv.ParseUint(string(rest[:i]), 10, 64)
		if err != nil || id > maxID {
			return Packet{}, ErrInvalidPacket
		}
		p.ID, p.HasID, rest = id, true, rest[i:]
	}
	if len(rest) > 0 {
		p.Data = rest
	}
	if !payloadValid(p) {
		return Packet{}, ErrInvalidPayload
	}
	return p, nil
}

// payloadValid applies socket.io-parser's isPayloadValid rules.
func payloadValid(p Packet) bool {
	if p.Data != nil && !json.Valid(p.Data) {
		return false
	}
	kind := jsonKind(p.Data)
	switch p.Type {
	case PacketConnect:
		return kind == 0 || kind == '{'
	case PacketDisconnect:
		return kind == 0
	case PacketConnectError:
		return kind == '{' || kind == '"'
	case PacketEvent, PacketBinaryEvent:
		_, ok := eventName(p.Data)
		return ok
	case PacketAck, PacketBinaryAck:
		return kind == '[' && p.HasID
	}
	return false
}

// jsonKind returns the first byte of a JSON value ('{', '[', '"', ...), or 0
// for no value.
func jsonKind(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// eventName returns the name of an EVENT payload: the first element of a
// non-empty array, a string that is not reserved or a number.
func eventName(data []byte) (string, bool) {
	if jsonKind(data) != '[' {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return "", false
	}
	tok, err := dec.Token()
	if err != nil {
		return "", false
	}
	switch v := tok.(type) {
	case string:
		return v, !reservedEvents[v]
	case json.Number:
		return v.String(), true
	}
	return "", false
}

// AppendPacket appends the text encoding of p to dst.
func AppendPacket(dst []byte, p Packet) []byte {
	dst = append(dst, byte('0'+p.Type))
	if p.Type == PacketBinaryEvent || p.Type == PacketBinaryAck {
		dst = strconv.AppendInt(dst, int64(p.Attachments), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}
