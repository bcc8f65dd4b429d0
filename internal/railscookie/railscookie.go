package railscookie

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"strings"
	"time"
)

// MaxCookieSize is the longest cookie value Decode looks at, in bytes, as
// it appears in the Cookie header. Browsers keep at most about 4 KiB per
// cookie; anything longer is rejected before any work is done.
const MaxCookieSize = 8 << 10

// Rails' default salts (actionpack lib/action_dispatch/railtie.rb).
const (
	DefaultSignedCookieSalt                 = "signed cookie"
	DefaultEncryptedCookieSalt              = "encrypted cookie"
	DefaultEncryptedSignedCookieSalt        = "signed encrypted cookie"
	DefaultAuthenticatedEncryptedCookieSalt = "authenticated encrypted cookie"
)

// kdfIterations is Rails.application.key_generator's PBKDF2 iteration
// count, the same from Rails 4.2 through 8.x.
const kdfIterations = 1000

// Options configures a Decoder. Only Secrets and CookieName are required.
type Options struct {
	// Secrets are secret_key_base values: the current one first, then older
	// ones still accepted (rotation). Each is used as its ASCII text, not
	// hex-decoded, and each is tried with both PBKDF2 digests (SHA256, the
	// Rails 7.0+ default, then SHA1).
	Secrets []string

	// CookieName is the session cookie's name, e.g. "_myapp_session". A
	// `_rails` envelope must carry the purpose "cookie.<CookieName>" or
	// none.
	CookieName string

	// The salts; each defaults to Rails' default when empty.
	SignedCookieSalt                 string
	EncryptedCookieSalt              string
	EncryptedSignedCookieSalt        string
	AuthenticatedEncryptedCookieSalt string

	// Marshal decodes a Ruby Marshal 4.8 stream into the JSON mapping of
	// testdata/rails/README.md §1. When nil, Marshal-serialized sessions
	// are rejected with ErrNoMarshal. It is only ever given authenticated
	// bytes.
	Marshal func(data []byte) (json []byte, err error)

	// Now is the clock for envelope expiry; time.Now when nil.
	Now func() time.Time
}

// keySet is everything derived from one (secret, KDF digest) pair.
type keySet struct {
	secret  int    // index into Options.Secrets
	kdf     string // "sha256" or "sha1"
	gcm     cipher.AEAD
	cbc     cipher.Block // AES-256, key K(encrypted_cookie_salt, 32)
	cbcMAC  []byte       // K(encrypted_signed_cookie_salt, 64)
	signMAC []byte       // K(signed_cookie_salt, 64)
}

// Decoder verifies, decrypts and decodes Rails session cookies. Keys are
// derived once, in New. A Decoder is safe for concurrent use.
type Decoder struct {
	keys    []keySet
	purpose string
	marshal func([]byte) ([]byte, error)
	now     func() time.Time
}

// Info describes how a cookie was decoded. It holds nothing secret.
type Info struct {
	Format      string    // "aes-256-gcm", "aes-256-cbc+hmac" or "signed"
	SecretIndex int       // which of Options.Secrets verified it; 0 is the current one
	KDFDigest   string    // "sha256" or "sha1"
	MACDigest   string    // HMAC digest of the cbc and signed formats: "sha1", "sha256", "sha384" or "sha512"
	Envelope    bool      // a `_rails` metadata envelope was present
	Purpose     string    // the envelope's purpose, "" when none
	Expires     time.Time // the envelope's exp, zero when none
	Serializer  string    // "json", "marshal" or "message_pack"
}

// New derives every key the Decoder needs: for each secret and each KDF
// digest, the GCM key, the CBC encryption and signing keys and the signed
// cookie key (8 PBKDF2 runs per secret).
func New(o Options) (*Decoder, error) {
	if len(o.Secrets) == 0 {
		return nil, errors.New("railscookie: no secret_key_base given")
	}
	if o.CookieName == "" {
		return nil, errors.New("railscookie: no cookie name given")
	}
	salts := [4]*string{&o.SignedCookieSalt, &o.EncryptedCookieSalt, &o.EncryptedSignedCookieSalt, &o.AuthenticatedEncryptedCookieSalt}
	defaults := [4]string{DefaultSignedCookieSalt, DefaultEncryptedCookieSalt, DefaultEncryptedSignedCookieSalt, DefaultAuthenticatedEncryptedCookieSalt}
	for i, s := range salts {
		if *s == "" {
			*s = defaults[i]
		}
	}
	d := &Decoder{purpose: "cookie." + o.CookieName, marshal: o.Marshal, now: o.Now}
	if d.now == nil {
		d.now = time.Now
	}
	seen := make(map[string]bool, len(o.Secrets))
	for i, secret := range o.Secrets {
		if secret == "" {
			return nil, fmt.Errorf("railscookie: secret #%d is empty", i)
		}
		if seen[secret] {
			continue
		}
		seen[secret] = true
		for _, kdf := range []string{"sha256", "sha1"} {
			k, err := deriveKeys(secret, kdf, o)
			if err != nil {
				return nil, fmt.Errorf("railscookie: deriving keys for secret #%d (%s): %w", i, kdf, err)
			}
			k.secret = i
			d.keys = append(d.keys, k)
		}
	}
	return d, nil
}

func deriveKeys(secret, kdf string, o Options) (keySet, error) {
	k := keySet{kdf: kdf}
	derive := func(salt string, n int) ([]byte, error) {
		if kdf == "sha256" {
			return pbkdf2.Key(sha256.New, secret, []byte(salt), kdfIterations, n)
		}
		return pbkdf2.Key(sha1.New, secret, []byte(salt), kdfIterations, n)
	}
	gcmKey, err := derive(o.AuthenticatedEncryptedCookieSalt, 32)
	if err != nil {
		return k, err
	}
	block, err := aes.NewCipher(gcmKey)
	if err != nil {
		return k, err
	}
	if k.gcm, err = cipher.NewGCM(block); err != nil {
		return k, err
	}
	cbcKey, err := derive(o.EncryptedCookieSalt, 32)
	if err != nil {
		return k, err
	}
	if k.cbc, err = aes.NewCipher(cbcKey); err != nil {
		return k, err
	}
	if k.cbcMAC, err = derive(o.EncryptedSignedCookieSalt, 64); err != nil {
		return k, err
	}
	if k.signMAC, err = derive(o.SignedCookieSalt, 64); err != nil {
		return k, err
	}
	return k, nil
}

// Decode takes a session cookie's value exactly as it appears in the Cookie
// header (percent-encoded by Rack), verifies and decrypts it, unwraps the
// `_rails` envelope (checking its purpose and expiry) and returns the
// session as JSON, mapped as in testdata/rails/README.md §1. For JSON
// sessions that is the serialized text itself.
func (d *Decoder) Decode(cookieValue string) (session []byte, err error) {
	session, _, err = d.DecodeInfo(cookieValue)
	return session, err
}

// DecodeInfo is Decode, also reporting how the cookie was decoded. Info is
// filled in as far as decoding got.
func (d *Decoder) DecodeInfo(cookieValue string) (session []byte, info Info, err error) {
	if len(cookieValue) > MaxCookieSize {
		return nil, info, fmt.Errorf("%w (%d bytes)", ErrTooLarge, len(cookieValue))
	}
	s, err := url.QueryUnescape(cookieValue)
	if err != nil {
		return nil, info, malformed("invalid percent-encoding")
	}
	if s == "" {
		return nil, info, malformed("empty value")
	}
	var payload []byte
	parts := strings.SplitN(s, "--", 4)
	switch len(parts) {
	case 3:
		payload, err = d.openGCM(parts[0], parts[1], parts[2], &info)
	case 2:
		payload, err = d.openHMAC(parts[0], parts[1], &info)
	case 1:
		err = unknownFormat(`no "--" separator (a plain session id, as a server-side session store sets?)`)
	default:
		err = unknownFormat(`more than 3 parts separated by "--"`)
	}
	if err != nil {
		return nil, info, err
	}
	msg, err := d.unwrap(payload, &info)
	if err != nil {
		return nil, info, err
	}
	session, err = d.deserialize(msg, &info)
	if err != nil {
		return nil, info, err
	}
	return session, info, nil
}

// b64 is Ruby's Base64.strict_decode64: standard alphabet, padding
// required, unused bits zero. Go's decoder also skips CR and LF, which Ruby
// rejects; decode64 refuses them first.
var b64 = base64.StdEncoding.Strict()

func decode64(dst []byte, s string) (int, error) {
	if strings.ContainsAny(s, "\r\n") {
		return 0, errors.New("line break in base64")
	}
	return b64.Decode(dst, []byte(s))
}

func decode64Alloc(s string) ([]byte, error) {
	buf := make([]byte, b64.DecodedLen(len(s)))
	n, err := decode64(buf, s)
	return buf[:n], err
}

// openGCM opens format C: B64(ciphertext) "--" B64(12-byte IV) "--"
// B64(16-byte tag), no associated data.
func (d *Decoder) openGCM(ctText, ivText, tagText string, info *Info) ([]byte, error) {
	info.Format = "aes-256-gcm"
	// 12 bytes are 16 base64 characters and 16 bytes are 24.
	if len(ivText) != 16 {
		return nil, malformed("GCM: IV is %d base64 characters, want 16 (12 bytes)", len(ivText))
	}
	if len(tagText) != 24 {
		return nil, malformed("GCM: tag is %d base64 characters, want 24 (16 bytes)", len(tagText))
	}
	var iv [12]byte // DecodedLen(16)
	if n, err := decode64(iv[:], ivText); err != nil || n != 12 {
		return nil, malformed("GCM: bad base64 in IV")
	}
	sealed := make([]byte, b64.DecodedLen(len(ctText))+16)
	n, err := decode64(sealed, ctText)
	if err != nil {
		return nil, malformed("GCM: bad base64 in ciphertext")
	}
	var tag [18]byte // DecodedLen(24): without padding, 24 characters are 18 bytes
	if m, err := decode64(tag[:], tagText); err != nil || m != 16 {
		return nil, malformed("GCM: bad base64 in tag")
	}
	sealed = append(sealed[:n], tag[:16]...)
	plain := make([]byte, 0, n)
	for i := range d.keys {
		k := &d.keys[i]
		out, err := k.gcm.Open(plain[:0], iv[:], sealed, nil)
		if err == nil {
			info.SecretIndex, info.KDFDigest = k.secret, k.kdf
			return out, nil
		}
	}
	return nil, d.badSignature("GCM tag")
}

func (d *Decoder) badSignature(what string) error {
	return fmt.Errorf("%w: no configured key verifies the %s (tried %d secret(s) x 2 KDF digests)", ErrBadSignature, what, len(d.keys)/2)
}

// macDigests maps the length of a hex HMAC to its digest. Rails' default is
// SHA1 (signed_cookie_digest, cookies_digest); the others are configurable.
var macDigests = map[int]struct {
	name string
	new  func() hash.Hash
}{
	40:  {"sha1", sha1.New},
	64:  {"sha256", sha256.New},
	96:  {"sha384", sha512.New384},
	128: {"sha512", sha512.New},
}

// openHMAC handles the two "data--hexdigest" layouts: format B (the data is
// B64(B64(ct) "--" B64(iv)), encrypted with AES-256-CBC) and format A, a
// signed cookie (the data is B64(payload)). The HMAC key tells them apart:
// K(encrypted_signed_cookie_salt) signs B, K(signed_cookie_salt) signs A.
// Nothing in data is parsed before its HMAC checks out.
func (d *Decoder) openHMAC(data, digestHex string, info *Info) ([]byte, error) {
	info.Format = "aes-256-cbc+hmac"
	if data == "" {
		return nil, malformed("empty data before the HMAC")
	}
	md, ok := macDigests[len(digestHex)]
	if !ok {
		return nil, malformed("HMAC is %d characters, want 40 (SHA1), 64, 96 or 128 hex digits", len(digestHex))
	}
	for i := 0; i < len(digestHex); i++ {
		if c := digestHex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return nil, malformed("HMAC is not lowercase hex")
		}
	}
	want, _ := hex.DecodeString(digestHex)
	info.MACDigest = md.name
	var sum [sha512.Size]byte
	verify := func(key []byte) bool {
		mac := hmac.New(md.new, key)
		io.WriteString(mac, data)
		return hmac.Equal(mac.Sum(sum[:0]), want)
	}
	for i := range d.keys {
		k := &d.keys[i]
		if verify(k.cbcMAC) {
			info.SecretIndex, info.KDFDigest = k.secret, k.kdf
			return k.decryptCBC(data)
		}
		if verify(k.signMAC) {
			info.Format, info.SecretIndex, info.KDFDigest = "signed", k.secret, k.kdf
			p, err := decode64Alloc(data)
			if err != nil {
				return nil, malformed("signed: bad base64 in payload")
			}
			return p, nil
		}
	}
	return nil, d.badSignature("HMAC")
}

// decryptCBC decrypts format B's authenticated data.
func (k *keySet) decryptCBC(data string) ([]byte, error) {
	inner, err := decode64Alloc(data)
	if err != nil {
		return nil, malformed("CBC: bad base64 in data")
	}
	ctText, ivText, ok := strings.Cut(string(inner), "--")
	if !ok || strings.Contains(ivText, "--") {
		return nil, malformed(`CBC: data is not B64(ciphertext) "--" B64(iv)`)
	}
	iv, err := decode64Alloc(ivText)
	if err != nil || len(iv) != aes.BlockSize {
		return nil, malformed("CBC: IV is not 16 bytes of base64")
	}
	ct, err := decode64Alloc(ctText)
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, malformed("CBC: ciphertext is not whole AES blocks of base64")
	}
	cipher.NewCBCDecrypter(k.cbc, iv).CryptBlocks(ct, ct)
	// PKCS#7. The HMAC has already authenticated the ciphertext, so a bad
	// pad means the encryption key is wrong while the signing key is right:
	// encrypted_cookie_salt differs from the app's.
	pad := int(ct[len(ct)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, fmt.Errorf("%w: HMAC verified but CBC decryption failed (is encrypted_cookie_salt right?)", ErrBadSignature)
	}
	for _, b := range ct[len(ct)-pad:] {
		if int(b) != pad {
			return nil, fmt.Errorf("%w: HMAC verified but CBC decryption failed (is encrypted_cookie_salt right?)", ErrBadSignature)
		}
	}
	return ct[:len(ct)-pad], nil
}
