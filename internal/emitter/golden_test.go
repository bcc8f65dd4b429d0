package emitter

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// fixture is one line of testdata/emitter-*.jsonl, written by
// test/emitter/capture.mjs from what the real @socket.io/redis-emitter
// published.
type fixture struct {
	Call    string `json:"call"`
	Channel string `json:"channel"`
	Payload []byte `json:"payload"` // standard base64 in the file, as encoding/json reads []byte
}

const goldenFile = "testdata/emitter-5.1.0.jsonl"

func readFixtures(tb testing.TB, path string) []fixture {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var fx []fixture
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 2*MaxPayloadSize)
	for sc.Scan() {
		var x fixture
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		fx = append(fx, x)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return fx
}

// golden is what each call in the fixture must decode to.
var golden = map[string]struct {
	room      string // the channel's room, from RoomFromChannel
	broadcast *Broadcast
	binary    bool
	request   *Request
	reqErr    error
}{
	`emitter.to("user:42").emit("notification", {title: "hi", n: 1})`: {
		room: "user:42",
		broadcast: &Broadcast{UID: "emitter", Namespace: "/", Event: "notification",
			Args: []any{m{"title": "hi", "n": int64(1)}}, Rooms: []string{"user:42"}},
	},
	`emitter.emit("broadcast", 1, "two", [3])`: {
		broadcast: &Broadcast{UID: "emitter", Namespace: "/", Event: "broadcast",
			Args: []any{int64(1), "two", []any{int64(3)}}},
	},
	`emitter.to("a").to("b").except("c").emit("multi", Buffer.from([1,2,3]), {nested: Buffer.from([4])})`: {
		broadcast: &Broadcast{UID: "emitter", Namespace: "/", Event: "multi",
			Args:  []any{[]byte{1, 2, 3}, m{"nested": []byte{4}}},
			Rooms: []string{"a", "b"}, Except: []string{"c"}},
		binary: true,
	},
	`emitter.of("/admin").emit("adm", true)`: {
		broadcast: &Broadcast{UID: "emitter", Namespace: "/admin", Event: "adm", Args: []any{true}},
	},
	`emitter.in("room1").socketsJoin("room2")`: {
		request: &Request{Type: RemoteJoin, Rooms: []string{"room1"}, JoinRooms: []string{"room2"}},
	},
	`emitter.in("room1").socketsLeave("room2")`: {
		request: &Request{Type: RemoteLeave, Rooms: []string{"room1"}, JoinRooms: []string{"room2"}},
	},
	`emitter.in("user:42").disconnectSockets(true)`: {
		request: &Request{Type: RemoteDisconnect, Rooms: []string{"user:42"}, Close: true},
	},
	`emitter.serverSideEmit("ping")`: {
		request: &Request{Type: ServerSideEmit, UID: "emitter"},
		reqErr:  ErrUnsupportedRequest,
	},
	`emitter.volatile.compress(false).to(["x", "y"]).emit("types", 1.5, -7, 2**40, -(2**40), 2**53, null, undefined, NaN, new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), "ünï", new Uint8Array([9, 8]), {a: undefined, b: [true, false]})`: {
		broadcast: &Broadcast{UID: "emitter", Namespace: "/", Event: "types",
			Args: []any{1.5, int64(-7), int64(1 << 40), int64(-(1 << 40)), int64(1 << 53), nil, nil, nil,
				"2024-01-02T03:04:05.678Z", "ünï", []byte{9, 8}, m{"b": []any{true, false}}},
			Rooms: []string{"x", "y"}, Volatile: true},
		binary: true,
	},
	`emitter.of("admin").to("r").except(["s", "t"]).emit("noslash")`: {
		room: "r",
		broadcast: &Broadcast{UID: "emitter", Namespace: "/admin", Event: "noslash",
			Rooms: []string{"r"}, Except: []string{"s", "t"}},
	},
	`emitter.to("user:42").disconnectSockets()`: {
		request: &Request{Type: RemoteDisconnect, Rooms: []string{"user:42"}},
	},
}

func TestGoldenEmitter(t *testing.T) {
	fx := readFixtures(t, goldenFile)
	seen := map[string]bool{}
	for _, f := range fx {
		want, ok := golden[f.Call]
		if !ok {
			t.Errorf("%s: no expectation for %s", goldenFile, f.Call)
			continue
		}
		seen[f.Call] = true
		if want.request != nil {
			if f.Channel != RequestChannel("socket.io", "/") {
				t.Errorf("%s: channel %q", f.Call, f.Channel)
			}
			got, err := DecodeRequest(f.Payload)
			if !errors.Is(err, want.reqErr) || (err != nil && want.reqErr == nil) {
				t.Errorf("%s: err = %v, want %v", f.Call, err, want.reqErr)
			}
			if !reflect.DeepEqual(&got, want.request) {
				t.Errorf("%s:\n got %#v\nwant %#v", f.Call, got, *want.request)
			}
			continue
		}
		room, ok := RoomFromChannel("socket.io", want.broadcast.Namespace, f.Channel)
		if !ok || room != want.room {
			t.Errorf("%s: RoomFromChannel(%q) = %q, %v; want %q", f.Call, f.Channel, room, ok, want.room)
		}
		if !strings.HasPrefix(f.Channel, strings.TrimSuffix(BroadcastPattern("socket.io", want.broadcast.Namespace), "*")) {
			t.Errorf("%s: channel %q not matched by %q", f.Call, f.Channel, BroadcastPattern("socket.io", want.broadcast.Namespace))
		}
		got, err := DecodeBroadcast(f.Payload)
		if err != nil {
			t.Errorf("%s: %v", f.Call, err)
			continue
		}
		if !reflect.DeepEqual(&got, want.broadcast) {
			t.Errorf("%s:\n got %#v\nwant %#v", f.Call, got, *want.broadcast)
		}
		if got.Binary() != want.binary {
			t.Errorf("%s: Binary() = %v", f.Call, got.Binary())
		}
	}
	for call := range golden {
		if !seen[call] {
			t.Errorf("%s has no line for %s", goldenFile, call)
		}
	}
}

// fixturePayloads returns the payloads of every fixture file, to seed the
// fuzzers.
func fixturePayloads(tb testing.TB) [][]byte {
	var out [][]byte
	for _, f := range readFixtures(tb, goldenFile) {
		out = append(out, f.Payload)
	}
	return out
}

func BenchmarkDecodeBroadcast(b *testing.B) {
	payload := readFixtures(b, goldenFile)[0].Payload // the notification to user:42
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := DecodeBroadcast(payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	payload := readFixtures(b, goldenFile)[4].Payload // socketsJoin
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest(payload); err != nil {
			b.Fatal(err)
		}
	}
}
