package callback

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/heraldrt/herald/internal/auth"
)

// Options configure an Authenticator. Zero values mean the defaults in
// comments.
type Options struct {
	// URL is the app's endpoint, e.g. http://app.internal/herald/auth.
	URL string
	// Timeout bounds one call to the app. Default 2s.
	Timeout time.Duration
	// CacheTTL keeps the app's answers this long: default 5s; negative
	// disables the cache. Refusals (401/403) are kept for at most
	// NegativeTTLMax. Outages are never kept.
	CacheTTL time.Duration
	// Client makes the calls. Default: a client with Timeout that does not
	// follow redirects (a redirect is an error, typically a login page).
	Client *http.Client
	// ForwardHeaders names handshake headers sent along in the body's
	// "headers" (e.g. User-Agent). Cookies always go in "cookies", never
	// as a header, so Cookie may not be listed.
	ForwardHeaders []string
}

// Limits.
const (
	// MaxAnswer bounds the app's answer, in bytes.
	MaxAnswer = 64 << 10
	// NegativeTTLMax bounds how long a refusal is cached, so a user who has
	// just signed in is not kept out by a stale refusal.
	NegativeTTLMax = time.Second
	// MaxCacheEntries bounds the cache; the oldest entry goes first.
	MaxCacheEntries = 10_000
)

// Authenticator asks the app who a connection is. It is safe for
// concurrent use.
type Authenticator struct {
	url      string
	timeout  time.Duration
	ttl      time.Duration // 0: no cache
	negTTL   time.Duration
	client   *http.Client
	forward  []string // canonical header names
	now      func() time.Time
	maxCache int

	mu       sync.Mutex
	cache    map[[32]byte]*list.Element // of *entry
	order    *list.List                 // oldest first
	inflight map[[32]byte]*call
}

type entry struct {
	key     [32]byte
	expires time.Time
	id      *auth.Identity
	err     error
}

// call is one request to the app, shared by every identical lookup made
// while it runs.
type call struct {
	done    chan struct{}
	id      *auth.Identity
	err     error
	waiters int // lookups sharing the call, for tests
}

// New returns an Authenticator for o.
func New(o Options) (*Authenticator, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("http auth: URL %q is not an http(s) URL", o.URL)
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Timeout < 0 {
		return nil, errors.New("http auth: negative timeout")
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = 5 * time.Second
	}
	a := &Authenticator{
		url:      o.URL,
		timeout:  o.Timeout,
		client:   o.Client,
		now:      time.Now,
		maxCache: MaxCacheEntries,
		cache:    make(map[[32]byte]*list.Element),
		order:    list.New(),
		inflight: make(map[[32]byte]*call),
	}
	if o.CacheTTL > 0 {
		a.ttl = o.CacheTTL
		a.negTTL = min(o.CacheTTL, NegativeTTLMax)
	}
	for _, h := range o.ForwardHeaders {
		h = http.CanonicalHeaderKey(strings.TrimSpace(h))
		if h == "Cookie" {
			return nil, errors.New("http auth: Cookie is always sent in the body; do not forward it as a header")
		}
		if h != "" {
			a.forward = append(a.forward, h)
		}
	}
	if a.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64 // a reconnect storm makes many calls at once
		a.client = &http.Client{
			Transport: tr,
			Timeout:   o.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return a, nil
}

// request is the body POSTed to the app.
type request struct {
	Cookies    map[string]string `json:"cookies"`
	Auth       json.RawMessage   `json:"auth"`
	Headers    map[string]string `json:"headers"`
	RemoteAddr string            `json:"remote_addr"`
}

// Authenticate implements auth.Authenticator. Identical handshakes (same
// cookies, CONNECT payload, forwarded headers and client IP) share one
// call to the app while it runs, and its answer while it is cached.
func (a *Authenticator) Authenticate(ctx context.Context, h *auth.Handshake) (*auth.Identity, error) {
	key := a.key(h)
	a.mu.Lock()
	if id, err, ok := a.cached(key); ok {
		a.mu.Unlock()
		return id, err
	}
	c, running := a.inflight[key]
	if running {
		c.waiters++
	} else {
		c = &call{done: make(chan struct{}), waiters: 1}
		a.inflight[key] = c
	}
	a.mu.Unlock()

	if !running {
		body, err := a.body(h)
		if err != nil { // unreachable: the body is made of strings and valid JSON
			a.finish(key, c, nil, &auth.UnavailableError{Err: err})
		} else {
			// The call outlives this lookup's ctx (another lookup may be
			// waiting for it); a.timeout bounds it.
			go a.run(context.WithoutCancel(ctx), key, c, body)
		}
	}
	select {
	case <-c.done:
		return copyIdentity(c.id), c.err
	case <-ctx.Done():
		return nil, &auth.UnavailableError{Err: fmt.Errorf("the app's auth endpoint did not answer in time: %w", ctx.Err())}
	}
}

// cached returns a live cache entry. a.mu is held.
func (a *Authenticator) cached(key [32]byte) (*auth.Identity, error, bool) {
	el, ok := a.cache[key]
	if !ok {
		return nil, nil, false
	}
	e := el.Value.(*entry)
	if !a.now().Before(e.expires) {
		a.order.Remove(el)
		delete(a.cache, key)
		return nil, nil, false
	}
	return copyIdentity(e.id), e.err, true
}

func copyIdentity(id *auth.Identity) *auth.Identity {
	if id == nil {
		return nil
	}
	c := *id
	return &c
}

func (a *Authenticator) run(ctx context.Context, key [32]byte, c *call, body []byte) {
	id, err := a.ask(ctx, body)
	a.finish(key, c, id, err)
}

// finish publishes a call's result, caching answers (not outages).
func (a *Authenticator) finish(key [32]byte, c *call, id *auth.Identity, err error) {
	a.mu.Lock()
	c.id, c.err = id, err
	delete(a.inflight, key)
	ttl := a.ttl
	if err != nil {
		ttl = a.negTTL
		var ue *auth.UnavailableError
		if errors.As(err, &ue) {
			ttl = 0
		}
	}
	if ttl > 0 {
		a.store(&entry{key: key, expires: a.now().Add(ttl), id: id, err: err})
	}
	a.mu.Unlock()
	close(c.done)
}

// store adds e, evicting the oldest entries beyond the bound. a.mu is held.
func (a *Authenticator) store(e *entry) {
	if el, ok := a.cache[e.key]; ok {
		a.order.Remove(el)
	}
	for a.order.Len() >= a.maxCache {
		old := a.order.Remove(a.order.Front()).(*entry)
		delete(a.cache, old.key)
	}
	a.cache[e.key] = a.order.PushBack(e)
}

// key identifies what the app is asked: the cookies, the CONNECT payload,
// the forwarded headers and the client's IP (not its port, which changes
// on every reconnection).
func (a *Authenticator) key(h *auth.Handshake) [32]byte {
	var b []byte
	field := func(s []byte) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	cookies := h.Header.Values("Cookie")
	b = binary.AppendUvarint(b, uint64(len(cookies)))
	for _, c := range cookies {
		field([]byte(c))
	}
	field(h.Auth)
	for _, name := range a.forward {
		vs := h.Header.Values(name)
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			field([]byte(v))
		}
	}
	field([]byte(clientIP(h.RemoteAddr)))
	return sha256.Sum256(b)
}

func clientIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// body returns the JSON POSTed to the app for h.
func (a *Authenticator) body(h *auth.Handshake) ([]byte, error) {
	r := request{Cookies: map[string]string{}, Headers: map[string]string{}, Auth: json.RawMessage("null"), RemoteAddr: h.RemoteAddr}
	// The first of several cookies of one name wins, as in Rack.
	for _, c := range (&http.Request{Header: h.Header}).Cookies() {
		if _, dup := r.Cookies[c.Name]; !dup {
			r.Cookies[c.Name] = c.Value
		}
	}
	if len(bytes.TrimSpace(h.Auth)) > 0 && json.Valid(h.Auth) {
		r.Auth = h.Auth
	}
	for _, name := range a.forward {
		if vs := h.Header.Values(name); len(vs) > 0 {
			r.Headers[name] = strings.Join(vs, ", ")
		}
	}
	return json.Marshal(r)
}

// ask POSTs body to the app and reads its answer.
func (a *Authenticator) ask(ctx context.Context, body []byte) (*auth.Identity, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		return nil, unavailable("cannot make the request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return nil, unavailable("the app's auth endpoint did not answer within %s", a.timeout)
		}
		return nil, unavailable("the app's auth endpoint is unreachable: %v", err)
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, MaxAnswer)) // lets the connection be reused
		resp.Body.Close()
	}()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, auth.Unauthorized("the app refused the session (HTTP %d)", resp.StatusCode)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, unavailable("the app's auth endpoint answered HTTP %d, a redirect (to %q): is it behind a login filter?", resp.StatusCode, resp.Header.Get("Location"))
	case resp.StatusCode != http.StatusOK:
		return nil, unavailable("the app's auth endpoint answered HTTP %d", resp.StatusCode)
	}
	if resp.ContentLength > MaxAnswer {
		return nil, unavailable("the app's answer of %d bytes exceeds %d", resp.ContentLength, MaxAnswer)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return nil, unavailable("the app's auth endpoint did not answer within %s", a.timeout)
		}
		return nil, unavailable("reading the app's answer: %v", err)
	}
	if len(raw) > MaxAnswer {
		return nil, unavailable("the app's answer exceeds %d bytes", MaxAnswer)
	}
	var ans map[string]json.RawMessage // {"user_id": ..., "session": ...}
	if err := json.Unmarshal(raw, &ans); err != nil || ans == nil {
		return nil, unavailable("the app's answer is not a JSON object")
	}
	user, err := auth.SessionField(raw, "user_id")
	if err != nil {
		return nil, unavailable("the app's answer has no usable user_id: %v", err)
	}
	id := &auth.Identity{UserID: user}
	if s := ans["session"]; len(s) > 0 && !bytes.Equal(s, []byte("null")) {
		id.Session = s
	}
	return id, nil
}

func unavailable(format string, args ...any) error {
	return &auth.UnavailableError{Err: fmt.Errorf(format, args...)}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
