package demo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/heraldrt/herald/internal/demo"
	"github.com/redis/go-redis/v9"
)

func miniRedis(t *testing.T) (*miniredis.Miniredis, *redis.Client) {
	t.Helper()
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return m, rdb
}

// The hash layout, end to end through the handler: what herald's
// redis-hash authentication reads (HGET mySessionStore <token>).
func TestHashSessions(t *testing.T) {
	m, rdb := miniRedis(t)
	h := demo.Handler(demo.Options{Sessions: demo.HashSessions{RDB: rdb, Hash: "mySessionStore"}, Publisher: &fakePublisher{}})

	w := httptest.NewRecorder()
	h.ServeHTTP(w, formPost("/demo/sign-in", url.Values{"user_id": {"42"}, "name": {"Ada"}}))
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("sign-in: %d %v", w.Code, cs)
	}
	if got := m.HGet("mySessionStore", cs[0].Value); got != `{"user_id":42,"username":"Ada"}` {
		t.Errorf("HGET mySessionStore <token> = %q", got)
	}

	r := formPost("/demo/sign-out", nil)
	r.AddCookie(cs[0])
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", w.Code)
	}
	if m.Exists("mySessionStore") && m.HGet("mySessionStore", cs[0].Value) != "" {
		t.Errorf("the session is still in the hash after sign-out")
	}
}

func TestKeySessions(t *testing.T) {
	m, rdb := miniRedis(t)
	s := demo.KeySessions{RDB: rdb, Prefix: "herald:session:", TTL: time.Hour}
	ctx := context.Background()
	if err := s.Put(ctx, "tok", []byte(`{"user_id":1}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get("herald:session:tok"); got != `{"user_id":1}` {
		t.Errorf("GET herald:session:tok = %q", got)
	}
	if ttl := m.TTL("herald:session:tok"); ttl != time.Hour {
		t.Errorf("TTL = %v, want 1h", ttl)
	}
	if err := s.Delete(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	if m.Exists("herald:session:tok") {
		t.Error("the key still exists after Delete")
	}
}
