package railsstore

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/heraldrt/herald/internal/auth"

	"github.com/heraldrt/herald/internal/rubymarshal/jsoneq"
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

// jsonEqual compares two session JSON texts (see package jsoneq).
func jsonEqual(a, b []byte) (bool, error) { return jsoneq.Equal(a, b) }

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
