package rubymarshal

import (
	"encoding/json"
	"errors"
	"testing"
)

// allSeeds returns every Marshal value among the vectors: marshal.jsonl and
// the Marshal-format values of stores.jsonl.
func allSeeds(tb testing.TB) [][]byte {
	var out [][]byte
	for _, c := range marshalCases(tb) {
		out = append(out, unhex(tb, c.Hex))
	}
	for _, c := range storeCases(tb) {
		if c.Format != "json" {
			out = append(out, unhex(tb, c.ValueHex))
		}
	}
	return out
}

// FuzzDecode: no input panics; every error is an *Error; whatever decodes
// maps to valid JSON or to an error.
func FuzzDecode(f *testing.F) {
	for _, s := range allSeeds(f) {
		f.Add(s)
	}
	// Self-reference, and links to floats and bignums.
	f.Add(hx("0408 5b 06 40 00"))
	f.Add(hx("0408 5b 08 66 06 31 6c 2b 06 0100 5b 07 40 06 40 07"))
	lim := &Limits{MaxBytes: 64 << 10, MaxObjects: 10_000}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decode(data, lim)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(data) {
				t.Fatalf("bad error %T %v", err, err)
			}
			return
		}
		out, err := ToJSON(v)
		if err != nil {
			var je *JSONError
			if !errors.As(err, &je) {
				t.Fatalf("ToJSON error %T %v", err, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %q", out)
		}
	})
}
