// Package redissession authenticates connections with the session copy a
// Rails app keeps in Redis: the design of the original Node.js server.
//
// After sign-in the app writes a JSON copy of the session into Redis under
// a random token and sets that token as a cookie. A connection presenting
// the token (cookie, or auth.token in the CONNECT payload for clients that
// send no cookies) is the user named by the session's identity field.
//
// Two layouts are supported: the original one hash holding every session
// (HGET mySessionStore <token>), and one key per session (GET
// <prefix><token>), which lets the app give each session a TTL.
package redissession

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldrt/herald/internal/auth"
	"github.com/heraldrt/herald/internal/auth/sessioncheck"
	"github.com/redis/go-redis/v9"
)

// Layout says where sessions live.
type Layout int

const (
	// Hash keeps every session as a field of one hash (the original design).
	Hash Layout = iota
	// Key keeps each session in its own key, so it can expire.
	Key
)

// Options configure a Store. Zero values mean the defaults in comments.
type Options struct {
	Layout Layout
	// Cookie is the cookie carrying the token. Default "_validation_token_key".
	Cookie string
	// HashName is the hash of the Hash layout. Default "mySessionStore".
	HashName string
	// KeyPrefix prefixes tokens in the Key layout. Default "herald:session:".
	KeyPrefix string
	// IDField is the session field naming the user. Default "user_id".
	IDField string
	// Timeout bounds one Redis lookup. Default 2s.
	Timeout time.Duration
}

// Store authenticates from, and checks for revocation in, Redis.
type Store struct {
	rdb  redis.UniversalClient
	opts Options
}

// maxToken bounds the token a client may make us look up.
const maxToken = 512

// New returns a Store using rdb.
func New(rdb redis.UniversalClient, o Options) *Store {
	if o.Cookie == "" {
		o.Cookie = "_validation_token_key"
	}
	if o.HashName == "" {
		o.HashName = "mySessionStore"
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = "herald:session:"
	}
	if o.IDField == "" {
		o.IDField = "user_id"
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	return &Store{rdb: rdb, opts: o}
}

// Options returns the store's options with defaults applied.
func (s *Store) Options() Options { return s.opts }

// Authenticate implements auth.Authenticator.
func (s *Store) Authenticate(ctx context.Context, h *auth.Handshake) (*auth.Identity, error) {
	token, ok := h.Cookie(s.opts.Cookie)
	if !ok || token == "" {
		if token, ok = h.AuthString("token"); !ok {
			return nil, auth.Unauthorized("no %s cookie and no auth.token", s.opts.Cookie)
		}
	}
	if len(token) > maxToken {
		return nil, auth.Unauthorized("token longer than %d bytes", maxToken)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	raw, err := s.lookup(ctx, token)
	if errors.Is(err, redis.Nil) {
		return nil, auth.Unauthorized("no session for the token")
	}
	if err != nil {
		return nil, &auth.UnavailableError{Err: fmt.Errorf("redis session lookup: %w", err)}
	}
	id, err := auth.SessionField(raw, s.opts.IDField)
	if err != nil {
		return nil, auth.Unauthorized("session: %v", err)
	}
	return &auth.Identity{UserID: id, Session: raw, SessionRef: token}, nil
}

func (s *Store) lookup(ctx context.Context, token string) ([]byte, error) {
	if s.opts.Layout == Key {
		return s.rdb.Get(ctx, s.opts.KeyPrefix+token).Bytes()
	}
	return s.rdb.HGet(ctx, s.opts.HashName, token).Bytes()
}

// Missing returns the tokens among refs whose session no longer exists,
// checked in pipelined batches.
func (s *Store) Missing(ctx context.Context, refs []string) ([]string, error) {
	return sessioncheck.Missing(ctx, s.rdb, refs, func(ctx context.Context, p redis.Pipeliner, tok string) *redis.BoolCmd {
		if s.opts.Layout == Key {
			return sessioncheck.Exists(ctx, p, s.opts.KeyPrefix+tok)
		}
		return p.HExists(ctx, s.opts.HashName, tok)
	})
}

// KeyspacePattern returns the keyspace-notification channel pattern that
// announces deleted sessions in Redis database db, and whether an event on
// a channel names the session directly (Key layout) or only its hash.
func (s *Store) KeyspacePattern(db int) string {
	if s.opts.Layout == Key {
		return fmt.Sprintf("__keyspace@%d__:%s*", db, s.opts.KeyPrefix)
	}
	return fmt.Sprintf("__keyspace@%d__:%s", db, s.opts.HashName)
}

// RefFromKeyspace returns the session token named by a keyspace channel in
// the Key layout.
func (s *Store) RefFromKeyspace(db int, channel string) (string, bool) {
	prefix := fmt.Sprintf("__keyspace@%d__:%s", db, s.opts.KeyPrefix)
	if s.opts.Layout != Key || len(channel) <= len(prefix) || channel[:len(prefix)] != prefix {
		return "", false
	}
	return channel[len(prefix):], true
}
