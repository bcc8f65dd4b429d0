package sioclient_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/sioclient"
	"github.com/heraldrt/herald/internal/sioclient/siotest"
	"github.com/heraldrt/herald/internal/testenv"
)

func cfgFor(s *httptest.Server) *sioclient.Config {
	addr := strings.TrimPrefix(s.URL, "http://")
	return &sioclient.Config{Addr: addr, Host: addr, HandshakeTimeout: 5 * time.Second}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 5*time.Second, what, cond)
}

func TestDialIdleAndClose(t *testing.T) {
	var gotCookie, gotOrigin, gotAuth atomic.Value
	srv := siotest.NewServer(siotest.Options{
		PingInterval: 30 * time.Millisecond, PingTimeout: 60 * time.Millisecond,
		Authorize: func(r *http.Request, auth []byte) error {
			gotCookie.Store(r.Header.Get("Cookie"))
			gotOrigin.Store(r.Header.Get("Origin"))
			gotAuth.Store(string(auth))
			return nil
		},
		OnConnect: func(c *siotest.Conn) { c.Emit("welcome", "hi", 7) },
	})
	defer srv.Close()

	cfg := cfgFor(srv.Server)
	cfg.Cookie = "session=abc"
	cfg.Origin = "http://example.test"
	cfg.Auth = []byte(`{"token":"t0"}`)
	c, err := sioclient.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.EngineSID(), "fake") || c.SID() != "io-"+c.EngineSID() {
		t.Fatalf("sids %q %q", c.EngineSID(), c.SID())
	}
	if gotCookie.Load() != "session=abc" || gotOrigin.Load() != "http://example.test" || gotAuth.Load() != `{"token":"t0"}` {
		t.Fatalf("server saw cookie %v origin %v auth %v", gotCookie.Load(), gotOrigin.Load(), gotAuth.Load())
	}
	var mu sync.Mutex
	var events []string
	loopErr := make(chan error, 1)
	go func() {
		loopErr <- c.ReadLoop(sioclient.Handler{Event: func(name string, data []byte) {
			mu.Lock()
			events = append(events, name+string(data))
			mu.Unlock()
		}})
	}()
	// Several ping rounds: the server drops us if a pong is late.
	waitFor(t, "5 pongs", func() bool { return srv.Pongs.Load() >= 5 })
	if srv.PingTimeout.Load() != 0 || srv.Open() != 1 {
		t.Fatalf("ping timeouts %d, open %d", srv.PingTimeout.Load(), srv.Open())
	}
	mu.Lock()
	if len(events) != 1 || events[0] != `welcome["welcome","hi",7]` {
		t.Fatalf("events %q", events)
	}
	mu.Unlock()
	if err := c.Emit("up", 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(time.Second); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Fatal(err)
	}
	if err := <-loopErr; err != nil {
		t.Fatalf("ReadLoop after Close = %v", err)
	}
	waitFor(t, "server to see close", func() bool { return srv.Open() == 0 })
	if srv.Disconnects.Load() != 1 || srv.CloseFrames.Load() != 1 || srv.Unmasked.Load() != 0 {
		t.Fatalf("disconnects %d close frames %d unmasked %d", srv.Disconnects.Load(), srv.CloseFrames.Load(), srv.Unmasked.Load())
	}
	if err := c.Emit("late"); !errors.Is(err, sioclient.ErrClosed) {
		t.Fatalf("Emit after Close = %v", err)
	}
	c.Close(time.Second) // idempotent
}

func TestDialConnectError(t *testing.T) {
	srv := siotest.NewServer(siotest.Options{
		Authorize: func(r *http.Request, auth []byte) error { return errors.New("Not authorized") },
	})
	defer srv.Close()
	_, err := sioclient.Dial(context.Background(), cfgFor(srv.Server))
	var ce *sioclient.ConnectError
	if !errors.As(err, &ce) || ce.Message != "Not authorized" {
		t.Fatalf("err = %v", err)
	}
	if r := sioclient.Reason(err); r != "connect_error: Not authorized" {
		t.Fatalf("reason %q", r)
	}
}

func TestDialHTTPError(t *testing.T) {
	srv := siotest.NewServer(siotest.Options{Reject: func(r *http.Request) int { return http.StatusForbidden }})
	defer srv.Close()
	_, err := sioclient.Dial(context.Background(), cfgFor(srv.Server))
	var he *sioclient.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 403 {
		t.Fatalf("err = %v", err)
	}
	if r := sioclient.Reason(err); r != `http 403: {"code":4,"message":"Forbidden"}` {
		t.Fatalf("reason %q", r)
	}
	// Not a Socket.IO server at all.
	srv2 := httptest.NewServer(http.NotFoundHandler())
	defer srv2.Close()
	_, err = sioclient.Dial(context.Background(), cfgFor(srv2))
	if r := sioclient.Reason(err); r != "http 404: 404 page not found" {
		t.Fatalf("reason %q", r)
	}
}

func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = sioclient.Dial(context.Background(), &sioclient.Config{Addr: addr, HandshakeTimeout: time.Second})
	if r := sioclient.Reason(err); r != "dial: connection refused" {
		t.Fatalf("reason %q (err %v)", r, err)
	}
}

// A server that accepts TCP but never answers: the handshake timeout and
// the caller's context must both bound Dial.
func TestDialHandshakeTimeoutAndCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	cfg := &sioclient.Config{Addr: ln.Addr().String(), HandshakeTimeout: 100 * time.Millisecond}
	start := time.Now()
	_, err = sioclient.Dial(context.Background(), cfg)
	if r := sioclient.Reason(err); r != "websocket handshake: timeout" {
		t.Fatalf("reason %q (err %v)", r, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	cfg.HandshakeTimeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start = time.Now()
	_, err = sioclient.Dial(ctx, cfg)
	if r := sioclient.Reason(err); r != "websocket handshake: canceled" {
		t.Fatalf("reason %q (err %v)", r, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancel took %v", d)
	}
}

// The server never pings: ReadLoop must give up after
// pingInterval+pingTimeout, reporting "ping timeout" like socket.io-client.
// The other way round, a client that does not answer is dropped by the
// server.
func TestPingTimeouts(t *testing.T) {
	srv := siotest.NewServer(siotest.Options{PingInterval: 40 * time.Millisecond, PingTimeout: 40 * time.Millisecond, NoPing: true})
	defer srv.Close()
	c, err := sioclient.Dial(context.Background(), cfgFor(srv.Server))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = c.ReadLoop(sioclient.Handler{})
	if r := sioclient.Reason(err); r != "ping timeout" {
		t.Fatalf("reason %q (err %v)", r, err)
	}
	if d := time.Since(start); d < 70*time.Millisecond || d > 2*time.Second {
		t.Fatalf("ping timeout after %v, want about 80ms", d)
	}

	srv2 := siotest.NewServer(siotest.Options{PingInterval: 20 * time.Millisecond, PingTimeout: 20 * time.Millisecond})
	defer srv2.Close()
	c, err = sioclient.Dial(context.Background(), cfgFor(srv2.Server))
	if err != nil {
		t.Fatal(err)
	}
	// No ReadLoop yet: nobody answers the ping.
	waitFor(t, "server ping timeout", func() bool { return srv2.PingTimeout.Load() == 1 })
	err = c.ReadLoop(sioclient.Handler{})
	if r := sioclient.Reason(err); !strings.HasPrefix(r, "transport") {
		t.Fatalf("reason %q (err %v)", r, err)
	}
}
