// Package revoke makes sign-out take effect live: connections whose
// server-side session has disappeared are disconnected.
//
// A Registry tracks the session reference of every local connection. A
// Watcher sweeps it: it asks a Checker which sessions are gone, in batches,
// and revokes their connections. Sweeps run on a fixed interval, and also
// at once (debounced) when the session store announces a deletion.
package revoke

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Target is a connection that can be revoked.
type Target interface{ Revoke() }

// Checker reports which session references no longer exist. It must
// return an error, not a verdict, when it cannot tell (a store outage must
// not sign everyone out).
type Checker interface {
	Missing(ctx context.Context, refs []string) ([]string, error)
}

// Registry maps session references to their live connections.
type Registry struct {
	mu   sync.Mutex
	refs map[string][]Target
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{refs: map[string][]Target{}} }

// Add records a connection of a session.
func (r *Registry) Add(ref string, t Target) {
	r.mu.Lock()
	r.refs[ref] = append(r.refs[ref], t)
	r.mu.Unlock()
}

// Remove forgets a connection.
func (r *Registry) Remove(ref string, t Target) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ts := r.refs[ref]
	for i, x := range ts {
		if x == t {
			ts = append(ts[:i], ts[i+1:]...)
			break
		}
	}
	if len(ts) == 0 {
		delete(r.refs, ref)
	} else {
		r.refs[ref] = ts
	}
}

// Len returns the number of distinct sessions tracked.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.refs)
}

// Revoke disconnects every connection of the session ref and returns how
// many there were.
func (r *Registry) Revoke(ref string) int {
	r.mu.Lock()
	ts := r.refs[ref]
	delete(r.refs, ref)
	r.mu.Unlock()
	for _, t := range ts {
		t.Revoke()
	}
	return len(ts)
}

func (r *Registry) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	refs := make([]string, 0, len(r.refs))
	for ref := range r.refs {
		refs = append(refs, ref)
	}
	return refs
}

// Watcher sweeps a Registry against a Checker.
type Watcher struct {
	Registry *Registry
	Checker  Checker
	// Interval between sweeps. With store notifications it can be long;
	// without, it bounds how late a sign-out takes effect.
	Interval time.Duration
	// Debounce coalesces notifications into one sweep.
	Debounce time.Duration
	// Timeout bounds one sweep.
	Timeout time.Duration
	Logger  *slog.Logger
	// OnRevoke, if set, is told how many connections each sweep revoked.
	OnRevoke func(n int)

	kick chan struct{}
	once sync.Once
}

func (w *Watcher) init() {
	w.once.Do(func() { w.kick = make(chan struct{}, 1) })
}

// Kick asks for a sweep soon: the session store announced a deletion.
func (w *Watcher) Kick() {
	w.init()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run sweeps until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	w.init()
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.kick:
			if !sleepCtx(ctx, w.Debounce) {
				return
			}
			select { // a kick that came during the pause is covered
			case <-w.kick:
			default:
			}
		}
		w.Sweep(ctx)
	}
}

// Sweep checks every tracked session once and revokes the missing ones.
func (w *Watcher) Sweep(ctx context.Context) {
	refs := w.Registry.snapshot()
	if len(refs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	missing, err := w.Checker.Missing(ctx, refs)
	if err != nil {
		if ctx.Err() == nil && w.Logger != nil {
			w.Logger.Warn("session revocation check failed; will retry", "err", err)
		}
		return
	}
	n := 0
	for _, ref := range missing {
		n += w.Registry.Revoke(ref)
	}
	if n > 0 && w.OnRevoke != nil {
		w.OnRevoke(n)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
