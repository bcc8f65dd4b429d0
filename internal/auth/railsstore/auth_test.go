package railsstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/auth"
	"github.com/heraldrt/herald/internal/testredis"
	"github.com/redis/go-redis/v9"
)

const (
	testCookie = "_acme_session"
	testID     = "3e8ca9485309f46a17a97d194d0c8e52"
	otherID    = "c610c14dee730d83a5e555d6703db320"
)

// setup returns a store over the test Redis with a prefix of its own, and
// a function writing a value under a key (deleted at the end).
func setup(t *testing.T, o Options) (*Store, *redis.Client, func(key string, value []byte)) {
	t.Helper()
	rdb := testredis.Client(t)
	if o.Cookie == "" {
		o.Cookie = testCookie
	}
	o.Prefix = testredis.Prefix(t) + o.Prefix
	s := New(rdb, o)
	put := func(key string, value []byte) {
		t.Helper()
		if err := rdb.Set(context.Background(), key, value, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rdb.Del(context.Background(), key) })
	}
	return s, rdb, put
}

func cookieFor(id string) string { return testCookie + "=" + id }

// unauthorized checks that err is auth.ErrUnauthorized with the reason,
// and that the cookie value is nowhere in it.
func unauthorized(t *testing.T, id *auth.Identity, err error, reason, cookie string) {
	t.Helper()
	if !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("want unauthorized (%s), got %+v, %v", reason, id, err)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Errorf("reason %q, want it to say %q", err, reason)
	}
	if cookie != "" && strings.Contains(err.Error(), cookie) {
		t.Errorf("the error quotes the cookie: %v", err)
	}
}

func TestAuthenticateRejectsCookies(t *testing.T) {
	s, _, put := setup(t, Options{})
	sess, _ := devise(t)
	// A session under every key these cookies could name, so a rejection
	// is the validation's, not a miss.
	for _, id := range []string{strings.ToUpper(testID), testID[:31], testID + "0"} {
		private, public := s.Keys(id)
		put(private, sess)
		put(public, sess)
	}
	for _, c := range []struct{ header, value, reason string }{
		{"", "", "no _acme_session cookie"},
		{"other=" + testID, "", "no _acme_session cookie"},
		{testCookie + "=", "", "no _acme_session cookie"},
		{cookieFor(strings.ToUpper(testID)), strings.ToUpper(testID), "not a session id"},
		{cookieFor(testID[:31]), testID[:31], "not a session id"},
		{cookieFor(testID + "0"), testID + "0", "not a session id"},
		{cookieFor(PrivateID(testID)), PrivateID(testID), "not a session id"},
		{cookieFor("zz" + testID[2:]), "zz" + testID[2:], "not a session id"},
		{cookieFor("*"), "*", "not a session id"},
		{cookieFor(strings.Repeat("a", 5000)), strings.Repeat("a", 5000), "longer than 4096"},
	} {
		t.Run(c.header, func(t *testing.T) {
			id, err := s.Authenticate(context.Background(), handshake(c.header))
			unauthorized(t, id, err, c.reason, c.value)
		})
	}
}

func TestAuthenticateValues(t *testing.T) {
	sess, _ := devise(t)
	ctx := context.Background()
	t.Run("no key", func(t *testing.T) {
		s, _, _ := setup(t, Options{})
		id, err := s.Authenticate(ctx, handshake(cookieFor(testID)))
		unauthorized(t, id, err, "no session in Redis", testID)
	})
	for _, c := range []struct {
		name   string
		value  []byte
		reason string
	}{
		{"garbage", []byte("\x07garbage"), "unknown session value format"},
		{"broken Marshal", sess[:40], "malformed"},
		{"array", marshal(mArray([]byte{'i', 6})), "not a session"},
		{"compression bomb", cache71(0x81, -1, "", deflate(make([]byte, 8<<20))), "inflates beyond"},
		{"no user", []byte(`{"_csrf_token":"x"}`), `session has neither "warden.user.user.key" nor "user_id"`},
		{"malformed Devise key", []byte(`{"warden.user.user.key":"42"}`), "is not Devise's [[id], salt]"},
		{"expired 7.1 entry", cache71(0x01, 1000, "", sess), "expired"},
		{"expired 6.1 entry", marshal(mEntry(mSym("@value"), body(sess), mSym("@created_at"), mFloat(1000), mSym("@expires_in"), mFloat(60))), "expired"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _, put := setup(t, Options{})
			private, _ := s.Keys(testID)
			put(private, c.value)
			id, err := s.Authenticate(ctx, handshake(cookieFor(testID)))
			unauthorized(t, id, err, c.reason, testID)
		})
	}
	t.Run("value over the limit", func(t *testing.T) {
		s, _, put := setup(t, Options{})
		private, _ := s.Keys(testID)
		big := append([]byte(`{"user_id":1,"pad":"`), strings.Repeat("x", 2*MaxValueBytes)...)
		put(private, append(big, `"}`...))
		id, err := s.Authenticate(ctx, handshake(cookieFor(testID)))
		unauthorized(t, id, err, "larger than", testID)
	})
	t.Run("not a string", func(t *testing.T) {
		s, rdb, _ := setup(t, Options{})
		private, _ := s.Keys(testID)
		rdb.HSet(ctx, private, "a", "b")
		t.Cleanup(func() { rdb.Del(ctx, private) })
		id, err := s.Authenticate(ctx, handshake(cookieFor(testID)))
		unauthorized(t, id, err, "does not hold a string", testID)
	})
}

func TestAuthenticateKeys(t *testing.T) {
	ctx := context.Background()
	user := func(id int) []byte { return fmt.Appendf(nil, `{"user_id":%d}`, id) }
	t.Run("private id preferred", func(t *testing.T) {
		s, _, put := setup(t, Options{Prefix: "session:"})
		private, public := s.Keys(testID)
		put(private, user(1))
		put(public, user(2))
		id, err := s.Authenticate(ctx, handshake(cookieFor(testID)))
		if err != nil || id.UserID != "1" || id.SessionRef != private {
			t.Fatalf("%+v, %v", id, err)
		}
		sum := sha256.Sum256([]byte(testID))
		if private != s.opts.Prefix+"2::"+hex.EncodeToString(sum[:]) {
			t.Errorf("private key %q", private)
		}
	})
	t.Run("public id fallback", func(t *testing.T) {
		s, _, put := setup(t, Options{Prefix: "session:"})
		_, public := s.Keys(testID)
		put(public, user(2))
		id, err := s.Authenticate(ctx, handshake(cookieFor(testID)))
		if err != nil || id.UserID != "2" || id.SessionRef != public {
			t.Fatalf("%+v, %v", id, err)
		}
	})
	t.Run("expired private entry falls back to the public id", func(t *testing.T) {
		s, _, put := setup(t, Options{})
		private, public := s.Keys(testID)
		put(private, cache71(0x01, 1000, "", marshal([]byte("{\x06I\"\x0cuser_id\x06:\x06ETi\x06"))))
		put(public, user(2))
		id, err := s.Authenticate(ctx, handshake(cookieFor(testID)))
		if err != nil || id.UserID != "2" || id.SessionRef != public {
			t.Fatalf("%+v, %v", id, err)
		}
	})
	t.Run("undecodable private entry is not skipped", func(t *testing.T) {
		s, _, put := setup(t, Options{})
		private, public := s.Keys(testID)
		put(private, []byte("\x07garbage"))
		put(public, user(2))
		id, err := s.Authenticate(ctx, handshake(cookieFor(testID)))
		unauthorized(t, id, err, "unknown session value format", testID)
	})
	t.Run("empty prefix", func(t *testing.T) {
		rdb := testredis.Client(t)
		s := New(rdb, Options{Cookie: testCookie})
		private, _ := s.Keys(testID)
		if private != PrivateID(testID) {
			t.Fatalf("key %q", private)
		}
		// testID is a constant: use a random id so parallel runs never meet.
		id := randomID(t)
		private, _ = s.Keys(id)
		rdb.Set(ctx, private, user(5), time.Minute)
		t.Cleanup(func() { rdb.Del(ctx, private) })
		got, err := s.Authenticate(ctx, handshake(cookieFor(id)))
		if err != nil || got.UserID != "5" || got.SessionRef != private {
			t.Fatalf("%+v, %v", got, err)
		}
	})
	t.Run("identity options", func(t *testing.T) {
		s, _, put := setup(t, Options{Identity: auth.IdentityOptions{DeviseScope: "admin", Key: "account_id"}})
		private, _ := s.Keys(testID)
		_, otherPublic := s.Keys(otherID)
		put(private, []byte(`{"warden.user.admin.key":[["0b6c…uuid"],"$2a$10$salt"],"warden.user.user.key":[[1],"x"]}`))
		put(otherPublic, []byte(`{"account_id":"acct-9","user_id":1}`))
		id, err := s.Authenticate(ctx, handshake(cookieFor(testID)))
		if err != nil || id.UserID != "0b6c…uuid" {
			t.Fatalf("%+v, %v", id, err)
		}
		id, err = s.Authenticate(ctx, handshake(cookieFor(otherID)))
		if err != nil || id.UserID != "acct-9" {
			t.Fatalf("%+v, %v", id, err)
		}
	})
}

func randomID(t *testing.T) string {
	p := testredis.Prefix(t) // "test:<12 hex>:"
	h := sha256.Sum256([]byte(p + t.Name()))
	return hex.EncodeToString(h[:16])
}

func TestUnsign(t *testing.T) {
	const secret = "--sig"
	unsign := func(c string) (string, error) {
		id, ok := strings.CutSuffix(c, secret)
		if !ok {
			return "", fmt.Errorf("bad signature on %q", c)
		}
		return id, nil
	}
	s, _, put := setup(t, Options{Unsign: unsign})
	private, _ := s.Keys(testID)
	put(private, []byte(`{"user_id":3}`))
	id, err := s.Authenticate(context.Background(), handshake(cookieFor(testID+secret)))
	if err != nil || id.UserID != "3" {
		t.Fatalf("%+v, %v", id, err)
	}
	// The Unsign error quotes the cookie; Authenticate must not pass it on.
	id, err = s.Authenticate(context.Background(), handshake(cookieFor(testID+"--forged")))
	unauthorized(t, id, err, "does not unsign", testID)
}

// TestMissing: a session deleted (signed out) is reported missing; one
// still there is not.
func TestMissing(t *testing.T) {
	s, rdb, put := setup(t, Options{Prefix: "session:"})
	ctx := context.Background()
	sess, _ := devise(t)
	var refs []string
	for _, pub := range []string{testID, otherID} {
		private, _ := s.Keys(pub)
		put(private, sess)
		id, err := s.Authenticate(ctx, handshake(cookieFor(pub)))
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, id.SessionRef)
	}
	if m, err := s.Missing(ctx, refs); err != nil || len(m) != 0 {
		t.Fatalf("before sign-out: %v, %v", m, err)
	}
	rdb.Del(ctx, refs[0])
	m, err := s.Missing(ctx, refs)
	if err != nil || len(m) != 1 || m[0] != refs[0] {
		t.Fatalf("after DEL: %v, %v (want [%s])", m, err, refs[0])
	}
	// More than one batch.
	many := make([]string, 2500)
	for i := range many {
		many[i] = refs[i%2]
	}
	m, err = s.Missing(ctx, many)
	if err != nil || len(m) != 1250 {
		t.Fatalf("batched: %d missing, %v", len(m), err)
	}
	if m, err := s.Missing(ctx, nil); err != nil || m != nil {
		t.Fatalf("no refs: %v, %v", m, err)
	}
}

// TestRedisDown: an outage is UnavailableError (not a sign-out), and
// Missing returns an error, not a verdict.
func TestRedisDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond, DialerRetries: 1})
	defer rdb.Close()
	s := New(rdb, Options{Cookie: testCookie, Timeout: time.Second})
	id, err := s.Authenticate(context.Background(), handshake(cookieFor(testID)))
	var ue *auth.UnavailableError
	if !errors.As(err, &ue) || errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("want UnavailableError, got %+v, %v", id, err)
	}
	if strings.Contains(err.Error(), testID) {
		t.Errorf("the error quotes the cookie: %v", err)
	}
	if m, err := s.Missing(context.Background(), []string{"k"}); err == nil {
		t.Fatalf("Missing answered %v with Redis down", m)
	}
}

func TestTimeout(t *testing.T) {
	// A listener that accepts and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: l.Addr().String(), MaxRetries: -1, ContextTimeoutEnabled: true, Protocol: 2})
	defer rdb.Close()
	s := New(rdb, Options{Cookie: testCookie, Timeout: 150 * time.Millisecond})
	start := time.Now()
	_, err = s.Authenticate(context.Background(), handshake(cookieFor(testID)))
	var ue *auth.UnavailableError
	if !errors.As(err, &ue) {
		t.Fatalf("want UnavailableError, got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the lookup took %v with a 150ms timeout", d)
	}
}

func TestConcurrentAuthenticate(t *testing.T) {
	s, _, put := setup(t, Options{})
	sess, _ := devise(t)
	private, _ := s.Keys(testID)
	put(private, cache71(0x81, -1, "", deflate(sess)))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 8 {
		wg.Go(func() {
			for range 8 {
				id, err := s.Authenticate(context.Background(), handshake(cookieFor(testID)))
				if err == nil && id.UserID != "42" {
					err = fmt.Errorf("user %q", id.UserID)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestKeyspace(t *testing.T) {
	s := New(nil, Options{Cookie: testCookie, Prefix: "myapp:_session_id:"})
	if p := s.KeyspacePattern(3); p != "__keyspace@3__:myapp:_session_id:*" {
		t.Errorf("pattern %q", p)
	}
	if p := New(nil, Options{Prefix: `a*b?[c]\`}).KeyspacePattern(0); p != `__keyspace@0__:a\*b\?\[c\]\\*` {
		t.Errorf("glob characters not escaped: %q", p)
	}
	private, public := s.Keys(testID)
	for _, c := range []struct {
		channel string
		ref     string
	}{
		{"__keyspace@3__:" + private, private},
		{"__keyspace@3__:" + public, public},
		{"__keyspace@0__:" + private, ""},                             // another database
		{"__keyspace@3__:other:_session_id:" + PrivateID(testID), ""}, // another prefix
		{"__keyspace@3__:myapp:_session_id:views/1", ""},              // a cache key, not a session
		{"__keyspace@3__:myapp:_session_id:2::" + strings.ToUpper(PrivateID(testID)[3:]), ""},
		{"__keyspace@3__:myapp:_session_id:2::abc", ""},
	} {
		ref, ok := s.RefFromKeyspace(3, c.channel)
		if ok != (c.ref != "") || ref != c.ref {
			t.Errorf("%s: %q %v, want %q", c.channel, ref, ok, c.ref)
		}
	}
	// With no prefix (redis-session-store's default) only session-shaped
	// keys count.
	bare := New(nil, Options{Cookie: testCookie})
	if ref, ok := bare.RefFromKeyspace(0, "__keyspace@0__:"+PrivateID(testID)); !ok || ref != PrivateID(testID) {
		t.Errorf("bare private key: %q %v", ref, ok)
	}
	if _, ok := bare.RefFromKeyspace(0, "__keyspace@0__:some:cache:key"); ok {
		t.Error("an unrelated key was taken for a session")
	}
	if New(nil, Options{}).Options().Timeout != 2*time.Second {
		t.Error("default timeout")
	}
}
