// Package timewheel schedules many coarse timeouts on one goroutine.
//
// A server with tens of thousands of idle connections needs a heartbeat and a
// few timeouts for each of them. A runtime timer per connection is cheap, but
// each firing needs a goroutine; a hashed wheel keeps every deadline in a
// slice slot and fires them from a single goroutine, so an idle connection
// costs one Entry and no goroutine.
package timewheel

import (
	"sync"
	"sync/atomic"
	"time"
)

// Entry is one schedulable callback. Embed it in the object it times; an
// Entry is scheduled at most once at a time (rescheduling replaces the
// previous deadline).
type Entry struct {
	due atomic.Int64 // tick at which fn runs; 0 = not scheduled
	fn  func()
}

// Init sets the callback. The callback runs on the wheel's goroutine and
// must not block.
func (e *Entry) Init(fn func()) { e.fn = fn }

type slotItem struct {
	e   *Entry
	due int64
}

// Wheel fires Entries at tick resolution.
type Wheel struct {
	tick  time.Duration
	start time.Time

	mu    sync.Mutex
	slots [][]slotItem
	now   int64 // last tick processed
	items int   // slot items held, stale ones included

	wake chan struct{} // an empty wheel waits here for its first item
	stop chan struct{}
	done chan struct{}
}

// New starts a wheel with the given resolution and slot count. Deadlines
// further away than tick*slots are kept and rechecked on each revolution.
func New(tick time.Duration, slots int) *Wheel {
	w := &Wheel{
		tick:  tick,
		start: time.Now(),
		slots: make([][]slotItem, slots),
		wake:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go w.run()
	return w
}

// Schedule makes e fire after d (rounded up to the wheel's resolution),
// replacing any deadline it had.
func (w *Wheel) Schedule(e *Entry, d time.Duration) {
	w.mu.Lock()
	now := time.Now()
	if w.items == 0 {
		// Nothing to fire in the ticks an empty wheel slept through.
		w.now = max(w.now, w.tickOf(now)-1)
	}
	due := w.tickOf(now.Add(d))
	if due <= w.now {
		due = w.now + 1
	}
	e.due.Store(due)
	i := due % int64(len(w.slots))
	w.slots[i] = append(w.slots[i], slotItem{e, due})
	w.items++
	first := w.items == 1
	w.mu.Unlock()
	if first {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Cancel unschedules e. A callback already running is not interrupted.
func (w *Wheel) Cancel(e *Entry) { e.due.Store(0) }

// Stop ends the wheel's goroutine; pending entries never fire.
func (w *Wheel) Stop() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

func (w *Wheel) tickOf(t time.Time) int64 {
	return int64((t.Sub(w.start) + w.tick - 1) / w.tick)
}

// run ticks while the wheel holds items. An empty wheel (a Socket.IO
// server between connects, say) sleeps until Schedule wakes it: an idle
// server should not wake up a hundred times a second for nothing.
func (w *Wheel) run() {
	defer close(w.done)
	t := time.NewTicker(w.tick)
	defer t.Stop()
	for {
		if w.empty() {
			select {
			case <-w.stop:
				return
			case <-w.wake:
				// No Reset: the ticker keeps its phase, so deadlines stay
				// on tick boundaries. A ticker nobody receives from is not
				// in the runtime's timer heap, so the sleep costs nothing.
			}
		}
		select {
		case <-w.stop:
			return
		case now := <-t.C:
			w.advance(w.tickOf(now))
		}
	}
}

func (w *Wheel) empty() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.items == 0
}

// advance fires every slot up to tick target.
func (w *Wheel) advance(target int64) {
	for {
		w.mu.Lock()
		if w.now >= target {
			w.mu.Unlock()
			return
		}
		if w.items == 0 {
			w.now = target // nothing to fire in between: skip the ticks
			w.mu.Unlock()
			return
		}
		w.now++
		cur := w.now
		i := cur % int64(len(w.slots))
		items := w.slots[i]
		w.slots[i] = nil
		var keep []slotItem
		var fire []*Entry
		for _, it := range items {
			switch {
			case it.e.due.Load() != it.due:
				// rescheduled or cancelled: stale item
			case it.due > cur:
				keep = append(keep, it)
			default:
				if it.e.due.CompareAndSwap(it.due, 0) {
					fire = append(fire, it.e)
				}
			}
		}
		w.slots[i] = append(w.slots[i], keep...)
		w.items -= len(items) - len(keep)
		w.mu.Unlock()
		for _, e := range fire {
			e.fn()
		}
	}
}
