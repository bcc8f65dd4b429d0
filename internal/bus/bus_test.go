package bus

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/testenv"
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
	testenv.Eventually(t, 5*time.Second, what, cond)
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

// The goroutine reader (TLS connections, systems without the event loop)
// delivers and resubscribes like the event loop.
func TestBusWithoutTheEventLoop(t *testing.T) {
	rdb := testredis.Client(t)
	p := testredis.Prefix(t)
	rec := &received{}
	b := New(rdb.Options(), Subscription{
		Channels: []string{p + "notify"},
		Handle:   func(channel, _ string, payload []byte) { rec.add(channel + " " + string(payload)) },
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.noLoop = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the subscription", b.Up)
	big := strings.Repeat("x", 100<<10)
	for _, m := range []string{"one", big} {
		if err := rdb.Publish(ctx, p+"notify", m).Err(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "two messages", func() bool { m, _ := rec.snapshot(); return len(m) == 2 })
	if m, _ := rec.snapshot(); m[0] != p+"notify one" || m[1] != p+"notify "+big {
		t.Fatalf("got %.40q", m)
	}
}

// fakeRedis accepts subscriber connections, confirms one SUBSCRIBE and
// then answers PINGs only if told to: a half-open line when not.
type fakeRedis struct {
	ln      net.Listener
	answer  bool
	garbage bool // after confirming, send what is not RESP
	accepts atomic.Int32
	pings   atomic.Int32
}

func newFakeRedis(t *testing.T, answer, garbage bool) *fakeRedis {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRedis{ln: ln, answer: answer, garbage: garbage}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.accepts.Add(1)
			wg.Add(1)
			go func() { defer wg.Done(); f.serve(c) }()
		}
	}()
	return f
}

func (f *fakeRedis) serve(c net.Conn) {
	defer c.Close()
	var r respReader
	buf := make([]byte, 4096)
	for {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		err = r.feed(buf[:n], func(v *reply) error {
			switch strings.ToUpper(string(v.elems[0].str)) {
			case "SUBSCRIBE":
				confirm := "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"
				if f.garbage {
					confirm += "HTTP/1.1 400 Bad Request\r\n\r\n"
				}
				_, err := c.Write([]byte(confirm))
				return err
			case "PING":
				f.pings.Add(1)
				if f.answer {
					_, err := c.Write([]byte("*2\r\n$4\r\npong\r\n$0\r\n\r\n"))
					return err
				}
			}
			return nil
		})
		if err != nil {
			return
		}
	}
}

func runFakeBus(t *testing.T, f *fakeRedis) *Bus {
	b := New(&redis.Options{Addr: f.ln.Addr().String()}, Subscription{Channels: []string{"c"},
		Handle: func(string, string, []byte) {}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.health = 30 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return b
}

// A quiet line that answers PING stays up on its first connection.
func TestBusPingsAQuietLine(t *testing.T) {
	f := newFakeRedis(t, true, false)
	b := runFakeBus(t, f)
	waitFor(t, "the subscription", b.Up)
	waitFor(t, "three PINGs", func() bool { return f.pings.Load() >= 3 })
	if n := f.accepts.Load(); n != 1 || !b.Up() {
		t.Fatalf("after 3 answered PINGs: %d connections, up %v; want 1, true", n, b.Up())
	}
}

// A line that stops answering (half-open) is dropped and redialled.
func TestBusDropsAHalfOpenLine(t *testing.T) {
	f := newFakeRedis(t, false, false)
	b := runFakeBus(t, f)
	waitFor(t, "the subscription", b.Up)
	waitFor(t, "a second connection", func() bool { return f.accepts.Load() >= 2 })
	if f.pings.Load() == 0 {
		t.Fatal("redialled without a PING first")
	}
}

// A peer that stops speaking RESP (a proxy error page, say) is dropped and
// redialled, not trusted.
func TestBusDropsALineThatIsNotRESP(t *testing.T) {
	f := newFakeRedis(t, true, true)
	runFakeBus(t, f)
	waitFor(t, "a second connection", func() bool { return f.accepts.Load() >= 2 })
}
