package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/app"
	"github.com/heraldrt/herald/internal/config"
	"github.com/heraldrt/herald/internal/sioclient"
	"github.com/heraldrt/herald/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server of the test's own, which it may stop and
// start again. It persists to an append-only file, as a production Redis
// does, so sessions survive its restart.
type redisServer struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		testenv.Skip(t, "redis-server not installed: run scripts/test.sh, which installs it")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &redisServer{t: t, port: port, dir: t.TempDir()}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", r.dir)
	r.cmd.Stdout, r.cmd.Stderr = io.Discard, io.Discard
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(r.port)})
	defer c.Close()
	eventually(r.t, 10*time.Second, "redis-server answers", func() bool {
		return c.Ping(context.Background()).Err() == nil
	})
}

func (r *redisServer) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, within, what, cond)
}

func startHerald(t *testing.T, args ...string) (*app.App, string) {
	t.Helper()
	cfg, err := config.Load(append([]string{"--listen", "127.0.0.1:0"}, args...), func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("herald stopped with %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("herald did not shut down within 15s")
		}
	})
	return a, a.Addr().String()
}

// client is a connected Socket.IO client recording the events it receives.
type client struct {
	conn *sioclient.Conn
	mu   sync.Mutex
	got  []string
	done chan error
}

func dial(t *testing.T, addr, token string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := sioclient.Dial(ctx, &sioclient.Config{Addr: addr, Host: addr,
		Cookie: "_validation_token_key=" + token, HandshakeTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	c := &client{conn: conn, done: make(chan error, 1)}
	go func() {
		c.done <- conn.ReadLoop(sioclient.Handler{Event: func(name string, data []byte) {
			c.mu.Lock()
			c.got = append(c.got, name+" "+string(data))
			c.mu.Unlock()
		}})
	}()
	t.Cleanup(func() { _ = conn.Close(time.Second) })
	return c
}

func (c *client) events() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRedisRestart: while Redis is down herald keeps its connections,
// reports not ready, refuses new ones with a retryable error (never
// "Unauthorized user"), revokes nobody; once Redis is back it resubscribes
// and delivers what is published.
func TestRedisRestart(t *testing.T) {
	rs := startRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(rs.port)})
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.HSet(ctx, "mySessionStore", "tok", `{"user_id":42}`).Err(); err != nil {
		t.Fatal(err)
	}
	a, addr := startHerald(t, "--redis", rs.url(), "--keyspace-events", "off", "--revocation-interval", "200ms")
	eventually(t, 10*time.Second, "herald is ready", a.Ready)
	c := dial(t, addr, "tok")

	rs.stop()
	eventually(t, 10*time.Second, "/readyz reports the outage", func() bool {
		return status(t, "http://"+addr+"/readyz") == http.StatusServiceUnavailable
	})
	time.Sleep(600 * time.Millisecond) // several revocation sweeps fail meanwhile
	select {
	case err := <-c.done:
		t.Fatalf("a live connection was dropped during the Redis outage: %v", err)
	default:
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err := sioclient.Dial(dctx, &sioclient.Config{Addr: addr, Host: addr, Cookie: "_validation_token_key=tok"})
	cancel()
	if err == nil || !strings.Contains(err.Error(), "temporarily unavailable") {
		t.Fatalf("connecting during the outage: %v, want the retryable connect_error", err)
	}

	rs.start()
	eventually(t, 15*time.Second, "herald is ready again", func() bool {
		return status(t, "http://"+addr+"/readyz") == http.StatusOK
	})
	if err := rdb.Publish(ctx, "herald:notify", `{"user":42,"event":"after","data":1}`).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the notification published after the restart arrives", func() bool {
		for _, e := range c.events() {
			if e == `after ["after",1]` {
				return true
			}
		}
		return false
	})
	select {
	case err := <-c.done:
		t.Fatalf("connection dropped: %v", err)
	default:
	}
}

// TestSlowClientDoesNotStallOthers: a client that stops reading is cut off
// when its bounded queue overflows, and counted; the others keep getting
// their notifications.
func TestSlowClientDoesNotStallOthers(t *testing.T) {
	rs := startRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(rs.port)})
	defer rdb.Close()
	ctx := context.Background()
	rdb.HSet(ctx, "mySessionStore", "slow", `{"user_id":1}`, "fast", `{"user_id":2}`)
	_, addr := startHerald(t, "--redis", rs.url(), "--keyspace-events", "off")

	silentClient(t, addr, "slow")
	fast := dial(t, addr, "fast")
	big := strings.Repeat("x", 60_000)
	const n = 300 // 18 MB for the slow client: far past the 4 MiB bound
	for i := range n {
		msg := fmt.Sprintf(`[{"user":1,"event":"flood","data":%q},{"user":2,"event":"tick","data":%d}]`, big, i)
		if err := rdb.Publish(ctx, "herald:notify", msg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "the fast client gets every notification", func() bool {
		k := 0
		for _, e := range fast.events() {
			if strings.HasPrefix(e, "tick ") {
				k++
			}
		}
		return k == n
	})
	eventually(t, 10*time.Second, "the slow client is disconnected and counted", func() bool {
		return metric(t, addr, `herald_disconnects_total{reason="slow client"}`) == 1
	})
}

// silentClient connects over WebSocket and then never reads.
func silentClient(t *testing.T, addr, token string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := sioclient.Dial(ctx, &sioclient.Config{Addr: addr, Host: addr,
		Cookie: "_validation_token_key=" + token, ReadBufferSize: 512})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(0) })
	// No ReadLoop: the kernel buffers fill, then herald's queue.
}

func metric(t *testing.T, addr, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// TestShutdownWithPprof: SIGTERM (the context ending) stops a node that
// also serves pprof, within the bound.
func TestShutdownWithPprof(t *testing.T) {
	rs := startRedis(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pprofAddr := ln.Addr().String()
	ln.Close()
	cfg, err := config.Load([]string{"--listen", "127.0.0.1:0", "--redis", rs.url(), "--pprof", pprofAddr,
		"--shutdown-timeout", "2s"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	eventually(t, 5*time.Second, "pprof answers", func() bool {
		resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a node serving pprof did not stop")
	}
}
