package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldrt/herald/internal/emitter"
	"github.com/vmihailenco/msgpack/v5"
)

func decodeMsgpack(t *testing.T, b []byte) any {
	t.Helper()
	rd := bytes.NewReader(b)
	dec := msgpack.NewDecoder(rd)
	dec.SetMapDecoder(func(d *msgpack.Decoder) (any, error) { return d.DecodeUntypedMap() })
	dec.UseLooseInterfaceDecoding(true) // every integer as int64, every float as float64
	v, err := dec.DecodeInterface()
	if err != nil {
		t.Fatalf("msgpack decode: %v (% x)", err, b)
	}
	if _, err := dec.DecodeInterface(); err == nil || rd.Len() != 0 {
		t.Fatalf("trailing data after the message: % x", b)
	}
	return v
}

func TestAppendEmitterDecodes(t *testing.T) {
	m := mark{Phase: 3, Seq: 70000, Sent: 1_700_000_000_123_456, User: 42}
	for _, room := range []string{"user:42", ""} {
		b := appendEmitter(nil, "notification", room, m)
		got := decodeMsgpack(t, b)
		rooms := []any{}
		if room != "" {
			rooms = []any{room}
		}
		want := []any{
			"emitter",
			map[any]any{"type": int64(2), "nsp": "/", "data": []any{"notification", map[any]any{
				"title": benchTitle, keyPhase: int64(3), keySeq: int64(70000), keySent: int64(1_700_000_000_123_456), keyUser: int64(42),
			}}},
			map[any]any{"rooms": rooms, "flags": map[any]any{}, "except": []any{}},
		}
		if !reflect.DeepEqual(normalize(got), normalize(want)) {
			t.Errorf("room %q: decoded %#v\nwant %#v", room, got, want)
		}

		// herald's own decoder reads it as the emitter's message.
		bc, err := emitter.DecodeBroadcast(b)
		if err != nil {
			t.Fatalf("emitter.DecodeBroadcast: %v", err)
		}
		if bc.UID != emitter.UID || bc.Namespace != "/" || bc.Event != "notification" || len(bc.Args) != 1 || len(bc.Except) != 0 {
			t.Fatalf("broadcast %+v", bc)
		}
		if (room == "") != (len(bc.Rooms) == 0) || (room != "" && bc.Rooms[0] != room) {
			t.Fatalf("rooms %q", bc.Rooms)
		}
		// The data, as a server sends it on, carries the mark.
		data, _ := json.Marshal([]any{bc.Event, bc.Args[0]})
		if got, ok := parseMark(data); !ok || got != m {
			t.Fatalf("mark from %s: %+v %v", data, got, ok)
		}
	}
	if emitterChannel("socket.io", "user:42") != "socket.io#/#user:42#" || emitterChannel("socket.io", "") != "socket.io#/#" {
		t.Error("emitter channels")
	}
}

// normalize turns map[string]any into map[any]any so that both decoders'
// outputs compare.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[any]any{}
		for k, e := range x {
			m[k] = normalize(e)
		}
		return m
	case map[any]any:
		m := map[any]any{}
		for k, e := range x {
			m[k] = normalize(e)
		}
		return m
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
		return x
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	}
	return v
}

// The envelope is byte for byte what @socket.io/redis-emitter 5.1.0
// publishes (golden capture in internal/emitter/testdata): only the data
// argument differs.
func TestAppendEmitterMatchesRealEmitter(t *testing.T) {
	f, err := os.Open("../../internal/emitter/testdata/emitter-5.1.0.jsonl")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	var golden []byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec struct{ Call, Channel, Payload string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && strings.HasPrefix(rec.Call, `emitter.to("user:42").emit("notification"`) {
			if rec.Channel != emitterChannel("socket.io", "user:42") {
				t.Fatalf("channel %q", rec.Channel)
			}
			golden, _ = base64.StdEncoding.DecodeString(rec.Payload)
		}
	}
	if golden == nil {
		t.Skip("golden record not found")
	}
	// golden: emitter.to("user:42").emit("notification", {title: "hi", n: 1})
	goldenData := []byte{0x82, 0xa5, 't', 'i', 't', 'l', 'e', 0xa2, 'h', 'i', 0xa1, 'n', 0x01}
	i := bytes.Index(golden, goldenData)
	if i < 0 {
		t.Fatalf("data not found in golden % x", golden)
	}
	m := mark{Phase: 1, Seq: 2, Sent: 3, User: 42}
	mine := appendEmitter(nil, "notification", "user:42", m)
	data := appendEmitterData(m)
	j := bytes.Index(mine, data)
	if j < 0 {
		t.Fatal("data not found in ours")
	}
	if !bytes.Equal(golden[:i], mine[:j]) || !bytes.Equal(golden[i+len(goldenData):], mine[j+len(data):]) {
		t.Fatalf("envelope differs:\ngolden % x\nours   % x", golden, mine)
	}
}

// appendEmitterData is the data map of appendEmitter, for the test above.
func appendEmitterData(m mark) []byte {
	b := []byte{0x85}
	b = mpStr(b, "title")
	b = mpStr(b, benchTitle)
	for _, kv := range []struct {
		k string
		v int64
	}{{keyPhase, m.Phase}, {keySeq, m.Seq}, {keySent, m.Sent}, {keyUser, m.User}} {
		b = mpStr(b, kv.k)
		b = mpInt(b, kv.v)
	}
	return b
}

func TestMsgpackScalars(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		size int
	}{
		{0, 1}, {127, 1}, {128, 2}, {255, 2}, {256, 3}, {65535, 3}, {65536, 5}, {math.MaxUint32, 5}, {math.MaxUint32 + 1, 9}, {math.MaxInt64, 9},
		{-1, 1}, {-32, 1}, {-33, 2}, {-128, 2}, {-129, 3}, {-32768, 3}, {-32769, 5}, {math.MinInt32, 5}, {math.MinInt32 - 1, 9}, {math.MinInt64, 9},
	} {
		b := mpInt(nil, tc.v)
		if len(b) != tc.size {
			t.Errorf("mpInt(%d): %d bytes, want %d", tc.v, len(b), tc.size)
		}
		var got int64
		if err := msgpack.Unmarshal(b, &got); err != nil || got != tc.v {
			t.Errorf("mpInt(%d) decodes to %d, %v", tc.v, got, err)
		}
	}
	for _, n := range []int{0, 31, 32, 255, 256, 65535, 65536} {
		s := strings.Repeat("é", n/2) + strings.Repeat("x", n%2)
		var got string
		if err := msgpack.Unmarshal(mpStr(nil, s), &got); err != nil || got != s {
			t.Errorf("mpStr of %d bytes: %v", len(s), err)
		}
	}
}

func TestAppendNotify(t *testing.T) {
	m := mark{Phase: 2, Seq: 9, Sent: 1_700_000_000_000_001, User: 17}
	for _, broadcast := range []bool{false, true} {
		b := appendNotify(nil, "notification", m, broadcast)
		var msg struct {
			User      *int64          `json:"user"`
			Broadcast bool            `json:"broadcast"`
			Event     string          `json:"event"`
			Data      json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(b, &msg); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if msg.Event != "notification" || msg.Broadcast != broadcast || (msg.User != nil) == broadcast || (!broadcast && *msg.User != 17) {
			t.Fatalf("%s", b)
		}
		if got, ok := parseMark(append(append([]byte(`["notification",`), msg.Data...), ']')); !ok || got != m {
			t.Fatalf("mark %+v %v from %s", got, ok, msg.Data)
		}
	}
}
