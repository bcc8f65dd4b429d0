package bus

import (
	"context"
	"fmt"

	"github.com/heraldrt/herald/internal/notify"
	"github.com/redis/go-redis/v9"
)

// Publisher sends notifications to every node through the channel they
// all subscribe to: a node receiving an API call does not deliver locally,
// so each socket gets a message exactly once, whichever node holds it.
type Publisher struct {
	RDB     redis.UniversalClient
	Channel string
}

// Publish sends msgs in one pipelined round trip.
func (p Publisher) Publish(ctx context.Context, msgs []notify.Message) error {
	pipe := p.RDB.Pipeline()
	for i := range msgs {
		b, err := msgs[i].MarshalJSON() // canonical form, data byte for byte
		if err != nil {
			return fmt.Errorf("encode message %d: %w", i, err)
		}
		pipe.Publish(ctx, p.Channel, b)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis publish: %w", err)
	}
	return nil
}
