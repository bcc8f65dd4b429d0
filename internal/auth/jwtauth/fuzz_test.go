package jwtauth

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzAuthenticate feeds arbitrary tokens, and arbitrary headers and claims
// signed with the right key (so that parsing past the signature is
// reached), and checks that nothing panics and that whatever is accepted
// obeys the rules.
func FuzzAuthenticate(f *testing.F) {
	k := keys()
	hsHdr := `{"alg":"HS256","typ":"JWT"}`
	good := mint(f, secret, hsHdr, claims(nil))
	f.Add(good, []byte(hsHdr), jsonText(claims(nil)))
	f.Add(mint(f, k.rsa, `{"alg":"RS256"}`, claims(nil)), []byte(`{"alg":"none"}`), []byte(`{"sub":1,"exp":1e300}`))
	f.Add(mint(f, k.ec, `{"alg":"ES256"}`, claims(nil)), []byte(`{"alg":"HS256","crit":[]}`), []byte(`{"sub":"1","exp":9999999999,"aud":["herald"],"nbf":0,"iat":0}`))
	f.Add("eyJhbGciOiJub25lIn0.e30.", []byte(`{"alg":"HS256","alg":"HS256"}`), []byte(`{"sub":"1","sub":"2"}`))
	f.Add("a.b.c.d.e", []byte(`{"alg":"HS256"} x`), []byte(`{"sub":-0,"exp":"1"}`))

	hs := newAuth(f, Options{HMACSecret: secret, Audience: "herald", Issuer: "app"})
	hsNoAud := newAuth(f, Options{HMACSecret: secret})
	rs := newAuth(f, Options{PublicKeyPEM: pkixPEM(f, &k.rsa.PublicKey)})
	es := newAuth(f, Options{PublicKeyPEM: pkixPEM(f, &k.ec.PublicKey)})
	f.Fuzz(func(t *testing.T, raw string, header, payload []byte) {
		for _, a := range []*Authenticator{hs, hsNoAud, rs, es} {
			_, _ = a.Authenticate(context.Background(), withToken(raw))
		}
		input := b64s(header) + "." + b64s(payload)
		tok := input + "." + b64s(sign(t, secret, input))
		for _, a := range []*Authenticator{hs, hsNoAud} {
			id, err := a.Authenticate(context.Background(), withToken(tok))
			if err != nil {
				continue
			}
			check(t, a, header, payload, id.UserID, string(id.Session))
		}
	})
}

// check asserts what an accepted token must be.
func check(t *testing.T, a *Authenticator, header, payload []byte, user, session string) {
	var h map[string]any
	if json.Unmarshal(header, &h) != nil || h["alg"] != "HS256" || h["crit"] != nil {
		t.Fatalf("accepted header %q", header)
	}
	if session != string(payload) || user == "" {
		t.Fatalf("identity %q %q from %q", user, session, payload)
	}
	var c map[string]json.RawMessage
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("accepted claims %q: %v", payload, err)
	}
	var exp float64
	if json.Unmarshal(c["exp"], &exp) != nil || float64(now.Unix()) >= exp+30 {
		t.Fatalf("accepted exp in %q", payload)
	}
	var nbf float64
	if json.Unmarshal(c["nbf"], &nbf) == nil && nbf > float64(now.Add(30*time.Second).Unix()) {
		t.Fatalf("accepted nbf in %q", payload)
	}
	if a.o.Audience == "" {
		if _, ok := c["aud"]; ok {
			t.Fatalf("accepted an aud with none configured: %q", payload)
		}
	} else {
		var iss string
		if json.Unmarshal(c["iss"], &iss) != nil || iss != "app" {
			t.Fatalf("accepted iss in %q", payload)
		}
		if !strings.Contains(string(c["aud"]), `"herald"`) {
			t.Fatalf("accepted aud in %q", payload)
		}
	}
}
