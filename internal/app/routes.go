package app

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/heraldrt/herald/internal/api"
	"github.com/heraldrt/herald/internal/bus"
	"github.com/heraldrt/herald/internal/demo"
	"github.com/heraldrt/herald/internal/emitter"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// socketIOPath is where Socket.IO clients connect (their default path).
const socketIOPath = "/socket.io/"

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(socketIOPath, a.io)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !a.Ready() {
			http.Error(w, "not ready: redis unreachable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	publisher := bus.Publisher{RDB: a.rdb, Channel: a.cfg.Channel}
	mux.Handle("/api/publish", api.NewHandler(api.Options{Key: a.cfg.APIKey, Publisher: publisher, Logger: a.log,
		OnReject: func(int) { a.metrics.Rejected.WithLabelValues("api").Inc() }}))
	if a.demoEnabled() {
		mux.Handle("/", demo.Handler(demo.Options{Sessions: a.demoSessions(), Publisher: publisher,
			Cookie: a.cfg.SessionCookie, Logger: a.log}))
		a.log.Warn("demo page enabled: anyone can sign in as any user; never in production", "url", a.localURL()+"/")
	}
	return mux
}

func (a *App) demoEnabled() bool {
	want := a.cfg.Demo == "on" || (a.cfg.Demo == "auto" && a.embedded != nil)
	if want && a.demoSessions() == nil {
		a.log.Warn("demo page off: it signs in with the token scheme, and --auth has neither redis-hash nor redis-key")
		return false
	}
	return want
}

// demoSessions writes session copies where this node's authentication
// reads them.
func (a *App) demoSessions() demo.Sessions {
	switch {
	case a.cfg.Has("redis-hash"):
		return demo.HashSessions{RDB: a.rdb, Hash: a.cfg.SessionHash}
	case a.cfg.Has("redis-key"):
		return demo.KeySessions{RDB: a.rdb, Prefix: a.cfg.SessionPrefix, TTL: 24 * time.Hour}
	}
	return nil
}

// subscription says which Redis channels the node listens to.
func (a *App) subscription() bus.Subscription {
	sub := bus.Subscription{Channels: []string{a.cfg.Channel}}
	var broadcastPattern, requests string
	if a.cfg.EmitterPrefix != "off" {
		broadcastPattern = emitter.BroadcastPattern(a.cfg.EmitterPrefix, "/")
		requests = emitter.RequestChannel(a.cfg.EmitterPrefix, "/")
		sub.Patterns = append(sub.Patterns, broadcastPattern)
		sub.Channels = append(sub.Channels, requests)
	}
	keyspace := map[string]*store{}
	for _, st := range a.stores {
		if a.cfg.KeyspaceEvents == "off" {
			break // only the periodic re-check, as documented
		}
		p := st.KeyspacePattern(a.redisDB)
		keyspace[p] = st
		sub.Patterns = append(sub.Patterns, p)
	}
	sub.Handle = func(channel, pattern string, payload []byte) {
		switch {
		case channel == a.cfg.Channel:
			a.deliver.Notify("redis", payload)
		case pattern == broadcastPattern && broadcastPattern != "":
			a.deliver.Emitter(channel, payload)
		case channel == requests && requests != "":
			a.deliver.Request(payload)
		case keyspace[pattern] != nil:
			a.onKeyspace(keyspace[pattern], channel, string(payload))
		}
	}
	sub.OnUp = a.watcher.Kick // events may have been missed while down
	return sub
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

// localURL is how a browser on this machine reaches the node.
func (a *App) localURL() string {
	addr := a.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}
