// Package auth defines how herald decides who a connection belongs to.
//
// An Authenticator looks at what a Socket.IO CONNECT brings (the HTTP
// handshake's cookies, headers and query, and the CONNECT payload) and
// returns the Identity of a signed-in user, or an error saying why not.
// Providers live in subpackages; a Chain tries several in order.
package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/heraldrt/herald/internal/cookie"
)

// Handshake is what a connection presents to be authenticated.
type Handshake struct {
	Header     http.Header
	Query      url.Values
	Auth       json.RawMessage // the CONNECT payload, the client's io({auth})
	RemoteAddr string
}

// Cookie returns the named cookie's value.
func (h *Handshake) Cookie(name string) (string, bool) {
	return cookie.Get(h.Header.Values("Cookie"), name)
}

// AuthString returns a string field of the CONNECT payload, such as
// auth.token.
func (h *Handshake) AuthString(field string) (string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(h.Auth, &m) != nil {
		return "", false
	}
	var s string
	if json.Unmarshal(m[field], &s) != nil || s == "" {
		return "", false
	}
	return s, true
}

// Identity is an authenticated user.
type Identity struct {
	// UserID names the user; the connection joins the room "user:<UserID>".
	UserID string
	// Session is the session data as JSON, for server-side handlers.
	Session json.RawMessage
	// SessionRef names the server-side session for revocation: when the
	// session disappears from its store, connections with this reference
	// are disconnected. Empty when the session cannot be revoked.
	SessionRef string
}

// Authenticator authenticates one connection. Implementations must be safe
// for concurrent use and honour ctx.
type Authenticator interface {
	Authenticate(ctx context.Context, h *Handshake) (*Identity, error)
}

// ErrUnauthorized means the connection presents no valid session. Wrap it
// with the reason: it is logged; clients are only told they are unauthorized.
var ErrUnauthorized = errors.New("unauthorized")

// UnavailableError means the session could not be checked because a
// backend (Redis, the app) is down: the user is not told they are signed
// out when the outage is ours.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return "authentication unavailable: " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// Unauthorized returns ErrUnauthorized wrapped with a reason.
func Unauthorized(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnauthorized}, args...)...)
}

// Chain tries authenticators in order; the first identity wins. If none
// succeeds and any backend was unavailable, the result is unavailable.
type Chain []Authenticator

// Authenticate implements Authenticator.
func (c Chain) Authenticate(ctx context.Context, h *Handshake) (*Identity, error) {
	var unavailable, last error
	for _, a := range c {
		id, err := a.Authenticate(ctx, h)
		if err == nil {
			return id, nil
		}
		var ue *UnavailableError
		if errors.As(err, &ue) && unavailable == nil {
			unavailable = err
		}
		last = err
	}
	if unavailable != nil {
		return nil, unavailable
	}
	if last == nil {
		last = Unauthorized("no authenticator configured")
	}
	return nil, last
}
