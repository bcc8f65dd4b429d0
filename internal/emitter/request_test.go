package emitter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		name    string
		payload any // []byte or string as is, anything else through mp
		want    Request
	}{
		{
			name:    "emitter socketsJoin",
			payload: `{"type":2,"opts":{"rooms":["room1"],"except":[]},"rooms":["room2"]}`,
			want:    Request{Type: RemoteJoin, Rooms: []string{"room1"}, JoinRooms: []string{"room2"}},
		},
		{
			name:    "emitter socketsLeave, several rooms",
			payload: `{"type":3,"opts":{"rooms":["a","b","a"],"except":["c"]},"rooms":["x","y"]}`,
			want:    Request{Type: RemoteLeave, Rooms: []string{"a", "b"}, Except: []string{"c"}, JoinRooms: []string{"x", "y"}},
		},
		{
			name:    "emitter disconnectSockets(true)",
			payload: `{"type":4,"opts":{"rooms":["user:42"],"except":[]},"close":true}`,
			want:    Request{Type: RemoteDisconnect, Rooms: []string{"user:42"}, Close: true},
		},
		{
			name:    "adapter disconnectSockets, all sockets, close false",
			payload: `{"uid":"Xc8a3f","type":4,"opts":{"rooms":[],"except":["vip"]},"close":false}`,
			want:    Request{Type: RemoteDisconnect, UID: "Xc8a3f", Except: []string{"vip"}},
		},
		{
			name:    "close missing or null, opts fields missing or null",
			payload: `{"type":4,"opts":{"rooms":null},"close":null,"extra":{"deep":[[[1]]]}}`,
			want:    Request{Type: RemoteDisconnect},
		},
		{
			name:    "single room string to join, numeric rooms, whitespace",
			payload: "{ \"type\" : 2.0, \"opts\": {\"rooms\": [42, \"a\"], \"except\": [-7]}, \"rooms\": \"r\" }\n",
			want:    Request{Type: RemoteJoin, Rooms: []string{"42", "a"}, Except: []string{"-7"}, JoinRooms: []string{"r"}},
		},
		{
			name:    "empty rooms to join",
			payload: `{"type":2,"opts":{},"rooms":[]}`,
			want:    Request{Type: RemoteJoin},
		},
		{
			name:    "exact keys only",
			payload: `{"type":4,"Type":2,"opts":{"Rooms":["a"]},"Close":true}`,
			want:    Request{Type: RemoteDisconnect},
		},
		{
			name:    "msgpack join",
			payload: m{"uid": "n1", "type": 2, "opts": m{"rooms": []string{"a"}, "except": []any{[]byte("b"), 7}}, "rooms": []string{"c"}, "requestId": "x"},
			want:    Request{Type: RemoteJoin, UID: "n1", Rooms: []string{"a"}, Except: []string{"b", "7"}, JoinRooms: []string{"c"}},
		},
		{
			name:    "msgpack disconnect, undefined close",
			payload: m{"type": 4, "opts": m{}, "close": hx("d4 00 00")},
			want:    Request{Type: RemoteDisconnect},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRequest(payloadOf(t, tt.payload))
			if err != nil {
				t.Fatalf("DecodeRequest: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeRequest:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func payloadOf(t testing.TB, v any) []byte {
	switch p := v.(type) {
	case []byte:
		return p
	case string:
		return []byte(p)
	}
	return mp(t, v)
}

func TestDecodeRequestUnsupported(t *testing.T) {
	tests := []struct {
		payload any
		typ     RequestType
		uid     string
	}{
		{`{"uid":"emitter","type":6,"data":["ping"]}`, ServerSideEmit, "emitter"},
		{`{"uid":"a","requestId":"r","type":0,"opts":{"rooms":[]}}`, Sockets, "a"},
		{`{"uid":"a","requestId":"r","type":1}`, AllRooms, "a"},
		{`{"uid":"a","requestId":"r","type":5,"opts":{"rooms":[],"except":[]}}`, RemoteFetch, "a"},
		{`{"type":8,"clientCount":3}`, BroadcastClientCount, ""},
		{`{"type":9,"packet":[1]}`, BroadcastAck, ""},
		{`{"type":99}`, 99, ""},
		{`{"type":-1}`, -1, ""},
		// The adapter's legacy per-socket form: "sid" and "room", no opts.
		{`{"uid":"a","requestId":"r","type":2,"sid":"abc","room":"r1"}`, RemoteJoin, "a"},
		{`{"uid":"a","requestId":"r","type":3,"sid":"abc","room":"r1","opts":null}`, RemoteLeave, "a"},
		{`{"uid":"a","requestId":"r","type":4,"sid":"abc","close":true}`, RemoteDisconnect, "a"},
		// msgpack: broadcastWithAck's BROADCAST request, with binary data.
		{m{"uid": "n1", "requestId": "r", "type": 7, "packet": m{"type": 2, "data": []any{"e", []byte{1}}, "nsp": "/"}, "opts": m{"rooms": []string{}, "flags": m{"timeout": 1000}}}, BroadcastRequest, "n1"},
	}
	for _, tt := range tests {
		payload := payloadOf(t, tt.payload)
		r, err := DecodeRequest(payload)
		if !errors.Is(err, ErrUnsupportedRequest) || errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeRequest(%q): err = %v, want ErrUnsupportedRequest", payload, err)
		}
		if r.Type != tt.typ || r.UID != tt.uid {
			t.Errorf("DecodeRequest(%q) = type %v uid %q, want %v %q", payload, r.Type, r.UID, tt.typ, tt.uid)
		}
	}
}

func TestDecodeRequestMalformed(t *testing.T) {
	tests := []struct {
		name    string
		payload any
	}{
		{"empty", []byte{}},
		{"json truncated", `{"type":2,"opts":{"rooms":["a"]`},
		{"json trailing", `{"type":4,"opts":{}} {}`},
		{"json array", `[2]`}, // not '{': read as msgpack, a fixint
		{"json not object", `{"type":2]`},
		{"json type missing", `{"opts":{},"rooms":[]}`},
		{"json type null", `{"type":null,"opts":{},"rooms":[]}`},
		{"json type string", `{"type":"2","opts":{},"rooms":[]}`},
		{"json type fraction", `{"type":2.5,"opts":{},"rooms":[]}`},
		{"json type huge", `{"type":1e400,"opts":{},"rooms":[]}`},
		{"json type 2^40", `{"type":1099511627776}`},
		{"json uid number", `{"uid":5,"type":2,"opts":{},"rooms":[]}`},
		{"json opts array", `{"type":2,"opts":[],"rooms":[]}`},
		{"json opts string", `{"type":2,"opts":"x","rooms":[]}`},
		{"json opts.rooms string", `{"type":2,"opts":{"rooms":"abc"},"rooms":[]}`},
		{"json opts.rooms object", `{"type":2,"opts":{"rooms":{}},"rooms":[]}`},
		{"json opts.except nested", `{"type":2,"opts":{"except":[["a"]]},"rooms":[]}`},
		{"json opts.rooms float", `{"type":2,"opts":{"rooms":[1.5]},"rooms":[]}`},
		{"json opts.rooms null room", `{"type":2,"opts":{"rooms":[null]},"rooms":[]}`},
		{"json join rooms missing", `{"type":2,"opts":{}}`},
		{"json leave rooms null", `{"type":3,"opts":{},"rooms":null}`},
		{"json join rooms object", `{"type":2,"opts":{},"rooms":{"a":1}}`},
		{"json join rooms bool", `{"type":2,"opts":{},"rooms":[true]}`},
		{"json close string", `{"type":4,"opts":{},"close":"yes"}`},
		{"json close number", `{"type":4,"opts":{},"close":1}`},
		{"json invalid", `{"type":2,,}`},
		{"json deep", `{"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `,"type":4,"opts":{}}`},
		{"msgpack array", mp(t, []any{2})},
		{"msgpack nil", mp(t, nil)},
		{"msgpack string", mp(t, "{")},
		{"msgpack type string", m{"type": "2", "opts": m{}, "rooms": []string{}}},
		{"msgpack type uint64", m{"type": uint64(1 << 63), "opts": m{}}},
		{"msgpack type bin", m{"type": []byte{2}, "opts": m{}}},
		{"msgpack uid bin", m{"uid": []byte("n1"), "type": 4, "opts": m{}}},
		{"msgpack opts.rooms map", m{"type": 4, "opts": m{"rooms": m{}}}},
		{"msgpack close integer", m{"type": 4, "opts": m{}, "close": 1}},
		{"msgpack trailing", append(mp(t, m{"type": 4, "opts": m{}}), 0)},
		{"msgpack truncated", mp(t, m{"type": 4, "opts": m{}})[:8]},
		{"msgpack map32 huge", hx("df ffffffff a4 74797065 04")},
		{"msgpack str32 huge key", hx("81 db ffffffff 74")},
		{"msgpack bad code in a field not read", m{"type": 6, "data": []any{hx("c1")}}},
		{"msgpack deep skipped", m{"type": 4, "opts": m{}, "x": nest(1, MaxDepth)}},
		{"msgpack deep opts", m{"type": 4, "opts": m{"y": nest(1, MaxDepth)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := payloadOf(t, tt.payload)
			r, err := DecodeRequest(payload)
			if !errors.Is(err, ErrMalformed) || !reflect.DeepEqual(r, Request{}) {
				t.Fatalf("DecodeRequest(%q) = %#v, %v; want zero, ErrMalformed", payload, r, err)
			}
		})
	}
}

func TestDecodeRequestTruncated(t *testing.T) {
	for _, full := range [][]byte{
		mp(t, m{"uid": "n1", "type": 2, "opts": m{"rooms": []string{"a"}, "except": []string{"b"}}, "rooms": []string{"c"}}),
		[]byte(`{"type":2,"opts":{"rooms":["room1"],"except":[]},"rooms":["room2"]}`),
	} {
		if _, err := DecodeRequest(full); err != nil {
			t.Fatalf("full payload %q: %v", full, err)
		}
		for i := range full {
			if r, err := DecodeRequest(full[:i]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("first %d bytes of %q: %#v, %v; want ErrMalformed", i, full, r, err)
			}
		}
	}
}

func TestDecodeRequestTooLarge(t *testing.T) {
	pad := strings.Repeat("x", MaxPayloadSize)
	for _, payload := range [][]byte{
		[]byte(`{"type":4,"opts":{},"pad":"` + pad + `"}`),
		mp(t, m{"type": 4, "opts": m{}, "pad": pad}),
	} {
		if _, err := DecodeRequest(payload); !errors.Is(err, ErrTooLarge) {
			t.Errorf("err = %v, want ErrTooLarge", err)
		}
	}
}

func TestErrorsAreShort(t *testing.T) {
	long := strings.Repeat("9", 10000)
	for _, payload := range [][]byte{
		[]byte(`{"type":` + long + `}`),
		[]byte(`{"type":"` + long + `"}`),
		mp(t, m{"type": long}),
	} {
		_, err := DecodeRequest(payload)
		if err == nil || len(err.Error()) > 200 {
			t.Errorf("DecodeRequest: error of %d bytes", len(err.Error()))
		}
	}
	_, err := DecodeBroadcast(mp(t, []any{"emitter", m{"type": long, "data": []any{"e"}}, m{}}))
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("DecodeBroadcast: error of %d bytes", len(err.Error()))
	}
}
