// Package railsstore authenticates connections with the session a Rails
// app keeps in a server-side store in Redis, with no change to the app.
//
// The browser's session cookie holds the public session id: 32 lowercase
// hex digits (ActionDispatch's generate_sid). Since the fix for
// CVE-2019-16782 the stores key a session by its private id, "2::" +
// SHA-256 hex of the public id, and read the public id as a fallback for
// older sessions; so does this package: GET <prefix>2::<sha256hex>, then
// GET <prefix><public id>. The prefix is the store's:
//
//   - redis-actionpack (redis-rack, redis-store): "<namespace>:", e.g.
//     "session:" for servers: ["redis://host:6379/0/session"], and
//     "rack:session:" by default;
//   - redis-session-store: its key_prefix, e.g. "myapp:session:", empty by
//     default;
//   - ActionDispatch::Session::CacheStore on RedisCacheStore:
//     "<cache namespace>:_session_id:", or "_session_id:" without one.
//
// The value's format is detected, not configured (DecodeValue): Marshal or
// JSON sessions, and cache entries in the 6.1, 7.0 and 7.1 formats,
// compressed or not. The user is then read from the session as
// auth.UserFromSession does (Devise's warden.user.<scope>.key, or a plain
// key).
//
// Signing out deletes the key; Missing reports such sessions, and
// KeyspacePattern/RefFromKeyspace name the keyspace notifications that
// announce them, so live connections can be dropped.
//
// Nothing here logs, and no error carries the cookie value.
package railsstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/heraldrt/herald/internal/auth"
	"github.com/heraldrt/herald/internal/auth/sessioncheck"
	"github.com/redis/go-redis/v9"
)

// Options configure a Store.
type Options struct {
	// Cookie is the session cookie's name, e.g. "_myapp_session"
	// (required).
	Cookie string
	// Prefix is the store's key prefix, e.g. "session:" or
	// "myapp:_session_id:". Empty is valid (redis-session-store's default).
	Prefix string
	// Identity says where the session names its user.
	Identity auth.IdentityOptions
	// Timeout bounds one lookup. Default 2s.
	Timeout time.Duration
	// Unsign, when set, turns the raw cookie value (as sent, not
	// unescaped) into the session id, for stores configured to sign their
	// cookie. nil: the cookie is the plain public id. Its error is not
	// passed on (it might quote the cookie).
	Unsign func(cookie string) (sessionID string, err error)
}

// Store authenticates from, and checks for revocation in, a Rails
// server-side session store in Redis. It is safe for concurrent use.
type Store struct {
	rdb  redis.UniversalClient
	opts Options
	now  func() time.Time // the clock cache-entry expiry is checked against
}

// Bounds on what a client may make us look at.
const (
	maxCookie   = 4096 // a cookie is at most 4 KB in browsers
	publicIDLen = 32   // SecureRandom.hex(16)
	privateTag  = "2::"
)

// New returns a Store using rdb.
func New(rdb redis.UniversalClient, o Options) *Store {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	return &Store{rdb: rdb, opts: o, now: time.Now}
}

// Options returns the store's options with defaults applied.
func (s *Store) Options() Options { return s.opts }

// PrivateID returns Rack's private id of a public session id:
// "2::" + lowercase hex SHA-256.
func PrivateID(publicID string) string {
	sum := sha256.Sum256([]byte(publicID))
	return privateTag + hex.EncodeToString(sum[:])
}

// Keys returns the Redis keys a session id is looked up under, in order:
// the private-id key, then the legacy public-id key.
func (s *Store) Keys(publicID string) (private, public string) {
	return s.opts.Prefix + PrivateID(publicID), s.opts.Prefix + publicID
}

// Authenticate implements auth.Authenticator.
func (s *Store) Authenticate(ctx context.Context, h *auth.Handshake) (*auth.Identity, error) {
	cookie, ok := h.Cookie(s.opts.Cookie)
	if !ok || cookie == "" {
		return nil, auth.Unauthorized("no %s cookie", s.opts.Cookie)
	}
	if len(cookie) > maxCookie {
		return nil, auth.Unauthorized("the %s cookie is longer than %d bytes", s.opts.Cookie, maxCookie)
	}
	id := cookie
	if s.opts.Unsign != nil {
		var err error
		if id, err = s.opts.Unsign(cookie); err != nil {
			return nil, auth.Unauthorized("the %s cookie does not unsign", s.opts.Cookie)
		}
	}
	if !validPublicID(id) {
		return nil, auth.Unauthorized("the %s cookie is not a session id (32 lowercase hex digits)", s.opts.Cookie)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()

	private, public := s.Keys(id)
	keys := [2]string{private, public}
	var vals [2]*redis.StringCmd
	pipe := s.rdb.Pipeline()
	for i, k := range keys {
		// GETRANGE bounds the transfer; a missing key reads as "".
		vals[i] = pipe.GetRange(ctx, k, 0, MaxValueBytes)
	}
	_, _ = pipe.Exec(ctx) // errors are per command, below
	var lastErr error
	for i, c := range vals {
		b, err := c.Bytes()
		switch {
		case redis.HasErrorPrefix(err, "WRONGTYPE"):
			return nil, auth.Unauthorized("the session key does not hold a string")
		case err != nil:
			return nil, &auth.UnavailableError{Err: fmt.Errorf("rails session store lookup: %w", err)}
		case len(b) == 0:
			continue // no such key
		case len(b) > MaxValueBytes:
			return nil, auth.Unauthorized("session value larger than %d bytes", MaxValueBytes)
		}
		session, info, err := DecodeValueInfo(b)
		if err != nil {
			return nil, auth.Unauthorized("session value: %v", err)
		}
		if info.ExpiredAt(unixSeconds(s.now())) {
			// Rails reads an expired entry as absent, and so falls back
			// to the public-id key.
			lastErr = auth.Unauthorized("session cache entry expired")
			continue
		}
		user, err := auth.UserFromSession(session, s.opts.Identity)
		if err != nil {
			return nil, auth.Unauthorized("session: %v", err)
		}
		return &auth.Identity{UserID: user, Session: session, SessionRef: keys[i]}, nil
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, auth.Unauthorized("no session in Redis for the %s cookie", s.opts.Cookie)
}

// validPublicID reports whether id is 32 lowercase hex digits, the only
// session ids Rails' stores generate. Anything else (a private id such as
// "2::…", a path, a glob) is never looked up.
func validPublicID(id string) bool {
	if len(id) != publicIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

// Missing returns the references (Redis keys, as in Identity.SessionRef)
// among refs whose session no longer exists: signing out deletes the key.
// It checks with pipelined EXISTS, one round trip per batch, and returns
// an error, not a verdict, when Redis cannot answer.
func (s *Store) Missing(ctx context.Context, refs []string) ([]string, error) {
	return sessioncheck.Missing(ctx, s.rdb, refs, sessioncheck.Exists)
}

// KeyspacePattern returns the keyspace-notification channel pattern that
// announces changes to this store's keys in Redis database db. With an
// empty prefix it matches every key of the database; RefFromKeyspace
// keeps only session keys.
func (s *Store) KeyspacePattern(db int) string {
	return fmt.Sprintf("__keyspace@%d__:%s*", db, globEscape(s.opts.Prefix))
}

// RefFromKeyspace returns the session reference (the Redis key) named by
// a keyspace channel, if the key is one of this store's session keys: the
// prefix, then a private id ("2::" + 64 hex digits) or a public id.
func (s *Store) RefFromKeyspace(db int, channel string) (string, bool) {
	key, ok := strings.CutPrefix(channel, fmt.Sprintf("__keyspace@%d__:", db))
	if !ok {
		return "", false
	}
	id, ok := strings.CutPrefix(key, s.opts.Prefix)
	if !ok {
		return "", false
	}
	if validPublicID(id) || validPrivateID(id) {
		return key, true
	}
	return "", false
}

func validPrivateID(id string) bool {
	rest, ok := strings.CutPrefix(id, privateTag)
	if !ok || len(rest) != 64 {
		return false
	}
	_, err := hex.DecodeString(rest)
	return err == nil && strings.ToLower(rest) == rest
}

// globEscape escapes the characters Redis glob patterns treat specially.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

var _ auth.Authenticator = (*Store)(nil)
