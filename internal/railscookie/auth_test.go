package railscookie

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldrt/herald/internal/auth"
)

// TestAuthenticatorVectors: a connection presenting each real Rails cookie
// in a Cookie header is the user the vector names; rejected vectors, a
// missing cookie and a cookie under another name are unauthorized.
func TestAuthenticatorVectors(t *testing.T) {
	for _, v := range readVectors(t, "testdata/cookies.jsonl") {
		t.Run(v.Name, func(t *testing.T) {
			a := NewAuthenticator(mustNew(t, v.options(testMarshal)), v.CookieName, auth.IdentityOptions{})
			h := &auth.Handshake{Header: http.Header{"Cookie": {"theme=dark; " + v.CookieName + "=" + v.CookieValue}}}
			id, err := a.Authenticate(context.Background(), h)
			if v.Expect != "ok" {
				if !errors.Is(err, auth.ErrUnauthorized) {
					t.Fatalf("rejected vector: err = %v, want unauthorized", err)
				}
				return
			}
			if len(v.UserID) == 0 || string(v.UserID) == "null" {
				if !errors.Is(err, auth.ErrUnauthorized) {
					t.Fatalf("session without a user: %+v, %v", id, err)
				}
				return
			}
			var want string
			if json.Unmarshal(v.UserID, &want) != nil {
				want = strings.TrimSpace(string(v.UserID))
			}
			if err != nil || id.UserID != want {
				t.Fatalf("identity = %+v, %v; want user %s", id, err, want)
			}
		})
	}
	a := NewAuthenticator(mustNew(t, Options{Secrets: []string{"x"}, CookieName: "_s"}), "_s", auth.IdentityOptions{})
	for _, cookie := range []string{"", "_other=abc", "_s=", "_s=garbage--garbage"} {
		_, err := a.Authenticate(context.Background(), &auth.Handshake{Header: http.Header{"Cookie": {cookie}}})
		if !errors.Is(err, auth.ErrUnauthorized) {
			t.Errorf("cookie %q: err = %v, want unauthorized", cookie, err)
		}
	}
}
