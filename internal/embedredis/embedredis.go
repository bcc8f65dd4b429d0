// Package embedredis runs a Redis-protocol server inside herald for
// development, so that "go run ./cmd/herald" works with nothing installed
// and a Rails app in development can point its REDIS_URL at it.
//
// It is github.com/alicebob/miniredis: an in-memory implementation of most
// Redis commands, including hashes, keys with TTLs and pub/sub. It has no
// persistence, no keyspace notifications, no replication or cluster, and
// runs Lua only partly: production points herald at a real Redis.
package embedredis

import (
	"fmt"
	"net"

	"github.com/alicebob/miniredis/v2"
)

// Server is a running embedded Redis.
type Server struct{ m *miniredis.Miniredis }

// Start listens on addr (loopback only). If addr is taken, it falls back
// to a free loopback port, so a developer's own Redis is left alone.
func Start(addr string) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("embedded redis address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("embedded redis address %q: only loopback is allowed (it has no password)", addr)
	}
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr(addr); err != nil {
		m = miniredis.NewMiniRedis()
		if err := m.StartAddr(net.JoinHostPort(host, "0")); err != nil {
			return nil, fmt.Errorf("start embedded redis: %w", err)
		}
	}
	return &Server{m: m}, nil
}

// URL is the redis:// URL clients use.
func (s *Server) URL() string { return "redis://" + s.m.Addr() + "/0" }

// Close stops the server.
func (s *Server) Close() { s.m.Close() }
