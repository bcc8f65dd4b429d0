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
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald/internal/evloop"
	"github.com/redis/go-redis/v9"
)

// Subscription says what to listen to and who handles it. Handlers run one
// at a time, on the goroutine reading the subscription (an event loop),
// and must not block.
type Subscription struct {
	Channels []string
	Patterns []string
	// Handle receives each message; payload is the handler's to keep.
	Handle func(channel, pattern string, payload []byte)
	// OnUp, if set, runs each time the subscription (re)starts.
	OnUp func()
}

// Bus receives from Redis until its context ends.
//
// The subscribed connection is read by an event loop (internal/evloop)
// rather than by go-redis: a goroutine blocked in a socket read costs the
// Go scheduler a wake-up of its monitor thread on every message that
// arrives after a pause, which at a steady 1,000 notifications/s was about
// a third of herald's CPU (BENCHMARKS.md). go-redis still sends every
// command; this package speaks only the subscriber's part of RESP2.
type Bus struct {
	opts   *redis.Options
	sub    Subscription
	log    *slog.Logger
	health time.Duration // a quiet line is PINGed after this long
	// noLoop reads with a goroutine, as for TLS (tests of that path).
	noLoop bool
	up     atomic.Bool
	// retrying is set once a failed attempt was logged, so an outage is
	// logged once, not at every retry.
	retrying atomic.Bool
}

// New returns a bus for the Redis that opts (of the command client)
// describe; call Run to start it.
func New(opts *redis.Options, sub Subscription, log *slog.Logger) *Bus {
	return &Bus{opts: opts, sub: sub, log: log, health: 15 * time.Second}
}

// Up reports whether the subscription is live.
func (b *Bus) Up() bool { return b.up.Load() }

// Run subscribes and dispatches until ctx ends. A lost connection is
// redialled with backoff and subscribed again.
func (b *Bus) Run(ctx context.Context) error {
	loop, err := evloop.New(evloop.Config{
		Loops:   1,
		OnData:  func(c *evloop.Conn, data []byte) { c.Session().(*link).onData(data) },
		OnClose: func(c *evloop.Conn, err error) { c.Session().(*link).fail(closeError(err)) },
	})
	if err != nil && !errors.Is(err, evloop.ErrUnsupported) {
		return fmt.Errorf("bus: %w", err)
	}
	if b.noLoop && loop != nil {
		loop.Stop()
		loop = nil
	}
	if loop != nil {
		defer loop.Stop()
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		wasUp, err := b.session(ctx, loop)
		if ctx.Err() != nil {
			break
		}
		b.down(err)
		if wasUp {
			backoff = 100 * time.Millisecond
		}
		if !sleep(ctx, backoff) {
			break
		}
		backoff = min(backoff*2, 2*time.Second)
	}
	b.up.Store(false)
	return nil
}

// session dials, subscribes and serves one connection until it fails or
// ctx ends; wasUp reports whether every subscription was confirmed.
func (b *Bus) session(ctx context.Context, loop *evloop.Engine) (wasUp bool, err error) {
	nc, err := b.dial(ctx)
	if err != nil {
		return false, err
	}
	l := &link{b: b, done: make(chan error, 1), pending: len(b.sub.Channels) + len(b.sub.Patterns)}
	_ = nc.SetWriteDeadline(time.Now().Add(b.dialTimeout()))
	if _, err := nc.Write(b.subscribeCommands()); err != nil {
		_ = nc.Close()
		return false, fmt.Errorf("redis subscribe: %w", err)
	}
	_ = nc.SetWriteDeadline(time.Time{})
	conn, stopped, err := startReading(loop, nc, l)
	if err != nil {
		_ = nc.Close()
		return false, fmt.Errorf("redis subscribe: %w", err)
	}
	defer stopped()
	defer conn.Close()
	err = b.watch(ctx, l, conn)
	return l.up.Load(), err
}

// startReading hands nc to the event loop, or to a goroutine of its own
// for a connection the loop cannot take (TLS; no loop on this system).
// stopped waits for that goroutine once the connection is closed.
func startReading(loop *evloop.Engine, nc net.Conn, l *link) (conn io.WriteCloser, stopped func(), err error) {
	if loop != nil {
		ec, err := loop.Add(nc, l)
		if err == nil {
			return ec, func() {}, nil
		}
		if !errors.Is(err, evloop.ErrNotSocket) {
			return nil, nil, err
		}
	}
	var reading sync.WaitGroup
	reading.Add(1)
	go func() { defer reading.Done(); l.readLoop(nc) }()
	return &deadlineWriter{nc}, reading.Wait, nil
}

// watch waits for the link to fail or ctx to end, and checks that a quiet
// line is alive: nothing for a health period brings a PING, nothing for
// two closes the connection.
func (b *Bus) watch(ctx context.Context, l *link, conn io.Writer) error {
	t := time.NewTicker(b.health)
	defer t.Stop()
	pinged := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-l.done:
			return err
		case <-t.C:
			switch {
			case l.seen.Swap(false):
				pinged = false
			case pinged:
				return errors.New("redis subscription: no reply to PING")
			default:
				pinged = true
				if _, err := conn.Write(appendCommand(nil, "PING")); err != nil {
					return fmt.Errorf("redis subscription: %w", err)
				}
			}
		}
	}
}

func (b *Bus) dialTimeout() time.Duration {
	if b.opts.DialTimeout > 0 {
		return b.opts.DialTimeout
	}
	return 5 * time.Second
}

func (b *Bus) dial(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, b.dialTimeout())
	defer cancel()
	network := b.opts.Network
	if network == "" {
		network = "tcp"
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, b.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("redis subscribe: dial %s: %w", b.opts.Addr, err)
	}
	if b.opts.TLSConfig == nil {
		return nc, nil
	}
	tc := tls.Client(nc, b.opts.TLSConfig.Clone())
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("redis subscribe: TLS handshake with %s: %w", b.opts.Addr, err)
	}
	return tc, nil
}

// subscribeCommands are AUTH (if the URL has a password), CLIENT SETNAME
// (if it names the client), SUBSCRIBE and PSUBSCRIBE, sent in one write.
func (b *Bus) subscribeCommands() []byte {
	var cmds []byte
	switch {
	case b.opts.Username != "" && b.opts.Password != "":
		cmds = appendCommand(cmds, "AUTH", b.opts.Username, b.opts.Password)
	case b.opts.Password != "":
		cmds = appendCommand(cmds, "AUTH", b.opts.Password)
	}
	if b.opts.ClientName != "" {
		cmds = appendCommand(cmds, "CLIENT", "SETNAME", b.opts.ClientName)
	}
	if len(b.sub.Channels) > 0 {
		cmds = appendCommand(cmds, append([]string{"SUBSCRIBE"}, b.sub.Channels...)...)
	}
	if len(b.sub.Patterns) > 0 {
		cmds = appendCommand(cmds, append([]string{"PSUBSCRIBE"}, b.sub.Patterns...)...)
	}
	return cmds
}

func (b *Bus) down(err error) {
	if b.up.Swap(false) {
		b.log.Warn("redis subscription lost; notifications published meanwhile do not reach this node", "err", err)
		b.retrying.Store(true)
		return
	}
	if !b.retrying.Swap(true) {
		b.log.Warn("redis subscribe failed; retrying", "err", err)
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

func closeError(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return errors.New("redis closed the subscription connection")
	}
	return err
}

// deadlineWriter bounds each write of a connection read by a goroutine.
type deadlineWriter struct{ net.Conn }

func (d *deadlineWriter) Write(p []byte) (int, error) {
	_ = d.Conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return d.Conn.Write(p)
}
