package railscookie

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary cookie values to a Decoder holding the
// vectors' secrets: no panic, every error has a reason, every success is
// valid JSON. Seeded with every recorded vector.
func FuzzDecode(f *testing.F) {
	for _, v := range readVectors(f, "testdata/cookies.jsonl") {
		f.Add(v.CookieValue)
	}
	for _, v := range []string{docVectorA, docVectorB, docVectorC, docVectorD, docVectorE, docVectorF, "", "--", "a--b--c", "YQ==--" + strings.Repeat("0", 40)} {
		f.Add(v)
	}
	vs := readVectors(f, "testdata/cookies.jsonl")
	d := mustNew(f, Options{
		Secrets:    []string{vs[0].SecretKeyBase, docSecret},
		CookieName: "_acme_session",
		Marshal:    testMarshal,
	})
	f.Fuzz(func(t *testing.T, value string) {
		out, err := d.Decode(value)
		if err != nil {
			if Reason(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("accepted, but the session is not JSON: %q", out)
		}
	})
}

// FuzzPlaintext seals arbitrary plaintexts as authentic GCM cookies, so
// everything after the crypto (the envelope, serializer detection, the
// MessagePack mapping) sees hostile input.
func FuzzPlaintext(f *testing.F) {
	for _, p := range []string{
		`{"a":1}`, "123", `"x"`, "", "\x04\x08{\x00",
		string(envelope([]byte(`{"user_id":1}`), "null", `"cookie._x"`)),
		string(envelope([]byte(`{"user_id":1}`), `"2099-01-01T00:00:00Z"`, "null")),
		string(envelope([]byte("\xcc\x80\x81\xa1a\x01"), "null", "null")),
		"\xcc\x80\x82\xa7user_id\x2a\xa1t\xd7\x07\x01\x02\x03\x04\x05\x06\x07\x08",
		"\xcc\x80\x93\xc7\x0d\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\xd6\x06\x01\x02\x03\x04\xc0",
		"\xcc\x80\xc7\x08\x05" + "\xce\x00\x25\x8a\x92\x17\x1e\x0f\x01",
	} {
		f.Add([]byte(p))
	}
	key, err := pbkdf2.Key(sha256.New, docSecret, []byte(DefaultAuthenticatedEncryptedCookieSalt), 1000, 32)
	if err != nil {
		f.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(block)
	iv := make([]byte, 12)
	d := docDecoder(f, "_x", nil)
	e := base64.StdEncoding.EncodeToString
	f.Fuzz(func(t *testing.T, plaintext []byte) {
		if len(plaintext) > 4096 {
			return
		}
		sealed := g.Seal(nil, iv, plaintext, nil)
		n := len(sealed) - 16
		value := url.QueryEscape(e(sealed[:n]) + "--" + e(iv) + "--" + e(sealed[n:]))
		out, err := d.Decode(value)
		if err != nil {
			if Reason(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("accepted %q, but the session is not JSON: %q", plaintext, out)
		}
	})
}
