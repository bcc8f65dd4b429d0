package emitter

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
)

// RequestType is the type of a message on the RequestChannel.
type RequestType int

// Request types of @socket.io/redis-adapter (socketio-protocol.md §4.1).
const (
	Sockets              RequestType = 0
	AllRooms             RequestType = 1
	RemoteJoin           RequestType = 2
	RemoteLeave          RequestType = 3
	RemoteDisconnect     RequestType = 4
	RemoteFetch          RequestType = 5
	ServerSideEmit       RequestType = 6
	BroadcastRequest     RequestType = 7
	BroadcastClientCount RequestType = 8
	BroadcastAck         RequestType = 9
)

var requestTypeNames = [...]string{
	"SOCKETS", "ALL_ROOMS", "REMOTE_JOIN", "REMOTE_LEAVE", "REMOTE_DISCONNECT",
	"REMOTE_FETCH", "SERVER_SIDE_EMIT", "BROADCAST", "BROADCAST_CLIENT_COUNT",
	"BROADCAST_ACK",
}

func (t RequestType) String() string {
	if t >= 0 && int(t) < len(requestTypeNames) {
		return requestTypeNames[t]
	}
	return "RequestType(" + strconv.Itoa(int(t)) + ")"
}

// Request is a socketsJoin, socketsLeave or disconnectSockets command,
// published by an emitter (no uid) or an adapter node.
type Request struct {
	Type      RequestType
	UID       string   // the publisher's uid; "" from the emitters' join/leave/disconnect
	Rooms     []string // opts.rooms: the sockets in any of these; empty = all sockets
	Except    []string // opts.except: minus the sockets in any of these
	JoinRooms []string // "rooms": the rooms to join (RemoteJoin) or leave (RemoteLeave)
	Close     bool     // RemoteDisconnect: close the underlying connection too
}

// requestFields are the fields DecodeRequest reads, as generic values:
// from JSON, numbers are json.Number; from msgpack, int64, uint64 or
// float64. A missing field is nil, as a null one.
type requestFields struct {
	typ, uid, opts, rooms, close any
}

// DecodeRequest decodes a payload received on the RequestChannel: JSON if
// its first byte is '{', else a msgpack map, as the adapter decides.
//
// For a type herald does not act on it returns the Type and UID with an
// error wrapping ErrUnsupportedRequest; the caller can ignore those
// quietly. On any other error the Request is zero. Unknown fields are
// ignored.
func DecodeRequest(payload []byte) (Request, error) {
	if len(payload) > MaxPayloadSize {
		return Request{}, ErrTooLarge
	}
	var f requestFields
	var err error
	if len(payload) > 0 && payload[0] == '{' {
		f, err = jsonRequestFields(payload)
	} else {
		f, err = msgpackRequestFields(payload)
	}
	if err != nil {
		return Request{}, err
	}
	r, err := f.request()
	if err != nil && !errors.Is(err, ErrUnsupportedRequest) {
		return Request{}, err
	}
	return r, err
}

// requestKeys are the keys DecodeRequest reads.
var requestKeys = [...]string{"type", "uid", "opts", "rooms", "close"}

func (f *requestFields) set(k string, v any) {
	switch k {
	case "type":
		f.typ = v
	case "uid":
		f.uid = v
	case "opts":
		f.opts = v
	case "rooms":
		f.rooms = v
	case "close":
		f.close = v
	}
}

func jsonRequestFields(payload []byte) (requestFields, error) {
	var f requestFields
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		return f, malformed("request: %v", err)
	}
	for _, k := range requestKeys {
		raw, ok := top[k]
		if !ok {
			continue
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return f, malformed("request.%s: %v", k, err)
		}
		f.set(k, v)
	}
	return f, nil
}

func msgpackRequestFields(payload []byte) (requestFields, error) {
	var f requestFields
	m := newReader(payload)
	n, err := m.mapLen("request", 1)
	if err != nil {
		return f, err
	}
	if n < 0 {
		return f, malformed("request: nil")
	}
	for range n {
		k, err := m.key("request")
		if err != nil {
			return f, err
		}
		switch k {
		case "type", "uid", "opts", "rooms", "close":
			v, err := m.value("request."+k, 2)
			if err != nil {
				return f, err
			}
			if _, ok := v.(undefinedValue); ok {
				v = nil
			}
			f.set(k, v)
		default:
			if err := m.skip("request", 2); err != nil {
				return f, err
			}
		}
	}
	return f, m.done()
}

// request interprets the fields the way the adapter's onrequest does.
func (f requestFields) request() (Request, error) {
	var r Request
	if f.typ == nil {
		return r, malformed("request.type: missing")
	}
	t, ok := integral(f.typ)
	if !ok || t < math.MinInt32 || t > math.MaxInt32 {
		return r, malformed("request.type: %s, want an integer", describe(f.typ))
	}
	r.Type = RequestType(t)
	switch uid := f.uid.(type) {
	case nil:
	case string:
		r.UID = uid
	default:
		return r, malformed("request.uid: %T, want string", f.uid)
	}
	switch r.Type {
	case RemoteJoin, RemoteLeave, RemoteDisconnect:
	default:
		return r, wrapUnsupported(r.Type.String())
	}
	opts, ok := f.opts.(map[string]any)
	if !ok {
		if f.opts == nil {
			// The adapter's legacy remoteJoin(sid, room) and friends
			// name one socket by "sid" and want a response.
			return r, wrapUnsupported(r.Type.String() + " without opts")
		}
		return r, malformed("request.opts: %T, want object", f.opts)
	}
	var err error
	if r.Rooms, err = roomList("request.opts.rooms", opts["rooms"]); err != nil {
		return r, err
	}
	if r.Except, err = roomList("request.opts.except", opts["except"]); err != nil {
		return r, err
	}
	switch r.Type {
	case RemoteJoin, RemoteLeave:
		if f.rooms == nil {
			return r, malformed("request.rooms: missing")
		}
		if s, ok := roomName(f.rooms); ok {
			// socket.join accepts a single room too.
			r.JoinRooms = []string{s}
		} else if r.JoinRooms, err = roomList("request.rooms", f.rooms); err != nil {
			return r, err
		}
	case RemoteDisconnect:
		switch c := f.close.(type) {
		case nil:
		case bool:
			r.Close = c
		default:
			return r, malformed("request.close: %T, want boolean", f.close)
		}
	}
	return r, nil
}

func wrapUnsupported(what string) error {
	return &unsupportedError{what}
}

type unsupportedError struct{ what string }

func (e *unsupportedError) Error() string { return ErrUnsupportedRequest.Error() + ": " + e.what }
func (e *unsupportedError) Unwrap() error { return ErrUnsupportedRequest }

// roomList converts an array of room names, or nil, to []string.
func roomList(what string, v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, malformed("%s: %T, want array", what, v)
	}
	if len(a) == 0 {
		return nil, nil
	}
	rooms := make([]string, 0, len(a))
	for _, e := range a {
		s, ok := roomName(e)
		if !ok {
			return nil, malformed("%s: %T room, want string", what, e)
		}
		rooms = append(rooms, s)
	}
	return dedup(rooms), nil
}

// roomName converts a room name: a string, bytes, or an integer (rooms
// may be numbers in JavaScript and Ruby) as its decimal form.
func roomName(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case []byte:
		return string(t), true
	case int64, uint64:
		return intString(t), true
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return strconv.FormatInt(i, 10), true
		}
		if u, err := strconv.ParseUint(string(t), 10, 64); err == nil {
			return strconv.FormatUint(u, 10), true
		}
	}
	return "", false
}

// integral returns v as an int64 if it is an integer-valued number; the
// adapter compares request.type with ===, so 2.0 is 2.
func integral(v any) (int64, bool) {
	switch t := v.(type) {
	case int64:
		return t, true
	case uint64:
		return 0, false
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int64(t), true
		}
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, true
		}
		if f, err := t.Float64(); err == nil {
			return integral(f)
		}
	}
	return 0, false
}
