// Package bus is herald's link to Redis pub/sub: every node subscribes to
// the notification channel, the Socket.IO adapter channels and the session
// store's keyspace events, and hands what arrives to its handlers.
//
// Redis pub/sub delivers at most once: what is published while a node's
// subscription is down does not reach that node. Publishers learn of it
// (PUBLISH returns the number of receiving nodes; the HTTP API answers 503
// when Redis is unreachable), and the node reports itself not ready.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Subscription says what to listen to and who handles it. Handlers run one
// at a time on the bus goroutine and must not block.
type Subscription struct {
	Channels []string
	Patterns []string
	Handle   func(channel, pattern string, payload []byte)
	// OnUp, if set, runs each time the subscription (re)starts.
	OnUp func()
}

// Bus receives from Redis until its context ends.
type Bus struct {
	rdb    redis.UniversalClient
	sub    Subscription
	log    *slog.Logger
	health time.Duration
	up     atomic.Bool
}

// New returns a bus; call Run to start it.
func New(rdb redis.UniversalClient, sub Subscription, log *slog.Logger) *Bus {
	return &Bus{rdb: rdb, sub: sub, log: log, health: 15 * time.Second}
}

// Up reports whether the subscription is live.
func (b *Bus) Up() bool { return b.up.Load() }

// Run subscribes and dispatches until ctx ends. Connection losses are
// retried with backoff; go-redis resubscribes on reconnect.
func (b *Bus) Run(ctx context.Context) error {
	ps := b.rdb.Subscribe(ctx)
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	defer ps.Close()
	if err := b.subscribe(ctx, ps); err != nil && ctx.Err() == nil {
		b.log.Warn("redis subscribe failed; retrying", "err", err)
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, b.health)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Quiet line: make sure it is alive, not half-open.
				if err := ps.Ping(ctx); err != nil {
					b.down(err)
				}
				continue
			}
			b.down(err)
			if !sleep(ctx, backoff) {
				break
			}
			backoff = min(backoff*2, 2*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		b.dispatch(msg)
	}
	b.up.Store(false)
	return nil
}

func (b *Bus) subscribe(ctx context.Context, ps *redis.PubSub) error {
	if len(b.sub.Channels) > 0 {
		if err := ps.Subscribe(ctx, b.sub.Channels...); err != nil {
			return fmt.Errorf("subscribe %v: %w", b.sub.Channels, err)
		}
	}
	if len(b.sub.Patterns) > 0 {
		if err := ps.PSubscribe(ctx, b.sub.Patterns...); err != nil {
			return fmt.Errorf("psubscribe %v: %w", b.sub.Patterns, err)
		}
	}
	return nil
}

func (b *Bus) dispatch(msg any) {
	switch m := msg.(type) {
	case *redis.Subscription:
		if !b.up.Swap(true) {
			b.log.Info("redis subscription live", "kind", m.Kind, "channel", m.Channel)
			if b.sub.OnUp != nil {
				b.sub.OnUp()
			}
		}
	case *redis.Message:
		b.up.Store(true)
		b.sub.Handle(m.Channel, m.Pattern, []byte(m.Payload))
	case *redis.Pong:
		b.up.Store(true)
	}
}

func (b *Bus) down(err error) {
	if b.up.Swap(false) {
		b.log.Warn("redis subscription lost; notifications published meanwhile do not reach this node", "err", err)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
