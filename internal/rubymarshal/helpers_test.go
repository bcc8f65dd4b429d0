package rubymarshal

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// marshalCase is one line of testdata/marshal.jsonl (a copy of
// shared/testdata/rails/marshal.jsonl).
type marshalCase struct {
	Name   string          `json:"name"`
	Ruby   string          `json:"ruby"`
	Hex    string          `json:"hex"`
	Expect json.RawMessage `json:"expect"`
}

// storeCase is one line of testdata/stores.jsonl (a copy of
// shared/testdata/rails/stores.jsonl).
type storeCase struct {
	Name          string          `json:"name"`
	Format        string          `json:"format"`
	ValueHex      string          `json:"value_hex"`
	ExpectSession json.RawMessage `json:"expect_session"`
	UserID        json.RawMessage `json:"user_id"`
	UserIDSource  *string         `json:"user_id_source"`
}

func readJSONL[T any](tb testing.TB, path string) []T {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var c T
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			tb.Fatalf("%s:%d: %v", path, line, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func marshalCases(tb testing.TB) []marshalCase {
	return readJSONL[marshalCase](tb, "testdata/marshal.jsonl")
}

func storeCases(tb testing.TB) []storeCase {
	return readJSONL[storeCase](tb, "testdata/stores.jsonl")
}

// jsonDiff compares two JSON documents the way the vectors' README says:
// object member order carries no meaning; a number with ".", "e" or "E" is
// a Float and equals only a Float with the same IEEE double (the sign of
// zero counts); any other number is an Integer compared exactly. It returns
// "" when they are equal, or where and how they differ.
func jsonDiff(got, want []byte) string {
	g, err := decodeJSON(got)
	if err != nil {
		return fmt.Sprintf("got is not JSON: %v", err)
	}
	w, err := decodeJSON(want)
	if err != nil {
		return fmt.Sprintf("want is not JSON: %v", err)
	}
	return diffValue("$", g, w)
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}

func isFloatText(n json.Number) bool {
	return strings.ContainsAny(string(n), ".eE")
}

func diffValue(path string, g, w any) string {
	switch wv := w.(type) {
	case json.Number:
		gv, ok := g.(json.Number)
		if !ok {
			return fmt.Sprintf("%s: got %s, want number %s", path, brief(g), wv)
		}
		if isFloatText(gv) != isFloatText(wv) {
			return fmt.Sprintf("%s: got %s, want %s (Float and Integer differ)", path, gv, wv)
		}
		if isFloatText(wv) {
			gf, err1 := strconv.ParseFloat(string(gv), 64)
			wf, err2 := strconv.ParseFloat(string(wv), 64)
			if err1 != nil || err2 != nil || math.Float64bits(gf) != math.Float64bits(wf) {
				return fmt.Sprintf("%s: got float %s, want %s", path, gv, wv)
			}
			return ""
		}
		gi, ok1 := new(big.Int).SetString(string(gv), 10)
		wi, ok2 := new(big.Int).SetString(string(wv), 10)
		if !ok1 || !ok2 || gi.Cmp(wi) != 0 {
			return fmt.Sprintf("%s: got integer %s, want %s", path, gv, wv)
		}
		return ""
	case []any:
		gv, ok := g.([]any)
		if !ok {
			return fmt.Sprintf("%s: got %s, want an array", path, brief(g))
		}
		if len(gv) != len(wv) {
			return fmt.Sprintf("%s: got %d elements, want %d", path, len(gv), len(wv))
		}
		for i := range wv {
			if d := diffValue(fmt.Sprintf("%s[%d]", path, i), gv[i], wv[i]); d != "" {
				return d
			}
		}
		return ""
	case map[string]any:
		gv, ok := g.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %s, want an object", path, brief(g))
		}
		keys := make([]string, 0, len(wv)+len(gv))
		for k := range wv {
			keys = append(keys, k)
		}
		for k := range gv {
			if _, ok := wv[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			gx, gok := gv[k]
			wx, wok := wv[k]
			p := path + "[" + strconv.Quote(k) + "]"
			switch {
			case !gok:
				return fmt.Sprintf("%s: missing, want %s", p, brief(wx))
			case !wok:
				return fmt.Sprintf("%s: unexpected %s", p, brief(gx))
			}
			if d := diffValue(p, gx, wx); d != "" {
				return d
			}
		}
		return ""
	default: // string, bool, nil
		if g != w {
			return fmt.Sprintf("%s: got %s, want %s", path, brief(g), brief(w))
		}
		return ""
	}
}

func brief(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}

// userID finds the user id the way herald's identity code will: Devise's
// warden.user.user.key ([[id], salt]), else a user_id key.
func userID(session Value) (Value, string) {
	if k, ok := Lookup(session, "warden.user.user.key"); ok {
		if a, ok := AsArray(k); ok && len(a) > 0 {
			if ids, ok := AsArray(a[0]); ok && len(ids) > 0 {
				return ids[0], "warden.user.user.key"
			}
		}
	}
	if v, ok := Lookup(session, "user_id"); ok {
		return v, "user_id"
	}
	return nil, ""
}
