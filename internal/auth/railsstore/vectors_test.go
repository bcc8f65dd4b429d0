package railsstore

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/auth"
	"github.com/heraldrt/herald/internal/testredis"
)

// Vector files:
//   - stores.jsonl: a copy of ../shared/testdata/rails/stores.jsonl, 9
//     values written by redis-actionpack, redis-session-store and
//     CacheStore on RedisCacheStore (6.1 format) with Rails 6.1.
//   - stores_rails7x.jsonl: 24 values written by gen_stores.rb (seeds 7101
//     and 7102, --kinds cache70,cache71): Rails 6.1's real CacheStore and
//     RedisCacheStore, with the Rails 7.0 and 7.1 cache coders ported into
//     the script (Rails 6.1 cannot write those formats itself).
var vectorFiles = []string{"testdata/stores.jsonl", "testdata/stores_rails7x.jsonl"}

func allVectors(tb testing.TB) []storeVector {
	var vs []storeVector
	for _, f := range vectorFiles {
		vs = append(vs, readVectors(tb, f)...)
	}
	return vs
}

// checkDecoded checks DecodeValue's answer for a vector: the session, the
// format, and the user id auth.UserFromSession finds in it.
func checkDecoded(t *testing.T, v storeVector, session []byte, info Info) {
	t.Helper()
	if info.Format != v.formatOf() {
		t.Errorf("format %q, want %q", info.Format, v.formatOf())
	}
	assertJSON(t, session, v.ExpectSession)
	user, err := auth.UserFromSession(session, auth.IdentityOptions{DeviseScope: v.DeviseScope})
	if !v.wantOK() {
		if err == nil {
			t.Fatalf("found user %q in a session that names none", user)
		}
		return
	}
	if err != nil {
		t.Fatalf("user id: %v", err)
	}
	if want := v.wantUser(t); user != want {
		t.Fatalf("user id %q, want %q", user, want)
	}
}

// TestStoreVectors decodes every recorded value and checks the session
// (compared as README §1 values) and the user id.
func TestStoreVectors(t *testing.T) {
	formats := map[Format]int{}
	for _, v := range allVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			b := v.value(t)
			session, info, err := DecodeValueInfo(b)
			if err != nil {
				t.Fatalf("DecodeValue: %v", err)
			}
			checkDecoded(t, v, session, info)
			plain, err := DecodeValue(b)
			if err != nil || !bytes.Equal(plain, session) {
				t.Fatalf("DecodeValue differs from DecodeValueInfo: %v", err)
			}
			// Cache entries carry their expiry when the key has a TTL.
			switch info.Format {
			case FormatCache61, FormatCache70, FormatCache71:
				if info.Expires != (v.TTLSeconds != nil) {
					t.Errorf("Expires %v, but the key's TTL is %v", info.Expires, v.TTLSeconds)
				}
			}
			// Where the store put it is where Keys looks.
			private, public := (&Store{opts: Options{Prefix: v.KeyPrefix}}).Keys(v.PublicSessionID)
			want := private
			if v.KeyUses == "public_id" {
				want = public
			}
			if want != v.RedisKey {
				t.Errorf("key %q, the store wrote %q", want, v.RedisKey)
			}
			key := info.Format
			if info.Compressed {
				key += "+zlib"
			}
			formats[key]++
		})
	}
	t.Logf("formats: %v", formats)
	for _, f := range []Format{FormatMarshal, FormatJSON, FormatCache61, FormatCache61 + "+zlib", FormatCache70, FormatCache70 + "+zlib", FormatCache71, FormatCache71 + "+zlib"} {
		if formats[f] == 0 {
			t.Errorf("no vector in format %s", f)
		}
	}
}

// TestAuthenticateVectors writes every recorded value into the real Redis
// exactly as its store did, under the private-id key and then under the
// legacy public-id key, and authenticates the cookie the store set.
func TestAuthenticateVectors(t *testing.T) {
	rdb := testredis.Client(t)
	ctx := context.Background()
	base := testredis.Prefix(t)
	for _, v := range allVectors(t) {
		for _, placement := range []string{"private_id", "public_id"} {
			t.Run(v.Name+"/"+placement, func(t *testing.T) {
				b := v.value(t)
				s := New(rdb, Options{
					Cookie:   v.CookieName,
					Prefix:   base + v.KeyPrefix,
					Identity: auth.IdentityOptions{DeviseScope: v.DeviseScope},
				})
				s.now = clockBeforeExpiry(t, b)
				private, public := s.Keys(v.PublicSessionID)
				key := private
				if placement == "public_id" {
					key = public
				}
				if err := rdb.Set(ctx, key, b, time.Minute).Err(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { rdb.Del(context.Background(), key) })

				id, err := s.Authenticate(ctx, handshake("other=1; "+v.CookieName+"="+v.CookieValue))
				if !v.wantOK() {
					if !errors.Is(err, auth.ErrUnauthorized) {
						t.Fatalf("want unauthorized, got %v, %v", id, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Authenticate: %v", err)
				}
				if want := v.wantUser(t); id.UserID != want {
					t.Errorf("user %q, want %q", id.UserID, want)
				}
				if id.SessionRef != key {
					t.Errorf("SessionRef %q, want the key %q", id.SessionRef, key)
				}
				assertJSON(t, id.Session, v.ExpectSession)
			})
		}
	}
}

// clockBeforeExpiry returns a clock a minute before the value's own cache
// expiry (recorded values are old), or the real clock when it has none.
func clockBeforeExpiry(tb testing.TB, b []byte) func() time.Time {
	_, info, err := DecodeValueInfo(b)
	if err != nil || !info.Expires {
		return time.Now
	}
	at := time.Unix(int64(info.ExpiresAt), 0).Add(-time.Minute)
	return func() time.Time { return at }
}
