package demo_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/heraldrt/herald/internal/demo"
	"github.com/heraldrt/herald/internal/notify"
)

// fakeSessions records what the demo writes.
type fakeSessions struct {
	mu      sync.Mutex
	m       map[string]string
	deleted []string
	err     error
}

func (f *fakeSessions) Put(_ context.Context, token string, session []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.m == nil {
		f.m = map[string]string{}
	}
	f.m[token] = string(session)
	return nil
}

func (f *fakeSessions) Delete(_ context.Context, token string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	delete(f.m, token)
	f.deleted = append(f.deleted, token)
	return nil
}

type fakePublisher struct {
	mu   sync.Mutex
	msgs []notify.Message
	err  error
}

func (f *fakePublisher) Publish(_ context.Context, msgs []notify.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.msgs = append(f.msgs, msgs...)
	return nil
}

type fixture struct {
	h   http.Handler
	s   *fakeSessions
	pub *fakePublisher
}

func newFixture() *fixture {
	f := &fixture{s: &fakeSessions{}, pub: &fakePublisher{}}
	f.h = demo.Handler(demo.Options{Sessions: f.s, Publisher: f.pub})
	return f
}

func (f *fixture) do(r *http.Request) *http.Response {
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w.Result()
}

func formPost(path string, v url.Values) *http.Request {
	r := httptest.NewRequest("POST", path, strings.NewReader(v.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "http://example.com") // httptest's Host
	return r
}

func jsonPost(path, body string, cookie *http.Cookie) *http.Request {
	r := httptest.NewRequest("POST", path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if cookie != nil {
		r.AddCookie(cookie)
	}
	return r
}

// signIn signs in through the form and returns the token cookie.
func (f *fixture) signIn(t *testing.T, userID, name string) *http.Cookie {
	t.Helper()
	res := f.do(formPost("/demo/sign-in", url.Values{"user_id": {userID}, "name": {name}}))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("sign-in: %s, Location %q, want 303 to /\n%s", res.Status, res.Header.Get("Location"), body)
	}
	for _, c := range res.Cookies() {
		if c.Name == demo.DefaultCookie {
			return c
		}
	}
	t.Fatalf("sign-in set no %s cookie: %v", demo.DefaultCookie, res.Header["Set-Cookie"])
	return nil
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestSignInWritesTheSessionAsRailsDoes(t *testing.T) {
	f := newFixture()
	c := f.signIn(t, "42", "Ada Lovelace")

	if !hex32.MatchString(c.Value) {
		t.Errorf("token %q: want 32 lowercase hex characters (an MD5)", c.Value)
	}
	if c.Path != "/" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure {
		t.Errorf("cookie attributes: Path=%q HttpOnly=%v SameSite=%v Secure=%v; want /, true, Lax, false (plain HTTP)",
			c.Path, c.HttpOnly, c.SameSite, c.Secure)
	}
	if len(f.s.m) != 1 {
		t.Fatalf("sessions stored: %v, want exactly one", f.s.m)
	}
	got, ok := f.s.m[c.Value]
	if !ok {
		t.Fatalf("no session stored under the cookie's token; stored: %v", f.s.m)
	}
	if want := `{"user_id":42,"username":"Ada Lovelace"}`; got != want {
		t.Errorf("session JSON = %s, want %s", got, want)
	}

	// The page now shows the signed-in user and the session copy.
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	res := f.do(r)
	body, _ := io.ReadAll(res.Body)
	for _, want := range []string{`data-testid="signed-in"`, "Ada Lovelace", "(user id 42)",
		`{&#34;user_id&#34;:42,&#34;username&#34;:&#34;Ada Lovelace&#34;}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("signed-in page lacks %q", want)
		}
	}
}

func TestSignInTokensAreFreshEachTime(t *testing.T) {
	f := newFixture()
	a := f.signIn(t, "42", "Ada")
	b := f.signIn(t, "42", "Ada")
	if a.Value == b.Value {
		t.Fatalf("two sign-ins made the same token %s: the session id must be random", a.Value)
	}
}

func TestSignInAgainReplacesThePreviousSession(t *testing.T) {
	f := newFixture()
	a := f.signIn(t, "42", "Ada")
	r := formPost("/demo/sign-in", url.Values{"user_id": {"7"}, "name": {"Bob"}})
	r.AddCookie(a)
	res := f.do(r)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in: %s", res.Status)
	}
	if _, ok := f.s.m[a.Value]; ok {
		t.Errorf("the previous session %s is still stored after signing in again", a.Value)
	}
	if len(f.s.m) != 1 {
		t.Errorf("sessions stored: %v, want only the new one", f.s.m)
	}
}

func TestToken(t *testing.T) {
	// echo -n "0123456789abcdef0123456789abcdef:42" | md5sum
	if got, want := demo.Token("0123456789abcdef0123456789abcdef", "42"), "39ab370ac802925b220b261d68c69cde"; got != want {
		t.Errorf("Token = %s, want %s", got, want)
	}
}

func TestSessionJSON(t *testing.T) {
	for _, tc := range []struct{ id, name, want string }{
		{"42", "Ada", `{"user_id":42,"username":"Ada"}`},
		{"0", "Zero", `{"user_id":0,"username":"Zero"}`},
		{"9223372036854775807", "Max", `{"user_id":9223372036854775807,"username":"Max"}`},
		{"9223372036854775808", "Big", `{"user_id":"9223372036854775808","username":"Big"}`},
		{"12345678901234567890", "Bigger", `{"user_id":"12345678901234567890","username":"Bigger"}`},
		{"007", "Bond", `{"user_id":"007","username":"Bond"}`},
		{"-1", "Neg", `{"user_id":"-1","username":"Neg"}`},
		{"4.2", "Float", `{"user_id":"4.2","username":"Float"}`},
		{"alice", `Al "the" <b>&</b> ünï`, `{"user_id":"alice","username":"Al \"the\" <b>&</b> ünï"}`},
	} {
		got := string(demo.SessionJSON(tc.id, tc.name))
		if got != tc.want {
			t.Errorf("SessionJSON(%q, %q) = %s, want %s", tc.id, tc.name, got, tc.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("SessionJSON(%q, %q) is not valid JSON: %s", tc.id, tc.name, got)
		}
	}
}

func TestSignInJSON(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"user_id": 42, "name": "Ada"}`, `{"user_id":42,"username":"Ada"}`},
		{`{"user_id": "42", "name": "Ada"}`, `{"user_id":42,"username":"Ada"}`},
		{`{"user_id": "u-1"}`, `{"user_id":"u-1","username":"User u-1"}`},
	} {
		f := newFixture()
		res := f.do(jsonPost("/demo/sign-in", tc.body, nil))
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("%s: %s, want 303", tc.body, res.Status)
			continue
		}
		if len(f.s.m) != 1 {
			t.Errorf("%s: stored %v", tc.body, f.s.m)
		}
		for _, got := range f.s.m {
			if got != tc.want {
				t.Errorf("%s: stored %s, want %s", tc.body, got, tc.want)
			}
		}
	}
}

func TestSignInRejectsBadInput(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, tc := range []struct {
		name string
		r    *http.Request
	}{
		{"no user id", formPost("/demo/sign-in", url.Values{"name": {"Ada"}})},
		{"blank user id", formPost("/demo/sign-in", url.Values{"user_id": {"  "}})},
		{"control character", formPost("/demo/sign-in", url.Values{"user_id": {"4\n2"}})},
		{"user id too long", formPost("/demo/sign-in", url.Values{"user_id": {long}})},
		{"name too long", formPost("/demo/sign-in", url.Values{"user_id": {"1"}, "name": {long}})},
		{"JSON user id not a string or integer", jsonPost("/demo/sign-in", `{"user_id": {"a": 1}}`, nil)},
		{"JSON float user id", jsonPost("/demo/sign-in", `{"user_id": 4.2}`, nil)},
		{"bad JSON", jsonPost("/demo/sign-in", `{"user_id": `, nil)},
	} {
		f := newFixture()
		res := f.do(tc.r)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %s, want 400", tc.name, res.Status)
		}
		if len(f.s.m) != 0 || len(res.Cookies()) != 0 {
			t.Errorf("%s: stored %v, cookies %v; want nothing", tc.name, f.s.m, res.Cookies())
		}
	}
}

func TestSignInStoreDown(t *testing.T) {
	f := newFixture()
	f.s.err = errors.New("connection refused")
	res := f.do(formPost("/demo/sign-in", url.Values{"user_id": {"42"}}))
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("sign-in with the store down: %s, want 503", res.Status)
	}
	if len(res.Cookies()) != 0 {
		t.Errorf("cookie set although the session was not stored: %v", res.Cookies())
	}
}

func TestCrossOriginRequestsAreRefused(t *testing.T) {
	f := newFixture()
	c := f.signIn(t, "42", "Ada")
	for _, tc := range []struct {
		name string
		r    *http.Request
	}{
		{"sign-in, foreign Origin", formPost("/demo/sign-in", url.Values{"user_id": {"1"}})},
		{"sign-in, Sec-Fetch-Site cross-site", formPost("/demo/sign-in", url.Values{"user_id": {"1"}})},
		{"sign-out, foreign Origin", formPost("/demo/sign-out", nil)},
		{"send, foreign Origin", jsonPost("/demo/send", `{"broadcast": true}`, c)},
	} {
		if strings.Contains(tc.name, "Sec-Fetch-Site") {
			tc.r.Header.Del("Origin")
			tc.r.Header.Set("Sec-Fetch-Site", "cross-site")
		} else {
			tc.r.Header.Set("Origin", "http://evil.example")
		}
		tc.r.AddCookie(c)
		res := f.do(tc.r)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %s, want 403", tc.name, res.Status)
		}
	}
	if len(f.s.m) != 1 || len(f.s.deleted) != 0 || len(f.pub.msgs) != 0 {
		t.Errorf("a cross-origin request had an effect: sessions %v, deleted %v, published %v", f.s.m, f.s.deleted, f.pub.msgs)
	}
}

func TestSignOutDeletesTheSession(t *testing.T) {
	f := newFixture()
	c := f.signIn(t, "42", "Ada")
	r := formPost("/demo/sign-out", nil)
	r.AddCookie(c)
	res := f.do(r)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("sign-out: %s to %q, want 303 to /", res.Status, res.Header.Get("Location"))
	}
	if len(f.s.deleted) != 1 || f.s.deleted[0] != c.Value {
		t.Errorf("deleted %v, want [%s]", f.s.deleted, c.Value)
	}
	if len(f.s.m) != 0 {
		t.Errorf("sessions left: %v", f.s.m)
	}
	var cleared bool
	for _, k := range res.Cookies() {
		if k.Name == demo.DefaultCookie && k.MaxAge < 0 && k.Value == "" && k.Path == "/" {
			cleared = true
		}
	}
	if !cleared {
		t.Errorf("sign-out did not clear the cookie: %v", res.Header["Set-Cookie"])
	}

	// The old cookie no longer signs anything in.
	if res := f.do(jsonPost("/demo/send", `{"broadcast": true}`, c)); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("send with a signed-out cookie: %s, want 401", res.Status)
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	body, _ := io.ReadAll(f.do(r).Body)
	if !strings.Contains(string(body), `data-testid="signin-form"`) {
		t.Errorf("the page does not offer to sign in after sign-out")
	}
}

func TestSignOutWithoutCookie(t *testing.T) {
	f := newFixture()
	res := f.do(formPost("/demo/sign-out", nil))
	if res.StatusCode != http.StatusSeeOther || len(f.s.deleted) != 0 {
		t.Errorf("sign-out without a cookie: %s, deleted %v; want 303 and nothing deleted", res.Status, f.s.deleted)
	}
}

func TestSendPublishes(t *testing.T) {
	f := newFixture()
	c := f.signIn(t, "42", "Ada")

	r := jsonPost("/demo/send", `{"user": "42", "event": "notification", "data": {"title": "Hi"}}`, c)
	r.Header.Set("Origin", "http://example.com")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	res := f.do(r)
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("send: %s %s", res.Status, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("send answered %q, want JSON", ct)
	}
	res = f.do(jsonPost("/demo/send", `{"broadcast": true, "event": "maintenance", "data": "soon"}`, c))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("broadcast: %s", res.Status)
	}
	res = f.do(jsonPost("/demo/send", `{"user": 7}`, c))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("send without event and data: %s", res.Status)
	}

	if len(f.pub.msgs) != 3 {
		t.Fatalf("published %d messages, want 3", len(f.pub.msgs))
	}
	m := f.pub.msgs[0]
	if m.Event != "notification" || len(m.Users) != 1 || m.Users[0] != "42" || string(m.Data) != `{"title": "Hi"}` || m.Broadcast {
		t.Errorf("published %+v", m)
	}
	m = f.pub.msgs[1]
	if m.Event != "maintenance" || !m.Broadcast || string(m.Data) != `"soon"` || len(m.Users) != 0 {
		t.Errorf("published %+v", m)
	}
	m = f.pub.msgs[2]
	if m.Event != notify.DefaultEvent || m.Data != nil || len(m.Users) != 1 || m.Users[0] != "7" {
		t.Errorf("published %+v", m)
	}
}

func TestSendRefusesBadRequests(t *testing.T) {
	f := newFixture()
	c := f.signIn(t, "42", "Ada")
	form := jsonPost("/demo/send", `{"broadcast": true}`, c)
	form.Header.Set("Content-Type", "text/plain")
	for _, tc := range []struct {
		name  string
		r     *http.Request
		code  int
		error string
	}{
		{"no cookie", jsonPost("/demo/send", `{"broadcast": true}`, nil), 401, "sign in"},
		{"unknown cookie", jsonPost("/demo/send", `{"broadcast": true}`, &http.Cookie{Name: demo.DefaultCookie, Value: strings.Repeat("0", 32)}), 401, "sign in"},
		{"not JSON", form, 415, "application/json"},
		{"bad JSON", jsonPost("/demo/send", `{"user": `, c), 400, ""},
		{"no target", jsonPost("/demo/send", `{"event": "x"}`, c), 400, ""},
		{"reserved event", jsonPost("/demo/send", `{"user": "1", "event": "connect"}`, c), 400, "event"},
		{"broadcast and user", jsonPost("/demo/send", `{"user": "1", "broadcast": true}`, c), 400, ""},
		{"array", jsonPost("/demo/send", `[{"user": "1"}]`, c), 400, "one JSON object"},
		{"disconnect", jsonPost("/demo/send", `{"disconnect": {"user": "1"}}`, c), 400, "disconnect"},
		{"too large", jsonPost("/demo/send", `{"user": "1", "data": "`+strings.Repeat("x", 70<<10)+`"}`, c), 413, "too large"},
	} {
		res := f.do(tc.r)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != tc.code {
			t.Errorf("%s: %s %s, want %d", tc.name, res.Status, body, tc.code)
			continue
		}
		var e struct{ Error string }
		if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
			t.Errorf("%s: body %s, want a JSON {\"error\": ...}", tc.name, body)
		} else if !strings.Contains(e.Error, tc.error) {
			t.Errorf("%s: error %q, want it to mention %q", tc.name, e.Error, tc.error)
		}
	}
	if len(f.pub.msgs) != 0 {
		t.Errorf("published %v from bad requests", f.pub.msgs)
	}
}

func TestSendPublisherDown(t *testing.T) {
	f := newFixture()
	c := f.signIn(t, "42", "Ada")
	f.pub.err = errors.New("redis: connection refused")
	res := f.do(jsonPost("/demo/send", `{"broadcast": true}`, c))
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusServiceUnavailable || strings.Contains(string(body), "connection refused") {
		t.Errorf("send with the publisher down: %s %s; want 503 without internals", res.Status, body)
	}
}

func TestPage(t *testing.T) {
	f := newFixture()
	res := f.do(httptest.NewRequest("GET", "/", nil))
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET /: %s", res.Status)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("GET / Content-Type %q", ct)
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("GET / Content-Security-Policy %q", csp)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("GET / Cache-Control %q, want no-store (the page shows who is signed in)", cc)
	}
	page := string(body)
	for _, want := range []string{`data-testid="signin-form"`, `action="/demo/sign-in"`, `name="user_id"`, `name="name"`,
		`<script src="/socket.io.min.js?v=`} {
		if !strings.Contains(page, want) {
			t.Errorf("signed-out page lacks %q", want)
		}
	}
	// Self-contained: the machine may be offline.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`).FindString(page); m != "" {
		t.Errorf("the page loads an external resource: %s", m)
	}
	// Every inline script and style carries this response's nonce.
	nonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(csp)
	if nonce == nil {
		t.Fatalf("no nonce in the CSP %q", csp)
	}
	for _, tag := range regexp.MustCompile(`<(script|style)[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(tag, `nonce="`+nonce[1]+`"`) {
			t.Errorf("%s lacks the CSP nonce", tag)
		}
	}

	if res := f.do(httptest.NewRequest("GET", "/nope", nil)); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nope: %s, want 404", res.Status)
	}
	if res := f.do(httptest.NewRequest("GET", "/demo/send", nil)); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /demo/send: %s, want 405", res.Status)
	}
}

func TestBundle(t *testing.T) {
	f := newFixture()
	res := f.do(httptest.NewRequest("GET", "/socket.io.min.js", nil))
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET /socket.io.min.js: %s", res.Status)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("Cache-Control %q, want a long max-age", cc)
	}
	// The same client version as the interop tests run against.
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if b, err := os.ReadFile("../../test/interop/package.json"); err != nil {
		t.Error(err)
	} else if err := json.Unmarshal(b, &pkg); err != nil {
		t.Error(err)
	}
	version := pkg.DevDependencies["socket.io-client"]
	if !strings.HasPrefix(string(body), "/*!\n * Socket.IO v"+version+"\n") || !strings.Contains(string(body[:200]), "Released under the MIT License.") {
		t.Errorf("the bundle does not start with socket.io-client %s's license header (test/interop's version; "+
			"scripts/update-client-bundle.sh %s refreshes it): %q", version, version, body[:min(len(body), 120)])
	}
	if len(body) < 30000 {
		t.Errorf("the bundle is only %d bytes", len(body))
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	r := httptest.NewRequest("GET", "/socket.io.min.js", nil)
	r.Header.Set("If-None-Match", etag)
	if res := f.do(r); res.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %s, want 304", res.Status)
	}
	// The page asks for the bundle under a URL that changes with it.
	page, _ := io.ReadAll(f.do(httptest.NewRequest("GET", "/", nil)).Body)
	if !strings.Contains(string(page), `/socket.io.min.js?v=`+strings.Trim(etag, `"`)) {
		t.Errorf("the page does not load the bundle by its content tag %s", etag)
	}
}

func TestHandlerNeedsSessionsAndPublisher(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Handler without Sessions did not panic")
		}
	}()
	demo.Handler(demo.Options{Publisher: &fakePublisher{}})
}

func TestCustomCookieName(t *testing.T) {
	s := &fakeSessions{}
	h := demo.Handler(demo.Options{Sessions: s, Publisher: &fakePublisher{}, Cookie: "herald_token"})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, formPost("/demo/sign-in", url.Values{"user_id": {"1"}}))
	cs := w.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != "herald_token" {
		t.Errorf("cookies %v, want one named herald_token", cs)
	}
}

// Whatever a user types, the session copy is a JSON object from which
// herald reads back the same user id and name.
func FuzzSessionJSON(f *testing.F) {
	for _, s := range []string{"42", "0", "007", "-1", "9223372036854775808", "alice", `"quoted"`, "<b>&</b>", "ünï\u2028"} {
		f.Add(s, "Ada "+s)
	}
	f.Fuzz(func(t *testing.T, id, name string) {
		if !utf8.ValidString(id) || !utf8.ValidString(name) {
			t.Skip("sign-in refuses invalid UTF-8")
		}
		b := demo.SessionJSON(id, name)
		var got struct {
			UserID   json.RawMessage `json:"user_id"`
			Username string          `json:"username"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("SessionJSON(%q, %q) = %s: not JSON: %v", id, name, b, err)
		}
		var s string
		if json.Unmarshal(got.UserID, &s) != nil {
			s = string(got.UserID) // a number, written as typed
		}
		if s != id {
			t.Errorf("user_id reads back as %q, want %q", s, id)
		}
		if got.Username != name {
			t.Errorf("username reads back as %q, want %q", got.Username, name)
		}
	})
}
