package emitter

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// mp encodes v with msgpack.Marshal; msgpack.RawMessage values inside v are
// copied verbatim, for shapes Marshal does not produce.
func mp(t testing.TB, v any) []byte {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatalf("msgpack.Marshal(%#v): %v", v, err)
	}
	return b
}

// hx decodes hex, ignoring spaces.
func hx(s string) msgpack.RawMessage {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

type m = map[string]any

// event is the packet the Node emitter writes.
func event(nsp string, data ...any) m {
	return m{"type": 2, "data": data, "nsp": nsp}
}

// nodeOpts is the opts the Node emitter writes.
func nodeOpts(rooms, except []string, flags m) m {
	if rooms == nil {
		rooms = []string{}
	}
	if except == nil {
		except = []string{}
	}
	if flags == nil {
		flags = m{}
	}
	return m{"rooms": rooms, "flags": flags, "except": except}
}

func TestDecodeBroadcast(t *testing.T) {
	tests := []struct {
		name    string
		payload any // encoded with mp unless []byte
		want    Broadcast
	}{
		{
			name:    "node emitter, one room",
			payload: []any{"emitter", event("/", "notification", m{"title": "hi", "n": 1}), nodeOpts([]string{"user:42"}, nil, nil)},
			want: Broadcast{UID: "emitter", Namespace: "/", Event: "notification",
				Args: []any{m{"title": "hi", "n": int64(1)}}, Rooms: []string{"user:42"}},
		},
		{
			name:    "node emitter, whole namespace, no args",
			payload: []any{"emitter", event("/", "ping"), nodeOpts(nil, nil, nil)},
			want:    Broadcast{UID: "emitter", Namespace: "/", Event: "ping"},
		},
		{
			name: "rooms, except and flags",
			payload: []any{"emitter", event("/chat", "msg", "x"),
				nodeOpts([]string{"a", "b", "a"}, []string{"c"}, m{"volatile": true, "compress": false, "local": true, "broadcast": true, "binary": false, "timeout": 5000})},
			want: Broadcast{UID: "emitter", Namespace: "/chat", Event: "msg", Args: []any{"x"},
				Rooms: []string{"a", "b"}, Except: []string{"c"}, Volatile: true, Local: true},
		},
		{
			name: "ruby gem: type 5 without attachments, no except, json flag, integer and bin rooms, no leading slash",
			payload: []any{"emitter",
				m{"type": 5, "data": []any{"bin", []byte{0xff, 0x00}, "ascii"}, "nsp": "admin"},
				m{"rooms": []any{42, []byte("user:7"), "s"}, "flags": m{"json": true, "volatile": true}}},
			want: Broadcast{UID: "emitter", Namespace: "/admin", Event: "bin",
				Args: []any{[]byte{0xff, 0x00}, "ascii"}, Rooms: []string{"42", "user:7", "s"}, Volatile: true},
		},
		{
			name:    "ruby gem: default namespace, no rooms",
			payload: []any{"emitter", m{"type": 2, "data": []any{"ev"}, "nsp": "/"}, m{"rooms": []any{}, "flags": m{}}},
			want:    Broadcast{UID: "emitter", Namespace: "/", Event: "ev"},
		},
		{
			name:    "type 2 with binary arguments (node)",
			payload: []any{"emitter", event("/", "b", m{"nested": []byte{4}}), nodeOpts(nil, nil, nil)},
			want:    Broadcast{UID: "emitter", Namespace: "/", Event: "b", Args: []any{m{"nested": []byte{4}}}},
		},
		{
			name:    "nsp missing, opts fields missing or nil, extra fields and elements",
			payload: []any{"node-1", m{"type": 2, "data": []any{"ev", nil}, "id": 7, "extra": m{"deep": []any{1}}}, m{"rooms": nil, "flags": nil, "more": "x"}, "fourth", m{"x": []any{}}},
			want:    Broadcast{UID: "node-1", Namespace: "/", Event: "ev", Args: []any{nil}},
		},
		{
			name:    "nsp nil",
			payload: []any{"emitter", m{"type": 2, "data": []any{"ev"}, "nsp": nil}, m{}},
			want:    Broadcast{UID: "emitter", Namespace: "/", Event: "ev"},
		},
		{
			name:    "type 2.0, as JavaScript compares it",
			payload: []any{"emitter", m{"type": 2.0, "data": []any{"ev"}}, m{}},
			want:    Broadcast{UID: "emitter", Namespace: "/", Event: "ev"},
		},
		{
			name:    "nsp empty",
			payload: []any{"emitter", m{"type": 2, "data": []any{"ev"}, "nsp": ""}, m{}},
			want:    Broadcast{UID: "emitter", Namespace: "/", Event: "ev"},
		},
		{
			name: "numbers",
			payload: []any{"emitter", event("/", "n",
				0, -1, 127, -32, 255, math.MaxInt64, uint64(math.MaxUint64), math.MinInt64, 1.5, float32(0.25),
				math.NaN(), math.Inf(1), math.Inf(-1), hx("cc ff"), hx("d0 80"), hx("cd ffff"), hx("ce ffffffff")),
				m{}},
			want: Broadcast{UID: "emitter", Namespace: "/", Event: "n", Args: []any{
				int64(0), int64(-1), int64(127), int64(-32), int64(255), int64(math.MaxInt64), uint64(math.MaxUint64), int64(math.MinInt64), 1.5, 0.25,
				nil, nil, nil, int64(255), int64(-128), int64(65535), int64(4294967295)}},
		},
		{
			name: "notepack ext types",
			payload: []any{"emitter", event("/", "ext",
				hx("d4 00 00"),                            // legacy undefined
				m{"a": hx("d4 00 00"), "b": nil},          // undefined entries are dropped
				hx("d7 00 00000000 0000000a"),             // legacy Date, 10 ms
				hx("c7 03 00 010203"),                     // legacy ArrayBuffer
				hx("c7 00 00"),                            // empty legacy ArrayBuffer
				hx("d6 ff 00000000"),                      // timestamp 32
				hx("d7 ff 00000000 65937d25"),             // timestamp 64: 2024-01-02T03:04:05Z
				hx("c7 0c ff 0007a120 ffffffff ffffffff"), // timestamp 96: -1 s + 0.5 ms
				hx("d5 05 0102"),                          // other ext: [type, data]
				hx("d4 00 00 "),
			), m{}},
			want: Broadcast{UID: "emitter", Namespace: "/", Event: "ext", Args: []any{
				nil,
				m{"b": nil},
				"1970-01-01T00:00:00.010Z",
				[]byte{1, 2, 3},
				[]byte{},
				"1970-01-01T00:00:00.000Z",
				"2024-01-02T03:04:05.000Z",
				"1969-12-31T23:59:59.001Z",
				[]any{int64(5), []byte{1, 2}},
				nil,
			}},
		},
		{
			name:    "map keys as JavaScript converts them",
			payload: []any{"emitter", event("/", "k", hx("85 2a a1 61 c3 a1 62 c2 a1 63 c0 a1 64 c4 01 65 a1 65")), m{}},
			want: Broadcast{UID: "emitter", Namespace: "/", Event: "k", Args: []any{
				m{"42": "a", "true": "b", "false": "c", "null": "d", "e": "e"}}},
		},
		{
			name:    "later duplicate keys win",
			payload: hx("93 a1 75 83 a4 74 79 70 65 02 a4 64 61 74 61 92 a1 61 01 a4 64 61 74 61 91 a1 62 80"),
			want:    Broadcast{UID: "u", Namespace: "/", Event: "b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload, ok := tt.payload.([]byte)
			if !ok {
				payload = mp(t, tt.payload)
			}
			got, err := DecodeBroadcast(payload)
			if err != nil {
				t.Fatalf("DecodeBroadcast: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeBroadcast:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// nest wraps v in n arrays.
func nest(v any, n int) any {
	for range n {
		v = []any{v}
	}
	return v
}

// nestMaps wraps v in n maps.
func nestMaps(v any, n int) any {
	for range n {
		v = m{"k": v}
	}
	return v
}

func TestDecodeBroadcastDepth(t *testing.T) {
	// An argument is at level 4: [uid, {data: [event, arg]}, opts].
	ok := []any{"emitter", event("/", "deep", nest(1, MaxDepth-3)), m{}}
	if _, err := DecodeBroadcast(mp(t, ok)); err != nil {
		t.Errorf("%d levels: %v", MaxDepth, err)
	}
	for name, v := range map[string]any{
		"arrays":          []any{"emitter", event("/", "deep", nest(1, MaxDepth-2)), m{}},
		"maps":            []any{"emitter", event("/", "deep", nestMaps(1, MaxDepth-2)), m{}},
		"skipped field":   []any{"emitter", m{"type": 2, "data": []any{"e"}, "x": nest(1, MaxDepth)}, m{}},
		"skipped element": []any{"emitter", event("/", "e"), m{}, nest(1, MaxDepth)},
		"flags":           []any{"emitter", event("/", "e"), m{"flags": m{"x": nest(1, MaxDepth)}}},
		"very deep":       []any{"emitter", event("/", "deep", nest(1, 100000)), m{}},
	} {
		_, err := DecodeBroadcast(mp(t, v))
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "nesting") {
			t.Errorf("%s: err = %v, want nesting error", name, err)
		}
	}
}

func TestDecodeBroadcastMalformed(t *testing.T) {
	good := func(packet, opts any) []byte { return mp(t, []any{"emitter", packet, opts}) }
	pkt := event("/", "e")
	tests := []struct {
		name    string
		payload []byte
	}{
		{"empty", nil},
		{"nil", mp(t, nil)},
		{"map", mp(t, m{"uid": "emitter"})},
		{"string", mp(t, "emitter")},
		{"integer", mp(t, 2)},
		{"json", []byte(`["emitter",{"type":2,"data":["e"]},{}]`)},
		{"empty array", mp(t, []any{})},
		{"two elements", mp(t, []any{"emitter", pkt})},
		{"uid integer", mp(t, []any{1, pkt, m{}})},
		{"uid nil", mp(t, []any{nil, pkt, m{}})},
		{"uid bin", mp(t, []any{[]byte("emitter"), pkt, m{}})},
		{"packet nil", good(nil, m{})},
		{"packet array", good([]any{2, []any{"e"}}, m{})},
		{"packet string", good("2[\"e\"]", m{})},
		{"type missing", good(m{"data": []any{"e"}}, m{})},
		{"type 3", good(m{"type": 3, "data": []any{"e"}}, m{})},
		{"type 0", good(m{"type": 0, "data": []any{"e"}}, m{})},
		{"type string", good(m{"type": "2", "data": []any{"e"}}, m{})},
		{"type 2.5", good(m{"type": 2.5, "data": []any{"e"}}, m{})},
		{"type nil", good(m{"type": nil, "data": []any{"e"}}, m{})},
		{"type array", good(m{"type": []any{2}, "data": []any{"e"}}, m{})},
		{"data missing", good(m{"type": 2}, m{})},
		{"data nil", good(m{"type": 2, "data": nil}, m{})},
		{"data empty", good(m{"type": 2, "data": []any{}}, m{})},
		{"data map", good(m{"type": 2, "data": m{"0": "e"}}, m{})},
		{"data string", good(m{"type": 2, "data": "e"}, m{})},
		{"event integer", good(m{"type": 2, "data": []any{1}}, m{})},
		{"event nil", good(m{"type": 2, "data": []any{nil}}, m{})},
		{"event bin", good(m{"type": 2, "data": []any{[]byte("e")}}, m{})},
		{"event array", good(m{"type": 2, "data": []any{[]any{"e"}}}, m{})},
		{"nsp integer", good(m{"type": 2, "data": []any{"e"}, "nsp": 1}, m{})},
		{"nsp bin", good(m{"type": 2, "data": []any{"e"}, "nsp": []byte("/")}, m{})},
		{"opts nil", good(pkt, nil)},
		{"opts array", good(pkt, []any{})},
		{"opts string", good(pkt, "")},
		{"rooms string", good(pkt, m{"rooms": "a"})},
		{"rooms map", good(pkt, m{"rooms": m{"a": true}})},
		{"room nil", good(pkt, m{"rooms": []any{nil}})},
		{"room float", good(pkt, m{"rooms": []any{1.5}})},
		{"room array", good(pkt, m{"rooms": []any{[]any{"a"}}})},
		{"except map", good(pkt, m{"except": m{}})},
		{"except boolean room", good(pkt, m{"except": []any{true}})},
		{"flags array", good(pkt, m{"flags": []any{"volatile"}})},
		{"volatile integer", good(pkt, m{"flags": m{"volatile": 1}})},
		{"local string", good(pkt, m{"flags": m{"local": "true"}})},
		{"float map key", mp(t, []any{"emitter", event("/", "e", hx("81 cb 3ff8000000000000 01")), m{}})},
		{"array map key", mp(t, []any{"emitter", event("/", "e", hx("81 90 01")), m{}})},
		{"map map key", mp(t, []any{"emitter", hx("81 80 01"), m{}})},
		{"never-used code", mp(t, []any{"emitter", event("/", "e", hx("c1")), m{}})},
		{"never-used code, skipped", mp(t, []any{"emitter", m{"type": 2, "data": []any{"e"}, "x": hx("c1")}, m{}})},
		{"timestamp of 5 bytes", mp(t, []any{"emitter", event("/", "e", hx("c7 05 ff 0000000000")), m{}})},
		{"trailing byte", append(good(pkt, m{}), 0xc0)},
		{"two messages", append(good(pkt, m{}), good(pkt, m{})...)},
		// Declared lengths far beyond the payload.
		{"array32 message", hx("dd ffffffff a1 75")},
		{"array16 message", hx("dc ffff a1 75")},
		{"map32 packet", mp(t, []any{"emitter", hx("df ffffffff"), m{}})},
		{"array32 data", mp(t, []any{"emitter", m{"type": 2, "data": hx("dd 7fffffff a1 65")}, m{}})},
		{"array32 arg", mp(t, []any{"emitter", event("/", "e", hx("dd ffffffff")), m{}})},
		{"map32 arg", mp(t, []any{"emitter", event("/", "e", hx("df ffffffff")), m{}})},
		{"str32 arg", mp(t, []any{"emitter", event("/", "e", hx("db ffffffff 61")), m{}})},
		{"bin32 arg", mp(t, []any{"emitter", event("/", "e", hx("c6 ffffffff 61")), m{}})},
		{"ext32 arg", mp(t, []any{"emitter", event("/", "e", hx("c9 ffffffff 01 61")), m{}})},
		{"str32 uid", hx("93 db 7fffffff 65")},
		{"array32 rooms", mp(t, []any{"emitter", pkt, m{"rooms": hx("dd ffffffff a1 61")}})},
		{"str32 skipped", mp(t, []any{"emitter", m{"type": 2, "data": []any{"e"}, "x": hx("db ffffffff")}, m{}})},
		{"map with odd bytes left", mp(t, []any{"emitter", event("/", "e", hx("82 a1 61 01")), m{}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DecodeBroadcast(tt.payload)
			if !errors.Is(err, ErrMalformed) || !reflect.DeepEqual(b, Broadcast{}) {
				t.Fatalf("DecodeBroadcast(%x) = %#v, %v; want zero, ErrMalformed", tt.payload, b, err)
			}
		})
	}
}

func TestDecodeBroadcastTruncated(t *testing.T) {
	full := mp(t, []any{"emitter",
		event("/admin", "e", 1, -300, 70000, math.MaxInt64, 1.5, float32(2), "str", []byte{1, 2},
			m{"k": []any{true, false, nil}}, hx("d7 ff 00000000 65937d25"), hx("d4 00 00"), hx("c7 03 00 010203")),
		nodeOpts([]string{"a", "b"}, []string{"c"}, m{"volatile": true, "local": false})})
	if _, err := DecodeBroadcast(full); err != nil {
		t.Fatalf("full payload: %v", err)
	}
	for i := range full {
		if b, err := DecodeBroadcast(full[:i]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("first %d of %d bytes: %#v, %v; want ErrMalformed", i, len(full), b, err)
		}
	}
}

func TestDecodeBroadcastTooLarge(t *testing.T) {
	// A valid message just over the limit, padded by a long argument.
	pad := strings.Repeat("x", MaxPayloadSize)
	_, err := DecodeBroadcast(mp(t, []any{"emitter", event("/", "e", pad), m{}}))
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
	// Just under it is fine.
	pad = pad[:MaxPayloadSize-64]
	b, err := DecodeBroadcast(mp(t, []any{"emitter", event("/", "e", pad), m{}}))
	if err != nil || b.Args[0] != pad {
		t.Errorf("payload under the limit: %v", err)
	}
}

func TestDecodeBroadcastCopies(t *testing.T) {
	payload := mp(t, []any{"emitter", event("/", "e", []byte{1, 2, 3}, hx("c7 01 00 07")), m{}})
	b, err := DecodeBroadcast(payload)
	if err != nil {
		t.Fatal(err)
	}
	clear(payload)
	if want := []any{[]byte{1, 2, 3}, []byte{7}}; !reflect.DeepEqual(b.Args, want) {
		t.Errorf("Args after the payload was cleared = %v, want %v", b.Args, want)
	}
}

func TestBinary(t *testing.T) {
	tests := []struct {
		args []any
		want bool
	}{
		{nil, false},
		{[]any{"a", int64(1), nil, m{"a": []any{"b"}}}, false},
		{[]any{[]byte{}}, true},
		{[]any{"a", []any{[]any{[]byte{1}}}}, true},
		{[]any{m{"a": m{"b": []byte{1}}}}, true},
	}
	for _, tt := range tests {
		if got := (Broadcast{Args: tt.args}).Binary(); got != tt.want {
			t.Errorf("Binary(%v) = %v, want %v", tt.args, got, tt.want)
		}
	}
}

func TestForChannelRoom(t *testing.T) {
	ruby := Broadcast{Event: "e", Rooms: []string{"a", "b", "c"}, Except: []string{"x"}}
	tests := []struct {
		b            Broadcast
		room         string
		rooms, excpt []string
	}{
		{ruby, "a", []string{"a"}, []string{"x"}},
		{ruby, "b", []string{"b"}, []string{"x", "a"}},
		{ruby, "c", []string{"c"}, []string{"x", "a", "b"}},
		{ruby, "", []string{"a", "b", "c"}, []string{"x"}},  // namespace channel
		{ruby, "z", []string{"a", "b", "c"}, []string{"x"}}, // not a target
		{Broadcast{Rooms: []string{"a"}}, "a", []string{"a"}, nil},
		{Broadcast{Rooms: []string{"a", "b"}}, "b", []string{"b"}, []string{"a"}},
	}
	for _, tt := range tests {
		got := tt.b.ForChannelRoom(tt.room)
		if !reflect.DeepEqual(got.Rooms, tt.rooms) || !reflect.DeepEqual(got.Except, tt.excpt) {
			t.Errorf("%v.ForChannelRoom(%q): rooms %q except %q; want %q, %q",
				tt.b.Rooms, tt.room, got.Rooms, got.Except, tt.rooms, tt.excpt)
		}
	}
	// The original is untouched, even when its Except has spare capacity.
	b := Broadcast{Rooms: []string{"a", "b"}, Except: make([]string, 1, 8)}
	_ = b.ForChannelRoom("b")
	c := b.ForChannelRoom("b")
	if !reflect.DeepEqual(b.Rooms, []string{"a", "b"}) || len(b.Except) != 1 || b.Except[:2][1] != "" {
		t.Errorf("ForChannelRoom changed its receiver: %#v", b)
	}
	if !reflect.DeepEqual(c.Except, []string{"", "a"}) {
		t.Errorf("Except = %q", c.Except)
	}
}

func TestJSDate(t *testing.T) {
	// Expected values from node: JSON.stringify(new Date(ms)).
	tests := []struct {
		ms   float64
		want any
	}{
		{0, "1970-01-01T00:00:00.000Z"},
		{1704164645678, "2024-01-02T03:04:05.678Z"},
		{-1, "1969-12-31T23:59:59.999Z"},
		{-999.5, "1969-12-31T23:59:59.001Z"},
		{-62198755200000, "-000001-01-01T00:00:00.000Z"},
		{-62167219200001, "-000001-12-31T23:59:59.999Z"},
		{253402300800000, "+010000-01-01T00:00:00.000Z"},
		{8.64e15, "+275760-09-13T00:00:00.000Z"},
		{-8.64e15, "-271821-04-20T00:00:00.000Z"},
		{8.64e15 + 1, nil},
		{math.NaN(), nil},
		{math.Inf(-1), nil},
	}
	for _, tt := range tests {
		if got := jsDate(tt.ms); got != tt.want {
			t.Errorf("jsDate(%v) = %v, want %v", tt.ms, got, tt.want)
		}
	}
}

func TestKind(t *testing.T) {
	// Error messages name what was found.
	_, err := DecodeBroadcast(mp(t, []any{"emitter", event("/", 1.5), m{}}))
	if err == nil || !strings.Contains(err.Error(), "float, want string") {
		t.Errorf("err = %v", err)
	}
	for _, c := range []byte{0x00, 0xa0, 0xc4, 0x90, 0x80, 0xd4, 0xc0, 0xc3, 0xcb, 0xc1} {
		if kind(c) == "" || (c == 0xc1) != bytes.HasPrefix([]byte(kind(c)), []byte("code")) {
			t.Errorf("kind(0x%02x) = %q", c, kind(c))
		}
	}
}

func TestDecodeBroadcastContainers(t *testing.T) {
	many := func(n int, c byte) []byte {
		// [uid, {type, data: [event, array32(n) of c...]}, {}]
		p := []byte{0x93, 0xa1, 'u', 0x82, 0xa4, 't', 'y', 'p', 'e', 0x02, 0xa4, 'd', 'a', 't', 'a', 0x92, 0xa1, 'e',
			0xdd, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
		p = append(p, bytes.Repeat([]byte{c}, n)...)
		return append(p, 0x80)
	}
	// The message, packet, data, opts and the argument array are 5 containers.
	for _, c := range []byte{0x90, 0x80} {
		if _, err := DecodeBroadcast(many(MaxContainers-5, c)); err != nil {
			t.Errorf("%d containers: %v", MaxContainers, err)
		}
		_, err := DecodeBroadcast(many(MaxContainers-4, c))
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "arrays and maps") {
			t.Errorf("%d containers: err = %v", MaxContainers+1, err)
		}
	}
	// Scalars are not containers.
	if _, err := DecodeBroadcast(many(4*MaxContainers, 0x01)); err != nil {
		t.Errorf("many integers: %v", err)
	}
}
