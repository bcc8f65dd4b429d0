package redissession

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/heraldrt/herald/internal/auth"
	"github.com/heraldrt/herald/internal/testredis"
	"github.com/redis/go-redis/v9"
)

func handshake(cookie string) *auth.Handshake {
	h := &auth.Handshake{Header: http.Header{}, Auth: []byte(`{}`)}
	if cookie != "" {
		h.Header.Set("Cookie", cookie)
	}
	return h
}

func TestHashLayout(t *testing.T) {
	rdb := testredis.Client(t)
	ctx := context.Background()
	hash := testredis.Prefix(t) + "mySessionStore"
	s := New(rdb, Options{HashName: hash})
	rdb.HSet(ctx, hash, "tok-num", `{"user_id":42,"username":"ada"}`)
	rdb.HSet(ctx, hash, "tok-str", `{"user_id":"u-7"}`)
	rdb.HSet(ctx, hash, "tok-bad", `not json`)
	rdb.HSet(ctx, hash, "tok-noid", `{"username":"x"}`)
	rdb.HSet(ctx, hash, "tok-float", `{"user_id":4.5}`)
	rdb.HSet(ctx, hash, "tok-big", `{"user_id":12345678901234567890}`)
	t.Cleanup(func() { rdb.Del(context.Background(), hash) })

	id, err := s.Authenticate(ctx, handshake("_validation_token_key=tok-num"))
	if err != nil || id.UserID != "42" || id.SessionRef != "tok-num" || string(id.Session) != `{"user_id":42,"username":"ada"}` {
		t.Fatalf("cookie auth: %+v, %v", id, err)
	}
	if id, err = s.Authenticate(ctx, handshake("_validation_token_key=tok-big")); err != nil || id.UserID != "12345678901234567890" {
		t.Fatalf("big integer id: %+v, %v", id, err)
	}
	h := handshake("")
	h.Auth = []byte(`{"token":"tok-str"}`)
	if id, err = s.Authenticate(ctx, h); err != nil || id.UserID != "u-7" {
		t.Fatalf("auth.token: %+v, %v", id, err)
	}
	for name, hs := range map[string]*auth.Handshake{
		"no cookie":     handshake(""),
		"unknown token": handshake("_validation_token_key=nope"),
		"bad json":      handshake("_validation_token_key=tok-bad"),
		"no user_id":    handshake("_validation_token_key=tok-noid"),
		"float id":      handshake("_validation_token_key=tok-float"),
		"other cookie":  handshake("session=tok-num"),
	} {
		if _, err := s.Authenticate(ctx, hs); !errors.Is(err, auth.ErrUnauthorized) {
			t.Errorf("%s: err = %v, want unauthorized", name, err)
		}
	}

	missing, err := s.Missing(ctx, []string{"tok-num", "gone", "tok-str"})
	if err != nil || !slices.Equal(missing, []string{"gone"}) {
		t.Fatalf("Missing = %v, %v", missing, err)
	}
}

func TestKeyLayoutAndCustomNames(t *testing.T) {
	rdb := testredis.Client(t)
	ctx := context.Background()
	prefix := testredis.Prefix(t) + "sess:"
	s := New(rdb, Options{Layout: Key, KeyPrefix: prefix, Cookie: "sid", IDField: "uid"})
	rdb.Set(ctx, prefix+"abc", `{"uid":7}`, 0)
	t.Cleanup(func() { rdb.Del(context.Background(), prefix+"abc") })

	id, err := s.Authenticate(ctx, handshake("sid=abc"))
	if err != nil || id.UserID != "7" {
		t.Fatalf("key layout: %+v, %v", id, err)
	}
	if _, err := s.Authenticate(ctx, handshake("_validation_token_key=abc")); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("default cookie name accepted with a custom one configured: %v", err)
	}
	rdb.Del(ctx, prefix+"abc")
	missing, err := s.Missing(ctx, []string{"abc"})
	if err != nil || !slices.Equal(missing, []string{"abc"}) {
		t.Fatalf("Missing after DEL = %v, %v", missing, err)
	}
	if ref, ok := s.RefFromKeyspace(0, "__keyspace@0__:"+prefix+"abc"); !ok || ref != "abc" {
		t.Fatalf("RefFromKeyspace = %q, %v", ref, ok)
	}
}

func TestRedisDownIsUnavailableNotUnauthorized(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer rdb.Close()
	s := New(rdb, Options{})
	_, err := s.Authenticate(context.Background(), handshake("_validation_token_key=tok"))
	var ue *auth.UnavailableError
	if !errors.As(err, &ue) || errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("err = %v, want UnavailableError", err)
	}
	if _, err := s.Missing(context.Background(), []string{"tok"}); err == nil {
		t.Fatal("Missing reported no error with Redis down: sessions would be revoked by an outage")
	}
}

func TestOversizedTokenRefusedWithoutLookup(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer rdb.Close()
	s := New(rdb, Options{})
	long := make([]byte, maxToken+1)
	for i := range long {
		long[i] = 'a'
	}
	_, err := s.Authenticate(context.Background(), handshake("_validation_token_key="+string(long)))
	if !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("err = %v, want unauthorized (no Redis round trip)", err)
	}
}

// BenchmarkAuthenticate is the session lookup of every connect: cookie,
// HGET against the test Redis (one round trip), JSON, user id.
func BenchmarkAuthenticate(b *testing.B) {
	rdb := testredis.Client(b)
	ctx := context.Background()
	hash := testredis.Prefix(b) + "mySessionStore"
	rdb.HSet(ctx, hash, "tok", `{"user_id":42,"username":"ada","_csrf_token":"abcdefghijklmnopqrstuvwxyz0123456789"}`)
	b.Cleanup(func() { rdb.Del(context.Background(), hash) })
	s := New(rdb, Options{HashName: hash})
	h := handshake("_ga=GA1.1.1; _validation_token_key=tok; theme=dark")
	b.ReportAllocs()
	for b.Loop() {
		if id, err := s.Authenticate(ctx, h); err != nil || id.UserID != "42" {
			b.Fatal(id, err)
		}
	}
}
