// Package sessioncheck finds which of many server-side sessions are gone,
// for the Redis-backed providers' revocation checks: pipelined batches,
// one round trip per batch, and an error, not a verdict, when Redis cannot
// answer (an outage must not sign everyone out).
package sessioncheck

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// batch is how many checks share one round trip.
const batch = 1000

// Missing returns the refs for which exists reports false. queue adds the
// existence check of one ref to the pipeline.
func Missing(ctx context.Context, rdb redis.UniversalClient, refs []string,
	queue func(ctx context.Context, p redis.Pipeliner, ref string) *redis.BoolCmd) ([]string, error) {
	var missing []string
	for len(refs) > 0 {
		chunk := refs[:min(batch, len(refs))]
		refs = refs[len(chunk):]
		pipe := rdb.Pipeline()
		cmds := make([]*redis.BoolCmd, len(chunk))
		for i, ref := range chunk {
			cmds[i] = queue(ctx, pipe, ref)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("redis session check: %w", err)
		}
		for i, c := range cmds {
			if !c.Val() {
				missing = append(missing, chunk[i])
			}
		}
	}
	return missing, nil
}

// Exists queues EXISTS key, answered as a boolean.
func Exists(ctx context.Context, p redis.Pipeliner, key string) *redis.BoolCmd {
	cmd := redis.NewBoolCmd(ctx, "exists", key)
	_ = p.Process(ctx, cmd)
	return cmd
}
