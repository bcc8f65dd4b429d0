package demo

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// HashSessions stores session copies as the original design does: fields
// of one hash, HSET <Hash> <token> <json> and HDEL <Hash> <token> (herald's
// --auth redis-hash).
type HashSessions struct {
	RDB  redis.Cmdable
	Hash string // e.g. "mySessionStore"
}

// Put implements Sessions.
func (s HashSessions) Put(ctx context.Context, token string, session []byte) error {
	return s.RDB.HSet(ctx, s.Hash, token, session).Err()
}

// Delete implements Sessions.
func (s HashSessions) Delete(ctx context.Context, token string) error {
	return s.RDB.HDel(ctx, s.Hash, token).Err()
}

// KeySessions stores each session copy under its own key, SET
// <Prefix><token> <json> EX <TTL> and DEL <Prefix><token> (herald's
// --auth redis-key).
type KeySessions struct {
	RDB    redis.Cmdable
	Prefix string        // e.g. "herald:session:"
	TTL    time.Duration // 0: no expiry
}

// Put implements Sessions.
func (s KeySessions) Put(ctx context.Context, token string, session []byte) error {
	return s.RDB.Set(ctx, s.Prefix+token, session, s.TTL).Err()
}

// Delete implements Sessions.
func (s KeySessions) Delete(ctx context.Context, token string) error {
	return s.RDB.Del(ctx, s.Prefix+token).Err()
}
