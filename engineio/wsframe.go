package engineio

import (
	"encoding/binary"
	"unicode/utf8"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	opContinuation = 0x0
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// WebSocket close codes used by the server (RFC 6455 §7.4.1).
const (
	closeNormal        = 1000
	closeProtocolError = 1002
	closeInvalidData   = 1007
	closeTooBig        = 1009
)

// wsError is a protocol violation by the client, with the close code the
// server answers it with.
type wsError struct {
	code   uint16
	reason string
}

func (e *wsError) Error() string { return "websocket: " + e.reason }

func protocolError(reason string) error { return &wsError{closeProtocolError, reason} }

// wsReader turns the bytes a client sends into WebSocket messages and
// control frames. It is a pure state machine: bytes may be split anywhere
// between calls. An idle reader holds no buffer.
type wsReader struct {
	limit int    // largest message accepted
	buf   []byte // an incomplete frame, kept between calls
	msg   []byte // fragments of a message in progress
	msgOp byte   // opcode of that message; 0 when none
}

// feed parses data. For each complete message (opText or opBinary) or
// control frame it calls emit with the opcode and payload; the payload is
// only valid during the call. It returns the first protocol error.
func (r *wsReader) feed(data []byte, emit func(op byte, payload []byte) error) error {
	owned := len(r.buf) > 0
	if owned {
		r.buf = append(r.buf, data...)
		data = r.buf
	}
	consumed := 0
	for {
		n, err := r.next(data[consumed:], emit)
		if err != nil {
			r.buf, r.msg = nil, nil
			return err
		}
		if n == 0 {
			break
		}
		consumed += n
	}
	rest := data[consumed:]
	switch {
	case len(rest) == 0:
		r.buf = nil
	case owned:
		r.buf = r.buf[:copy(r.buf, rest)]
	default:
		r.buf = append([]byte(nil), rest...)
	}
	return nil
}

// next parses one frame from b. It returns 0 if b holds no whole frame.
func (r *wsReader) next(b []byte, emit func(byte, []byte) error) (int, error) {
	if len(b) < 2 {
		return 0, nil
	}
	fin, rsv, op := b[0]&0x80 != 0, b[0]&0x70, b[0]&0x0f
	masked, n, off := b[1]&0x80 != 0, uint64(b[1]&0x7f), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, nil
		}
		n, off = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, nil
		}
		n, off = binary.BigEndian.Uint64(b[2:]), 10
	}
	if err := r.check(fin, rsv, op, masked, n); err != nil {
		return 0, err
	}
	end := uint64(off) + 4 + n
	if uint64(len(b)) < end {
		return 0, nil
	}
	payload := b[off+4 : end]
	mask(payload, b[off:off+4])
	return int(end), r.assemble(fin, op, payload, emit)
}

// check validates a frame header before its payload is awaited, so an
// oversized frame is refused without buffering it.
func (r *wsReader) check(fin bool, rsv, op byte, masked bool, n uint64) error {
	switch {
	case rsv != 0:
		return protocolError("reserved bits set")
	case !masked:
		return protocolError("unmasked client frame")
	case op >= opClose:
		if op > opPong {
			return protocolError("unknown opcode")
		}
		if !fin || n > 125 {
			return protocolError("invalid control frame")
		}
	case op > opBinary:
		return protocolError("unknown opcode")
	case n > uint64(r.limit) || uint64(len(r.msg))+n > uint64(r.limit):
		return &wsError{closeTooBig, "message too big"}
	}
	return nil
}

func (r *wsReader) assemble(fin bool, op byte, payload []byte, emit func(byte, []byte) error) error {
	if op >= opClose {
		return emit(op, payload)
	}
	if op == opContinuation {
		if r.msgOp == 0 {
			return protocolError("continuation without a message")
		}
		r.msg = append(r.msg, payload...)
		if !fin {
			return nil
		}
		op, payload = r.msgOp, r.msg
		r.msg, r.msgOp = nil, 0
	} else {
		if r.msgOp != 0 {
			return protocolError("new message inside a fragmented one")
		}
		if !fin {
			r.msgOp, r.msg = op, append([]byte(nil), payload...)
			return nil
		}
	}
	if op == opText && !utf8.Valid(payload) {
		return &wsError{closeInvalidData, "invalid UTF-8 in text message"}
	}
	return emit(op, payload)
}

func mask(b, key []byte) {
	for i := range b {
		b[i] ^= key[i&3]
	}
}

// validCloseCode reports whether a client may send code (RFC 6455 §7.4).
func validCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011:
		return true
	}
	return code >= 3000 && code <= 4999
}
