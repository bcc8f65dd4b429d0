package app

import (
	"context"
	"strings"
	"time"

	"github.com/heraldrt/herald/internal/revoke"
	"github.com/redis/go-redis/v9"
)

// Sweep intervals: with keyspace events a sweep runs on each deletion, so
// the periodic one is only a safety net.
const (
	eventSafetyInterval = 30 * time.Second
	eventDebounce       = 100 * time.Millisecond
)

func (a *App) buildRevocation() {
	a.revoked = revoke.NewRegistry()
	a.watcher = &revoke.Watcher{
		Registry: a.revoked,
		Checker:  a, // each tagged reference checked against its own store
		Interval: a.cfg.RevocationInterval,
		Debounce: eventDebounce,
		Timeout:  a.cfg.RevocationInterval,
		Logger:   a.log,
		OnRevoke: func(n int) {
			a.metrics.Revoked.Add(float64(n))
			a.log.Info("disconnected sockets of deleted sessions", "sockets", n)
		},
	}
}

// setupKeyspaceEvents turns on Redis keyspace notifications for the
// session store when allowed, so a sign-out is seen at once. Without them
// (the embedded Redis, managed Redis that forbids CONFIG), sessions are
// re-checked every --revocation-interval.
func (a *App) setupKeyspaceEvents() {
	if len(a.stores) == 0 {
		return // nothing to revoke: cookies, tokens and callbacks expire on their own
	}
	if a.cfg.KeyspaceEvents == "off" || a.embedded != nil {
		a.log.Info("sign-out detection: re-checking live sessions", "interval", a.cfg.RevocationInterval)
		return
	}
	ctx, cancel := context.WithTimeout(a.base, 2*time.Second)
	defer cancel()
	if err := enableKeyspaceEvents(ctx, a.rdb); err != nil {
		a.log.Warn("sign-out detection: keyspace notifications unavailable; re-checking live sessions instead",
			"interval", a.cfg.RevocationInterval, "err", err)
		return
	}
	a.watcher.Interval = eventSafetyInterval
	a.log.Info("sign-out detection: Redis keyspace notifications")
}

// keyspaceFlags are the notify-keyspace-events classes herald needs:
// keyspace channels (K), generic commands such as DEL (g), expirations (x),
// evictions (e) and hash commands (h).
const keyspaceFlags = "Kgxeh"

// enableKeyspaceEvents adds the flags herald needs to the server's
// notify-keyspace-events, keeping those already set.
func enableKeyspaceEvents(ctx context.Context, rdb *redis.Client) error {
	cur, err := rdb.ConfigGet(ctx, "notify-keyspace-events").Result()
	if err != nil {
		return err
	}
	flags := cur["notify-keyspace-events"]
	want := flags
	for _, f := range keyspaceFlags {
		if !strings.ContainsRune(flags, f) && !(strings.ContainsRune(flags, 'A') && f != 'K') {
			want += string(f)
		}
	}
	if want == flags {
		return nil
	}
	return rdb.ConfigSet(ctx, "notify-keyspace-events", want).Err()
}

// onKeyspace handles a keyspace notification of a session store.
func (a *App) onKeyspace(st *store, channel, event string) {
	switch event {
	case "del", "expired", "evicted", "hdel":
	default:
		return
	}
	if ref, ok := st.RefFromKeyspace(a.redisDB, channel); ok {
		if n := a.revoked.Revoke(st.tag + ref); n > 0 {
			a.metrics.Revoked.Add(float64(n))
			a.log.Info("disconnected sockets of a deleted session", "sockets", n)
		}
		return
	}
	a.watcher.Kick() // a field of a session hash went: find which
}
