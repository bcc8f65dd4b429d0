//go:build unix

// Package browser_test tests herald's demo page as a person uses it: it
// builds and starts the real herald binary the way a newcomer runs it (no
// --redis, so with the embedded Redis), then runs demo.test.mjs, which
// drives Debian's headless Chromium with playwright-core: sign in as user
// 42 through the form, see a notification published through the HTTP API
// appear, send a broadcast from the page, sign out and see herald close the
// connection.
//
// It needs Debian's chromium (/usr/bin/chromium), node and
// test/browser/node_modules; without them it skips. Install:
//
//	apt-get install chromium nodejs npm
//	cd test/browser && npm ci
//
// (scripts/test.sh does both for you.) playwright-core never downloads a
// browser: the test launches /usr/bin/chromium.
//
// Set SCREENSHOT_DIR to keep screenshots of the page (demo-signed-in.png,
// demo-signed-out.png):
//
//	SCREENSHOT_DIR=/tmp/shots go test -run Browser -v ./test/browser
package browser_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/testenv"
)

const (
	chromiumPath   = "/usr/bin/chromium"
	buildTimeout   = 5 * time.Minute
	healthTimeout  = 20 * time.Second // herald start until GET /healthz == 200
	nodeRunTimeout = 90 * time.Second // the whole `node --test` run, browser included
	stopTimeout    = 10 * time.Second // SIGTERM until herald has exited
	pollEvery      = 50 * time.Millisecond
)

func TestDemoPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		testenv.Skipf(t, "%s not found: install Debian's chromium (apt-get install chromium), "+
			"then run `npm ci` in test/browser (or just run scripts/test.sh)", chromiumPath)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Skip(t, "node not found in PATH: install Node.js >= 20 (apt-get install nodejs npm), "+
			"then run `npm ci` in test/browser (or just run scripts/test.sh)")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core", "package.json")); err != nil {
		testenv.Skip(t, "test/browser/node_modules is missing: run `npm ci` in test/browser (or just run scripts/test.sh)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go command not found in PATH: %v", err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "herald")
	{
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./cmd/herald")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("go build ./cmd/herald: %v\n%s", err, out)
		}
	}

	apiKey := randomHex(t, 16)
	addr := freeAddr(t)
	base := "http://" + addr
	logs := &capture{}
	herald := exec.Command(bin,
		"--listen", addr,
		"--embedded-redis", "127.0.0.1:0",
		"--api-key", apiKey,
		"--log-level", "debug",
	)
	// Not the developer's HERALD_* settings: this is herald as a newcomer
	// runs it.
	herald.Env = withoutHeraldEnv(os.Environ())
	out := io.MultiWriter(newLineLogger(t, "herald: "), logs)
	herald.Stdout = out
	herald.Stderr = out
	herald.WaitDelay = 2 * time.Second
	if err := herald.Start(); err != nil {
		t.Fatalf("starting herald: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = herald.Wait()
		close(exited)
	}()
	stopped := false
	defer func() { // also on t.Fatal: never leave herald running
		if !stopped {
			_ = herald.Process.Kill()
			<-exited
		}
	}()

	if err := waitHealthy(base, exited); err != nil {
		t.Fatal(err)
	}
	t.Logf("herald listening on %s", addr)
	if err := checkDemoMounted(base); err != nil {
		t.Fatal(err)
	}

	tokenFile := filepath.Join(dir, "token")
	runNode(t, node, []string{
		"HERALD_URL=" + base,
		"HERALD_API_KEY=" + apiKey,
		"HERALD_TOKEN_FILE=" + tokenFile,
		"NO_COLOR=1",
		"FORCE_COLOR=0",
	})

	// A graceful stop, as an operator does it.
	stopped = true
	if err := herald.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to herald: %v", err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("herald did not exit cleanly after SIGTERM: %v", waitErr)
		}
	case <-time.After(stopTimeout):
		_ = herald.Process.Kill()
		<-exited
		t.Errorf("herald did not exit within %v of SIGTERM (killed)", stopTimeout)
	}

	// Secrets never appear in logs, even at debug level.
	secrets := map[string]string{"the API key": apiKey}
	if b, err := os.ReadFile(tokenFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
		secrets["the session token"] = string(bytes.TrimSpace(b))
	}
	for what, s := range secrets {
		if bytes.Contains(logs.bytes(), []byte(s)) {
			t.Errorf("herald's log shows %s", what)
		}
	}
}

// runNode runs demo.test.mjs and fails the test if it fails.
func runNode(t *testing.T, node string, env []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeRunTimeout)
	defer cancel()
	nodeLog := newLineLogger(t, "node: ")
	defer nodeLog.flush()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "demo.test.mjs")
	cmd.Env = append(os.Environ(), env...) // SCREENSHOT_DIR and CHROMIUM pass through
	cmd.Stdout = nodeLog
	cmd.Stderr = nodeLog
	// node --test runs the file in a child process, which starts Chromium:
	// kill the whole group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // leftovers, if any
	}
	nodeLog.flush()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("node --test demo.test.mjs did not finish within %v (killed)", nodeRunTimeout)
	case err != nil:
		t.Fatalf("node --test demo.test.mjs failed: %v (see the node: lines above)", err)
	}
}

func waitHealthy(base string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(healthTimeout)
	var lastErr error
	for {
		select {
		case <-exited:
			return errors.New("herald exited before answering /healthz (see the herald: lines above)")
		default:
		}
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /healthz: %s", resp.Status)
		}
		lastErr = err
		if time.Now().After(deadline) {
			return fmt.Errorf("herald not healthy after %v: %v", healthTimeout, lastErr)
		}
		time.Sleep(pollEvery)
	}
}

// checkDemoMounted gives a clear failure when the page is not served at
// all, rather than a browser timeout.
func checkDemoMounted(base string) error {
	client := &http.Client{Timeout: 5 * time.Second}
	for _, p := range []struct{ path, ctype string }{
		{"/", "text/html"},
		{"/socket.io.min.js", "text/javascript"},
	} {
		resp, err := client.Get(base + p.path)
		if err != nil {
			return fmt.Errorf("GET %s: %v", p.path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), p.ctype) {
			return fmt.Errorf("GET %s: %s %q; want 200 %s: herald started with the embedded Redis must serve the demo page",
				p.path, resp.Status, resp.Header.Get("Content-Type"), p.ctype)
		}
	}
	return nil
}

func withoutHeraldEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "HERALD_") {
			out = append(out, kv)
		}
	}
	return out
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// capture keeps everything written to it.
type capture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *capture) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}

// lineLogger forwards whole lines written to it to t.Log.
type lineLogger struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func newLineLogger(t *testing.T, prefix string) *lineLogger {
	return &lineLogger{t: t, prefix: prefix}
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.t.Log(l.prefix + strings.TrimRight(string(l.buf[:i]), "\r"))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.t.Log(l.prefix + string(l.buf))
		l.buf = nil
	}
}
