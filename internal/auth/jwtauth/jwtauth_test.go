package jwtauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/auth"
)

// now is the fixed clock of these tests.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var secret = []byte("0123456789abcdef0123456789abcdef-herald")

var keys = sync.OnceValue(func() (k struct {
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
}) {
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	return k
})

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkixPEM(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PUBLIC KEY", der)
}

func b64s(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jsonText(v any) []byte {
	if b, ok := v.(string); ok {
		return []byte(b)
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// sign returns the JWS signature of input under key: []byte for HS256,
// *rsa.PrivateKey for RS256, *ecdsa.PrivateKey for ES256 (r||s).
func sign(t testing.TB, key any, input string) []byte {
	t.Helper()
	switch k := key.(type) {
	case []byte:
		m := hmac.New(sha256.New, k)
		m.Write([]byte(input))
		return m.Sum(nil)
	case *rsa.PrivateKey:
		d := sha256.Sum256([]byte(input))
		sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	case *ecdsa.PrivateKey:
		d := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, k, d[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	}
	t.Fatalf("no signer for %T", key)
	return nil
}

// mint makes a token with header and claims (values to marshal, or JSON
// text as a string) signed under key.
func mint(t testing.TB, key any, header, claims any) string {
	t.Helper()
	input := b64s(jsonText(header)) + "." + b64s(jsonText(claims))
	return input + "." + b64s(sign(t, key, input))
}

func algOf(key any) string {
	switch key.(type) {
	case []byte:
		return "HS256"
	case *rsa.PrivateKey:
		return "RS256"
	}
	return "ES256"
}

// claims returns valid claims for user 42, with extra merged in (a nil
// value deletes a claim).
func claims(extra map[string]any) map[string]any {
	c := map[string]any{"sub": "42", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "name": "Ada"}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func newAuth(t testing.TB, o Options) *Authenticator {
	t.Helper()
	if o.Now == nil {
		o.Now = func() time.Time { return now }
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func withToken(tok string) *auth.Handshake {
	b, _ := json.Marshal(map[string]string{"token": tok})
	return &auth.Handshake{Header: http.Header{}, Auth: b}
}

func TestAlgorithms(t *testing.T) {
	k := keys()
	ecCert := func() []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "app"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.ec.PublicKey, k.ec)
		if err != nil {
			t.Fatal(err)
		}
		return pemBlock("CERTIFICATE", der)
	}()
	for _, c := range []struct {
		name string
		o    Options
		key  any
	}{
		{"HS256", Options{HMACSecret: secret}, secret},
		{"RS256 PKIX", Options{PublicKeyPEM: pkixPEM(t, &k.rsa.PublicKey)}, k.rsa},
		{"RS256 PKCS1", Options{PublicKeyPEM: pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey))}, k.rsa},
		{"ES256 PKIX", Options{PublicKeyPEM: pkixPEM(t, &k.ec.PublicKey)}, k.ec},
		{"ES256 certificate", Options{PublicKeyPEM: ecCert}, k.ec},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newAuth(t, c.o)
			if a.Algorithm() != algOf(c.key) {
				t.Fatalf("algorithm %s", a.Algorithm())
			}
			cl := `{"sub":"42","exp":` + jsonNum(now.Add(time.Minute).Unix()) + `,"roles":["admin"]}`
			tok := mint(t, c.key, map[string]string{"alg": algOf(c.key), "typ": "JWT"}, cl)
			id, err := a.Authenticate(context.Background(), withToken(tok))
			if err != nil {
				t.Fatal(err)
			}
			if id.UserID != "42" || string(id.Session) != cl || id.SessionRef != "" {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

func jsonNum(n int64) string { return string(jsonText(n)) }

// TestRFC7515 checks the examples of RFC 7515 appendix A: tokens produced
// by the RFC's authors, not by this test.
func TestRFC7515(t *testing.T) {
	const payload = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
	at := func() time.Time { return time.Unix(1300819300, 0) } // 80s before its exp
	after := func() time.Time { return time.Unix(1300819380+31, 0) }

	t.Run("A.1 HS256", func(t *testing.T) {
		key, err := base64.RawURLEncoding.DecodeString("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
		if err != nil {
			t.Fatal(err)
		}
		tok := "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." + payload + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
		a := newAuth(t, Options{HMACSecret: key, UserClaim: "iss", Now: at})
		id, err := a.Authenticate(context.Background(), withToken(tok))
		if err != nil {
			t.Fatal(err)
		}
		if id.UserID != "joe" || !strings.Contains(string(id.Session), `"http://example.com/is_root":true`) {
			t.Fatalf("identity %+v", id)
		}
		a = newAuth(t, Options{HMACSecret: key, UserClaim: "iss", Now: after})
		if _, err := a.Authenticate(context.Background(), withToken(tok)); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("after exp: %v", err)
		}
	})

	t.Run("A.3 ES256", func(t *testing.T) {
		x, _ := base64.RawURLEncoding.DecodeString("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU")
		y, _ := base64.RawURLEncoding.DecodeString("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0")
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			t.Fatal(err)
		}
		tok := "eyJhbGciOiJFUzI1NiJ9." + payload + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
		a := newAuth(t, Options{PublicKeyPEM: pkixPEM(t, pub), UserClaim: "iss", Now: at})
		id, err := a.Authenticate(context.Background(), withToken(tok))
		if err != nil {
			t.Fatal(err)
		}
		if id.UserID != "joe" {
			t.Fatalf("identity %+v", id)
		}
	})
}

func TestRejections(t *testing.T) {
	k := keys()
	rsaPEM := pkixPEM(t, &k.rsa.PublicKey)
	ecPEM := pkixPEM(t, &k.ec.PublicKey)
	hs := newAuth(t, Options{HMACSecret: secret})
	rs := newAuth(t, Options{PublicKeyPEM: rsaPEM})
	es := newAuth(t, Options{PublicKeyPEM: ecPEM})
	audIss := newAuth(t, Options{HMACSecret: secret, Audience: "herald", Issuer: "https://app.example"})
	hsHdr := map[string]string{"alg": "HS256", "typ": "JWT"}

	good := mint(t, secret, hsHdr, claims(nil))
	parts := strings.Split(good, ".")
	rsGood := mint(t, k.rsa, map[string]string{"alg": "RS256"}, claims(nil))
	esGood := mint(t, k.ec, map[string]string{"alg": "ES256"}, claims(nil))
	flip := func(tok string) string { // change the signature's first character
		i := strings.LastIndexByte(tok, '.') + 1
		c := byte('A')
		if tok[i] == 'A' {
			c = 'B'
		}
		return tok[:i] + string(c) + tok[i+1:]
	}
	esDER := func() string {
		input := b64s([]byte(`{"alg":"ES256"}`)) + "." + b64s(jsonText(claims(nil)))
		d := sha256.Sum256([]byte(input))
		sig, err := ecdsa.SignASN1(rand.Reader, k.ec, d[:])
		if err != nil {
			t.Fatal(err)
		}
		return input + "." + b64s(sig)
	}()
	unsigned := func(alg string) string {
		return b64s([]byte(`{"alg":"`+alg+`"}`)) + "." + b64s(jsonText(claims(nil))) + "."
	}
	swap := func(key []byte) string { return mint(t, key, hsHdr, claims(nil)) }
	der, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	// {"alg":"HS256" } is 16 bytes: its last base64 character carries 4
	// zero bits, which a lax decoder would let us set.
	trailingBits := func() string {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		s := b64s([]byte(`{"alg":"HS256" }`))
		last := strings.IndexByte(alphabet, s[len(s)-1])
		return s[:len(s)-1] + string(alphabet[last+1])
	}()

	for _, c := range []struct {
		name string
		a    *Authenticator
		tok  string
		want string
	}{
		{"alg none", hs, unsigned("none"), "alg none"},
		{"alg None", rs, unsigned("None"), "alg none"},
		{"alg none with a signature", hs, unsigned("none") + parts[2], "alg none"},
		{"HS256 keyed with the RSA PEM", rs, swap(rsaPEM), `algorithm "HS256" refused: the configured key verifies RS256 only`},
		{"HS256 keyed with the RSA DER", rs, swap(der), `algorithm "HS256" refused`},
		{"HS256 keyed with the EC PEM", es, swap(ecPEM), `algorithm "HS256" refused: the configured key verifies ES256 only`},
		{"RS256 to an HMAC key", hs, rsGood, `algorithm "RS256" refused`},
		{"ES256 to an RSA key", rs, esGood, `algorithm "ES256" refused`},
		{"HS384", hs, mint(t, secret, map[string]string{"alg": "HS384"}, claims(nil)), `algorithm "HS384" refused`},
		{"no alg", hs, mint(t, secret, map[string]string{"typ": "JWT"}, claims(nil)), "no alg"},
		{"alg not a string", hs, mint(t, secret, `{"alg":["HS256"]}`, claims(nil)), "no alg"},
		{"crit", hs, mint(t, secret, `{"alg":"HS256","crit":["b64"],"b64":false}`, claims(nil)), "crit"},
		{"duplicate alg", hs, mint(t, secret, `{"alg":"HS256","alg":"none"}`, claims(nil)), "duplicate member"},
		{"tampered payload HS256", hs, parts[0] + "." + b64s(jsonText(claims(map[string]any{"sub": "1"}))) + "." + parts[2], "bad signature (HS256)"},
		{"tampered header HS256", hs, b64s([]byte(`{"alg":"HS256"}`)) + "." + parts[1] + "." + parts[2], "bad signature (HS256)"},
		{"tampered signature HS256", hs, flip(good), "bad signature (HS256)"},
		{"tampered signature RS256", rs, flip(rsGood), "bad signature (RS256)"},
		{"tampered signature ES256", es, flip(esGood), "bad signature (ES256)"},
		{"truncated signature", hs, good[:len(good)-4], "signature"},
		{"empty signature", hs, parts[0] + "." + parts[1] + ".", "bad signature"},
		{"tampered payload ES256", es, strings.Split(esGood, ".")[0] + "." + b64s(jsonText(claims(map[string]any{"sub": "1"}))) + "." + strings.Split(esGood, ".")[2], "bad signature (ES256)"},
		{"ES256 DER signature", es, esDER, "want 64 (JWS r||s, not DER)"},
		{"expired", hs, mint(t, secret, hsHdr, claims(map[string]any{"exp": now.Add(-31 * time.Second).Unix()})), "expired at 2026-03-01T11:59:29Z"},
		{"no exp", hs, mint(t, secret, hsHdr, claims(map[string]any{"exp": nil})), "no exp claim"},
		{"exp a string", hs, mint(t, secret, hsHdr, claims(map[string]any{"exp": "9999999999"})), "exp: not a number"},
		{"exp out of range", hs, mint(t, secret, hsHdr, `{"sub":"1","exp":1e300}`), "exp: out of range"},
		{"exp null", hs, mint(t, secret, hsHdr, `{"sub":"1","exp":null}`), "exp: not a number"},
		{"not yet valid", hs, mint(t, secret, hsHdr, claims(map[string]any{"nbf": now.Add(31 * time.Second).Unix()})), "not valid before"},
		{"issued in the future", hs, mint(t, secret, hsHdr, claims(map[string]any{"iat": now.Add(time.Minute).Unix()})), "issued in the future"},
		{"iat a string", hs, mint(t, secret, hsHdr, claims(map[string]any{"iat": "x"})), "iat: not a number"},
		{"aud when none is configured", hs, mint(t, secret, hsHdr, claims(map[string]any{"aud": "other"})), `token is for audience "other" but no audience is configured`},
		{"wrong aud", audIss, mint(t, secret, hsHdr, claims(map[string]any{"aud": "other", "iss": "https://app.example"})), `wrong audience "other", want "herald"`},
		{"wrong aud array", audIss, mint(t, secret, hsHdr, claims(map[string]any{"aud": []string{"a", "b"}, "iss": "https://app.example"})), `wrong audience "a,b"`},
		{"no aud", audIss, mint(t, secret, hsHdr, claims(map[string]any{"iss": "https://app.example"})), `no aud claim, want "herald"`},
		{"aud a number", audIss, mint(t, secret, hsHdr, claims(map[string]any{"aud": 1, "iss": "https://app.example"})), "aud is neither"},
		{"aud null", audIss, mint(t, secret, hsHdr, `{"sub":"1","exp":9999999999,"aud":null,"iss":"https://app.example"}`), "aud is neither"},
		{"wrong iss", audIss, mint(t, secret, hsHdr, claims(map[string]any{"aud": "herald", "iss": "https://evil.example"})), `wrong issuer "https://evil.example"`},
		{"no iss", audIss, mint(t, secret, hsHdr, claims(map[string]any{"aud": "herald"})), "no iss claim"},
		{"iss a number", audIss, mint(t, secret, hsHdr, claims(map[string]any{"aud": "herald", "iss": 7})), "iss is not a string"},
		{"no sub", hs, mint(t, secret, hsHdr, claims(map[string]any{"sub": nil})), `user claim: no "sub" field`},
		{"empty sub", hs, mint(t, secret, hsHdr, claims(map[string]any{"sub": ""})), "not a string or an integer"},
		{"float sub", hs, mint(t, secret, hsHdr, claims(map[string]any{"sub": 4.5})), "not a string or an integer"},
		{"object sub", hs, mint(t, secret, hsHdr, claims(map[string]any{"sub": map[string]int{"id": 1}})), "not a string or an integer"},
		{"duplicate sub", hs, mint(t, secret, hsHdr, `{"sub":"1","exp":9999999999,"sub":"2"}`), `duplicate member "sub"`},
		{"claims an array", hs, mint(t, secret, hsHdr, `["sub"]`), "claims: not a JSON object"},
		{"claims not JSON", hs, mint(t, secret, hsHdr, `sub=1`), "claims: not a JSON object"},
		{"claims trailing data", hs, mint(t, secret, hsHdr, `{"sub":"1","exp":9999999999} {}`), "data after the JSON object"},
		{"header not JSON", hs, b64s([]byte("HS256")) + "." + parts[1] + "." + parts[2], "header: not a JSON object"},
		{"header not base64", hs, "e!J." + parts[1] + "." + parts[2], "character outside base64url"},
		{"padding", hs, parts[0] + "=." + parts[1] + "." + parts[2], "character outside base64url"},
		{"standard base64", hs, parts[0] + "+/." + parts[1] + "." + parts[2], "character outside base64url"},
		{"whitespace", hs, parts[0] + "." + parts[1] + ".\n" + parts[2], "character outside base64url"},
		{"impossible base64 length", hs, parts[0] + "." + parts[1] + "." + parts[2] + "AA", "signature is not base64url"},
		{"non-zero trailing bits", hs, trailingBits + "." + parts[1] + "." + parts[2], "header is not base64url"},
		{"two segments", hs, parts[0] + "." + parts[1], "2 segments, want 3"},
		{"four segments", hs, good + ".x", "4 segments, want 3"},
		{"one segment", hs, parts[1], "1 segments, want 3"},
		{"dots only", hs, "..", "header: not a JSON object"},
		{"JWE", hs, "a.b.c.d.e", "encrypted token (JWE"},
		{"Bearer prefix", hs, "Bearer " + good, `"Bearer " prefix`},
		{"oversized", hs, strings.Repeat("a", MaxTokenSize+1), "token of 8193 bytes exceeds the 8192-byte limit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, err := c.a.Authenticate(context.Background(), withToken(c.tok))
			if err == nil {
				t.Fatalf("accepted: %+v", id)
			}
			if !errors.Is(err, auth.ErrUnauthorized) {
				t.Fatalf("not unauthorized: %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want %q", err, c.want)
			}
			if len(c.tok) > 20 && strings.Contains(err.Error(), c.tok) {
				t.Fatalf("the error quotes the token: %v", err)
			}
		})
	}
}

func TestClaims(t *testing.T) {
	hs := newAuth(t, Options{HMACSecret: secret})
	hsHdr := map[string]string{"alg": "HS256"}
	for _, c := range []struct {
		name string
		a    *Authenticator
		cl   any
		user string
	}{
		{"integer sub", hs, `{"sub":12345678901234567890,"exp":9999999999}`, "12345678901234567890"},
		{"negative integer sub", hs, `{"sub":-3,"exp":9999999999}`, "-3"},
		{"fractional exp", hs, `{"sub":"1","exp":` + jsonNum(now.Unix()) + `.5}`, "1"},
		{"expired within leeway", hs, claims(map[string]any{"exp": now.Add(-29 * time.Second).Unix()}), "42"},
		{"nbf within leeway", hs, claims(map[string]any{"nbf": now.Add(29 * time.Second).Unix()}), "42"},
		{"nbf past", hs, claims(map[string]any{"nbf": now.Add(-time.Hour).Unix()}), "42"},
		{"iat within leeway", hs, claims(map[string]any{"iat": now.Add(29 * time.Second).Unix()}), "42"},
		{"no iat", hs, claims(map[string]any{"iat": nil}), "42"},
		{"custom claim", newAuth(t, Options{HMACSecret: secret, UserClaim: "user_id"}), claims(map[string]any{"user_id": 7}), "7"},
		{"aud string", newAuth(t, Options{HMACSecret: secret, Audience: "herald"}), claims(map[string]any{"aud": "herald"}), "42"},
		{"aud array", newAuth(t, Options{HMACSecret: secret, Audience: "herald"}), claims(map[string]any{"aud": []string{"api", "herald"}}), "42"},
		{"iss", newAuth(t, Options{HMACSecret: secret, Issuer: "app"}), claims(map[string]any{"iss": "app"}), "42"},
		{"longer leeway", newAuth(t, Options{HMACSecret: secret, Leeway: 2 * time.Minute}), claims(map[string]any{"exp": now.Add(-time.Minute).Unix()}), "42"},
		{"JSON with whitespace", hs, "{ \"sub\" : \"1\",\r\n \"exp\" : 9999999999 }", "1"},
		{"escaped claim name", hs, `{"s\u0075b":"9","exp":9999999999}`, "9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, err := c.a.Authenticate(context.Background(), withToken(mint(t, secret, hsHdr, c.cl)))
			if err != nil {
				t.Fatal(err)
			}
			if id.UserID != c.user {
				t.Fatalf("user %q, want %q", id.UserID, c.user)
			}
		})
	}
	// Exactly at exp plus leeway is expired (the RFC: now must be before).
	edge := mint(t, secret, hsHdr, claims(map[string]any{"exp": now.Add(-30 * time.Second).Unix()}))
	if _, err := hs.Authenticate(context.Background(), withToken(edge)); err == nil {
		t.Fatal("accepted at exp+leeway")
	}
}

func TestSources(t *testing.T) {
	a := newAuth(t, Options{HMACSecret: secret, Cookie: "herald_jwt", QueryParam: "token"})
	tok := func(user string) string {
		return mint(t, secret, map[string]string{"alg": "HS256"}, claims(map[string]any{"sub": user}))
	}
	hs := func(authTok, cookie, query string) *auth.Handshake {
		h := &auth.Handshake{Header: http.Header{}, Query: url.Values{}}
		if authTok != "" {
			h.Auth = jsonText(map[string]string{"token": authTok})
		}
		if cookie != "" {
			h.Header.Set("Cookie", "other=1; herald_jwt="+cookie)
		}
		if query != "" {
			h.Query.Set("token", query)
		}
		return h
	}
	for _, c := range []struct {
		name string
		h    *auth.Handshake
		user string // "" means refused
		want string
	}{
		{"auth only", hs(tok("a"), "", ""), "a", ""},
		{"cookie only", hs("", tok("c"), ""), "c", ""},
		{"query only", hs("", "", tok("q")), "q", ""},
		{"auth over cookie and query", hs(tok("a"), tok("c"), tok("q")), "a", ""},
		{"cookie over query", hs("", tok("c"), tok("q")), "c", ""},
		{"a bad auth.token is not rescued by the cookie", hs("x.y.z", tok("c"), ""), "", "jwt (auth.token): malformed"},
		{"a bad cookie is not rescued by the query", hs("", "bad", tok("q")), "", "jwt (cookie herald_jwt): malformed"},
		{"bad query", hs("", "", "bad"), "", "jwt (query token): malformed"},
		{"nothing", hs("", "", ""), "", "no token (no auth.token, no herald_jwt cookie, no token query parameter)"},
		{"auth.token not a string", &auth.Handshake{Auth: []byte(`{"token":42}`)}, "", "no token"},
		{"nil everything", &auth.Handshake{}, "", "no token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, err := a.Authenticate(context.Background(), c.h)
			if c.user != "" {
				if err != nil || id.UserID != c.user {
					t.Fatalf("got %+v, %v; want user %q", id, err, c.user)
				}
				return
			}
			if err == nil || !errors.Is(err, auth.ErrUnauthorized) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	// Sources that are not configured are not looked at.
	only := newAuth(t, Options{HMACSecret: secret})
	if _, err := only.Authenticate(context.Background(), hs("", tok("c"), tok("q"))); err == nil {
		t.Fatal("cookie and query used without being configured")
	}
}

func TestNew(t *testing.T) {
	rsaSmall, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	k := keys()
	ecPriv, _ := x509.MarshalECPrivateKey(k.ec)
	for _, c := range []struct {
		name string
		o    Options
		want string
	}{
		{"no key", Options{}, "no key"},
		{"both keys", Options{HMACSecret: secret, PublicKeyPEM: pkixPEM(t, &k.ec.PublicKey)}, "not both"},
		{"short secret", Options{HMACSecret: []byte("rails-secret")}, "too short"},
		{"small RSA", Options{PublicKeyPEM: pkixPEM(t, &rsaSmall.PublicKey)}, "1024 bits is too small"},
		{"P-384", Options{PublicKeyPEM: pkixPEM(t, &p384.PublicKey)}, "not P-384"},
		{"Ed25519", Options{PublicKeyPEM: pkixPEM(t, edPub)}, "Ed25519"},
		{"private key", Options{PublicKeyPEM: pemBlock("EC PRIVATE KEY", ecPriv)}, "private key"},
		{"not PEM", Options{PublicKeyPEM: []byte("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")}, "not PEM"},
		{"bad DER", Options{PublicKeyPEM: pemBlock("PUBLIC KEY", []byte{1, 2, 3})}, "public key:"},
		{"other block", Options{PublicKeyPEM: pemBlock("CERTIFICATE REQUEST", []byte{1})}, "unexpected PEM block"},
		{"negative leeway", Options{HMACSecret: secret, Leeway: -time.Second}, "negative leeway"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := New(c.o); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	// The secret is copied: changing the caller's slice changes nothing.
	s := append([]byte(nil), secret...)
	a := newAuth(t, Options{HMACSecret: s})
	tok := mint(t, secret, map[string]string{"alg": "HS256"}, claims(nil))
	s[0] ^= 1
	if _, err := a.Authenticate(context.Background(), withToken(tok)); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkVerify(b *testing.B) {
	k := keys()
	for _, c := range []struct {
		name string
		o    Options
		key  any
	}{
		{"HS256", Options{HMACSecret: secret}, secret},
		{"RS256", Options{PublicKeyPEM: pkixPEM(b, &k.rsa.PublicKey)}, k.rsa},
		{"ES256", Options{PublicKeyPEM: pkixPEM(b, &k.ec.PublicKey)}, k.ec},
	} {
		b.Run(c.name, func(b *testing.B) {
			a := newAuth(b, c.o)
			h := withToken(mint(b, c.key, map[string]string{"alg": algOf(c.key)}, claims(nil)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(context.Background(), h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
