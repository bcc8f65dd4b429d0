package railsstore

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldrt/herald/internal/auth"
)

// storeVector is one line of testdata/stores.jsonl (the shared vectors,
// README §4) or of gen_stores.rb's output, which adds devise_scope and
// expect.
type storeVector struct {
	Name            string          `json:"name"`
	Store           string          `json:"store"`
	Format          string          `json:"format"`
	Note            string          `json:"note"`
	CookieName      string          `json:"cookie_name"`
	CookieValue     string          `json:"cookie_value"`
	PublicSessionID string          `json:"public_session_id"`
	KeyPrefix       string          `json:"key_prefix"`
	KeyUses         string          `json:"key_uses"`
	RedisKey        string          `json:"redis_key"`
	ValueHex        string          `json:"value_hex"`
	TTLSeconds      *int            `json:"ttl_seconds"`
	DeviseScope     string          `json:"devise_scope"`
	ExpectSession   json.RawMessage `json:"expect_session"`
	Expect          string          `json:"expect"` // "ok" or "reject"; empty in the shared file (all ok)
	UserID          json.RawMessage `json:"user_id"`
	UserIDSource    *string         `json:"user_id_source"`
}

func (v storeVector) value(tb testing.TB) []byte {
	tb.Helper()
	b, err := hex.DecodeString(v.ValueHex)
	if err != nil {
		tb.Fatalf("%s: value_hex: %v", v.Name, err)
	}
	return b
}

// wantUser is the expected user id as auth.UserFromSession writes it (a
// JSON string's text, an integer's digits), or "" for none.
func (v storeVector) wantUser(tb testing.TB) string {
	tb.Helper()
	raw := bytes.TrimSpace(v.UserID)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func (v storeVector) wantOK() bool { return v.Expect != "reject" }

// formatOf maps the vectors' format names to ours.
func (v storeVector) formatOf() Format {
	switch v.Format {
	case "cache-entry-6.1":
		return FormatCache61
	}
	return Format(v.Format)
}

func readVectors(tb testing.TB, path string) []storeVector {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var vs []storeVector
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v storeVector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(vs) == 0 {
		tb.Fatalf("%s: no vectors", path)
	}
	return vs
}

// handshake is a connection sending the given Cookie header.
func handshake(cookieHeader string) *auth.Handshake {
	h := http.Header{}
	if cookieHeader != "" {
		h.Set("Cookie", cookieHeader)
	}
	return &auth.Handshake{Header: h}
}

// jsonEqual compares two JSON texts as README §1 values: object member
// order is ignored; a number with ".", "e" or "E" is a Float (compared as
// an IEEE double, sign of zero included), any other an Integer (compared
// exactly).
func jsonEqual(a, b []byte) (bool, error) {
	va, err := decodeJSON(a)
	if err != nil {
		return false, fmt.Errorf("first: %w", err)
	}
	vb, err := decodeJSON(b)
	if err != nil {
		return false, fmt.Errorf("second: %w", err)
	}
	return valueEqual(va, vb), nil
}

func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}

func valueEqual(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		fx, fy := strings.ContainsAny(string(x), ".eE"), strings.ContainsAny(string(y), ".eE")
		if fx != fy {
			return false
		}
		if fx {
			p, err1 := x.Float64()
			q, err2 := y.Float64()
			return err1 == nil && err2 == nil && math.Float64bits(p) == math.Float64bits(q)
		}
		p, ok1 := new(big.Int).SetString(string(x), 10)
		q, ok2 := new(big.Int).SetString(string(y), 10)
		return ok1 && ok2 && p.Cmp(q) == 0
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !valueEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valueEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func assertJSON(tb testing.TB, got, want []byte) {
	tb.Helper()
	ok, err := jsonEqual(got, want)
	if err != nil {
		tb.Fatalf("comparing %s with %s: %v", got, want, err)
	}
	if !ok {
		tb.Fatalf("session differs\ngot  %s\nwant %s", got, want)
	}
}
