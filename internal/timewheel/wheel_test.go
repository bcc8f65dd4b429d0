package timewheel

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestFiresOnceAfterDelay(t *testing.T) {
	w := New(5*time.Millisecond, 16)
	defer w.Stop()
	var n atomic.Int32
	fired := make(chan time.Time, 4)
	var e Entry
	e.Init(func() { n.Add(1); fired <- time.Now() })
	start := time.Now()
	w.Schedule(&e, 120*time.Millisecond) // longer than one revolution (80ms)
	select {
	case at := <-fired:
		if el := at.Sub(start); el < 115*time.Millisecond {
			t.Fatalf("fired after %v, want >= 120ms", el)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("entry never fired")
	}
	time.Sleep(50 * time.Millisecond)
	if n.Load() != 1 {
		t.Fatalf("fired %d times, want 1", n.Load())
	}
}

func TestRescheduleReplacesAndCancelStops(t *testing.T) {
	w := New(5*time.Millisecond, 8)
	defer w.Stop()
	var a, b atomic.Int32
	var ea, eb Entry
	ea.Init(func() { a.Add(1) })
	eb.Init(func() { b.Add(1) })
	w.Schedule(&ea, 20*time.Millisecond)
	w.Schedule(&ea, 60*time.Millisecond) // replaces the first deadline
	w.Schedule(&eb, 20*time.Millisecond)
	w.Cancel(&eb)
	time.Sleep(40 * time.Millisecond)
	if a.Load() != 0 {
		t.Fatal("rescheduled entry fired at its old deadline")
	}
	time.Sleep(120 * time.Millisecond)
	if a.Load() != 1 || b.Load() != 0 {
		t.Fatalf("a fired %d (want 1), cancelled b fired %d (want 0)", a.Load(), b.Load())
	}
}

// An emptied wheel sleeps, and an entry scheduled after a long sleep fires
// on time (the ticks slept through are skipped, not replayed).
func TestEmptyWheelSleepsAndWakes(t *testing.T) {
	w := New(time.Millisecond, 8)
	defer w.Stop()
	fired := make(chan struct{}, 1)
	var e Entry
	e.Init(func() { fired <- struct{}{} })
	for round := range 3 {
		w.Schedule(&e, 3*time.Millisecond)
		select {
		case <-fired:
		case <-time.After(2 * time.Second):
			t.Fatalf("round %d: entry never fired", round)
		}
		deadline := time.Now().Add(2 * time.Second)
		for !w.empty() {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: wheel still holds items after its only entry fired", round)
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(30 * time.Millisecond) // many ticks with nothing to do
	}
	// A cancelled entry's stale item is dropped too.
	w.Schedule(&e, 5*time.Millisecond)
	w.Cancel(&e)
	deadline := time.Now().Add(2 * time.Second)
	for !w.empty() {
		if time.Now().After(deadline) {
			t.Fatal("wheel still holds a cancelled item")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-fired:
		t.Fatal("cancelled entry fired")
	default:
	}
}
