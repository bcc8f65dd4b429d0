package sioclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Engine.IO v4 packet types: the first byte of every text frame.
const (
	EIOOpen    byte = '0'
	EIOClose   byte = '1'
	EIOPing    byte = '2'
	EIOPong    byte = '3'
	EIOMessage byte = '4'
	EIOUpgrade byte = '5'
	EIONoop    byte = '6'
)

// Socket.IO v5 protocol (Socket.IO v4 server) packet types: the byte after
// the Engine.IO message type '4'.
const (
	SIOConnect      byte = '0'
	SIODisconnect   byte = '1'
	SIOEvent        byte = '2'
	SIOAck          byte = '3'
	SIOConnectError byte = '4'
	SIOBinaryEvent  byte = '5'
	SIOBinaryAck    byte = '6'
)

// OpenPacket is the Engine.IO handshake the server sends first:
// 0{"sid":"...","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}
type OpenPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"` // milliseconds
	PingTimeout  int64    `json:"pingTimeout"`  // milliseconds
	MaxPayload   int64    `json:"maxPayload"`   // bytes
}

// ParseOpen parses an Engine.IO open packet, including its leading '0'.
func ParseOpen(msg []byte) (OpenPacket, error) {
	var op OpenPacket
	if len(msg) == 0 || msg[0] != EIOOpen {
		return op, fmt.Errorf("engine.io: expected open packet, got %q", clip(msg))
	}
	if err := json.Unmarshal(msg[1:], &op); err != nil {
		return op, fmt.Errorf("engine.io: bad open packet: %w", err)
	}
	if op.SID == "" {
		return op, errors.New("engine.io: open packet without sid")
	}
	if op.PingInterval <= 0 || op.PingTimeout <= 0 {
		return op, fmt.Errorf("engine.io: open packet with bad ping timings %d/%d", op.PingInterval, op.PingTimeout)
	}
	return op, nil
}

// Packet is a decoded Socket.IO packet.
type Packet struct {
	Type        byte   // SIOConnect .. SIOBinaryAck
	Attachments int    // binary attachments that follow (binary types only)
	Namespace   string // "/" when absent
	ID          int64  // ack id, -1 when absent
	Data        []byte // JSON payload (aliases the input), may be empty
}

// ParsePacket decodes a Socket.IO packet p, i.e. an Engine.IO message
// payload with the leading '4' already removed, following the rules of
// socket.io-parser's Decoder. Data aliases p.
func ParsePacket(p []byte) (Packet, error) {
	pk := Packet{Namespace: "/", ID: -1}
	if len(p) == 0 {
		return pk, errors.New("socket.io: empty packet")
	}
	pk.Type = p[0]
	if pk.Type < SIOConnect || pk.Type > SIOBinaryAck {
		return pk, fmt.Errorf("socket.io: unknown packet type %q", pk.Type)
	}
	i := 1
	if pk.Type == SIOBinaryEvent || pk.Type == SIOBinaryAck {
		j := bytes.IndexByte(p[i:], '-')
		if j < 0 {
			return pk, errors.New("socket.io: binary packet without attachment count")
		}
		n, err := strconv.Atoi(string(p[i : i+j]))
		if err != nil || n < 0 {
			return pk, fmt.Errorf("socket.io: bad attachment count %q", p[i:i+j])
		}
		pk.Attachments = n
		i += j + 1
	}
	if i < len(p) && p[i] == '/' {
		j := bytes.IndexByte(p[i:], ',')
		if j < 0 {
			pk.Namespace = string(p[i:])
			i = len(p)
		} else {
			pk.Namespace = string(p[i : i+j])
			i += j + 1
		}
	}
	if i < len(p) && p[i] >= '0' && p[i] <= '9' {
		j := i
		for j < len(p) && p[j] >= '0' && p[j] <= '9' {
			j++
		}
		id, err := strconv.ParseInt(string(p[i:j]), 10, 64)
		if err != nil {
			return pk, fmt.Errorf("socket.io: bad ack id: %w", err)
		}
		pk.ID = id
		i = j
	}
	pk.Data = p[i:]
	switch pk.Type {
	case SIOEvent, SIOBinaryEvent, SIOAck, SIOBinaryAck:
		if d := bytes.TrimLeft(pk.Data, " \t\r\n"); len(d) == 0 || d[0] != '[' {
			return pk, fmt.Errorf("socket.io: packet type %c needs an array payload, got %q", pk.Type, clip(pk.Data))
		}
	case SIODisconnect:
		if len(pk.Data) != 0 {
			return pk, errors.New("socket.io: disconnect packet with payload")
		}
	}
	return pk, nil
}

// EventName returns the event name at the head of an event payload
// ["name",arg...]. The common case (no escapes) costs one small string
// allocation and no JSON decoding.
func EventName(data []byte) (string, error) {
	d := bytes.TrimLeft(data, " \t\r\n")
	if len(d) == 0 || d[0] != '[' {
		return "", errors.New("socket.io: event payload is not an array")
	}
	d = bytes.TrimLeft(d[1:], " \t\r\n")
	if len(d) == 0 || d[0] != '"' {
		return "", errors.New("socket.io: event name is not a string")
	}
	for j := 1; j < len(d); j++ {
		switch d[j] {
		case '"':
			return string(d[1:j]), nil
		case '\\':
			// Rare: escaped name; let encoding/json do the unquoting.
			var name string
			dec := json.NewDecoder(bytes.NewReader(d))
			if err := dec.Decode(&name); err != nil {
				return "", fmt.Errorf("socket.io: bad event name: %w", err)
			}
			return name, nil
		}
	}
	return "", errors.New("socket.io: unterminated event name")
}

// ConnectAck is the payload of the server's CONNECT reply: 40{"sid":"..."}.
type ConnectAck struct {
	SID string `json:"sid"`
	PID string `json:"pid,omitempty"` // connection state recovery (4.6+)
}

// ParseConnectAck decodes the payload of a CONNECT packet from the server.
func ParseConnectAck(data []byte) (ConnectAck, error) {
	var a ConnectAck
	if err := json.Unmarshal(data, &a); err != nil {
		return a, fmt.Errorf("socket.io: bad connect payload %q: %w", clip(data), err)
	}
	if a.SID == "" {
		return a, errors.New("socket.io: connect payload without sid")
	}
	return a, nil
}

// ConnectError is a CONNECT_ERROR (44) reply: the server's middleware
// refused the namespace connection.
type ConnectError struct {
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *ConnectError) Error() string { return "connect_error: " + e.Message }

// ParseConnectError decodes the payload of a CONNECT_ERROR packet. Both the
// v5 object form {"message":...,"data":...} and the older bare-string form
// are accepted.
func ParseConnectError(data []byte) *ConnectError {
	e := &ConnectError{}
	d := bytes.TrimSpace(data)
	switch {
	case len(d) > 0 && d[0] == '{':
		if json.Unmarshal(d, e) == nil {
			return e
		}
	case len(d) > 0 && d[0] == '"':
		if json.Unmarshal(d, &e.Message) == nil {
			return e
		}
	}
	e.Message = string(clip(d))
	return e
}

// AppendConnect appends the Engine.IO message carrying a Socket.IO CONNECT
// for namespace ns with an optional JSON auth payload: "40", "40{...}",
// "40/admin," or "40/admin,{...}".
func AppendConnect(dst []byte, ns string, auth []byte) []byte {
	dst = append(dst, EIOMessage, SIOConnect)
	if ns != "" && ns != "/" {
		dst = append(dst, ns...)
		dst = append(dst, ',')
	}
	return append(dst, auth...)
}

// AppendEvent appends the Engine.IO message carrying the event packet
// 42[/ns,][id]["event",args...]. ackID < 0 means no ack is requested.
func AppendEvent(dst []byte, ns string, ackID int64, event string, args ...any) ([]byte, error) {
	dst = append(dst, EIOMessage, SIOEvent)
	if ns != "" && ns != "/" {
		dst = append(dst, ns...)
		dst = append(dst, ',')
	}
	if ackID >= 0 {
		dst = strconv.AppendInt(dst, ackID, 10)
	}
	arr := make([]any, 0, 1+len(args))
	arr = append(arr, event)
	arr = append(arr, args...)
	b, err := json.Marshal(arr)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// clip bounds byte slices quoted in error messages.
func clip(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}
