// Package app assembles herald: it is the one package that knows every
// other one. It builds the Socket.IO server, the HTTP endpoints and the
// background workers from a Config, and runs them until its context ends.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/heraldrt/herald/engineio"
	"github.com/heraldrt/herald/internal/config"
	"github.com/heraldrt/herald/internal/metrics"
	"github.com/heraldrt/herald/socketio"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// App is a running herald node.
type App struct {
	cfg     *config.Config
	log     *slog.Logger
	io      *socketio.Server
	metrics *metrics.Metrics
	reg     *prometheus.Registry
	ln      net.Listener
	http    *http.Server
}

// New builds a node from cfg and binds its listener, so Addr is known
// before Run.
func New(cfg *config.Config, log *slog.Logger) (*App, error) {
	a := &App{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	io, err := socketio.NewServer(&socketio.Options{EngineIO: engineio.Options{
		PingInterval: cfg.PingInterval,
		PingTimeout:  cfg.PingTimeout,
		CheckOrigin: func(origin string, r *http.Request) bool {
			return cfg.Origins.Allowed(origin, r.Host)
		},
		Logger: log,
	}})
	if err != nil {
		return nil, err
	}
	a.io = io
	a.metrics = metrics.New(a.reg, func() float64 { return float64(io.ConnectionCount()) })
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		_ = io.Shutdown(context.Background())
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	a.ln = ln
	a.http = &http.Server{Handler: a.routes(), ReadHeaderTimeout: 10 * time.Second}
	return a, nil
}

// Addr is the address the node serves on.
func (a *App) Addr() net.Addr { return a.ln.Addr() }

// SocketIO returns the node's Socket.IO server.
func (a *App) SocketIO() *socketio.Server { return a.io }

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", a.io)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	return mux
}

// Run serves until ctx ends, then shuts down within the configured bound:
// clients are told to reconnect (to another node) and in-flight requests
// finish.
func (a *App) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := a.http.Serve(a.ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http server: %w", err)
		}
	}()
	if a.cfg.Pprof != "" {
		stop := a.servePprof(&wg, errc)
		defer stop()
	}
	a.log.Info("herald listening", "addr", a.ln.Addr().String())
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	a.log.Info("herald shutting down", "timeout", a.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	err := errors.Join(runErr, a.io.Shutdown(sctx), a.http.Shutdown(sctx))
	wg.Wait()
	return err
}

func (a *App) servePprof(wg *sync.WaitGroup, errc chan<- error) (stop func()) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: a.cfg.Pprof, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("pprof server: %w", err)
		}
	}()
	a.log.Info("pprof listening", "addr", a.cfg.Pprof)
	return func() { _ = srv.Close() }
}
