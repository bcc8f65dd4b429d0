package main

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"
)

func TestParseMark(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want mark
		ok   bool
	}{
		{`["notification",{"title":"x","hb_p":1,"hb_s":2,"hb_t":1700000000000000,"hb_u":42}]`, mark{1, 2, 1700000000000000, 42}, true},
		// Go's encoding/json sorts keys (herald re-encodes emitter data)
		{`["notification",{"hb_p":3,"hb_s":0,"hb_t":5,"hb_u":-1,"title":"x"}]`, mark{3, 0, 5, -1}, true},
		// whitespace, as a pretty-printing server might send
		{`["n", { "hb_u" : 7 , "hb_t":	9, "hb_s" :8,"hb_p": 1 }]`, mark{1, 8, 9, 7}, true},
		{`["n",{"hb_p":1,"hb_s":2,"hb_t":3}]`, mark{}, false},                             // no user
		{`["n",{"hb_p":1,"hb_s":2.5,"hb_t":3,"hb_u":4}]`, mark{}, false},                  // not an integer
		{`["n",{"hb_p":1,"hb_s":2e3,"hb_t":3,"hb_u":4}]`, mark{}, false},                  // exponent
		{`["n",{"hb_p":1,"hb_s":"2","hb_t":3,"hb_u":4}]`, mark{}, false},                  // a string
		{`["n",{"hb_p":1,"hb_s":-,"hb_t":3,"hb_u":4}]`, mark{}, false},                    // a lone sign
		{`["n",{"hb_p":1,"hb_s":99999999999999999999,"hb_t":3,"hb_u":4}]`, mark{}, false}, // overflow
		{`["n",{"hb_p"`, mark{}, false},
		{`[]`, mark{}, false},
	} {
		got, ok := parseMark([]byte(tc.raw))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseMark(%s) = %+v, %v; want %+v, %v", tc.raw, got, ok, tc.want, tc.ok)
		}
	}
	// The largest int64 parses; one more does not.
	if v, ok := intField([]byte(`{"k":9223372036854775807}`), "k"); !ok || v != math.MaxInt64 {
		t.Errorf("max int64: %d %v", v, ok)
	}
	if _, ok := intField([]byte(`{"k":9223372036854775808}`), "k"); ok {
		t.Error("max int64 + 1 accepted")
	}
}

func TestPercentile(t *testing.T) {
	var hundred []int64
	for i := int64(1); i <= 100; i++ {
		hundred = append(hundred, i)
	}
	for _, tc := range []struct {
		v    []int64
		p    float64
		want int64
	}{
		{nil, 50, 0},
		{[]int64{7}, 50, 7},
		{[]int64{7}, 99.9, 7},
		{hundred, 50, 50},
		{hundred, 99, 99},
		{hundred, 99.9, 100},
		{hundred, 100, 100},
		{hundred, 1, 1},
		{hundred, 0.001, 1},
		{[]int64{1, 2, 3, 4}, 50, 2},
		{[]int64{1, 2, 3, 4}, 51, 3},
	} {
		if got := percentile(tc.v, tc.p); got != tc.want {
			t.Errorf("percentile(%d values, %v) = %d, want %d", len(tc.v), tc.p, got, tc.want)
		}
	}
	// p99.9 of 10,000 values is the 9,990th smallest: the 11 largest lie above p99.9.
	v := make([]int64, 10000)
	for i := range v {
		v[i] = int64(i + 1)
	}
	if got := percentile(v, 99.9); got != 9990 {
		t.Errorf("p99.9 of 1..10000 = %d", got)
	}
}

func payload(m mark) []byte {
	return append(append([]byte(`["notification",`), appendData(nil, m)...), ']')
}

func TestUnicastTrackerAccounting(t *testing.T) {
	// 6 connections, users 100..105; connection 5 is down.
	alive := []bool{true, true, true, true, true, false}
	targets := []int64{100, 101, 105, 102, 103, 104, 100, 999}
	tr := newUnicastTracker(4, len(targets), 100, alive, func(s int) int64 { return targets[s] })
	// Message 2 is for the dead connection, message 7 for a user of
	// another process: neither is expected here.
	if tr.expected != 6 {
		t.Fatalf("expected %d", tr.expected)
	}
	now := time.Now()
	deliver := func(conn int, m mark, at time.Duration) {
		tr.record(conn, payload(m), now.Add(at).UnixNano())
	}
	sent := now.UnixMicro()
	deliver(0, mark{4, 0, sent, 100}, 1*time.Millisecond)        // ok, 1 ms
	deliver(1, mark{4, 1, sent, 101}, 2*time.Millisecond)        // ok
	deliver(1, mark{4, 1, sent, 101}, 3*time.Millisecond)        // duplicate
	deliver(3, mark{4, 3, sent, 102}, 3*time.Millisecond)        // misrouted: user 102 is connection 2
	deliver(2, mark{4, 3, sent, 102}, 4*time.Millisecond)        // ok
	deliver(4, mark{4, 5, sent, 104}, 5*time.Millisecond)        // ok
	deliver(0, mark{4, 6, sent, 101}, 5*time.Millisecond)        // misrouted: payload names 101 but message 6 is for 100
	deliver(0, mark{3, 0, sent, 100}, 5*time.Millisecond)        // stray: another phase
	deliver(0, mark{4, 8, sent, 100}, 5*time.Millisecond)        // out of range
	tr.record(0, []byte(`["other",{"x":1}]`), now.UnixNano())    // stray: not ours
	tr.record(9, payload(mark{4, 0, sent, 100}), now.UnixNano()) // connection out of range
	select {
	case <-tr.done:
		t.Fatal("done before every expected delivery")
	default:
	}
	if got := [...]int64{tr.delivered.Load(), tr.dup.Load(), tr.misrouted.Load(), tr.stray.Load(), tr.outOfRng.Load()}; got != [...]int64{4, 1, 2, 2, 2} {
		t.Fatalf("delivered, dup, misrouted, stray, out of range = %v", got)
	}
	deliver(3, mark{4, 4, sent, 103}, 6*time.Millisecond)
	deliver(0, mark{4, 6, sent, 100}, 7*time.Millisecond)
	select {
	case <-tr.done:
	default:
		t.Fatal("not done after every expected delivery")
	}
	lat := tr.latencies()
	if len(lat) != 6 || lat[0] < 900 || lat[0] > 1100 || lat[5] < 6900 || lat[5] > 7100 {
		t.Fatalf("latencies µs %v", lat)
	}
	if first, last := tr.firstNS.Load(), tr.lastNS.Load(); first != now.Add(time.Millisecond).UnixNano() || last != now.Add(7*time.Millisecond).UnixNano() {
		t.Fatalf("first %d last %d", first-now.UnixNano(), last-now.UnixNano())
	}
}

func TestTrackerNothingExpected(t *testing.T) {
	tr := newUnicastTracker(1, 3, 0, []bool{false}, func(int) int64 { return 0 })
	select {
	case <-tr.done:
	default:
		t.Fatal("a phase with nothing expected is not done at once")
	}
	if b := newBroadcastTracker(1, 2, 0, nil); b.expected != 0 {
		t.Fatal("broadcast to nobody expects deliveries")
	}
}

func TestBroadcastTrackerConcurrent(t *testing.T) {
	const k, n = 20, 50
	alive := make([]bool, n)
	for i := range alive {
		alive[i] = i != 7 // one connection down
	}
	tr := newBroadcastTracker(2, k, 1000, alive)
	if tr.expected != k*(n-1) {
		t.Fatalf("expected %d", tr.expected)
	}
	sent := time.Now().UnixMicro()
	var wg sync.WaitGroup
	for i := range n {
		if i == 7 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range k {
				tr.record(i, payload(mark{2, int64(s), sent, -1}), time.Now().UnixNano())
				if i == 3 && s == 5 {
					tr.record(i, payload(mark{2, int64(s), sent, -1}), time.Now().UnixNano()) // duplicate
				}
			}
		}()
	}
	wg.Wait()
	<-tr.done
	if tr.delivered.Load() != tr.expected || tr.dup.Load() != 1 || tr.misrouted.Load() != 0 {
		t.Fatalf("delivered %d dup %d misrouted %d", tr.delivered.Load(), tr.dup.Load(), tr.misrouted.Load())
	}
	for s := range k {
		select {
		case <-tr.msgDone[s]:
		default:
			t.Fatalf("message %d: not done", s)
		}
		if tr.msgDelivered(s) != n-1 {
			t.Fatalf("message %d reached %d", s, tr.msgDelivered(s))
		}
	}
	if len(tr.latencies()) != k*(n-1) {
		t.Fatalf("%d latencies", len(tr.latencies()))
	}
}

func TestPick(t *testing.T) {
	counts := make([]int, 10)
	for s := range 10000 {
		v := pick(1, 1, s, 10)
		if v != pick(1, 1, s, 10) {
			t.Fatal("pick is not deterministic")
		}
		counts[v]++
	}
	for i, c := range counts {
		if c < 850 || c > 1150 {
			t.Errorf("value %d picked %d times of 10000", i, c)
		}
	}
	same := 0
	for s := range 1000 {
		if pick(1, 1, s, 1000) == pick(1, 2, s, 1000) {
			same++
		}
	}
	if same > 20 {
		t.Errorf("phases 1 and 2 pick the same addressee %d times of 1000", same)
	}
}

func TestFmtNumAndMedian(t *testing.T) {
	if got := fmt.Sprint(fmtNum(1234567.891, 2), " ", fmtNum(999, 0), " ", fmtNum(-12345, 0), " ", fmtNum(0.5, 1)); got != "1,234,567.89 999 -12,345 0.5" {
		t.Errorf("fmtNum: %s", got)
	}
	for _, tc := range []struct {
		v    []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.v); got != tc.want {
			t.Errorf("median(%v) = %v", tc.v, got)
		}
	}
}
