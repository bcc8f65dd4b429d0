package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/sioclient/siotest"
	"github.com/heraldrt/herald/internal/testenv"
)

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, what, cond)
}

// authFromCookie checks that connection i carries cookie tok=c<i> and auth
// {"token":"a<i>"} with the same i, and refuses i == 7.
func authFromCookie(r *http.Request, auth []byte) error {
	c, err := r.Cookie("tok")
	if err != nil {
		return err
	}
	var a struct{ Token string }
	if err := json.Unmarshal(auth, &a); err != nil {
		return err
	}
	if "c"+strings.TrimPrefix(a.Token, "a") != c.Value {
		return fmt.Errorf("cookie %q does not match auth %q", c.Value, a.Token)
	}
	if r.Header.Get("Origin") != "http://o"+strings.TrimPrefix(a.Token, "a") {
		return errors.New("bad origin")
	}
	if a.Token == "a7" {
		return errors.New("Not authorized")
	}
	return nil
}

func TestPool(t *testing.T) {
	const n = 60
	srv := siotest.NewServer(siotest.Options{
		PingInterval: 25 * time.Millisecond, PingTimeout: 50 * time.Millisecond,
		Authorize: authFromCookie,
		OnConnect: func(c *siotest.Conn) { c.Emit("hello", c.SID) },
	})
	defer srv.Close()
	tg, err := parseTarget(context.Background(), srv.URL, "", false)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[int]string{}
	var drops []int
	p := newPool(poolConfig{
		Target: tg, N: n, Concurrency: 8, Spread: true,
		Cookie: "tok=c{i}", Auth: `{"token":"a{i}"}`, Origin: "http://o{i}",
		HandshakeTimeout: 5 * time.Second,
		OnEvent: func(conn int, event string, raw []byte) {
			mu.Lock()
			got[conn] = event + string(raw)
			mu.Unlock()
		},
		OnDrop: func(conn int, err error) {
			mu.Lock()
			drops = append(drops, conn)
			mu.Unlock()
		},
	})
	st := p.dial(context.Background())
	if st.OK != n-1 || st.Failed != 1 || st.NotAttempted != 0 {
		t.Fatalf("dial stats %+v; failures %v", st, p.failures.sorted())
	}
	if f := p.failures.sorted(); len(f) != 1 || f[0] != (reasonCount{"connect_error: Not authorized", 1}) {
		t.Fatalf("failures %v", f)
	}
	if p.conn(7) != nil || p.conn(8) == nil {
		t.Fatal("conn(7) should be nil and conn(8) set")
	}
	// Source addresses are spread over 127.0.0.x.
	if a := p.conn(8).LocalAddr().String(); !strings.HasPrefix(a, "127.0.0.10:") {
		t.Fatalf("conn 8 local address %s, want 127.0.0.10", a)
	}
	waitUntil(t, "welcome events", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == n-1 })
	mu.Lock()
	if want := `hello["hello","` + p.conn(3).EngineSID() + `"]`; got[3] != want {
		t.Fatalf("conn 3 got %q, want %q", got[3], want)
	}
	mu.Unlock()
	// Idle through several ping rounds without being dropped.
	waitUntil(t, "pongs", func() bool { return srv.Pongs.Load() >= 3*(n-1) })
	if srv.PingTimeout.Load() != 0 || p.alive.Load() != n-1 {
		t.Fatalf("server ping timeouts %d, alive %d", srv.PingTimeout.Load(), p.alive.Load())
	}
	// A connection the server drops is counted as dropped.
	srv.Each(func(c *siotest.Conn) {
		if c.Request.Header.Get("Cookie") == "tok=c5" {
			c.Close()
		}
	})
	waitUntil(t, "drop", func() bool { return p.drops.total() == 1 })
	mu.Lock()
	if len(drops) != 1 || drops[0] != 5 {
		t.Fatalf("drops %v", drops)
	}
	mu.Unlock()
	if d := p.drops.sorted(); !strings.HasPrefix(d[0].Reason, "transport") {
		t.Fatalf("drop reason %v", d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.close(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	if p.alive.Load() != 0 || p.drops.total() != 1 {
		t.Fatalf("after close: alive %d drops %d", p.alive.Load(), p.drops.total())
	}
	waitUntil(t, "server to see every close", func() bool { return srv.Open() == 0 })
	if srv.Disconnects.Load() != n-2 || srv.CloseFrames.Load() != n-2 || srv.Unmasked.Load() != 0 {
		t.Fatalf("server saw %d disconnects, %d close frames, %d unmasked", srv.Disconnects.Load(), srv.CloseFrames.Load(), srv.Unmasked.Load())
	}
}

// The run's context bounds the dial phase: connections not yet attempted
// are reported as such.
func TestPoolDialCanceled(t *testing.T) {
	srv := siotest.NewServer(siotest.Options{})
	defer srv.Close()
	tg, err := parseTarget(context.Background(), srv.URL, "", false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := newPool(poolConfig{Target: tg, N: 1000, Concurrency: 2, HandshakeTimeout: time.Second})
	go func() {
		for p.connected.Load() < 10 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	st := p.dial(ctx)
	if st.NotAttempted == 0 || st.OK+st.Failed+st.NotAttempted != 1000 {
		t.Fatalf("stats %+v", st)
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	if err := p.close(cctx, time.Second); err != nil {
		t.Fatal(err)
	}
}
