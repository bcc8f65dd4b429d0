package railscookie

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"testing"

	"github.com/heraldrt/herald/internal/rubymarshal/jsoneq"
)

// writer makes cookies the way Rails' cookie jar does (fixed IVs), for
// tests that need payloads no recorded vector has: other purposes,
// MessagePack, hostile plaintexts. Real Rails output is covered by
// TestRailsVectors and TestDifferentialRails.
type writer struct {
	secret string
	kdf    string // "sha1" or "sha256"
	salts  Options
}

func newWriter(secret, kdf string) writer {
	return writer{secret: secret, kdf: kdf}
}

func (w writer) key(salt, def string, n int) []byte {
	if salt == "" {
		salt = def
	}
	var k []byte
	var err error
	if w.kdf == "sha256" {
		k, err = pbkdf2.Key(sha256.New, w.secret, []byte(salt), 1000, n)
	} else {
		k, err = pbkdf2.Key(sha1.New, w.secret, []byte(salt), 1000, n)
	}
	if err != nil {
		panic(err)
	}
	return k
}

// gcm seals plaintext as format C, with a fixed IV (tests only).
func (w writer) gcm(plaintext []byte) string {
	block, _ := aes.NewCipher(w.key(w.salts.AuthenticatedEncryptedCookieSalt, DefaultAuthenticatedEncryptedCookieSalt, 32))
	g, _ := cipher.NewGCM(block)
	iv := bytes.Repeat([]byte{7}, 12)
	sealed := g.Seal(nil, iv, plaintext, nil)
	ct, tag := sealed[:len(sealed)-16], sealed[len(sealed)-16:]
	e := base64.StdEncoding.EncodeToString
	return url.QueryEscape(e(ct) + "--" + e(iv) + "--" + e(tag))
}

// cbc encrypts plaintext as format B (HMAC-SHA1).
func (w writer) cbc(plaintext []byte) string {
	block, _ := aes.NewCipher(w.key(w.salts.EncryptedCookieSalt, DefaultEncryptedCookieSalt, 32))
	iv := bytes.Repeat([]byte{9}, 16)
	pad := 16 - len(plaintext)%16
	buf := append(append([]byte(nil), plaintext...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
	e := base64.StdEncoding.EncodeToString
	data := e([]byte(e(buf) + "--" + e(iv)))
	mac := hmac.New(sha1.New, w.key(w.salts.EncryptedSignedCookieSalt, DefaultEncryptedSignedCookieSalt, 64))
	mac.Write([]byte(data))
	return url.QueryEscape(data + "--" + hex.EncodeToString(mac.Sum(nil)))
}

// signed signs payload as format A (HMAC-SHA1).
func (w writer) signed(payload []byte) string {
	data := base64.StdEncoding.EncodeToString(payload)
	mac := hmac.New(sha1.New, w.key(w.salts.SignedCookieSalt, DefaultSignedCookieSalt, 64))
	mac.Write([]byte(data))
	return url.QueryEscape(data + "--" + hex.EncodeToString(mac.Sum(nil)))
}

// envelope wraps a serialized value in the legacy `_rails` envelope; exp
// and pur are JSON ("null", `"cookie._x"`).
func envelope(serialized []byte, exp, pur string) []byte {
	return fmt.Appendf(nil, `{"_rails":{"message":"%s","exp":%s,"pur":%s}}`,
		base64.StdEncoding.EncodeToString(serialized), exp, pur)
}

func mustNew(t testing.TB, o Options) *Decoder {
	t.Helper()
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// jsonEqual compares two session JSON texts (see package jsoneq).
func jsonEqual(a, b []byte) (bool, error) { return jsoneq.Equal(a, b) }

func assertJSON(t testing.TB, got []byte, want string) {
	t.Helper()
	ok, err := jsonEqual(got, []byte(want))
	if err != nil {
		t.Fatalf("comparing %s with %s: %v", got, want, err)
	}
	if !ok {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
