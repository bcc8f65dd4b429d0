package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/heraldrt/herald/engineio"
	"github.com/heraldrt/herald/internal/timewheel"
)

// Options configure a Server. Zero values mean the defaults in the
// comments, which match Node's socket.io.
type Options struct {
	// EngineIO configures the transport layer (heartbeat, payload size,
	// origin checks).
	EngineIO engineio.Options
	// ConnectTimeout closes a connection that joins no namespace in time.
	// Default 45s.
	ConnectTimeout time.Duration
	// MaxAttachments bounds the binary attachments of one packet.
	// Default 10.
	MaxAttachments int
}

// Server is a Socket.IO v5 server. It is an http.Handler; mount it at
// "/socket.io/".
type Server struct {
	eio   *engineio.Server
	opts  Options
	wheel *timewheel.Wheel

	mu         sync.RWMutex
	namespaces map[string]*Namespace

	// Middleware runs on goroutines of its own; Shutdown waits for them.
	mwMu     sync.Mutex
	mwClosed bool
	mwRuns   sync.WaitGroup
}

// NewServer returns a server with the main namespace "/" already created.
// Call Shutdown to stop it.
func NewServer(opts *Options) (*Server, error) {
	s := &Server{namespaces: map[string]*Namespace{}}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.ConnectTimeout <= 0 {
		s.opts.ConnectTimeout = 45 * time.Second
	}
	if s.opts.MaxAttachments <= 0 {
		s.opts.MaxAttachments = 10
	}
	eio, err := engineio.NewServer(&s.opts.EngineIO)
	if err != nil {
		return nil, fmt.Errorf("socketio: %w", err)
	}
	s.eio = eio
	s.wheel = timewheel.New(10*time.Millisecond, 1024)
	eio.OnConnection(s.onEngineSession)
	s.Of("/")
	return s, nil
}

// ServeHTTP serves the Engine.IO transports.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.eio.ServeHTTP(w, r) }

// Listen wraps ln for the http.Server that mounts s at path: WebSocket
// upgrades to path are then served on the event loop from their first
// byte, everything else by the http.Server (see engineio.Server.Listen).
//
//	http.Handle("/socket.io/", io)
//	_ = http.Serve(io.Listen(ln, "/socket.io/"), nil)
func (s *Server) Listen(ln net.Listener, path string) net.Listener { return s.eio.Listen(ln, path) }

// Of returns the namespace with the given name, creating it. Clients can
// only join namespaces created this way.
func (s *Server) Of(name string) *Namespace {
	if name == "" || name[0] != '/' {
		name = "/" + name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.namespaces[name]
	if n == nil {
		n = newNamespace(s, name)
		s.namespaces[name] = n
	}
	return n
}

func (s *Server) namespace(name string) *Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.namespaces[name]
}

// ConnectionCount returns the number of Engine.IO connections.
func (s *Server) ConnectionCount() int { return s.eio.Count() }

// Shutdown disconnects every client (they are told, so they reconnect
// elsewhere), waits for middleware under way to return (until ctx ends)
// and stops the server's goroutines.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.eio.Shutdown(ctx)
	s.mwMu.Lock()
	s.mwClosed = true
	s.mwMu.Unlock()
	done := make(chan struct{})
	go func() { s.mwRuns.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("socketio: middleware still running: %w", ctx.Err()))
	}
	s.wheel.Stop()
	return err
}

// goMiddleware runs fn on a goroutine that Shutdown waits for, unless the
// server is shutting down.
func (s *Server) goMiddleware(fn func()) bool {
	s.mwMu.Lock()
	defer s.mwMu.Unlock()
	if s.mwClosed {
		return false
	}
	s.mwRuns.Add(1)
	go func() {
		defer s.mwRuns.Done()
		fn()
	}()
	return true
}

func (s *Server) onEngineSession(es *engineio.Session) {
	c := &conn{srv: s, eio: es}
	es.OnMessage(c.onMessage)
	es.OnClose(c.onClose)
	c.connectTimeout.Init(c.onConnectTimeout)
	s.wheel.Schedule(&c.connectTimeout, s.opts.ConnectTimeout)
}

func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
