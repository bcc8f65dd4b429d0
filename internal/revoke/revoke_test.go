package revoke

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type conn struct{ revoked atomic.Int32 }

func (c *conn) Revoke() { c.revoked.Add(1) }

// store is a fake session store for this unit; the Redis-backed Checker is
// tested against a real Redis in its own package.
type store struct {
	mu   sync.Mutex
	live map[string]bool
	down bool
}

func (s *store) Missing(_ context.Context, refs []string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, errors.New("store down")
	}
	var out []string
	for _, r := range refs {
		if !s.live[r] {
			out = append(out, r)
		}
	}
	return out, nil
}

func TestSweepRevokesOnlyMissingSessions(t *testing.T) {
	reg := NewRegistry()
	a1, a2, b := &conn{}, &conn{}, &conn{}
	reg.Add("a", a1)
	reg.Add("a", a2)
	reg.Add("b", b)
	st := &store{live: map[string]bool{"a": true, "b": true}}
	var revoked atomic.Int32
	w := &Watcher{Registry: reg, Checker: st, Interval: time.Hour, Timeout: time.Second,
		OnRevoke: func(n int) { revoked.Add(int32(n)) }}

	w.Sweep(context.Background())
	if a1.revoked.Load()+a2.revoked.Load()+b.revoked.Load() != 0 {
		t.Fatal("a sweep revoked live sessions")
	}
	st.mu.Lock()
	delete(st.live, "a")
	st.down = true
	st.mu.Unlock()
	w.Sweep(context.Background())
	if a1.revoked.Load() != 0 {
		t.Fatal("a store outage revoked sessions")
	}
	st.mu.Lock()
	st.down = false
	st.mu.Unlock()
	w.Sweep(context.Background())
	if a1.revoked.Load() != 1 || a2.revoked.Load() != 1 || b.revoked.Load() != 0 || revoked.Load() != 2 {
		t.Fatalf("revoked a1=%d a2=%d b=%d total=%d; want 1 1 0 2",
			a1.revoked.Load(), a2.revoked.Load(), b.revoked.Load(), revoked.Load())
	}
	if reg.Len() != 1 {
		t.Fatalf("registry still tracks %d sessions, want 1", reg.Len())
	}
}

func TestKickSweepsSoonAndRunStops(t *testing.T) {
	reg := NewRegistry()
	c := &conn{}
	reg.Add("x", c)
	w := &Watcher{Registry: reg, Checker: &store{live: map[string]bool{}},
		Interval: time.Hour, Debounce: 10 * time.Millisecond, Timeout: time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	w.Kick()
	deadline := time.Now().Add(2 * time.Second)
	for c.revoked.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if c.revoked.Load() != 1 {
		t.Fatal("a kick did not trigger a sweep")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestRemove(t *testing.T) {
	reg := NewRegistry()
	a, b := &conn{}, &conn{}
	reg.Add("s", a)
	reg.Add("s", b)
	reg.Remove("s", a)
	if n := reg.Revoke("s"); n != 1 || a.revoked.Load() != 0 || b.revoked.Load() != 1 {
		t.Fatalf("Revoke after Remove: n=%d a=%d b=%d", n, a.revoked.Load(), b.revoked.Load())
	}
	reg.Remove("s", b) // already gone: no panic
	if reg.Len() != 0 {
		t.Fatal("registry not empty")
	}
}
