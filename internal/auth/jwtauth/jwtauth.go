package jwtauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/heraldrt/herald/internal/auth"
)

// Options configure an Authenticator. Exactly one of HMACSecret and
// PublicKeyPEM is set; zero values mean the defaults in comments.
type Options struct {
	// HMACSecret verifies HS256 tokens. At least 32 bytes (RFC 7518 §3.2:
	// a key as long as the hash output).
	HMACSecret []byte
	// PublicKeyPEM verifies RS256 (an RSA key of 2048 bits or more) or
	// ES256 (a P-256 key) tokens, by the key's type. PEM "PUBLIC KEY"
	// (PKIX), "RSA PUBLIC KEY" (PKCS #1) or "CERTIFICATE" (only its key is
	// used: its dates, issuer and chain are not checked).
	PublicKeyPEM []byte
	// Audience, when set, must be the token's aud (a string, or one of an
	// array of strings). When unset, tokens carrying an aud are refused
	// (RFC 7519 §4.1.3: a token for another audience is not for us).
	Audience string
	// Issuer, when set, must be the token's iss.
	Issuer string
	// UserClaim names the claim holding the user id: a non-empty string or
	// an integer, kept exactly as written. Default "sub".
	UserClaim string
	// Cookie and QueryParam name other places to find the token; auth.token
	// in the CONNECT payload comes first, then the cookie, then the query
	// parameter. Empty: not looked at.
	Cookie, QueryParam string
	// Leeway is the clock skew allowed for exp, nbf and iat. Default 30s;
	// negative is an error.
	Leeway time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// MaxTokenSize bounds the tokens looked at, in bytes.
const MaxTokenSize = 8 << 10

// Authenticator verifies JWTs. It is safe for concurrent use.
type Authenticator struct {
	o    Options
	alg  string // "HS256", "RS256" or "ES256": the only one accepted
	hmac []byte
	rsa  *rsa.PublicKey
	ec   *ecdsa.PublicKey
}

// New returns an Authenticator for o. It fails when there is no key, two
// keys, or a key unfit for its algorithm.
func New(o Options) (*Authenticator, error) {
	if o.UserClaim == "" {
		o.UserClaim = "sub"
	}
	if o.Leeway < 0 {
		return nil, errors.New("jwt: negative leeway")
	}
	if o.Leeway == 0 {
		o.Leeway = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	a := &Authenticator{o: o}
	switch {
	case len(o.HMACSecret) > 0 && len(o.PublicKeyPEM) > 0:
		return nil, errors.New("jwt: set either an HMAC secret or a public key, not both")
	case len(o.HMACSecret) > 0:
		if len(o.HMACSecret) < sha256.Size {
			return nil, fmt.Errorf("jwt: HMAC secret of %d bytes is too short for HS256 (at least %d)", len(o.HMACSecret), sha256.Size)
		}
		a.alg, a.hmac = "HS256", bytes.Clone(o.HMACSecret)
	case len(o.PublicKeyPEM) > 0:
		key, err := parsePublicKey(o.PublicKeyPEM)
		if err != nil {
			return nil, err
		}
		switch k := key.(type) {
		case *rsa.PublicKey:
			if n := k.N.BitLen(); n < 2048 {
				return nil, fmt.Errorf("jwt: RSA key of %d bits is too small for RS256 (at least 2048)", n)
			}
			a.alg, a.rsa = "RS256", k
		case *ecdsa.PublicKey:
			if k.Curve != elliptic.P256() {
				return nil, fmt.Errorf("jwt: ES256 needs a P-256 key, not %s", k.Curve.Params().Name)
			}
			a.alg, a.ec = "ES256", k
		case ed25519.PublicKey:
			return nil, errors.New("jwt: Ed25519 (EdDSA) keys are not supported; use RS256 or ES256")
		default:
			return nil, fmt.Errorf("jwt: unsupported public key type %T", key)
		}
	default:
		return nil, errors.New("jwt: no key: set an HMAC secret (HS256) or a public key (RS256, ES256)")
	}
	return a, nil
}

// parsePublicKey reads the first PEM block of b.
func parsePublicKey(b []byte) (any, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("jwt: the public key is not PEM")
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("jwt: public key: %w", err)
		}
		return k, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("jwt: RSA public key: %w", err)
		}
		return k, nil
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("jwt: certificate: %w", err)
		}
		return c.PublicKey, nil
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("jwt: the PEM block is a private key (%s); herald needs only the public key", block.Type)
	default:
		return nil, fmt.Errorf("jwt: unexpected PEM block %q; want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", block.Type)
	}
}

// Algorithm returns the one algorithm accepted: HS256, RS256 or ES256.
func (a *Authenticator) Algorithm() string { return a.alg }

// Authenticate implements auth.Authenticator. The identity's Session is the
// token's claims (the JSON payload as signed) and its SessionRef is empty:
// a token cannot be revoked, it is valid until its exp.
func (a *Authenticator) Authenticate(_ context.Context, h *auth.Handshake) (*auth.Identity, error) {
	token, from, ok := a.find(h)
	if !ok {
		return nil, auth.Unauthorized("jwt: no token (%s)", a.sources())
	}
	payload, err := a.Verify(token)
	if err != nil {
		return nil, auth.Unauthorized("jwt (%s): %v", from, err)
	}
	id, err := auth.SessionField(payload, a.o.UserClaim)
	if err != nil {
		return nil, auth.Unauthorized("jwt (%s): user claim: %v", from, err)
	}
	return &auth.Identity{UserID: id, Session: payload}, nil
}

// find returns the token and where it was found: the first source present
// is used, the others are not looked at.
func (a *Authenticator) find(h *auth.Handshake) (token, from string, ok bool) {
	if t, ok := h.AuthString("token"); ok {
		return t, "auth.token", true
	}
	if a.o.Cookie != "" {
		if t, ok := h.Cookie(a.o.Cookie); ok && t != "" {
			return t, "cookie " + a.o.Cookie, true
		}
	}
	if a.o.QueryParam != "" {
		if t := h.Query.Get(a.o.QueryParam); t != "" {
			return t, "query " + a.o.QueryParam, true
		}
	}
	return "", "", false
}

func (a *Authenticator) sources() string {
	s := "no auth.token"
	if a.o.Cookie != "" {
		s += ", no " + a.o.Cookie + " cookie"
	}
	if a.o.QueryParam != "" {
		s += ", no " + a.o.QueryParam + " query parameter"
	}
	return s
}

// b64 is base64url without padding, refusing non-zero trailing bits.
var b64 = base64.RawURLEncoding.Strict()

// Verify checks a compact JWS token: its form, header, signature and
// registered claims. It returns the payload (the claims JSON) when the
// token is valid now. Errors say why not, without quoting the token.
func (a *Authenticator) Verify(token string) ([]byte, error) {
	if len(token) > MaxTokenSize {
		return nil, fmt.Errorf("token of %d bytes exceeds the %d-byte limit", len(token), MaxTokenSize)
	}
	if strings.HasPrefix(token, "Bearer ") {
		return nil, errors.New(`malformed: "Bearer " prefix; send the bare token`)
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return nil, errors.New("malformed: a character outside base64url and '.'")
		}
	}
	switch n := strings.Count(token, ".") + 1; {
	case n == 5:
		return nil, errors.New("malformed: an encrypted token (JWE, 5 segments) is not supported")
	case n != 3:
		return nil, fmt.Errorf("malformed: %d segments, want 3 (header.payload.signature)", n)
	}
	dot1 := strings.IndexByte(token, '.')
	dot2 := strings.LastIndexByte(token, '.')
	hdr64, pay64, sig64 := token[:dot1], token[dot1+1:dot2], token[dot2+1:]

	hdrJSON, err := b64.DecodeString(hdr64)
	if err != nil {
		return nil, errors.New("malformed: header is not base64url")
	}
	hdr, err := object(hdrJSON)
	if err != nil {
		return nil, fmt.Errorf("malformed: header: %v", err)
	}
	var alg string
	if json.Unmarshal(hdr["alg"], &alg) != nil {
		return nil, errors.New("malformed: header has no alg string")
	}
	if strings.EqualFold(alg, "none") {
		return nil, errors.New("unsigned token (alg none) refused")
	}
	if alg != a.alg {
		return nil, fmt.Errorf("algorithm %s refused: the configured key verifies %s only", clip(alg), a.alg)
	}
	if _, ok := hdr["crit"]; ok {
		return nil, errors.New("header has crit extensions, none of which are supported")
	}

	sig, err := b64.DecodeString(sig64)
	if err != nil {
		return nil, errors.New("malformed: signature is not base64url")
	}
	if err := a.verifySignature(token[:dot2], sig); err != nil {
		return nil, err
	}

	payload, err := b64.DecodeString(pay64)
	if err != nil {
		return nil, errors.New("malformed: payload is not base64url")
	}
	claims, err := object(payload)
	if err != nil {
		return nil, fmt.Errorf("malformed: claims: %v", err)
	}
	if err := a.checkClaims(claims); err != nil {
		return nil, err
	}
	return payload, nil
}

func (a *Authenticator) verifySignature(input string, sig []byte) error {
	switch a.alg {
	case "HS256":
		m := hmac.New(sha256.New, a.hmac)
		io.WriteString(m, input)
		if !hmac.Equal(m.Sum(nil), sig) {
			return errors.New("bad signature (HS256)")
		}
	case "RS256":
		d := sha256.Sum256([]byte(input))
		if rsa.VerifyPKCS1v15(a.rsa, crypto.SHA256, d[:], sig) != nil {
			return errors.New("bad signature (RS256)")
		}
	case "ES256":
		if len(sig) != 64 {
			return fmt.Errorf("bad signature (ES256): %d bytes, want 64 (JWS r||s, not DER)", len(sig))
		}
		d := sha256.Sum256([]byte(input))
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(a.ec, d[:], r, s) {
			return errors.New("bad signature (ES256)")
		}
	default:
		return errors.New("no algorithm") // unreachable: New sets one
	}
	return nil
}

func (a *Authenticator) checkClaims(c map[string]json.RawMessage) error {
	now := a.o.Now()
	leeway := a.o.Leeway.Seconds()
	t := float64(now.UnixNano()) / 1e9

	raw, ok := c["exp"]
	if !ok {
		return errors.New("no exp claim: tokens without an expiry are refused")
	}
	exp, err := numericDate(raw)
	if err != nil {
		return fmt.Errorf("exp: %v", err)
	}
	if t >= exp+leeway {
		return fmt.Errorf("expired at %s (now %s, leeway %s)", date(exp), now.UTC().Format(time.RFC3339), a.o.Leeway)
	}
	if raw, ok := c["nbf"]; ok {
		nbf, err := numericDate(raw)
		if err != nil {
			return fmt.Errorf("nbf: %v", err)
		}
		if t+leeway < nbf {
			return fmt.Errorf("not valid before %s (now %s, leeway %s)", date(nbf), now.UTC().Format(time.RFC3339), a.o.Leeway)
		}
	}
	if raw, ok := c["iat"]; ok {
		iat, err := numericDate(raw)
		if err != nil {
			return fmt.Errorf("iat: %v", err)
		}
		if iat > t+leeway {
			return fmt.Errorf("issued in the future, at %s (now %s, leeway %s)", date(iat), now.UTC().Format(time.RFC3339), a.o.Leeway)
		}
	}

	if raw, ok := c["aud"]; a.o.Audience != "" || ok {
		if err := checkAudience(raw, ok, a.o.Audience); err != nil {
			return err
		}
	}
	if a.o.Issuer != "" {
		raw, ok := c["iss"]
		if !ok {
			return fmt.Errorf("no iss claim, want %s", clip(a.o.Issuer))
		}
		var iss string
		if json.Unmarshal(raw, &iss) != nil {
			return errors.New("iss is not a string")
		}
		if iss != a.o.Issuer {
			return fmt.Errorf("wrong issuer %s, want %s", clip(iss), clip(a.o.Issuer))
		}
	}
	return nil
}

func checkAudience(raw json.RawMessage, present bool, want string) error {
	if !present {
		return fmt.Errorf("no aud claim, want %s", clip(want))
	}
	var auds []string
	var one string
	switch {
	case len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &one) == nil:
		auds = []string{one}
	case len(raw) > 0 && raw[0] == '[' && json.Unmarshal(raw, &auds) == nil:
	default:
		return errors.New("aud is neither a string nor an array of strings")
	}
	if want == "" {
		return fmt.Errorf("token is for audience %s but no audience is configured", clip(strings.Join(auds, ",")))
	}
	for _, a := range auds {
		if a == want {
			return nil
		}
	}
	return fmt.Errorf("wrong audience %s, want %s", clip(strings.Join(auds, ",")), clip(want))
}

// maxDate bounds NumericDate values: the year 5138 is far enough.
const maxDate = 1e11

// numericDate reads an RFC 7519 NumericDate: a JSON number of seconds since
// the epoch, possibly with a fraction. Quoted numbers are refused.
func numericDate(raw json.RawMessage) (float64, error) {
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return 0, errors.New("not a number")
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, errors.New("not a number")
	}
	v, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.Abs(v) > maxDate {
		return 0, errors.New("out of range")
	}
	return v, nil
}

func date(v float64) string {
	return time.Unix(int64(v), 0).UTC().Format(time.RFC3339)
}

// clip quotes an untrusted string for an error message, shortened.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strconv.Quote(s)
}

// object parses a JSON object's members, refusing duplicate names (which
// parsers resolve differently) and anything after the object.
func object(b []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	m := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("not a JSON object")
		}
		k, ok := tok.(string)
		if !ok {
			return nil, errors.New("not a JSON object")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("not a JSON object")
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("duplicate member %s", clip(k))
		}
		m[k] = v
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errors.New("not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return m, nil
}
