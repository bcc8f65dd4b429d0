package railscookie

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The golden vectors of ../shared/docs/rails-sessions.md §9 (Rails
// 6.1.7.10, Ruby 3.1.2).
const (
	docSecret = "4c3a1d6d0a1b2e3f4c3a1d6d0a1b2e3f4c3a1d6d0a1b2e3f4c3a1d6d0a1b2e3f" +
		"4c3a1d6d0a1b2e3f4c3a1d6d0a1b2e3f4c3a1d6d0a1b2e3f4c3a1d6d0a1b2e3f"
	docSession = `{"session_id":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","warden.user.user.key":[[42],"$2a$12$KkZb1lQ9u8v7w6x5y4z3A."],"_csrf_token":"mQ3yq1pQv5m0Zr0y7p0b3G6m7w8x9y0z1A2B3C4D5E6="}`

	// a: GCM, SHA1 KDF, purpose, JSON.
	docVectorA = "GgZYDOP8iGjUVssMuRdamMNkupHKCiA9CYUq8fSdWavwj%2FVI8EGSple1Tdg4TvYKQzYKQ5WQ1WjbGR037OdqCMGSYsS8RBT3N1Ipos77fzdV77bpcczc%2B9WO29kyJyRqymyyyFvTs8sld1qHC3HBDkWwJcNICqsimio1ZsHRaMtcJtdCT61Hb%2BYxSGSHLi%2B%2B1M8NucE2wK%2BQB5Uw1B7bH4DkMuPwgoEPiWbcZENOLJlkFB53JlWPDuxL0Kx9lSbnc8JJPrnjAmZnyV1La0glzSkpBfGh0p2UmP%2FP5vEcrIEO537hZOPbbjPmXznUR452%2BnjvR28iGraFPvr3%2F4c%2BI2yV8iPxtpm%2BDhKqeZ5DLZyZbyQg8J%2FcGFX6HIO%2BKFUKHD7Nb%2FII62vpKA%3D%3D--rIXqoE8vY%2FGd65Nj--XXQMrjgJ2EjQCFTSaeKtag%3D%3D"
	// b: GCM, SHA256 KDF, purpose, JSON.
	docVectorB = "Uvf2P%2FJgD2PbbGJkGkriZByUzFlDD1RWzoH6rDdbr4%2B4CJqLLILdeJQkAmvyxnsFN6wvRdJtX%2FBPVKzFiLJSUo5bZqNAI4Y8gsGGERDVDyfVUf9Nqm8nYOEr0uEVNfT8VYet%2F6HjQjGO45ZzVD6A3JDvCksiTitEOOPAx9f6c%2FHyEUhmzoEJ9V3wYt5LzB7BpDMZMsr6NH0Ole1mc4R4MeDOgi97OB2DS3U%2BAMq%2FpV5xaZ5os3GYJ0ps%2BubR%2FcbT3xHbpxK4oCfWFIv%2F27zVF8s5TtLJLas%2Fci%2BlkqGrfSeCfl%2BbtyEaqNRvu%2FQeEEWTEo9h2x0KVt3ie3P2dNhMZIzJWvIjF4h0jYS%2F0vWV%2FgpVpQvJ7z3BZ2hMGfRVb7S0WhOhq0GJGmAhKg%3D%3D--wJgYqb5KfuhEkLLw--pdBstTOedQVRcTWe%2FqoVyA%3D%3D"
	// c: CBC + HMAC-SHA1, Marshal.
	docVectorC = "VVhaOUViSGdRSFNnUHhLbTB6TTFzVDdKVWU1cEc3Mk45KzBDbUhiZURrekhKbmYyZlBHZFNwbXFUS2gxcU9QRldBQzltUE8wWWd0SXBFRW1VMUxtR3ZSODV2OEFrWVJlaGlPNkh4dW5mMFFYNmZuSUN3SHNscURRVkNNYzJXbzZZYVFaQnZLV3RWK3NUdENyVm1ucjhud2ZNSE1jc2QvZU13SThxanRmalNwRVppUXl4N29LMmN5TkZGOEVWaGxNR2hxS3Z6eVVpZGcxWjJiWkhERFZTV0wraFpwaHQyM0FxUmlPem5QcFk2VHk3TjYrdk9VTkQzc1d0MjE4SGRPRXBNTHVIUkk5b1hHaGV5MVQ3UXB4QlE9PS0tQlBMQU44UjJRNEF4T2lMSzk0M253UT09--0a0c48f34d7749d5757a383166e168d5f7ddf9fd"
	// d: GCM, SHA1 KDF, no envelope, JSON.
	docVectorD = "h4FMOQp6XFhYJ9TfreEKlVapJtTuolOqSwhHsU7O74bh1Fg9cXrzx1GZoBxdJOXE2LPviuC3XPwqGKjodJb0E5MATNx8GC55%2BHXSh5XEyynNebfJF%2Bsc5xb0Xp%2BDL0eq1c5nxUdVANlHWe7j1iQaByTSTutehht57mZKrSzhKOlh0FWT4AwhK57GkyPqqZ7NUxy42xAozgaR9fByKEt9FUg3uoJ1aewHQPqlsA%3D%3D--RpPz%2Fmd7R6IoZkXN--z22zpN8mNvmYNaJrnLZitw%3D%3D"
	// e: GCM, SHA1 KDF, purpose, JSON, no CSRF token.
	docVectorE = "e3N2ABG6gGtpvq2ZJBpBpDaDb06vpEaotlnNN2jBlPzwj8XKHstP3U8IcObSn0eW%2FLy%2ByMy4GUW54iqqw8e4hMpfIro3pssb1eWAcvYWD7oxqbYC3sghYEtXwoNg7XpTzIsBuWL%2FQM9zuxilyHJIBfc6Nm46O8WDmck0lEfOuoBV23sWwrMNFrpT1jk6XJe9LNX%2FmolSJBqSIReikRL9%2Bb%2F5JoAN617d39Ozi9VgZTxfp9HElD1M6Qbc2P1l75O2HoX1dxMBND5kE5jYtDRq8ERQnK8ewg%3D%3D--8qirp9OuID2ioji%2B--8%2BsXUCARklUNCwaiCgyAiw%3D%3D"
	// f: signed permanent cookie "session_id" = 123, SHA256 KDF, exp 2046.
	docVectorF = "eyJfcmFpbHMiOnsibWVzc2FnZSI6Ik1USXoiLCJleHAiOiIyMDQ2LTExLTI1VDE3OjQxOjM2LjU4OVoiLCJwdXIiOiJjb29raWUuc2Vzc2lvbl9pZCJ9fQ%3D%3D--af72c32a36955f84848d3fca09e6fd1cbeabd406"
)

// docVectorCMarshal is vector c's plaintext, as §9.4 gives it.
var docVectorCMarshal = []byte("\x04\b{\bI\"\x0Fsession_id\x06:\x06ETI\"%0f1e2d3c4b5a69788796a5b4c3d2e1f0\x06;\x00TI\"\x19warden.user.user.key\x06;\x00T[\a[\x06i/I\"\"$2a$12$KkZb1lQ9u8v7w6x5y4z3A.\x06;\x00TI\"\x10_csrf_token\x06;\x00TI\"1mQ3yq1pQv5m0Zr0y7p0b3G6m7w8x9y0z1A2B3C4D5E6=\x06;\x00T")

func docDecoder(t testing.TB, name string, marshal func([]byte) ([]byte, error)) *Decoder {
	return mustNew(t, Options{Secrets: []string{docSecret}, CookieName: name, Marshal: marshal})
}

func TestDocVectors(t *testing.T) {
	var gotMarshal []byte
	hook := func(b []byte) ([]byte, error) {
		gotMarshal = append([]byte(nil), b...)
		return testMarshal(b)
	}
	d := docDecoder(t, "_myapp_session", hook)
	for _, c := range []struct {
		name, value, format, kdf, want string
		envelope                       bool
	}{
		{"a", docVectorA, "aes-256-gcm", "sha1", docSession, true},
		{"b", docVectorB, "aes-256-gcm", "sha256", docSession, true},
		{"c", docVectorC, "aes-256-cbc+hmac", "sha1", docSession, false},
		{"d", docVectorD, "aes-256-gcm", "sha1", docSession, false},
		{"e", docVectorE, "aes-256-gcm", "sha1", `{"session_id":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","warden.user.user.key":[[42],"$2a$12$KkZb1lQ9u8v7w6x5y4z3A."]}`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, info, err := d.DecodeInfo(c.value)
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, got, c.want)
			if info.Format != c.format || info.KDFDigest != c.kdf || info.Envelope != c.envelope || info.SecretIndex != 0 {
				t.Errorf("info %+v", info)
			}
		})
	}
	if !bytes.Equal(gotMarshal, docVectorCMarshal) {
		t.Errorf("Marshal hook got %q, want §9.4's 199 bytes", gotMarshal)
	}

	// f is the Rails 8 authentication generator's session_id cookie.
	got, info, err := docDecoder(t, "session_id", nil).DecodeInfo(docVectorF)
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, got, "123")
	wantExp := time.Date(2046, 11, 25, 17, 41, 36, 589e6, time.UTC)
	if info.Format != "signed" || info.KDFDigest != "sha256" || info.MACDigest != "sha1" || info.Purpose != "cookie.session_id" || !info.Expires.Equal(wantExp) {
		t.Errorf("info %+v", info)
	}
}

// TestKDFDigests: vector a opens only with the SHA1-derived key and b only
// with the SHA256 one; a Decoder tries both for every secret.
func TestKDFDigests(t *testing.T) {
	d := docDecoder(t, "_myapp_session", nil)
	if len(d.keys) != 2 || d.keys[0].kdf != "sha256" || d.keys[1].kdf != "sha1" {
		t.Fatalf("key order %v %v, want sha256 then sha1", d.keys[0].kdf, d.keys[1].kdf)
	}
	only := func(i int) *Decoder {
		c := *d
		c.keys = d.keys[i : i+1]
		return &c
	}
	for _, c := range []struct {
		value string
		opens int // index of the only key that opens it
	}{{docVectorA, 1}, {docVectorB, 0}} {
		if _, err := only(c.opens).Decode(c.value); err != nil {
			t.Errorf("key %s: %v", d.keys[c.opens].kdf, err)
		}
		if _, err := only(1 - c.opens).Decode(c.value); !errors.Is(err, ErrBadSignature) {
			t.Errorf("key %s: %v, want ErrBadSignature", d.keys[1-c.opens].kdf, err)
		}
	}
}

func TestRotation(t *testing.T) {
	old, current := docSecret, strings.Repeat("9f8e7d6c5b4a3921", 8)
	for _, c := range []struct {
		secrets   []string
		wantIndex int
	}{
		{[]string{current, old}, 1},
		{[]string{current, "another-old-secret", old}, 2},
		{[]string{old, current}, 0},
	} {
		d := mustNew(t, Options{Secrets: c.secrets, CookieName: "_myapp_session"})
		for _, v := range []string{docVectorA, docVectorB, docVectorD} {
			got, info, err := d.DecodeInfo(v)
			if err != nil {
				t.Fatalf("%d secrets: %v", len(c.secrets), err)
			}
			assertJSON(t, got, docSession)
			if info.SecretIndex != c.wantIndex {
				t.Errorf("secret index %d, want %d", info.SecretIndex, c.wantIndex)
			}
		}
	}
	// A cookie made with the current secret opens first, with index 0.
	w := newWriter(current, "sha256")
	d := mustNew(t, Options{Secrets: []string{current, old}, CookieName: "_x"})
	_, info, err := d.DecodeInfo(w.gcm([]byte(`{"a":1}`)))
	if err != nil || info.SecretIndex != 0 || info.KDFDigest != "sha256" {
		t.Fatalf("%v %+v", err, info)
	}
	// Without the old secret, the old cookies are rejected.
	d = mustNew(t, Options{Secrets: []string{current}, CookieName: "_myapp_session", Marshal: testMarshal})
	for _, v := range []string{docVectorA, docVectorB, docVectorC, docVectorD, docVectorE} {
		if _, err := d.Decode(v); !errors.Is(err, ErrBadSignature) {
			t.Errorf("wrong key: %v, want ErrBadSignature", err)
		}
	}
	if _, err := mustNew(t, Options{Secrets: []string{current}, CookieName: "session_id"}).Decode(docVectorF); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong key, signed: %v, want ErrBadSignature", err)
	}
}

func TestSalts(t *testing.T) {
	w := newWriter(docSecret, "sha1")
	w.salts = Options{
		SignedCookieSalt: "s1", EncryptedCookieSalt: "s2",
		EncryptedSignedCookieSalt: "s3", AuthenticatedEncryptedCookieSalt: "s4",
	}
	o := w.salts
	o.Secrets, o.CookieName = []string{docSecret}, "_x"
	custom := mustNew(t, o)
	defaults := mustNew(t, Options{Secrets: []string{docSecret}, CookieName: "_x"})
	for name, v := range map[string]string{
		"gcm": w.gcm([]byte(`{"a":1}`)), "cbc": w.cbc([]byte(`{"a":1}`)), "signed": w.signed([]byte(`{"a":1}`)),
	} {
		if got, err := custom.Decode(v); err != nil {
			t.Errorf("%s, custom salts: %v", name, err)
		} else {
			assertJSON(t, got, `{"a":1}`)
		}
		if _, err := defaults.Decode(v); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s, default salts: %v, want ErrBadSignature", name, err)
		}
	}
	// Right signing salt, wrong encryption salt: the HMAC verifies, the
	// CBC padding does not.
	o.EncryptedCookieSalt = "wrong"
	v := w.cbc([]byte(`{"a":1}`))
	_, err := mustNew(t, o).Decode(v)
	if !errors.Is(err, ErrBadSignature) || !strings.Contains(err.Error(), "encrypted_cookie_salt") {
		t.Errorf("wrong encrypted_cookie_salt: %v", err)
	}
}

func TestEnvelope(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	w := newWriter(docSecret, "sha256")
	d := mustNew(t, Options{Secrets: []string{docSecret}, CookieName: "_app_session", Now: func() time.Time { return now }})
	session := []byte(`{"user_id":5}`)
	for _, c := range []struct {
		name      string
		plaintext []byte
		want      error
	}{
		{"no envelope", session, nil},
		{"own purpose", envelope(session, "null", `"cookie._app_session"`), nil},
		{"null purpose", envelope(session, "null", "null"), nil},
		{"empty purpose", envelope(session, "null", `""`), nil},
		{"no exp, no pur members", []byte(`{"_rails":{"message":"eyJ1c2VyX2lkIjo1fQ=="}}`), nil},
		{"another cookie's purpose", envelope(session, "null", `"cookie.remember_user_token"`), ErrWrongPurpose},
		{"purpose of a signed id", envelope(session, "null", `"login"`), ErrWrongPurpose},
		{"non-string purpose", envelope(session, "null", `7`), ErrWrongPurpose},
		{"exp in the future", envelope(session, `"2030-01-01T00:00:00.001Z"`, `"cookie._app_session"`), nil},
		{"exp now", envelope(session, `"2030-01-01T00:00:00.000Z"`, `"cookie._app_session"`), ErrExpired},
		{"exp past", envelope(session, `"2029-12-31T23:59:59.999Z"`, "null"), ErrExpired},
		{"exp past, wrong purpose: exp checked first", envelope(session, `"2020-01-01T00:00:00.000Z"`, `"cookie.other"`), ErrExpired},
		{"exp with offset", envelope(session, `"2030-01-01T00:30:00+01:00"`, "null"), ErrExpired},
		{"exp not a time", envelope(session, `"tomorrow"`, "null"), ErrMalformed},
		{"exp a number", envelope(session, `1893456000`, "null"), ErrMalformed},
		{"message not base64", []byte(`{"_rails":{"message":"%%%","exp":null,"pur":null}}`), ErrMalformed},
		{"no message", []byte(`{"_rails":{"exp":null,"pur":null}}`), ErrMalformed},
		{"_rails not an object", []byte(`{"_rails":"x"}`), ErrMalformed},
		{"truncated envelope", envelope(session, "null", "null")[:40], ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			for format, v := range map[string]string{"gcm": w.gcm(c.plaintext), "cbc": w.cbc(c.plaintext), "signed": w.signed(c.plaintext)} {
				got, err := d.Decode(v)
				if c.want == nil {
					if err != nil {
						t.Fatalf("%s: %v", format, err)
					}
					assertJSON(t, got, string(session))
				} else if !errors.Is(err, c.want) {
					t.Fatalf("%s: %v, want %v", format, err, c.want)
				}
			}
		})
	}
}

// TestRejections: tampered, truncated, oversized and garbage values are
// rejected with the right reason and never panic.
func TestRejections(t *testing.T) {
	d := docDecoder(t, "_myapp_session", testMarshal)
	for _, c := range []struct {
		name, value string
		want        error
	}{
		{"empty", "", ErrMalformed},
		{"plain session id", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", ErrUnknownFormat},
		{"four parts", "YQ==--YQ==--YQ==--YQ==", ErrUnknownFormat},
		{"bad percent-encoding", "abc%zz--def", ErrMalformed},
		{"oversized", strings.Repeat("A", MaxCookieSize+1), ErrTooLarge},
		{"GCM: empty ciphertext", "--" + base64.StdEncoding.EncodeToString(make([]byte, 12)) + "--" + base64.StdEncoding.EncodeToString(make([]byte, 16)), ErrBadSignature},
		{"GCM: short IV", "YWJj--YWJj--" + base64.StdEncoding.EncodeToString(make([]byte, 16)), ErrMalformed},
		{"GCM: short tag", "YWJj--" + base64.StdEncoding.EncodeToString(make([]byte, 12)) + "--YWJj", ErrMalformed},
		{"GCM: bad base64", "YW!j--" + base64.StdEncoding.EncodeToString(make([]byte, 12)) + "--" + base64.StdEncoding.EncodeToString(make([]byte, 16)), ErrMalformed},
		{"GCM: wrong key", "YWJj--" + base64.StdEncoding.EncodeToString(make([]byte, 12)) + "--" + base64.StdEncoding.EncodeToString(make([]byte, 16)), ErrBadSignature},
		{"HMAC: not hex", "YWJj--" + strings.Repeat("z", 40), ErrMalformed},
		{"HMAC: uppercase hex", "YWJj--" + strings.Repeat("A", 40), ErrMalformed},
		{"HMAC: odd length", "YWJj--" + strings.Repeat("a", 39), ErrMalformed},
		{"HMAC: empty data", "--" + strings.Repeat("a", 40), ErrMalformed},
		{"HMAC: wrong", "YWJj--" + strings.Repeat("a", 40), ErrBadSignature},
		{"HMAC-SHA256 length, wrong", "YWJj--" + strings.Repeat("a", 64), ErrBadSignature},
		{"GCM: tag of 24 characters without padding (fuzz crasher)", "00000000--0000000000000000--000000000000000000000000", ErrMalformed},
		{"newline in base64", url.QueryEscape("YWJj\n--" + base64.StdEncoding.EncodeToString(make([]byte, 12)) + "--" + base64.StdEncoding.EncodeToString(make([]byte, 16))), ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := d.Decode(c.value)
			if !errors.Is(err, c.want) {
				t.Fatalf("%v, want %v", err, c.want)
			}
			if Reason(err) == "" {
				t.Errorf("no reason code for %v", err)
			}
		})
	}

	// Every truncation of every format, and one flipped bit in every byte
	// of the unescaped value: rejected, never a panic, never accepted.
	for _, v := range []string{docVectorA, docVectorB, docVectorC, docVectorD} {
		for n := 0; n < len(v); n++ {
			if _, err := d.Decode(v[:n]); err == nil {
				t.Fatalf("truncated to %d: accepted", n)
			}
		}
		raw, _ := url.QueryUnescape(v)
		for i := 0; i < len(raw); i++ {
			b := []byte(raw)
			b[i] ^= 0x01
			_, err := d.Decode(url.QueryEscape(string(b)))
			switch {
			case err == nil:
				t.Fatalf("bit flipped at %d: accepted", i)
			case !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownFormat):
				t.Fatalf("bit flipped at %d: %v", i, err)
			}
		}
	}
	// The recorded tampered vector flips a tag bit: bad signature.
	raw, _ := url.QueryUnescape(docVectorA)
	parts := strings.Split(raw, "--")
	tag, _ := base64.StdEncoding.DecodeString(parts[2])
	tag[5] ^= 1
	parts[2] = base64.StdEncoding.EncodeToString(tag)
	if _, err := d.Decode(url.QueryEscape(strings.Join(parts, "--"))); !errors.Is(err, ErrBadSignature) || Reason(err) != "bad_signature" {
		t.Fatalf("flipped tag bit: %v", err)
	}
}

func TestSerializers(t *testing.T) {
	w := newWriter(docSecret, "sha1")
	d := docDecoder(t, "_x", testMarshal)
	noMarshal := docDecoder(t, "_x", nil)
	failing := docDecoder(t, "_x", func([]byte) ([]byte, error) { return nil, errors.New("boom") })
	for _, c := range []struct {
		name      string
		plaintext []byte
		want      string
		err       error
	}{
		{"json object", []byte(`{"a":[1,2.5,"x"]}`), `{"a":[1,2.5,"x"]}`, nil},
		{"json number", []byte(`123`), `123`, nil},
		{"json string", []byte(`"abc"`), `"abc"`, nil},
		{"json with leading space (Rails' :json reader parses it anyway)", []byte(` {"a":1}`), `{"a":1}`, nil},
		{"broken json", []byte(`{"a":`), "", ErrMalformed},
		{"garbage", []byte("\x01\x02garbage"), "", ErrUnknownFormat},
		{"empty", []byte(""), "", ErrUnknownFormat},
		{"marshal", docVectorCMarshal, docSession, nil},
		{"marshal in an envelope", envelope(docVectorCMarshal, "null", `"cookie._x"`), docSession, nil},
		{"message_pack", []byte("\xcc\x80\x81\xa7user_id\x2a"), `{"user_id":42}`, nil},
		{"message_pack in an envelope", envelope([]byte("\xcc\x80\x81\xa7user_id\x2a"), "null", `"cookie._x"`), `{"user_id":42}`, nil},
		{"broken message_pack", []byte("\xcc\x80\x81\xa7user_id"), "", ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := d.Decode(w.gcm(c.plaintext))
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("%v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, got, c.want)
		})
	}
	if _, err := noMarshal.Decode(w.gcm(docVectorCMarshal)); !errors.Is(err, ErrNoMarshal) || Reason(err) != "no_marshal" {
		t.Errorf("no hook: %v", err)
	}
	if _, err := failing.Decode(w.gcm(docVectorCMarshal)); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("failing hook: %v", err)
	}
	bad := docDecoder(t, "_x", func([]byte) ([]byte, error) { return []byte("{"), nil })
	if _, err := bad.Decode(w.gcm(docVectorCMarshal)); !errors.Is(err, ErrMalformed) {
		t.Error("a hook returning invalid JSON was trusted")
	}
}

func TestNewValidation(t *testing.T) {
	for _, o := range []Options{
		{CookieName: "_x"},
		{Secrets: []string{"s"}},
		{Secrets: []string{"s", ""}, CookieName: "_x"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
	// A repeated secret is derived once.
	d := mustNew(t, Options{Secrets: []string{"a", "b", "a"}, CookieName: "_x"})
	if len(d.keys) != 4 {
		t.Errorf("%d key sets, want 4", len(d.keys))
	}
}

// TestErrorsLeakNothing: no error message contains the secret or the
// cookie value (or a large piece of it).
func TestErrorsLeakNothing(t *testing.T) {
	d := docDecoder(t, "_other_session", nil)
	for _, v := range []string{docVectorA, docVectorB, docVectorC, docVectorF, docVectorA[:100], docVectorC + "0"} {
		_, err := d.Decode(v)
		if err == nil {
			t.Fatalf("accepted")
		}
		msg := err.Error()
		raw, _ := url.QueryUnescape(v)
		for _, s := range []string{docSecret, v[:16], raw[:16], raw[len(raw)-16:]} {
			if strings.Contains(msg, s) {
				t.Errorf("error %q contains %q", msg, s)
			}
		}
	}
}

func TestReason(t *testing.T) {
	for err, want := range map[error]string{
		nil: "", ErrBadSignature: "bad_signature", ErrWrongPurpose: "wrong_purpose", ErrExpired: "expired",
		ErrUnknownFormat: "unknown_format", ErrTooLarge: "too_large", ErrMalformed: "malformed",
		ErrUnsupported: "unsupported", ErrNoMarshal: "no_marshal", errors.New("other"): "",
	} {
		if got := Reason(err); got != want {
			t.Errorf("Reason(%v) = %q, want %q", err, got, want)
		}
	}
	if !errors.Is(ErrTooLarge, ErrMalformed) {
		t.Error("ErrTooLarge does not match ErrMalformed")
	}
}

func TestRubyFloat(t *testing.T) {
	// Ruby 3.1.2's Float#to_s for each.
	for f, want := range map[float64]string{
		1e15: "1.0e+15", 1e16: "1.0e+16", 1234567890123456.0: "1.234567890123456e+15",
		9007199254740993.0: "9.007199254740992e+15", 0.0001: "0.0001", 0.00001: "1.0e-05",
		1.5e-5: "1.5e-05", 123.456: "123.456", 1e100: "1.0e+100", 2.0: "2.0", 1e-300: "1.0e-300",
		5e-324: "5.0e-324", 1.7976931348623157e308: "1.7976931348623157e+308", 0.30000000000000004: "0.30000000000000004",
		100.0: "100.0", 12345678901234567.0: "1.2345678901234568e+16", 1e14: "100000000000000.0",
		123456789012345.0: "123456789012345.0", 999999999999999.9: "999999999999999.9", 0.001: "0.001",
		0.0001234: "0.0001234", -2.5: "-2.5", 0: "0.0", -1e-7: "-1.0e-07",
	} {
		if got := rubyFloatString(f); got != want {
			t.Errorf("%v: %s, want %s", f, got, want)
		}
	}
	if got := rubyFloatString(negZero()); got != "-0.0" {
		t.Errorf("-0.0: %s", got)
	}
}

func negZero() float64 {
	z := 0.0
	return -z
}
