package railscookie

import (
	"context"

	"github.com/heraldrt/herald/internal/auth"
)

// Authenticator authenticates connections from the Rails session cookie
// the browser already sends: no change to the Rails app is needed.
//
// A cookie-store session cannot be revoked from the server: signing out
// only gives the browser a new cookie, and the old one stays valid until
// its expiry. Apps that need sign-out to take effect live use a server-side
// store (rails-redis-store) or the token scheme.
type Authenticator struct {
	dec      *Decoder
	cookie   string
	identity auth.IdentityOptions
}

// NewAuthenticator returns an authenticator using dec for the cookie named
// in o.CookieName.
func NewAuthenticator(dec *Decoder, cookie string, id auth.IdentityOptions) *Authenticator {
	return &Authenticator{dec: dec, cookie: cookie, identity: id}
}

// Authenticate implements auth.Authenticator.
func (a *Authenticator) Authenticate(_ context.Context, h *auth.Handshake) (*auth.Identity, error) {
	value, ok := h.Cookie(a.cookie)
	if !ok || value == "" {
		return nil, auth.Unauthorized("no %s cookie", a.cookie)
	}
	session, err := a.dec.Decode(value)
	if err != nil {
		return nil, auth.Unauthorized("session cookie: %s", Reason(err))
	}
	id, err := auth.UserFromSession(session, a.identity)
	if err != nil {
		return nil, auth.Unauthorized("session cookie: %v", err)
	}
	return &auth.Identity{UserID: id, Session: session}, nil
}
