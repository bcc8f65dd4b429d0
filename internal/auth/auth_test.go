package auth

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

type fixed struct {
	id  *Identity
	err error
}

func (f fixed) Authenticate(context.Context, *Handshake) (*Identity, error) { return f.id, f.err }

func TestChain(t *testing.T) {
	alice := &Identity{UserID: "alice"}
	down := &UnavailableError{Err: errors.New("redis: connection refused")}
	cases := []struct {
		name            string
		chain           Chain
		wantID          string
		wantUnavailable bool
	}{
		{"first wins", Chain{fixed{id: alice}, fixed{err: Unauthorized("x")}}, "alice", false},
		{"falls through unauthorized", Chain{fixed{err: Unauthorized("no cookie")}, fixed{id: alice}}, "alice", false},
		{"falls through outage", Chain{fixed{err: down}, fixed{id: alice}}, "alice", false},
		{"outage beats unauthorized", Chain{fixed{err: Unauthorized("no cookie")}, fixed{err: down}}, "", true},
		{"all unauthorized", Chain{fixed{err: Unauthorized("a")}, fixed{err: Unauthorized("b")}}, "", false},
		{"empty", Chain{}, "", false},
	}
	for _, c := range cases {
		id, err := c.chain.Authenticate(context.Background(), &Handshake{})
		if c.wantID != "" {
			if err != nil || id.UserID != c.wantID {
				t.Errorf("%s: got %v, %v; want %s", c.name, id, err, c.wantID)
			}
			continue
		}
		var ue *UnavailableError
		if got := errors.As(err, &ue); got != c.wantUnavailable {
			t.Errorf("%s: unavailable = %v (%v), want %v", c.name, got, err, c.wantUnavailable)
		}
		if !c.wantUnavailable && !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: err = %v, want ErrUnauthorized", c.name, err)
		}
	}
}

func TestHandshakeCookieAndAuth(t *testing.T) {
	h := &Handshake{Header: http.Header{"Cookie": {"a=1; _validation_token_key=abc%20def", "b=2"}},
		Auth: []byte(`{"token":"t0k","n":1}`)}
	if v, ok := h.Cookie("_validation_token_key"); !ok || v != "abc%20def" {
		t.Errorf("Cookie = %q, %v", v, ok)
	}
	if v, ok := h.Cookie("b"); !ok || v != "2" {
		t.Errorf("Cookie(b) = %q, %v", v, ok)
	}
	if _, ok := h.Cookie("missing"); ok {
		t.Error("found a missing cookie")
	}
	if v, ok := h.AuthString("token"); !ok || v != "t0k" {
		t.Errorf("AuthString = %q, %v", v, ok)
	}
	for _, bad := range []string{`{"token":1}`, `{"token":""}`, `[]`, `not json`, ``} {
		h.Auth = []byte(bad)
		if _, ok := h.AuthString("token"); ok {
			t.Errorf("AuthString accepted %s", bad)
		}
	}
}
