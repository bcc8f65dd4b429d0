package engineio

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
)

// PacketType is the one-digit Engine.IO v4 packet type.
type PacketType byte

// Engine.IO v4 packet types.
const (
	PacketOpen    PacketType = '0'
	PacketClose   PacketType = '1'
	PacketPing    PacketType = '2'
	PacketPong    PacketType = '3'
	PacketMessage PacketType = '4'
	PacketUpgrade PacketType = '5'
	PacketNoop    PacketType = '6'
)

// recordSeparator separates packets in a long-polling payload.
const recordSeparator = 0x1e

// Packet is one decoded Engine.IO packet. Binary is set only for message
// packets whose data travelled as bytes (a binary WebSocket frame or a
// base64 "b" packet over polling).
type Packet struct {
	Type   PacketType
	Data   []byte
	Binary bool
}

// ErrInvalidPacket reports bytes that are not an Engine.IO v4 packet.
var ErrInvalidPacket = errors.New("engineio: invalid packet")

func (t PacketType) valid() bool { return t >= PacketOpen && t <= PacketNoop }

// DecodeText decodes a packet from a WebSocket text frame or one record of a
// polling payload (without the "b" base64 form). Data aliases b.
func DecodeText(b []byte) (Packet, error) {
	if len(b) == 0 || !PacketType(b[0]).valid() {
		return Packet{}, ErrInvalidPacket
	}
	return Packet{Type: PacketType(b[0]), Data: b[1:]}, nil
}

// DecodePayload splits a long-polling request body into packets. Data slices
// alias body, except for base64 packets, which are decoded into new memory.
func DecodePayload(body []byte) ([]Packet, error) {
	if len(body) == 0 {
		return nil, ErrInvalidPacket
	}
	n := bytes.Count(body, []byte{recordSeparator}) + 1
	packets := make([]Packet, 0, n)
	for len(body) > 0 || n > len(packets) {
		rec := body
		if i := bytes.IndexByte(body, recordSeparator); i >= 0 {
			rec, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		p, err := decodeRecord(rec)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", len(packets), err)
		}
		packets = append(packets, p)
	}
	return packets, nil
}

func decodeRecord(rec []byte) (Packet, error) {
	if len(rec) > 0 && rec[0] == 'b' {
		data := make([]byte, base64.StdEncoding.DecodedLen(len(rec)-1))
		n, err := base64.StdEncoding.Decode(data, rec[1:])
		if err != nil {
			return Packet{}, ErrInvalidPacket
		}
		return Packet{Type: PacketMessage, Data: data[:n], Binary: true}, nil
	}
	return DecodeText(rec)
}

// AppendText appends the text form of p ("4hello") to dst. A binary message
// has no text form on WebSocket; over polling use AppendPayload.
func AppendText(dst []byte, p Packet) []byte {
	dst = append(dst, byte(p.Type))
	return append(dst, p.Data...)
}

// appendRecord appends p as one polling record: binary messages become
// "b" + base64.
func appendRecord(dst []byte, p Packet) []byte {
	if !p.Binary {
		return AppendText(dst, p)
	}
	dst = append(dst, 'b')
	return base64.StdEncoding.AppendEncode(dst, p.Data)
}

// AppendPayload appends packets as a long-polling payload, separated by the
// record separator.
func AppendPayload(dst []byte, packets []Packet) []byte {
	for i, p := range packets {
		if i > 0 {
			dst = append(dst, recordSeparator)
		}
		dst = appendRecord(dst, p)
	}
	return dst
}
