package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald/internal/timewheel"
)

// Server is an Engine.IO v4 server. It is an http.Handler: mount it on the
// path clients use (for Socket.IO, "/socket.io/").
type Server struct {
	opts   Options
	wheel  *timewheel.Wheel
	ws     *wsLayer
	onConn func(*Session)

	mu       sync.RWMutex
	sessions map[string]*Session
	closing  atomic.Bool
}

// NewServer returns a server with the given options (nil for defaults).
// Call OnConnection before serving, and Shutdown when done: the server owns
// a timer goroutine and an event loop for WebSocket connections.
func NewServer(opts *Options) (*Server, error) {
	s := &Server{opts: opts.withDefaults(), sessions: map[string]*Session{}}
	ws, err := newWSLayer(s)
	if err != nil {
		return nil, err
	}
	s.ws = ws
	s.wheel = timewheel.New(wheelTick(&s.opts), 1024)
	return s, nil
}

// wheelTick is the resolution of the session timers: a two-hundredth of
// the shortest timeout, between 10 and 50 ms. A ping 50 ms late in 25 s
// is harmless, and each tick wakes the process: with the default timeouts
// the wheel ticks 20 times a second rather than 100.
func wheelTick(o *Options) time.Duration {
	shortest := min(o.PingInterval, o.PingTimeout, o.UpgradeTimeout)
	return min(max(shortest/200, 10*time.Millisecond), 50*time.Millisecond)
}

// OnConnection sets the callback run for every new session, before the
// client learns the session id; set the session's callbacks there.
func (s *Server) OnConnection(fn func(*Session)) { s.onConn = fn }

// Count returns the number of open sessions.
func (s *Server) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sessions)
}

// Shutdown closes every session (clients are told, so they reconnect to
// another node) and stops the server's goroutines. New requests get 503.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.RLock()
	all := make([]*Session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		all = append(all, sess)
	}
	s.mu.RUnlock()
	for _, sess := range all {
		sess.closeWith(ReasonServerShutdown, tellClient)
		if ctx.Err() != nil {
			break
		}
	}
	s.wheel.Stop()
	return s.ws.shutdown(ctx)
}

// Error codes and messages of the reference server's JSON error bodies.
const (
	errTransportUnknown = iota
	errUnknownSid
	errBadHandshakeMethod
	errBadRequest
	errForbidden
	errUnsupportedProtocol
)

var errMessages = [...]string{
	"Transport unknown", "Session ID unknown", "Bad handshake method",
	"Bad request", "Forbidden", "Unsupported protocol version",
}

func writeError(w http.ResponseWriter, code int) {
	status := http.StatusBadRequest
	if code == errForbidden {
		status = http.StatusForbidden
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"code":` + string(rune('0'+code)) + `,"message":"` + errMessages[code] + `"}`))
}

// ServeHTTP routes handshakes, polling requests and WebSocket upgrades.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.closing.Load() {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	if !s.cors(w, r) {
		writeError(w, errForbidden)
		return
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	q := r.URL.Query()
	transport := q.Get("transport")
	if transport != "polling" && transport != "websocket" {
		writeError(w, errTransportUnknown)
		return
	}
	if q.Get("EIO") != "4" {
		writeError(w, errUnsupportedProtocol)
		return
	}
	isWS := transport == "websocket" && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
	if transport == "websocket" && !isWS {
		writeError(w, errBadRequest)
		return
	}
	sid := q.Get("sid")
	if sid == "" {
		if r.Method != http.MethodGet {
			writeError(w, errBadHandshakeMethod)
			return
		}
		if isWS {
			s.ws.handshake(w, r)
		} else {
			s.pollingHandshake(w, r)
		}
		return
	}
	sess := s.lookup(sid)
	if sess == nil {
		writeError(w, errUnknownSid)
		return
	}
	if isWS {
		s.ws.upgrade(w, r, sess)
		return
	}
	sess.servePolling(w, r)
}

// cors applies the origin policy. Browsers send Origin on cross-origin
// requests and on every WebSocket upgrade; a refused origin gets 403.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if s.opts.CheckOrigin != nil && !s.opts.CheckOrigin(origin, r) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
	}
	return true
}

func (s *Server) newSession(r *http.Request, wsOnly bool) *Session {
	sess := &Session{srv: s, id: newID(), hs: newHandshake(r, s.opts.HandshakeHeaders), wsOnly: wsOnly}
	s.mu.Lock()
	s.sessions[sess.id] = sess
	s.mu.Unlock()
	if s.onConn != nil {
		s.onConn(sess)
	}
	return sess
}

func (s *Server) lookup(sid string) *Session {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sessions[sid]
}

func (s *Server) remove(sess *Session) {
	s.mu.Lock()
	if s.sessions[sess.id] == sess {
		delete(s.sessions, sess.id)
	}
	s.mu.Unlock()
}

// newID returns 20 URL-safe characters from 15 random bytes, like Node's
// base64id.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
