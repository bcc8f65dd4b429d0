package bus

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/testredis"
	"github.com/redis/go-redis/v9"
)

type received struct {
	mu   sync.Mutex
	msgs []string
	ups  int
}

func (r *received) add(s string) { r.mu.Lock(); r.msgs = append(r.msgs, s); r.mu.Unlock() }

func (r *received) snapshot() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...), r.ups
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startBus runs a bus on the test Redis, subscribed to a channel and a
// pattern unique to the test.
func startBus(t *testing.T) (*Bus, *redis.Client, string, *received) {
	t.Helper()
	rdb := testredis.Client(t)
	p := testredis.Prefix(t)
	rec := &received{}
	sub := Subscription{
		Channels: []string{p + "notify"},
		Patterns: []string{p + "emit#*"},
		Handle: func(channel, pattern string, payload []byte) {
			rec.add(channel + " " + pattern + " " + string(payload))
		},
		OnUp: func() { rec.mu.Lock(); rec.ups++; rec.mu.Unlock() },
	}
	opts := *rdb.Options()
	opts.ClientName = strings.ReplaceAll(p, ":", "-") + "bus"
	b := New(&opts, sub, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if b.Up() {
			t.Error("Up() after Run returned")
		}
	})
	waitFor(t, "the subscription", b.Up)
	return b, rdb, p, rec
}

func TestBusDeliversChannelAndPatternMessages(t *testing.T) {
	_, rdb, p, rec := startBus(t)
	ctx := context.Background()
	big := string(make([]byte, 200<<10)) // over one read of the event loop
	for _, pub := range [][2]string{{p + "notify", "one"}, {p + "emit#/#", "two"}, {p + "other", "nobody"}, {p + "notify", big}, {p + "notify", ""}} {
		if err := rdb.Publish(ctx, pub[0], pub[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{p + "notify  one", p + "emit#/# " + p + "emit#* two", p + "notify  " + big, p + "notify  "}
	waitFor(t, "four messages", func() bool { m, _ := rec.snapshot(); return len(m) >= 4 })
	got, ups := rec.snapshot()
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message %d = %.60q, want %.60q", i, got[i], want[i])
		}
	}
	if ups != 1 {
		t.Fatalf("OnUp ran %d times, want 1", ups)
	}
}

// A killed subscription connection is redialled and subscribed again:
// OnUp runs again and later messages arrive.
func TestBusResubscribesAfterTheConnectionIsKilled(t *testing.T) {
	b, rdb, p, rec := startBus(t)
	ctx := context.Background()
	// Only this bus's connection: other packages' tests share the Redis.
	list, err := rdb.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	id := ""
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, " name="+strings.ReplaceAll(p, ":", "-")+"bus ") {
			id = strings.TrimPrefix(strings.Fields(line)[0], "id=")
		}
	}
	if id == "" {
		t.Fatalf("the bus's connection is not in CLIENT LIST:\n%s", list)
	}
	if err := rdb.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second OnUp", func() bool { _, ups := rec.snapshot(); return ups == 2 && b.Up() })
	if err := rdb.Publish(ctx, p+"notify", "after").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the message after the kill", func() bool { m, _ := rec.snapshot(); return len(m) == 1 })
	if m, _ := rec.snapshot(); m[0] != p+"notify  after" {
		t.Fatalf("got %q", m[0])
	}
}

// A refused AUTH keeps the bus down (and retrying) rather than up.
func TestBusWithWrongPasswordStaysDown(t *testing.T) {
	rdb := testredis.Client(t)
	opts := *rdb.Options()
	opts.Password = "not-the-password"
	b := New(&opts, Subscription{Channels: []string{"x"}, Handle: func(string, string, []byte) {}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_ = b.Run(ctx)
	if b.Up() {
		t.Fatal("Up() with a refused AUTH")
	}
}
