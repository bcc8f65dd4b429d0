package main

import (
	"bytes"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Every notification the bench publishes carries, in its data object,
// the fields below; the receiving side finds them again in the event's
// JSON whatever the key order (Go's encoding/json sorts map keys, Node
// keeps insertion order) and however the numbers were re-encoded.
const (
	keyPhase = "hb_p" // phase number within the run
	keySeq   = "hb_s" // sequence number within the phase
	keySent  = "hb_t" // send time, µs since the Unix epoch (exact in a JavaScript number)
	keyUser  = "hb_u" // addressee's user id; -1 for broadcasts
)

// mark is what a received notification says about itself.
type mark struct {
	Phase, Seq, Sent, User int64
}

// parseMark extracts the bench fields from an event payload, the JSON
// array ["event",{...,"hb_p":1,"hb_s":2,"hb_t":3,"hb_u":4}]. It reports
// false if any field is missing or not an integer.
func parseMark(raw []byte) (mark, bool) {
	var m mark
	ok := true
	get := func(key string) int64 {
		v, found := intField(raw, key)
		ok = ok && found
		return v
	}
	m.Phase, m.Seq, m.Sent, m.User = get(keyPhase), get(keySeq), get(keySent), get(keyUser)
	return m, ok
}

// intField finds "key": followed by an integer in raw. Keys are chosen so
// that they cannot occur inside the other values of the payload.
func intField(raw []byte, key string) (int64, bool) {
	var pat [16]byte
	p := append(append(append(pat[:0], '"'), key...), '"')
	i := bytes.Index(raw, p)
	if i < 0 {
		return 0, false
	}
	j := i + len(p)
	for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\n' || raw[j] == '\r') {
		j++
	}
	if j >= len(raw) || raw[j] != ':' {
		return 0, false
	}
	j++
	for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\n' || raw[j] == '\r') {
		j++
	}
	neg := false
	if j < len(raw) && raw[j] == '-' {
		neg = true
		j++
	}
	start := j
	var v int64
	for j < len(raw) && raw[j] >= '0' && raw[j] <= '9' {
		d := int64(raw[j] - '0')
		if v > (math.MaxInt64-d)/10 {
			return 0, false
		}
		v = v*10 + d
		j++
	}
	if j == start {
		return 0, false
	}
	// A fraction or exponent means the number was not an integer.
	if j < len(raw) && (raw[j] == '.' || raw[j] == 'e' || raw[j] == 'E') {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// phaseKind says how a phase addresses its notifications.
type phaseKind int

const (
	kindUnicast   phaseKind = iota // message s goes to one user, target(s)
	kindBroadcast                  // every message goes to every connection
)

// tracker does the exact accounting of one phase: which message reached
// which connection how many times, and when. Its record method is called
// concurrently from every connection's reading goroutine.
type tracker struct {
	phase int64
	kind  phaseKind
	k     int   // messages in the phase
	n     int   // connections of this process
	base  int64 // connection i is user base+i

	// unicast
	target   func(seq int) int64 // addressee of message seq
	expectSq []bool              // message seq is addressed to a live connection of this process

	// counts holds the deliveries of message s (unicast: index s) or of
	// message s to connection i (broadcast: index s*n+i).
	counts []atomic.Uint32
	// perMsg counts first deliveries of each message (broadcast);
	// msgDone[s] is closed when message s has reached all live
	// connections.
	perMsg  []atomic.Int32
	msgDone []chan struct{}
	live    int32

	expected  int64 // deliveries expected by this process
	delivered atomic.Int64
	dup       atomic.Int64 // deliveries beyond the first of one (message, connection)
	misrouted atomic.Int64 // unicast deliveries to a connection that is not the addressee
	stray     atomic.Int64 // events of another phase, or without the bench fields
	outOfRng  atomic.Int64 // sequence numbers outside the phase

	lat  []int64 // latencies in µs of first deliveries, latN of them
	latN atomic.Int64

	firstNS, lastNS atomic.Int64 // unix ns of the first and last first-delivery

	doneOnce sync.Once
	done     chan struct{} // closed when delivered == expected
}

// newUnicastTracker accounts for k unicast messages, message s addressed
// to user target(s); alive[i] tells which of the process's n connections
// (users base..base+n-1) are up at the start.
func newUnicastTracker(phase int64, k int, base int64, alive []bool, target func(int) int64) *tracker {
	t := &tracker{phase: phase, kind: kindUnicast, k: k, n: len(alive), base: base, target: target,
		expectSq: make([]bool, k), counts: make([]atomic.Uint32, k), done: make(chan struct{})}
	for s := range k {
		u := target(s) - base
		if u >= 0 && u < int64(len(alive)) && alive[u] {
			t.expectSq[s] = true
			t.expected++
		}
	}
	t.lat = make([]int64, t.expected)
	if t.expected == 0 {
		t.finish()
	}
	return t
}

// newBroadcastTracker accounts for k broadcasts to every live connection.
func newBroadcastTracker(phase int64, k int, base int64, alive []bool) *tracker {
	n := len(alive)
	t := &tracker{phase: phase, kind: kindBroadcast, k: k, n: n, base: base,
		counts: make([]atomic.Uint32, k*n), perMsg: make([]atomic.Int32, k), msgDone: make([]chan struct{}, k), done: make(chan struct{})}
	for _, a := range alive {
		if a {
			t.live++
		}
	}
	for s := range t.msgDone {
		t.msgDone[s] = make(chan struct{})
		if t.live == 0 {
			close(t.msgDone[s])
		}
	}
	t.expected = int64(k) * int64(t.live)
	t.lat = make([]int64, t.expected)
	if t.expected == 0 {
		t.finish()
	}
	return t
}

func (t *tracker) finish() { t.doneOnce.Do(func() { close(t.done) }) }

// record accounts for one event received on connection conn at nowNS.
func (t *tracker) record(conn int, raw []byte, nowNS int64) {
	m, ok := parseMark(raw)
	if !ok || m.Phase != t.phase {
		t.stray.Add(1)
		return
	}
	if m.Seq < 0 || m.Seq >= int64(t.k) || conn < 0 || conn >= t.n {
		t.outOfRng.Add(1)
		return
	}
	s := int(m.Seq)
	var c uint32
	switch t.kind {
	case kindUnicast:
		if m.User != t.base+int64(conn) || t.target(s) != m.User || !t.expectSq[s] {
			t.misrouted.Add(1)
			return
		}
		c = t.counts[s].Add(1)
	case kindBroadcast:
		c = t.counts[s*t.n+conn].Add(1)
	}
	if c > 1 {
		t.dup.Add(1)
		return
	}
	if i := t.latN.Add(1) - 1; i < int64(len(t.lat)) {
		t.lat[i] = nowNS/1000 - m.Sent
	}
	t.firstNS.CompareAndSwap(0, nowNS)
	for {
		l := t.lastNS.Load()
		if nowNS <= l || t.lastNS.CompareAndSwap(l, nowNS) {
			break
		}
	}
	if t.perMsg != nil && t.perMsg[s].Add(1) == t.live {
		close(t.msgDone[s])
	}
	if t.delivered.Add(1) == t.expected {
		t.finish()
	}
}

// msgDelivered is the number of connections that have received broadcast s.
func (t *tracker) msgDelivered(s int) int { return int(t.perMsg[s].Load()) }

// latencies returns the recorded latencies, µs, sorted. Call it once the
// phase is over.
func (t *tracker) latencies() []int64 {
	n := min(t.latN.Load(), int64(len(t.lat)))
	l := slices.Clone(t.lat[:n])
	slices.Sort(l)
	return l
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted values by
// the nearest-rank method: the smallest value such that at least p% of
// the values are less than or equal to it. It returns 0 for no values.
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	// (the epsilon keeps 99.9% of 10,000 at rank 9,990 despite the
	// rounding of 99.9 in binary)
	rank := int(math.Ceil(p*float64(len(sorted))/100 - 1e-9))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// splitmix64 is a bijective mixing function, used to pick the addressee
// of each unicast message reproducibly: every process of a multi-process
// run computes the same addressees from the same seed.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// pick returns a reproducible pseudo-random index in [0, n) for message seq.
func pick(seed uint64, phase int64, seq, n int) int {
	return int(splitmix64(seed^uint64(phase)<<40^uint64(seq)) % uint64(n))
}

// sinceMS converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
