package app

import (
	"context"
	"fmt"
	"github.com/heraldrt/herald/internal/config"
	"os"
	"strings"

	"github.com/heraldrt/herald/internal/auth"
	"github.com/heraldrt/herald/internal/auth/callback"
	"github.com/heraldrt/herald/internal/auth/jwtauth"
	"github.com/heraldrt/herald/internal/auth/railsstore"
	"github.com/heraldrt/herald/internal/auth/redissession"
	"github.com/heraldrt/herald/internal/railscookie"
	"github.com/heraldrt/herald/internal/rubymarshal"
)

// sessionStore is an authenticator whose sessions live in Redis, so a
// sign-out (the session deleted) can be noticed and acted on.
type sessionStore interface {
	auth.Authenticator
	Missing(ctx context.Context, refs []string) ([]string, error)
	KeyspacePattern(db int) string
	RefFromKeyspace(db int, channel string) (string, bool)
}

// store is a session store in the chain. Its sessions' references are
// tagged with its mode, so one revocation registry serves every store.
type store struct {
	sessionStore
	tag string // "<mode>:"
}

// Authenticate tags the identity's session reference.
func (s *store) Authenticate(ctx context.Context, h *auth.Handshake) (*auth.Identity, error) {
	id, err := s.sessionStore.Authenticate(ctx, h)
	if err == nil && id.SessionRef != "" {
		id.SessionRef = s.tag + id.SessionRef
	}
	return id, err
}

// buildAuth makes the chain of --auth modes.
func (a *App) buildAuth() error {
	cfg := a.cfg
	identity := auth.IdentityOptions{DeviseScope: cfg.Rails.DeviseScope, Key: cfg.IdentityField}
	var chain auth.Chain
	for _, mode := range cfg.AuthModes {
		var p auth.Authenticator
		var err error
		switch mode {
		case "redis-hash", "redis-key":
			layout := redissession.Hash
			if mode == "redis-key" {
				layout = redissession.Key
			}
			p = a.addStore(mode, redissession.New(a.rdb, redissession.Options{
				Layout: layout, Cookie: cfg.SessionCookie, HashName: cfg.SessionHash,
				KeyPrefix: cfg.SessionPrefix, IDField: cfg.IdentityField,
			}))
		case "rails-redis-store":
			p = a.addStore(mode, railsstore.New(a.rdb, railsstore.Options{
				Cookie: cfg.Rails.SessionCookie, Prefix: cfg.Rails.SessionPrefix, Identity: identity,
			}))
		case "rails-cookie":
			p, err = a.railsCookie(identity)
		case "jwt":
			p, err = a.jwt()
		case "http":
			p, err = callback.New(callback.Options{URL: cfg.AuthURL, CacheTTL: cfg.AuthCacheTTL})
		}
		if err != nil {
			return fmt.Errorf("--auth %s: %w", mode, err)
		}
		chain = append(chain, p)
	}
	a.auth = chain
	return nil
}

func (a *App) addStore(mode string, s sessionStore) *store {
	st := &store{sessionStore: s, tag: mode + ":"}
	a.stores = append(a.stores, st)
	return st
}

// RailsCookieDecoder builds the cookie decoder the rails-cookie mode and
// the session decode command use: keys are derived once, here.
func RailsCookieDecoder(r config.RailsConfig) (*railscookie.Decoder, error) {
	return railscookie.New(railscookie.Options{
		Secrets:                          r.SecretKeyBase,
		CookieName:                       r.SessionCookie,
		SignedCookieSalt:                 r.SignedCookieSalt,
		EncryptedCookieSalt:              r.EncryptedCookieSalt,
		EncryptedSignedCookieSalt:        r.EncryptedSignedCookieSalt,
		AuthenticatedEncryptedCookieSalt: r.AuthenticatedEncryptedCookieSalt,
		Marshal:                          rubymarshal.DecodeJSON,
	})
}

func (a *App) railsCookie(identity auth.IdentityOptions) (auth.Authenticator, error) {
	dec, err := RailsCookieDecoder(a.cfg.Rails)
	if err != nil {
		return nil, err
	}
	return railscookie.NewAuthenticator(dec, a.cfg.Rails.SessionCookie, identity), nil
}

func (a *App) jwt() (auth.Authenticator, error) {
	cfg := a.cfg
	o := jwtauth.Options{HMACSecret: []byte(cfg.JWTSecret), Audience: cfg.JWTAudience, Issuer: cfg.JWTIssuer,
		UserClaim: cfg.JWTUserClaim, Cookie: cfg.JWTCookie, QueryParam: cfg.JWTQueryParam}
	if cfg.JWTSecret == "" {
		o.HMACSecret = nil
	}
	if cfg.JWTPublicKey != "" {
		pem, err := os.ReadFile(cfg.JWTPublicKey)
		if err != nil {
			return nil, fmt.Errorf("read --jwt-public-key: %w", err)
		}
		o.PublicKeyPEM = pem
	}
	return jwtauth.New(o)
}

// storeOf finds the store a tagged session reference belongs to.
func (a *App) storeOf(ref string) (*store, string) {
	for _, s := range a.stores {
		if rest, ok := strings.CutPrefix(ref, s.tag); ok {
			return s, rest
		}
	}
	return nil, ""
}

// Missing checks tagged references, each against its own store.
func (a *App) Missing(ctx context.Context, refs []string) ([]string, error) {
	byStore := map[*store][]string{}
	for _, ref := range refs {
		if s, rest := a.storeOf(ref); s != nil {
			byStore[s] = append(byStore[s], rest)
		}
	}
	var missing []string
	for s, rs := range byStore {
		m, err := s.Missing(ctx, rs)
		if err != nil {
			return nil, err
		}
		for _, r := range m {
			missing = append(missing, s.tag+r)
		}
	}
	return missing, nil
}

// revokeSession disconnects the sockets of a session named by the app (a
// disconnect command): its token or id, in whichever store holds it.
func (a *App) revokeSession(token string) int {
	n := 0
	for _, s := range a.stores {
		n += a.revoked.Revoke(s.tag + token)
	}
	return n
}
