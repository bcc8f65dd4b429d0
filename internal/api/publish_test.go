package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/notify"
)

const testKey = "k3y-0f-the-t3st-5uite"

// fakePublisher records what it is given; err, when set, is returned.
type fakePublisher struct {
	mu    sync.Mutex
	calls [][]notify.Message
	err   error
	block bool // wait for ctx to end, then return its error
}

func (p *fakePublisher) Publish(ctx context.Context, msgs []notify.Message) error {
	if p.block {
		<-ctx.Done()
		return ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, msgs)
	return p.err
}

func (p *fakePublisher) published() [][]notify.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

type request struct {
	method, auth, contentType, encoding, body string
}

func (rq request) do(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	if rq.method == "" {
		rq.method = http.MethodPost
	}
	r := httptest.NewRequest(rq.method, "/api/publish", strings.NewReader(rq.body))
	if rq.auth != "" {
		r.Header.Set("Authorization", rq.auth)
	}
	if rq.contentType != "" {
		r.Header.Set("Content-Type", rq.contentType)
	}
	if rq.encoding != "" {
		r.Header.Set("Content-Encoding", rq.encoding)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func ok(body string) request {
	return request{auth: "Bearer " + testKey, contentType: "application/json", body: body}
}

// errorOf checks that w is a JSON error answer and returns its message.
func errorOf(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	var v struct {
		Error string `json:"error"`
	}
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil || v.Error == "" {
		t.Fatalf("body is not {\"error\": ...}: %v", err)
	}
	return v.Error
}

func TestPublishAnswers(t *testing.T) {
	long := `{"user":1,"data":"` + strings.Repeat("x", 200) + `"}`
	cases := []struct {
		name   string
		opts   Options
		req    request
		status int
		err    string // substring of the error message; "" for success
		header [2]string
	}{
		{"disabled", Options{}, ok(`{"user":1}`), 404, "the publish API is disabled: set HERALD_API_KEY", [2]string{}},
		{"disabled even without auth", Options{}, request{method: "GET"}, 404, "the publish API is disabled: set HERALD_API_KEY", [2]string{}},
		{"GET", Options{}, request{method: "GET", auth: "Bearer " + testKey}, 405, "method GET not allowed: use POST", [2]string{"Allow", "POST"}},
		{"PUT", Options{}, request{method: "PUT", auth: "Bearer " + testKey, contentType: "application/json", body: "{}"}, 405, "use POST", [2]string{"Allow", "POST"}},
		{"no auth", Options{}, request{contentType: "application/json", body: `{"user":1}`}, 401, "missing API key: send Authorization: Bearer <key>", [2]string{"WWW-Authenticate", "Bearer"}},
		{"basic auth", Options{}, request{auth: "Basic dXNlcjpwYXNz", contentType: "application/json", body: `{"user":1}`}, 401, "the Authorization header must be Bearer <key>", [2]string{"WWW-Authenticate", "Bearer"}},
		{"wrong key same length", Options{}, request{auth: "Bearer " + strings.Repeat("x", len(testKey)), contentType: "application/json", body: `{"user":1}`}, 401, "invalid API key", [2]string{"WWW-Authenticate", `Bearer error="invalid_token"`}},
		{"wrong key shorter", Options{}, request{auth: "Bearer " + testKey[:5], contentType: "application/json", body: `{"user":1}`}, 401, "invalid API key", [2]string{}},
		{"wrong key longer", Options{}, request{auth: "Bearer " + testKey + "x", contentType: "application/json", body: `{"user":1}`}, 401, "invalid API key", [2]string{}},
		{"key as prefix", Options{}, request{auth: "Bearer " + testKey + testKey, contentType: "application/json", body: `{"user":1}`}, 401, "invalid API key", [2]string{}},
		{"empty bearer", Options{}, request{auth: "Bearer ", contentType: "application/json", body: `{"user":1}`}, 401, "", [2]string{}},
		{"bare bearer", Options{}, request{auth: "Bearer", contentType: "application/json", body: `{"user":1}`}, 401, "", [2]string{}},
		{"no content type", Options{}, request{auth: "Bearer " + testKey, body: `{"user":1}`}, 415, "missing Content-Type: send application/json", [2]string{}},
		{"form", Options{}, request{auth: "Bearer " + testKey, contentType: "application/x-www-form-urlencoded", body: `user=1`}, 415, `unsupported Content-Type "application/x-www-form-urlencoded": send application/json`, [2]string{}},
		{"text", Options{}, request{auth: "Bearer " + testKey, contentType: "text/plain", body: `{"user":1}`}, 415, "send application/json", [2]string{}},
		{"bad media type", Options{}, request{auth: "Bearer " + testKey, contentType: "application/json; =", body: `{"user":1}`}, 415, "unsupported Content-Type", [2]string{}},
		{"gzip", Options{}, request{auth: "Bearer " + testKey, contentType: "application/json", encoding: "gzip", body: "\x1f\x8b"}, 415, `unsupported Content-Encoding "gzip"`, [2]string{}},
		{"too large", Options{MaxBody: 100}, ok(long), 413, "request body too large: at most 100 bytes", [2]string{}},
		{"invalid JSON", Options{}, ok(`{"user":`), 400, "invalid JSON at byte 8", [2]string{}},
		{"empty body", Options{}, ok(``), 400, "empty input", [2]string{}},
		{"invalid message", Options{}, ok(`[{"user":1},{"users":[1,4.2]}]`), 400, `message 1: "users"[1]: must be a string or an integer user id, got 4.2`, [2]string{}},
		{"reserved event", Options{}, ok(`{"user":1,"event":"disconnect"}`), 400, `"event": "disconnect" is reserved by Socket.IO`, [2]string{}},
		{"publisher fails", Options{Publisher: &fakePublisher{err: errors.New("redis: connection refused")}}, ok(`{"user":1}`), 503, "could not publish: redis: connection refused", [2]string{}},
		{"publisher times out", Options{Publisher: &fakePublisher{block: true}, Timeout: 10 * time.Millisecond}, ok(`{"user":1}`), 503, "could not publish: context deadline exceeded", [2]string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := c.opts
			if c.name != "disabled" && c.name != "disabled even without auth" {
				o.Key = testKey
			}
			pub, _ := o.Publisher.(*fakePublisher)
			if o.Publisher == nil {
				pub = &fakePublisher{}
				o.Publisher = pub
			}
			w := c.req.do(t, NewHandler(o))
			if w.Code != c.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, c.status, w.Body)
			}
			msg := errorOf(t, w)
			if !strings.Contains(msg, c.err) {
				t.Errorf("error %q, want it to contain %q", msg, c.err)
			}
			if k, v := c.header[0], c.header[1]; k != "" && w.Header().Get(k) != v {
				t.Errorf("%s = %q, want %q", k, w.Header().Get(k), v)
			}
			if c.status == 401 && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without a Bearer challenge: %q", w.Header().Get("WWW-Authenticate"))
			}
			if c.status != 503 && !pub.block && len(pub.published()) != 0 {
				t.Errorf("a rejected request was published: %v", pub.published())
			}
		})
	}
}

func TestPublishAccepted(t *testing.T) {
	pub := &fakePublisher{}
	h := NewHandler(Options{Key: testKey, Publisher: pub})
	for _, rq := range []request{
		ok(`[{"user":42,"data":{"title":"hi"}},{"room":"admins","event":"alert"},{"disconnect":{"session":"t"}}]`),
		{auth: "bearer  " + testKey + " ", contentType: "Application/JSON; charset=utf-8", body: `{"users":["7"]}`},
		{auth: "Bearer " + testKey, contentType: "application/json", encoding: "identity", body: `{"broadcast":true}`},
	} {
		w := rq.do(t, h)
		if w.Code != http.StatusAccepted {
			t.Fatalf("status %d, want 202; body %s", w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
	}
	calls := pub.published()
	if len(calls) != 3 || len(calls[0]) != 3 || len(calls[1]) != 1 || len(calls[2]) != 1 {
		t.Fatalf("published %v", calls)
	}
	if got := calls[0][0]; got.Users[0] != "42" || string(got.Data) != `{"title":"hi"}` {
		t.Errorf("first message %#v", got)
	}
	if got := calls[0][2].Disconnect; got == nil || got.Sessions[0] != "t" {
		t.Errorf("disconnect %#v", got)
	}

	w := ok(`[{"user":1},{"user":2}]`).do(t, h)
	if body := strings.TrimSpace(w.Body.String()); w.Code != 202 || body != `{"published":2}` {
		t.Fatalf("answer %d %s, want 202 {\"published\":2}", w.Code, body)
	}
}

// The publish must not be cut short because the client hung up.
func TestPublishOutlivesClient(t *testing.T) {
	var errAtPublish error
	var deadline time.Time
	var hasDeadline bool
	pub := publisherFunc(func(ctx context.Context, _ []notify.Message) error {
		errAtPublish = ctx.Err()
		deadline, hasDeadline = ctx.Deadline()
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequestWithContext(ctx, "POST", "/api/publish", strings.NewReader(`{"user":1}`))
	r.Header.Set("Authorization", "Bearer "+testKey)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	NewHandler(Options{Key: testKey, Publisher: pub, Timeout: time.Minute}).ServeHTTP(w, r)
	if w.Code != 202 {
		t.Fatalf("status %d", w.Code)
	}
	if errAtPublish != nil {
		t.Fatalf("publish context already done: %v", errAtPublish)
	}
	if !hasDeadline || time.Until(deadline) < 50*time.Second {
		t.Fatalf("publish context has no deadline from Timeout: %v %v", deadline, hasDeadline)
	}
}

type publisherFunc func(context.Context, []notify.Message) error

func (f publisherFunc) Publish(ctx context.Context, msgs []notify.Message) error { return f(ctx, msgs) }

// A body over MaxBody is refused even when it does not say its length.
func TestPublishTooLargeChunked(t *testing.T) {
	pub := &fakePublisher{}
	h := NewHandler(Options{Key: testKey, Publisher: pub, MaxBody: 64})
	body := `{"user":1,"data":"` + strings.Repeat("x", 100) + `"}`
	r := httptest.NewRequest("POST", "/api/publish", io.MultiReader(strings.NewReader(body)))
	r.ContentLength = -1 // unknown, as with chunked encoding
	r.Header.Set("Authorization", "Bearer "+testKey)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", w.Code)
	}
	if msg := errorOf(t, w); msg != "request body too large: at most 64 bytes" {
		t.Fatalf("error %q", msg)
	}
	if len(pub.published()) != 0 {
		t.Fatal("published an oversized body")
	}
}

func TestDefaults(t *testing.T) {
	h := NewHandler(Options{Key: testKey, Publisher: &fakePublisher{}}).(*handler)
	if h.maxBody != 1<<20 || h.timeout != 5*time.Second || h.log == nil {
		t.Fatalf("defaults: maxBody %d timeout %v log %v", h.maxBody, h.timeout, h.log)
	}
	w := ok(`{"user":1,"data":"`+strings.Repeat("x", 1<<20)+`"}`).do(t, h)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a body over 1 MiB: status %d", w.Code)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("NewHandler with a key and no publisher did not panic")
		}
	}()
	NewHandler(Options{Key: testKey})
}

// Neither the key, nor a wrong key sent in its place, nor the
// Authorization header, nor a session token in a body reaches the logs.
func TestKeyNeverLogged(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const wrongKey = "wr0ng-k3y-n3ar-the-r3al-0ne"
	const session = "s3ssion-t0ken-s3cret"
	for _, pub := range []Publisher{&fakePublisher{}, &fakePublisher{err: errors.New("redis down")}} {
		h := NewHandler(Options{Key: testKey, Publisher: pub, Logger: log, MaxBody: 256})
		for _, rq := range []request{
			ok(`{"user":1}`),
			ok(`{"disconnect":{"session":"` + session + `"}}`),
			ok(`{"disconnect":{"session":"` + session + `"},"event":"x"}`),
			ok(`{"disconnect":{"session":"` + session + strings.Repeat("x", 300) + `"}}`),
			ok(`{"disconnect":{"sessions":["` + session + `", 5]}}`),
			ok(`{"user":`),
			{auth: "Bearer " + testKey, contentType: "text/plain", body: `{"user":1}`},
			{method: "GET", auth: "Bearer " + testKey},
			{auth: "Bearer " + wrongKey, contentType: "application/json", body: `{"user":1}`},
			{auth: "Basic " + testKey, contentType: "application/json", body: `{"user":1}`},
			{auth: testKey, contentType: "application/json", body: `{"user":1}`},
		} {
			rq.do(t, h)
		}
	}
	logs := buf.String()
	if !strings.Contains(logs, "status=401") || !strings.Contains(logs, "api: published") || !strings.Contains(logs, "redis down") {
		t.Fatalf("the requests were not logged:\n%s", logs)
	}
	for _, secret := range []string{testKey, wrongKey, session} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q:\n%s", secret, logs)
		}
	}
}

// The error bodies must not quote the key either (a proxy may log them).
func TestKeyNotInAnswers(t *testing.T) {
	h := NewHandler(Options{Key: testKey, Publisher: &fakePublisher{}})
	for _, rq := range []request{
		{auth: "Bearer " + testKey + "x", contentType: "application/json", body: `{"user":1}`},
		{auth: "Token " + testKey, contentType: "application/json", body: `{"user":1}`},
	} {
		w := rq.do(t, h)
		if strings.Contains(w.Body.String(), testKey) {
			t.Errorf("answer quotes the key: %s", w.Body)
		}
	}
}
