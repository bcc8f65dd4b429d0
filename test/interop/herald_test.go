//go:build unix

package interop_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/app"
	"github.com/heraldrt/herald/internal/config"
	"github.com/heraldrt/herald/internal/testenv"
	"github.com/heraldrt/herald/internal/testredis"
)

// node is a herald node running in this test process.
type node struct {
	app  *app.App
	url  string
	done chan error
}

func startNode(t *testing.T, ctx context.Context, args ...string) *node {
	t.Helper()
	cfg, err := config.Load(append([]string{"--listen", "127.0.0.1:0", "--log-level", "warn"}, args...),
		func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatalf("config %v: %v", args, err)
	}
	log := slog.New(slog.NewTextHandler(newLineLogger(t, "herald: "), &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.New(cfg, log)
	if err != nil {
		t.Fatalf("start herald %v: %v", args, err)
	}
	n := &node{app: a, url: "http://" + a.Addr().String(), done: make(chan error, 1)}
	go func() { n.done <- a.Run(ctx) }()
	return n
}

// TestHeraldWithOfficialClient drives herald nodes sharing one real Redis
// with socket.io-client, node-redis and @socket.io/redis-emitter from Node:
// authentication from the session copy, delivery across nodes exactly once,
// the HTTP API, the emitter format, live sign-out, and a Redis outage.
func TestHeraldWithOfficialClient(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode")
	}
	nodeBin := needNode(t, "@socket.io/redis-emitter")
	redisURL := testredis.URL(t)
	rdb := testredis.Client(t)
	prefix := testredis.Prefix(t)
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	const apiKey = "test-api-key-0123456789"
	common := []string{"--redis", redisURL, "--api-key", apiKey,
		"--session-hash", prefix + "mySessionStore", "--channel", prefix + "herald:notify",
		"--emitter-prefix", prefix + "socket.io", "--allowed-origins", "https://app.example.com"}

	ctx, cancel := context.WithCancel(context.Background())
	a := startNode(t, ctx, append(common, "--keyspace-events", "off")...) // re-checks sessions every second
	b := startNode(t, ctx, common...)                                     // keyspace notifications
	c := startNode(t, ctx, append(common, "--auth", "redis-key", "--session-prefix", prefix+"sess:")...)
	d := startNode(t, ctx, "--redis", "redis://127.0.0.1:1/0", "--api-key", apiKey) // Redis down
	nodes := []*node{a, b, c, d}
	defer func() {
		cancel()
		for _, n := range nodes {
			select {
			case err := <-n.done:
				if err != nil {
					t.Errorf("node %s stopped with %v", n.url, err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("node %s did not shut down in time", n.url)
			}
		}
	}()
	waitReady(t, a, b, c)

	runNode(t, nodeBin, "herald.test.mjs", map[string]string{
		"HERALD_A": a.url, "HERALD_B": b.url, "HERALD_C": c.url, "HERALD_D": d.url,
		"REDIS_URL": redisURL, "PREFIX": prefix, "HERALD_API_KEY": apiKey,
	})

	t.Run("origin check", func(t *testing.T) {
		for origin, want := range map[string]int{"https://app.example.com": 200, "https://evil.example": 403} {
			req, _ := http.NewRequest("GET", a.url+"/socket.io/?EIO=4&transport=polling", nil)
			req.Header.Set("Origin", origin)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("Origin %s: status %d, want %d", origin, resp.StatusCode, want)
			}
		}
	})
	t.Run("readiness", func(t *testing.T) {
		if code := get(t, a.url+"/readyz"); code != 200 {
			t.Errorf("node with Redis: /readyz %d, want 200", code)
		}
		if code := get(t, d.url+"/readyz"); code != 503 {
			t.Errorf("node without Redis: /readyz %d, want 503", code)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		ma := scrape(t, a.url)
		for _, m := range []string{`herald_authentications_total{outcome="ok"}`, `herald_authentications_total{outcome="unauthorized"}`,
			`herald_messages_delivered_total`, `herald_messages_received_total{source="redis"}`,
			`herald_sessions_revoked_total`} {
			if v, ok := ma[m]; !ok || v < 1 {
				t.Errorf("node A: %s = %v (present %v), want >= 1", m, v, ok)
			}
		}
		if _, ok := ma["herald_connections"]; !ok {
			t.Error("node A: herald_connections missing")
		}
		if v := scrape(t, b.url)[`herald_messages_received_total{source="emitter"}`]; v < 1 {
			t.Errorf("node B: emitter messages received = %v, want >= 1", v)
		}
		if v := scrape(t, d.url)[`herald_authentications_total{outcome="unavailable"}`]; v < 1 {
			t.Errorf("node D: unavailable authentications = %v, want >= 1", v)
		}
	})
}

func needNode(t *testing.T, module string) string {
	t.Helper()
	bin, err := exec.LookPath("node")
	if err != nil {
		testenv.Skip(t, "node not found: run scripts/test.sh, which installs it")
	}
	if _, err := os.Stat(filepath.Join("node_modules", filepath.FromSlash(module), "package.json")); err != nil {
		testenv.Skip(t, "test/interop/node_modules is incomplete: run `npm ci` in test/interop (scripts/test.sh does)")
	}
	return bin
}

func runNode(t *testing.T, bin, script string, env map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--test", "--test-concurrency=1", script)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	w := newLineLogger(t, "node: ")
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		t.Fatalf("node --test %s: %v (see the node: lines above)", script, err)
	}
}

func waitReady(t *testing.T, nodes ...*node) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range nodes {
		for !n.app.Ready() {
			if time.Now().After(deadline) {
				t.Fatalf("node %s not ready after 10s", n.url)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var sampleLine = regexp.MustCompile(`^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$`)

// scrape reads a node's /metrics as a real Prometheus server would.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("/metrics Content-Type %q", ct)
	}
	body, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if m := sampleLine.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseFloat(m[2], 64)
			out[m[1]] = v
		}
	}
	return out
}
