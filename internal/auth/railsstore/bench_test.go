package railsstore

import (
	"context"
	"testing"

	"github.com/heraldrt/herald/internal/testredis"
)

// BenchmarkDecodeValueMarshal is the decoding cost per connection of the
// rails-redis-store mode for a typical Devise session in a
// redis-actionpack value (Marshal; real bytes from the vector
// redis_actionpack_devise), and for the other recorded layouts.
func BenchmarkDecodeValueMarshal(b *testing.B) {
	byName := map[string][]byte{}
	for _, v := range allVectors(b) {
		byName[v.Name] = v.value(b)
	}
	sess, _ := devise(b)
	for _, c := range []struct{ name, vector string }{
		{"redis_actionpack_devise", "redis_actionpack_devise"},
		{"redis_session_store_hwia", "redis_session_store_marshal_resaved"},
		{"cache_6.1_devise", "cache_store_redis_cache_store_devise"},
		{"cache_6.1_compressed", "cache_store_compressed_entry"},
		{"json_devise", "redis_actionpack_json_serializer"},
	} {
		value := byName[c.vector]
		if value == nil {
			b.Fatalf("no vector %s", c.vector)
		}
		bench(b, c.name, value)
	}
	bench(b, "cache_7.1_devise_hand_built", cache71(0x01, 1795631545.5, "", sess))
}

func bench(b *testing.B, name string, value []byte) {
	b.Run(name, func(b *testing.B) {
		if _, err := DecodeValue(value); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(value)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeValue(value); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAuthenticate is a whole lookup against the test Redis: cookie,
// one pipelined round trip for both keys, decoding, the user id.
func BenchmarkAuthenticate(b *testing.B) {
	rdb := testredis.Client(b)
	sess, _ := devise(b)
	s := New(rdb, Options{Cookie: testCookie, Prefix: testredis.Prefix(b) + "session:"})
	private, _ := s.Keys(testID)
	ctx := context.Background()
	if err := rdb.Set(ctx, private, sess, 0).Err(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rdb.Del(context.Background(), private) })
	h := handshake(cookieFor(testID))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Authenticate(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
}
