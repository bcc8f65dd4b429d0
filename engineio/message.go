package engineio

import (
	"encoding/binary"
	"sync"
)

// Message is an outgoing Engine.IO message, encoded once however many
// sessions it is sent to. The WebSocket frame is built on first use and
// shared by every WebSocket recipient; polling recipients share the data.
// A Message must not be modified after it is first sent.
type Message struct {
	data   []byte
	binary bool

	once  sync.Once
	frame []byte
}

// NewMessage returns a message carrying data; binary messages travel as
// binary WebSocket frames or base64 polling records.
func NewMessage(data []byte, binary bool) *Message {
	return &Message{data: data, binary: binary}
}

// Data returns the message's payload.
func (m *Message) Data() []byte { return m.data }

// Binary reports whether the message is binary.
func (m *Message) Binary() bool { return m.binary }

func (m *Message) packet() Packet {
	return Packet{Type: PacketMessage, Data: m.data, Binary: m.binary}
}

// wsFrame returns the complete, unmasked WebSocket frame for m.
func (m *Message) wsFrame() []byte {
	m.once.Do(func() {
		if m.binary {
			m.frame = appendFrame(nil, opBinary, nil, m.data)
		} else {
			m.frame = appendFrame(nil, opText, []byte{byte(PacketMessage)}, m.data)
		}
	})
	return m.frame
}

const (
	opText   = 0x1
	opBinary = 0x2
)

// appendFrame appends a final, unmasked server frame whose payload is
// prefix followed by data.
func appendFrame(dst []byte, op byte, prefix, data []byte) []byte {
	n := len(prefix) + len(data)
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xffff:
		dst = append(dst, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, prefix...)
	return append(dst, data...)
}

// controlFrame returns the WebSocket frame of a packet without message
// data, such as a ping ("2") or noop ("6").
func controlFrame(p Packet) []byte {
	return appendFrame(nil, opText, []byte{byte(p.Type)}, p.Data)
}

// Shared frames for the packets every session sends.
var (
	framePing  = controlFrame(Packet{Type: PacketPing})
	frameNoop  = controlFrame(Packet{Type: PacketNoop})
	frameProbe = controlFrame(Packet{Type: PacketPong, Data: []byte("probe")})
	frameClose = controlFrame(Packet{Type: PacketClose})
)
