// Package demo is herald's demo page: sign in as any user, watch
// notifications arrive live, send some, sign out and see the connection
// closed.
//
// Signing in does exactly what the Rails app of the original design does
// after a Devise sign-in: it makes a token, the hex MD5 of
// "<session id>:<user id>", writes a JSON copy of the session under it
// (Sessions.Put, e.g. HSET mySessionStore <token> <json>) and sets the token
// as the cookie herald authenticates connections with. Signing out deletes
// the copy (Sessions.Delete, e.g. HDEL), and herald then disconnects the
// session's live sockets.
//
// The page is one self-contained HTML file (no external resources) that
// connects with the official socket.io-client browser bundle, vendored in
// static/ and served at /socket.io.min.js.
//
// Routes (Handler serves these and answers 404 to anything else):
//
//	GET  /                  the page
//	GET  /socket.io.min.js  socket.io-client's browser bundle
//	POST /demo/sign-in      form or JSON: user_id, name
//	POST /demo/sign-out
//	POST /demo/send         JSON: {"user": "42", "event": "...", "data": {...}}
//	                        or {"broadcast": true, ...}
//
// The demo lets anyone mint a session for any user id: herald mounts it
// only in development or when asked explicitly. State-changing requests are
// refused cross-origin (Sec-Fetch-Site / Origin, see
// net/http.CrossOriginProtection), and /demo/send also needs a session
// minted by this demo and a JSON body, so other sites cannot make a
// visitor's browser sign in, sign out or send notifications.
package demo

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/heraldrt/herald/internal/notify"
)

// Sessions writes session copies exactly as the Rails app of the original
// design does.
type Sessions interface {
	// Put stores session (a JSON object) under token, e.g.
	// HSET mySessionStore <token> <session>.
	Put(ctx context.Context, token string, session []byte) error
	// Delete removes the session under token (sign-out), e.g.
	// HDEL mySessionStore <token>.
	Delete(ctx context.Context, token string) error
}

// Publisher delivers notifications, as POST /api/publish does.
type Publisher interface {
	Publish(ctx context.Context, msgs []notify.Message) error
}

// Options configure Handler.
type Options struct {
	Sessions  Sessions  // required
	Publisher Publisher // required
	// Cookie is the name of the cookie carrying the session token; default
	// DefaultCookie. It must be the cookie herald authenticates with.
	Cookie string
	// Logger; default: discard.
	Logger *slog.Logger
}

// DefaultCookie is the token cookie of the original design.
const DefaultCookie = "_validation_token_key"

// Limits on what the demo accepts.
const (
	maxName      = 100      // bytes of a display name
	maxSendBody  = 64 << 10 // bytes of a POST /demo/send body
	maxFormBody  = 16 << 10 // bytes of a sign-in form or JSON
	maxSignedIn  = 10000    // sessions the demo remembers (oldest forgotten)
	storeTimeout = 5 * time.Second
)

// Handler returns the demo's HTTP handler. It panics if o.Sessions or
// o.Publisher is nil.
func Handler(o Options) http.Handler {
	if o.Sessions == nil || o.Publisher == nil {
		panic("demo: Options.Sessions and Options.Publisher are required")
	}
	if o.Cookie == "" {
		o.Cookie = DefaultCookie
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{opts: o, log: o.Logger, signed: newRegistry(maxSignedIn)}
	cop := http.NewCrossOriginProtection()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.page)
	mux.HandleFunc("GET /socket.io.min.js", serveBundle)
	mux.Handle("POST /demo/sign-in", cop.Handler(http.HandlerFunc(h.signIn)))
	mux.Handle("POST /demo/sign-out", cop.Handler(http.HandlerFunc(h.signOut)))
	mux.Handle("POST /demo/send", cop.Handler(http.HandlerFunc(h.send)))
	return mux
}

type handler struct {
	opts   Options
	log    *slog.Logger
	signed *registry
}

// session is one sign-in minted by the demo.
type session struct {
	UserID   string
	Username string
	JSON     []byte // the copy written to the store
}

// ---------------------------------------------------------------- sign-in

func (h *handler) signIn(w http.ResponseWriter, r *http.Request) {
	userID, name, err := readSignIn(w, r)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	sid, err := randomHex(16) // like Rails' session ids: SecureRandom.hex(16)
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, "cannot make a session id")
		return
	}
	token := Token(sid, userID)
	body := SessionJSON(userID, name)

	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	// Rails starts a new session at sign-in: forget the previous one.
	if old, ok := h.cookie(r); ok && h.signed.get(old) != nil {
		if err := h.opts.Sessions.Delete(ctx, old); err != nil {
			h.log.Warn("demo: deleting the previous session failed", "err", err)
		}
		h.signed.remove(old)
	}
	if err := h.opts.Sessions.Put(ctx, token, body); err != nil {
		h.log.Error("demo: storing the session failed", "user_id", userID, "err", err)
		h.fail(w, r, http.StatusServiceUnavailable, "cannot store the session: is Redis up?")
		return
	}
	h.signed.add(token, &session{UserID: userID, Username: name, JSON: body})
	http.SetCookie(w, &http.Cookie{
		Name:     h.opts.Cookie,
		Value:    token,
		Path:     "/",
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
	h.log.Info("demo: signed in", "user_id", userID)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// readSignIn reads user_id and name from a form or a JSON object.
func readSignIn(w http.ResponseWriter, r *http.Request) (userID, name string, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if isJSON(r) {
		var in struct {
			UserID json.RawMessage `json:"user_id"`
			Name   string          `json:"name"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return "", "", fmt.Errorf("bad JSON: %v", err)
		}
		raw := bytes.TrimSpace(in.UserID)
		var s string
		switch {
		case len(raw) == 0:
		case json.Unmarshal(raw, &s) == nil:
			userID = s
		case isIntegerID(string(raw)):
			userID = string(raw)
		default:
			return "", "", errors.New("user_id must be a string or an integer")
		}
		name = in.Name
	} else {
		if err := r.ParseForm(); err != nil {
			return "", "", fmt.Errorf("bad form: %v", err)
		}
		userID, name = r.PostFormValue("user_id"), r.PostFormValue("name")
	}
	userID, name = strings.TrimSpace(userID), strings.TrimSpace(name)
	if err := checkText("user_id", userID, notify.MaxLen); err != nil {
		return "", "", err
	}
	if userID == "" {
		return "", "", errors.New("user_id is required")
	}
	if err := checkText("name", name, maxName); err != nil {
		return "", "", err
	}
	if name == "" {
		name = "User " + userID
	}
	return userID, name, nil
}

func checkText(field, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%s is too long (at most %d bytes)", field, max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return fmt.Errorf("%s contains control characters", field)
	}
	return nil
}

// Token is the session token of the original design:
// Digest::MD5.hexdigest("#{session[:session_id]}:#{current_user.id}").
func Token(sessionID, userID string) string {
	sum := md5.Sum([]byte(sessionID + ":" + userID))
	return hex.EncodeToString(sum[:])
}

// SessionJSON is the session copy the Rails app writes, as Ruby's
// JSON.generate("user_id" => id, "username" => name) does: compact, in
// that order, without HTML escaping. A user id written as a decimal
// integer (no sign, no leading zero, fits in 64 bits, like an Active Record
// id) is a JSON number; any other id is a JSON string.
func SessionJSON(userID, username string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"user_id":`)
	if isIntegerID(userID) {
		b.WriteString(userID)
	} else {
		writeJSONString(&b, userID)
	}
	b.WriteString(`,"username":`)
	writeJSONString(&b, username)
	b.WriteByte('}')
	return b.Bytes()
}

func isIntegerID(s string) bool {
	if s == "" || len(s) > 19 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	// 19 digits may exceed int64: 9223372036854775807.
	return len(s) < 19 || s <= "9223372036854775807"
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode's newline
}

func randomHex(n int) (string, error) {
	p := make([]byte, n)
	if _, err := rand.Read(p); err != nil {
		return "", err
	}
	return hex.EncodeToString(p), nil
}

// --------------------------------------------------------------- sign-out

func (h *handler) signOut(w http.ResponseWriter, r *http.Request) {
	if token, ok := h.cookie(r); ok {
		ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
		defer cancel()
		if err := h.opts.Sessions.Delete(ctx, token); err != nil {
			h.log.Error("demo: deleting the session failed", "err", err)
			h.fail(w, r, http.StatusServiceUnavailable, "cannot delete the session: is Redis up?")
			return
		}
		if s := h.signed.remove(token); s != nil {
			h.log.Info("demo: signed out", "user_id", s.UserID)
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name:     h.opts.Cookie,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// ------------------------------------------------------------------- send

// send publishes one notification from the page's form.
func (h *handler) send(w http.ResponseWriter, r *http.Request) {
	if !isJSON(r) {
		writeJSON(w, http.StatusUnsupportedMediaType, errorBody("Content-Type must be application/json"))
		return
	}
	token, ok := h.cookie(r)
	var who *session
	if ok {
		who = h.signed.get(token)
	}
	if who == nil {
		writeJSON(w, http.StatusUnauthorized, errorBody("sign in on the demo page first"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSendBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody(fmt.Sprintf("body too large (at most %d bytes)", maxSendBody)))
			return
		}
		writeJSON(w, http.StatusBadRequest, errorBody("cannot read the body"))
		return
	}
	if i := bytes.IndexFunc(body, func(r rune) bool { return !unicode.IsSpace(r) }); i < 0 || body[i] != '{' {
		writeJSON(w, http.StatusBadRequest, errorBody(`expected one JSON object: {"user": "42", "event": "notification", "data": {...}} or {"broadcast": true, ...}`))
		return
	}
	msgs, err := notify.Parse(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody(err.Error()))
		return
	}
	if msgs[0].Disconnect != nil {
		writeJSON(w, http.StatusBadRequest, errorBody(`the demo sends notifications only, not "disconnect" commands`))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	if err := h.opts.Publisher.Publish(ctx, msgs); err != nil {
		h.log.Error("demo: publish failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, errorBody("publish failed: is Redis up?"))
		return
	}
	m := &msgs[0]
	h.log.Debug("demo: published", "by", who.UserID, "event", m.Event,
		"users", len(m.Users), "rooms", len(m.Rooms), "broadcast", m.Broadcast)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "event": m.Event})
}

// ------------------------------------------------------------------ helpers

func (h *handler) cookie(r *http.Request) (string, bool) {
	c, err := r.Cookie(h.opts.Cookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	return c.Value, true
}

// fail answers a sign-in or sign-out error: JSON to JSON clients, a short
// page with a way back to a browser form.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if isJSON(r) || strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, code, errorBody(msg))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = errorPage.Execute(w, msg)
}

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

func errorBody(msg string) map[string]string { return map[string]string{"error": msg} }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// registry remembers the sessions this demo minted, so that only its own
// cookie may send and the page can show who is signed in. When full, the
// oldest sign-in is forgotten (its copy stays in the store).
type registry struct {
	mu    sync.Mutex
	max   int
	m     map[string]*session
	order []string // tokens, oldest first; may hold removed ones
}

func newRegistry(max int) *registry {
	return &registry{max: max, m: make(map[string]*session)}
}

func (g *registry) add(token string, s *session) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(g.m) >= g.max && len(g.order) > 0 {
		delete(g.m, g.order[0])
		g.order = g.order[1:]
	}
	g.m[token] = s
	g.order = append(g.order, token)
	if len(g.order) > 2*g.max { // drop tokens removed since
		live := g.order[:0]
		for _, t := range g.order {
			if _, ok := g.m[t]; ok {
				live = append(live, t)
			}
		}
		g.order = live
	}
}

func (g *registry) get(token string) *session {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m[token]
}

func (g *registry) remove(token string) *session {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.m[token]
	delete(g.m, token)
	return s
}
