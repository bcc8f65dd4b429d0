package railscookie

import (
	"testing"
)

// BenchmarkDecodeDeviseCookie is the per-connection cost of the
// rails-cookie auth mode: a typical Devise session cookie (AES-256-GCM,
// purpose envelope, JSON; real Rails output from testdata/cookies.jsonl),
// with the keys derived beforehand in New.
//
//   - sha256_first: a Rails 7.0+ cookie; the first key opens it.
//   - sha1_rotated: a Rails 6.x cookie read by a 7.0+ configuration; the
//     SHA256 key fails first, then the SHA1 one opens it.
//   - old_secret: the cookie opens only with the second secret (rotation),
//     after two failed GCM opens.
func BenchmarkDecodeDeviseCookie(b *testing.B) {
	vs := readVectors(b, "testdata/cookies.jsonl")
	byName := map[string]cookieVector{}
	for _, v := range vs {
		byName[v.Name] = v
	}
	sha256Cookie := byName["rails7_gcm_sha256_json_devise_flash"]
	sha1Cookie := byName["rails6_gcm_sha1_json_devise"]
	for _, c := range []struct {
		name    string
		v       cookieVector
		secrets []string
	}{
		{"sha256_first", sha256Cookie, []string{sha256Cookie.SecretKeyBase}},
		{"sha1_rotated", sha1Cookie, []string{sha1Cookie.SecretKeyBase}},
		{"old_secret", sha256Cookie, []string{docSecret, sha256Cookie.SecretKeyBase}},
	} {
		b.Run(c.name, func(b *testing.B) {
			d := mustNew(b, Options{Secrets: c.secrets, CookieName: c.v.CookieName})
			if _, err := d.Decode(c.v.CookieValue); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(c.v.CookieValue)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Decode(c.v.CookieValue); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNew is the one-time key derivation: 8 PBKDF2 runs (1000
// iterations each) per secret.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(Options{Secrets: []string{docSecret}, CookieName: "_x"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeMessagePackSession maps a Devise session serialized with
// Rails 7.1's MessagePack serializer (no crypto).
func BenchmarkDecodeMessagePackSession(b *testing.B) {
	body := []byte("\x84\xaasession_id\xd9\x200f1e2d3c4b5a69788796a5b4c3d2e1f0\xb4warden.user.user.key\x92\x91\x2a\xbd$2a$12$KkZb1lQ9u8v7w6x5y4z3A.\xb8warden.user.user.session\x81\xaflast_request_at\xce\x65\x53\xf1\x00\xab_csrf_token\xd9\x2cmQ3yq1pQv5m0Zr0y7p0b3G6m7w8x9y0z1A2B3C4D5E6=")
	if _, err := messagePackToJSON(body); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := messagePackToJSON(body); err != nil {
			b.Fatal(err)
		}
	}
}
