package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/sioclient/siotest"
)

// lastJSON decodes the -json line of idle's output.
func lastJSON(t *testing.T, out string) idleResult {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r idleResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
	return r
}

// End to end against the fake server, using this test process as the
// "server" PID (for /proc readings) and a fake metrics endpoint.
func TestIdleEndToEnd(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	srv := siotest.NewServer(siotest.Options{PingInterval: 20 * time.Millisecond, PingTimeout: 40 * time.Millisecond})
	defer srv.Close()
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# TYPE go_goroutines gauge\ngo_goroutines %d\n", runtime.NumGoroutine())
	}))
	defer metrics.Close()

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"idle", "-url", srv.URL, "-n", "40", "-c", "8",
		"-pid", fmt.Sprint(os.Getpid()), "-metrics-url", metrics.URL,
		"-settle", "150ms", "-hold", "50ms", "-json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	r := lastJSON(t, stdout.String())
	if r.OK != 40 || r.Failed != 0 || r.Measured != 40 || r.Dropped != 0 || r.ExitCode != 0 {
		t.Fatalf("result %+v", r)
	}
	if r.RSSLoaded == nil || r.RSSPerConn == nil || r.CPUConnect == nil || r.CPUPerConnectUS == nil || r.ClkTck != 100 {
		t.Fatalf("missing /proc figures: %+v", r)
	}
	// This process runs both sides, so it has at least one goroutine per
	// connection on the fake server and one on the client.
	if r.GoroutinesPerConn == nil || *r.GoroutinesPerConn < 2 {
		t.Fatalf("goroutines per conn %v", r.GoroutinesPerConn)
	}
	if srv.Pongs.Load() == 0 || srv.PingTimeout.Load() != 0 {
		t.Fatalf("pongs %d, ping timeouts %d", srv.Pongs.Load(), srv.PingTimeout.Load())
	}
	for _, want := range []string{"connections:   40 ok", "B/conn", "µs/connect", "per conn", "result:        PASS"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, &stdout)
		}
	}
	waitUntil(t, "every connection closed", func() bool { return srv.Open() == 0 })
	if srv.Disconnects.Load() != 40 {
		t.Fatalf("server saw %d disconnects", srv.Disconnects.Load())
	}
}

func TestIdleFailuresExitNonZero(t *testing.T) {
	srv := siotest.NewServer(siotest.Options{
		Authorize: func(r *http.Request, auth []byte) error {
			if r.Header.Get("Cookie") == "t=3" {
				return errors.New("bad token")
			}
			return nil
		},
	})
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"idle", "-url", srv.URL, "-n", "10", "-c", "4",
		"-cookie", "t={i}", "-settle", "0", "-json", "-q"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, &stdout, &stderr)
	}
	r := lastJSON(t, stdout.String())
	if r.OK != 9 || r.Failed != 1 || len(r.Failures) != 1 || r.Failures[0].Reason != "connect_error: bad token" {
		t.Fatalf("result %+v", r)
	}
	if r.RSSLoaded != nil || r.GoroutinesLoaded != nil {
		t.Fatal("figures reported without -pid/-metrics-url")
	}
	if !strings.Contains(stdout.String(), "failed      1  connect_error: bad token") {
		t.Errorf("output:\n%s", &stdout)
	}
	if stderr.Len() != 0 {
		t.Errorf("-q still wrote to stderr: %s", &stderr)
	}
}

func TestIdleTimeoutAndUsage(t *testing.T) {
	// A server that refuses everything: all dials fail fast.
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"idle", "-url", srv.URL, "-n", "5", "-settle", "0", "-q"}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stdout.String(), "failed      5  http 404: 404 page not found") {
		t.Errorf("output:\n%s", &stdout)
	}

	// -timeout bounds the settle phase.
	ok := siotest.NewServer(siotest.Options{})
	defer ok.Close()
	stdout.Reset()
	start := time.Now()
	code := run(context.Background(), []string{"idle", "-url", ok.URL, "-n", "3", "-settle", "1h", "-timeout", "300ms", "-q", "-json"}, &stdout, &stderr)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("run took %v despite -timeout", d)
	}
	if r := lastJSON(t, stdout.String()); code != 0 || !r.TimedOut || r.OK != 3 {
		t.Fatalf("exit %d result %+v", code, r)
	}

	for _, args := range [][]string{{}, {"nope"}, {"idle", "-n", "0"}, {"idle", "-auth", "[1]"}, {"idle", "-url", "ftp://x"}, {"idle", "extra"}} {
		stderr.Reset()
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code := run(context.Background(), []string{"idle", "-h"}, &stdout, &stderr); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
}
