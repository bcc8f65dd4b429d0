// Package app assembles herald: it is the one package that knows every
// other one. It builds the Socket.IO server, the Redis link, the HTTP
// endpoints and the background workers from a Config, and runs them until
// its context ends.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald/engineio"
	"github.com/heraldrt/herald/internal/auth"
	"github.com/heraldrt/herald/internal/bus"
	"github.com/heraldrt/herald/internal/config"
	"github.com/heraldrt/herald/internal/deliver"
	"github.com/heraldrt/herald/internal/embedredis"
	"github.com/heraldrt/herald/internal/metrics"
	"github.com/heraldrt/herald/internal/revoke"
	"github.com/heraldrt/herald/socketio"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// App is a herald node.
type App struct {
	cfg     *config.Config
	log     *slog.Logger
	io      *socketio.Server
	nsp     *socketio.Namespace
	metrics *metrics.Metrics
	reg     *prometheus.Registry

	rdb      *redis.Client
	redisDB  int
	embedded *embedredis.Server
	stores   []*store // the session stores of the auth chain
	auth     auth.Authenticator
	revoked  *revoke.Registry
	watcher  *revoke.Watcher
	deliver  *deliver.Deliverer
	bus      *bus.Bus
	redisUp  atomic.Bool

	base   context.Context // ends when the node shuts down
	cancel context.CancelFunc
	ln     net.Listener
	http   *http.Server
}

// New builds a node from cfg and binds its listener, so Addr is known
// before Run. On error nothing is left running.
func New(cfg *config.Config, log *slog.Logger) (_ *App, err error) {
	a := &App{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	a.base, a.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if err = a.connectRedis(); err != nil {
		return nil, err
	}
	if err = a.buildAuth(); err != nil {
		return nil, err
	}
	if err = a.buildSocketIO(); err != nil {
		return nil, err
	}
	a.metrics = metrics.New(a.reg, func() float64 { return float64(a.io.ConnectionCount()) })
	a.buildRevocation()
	a.deliver = &deliver.Deliverer{NS: a.nsp, RevokeSession: a.revokeSession, Metrics: a.metrics, Log: log,
		EmitterPrefix: cfg.EmitterPrefix}
	a.bus = bus.New(a.rdb.Options(), a.subscription(), log)
	if a.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	a.http = &http.Server{Handler: a.routes(), ReadHeaderTimeout: 10 * time.Second}
	return a, nil
}

func (a *App) connectRedis() error {
	redisLogOnce.Do(func() { redis.SetLogger(redisLogger{a.log}) })
	url := a.cfg.RedisURL
	if url == "" {
		emb, err := embedredis.Start(a.cfg.EmbeddedRedis)
		if err != nil {
			return err
		}
		a.embedded = emb
		url = emb.URL()
		a.log.Info("no --redis given: started an embedded Redis for development; point a Rails app's REDIS_URL at it",
			"url", url)
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return fmt.Errorf("--redis: %w", err)
	}
	opts.DialTimeout = 2 * time.Second
	a.redisDB = opts.DB
	a.rdb = redis.NewClient(opts)
	return nil
}

func (a *App) buildSocketIO() error {
	cfg := a.cfg
	io, err := socketio.NewServer(&socketio.Options{EngineIO: engineio.Options{
		PingInterval:     cfg.PingInterval,
		PingTimeout:      cfg.PingTimeout,
		CheckOrigin:      func(origin string, r *http.Request) bool { return cfg.Origins.Allowed(origin, r.Host) },
		HandshakeHeaders: []string{"Cookie"}, // all authentication needs; every byte kept is kept per connection
		Logger:           a.log,
	}})
	if err != nil {
		return err
	}
	a.io = io
	a.nsp = io.Of("/")
	a.nsp.Use(a.authenticate)
	a.nsp.OnConnection(a.onConnection)
	return nil
}

// Addr is the address the node serves on.
func (a *App) Addr() net.Addr { return a.ln.Addr() }

// SocketIO returns the node's Socket.IO server, for handlers of its own.
func (a *App) SocketIO() *socketio.Server { return a.io }

// RedisURL returns the Redis the node uses (the embedded one's, if any).
func (a *App) RedisURL() string {
	if a.embedded != nil {
		return a.embedded.URL()
	}
	return a.cfg.RedisURL
}

// Run serves until ctx ends, then shuts down within the configured bound:
// clients are told to reconnect (to another node) and in-flight requests
// finish.
func (a *App) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	a.startWorkers(&wg)
	wg.Add(1)
	go func() {
		defer wg.Done()
		// WebSocket upgrades are served on the event loop from their first
		// byte; net/http gets every other connection.
		if err := a.http.Serve(a.io.Listen(a.ln, socketIOPath)); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http server: %w", err)
		}
	}()
	stopPprof := func() {}
	if a.cfg.Pprof != "" {
		stopPprof = a.servePprof(&wg, errc)
	}
	a.log.Info("herald listening", "addr", a.ln.Addr().String(), "auth", a.cfg.AuthModes)
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	a.log.Info("herald shutting down", "timeout", a.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	err := errors.Join(runErr, a.http.Shutdown(sctx), a.io.Shutdown(sctx))
	a.io = nil // shut down
	a.cancel()
	stopPprof() // before the wait: its goroutine is one of those waited for
	wg.Wait()
	a.close()
	return err
}

// startWorkers runs the Redis subscription, the revocation watcher and the
// Redis health check until the node's base context ends.
func (a *App) startWorkers(wg *sync.WaitGroup) {
	a.setupKeyspaceEvents()
	for _, run := range []func(context.Context){
		func(ctx context.Context) { _ = a.bus.Run(ctx) },
		a.watcher.Run,
		a.watchRedis,
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(a.base)
		}()
	}
}

// close releases what New acquired.
func (a *App) close() {
	a.cancel()
	if a.io != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = a.io.Shutdown(ctx)
		cancel()
	}
	if a.rdb != nil {
		_ = a.rdb.Close()
	}
	if a.embedded != nil {
		a.embedded.Close()
	}
}

// watchRedis keeps the readiness flag: Redis answers PING.
func (a *App) watchRedis(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := a.rdb.Ping(pctx).Err()
		cancel()
		if up := err == nil; a.redisUp.Swap(up) != up {
			if up {
				a.log.Info("redis reachable")
			} else if ctx.Err() == nil {
				a.log.Warn("redis unreachable: herald reports not ready", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Ready reports whether the node can authenticate and deliver.
func (a *App) Ready() bool { return a.redisUp.Load() && a.bus.Up() }

// redisLogger routes go-redis's process-wide log (dial retries and the
// like, which herald already reports as readiness) into slog at debug.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}

var redisLogOnce sync.Once
