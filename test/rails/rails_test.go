//go:build unix

// Package rails_test is herald's end-to-end test with a real Rails + Devise
// app: app/app.rb, a one-file Rails 6.1 app on Debian's packaged gems (no
// Gemfile, no network), with Devise's real sign-in form and a POST /notify
// that publishes a notification for the signed-in user to herald through
// Redis. For each session store the test
//
//   - starts the Rails app and the real herald binary (go build ./cmd/herald)
//     in the matching auth mode, sharing the test Redis;
//   - checks that a session that is not signed in is refused;
//   - signs in through the form with a cookie jar, as a browser does (the
//     authenticity token from the page, the credentials, the redirect);
//   - connects the official socket.io-client (client.mjs, from Node) to herald
//     with only the browser's cookies, and waits for connect;
//   - submits the app's notify form and checks that the client receives the
//     notification;
//   - with the Redis session store: signs out through the app and checks
//     that herald disconnects the socket ("io server disconnect") within 2 s,
//     and that the old cookie is refused afterwards.
//
// Session stores: "cookie" (Rails' encrypted cookie store, JSON serializer,
// as a generated 6.1 app has; herald --auth rails-cookie), "cookie-marshal"
// (the same with the Marshal serializer of apps upgraded from older Rails),
// and "redis" (redis-actionpack's ActionDispatch::Session::RedisStore; herald
// --auth rails-redis-store).
//
// It needs Debian's Ruby and gems, node with test/interop/node_modules, and
// HERALD_TEST_REDIS; without them it skips. Install:
//
//	apt-get install ruby ruby-rails ruby-devise ruby-redis-actionpack ruby-sqlite3 nodejs npm
//	cd test/interop && npm ci
//
// (scripts/test.sh does all of this and starts the Redis.) Run alone:
//
//	HERALD_TEST_REDIS=redis://127.0.0.1:6390/0 go test -v -run Rails ./test/rails
package rails_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/testenv"
	"github.com/heraldrt/herald/internal/testredis"
)

const (
	probeTimeout     = time.Minute
	buildTimeout     = 5 * time.Minute
	railsBootTimeout = 90 * time.Second // Ruby loading Rails on a busy CI machine
	heraldTimeout    = 20 * time.Second // start until /readyz is 200
	httpTimeout      = 20 * time.Second // one request to the Rails app, redirects included
	connectTimeout   = 10 * time.Second // socket.io-client start until connect / connect_error
	deliveryTimeout  = 5 * time.Second  // notify form submitted until the client has the event
	signOutTimeout   = 2 * time.Second  // sign-out response until the socket is disconnected
	stopTimeout      = 10 * time.Second // SIGTERM until a process has exited (then SIGKILL)

	cookieName = "_e2e_session"
	email      = "e2e@example.com"
)

// gemProbe loads everything app/app.rb needs, so a missing package is a
// skip with a how-to rather than a Rails boot failure.
const gemProbe = `require "rails"; require "active_record/railtie"; require "action_controller/railtie"; ` +
	`require "action_view/railtie"; require "devise"; require "redis"; require "redis-actionpack"; ` +
	`require "sqlite3"; require "webrick"; require "rack/handler/webrick"`

const installHint = "apt-get install ruby ruby-rails ruby-devise ruby-redis-actionpack ruby-sqlite3 " +
	"(or just run scripts/test.sh)"

func TestRailsDeviseEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: it boots Rails three times")
	}
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		testenv.Skip(t, "ruby not found: "+installHint)
	}
	{
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		out, err := exec.CommandContext(ctx, ruby, "-e", gemProbe).CombinedOutput()
		cancel()
		if err != nil {
			testenv.Skipf(t, "Debian's Rails gems are not all installed (%v): %s\n%s", err, installHint, out)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Skip(t, "node not found: apt-get install nodejs npm, then `npm ci` in test/interop (or run scripts/test.sh)")
	}
	if _, err := os.Stat(filepath.Join("..", "interop", "node_modules", "socket.io-client", "package.json")); err != nil {
		t.Skip("test/interop/node_modules is missing: run `npm ci` in test/interop (or run scripts/test.sh)")
	}
	redisURL := testredis.URL(t)
	rdb := testredis.Client(t)
	herald := buildHerald(t)

	for _, tc := range []struct {
		name       string
		store      string // SESSION_STORE of app.rb
		serializer string // COOKIES_SERIALIZER of app.rb
		auth       string // herald --auth
	}{
		{"cookie", "cookie", "json", "rails-cookie"},
		{"cookie-marshal", "cookie", "marshal", "rails-cookie"},
		{"redis", "redis", "json", "rails-redis-store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := testredis.Prefix(t)
			t.Cleanup(func() {
				ctx := context.Background()
				if keys, _ := rdb.Keys(ctx, prefix+"*").Result(); len(keys) > 0 {
					rdb.Del(ctx, keys...)
				}
			})
			secret := randomHex(t, 64) // 128 hex digits, like `rails secret`
			password := randomHex(t, 12)
			channel := prefix + "herald:notify"
			sessionPrefix := prefix + "session:" // redis-store namespace + ":"

			t0 := time.Now()
			rails := startRails(t, ruby, []string{
				"SESSION_STORE=" + tc.store,
				"COOKIES_SERIALIZER=" + tc.serializer,
				"SECRET_KEY_BASE=" + secret,
				"SESSION_COOKIE=" + cookieName,
				"REDIS_URL=" + redisURL,
				"SESSION_NAMESPACE=" + strings.TrimSuffix(sessionPrefix, ":"),
				"NOTIFY_CHANNEL=" + channel,
				"USER_EMAIL=" + email,
				"USER_PASSWORD=" + password,
				"DB_DIR=" + t.TempDir(),
			})
			t.Logf("Rails up at %s in %v", rails, time.Since(t0).Round(time.Millisecond))

			env := []string{"HERALD_RAILS_SESSION_COOKIE=" + cookieName}
			switch tc.auth {
			case "rails-cookie":
				env = append(env, "HERALD_RAILS_SECRET_KEY_BASE="+secret)
			case "rails-redis-store":
				env = append(env, "HERALD_RAILS_SESSION_PREFIX="+sessionPrefix)
			}
			t1 := time.Now()
			h := startHerald(t, herald, env,
				"--redis", redisURL, "--auth", tc.auth, "--channel", channel, "--emitter-prefix", "off")
			t.Logf("herald up at %s in %v", h.url, time.Since(t1).Round(time.Millisecond))

			b := newBrowser(t, rails)

			// A session that is not signed in (it holds only the CSRF
			// token) is refused.
			page := b.get("/users/sign_in")
			signInToken := formToken(t, page, "new_user")
			anon := startClient(t, node, h.url, b.cookieHeader())
			ev := anon.next(t, connectTimeout, "connect or connect_error")
			if ev.Ev != "connect_error" {
				t.Fatalf("a session that is not signed in: got %s, want connect_error", ev)
			}
			anon.stop()

			// Sign in through Devise's form.
			page = b.post("/users/sign_in", url.Values{
				"authenticity_token": {signInToken},
				"user[email]":        {email},
				"user[password]":     {password},
				"commit":             {"Log in"},
			})
			if b.lastPath != "/" || !strings.Contains(page, "Signed in as "+email) {
				t.Fatalf("sign-in did not land on the signed-in home page (at %s):\n%s", b.lastPath, page)
			}
			cookies := b.cookieHeader()
			t.Logf("signed in; the browser's cookies for herald: %d bytes", len(cookies))

			c := startClient(t, node, h.url, cookies)
			if ev := c.next(t, connectTimeout, "connect"); ev.Ev != "connect" {
				t.Fatalf("signed-in client: got %s, want connect", ev)
			}

			// The app publishes a notification for the current user.
			title := "Nouveau commentaire — ✓ " + randomHex(t, 4)
			submitted := time.Now()
			page = b.post("/notify", url.Values{
				"authenticity_token": {formToken(t, page, "notify")},
				"title":              {title},
				"commit":             {"Notify me"},
			})
			if m := publishedRE.FindStringSubmatch(page); m == nil || m[1] == "0" {
				t.Errorf("the app's PUBLISH reached no subscriber: herald is not listening on %s\n%s", channel, page)
			}
			ev = c.waitFor(t, deliveryTimeout, "the notification", func(e event) bool { return e.Ev == "event" })
			var data struct {
				Title string `json:"title"`
			}
			if ev.Name != "notification" || len(ev.Args) != 1 || json.Unmarshal(ev.Args[0], &data) != nil || data.Title != title {
				t.Fatalf("got %s, want event \"notification\" with {\"title\": %q}", ev, title)
			}
			t.Logf("notification received %v after submitting the notify form", ev.at.Sub(submitted).Round(time.Millisecond))

			if tc.store != "redis" {
				c.stop()
				return
			}

			// Sign out through the app: the store deletes the session,
			// herald disconnects the socket.
			sid := b.cookie(cookieName)
			sum := sha256.Sum256([]byte(sid))
			key := sessionPrefix + "2::" + hex.EncodeToString(sum[:])
			ctx := context.Background()
			if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 1 {
				t.Fatalf("the signed-in session is not at %s in Redis (exists %d, %v)", key, n, err)
			}
			signOutToken := formToken(t, page, "sign-out")
			submitted = time.Now()
			b.post("/users/sign_out", url.Values{"_method": {"delete"}, "authenticity_token": {signOutToken}})
			signedOut := time.Now() // the store has deleted the session by now
			if b.lastPath != "/users/sign_in" {
				t.Errorf("sign-out ended at %s, want /users/sign_in", b.lastPath)
			}
			if n, _ := rdb.Exists(ctx, key).Result(); n != 0 {
				t.Errorf("the session key %s is still in Redis after sign-out", key)
			}
			ev = c.waitFor(t, signOutTimeout, "the disconnect after sign-out", func(e event) bool { return e.Ev == "disconnect" })
			if ev.Reason != "io server disconnect" {
				t.Fatalf("after sign-out: disconnect reason %q, want \"io server disconnect\"", ev.Reason)
			}
			t.Logf("disconnected %v after submitting the sign-out form (its response came %v after submitting)",
				ev.at.Sub(submitted).Round(time.Millisecond), signedOut.Sub(submitted).Round(time.Millisecond))
			c.stop()

			// The old cookie is worthless now.
			again := startClient(t, node, h.url, cookies)
			if ev := again.next(t, connectTimeout, "connect or connect_error"); ev.Ev != "connect_error" {
				t.Fatalf("the signed-out session's cookie: got %s, want connect_error", ev)
			}
			again.stop()
		})
	}
	if !t.Failed() {
		checkSecretsNotLogged(t)
	}
}

// ------------------------------------------------------------------ herald

func buildHerald(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go command not found in PATH: %v", err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "herald")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./cmd/herald")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/herald: %v\n%s", err, out)
	}
	help, _ := exec.Command(bin, "--help").CombinedOutput()
	for _, mode := range []string{"rails-cookie", "rails-redis-store"} {
		if !bytes.Contains(help, []byte(mode)) {
			t.Fatalf("herald --help does not mention --auth %s: this test needs the Rails session modes", mode)
		}
	}
	return bin
}

type heraldProc struct{ url string }

// startHerald runs the herald binary on a free loopback port, reads the
// address from its "herald listening" log line and waits for /readyz.
func startHerald(t *testing.T, bin string, env []string, args ...string) heraldProc {
	t.Helper()
	addr := make(chan string, 1)
	args = append([]string{"--listen", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug"}, args...)
	cmd := exec.Command(bin, args...)
	// Not the developer's HERALD_* settings (HERALD_TEST_REDIS aside, unused).
	cmd.Env = append(withoutEnv(os.Environ(), "HERALD_"), env...)
	p := startProc(t, "herald", cmd, func(line string) {
		recordLog(line)
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "herald listening" && rec.Addr != "" {
			select {
			case addr <- rec.Addr:
			default:
			}
		}
	})
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-p.exited:
		t.Fatalf("herald exited before listening (%v): see the herald: lines above", p.err)
	case <-time.After(heraldTimeout):
		t.Fatalf("herald did not log \"herald listening\" within %v", heraldTimeout)
	}
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(heraldTimeout)
	for {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return heraldProc{url: base}
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("herald at %s not ready after %v: GET /readyz: %v", base, heraldTimeout, err)
		}
		select {
		case <-p.exited:
			t.Fatalf("herald exited (%v): see the herald: lines above", p.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Everything herald logged, to check that no secret shows in it.
var heraldLog struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	secrets []string
}

func recordLog(line string) {
	heraldLog.mu.Lock()
	defer heraldLog.mu.Unlock()
	heraldLog.buf.WriteString(line + "\n")
}

func noteSecret(s string) {
	heraldLog.mu.Lock()
	defer heraldLog.mu.Unlock()
	heraldLog.secrets = append(heraldLog.secrets, s)
}

// checkSecretsNotLogged: herald never logs the secret_key_base or a session
// cookie, even at debug level.
func checkSecretsNotLogged(t *testing.T) {
	heraldLog.mu.Lock()
	defer heraldLog.mu.Unlock()
	for _, s := range heraldLog.secrets {
		if len(s) >= 16 && bytes.Contains(heraldLog.buf.Bytes(), []byte(s)) {
			t.Errorf("herald's log shows a secret or a session cookie: %.12s…", s)
		}
	}
}

// ------------------------------------------------------------------ Rails

// startRails runs app/app.rb on a free port and returns its base URL.
func startRails(t *testing.T, ruby string, env []string) string {
	t.Helper()
	for _, kv := range env {
		if strings.HasPrefix(kv, "SECRET_KEY_BASE=") {
			noteSecret(strings.TrimPrefix(kv, "SECRET_KEY_BASE="))
		}
	}
	listening := make(chan string, 1)
	cmd := exec.Command(ruby, "app.rb")
	cmd.Dir = "app"
	// No Bundler or Rails settings from the developer's environment: the
	// app runs on the system gems only.
	base := withoutEnv(os.Environ(), "BUNDLE_", "RUBYOPT", "RUBYLIB", "GEM_", "RAILS_", "RACK_", "DATABASE_URL", "REDIS_URL")
	cmd.Env = append(base, append([]string{"RAILS_ENV=production", "PORT=0"}, env...)...)
	p := startProc(t, "rails", cmd, func(line string) {
		if u, ok := strings.CutPrefix(line, "E2E_RAILS_LISTENING "); ok {
			select {
			case listening <- strings.TrimSpace(u):
			default:
			}
		}
	})
	select {
	case u := <-listening:
		return u
	case <-p.exited:
		t.Fatalf("the Rails app exited before listening (%v): see the rails: lines above", p.err)
	case <-time.After(railsBootTimeout):
		t.Fatalf("the Rails app did not start within %v", railsBootTimeout)
	}
	return ""
}

// browser is what a browser does with the Rails app: a cookie jar, forms
// with their authenticity token, redirects followed.
type browser struct {
	t        *testing.T
	base     *url.URL
	client   *http.Client
	lastPath string
}

func newBrowser(t *testing.T, base string) *browser {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: u, client: &http.Client{Jar: jar, Timeout: httpTimeout}}
}

func (b *browser) get(path string) string {
	req, _ := http.NewRequest("GET", b.base.String()+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) string {
	req, _ := http.NewRequest("POST", b.base.String()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base.String())
	return b.do(req)
}

func (b *browser) do(req *http.Request) string {
	b.t.Helper()
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	b.lastPath = resp.Request.URL.Path
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("%s %s: %s (at %s; see the rails: lines above)\n%s", req.Method, req.URL.Path, resp.Status, b.lastPath, body)
	}
	return string(body)
}

// cookieHeader is the Cookie header a browser sends to another port of the
// same host (cookies are not port-specific), herald's here.
func (b *browser) cookieHeader() string {
	var parts []string
	for _, c := range b.client.Jar.Cookies(b.base) {
		parts = append(parts, c.Name+"="+c.Value)
		noteSecret(c.Value)
	}
	return strings.Join(parts, "; ")
}

func (b *browser) cookie(name string) string {
	for _, c := range b.client.Jar.Cookies(b.base) {
		if c.Name == name {
			return c.Value
		}
	}
	b.t.Fatalf("no %s cookie in the jar", name)
	return ""
}

var publishedRE = regexp.MustCompile(`Published to (\d+) subscriber`)

var tokenRE = regexp.MustCompile(`name="authenticity_token" value="([^"]+)"`)

// formToken returns the authenticity token of the form with this id.
func formToken(t *testing.T, page, id string) string {
	t.Helper()
	re := regexp.MustCompile(`(?s)<form\b[^>]*\bid="` + regexp.QuoteMeta(id) + `".*?</form>`)
	form := re.FindString(page)
	m := tokenRE.FindStringSubmatch(form)
	if m == nil {
		t.Fatalf("no form #%s with an authenticity_token in the page:\n%s", id, page)
	}
	return html.UnescapeString(m[1])
}

// ------------------------------------------------------------------ client

// event is one line of client.mjs.
type event struct {
	Ev        string            `json:"ev"`
	ID        string            `json:"id,omitempty"`
	Transport string            `json:"transport,omitempty"`
	Name      string            `json:"name,omitempty"`
	Args      []json.RawMessage `json:"args,omitempty"`
	Reason    string            `json:"reason,omitempty"`
	Message   string            `json:"message,omitempty"`
	Data      json.RawMessage   `json:"data,omitempty"`

	at time.Time // when the harness read it
}

func (e event) String() string {
	b, _ := json.Marshal(e)
	return string(b)
}

type client struct {
	p      *proc
	stdin  io.Closer
	events chan event
}

// startClient runs client.mjs: socket.io-client connecting to herald with
// this Cookie header.
func startClient(t *testing.T, node, heraldURL, cookie string) *client {
	t.Helper()
	cmd := exec.Command(node, "client.mjs")
	cmd.Env = append(os.Environ(), "HERALD_URL="+heraldURL, "COOKIE="+cookie, "NO_COLOR=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &client{stdin: stdin, events: make(chan event, 64)}
	c.p = startProc(t, "client", cmd, func(line string) {
		var e event
		if json.Unmarshal([]byte(line), &e) == nil && e.Ev != "" {
			e.at = time.Now()
			select {
			case c.events <- e:
			default: // never block the output; the test reads far fewer
			}
		}
	})
	return c
}

// next returns the client's next event other than an upgrade.
func (c *client) next(t *testing.T, d time.Duration, what string) event {
	t.Helper()
	return c.waitFor(t, d, what, func(e event) bool { return e.Ev != "upgrade" })
}

// waitFor returns the first event matching ok within d, skipping others.
func (c *client) waitFor(t *testing.T, d time.Duration, what string, ok func(event) bool) event {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e := <-c.events:
			if ok(e) {
				return e
			}
		case <-c.p.exited:
			t.Fatalf("client.mjs exited (%v) while waiting for %s", c.p.err, what)
		case <-timeout:
			t.Fatalf("no %s within %v", what, d)
		}
	}
}

// stop closes the client's stdin, on which it closes the socket and exits.
func (c *client) stop() { _ = c.stdin.Close() }

// ------------------------------------------------------------------ processes

type proc struct {
	exited chan struct{}
	err    error
}

// startProc starts cmd with its output streamed to t.Log line by line (and
// to onLine), and stops it when the test ends: SIGTERM, then SIGKILL after
// stopTimeout.
func startProc(t *testing.T, name string, cmd *exec.Cmd, onLine func(string)) *proc {
	t.Helper()
	w := &lineWriter{t: t, prefix: name + ": ", onLine: onLine}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.WaitDelay = stopTimeout
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		w.flush()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-p.exited
			t.Errorf("%s did not exit within %v of SIGTERM (killed)", name, stopTimeout)
		}
	})
	return p
}

// lineWriter forwards whole lines to t.Log and to onLine.
type lineWriter struct {
	t      *testing.T
	prefix string
	onLine func(string)
	mu     sync.Mutex
	buf    []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.line(strings.TrimRight(string(l.buf[:i]), "\r"))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lineWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.line(string(l.buf))
		l.buf = nil
	}
}

func (l *lineWriter) line(s string) {
	l.t.Log(l.prefix + s)
	if l.onLine != nil {
		l.onLine(s)
	}
}

// ------------------------------------------------------------------ helpers

func withoutEnv(env []string, prefixes ...string) []string {
	out := env[:0:0]
next:
	for _, kv := range env {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		out = append(out, kv)
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
