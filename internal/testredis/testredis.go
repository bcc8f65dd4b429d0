// Package testredis connects tests to the real redis-server that
// scripts/test.sh starts (HERALD_TEST_REDIS). Tests that need Redis skip
// when it is not configured and fail when it is configured but down.
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// URL returns the test Redis URL, skipping the test if there is none.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("HERALD_TEST_REDIS")
	if u == "" {
		testenv.Skip(tb, "HERALD_TEST_REDIS is not set: run scripts/test.sh, which starts a redis-server")
	}
	return u
}

// Client returns a client of the test Redis, closed at the end of the test.
func Client(tb testing.TB) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(URL(tb))
	if err != nil {
		tb.Fatalf("HERALD_TEST_REDIS: %v", err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		tb.Fatalf("the test Redis at %s does not answer: %v", opts.Addr, err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Prefix returns a key prefix unique to this test run, so tests sharing
// one Redis never see each other's keys.
func Prefix(tb testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "test:" + hex.EncodeToString(b[:]) + ":"
}
