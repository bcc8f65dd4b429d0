// Package emitter decodes the messages that @socket.io/redis-emitter, the
// Ruby socket.io-emitter gem and @socket.io/redis-adapter nodes publish on
// Redis, so that herald can deliver them to its own sockets.
//
// It is pure decoding: the caller subscribes (PSUBSCRIBE BroadcastPattern,
// SUBSCRIBE RequestChannel) and hands each payload to DecodeBroadcast or
// DecodeRequest. Both accept hostile input: they return an error, never
// panic, read at most MaxPayloadSize bytes, MaxDepth levels of nesting and
// MaxContainers arrays and maps, and allocate in proportion to the payload
// (at most about 24 bytes per payload byte).
//
// Decoded arguments are the values a Node.js socket.io server would send
// to its clients after JSON.stringify, so that herald and Node servers in
// the same cluster deliver the same thing:
//
//   - msgpack str: string; bin (and notepack's ArrayBuffer ext): []byte,
//     which becomes a binary attachment
//   - integers: int64, or uint64 above math.MaxInt64
//   - floats: float64; NaN and ±Inf become nil (JSON.stringify gives null)
//   - nil and notepack's "undefined" ext: nil in arrays; a map entry whose
//     value is undefined is dropped, as JSON.stringify drops it
//   - timestamps (ext -1, and notepack's legacy Date ext 0): the string
//     Date.prototype.toJSON gives, e.g. "2024-01-02T03:04:05.678Z"
//   - other ext types: []any{int64(type), []byte(data)}, as notepack.io
//     decodes them
//   - arrays: []any; maps: map[string]any, with integer, boolean, nil and
//     bin keys converted to strings as JavaScript property keys are
package emitter

import (
	"errors"
	"strings"
)

// UID is the publisher uid both emitters use. A herald node that ever
// publishes adapter messages must use a random uid of its own instead.
const UID = "emitter"

const (
	// MaxPayloadSize is the largest payload DecodeBroadcast and
	// DecodeRequest accept.
	MaxPayloadSize = 4 << 20
	// MaxDepth is the deepest nesting of arrays and maps accepted,
	// counting the message's own envelope (the [uid, packet, opts] array
	// is level 1, an event argument is at level 4).
	MaxDepth = 32
	// MaxContainers is the most arrays and maps one payload may hold.
	// Each decoded container costs 40 to 100 bytes of memory against one
	// byte of msgpack, so this keeps a hostile payload of empty maps from
	// costing hundreds of megabytes; scalars cost at most 24 bytes each.
	MaxContainers = 1 << 16
)

var (
	// ErrMalformed is wrapped by every error about a payload that is not
	// a well-formed message.
	ErrMalformed = errors.New("emitter: malformed message")
	// ErrTooLarge is returned for payloads over MaxPayloadSize.
	ErrTooLarge = errors.New("emitter: payload too large")
	// ErrUnsupportedRequest is returned, together with the decoded Type
	// and UID, for requests herald does not act on: types other than
	// RemoteJoin, RemoteLeave and RemoteDisconnect, and the legacy
	// per-socket form of those (no "opts", a "sid" instead). Callers
	// usually ignore it quietly.
	ErrUnsupportedRequest = errors.New("emitter: unsupported request")
)

// BroadcastPattern returns the pattern to PSUBSCRIBE to for the broadcasts
// of namespace nsp under key prefix (default "socket.io"):
// "socket.io#/#*". It covers both the namespace channel "socket.io#/#" and
// the single-room channels "socket.io#/#<room>#". Glob metacharacters in
// prefix or nsp are escaped.
func BroadcastPattern(prefix, nsp string) string {
	return globEscape(prefix) + "#" + globEscape(nsp) + "#*"
}

// RequestChannel returns the channel to SUBSCRIBE to for the requests
// (socketsJoin, socketsLeave, disconnectSockets, serverSideEmit, ...) of
// namespace nsp: "socket.io-request#/#".
func RequestChannel(prefix, nsp string) string {
	return prefix + "-request#" + nsp + "#"
}

// RoomFromChannel reports whether channel is a broadcast channel of
// namespace nsp under prefix and, if it is a single-room channel
// ("socket.io#/#user:42#"), which room it is for. room is "" for the
// namespace channel "socket.io#/#"; a subscriber may then skip a message
// whose room has no local sockets without decoding it, as the Node adapter
// does. The room is everything between the namespace's "#" and the final
// "#", so it may itself contain "#".
func RoomFromChannel(prefix, nsp, channel string) (room string, ok bool) {
	rest, ok := strings.CutPrefix(channel, prefix+"#"+nsp+"#")
	if !ok {
		return "", false
	}
	if rest == "" {
		return "", true
	}
	room, ok = strings.CutSuffix(rest, "#")
	if !ok {
		return "", false
	}
	return room, true
}

// globEscape escapes the characters Redis glob patterns treat specially.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
