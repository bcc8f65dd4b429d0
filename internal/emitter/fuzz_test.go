package emitter

import (
	"errors"
	"strings"
	"testing"
)

// fuzzSeeds are payloads of both formats beyond the real fixtures.
func fuzzSeeds(tb testing.TB) [][]byte {
	seeds := fixturePayloads(tb)
	seeds = append(seeds,
		mp(tb, []any{"emitter", m{"type": 5, "data": []any{"bin", []byte{0xff}}, "nsp": "admin"}, m{"rooms": []any{42, "s"}, "flags": m{"json": true}}}),
		mp(tb, []any{"node", event("/", "ext", hx("d4 00 00"), hx("d7 00 0000000000000001"), hx("c7 02 00 0102"), hx("d6 ff 00000001"), hx("c7 0c ff 00000000 0000000000000001"), hx("d5 07 0102"), hx("81 2a c3")), m{"flags": m{"volatile": true, "local": true}}}),
		mp(tb, m{"uid": "n1", "type": 2, "opts": m{"rooms": []string{"a"}, "except": []any{7}}, "rooms": []string{"c"}}),
		mp(tb, m{"uid": "n1", "requestId": "r", "type": 7, "packet": m{"type": 2, "data": []any{"e", []byte{1}}}, "opts": m{}}),
		[]byte(`{"uid":"a","requestId":"r","type":2,"sid":"abc","room":"r1"}`),
		[]byte(`{"type":4,"opts":{"rooms":[42],"except":null},"close":true}`),
		hx("dd ffffffff a1 75"),
	)
	return seeds
}

func FuzzDecodeBroadcast(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		b, err := DecodeBroadcast(payload)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps neither ErrMalformed nor ErrTooLarge: %v", err)
			}
			return
		}
		if !strings.HasPrefix(b.Namespace, "/") {
			t.Fatalf("Namespace %q", b.Namespace)
		}
		checkValues(t, b.Args, 4)
		_ = b.Binary()
		for _, r := range b.Rooms {
			_ = b.ForChannelRoom(r)
		}
	})
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		r, err := DecodeRequest(payload)
		switch {
		case err == nil:
			if r.Type != RemoteJoin && r.Type != RemoteLeave && r.Type != RemoteDisconnect {
				t.Fatalf("no error for type %v", r.Type)
			}
		case errors.Is(err, ErrUnsupportedRequest), errors.Is(err, ErrMalformed), errors.Is(err, ErrTooLarge):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	})
}

// checkValues fails unless every value has one of the documented types and
// lies within MaxDepth.
func checkValues(t *testing.T, vs []any, depth int) {
	t.Helper()
	for _, v := range vs {
		switch x := v.(type) {
		case nil, bool, int64, uint64, float64, string, []byte:
		case []any:
			if depth > MaxDepth {
				t.Fatalf("array at level %d", depth)
			}
			checkValues(t, x, depth+1)
		case map[string]any:
			if depth > MaxDepth {
				t.Fatalf("map at level %d", depth)
			}
			for _, e := range x {
				checkValues(t, []any{e}, depth+1)
			}
		default:
			t.Fatalf("value of type %T", v)
		}
	}
}
