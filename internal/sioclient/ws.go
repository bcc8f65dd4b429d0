package sioclient

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	opContinuation byte = 0x0
	opText         byte = 0x1
	opBinary       byte = 0x2
	opClose        byte = 0x8
	opPing         byte = 0x9
	opPong         byte = 0xA
)

// WebSocket close codes used by the client (RFC 6455 §7.4.1).
const (
	closeNormal        = 1000
	closeNoStatus      = 1005
	closeProtocolError = 1002
	closeTooBig        = 1009
)

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptKey computes Sec-WebSocket-Accept for a Sec-WebSocket-Key
// (RFC 6455 §4.2.2 item 5.4).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// appendFrame appends one final (FIN=1), masked client frame carrying
// payload to dst and returns the extended slice. A client must mask every
// frame it sends (RFC 6455 §5.3).
func appendFrame[T string | []byte](dst []byte, op byte, payload T, mask [4]byte) []byte {
	n := len(payload)
	dst = append(dst, 0x80|op)
	switch {
	case n <= 125:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x80|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	maskBytes(dst[start:], mask, 0)
	return dst
}

// maskBytes XORs b with the masking key, starting at key offset pos, and
// returns the key offset following b. Masking is its own inverse.
func maskBytes(b []byte, key [4]byte, pos int) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

// frameHeader is a decoded WebSocket frame header.
type frameHeader struct {
	fin    bool
	rsv    byte // RSV1..3 bits, shifted to the low 3 bits
	op     byte
	masked bool
	mask   [4]byte
	length uint64
}

var (
	errReservedBits   = errors.New("websocket: reserved bits set without a negotiated extension")
	errBadControl     = errors.New("websocket: invalid control frame")
	errBadOpcode      = errors.New("websocket: unknown opcode")
	errMaskedByServer = errors.New("websocket: server sent a masked frame")
	errBadContinue    = errors.New("websocket: unexpected continuation frame")
	errNotContinued   = errors.New("websocket: new data frame inside a fragmented message")
)

// readFrameHeader reads and validates one frame header from r. It accepts
// masked frames (the caller decides whether that is allowed).
func readFrameHeader(r *bufio.Reader) (frameHeader, error) {
	var h frameHeader
	var b [8]byte
	if _, err := io.ReadFull(r, b[:2]); err != nil {
		return h, err
	}
	h.fin = b[0]&0x80 != 0
	h.rsv = (b[0] >> 4) & 0x7
	h.op = b[0] & 0x0F
	h.masked = b[1]&0x80 != 0
	n := uint64(b[1] & 0x7F)
	switch n {
	case 126:
		if _, err := io.ReadFull(r, b[:2]); err != nil {
			return h, unexpected(err)
		}
		n = uint64(binary.BigEndian.Uint16(b[:2]))
	case 127:
		if _, err := io.ReadFull(r, b[:8]); err != nil {
			return h, unexpected(err)
		}
		n = binary.BigEndian.Uint64(b[:8])
		if n>>63 != 0 {
			return h, fmt.Errorf("websocket: invalid 64-bit payload length")
		}
	}
	h.length = n
	if h.masked {
		if _, err := io.ReadFull(r, h.mask[:]); err != nil {
			return h, unexpected(err)
		}
	}
	if h.rsv != 0 {
		return h, errReservedBits
	}
	switch h.op {
	case opContinuation, opText, opBinary:
	case opClose, opPing, opPong:
		if !h.fin || h.length > 125 {
			return h, errBadControl
		}
	default:
		return h, errBadOpcode
	}
	return h, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// CloseError reports a WebSocket close frame received from the server.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("websocket close %d", e.Code)
	}
	return fmt.Sprintf("websocket close %d (%s)", e.Code, e.Reason)
}

// parseClosePayload decodes the body of a close frame.
func parseClosePayload(p []byte) *CloseError {
	if len(p) < 2 {
		return &CloseError{Code: closeNoStatus}
	}
	return &CloseError{Code: int(binary.BigEndian.Uint16(p)), Reason: string(p[2:])}
}

// closePayload encodes a close frame body.
func closePayload(code int, reason string) []byte {
	b := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(b, uint16(code))
	return append(b, reason...)
}
