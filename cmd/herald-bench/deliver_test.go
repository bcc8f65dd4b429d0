package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/heraldrt/herald/internal/emitter"
	"github.com/heraldrt/herald/internal/sioclient/siotest"
	"github.com/redis/go-redis/v9"
)

// relay is a stand-in for the server under test: a fake Socket.IO server
// whose connections are users (cookie _validation_token_key=tok<id>) and a
// subscriber that delivers herald:notify and emitter messages to them,
// with optional faults to check that the accounting sees them.
type relay struct {
	srv   *siotest.Server
	mu    sync.Mutex
	users map[int64][]*siotest.Conn
	// fault, if set, may change how one message is delivered: it returns
	// the list of users to send it to instead of the addressee (nil to
	// drop it); broadcasts are not passed to it.
	fault     func(seq int64, user int64) []int64
	forwarded atomic.Int64
}

func newRelay(t *testing.T, rdb *redis.Client) *relay {
	r := &relay{users: map[int64][]*siotest.Conn{}}
	r.srv = siotest.NewServer(siotest.Options{
		PingInterval: 200 * time.Millisecond, PingTimeout: 2 * time.Second,
		Authorize: func(req *http.Request, _ []byte) error {
			if _, err := userOf(req.Header.Get("Cookie")); err != nil {
				return err
			}
			return nil
		},
		OnConnect: func(c *siotest.Conn) {
			u, _ := userOf(c.Request.Header.Get("Cookie"))
			r.mu.Lock()
			r.users[u] = append(r.users[u], c)
			r.mu.Unlock()
		},
	})
	t.Cleanup(r.srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	sub := rdb.Subscribe(ctx, "herald:notify")
	if err := sub.PSubscribe(ctx, emitter.BroadcastPattern("socket.io", "/")); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); sub.Close(); <-done })
	go func() {
		defer close(done)
		for msg := range sub.Channel() {
			r.handle(t, msg)
		}
	}()
	return r
}

func userOf(cookie string) (int64, error) {
	v, ok := strings.CutPrefix(cookie, "_validation_token_key=tok")
	if !ok {
		return 0, fmt.Errorf("Unauthorized user")
	}
	return strconv.ParseInt(v, 10, 64)
}

func (r *relay) handle(t *testing.T, msg *redis.Message) {
	var event string
	var data []byte
	broadcast := false
	var user int64
	if msg.Channel == "herald:notify" {
		var m struct {
			User      int64           `json:"user"`
			Broadcast bool            `json:"broadcast"`
			Event     string          `json:"event"`
			Data      json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(msg.Payload), &m); err != nil {
			t.Errorf("relay: %v", err)
			return
		}
		event, data, broadcast, user = m.Event, m.Data, m.Broadcast, m.User
	} else {
		b, err := emitter.DecodeBroadcast([]byte(msg.Payload))
		if err != nil {
			t.Errorf("relay: %v", err)
			return
		}
		event = b.Event
		data, _ = json.Marshal(b.Args[0])
		if len(b.Rooms) == 0 {
			broadcast = true
		} else {
			user, _ = strconv.ParseInt(strings.TrimPrefix(b.Rooms[0], "user:"), 10, 64)
		}
		if want := emitterChannel("socket.io", strings.Join(b.Rooms, "")); msg.Channel != want {
			t.Errorf("relay: emitter message on %q, want %q", msg.Channel, want)
		}
	}
	frame := "42" + `["` + event + `",` + string(data) + "]"
	r.mu.Lock()
	defer r.mu.Unlock()
	if broadcast {
		for _, cs := range r.users {
			for _, c := range cs {
				c.Send(frame)
			}
		}
		return
	}
	to := []int64{user}
	if r.fault != nil {
		m, _ := parseMark(data)
		to = r.fault(m.Seq, user)
	}
	for _, u := range to {
		for _, c := range r.users[u] {
			c.Send(frame)
		}
	}
	r.forwarded.Add(1)
}

func lastDeliveryJSON(t *testing.T, out string) deliveryResult {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r deliveryResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
	return r
}

func TestSuiteEndToEnd(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	r := newRelay(t, rdb)

	args := []string{"suite", "-url", r.srv.URL, "-n", "30", "-c", "8", "-redis", "redis://" + mr.Addr() + "/0",
		"-settle", "100ms", "-rate", "500", "-duration", "400ms", "-burst", "300", "-burst-batch", "32",
		"-broadcasts", "4", "-drain", "3s", "-dup-wait", "100ms", "-pause", "10ms", "-json", "-q",
		"-phases", "unicast,burst,broadcast,emitter-unicast,emitter-burst,emitter-broadcast"}
	if runtime.GOOS == "linux" {
		args = append(args, "-pid", strconv.Itoa(os.Getpid()))
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, &stdout, &stderr)
	}
	res := lastDeliveryJSON(t, stdout.String())
	if res.OK != 30 || len(res.Phases) != 6 {
		t.Fatalf("result %+v", res)
	}
	wantExpected := map[string]int64{"unicast": 200, "burst": 300, "broadcast": 120, "emitter-unicast": 200, "emitter-burst": 300, "emitter-broadcast": 120}
	for _, p := range res.Phases {
		if !p.OK || p.Expected != wantExpected[p.Name] || p.Delivered != p.Expected || p.Published != p.Messages || p.Stray != 0 {
			t.Errorf("phase %+v", p)
		}
		if p.P50MS <= 0 || p.P99MS < p.P50MS || p.P999MS < p.P99MS || p.MaxMS < p.P999MS {
			t.Errorf("phase %s latencies %v %v %v %v", p.Name, p.P50MS, p.P99MS, p.P999MS, p.MaxMS)
		}
		if runtime.GOOS == "linux" && (p.CPUSeconds == nil || p.CPUPerDeliveryUS == nil) {
			t.Errorf("phase %s: no CPU figures", p.Name)
		}
	}
	// Paced phases take their duration.
	if s := res.Phases[0].Seconds; s < 0.35 || s > 3 {
		t.Errorf("unicast took %.2fs", s)
	}
	if !strings.Contains(stdout.String(), "result:        PASS") {
		t.Errorf("output:\n%s", &stdout)
	}
}

func TestUnicastFaultsDetected(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	r := newRelay(t, rdb)
	r.fault = func(seq, user int64) []int64 {
		switch seq {
		case 3:
			return nil // lost
		case 5:
			return []int64{user, user} // duplicated
		case 7:
			return []int64{(user + 1) % 10} // misrouted (and so lost)
		}
		return []int64{user}
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"unicast", "-url", r.srv.URL, "-n", "10", "-redis", "redis://" + mr.Addr() + "/0",
		"-settle", "0", "-rate", "1000", "-duration", "50ms", "-drain", "300ms", "-dup-wait", "100ms", "-json", "-q"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, &stdout, &stderr)
	}
	p := lastDeliveryJSON(t, stdout.String()).Phases[0]
	if p.OK || p.Expected != 50 || p.Delivered != 48 || p.Lost != 2 || p.Duplicated != 1 || p.Misrouted != 1 || !p.TimedOut {
		t.Fatalf("phase %+v", p)
	}
	if !strings.Contains(stdout.String(), "result:        FAIL") {
		t.Errorf("output:\n%s", &stdout)
	}
}

// Two processes (here: two runs in one test) share the users: one
// publishes to users drawn from both, the other only receives; a barrier
// starts them together.
func TestMultiProcess(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	r := newRelay(t, rdb)
	common := []string{"-url", r.srv.URL, "-n", "10", "-users", "20", "-redis", "redis://" + mr.Addr() + "/0",
		"-settle", "0", "-rate", "1000", "-duration", "100ms", "-broadcasts", "3", "-drain", "2s", "-dup-wait", "50ms",
		"-barrier", "2", "-barrier-key", "t", "-phase-timeout", "10s", "-json", "-q", "-phases", "unicast,broadcast"}
	var wg sync.WaitGroup
	outs := make([]bytes.Buffer, 2)
	codes := make([]int, 2)
	for k := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := append([]string{"suite", "-base", strconv.Itoa(10 * k), "-publish=" + strconv.FormatBool(k == 0)}, common...)
			var stderr bytes.Buffer
			codes[k] = run(context.Background(), args, &outs[k], &stderr)
		}()
	}
	wg.Wait()
	var total int64
	for k := range 2 {
		if codes[k] != 0 {
			t.Fatalf("process %d: exit %d\n%s", k, codes[k], &outs[k])
		}
		res := lastDeliveryJSON(t, outs[k].String())
		uni, bc := res.Phases[0], res.Phases[1]
		if !uni.OK || uni.Delivered != uni.Expected || uni.Expected == 0 || !bc.OK || bc.Expected != 30 || bc.Delivered != 30 {
			t.Fatalf("process %d: %+v", k, res.Phases)
		}
		if (k == 0) != (uni.Published == 100) {
			t.Fatalf("process %d published %d", k, uni.Published)
		}
		total += uni.Expected
	}
	if total != 100 {
		t.Fatalf("%d unicast deliveries expected in all, want 100", total)
	}
}

func TestDeliveryUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{
		{"unicast", "-phases", "nope"},
		{"unicast", "-phases", ","},
		{"unicast", "-rate", "0"},
		{"broadcast", "-n", "20000", "-broadcasts", "10000"},
		{"suite", "-n", "10", "-base", "5", "-users", "10"},
		{"emitter", "-redis", "http://x"},
		{"burst", "extra"},
		{"report", "nolabel"},
	} {
		stderr.Reset()
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, &stderr)
		}
	}
	if code := run(context.Background(), []string{"suite", "-h"}, &stdout, &stderr); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
}
