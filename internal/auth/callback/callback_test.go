package callback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/auth"
)

// app plays the Rails app: it records what it is asked and answers with
// reply.
type app struct {
	*httptest.Server
	calls atomic.Int64
	mu    sync.Mutex
	last  map[string]any
	hdr   http.Header
	reply func(w http.ResponseWriter, body map[string]any)
}

func newApp(t *testing.T, reply func(w http.ResponseWriter, body map[string]any)) *app {
	a := &app{reply: reply}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.calls.Add(1)
		var body map[string]any
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want a JSON POST", http.StatusBadRequest)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		a.last, a.hdr = body, r.Header.Clone()
		reply := a.reply
		a.mu.Unlock()
		reply(w, body)
	}))
	t.Cleanup(a.Close)
	return a
}

// byCookie answers as a Rails app would: the session cookie names the user.
func byCookie(w http.ResponseWriter, body map[string]any) {
	cookies, _ := body["cookies"].(map[string]any)
	switch cookies["_app_session"] {
	case "s-ada":
		io.WriteString(w, `{"user_id":"ada","session":{"name":"Ada","roles":["admin"]}}`)
	case "s-42":
		io.WriteString(w, `{"user_id":42}`)
	case "s-big":
		io.WriteString(w, `{"user_id":12345678901234567890,"session":null}`)
	default:
		http.Error(w, `{"error":"not signed in"}`, http.StatusUnauthorized)
	}
}

func newAuth(t *testing.T, o Options) *Authenticator {
	t.Helper()
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func handshake(cookie string) *auth.Handshake {
	h := &auth.Handshake{Header: http.Header{}, RemoteAddr: "203.0.113.7:51234", Auth: json.RawMessage(`{"token":"t-1"}`)}
	if cookie != "" {
		h.Header.Set("Cookie", cookie)
	}
	h.Header.Set("User-Agent", "Mozilla/5.0 test")
	h.Header.Set("X-Secret", "not forwarded")
	return h
}

var ctx = context.Background()

func TestSuccess(t *testing.T) {
	app := newApp(t, byCookie)
	a := newAuth(t, Options{URL: app.URL, ForwardHeaders: []string{"user-agent", "X-Missing"}})

	id, err := a.Authenticate(ctx, handshake("theme=dark; _app_session=s-ada; _app_session=second"))
	if err != nil {
		t.Fatal(err)
	}
	if id.UserID != "ada" || string(id.Session) != `{"name":"Ada","roles":["admin"]}` || id.SessionRef != "" {
		t.Fatalf("identity %+v", id)
	}
	// The request: cookies in the body (the first of a name wins), the
	// CONNECT payload, forwarded headers only, the address; no Cookie header.
	app.mu.Lock()
	got, _ := json.Marshal(app.last)
	hdr := app.hdr
	app.mu.Unlock()
	want := `{"auth":{"token":"t-1"},"cookies":{"_app_session":"s-ada","theme":"dark"},"headers":{"User-Agent":"Mozilla/5.0 test"},"remote_addr":"203.0.113.7:51234"}`
	if string(got) != want {
		t.Fatalf("body %s\nwant %s", got, want)
	}
	if hdr.Get("Cookie") != "" || hdr.Get("Accept") != "application/json" {
		t.Fatalf("headers %v", hdr)
	}

	for cookie, user := range map[string]string{"_app_session=s-42": "42", "_app_session=s-big": "12345678901234567890"} {
		id, err := a.Authenticate(ctx, handshake(cookie))
		if err != nil || id.UserID != user || id.Session != nil {
			t.Fatalf("%s: %+v, %v", cookie, id, err)
		}
	}
}

func TestBodyEdges(t *testing.T) {
	app := newApp(t, func(w http.ResponseWriter, _ map[string]any) { io.WriteString(w, `{"user_id":"1"}`) })
	a := newAuth(t, Options{URL: app.URL, CacheTTL: -1})
	for _, c := range []struct {
		name string
		h    *auth.Handshake
		want string
	}{
		{"nothing", &auth.Handshake{}, `{"auth":null,"cookies":{},"headers":{},"remote_addr":""}`},
		{"invalid auth JSON", &auth.Handshake{Auth: json.RawMessage(`{"token":`)}, `{"auth":null,"cookies":{},"headers":{},"remote_addr":""}`},
		{"malformed cookie skipped", &auth.Handshake{Header: http.Header{"Cookie": {"bad cookie; ok=1"}}}, `{"auth":null,"cookies":{"ok":"1"},"headers":{},"remote_addr":""}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := a.Authenticate(ctx, c.h); err != nil {
				t.Fatal(err)
			}
			app.mu.Lock()
			got, _ := json.Marshal(app.last)
			app.mu.Unlock()
			if string(got) != c.want {
				t.Fatalf("body %s\nwant %s", got, c.want)
			}
		})
	}
}

func isUnavailable(err error) bool {
	var ue *auth.UnavailableError
	return errors.As(err, &ue)
}

func TestFailures(t *testing.T) {
	status := func(code int, body string) func(http.ResponseWriter, map[string]any) {
		return func(w http.ResponseWriter, _ map[string]any) {
			w.WriteHeader(code)
			io.WriteString(w, body)
		}
	}
	redirect := func(w http.ResponseWriter, _ map[string]any) {
		w.Header().Set("Location", "/users/sign_in")
		w.WriteHeader(http.StatusFound)
	}
	for _, c := range []struct {
		name        string
		reply       func(http.ResponseWriter, map[string]any)
		unavailable bool
		want        string
	}{
		{"401", byCookie, false, "the app refused the session (HTTP 401)"},
		{"403", status(403, `{}`), false, "HTTP 403"},
		{"500", status(500, "boom"), true, "the app's auth endpoint answered HTTP 500"},
		{"404", status(404, ""), true, "answered HTTP 404"},
		{"redirect", redirect, true, `HTTP 302, a redirect (to "/users/sign_in")`},
		{"bad JSON", status(200, "<html>"), true, "not a JSON object"},
		{"JSON array", status(200, `[{"user_id":1}]`), true, "not a JSON object"},
		{"JSON null", status(200, `null`), true, "not a JSON object"},
		{"no user_id", status(200, `{"id":1}`), true, `no usable user_id: no "user_id" field`},
		{"null user_id", status(200, `{"user_id":null}`), true, "no usable user_id"},
		{"float user_id", status(200, `{"user_id":1.5}`), true, "no usable user_id"},
		{"empty user_id", status(200, `{"user_id":""}`), true, "no usable user_id"},
		{"oversized", status(200, `{"user_id":1,"session":"`+strings.Repeat("x", MaxAnswer)+`"}`), true, "exceeds 65536"},
		{"oversized, chunked", func(w http.ResponseWriter, _ map[string]any) {
			io.WriteString(w, `{"user_id":1,"session":"`)
			w.(http.Flusher).Flush()
			io.WriteString(w, strings.Repeat("x", MaxAnswer)+`"}`)
		}, true, "exceeds 65536 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			app := newApp(t, c.reply)
			a := newAuth(t, Options{URL: app.URL})
			id, err := a.Authenticate(ctx, handshake("_app_session=nobody"))
			if err == nil {
				t.Fatalf("accepted: %+v", id)
			}
			if isUnavailable(err) != c.unavailable || errors.Is(err, auth.ErrUnauthorized) == c.unavailable {
				t.Fatalf("unavailable=%v, want %v: %v", isUnavailable(err), c.unavailable, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), "nobody") {
				t.Fatalf("the error quotes a cookie: %v", err)
			}
			// Refusals are cached, outages are not.
			a.Authenticate(ctx, handshake("_app_session=nobody"))
			if want := map[bool]int64{false: 1, true: 2}[c.unavailable]; app.calls.Load() != want {
				t.Fatalf("%d calls, want %d", app.calls.Load(), want)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	app := newApp(t, func(w http.ResponseWriter, _ map[string]any) {
		<-release
		io.WriteString(w, `{"user_id":1}`)
	})
	defer close(release) // before app.Close, which waits for handlers
	a := newAuth(t, Options{URL: app.URL, Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := a.Authenticate(ctx, handshake("_app_session=s-ada"))
	took := time.Since(start)
	if !isUnavailable(err) || !strings.Contains(err.Error(), "did not answer within 200ms") {
		t.Fatalf("error %v", err)
	}
	if took < 200*time.Millisecond || took > 2*time.Second {
		t.Fatalf("took %s", took)
	}

	// The caller's own deadline is honoured too.
	a = newAuth(t, Options{URL: app.URL, Timeout: 10 * time.Second})
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = a.Authenticate(short, handshake("_app_session=s-ada"))
	if !isUnavailable(err) || time.Since(start) > time.Second {
		t.Fatalf("error %v after %s", err, time.Since(start))
	}
}

func TestRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	a := newAuth(t, Options{URL: "http://" + addr + "/herald/auth"})
	_, err = a.Authenticate(ctx, handshake("_app_session=s-ada"))
	if !isUnavailable(err) || !strings.Contains(err.Error(), "the app's auth endpoint is unreachable") || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("error %v", err)
	}
	if strings.Contains(err.Error(), "s-ada") {
		t.Fatalf("the error quotes a cookie: %v", err)
	}
}

func TestCache(t *testing.T) {
	app := newApp(t, byCookie)
	a := newAuth(t, Options{URL: app.URL, CacheTTL: 5 * time.Second})
	clock := time.Unix(1_700_000_000, 0)
	a.now = func() time.Time { return clock }

	ask := func(h *auth.Handshake) (string, error) {
		t.Helper()
		id, err := a.Authenticate(ctx, h)
		if err != nil {
			return "", err
		}
		return id.UserID, nil
	}
	h := handshake("_app_session=s-ada")
	for range 3 {
		if u, err := ask(h); u != "ada" || err != nil {
			t.Fatal(u, err)
		}
	}
	if n := app.calls.Load(); n != 1 {
		t.Fatalf("%d calls within the TTL, want 1", n)
	}
	// Another port of the same client IP is the same question.
	h2 := handshake("_app_session=s-ada")
	h2.RemoteAddr = "203.0.113.7:60000"
	ask(h2)
	if n := app.calls.Load(); n != 1 {
		t.Fatalf("%d calls for another port, want 1", n)
	}
	// Other cookies, another payload, another IP, another forwarded
	// header value are other questions.
	other := []*auth.Handshake{handshake("_app_session=s-42"), handshake("_app_session=s-ada; x=1"), handshake("_app_session=s-ada")}
	other[2].Auth = json.RawMessage(`{"token":"t-2"}`)
	ip := handshake("_app_session=s-ada")
	ip.RemoteAddr = "198.51.100.1:51234"
	other = append(other, ip)
	for _, h := range other {
		ask(h)
	}
	if n := app.calls.Load(); n != 5 {
		t.Fatalf("%d calls, want 5", n)
	}
	// The identity handed out is a copy: changing it changes no cache.
	id, _ := a.Authenticate(ctx, h)
	id.UserID = "mallory"
	if u, _ := ask(h); u != "ada" {
		t.Fatalf("cache corrupted: %q", u)
	}

	// After the TTL, the app is asked again.
	clock = clock.Add(5 * time.Second)
	ask(h)
	if n := app.calls.Load(); n != 6 {
		t.Fatalf("%d calls after the TTL, want 6", n)
	}

	// Refusals are kept one second only.
	nobody := handshake("_app_session=nobody")
	ask(nobody)
	ask(nobody)
	if n := app.calls.Load(); n != 7 {
		t.Fatalf("%d calls, want 7", n)
	}
	clock = clock.Add(NegativeTTLMax)
	if _, err := ask(nobody); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatal(err)
	}
	if n := app.calls.Load(); n != 8 {
		t.Fatalf("%d calls after the refusal TTL, want 8", n)
	}
}

func TestNoCache(t *testing.T) {
	app := newApp(t, byCookie)
	a := newAuth(t, Options{URL: app.URL, CacheTTL: -1})
	for range 3 {
		if _, err := a.Authenticate(ctx, handshake("_app_session=s-ada")); err != nil {
			t.Fatal(err)
		}
	}
	if n := app.calls.Load(); n != 3 || len(a.cache) != 0 {
		t.Fatalf("%d calls, %d cached", n, len(a.cache))
	}
}

func TestCacheBound(t *testing.T) {
	app := newApp(t, func(w http.ResponseWriter, body map[string]any) {
		fmt.Fprintf(w, `{"user_id":%q}`, body["cookies"].(map[string]any)["s"])
	})
	a := newAuth(t, Options{URL: app.URL})
	a.maxCache = 100
	for i := range 250 {
		if _, err := a.Authenticate(ctx, handshake(fmt.Sprintf("s=%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if len(a.cache) != 100 || a.order.Len() != 100 {
		t.Fatalf("%d entries (%d in order), want 100", len(a.cache), a.order.Len())
	}
	calls := app.calls.Load()
	// The newest are kept, the oldest were evicted.
	a.Authenticate(ctx, handshake("s=249"))
	a.Authenticate(ctx, handshake("s=150"))
	if app.calls.Load() != calls {
		t.Fatal("a recent entry was evicted")
	}
	a.Authenticate(ctx, handshake("s=0"))
	if app.calls.Load() != calls+1 {
		t.Fatal("the oldest entry was kept")
	}
	if len(a.cache) != 100 {
		t.Fatalf("%d entries", len(a.cache))
	}
}

func TestCoalescing(t *testing.T) {
	release := make(chan struct{})
	app := newApp(t, func(w http.ResponseWriter, body map[string]any) {
		<-release
		byCookie(w, body)
	})
	// No cache: only coalescing can spare the app.
	a := newAuth(t, Options{URL: app.URL, CacheTTL: -1})
	const n = 50
	type result struct {
		id  *auth.Identity
		err error
	}
	results := make(chan result, 2*n)
	for range n {
		go func() {
			id, err := a.Authenticate(ctx, handshake("_app_session=s-ada"))
			results <- result{id, err}
		}()
		go func() { // another user at the same time gets their own call
			id, err := a.Authenticate(ctx, handshake("_app_session=s-42"))
			results <- result{id, err}
		}()
	}
	waitFor(t, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		total := 0
		for _, c := range a.inflight {
			total += c.waiters
		}
		return len(a.inflight) == 2 && total == 2*n
	})
	close(release)
	users := map[string]int{}
	for range 2 * n {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		users[r.id.UserID]++
	}
	if users["ada"] != n || users["42"] != n {
		t.Fatalf("users %v", users)
	}
	if c := app.calls.Load(); c != 2 {
		t.Fatalf("%d calls for 2 distinct sessions, want 2", c)
	}

	// A waiter that gives up does not cancel the call for the others.
	release2 := make(chan struct{})
	app.mu.Lock()
	app.reply = func(w http.ResponseWriter, body map[string]any) {
		<-release2
		byCookie(w, body)
	}
	app.mu.Unlock()
	impatient, cancel := context.WithCancel(ctx)
	errc := make(chan error, 2)
	go func() { _, err := a.Authenticate(impatient, handshake("_app_session=s-ada")); errc <- err }()
	waitFor(t, func() bool { a.mu.Lock(); defer a.mu.Unlock(); return len(a.inflight) == 1 })
	go func() { _, err := a.Authenticate(ctx, handshake("_app_session=s-ada")); errc <- err }()
	waitFor(t, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, c := range a.inflight {
			return c.waiters == 2
		}
		return false
	})
	cancel()
	if err := <-errc; !isUnavailable(err) {
		t.Fatalf("the impatient caller got %v", err)
	}
	close(release2)
	if err := <-errc; err != nil {
		t.Fatalf("the patient caller got %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNew(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{}, "not an http(s) URL"},
		{Options{URL: "app.internal/auth"}, "not an http(s) URL"},
		{Options{URL: "ftp://app/auth"}, "not an http(s) URL"},
		{Options{URL: "http://"}, "not an http(s) URL"},
		{Options{URL: "http://app/auth", Timeout: -1}, "negative timeout"},
		{Options{URL: "http://app/auth", ForwardHeaders: []string{"cookie"}}, "Cookie is always sent in the body"},
	} {
		if _, err := New(c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.o, err, c.want)
		}
	}
	a := newAuth(t, Options{URL: "https://app.internal/herald/auth"})
	if a.timeout != 2*time.Second || a.ttl != 5*time.Second || a.negTTL != time.Second || a.client.Timeout != 2*time.Second {
		t.Fatalf("defaults: %s %s %s %s", a.timeout, a.ttl, a.negTTL, a.client.Timeout)
	}
	a = newAuth(t, Options{URL: "http://app/auth", CacheTTL: 300 * time.Millisecond})
	if a.negTTL != 300*time.Millisecond {
		t.Fatalf("refusal TTL %s", a.negTTL)
	}
}

// BenchmarkCacheHit is the cost of an answer already known.
func BenchmarkCacheHit(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"user_id":42,"session":{"name":"Ada"}}`)
	}))
	defer srv.Close()
	a, _ := New(Options{URL: srv.URL, ForwardHeaders: []string{"User-Agent"}})
	h := handshake("_app_session=" + strings.Repeat("x", 400) + "; theme=dark")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
}
