package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald/internal/sioclient"
)

// poolConfig describes N client connections to one target.
type poolConfig struct {
	Target      *target
	N           int  // connections
	Concurrency int  // dials in flight at once
	Spread      bool // spread source addresses over 127.0.0.2-254 for a loopback target
	// Cookie, Auth and Origin are templates: "{i}" is replaced by the
	// connection index plus IndexBase. Auth, when set, is a JSON object.
	Cookie, Auth, Origin string
	IndexBase            int
	HandshakeTimeout     time.Duration
	// OnEvent receives every event on every connection, on that
	// connection's reading goroutine; raw is the JSON array
	// ["event",args...], valid only during the call. It must not block.
	OnEvent func(conn int, event string, raw []byte)
	// OnAck receives acknowledgements likewise.
	OnAck func(conn int, id int64, raw []byte)
	// OnDrop is called when a connection ends other than by close().
	OnDrop func(conn int, err error)
	// Progress, when set, receives a progress line every ProgressEvery
	// while dialling.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// pool dials and holds N Socket.IO connections, one reading goroutine
// each, and is the building block of every subcommand.
type pool struct {
	cfg   poolConfig
	conns []*sioclient.Conn // by index; nil where dialling failed

	failures  reasonCounter // dial failures
	drops     reasonCounter // connections lost after connecting
	connected atomic.Int64  // successful dials
	failed    atomic.Int64  // failed dials
	alive     atomic.Int64  // connected and not yet ended
	readers   sync.WaitGroup
}

// dialStats summarises a dial phase.
type dialStats struct {
	OK, Failed, NotAttempted int
	Elapsed                  time.Duration
}

func newPool(cfg poolConfig) *pool {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 2 * time.Second
	}
	return &pool{cfg: cfg, conns: make([]*sioclient.Conn, cfg.N)}
}

// dial opens the N connections with at most Concurrency handshakes in
// flight. It returns when every connection has been attempted or ctx is
// done; connections not attempted by then are counted as such.
func (p *pool) dial(ctx context.Context) dialStats {
	start := time.Now()
	var next atomic.Int64
	var workers sync.WaitGroup
	stopProgress := p.progress(start)
	for range min(p.cfg.Concurrency, p.cfg.N) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= p.cfg.N {
					return
				}
				p.dialOne(ctx, i)
			}
		}()
	}
	workers.Wait()
	stopProgress()
	ok, failed := int(p.connected.Load()), int(p.failed.Load())
	return dialStats{OK: ok, Failed: failed, NotAttempted: p.cfg.N - ok - failed, Elapsed: time.Since(start)}
}

func (p *pool) dialOne(ctx context.Context, i int) {
	cfg := p.cfg.Target.base // copy
	cfg.LocalAddr = p.cfg.Target.localAddr(i, p.cfg.Spread)
	ti := p.cfg.IndexBase + i
	cfg.Cookie = subst(p.cfg.Cookie, ti)
	cfg.Origin = subst(p.cfg.Origin, ti)
	if p.cfg.Auth != "" {
		cfg.Auth = []byte(subst(p.cfg.Auth, ti))
	}
	cfg.HandshakeTimeout = p.cfg.HandshakeTimeout
	c, err := sioclient.Dial(ctx, &cfg)
	if err != nil {
		p.failed.Add(1)
		p.failures.add(sioclient.Reason(err))
		return
	}
	p.conns[i] = c
	p.connected.Add(1)
	p.alive.Add(1)
	p.readers.Add(1)
	go p.read(i, c)
}

func (p *pool) read(i int, c *sioclient.Conn) {
	defer p.readers.Done()
	var h sioclient.Handler
	if f := p.cfg.OnEvent; f != nil {
		h.Event = func(name string, data []byte) { f(i, name, data) }
	}
	if f := p.cfg.OnAck; f != nil {
		h.Ack = func(id int64, data []byte) { f(i, id, data) }
	}
	err := c.ReadLoop(h)
	p.alive.Add(-1)
	if err != nil {
		p.drops.add(sioclient.Reason(err))
		if p.cfg.OnDrop != nil {
			p.cfg.OnDrop(i, err)
		}
	}
}

// progress prints a line every ProgressEvery until the returned func is
// called.
func (p *pool) progress(start time.Time) (stop func()) {
	if p.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(p.cfg.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ok := p.connected.Load()
				el := time.Since(start).Seconds()
				fmt.Fprintf(p.cfg.Progress, "  dialling: %d/%d ok, %d failed, %.0f conn/s\n",
					ok, p.cfg.N, p.failed.Load(), float64(ok)/el)
			}
		}
	}()
	return func() { close(done); <-finished }
}

// conn returns connection i, nil if it failed to connect.
func (p *pool) conn(i int) *sioclient.Conn { return p.conns[i] }

// close disconnects every connection like socket.io-client's
// socket.disconnect(), Concurrency at a time, each waiting at most wait
// for the server's close frame, then waits (bounded by ctx) for the
// reading goroutines. It must be called after dial has returned.
func (p *pool) close(ctx context.Context, wait time.Duration) error {
	var next atomic.Int64
	var workers sync.WaitGroup
	for range min(p.cfg.Concurrency, max(p.cfg.N, 1)) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(p.conns) {
					return
				}
				if c := p.conns[i]; c != nil {
					w := wait
					if ctx.Err() != nil {
						w = 0 // out of time: close without waiting for the peer
					}
					c.Close(w)
				}
			}
		}()
	}
	workers.Wait()
	done := make(chan struct{})
	go func() { p.readers.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%d reading goroutines still running: %w", p.alive.Load(), ctx.Err())
	}
}

// reasonCounter counts failures by reason, keeping at most
// maxReasons distinct reasons (then "other").
type reasonCounter struct {
	mu sync.Mutex
	m  map[string]int
}

const maxReasons = 32

func (r *reasonCounter) add(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]int)
	}
	if _, ok := r.m[reason]; !ok && len(r.m) >= maxReasons {
		reason = "other"
	}
	r.m[reason]++
}

type reasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// sorted returns the counts, largest first.
func (r *reasonCounter) sorted() []reasonCount {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]reasonCount, 0, len(r.m))
	for k, v := range r.m {
		out = append(out, reasonCount{k, v})
	}
	slices.SortFunc(out, func(a, b reasonCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
	})
	return out
}

func (r *reasonCounter) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.m {
		n += v
	}
	return n
}
