package railsstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/auth"
	"github.com/heraldrt/herald/internal/testenv"
	"github.com/heraldrt/herald/internal/testredis"
)

// TestDifferentialRailsStores has the real store classes write fresh
// sessions, with random configurations and contents, into the test Redis
// (testdata/gen_stores.rb), and checks that Authenticate finds in Redis
// what the store itself reads back: the same session and user, under the
// key the store used; a rejection where the session names no usable user.
// Then it deletes every key (sign-out) and checks Missing reports them.
//
// It needs HERALD_TEST_REDIS, ruby and Debian's Rails 6.1 with warden,
// redis and redis-actionpack (apt-get install ruby ruby-rails ruby-warden
// ruby-redis ruby-redis-actionpack); without them it skips.
// redis-session-store has no Debian package: its cases run only when
// REDIS_SESSION_STORE_LIB names the lib/ folder of a v0.11.6 checkout.
// The 7.0 and 7.1 cache formats come from those Rails versions' coders
// ported into the script (Rails 6.1 has none). HERALD_DIFF_SEED fixes the
// seed (logged on every run); HERALD_DIFF_COUNT sets the number of
// sessions (default 64, 24 with -short).
func TestDifferentialRailsStores(t *testing.T) {
	url := testredis.URL(t)
	rdb := testredis.Client(t)
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		testenv.Skip(t, "ruby is not installed; CI installs it (apt-get install ruby ruby-rails ruby-warden ruby-redis ruby-redis-actionpack)")
	}
	probe := exec.Command(ruby, "-e", `require "action_dispatch"; require "active_support/all"; require "active_support/cache/redis_cache_store"; require "warden"; require "redis"; require "redis-actionpack"`)
	if out, err := probe.CombinedOutput(); err != nil {
		testenv.Skipf(t, "Rails 6.1, warden, redis or redis-actionpack is missing for %s (apt-get install ruby-rails ruby-warden ruby-redis ruby-redis-actionpack): %v\n%s", ruby, err, bytes.TrimSpace(out))
	}
	if os.Getenv("REDIS_SESSION_STORE_LIB") == "" {
		t.Log("REDIS_SESSION_STORE_LIB is not set: redis-session-store (no Debian package) is left out unless its gem is installed")
	}
	seed := time.Now().UnixNano() % (1 << 31)
	if s := os.Getenv("HERALD_DIFF_SEED"); s != "" {
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("HERALD_DIFF_SEED: %v", err)
		}
	}
	count := 64
	if testing.Short() {
		count = 24
	}
	if s := os.Getenv("HERALD_DIFF_COUNT"); s != "" {
		if count, err = strconv.Atoi(s); err != nil {
			t.Fatalf("HERALD_DIFF_COUNT: %v", err)
		}
	}
	t.Logf("seed %d (rerun with HERALD_DIFF_SEED=%d)", seed, seed)

	out := filepath.Join(t.TempDir(), "fresh.jsonl")
	gen := exec.Command(ruby, "gen_stores.rb", "--seed", strconv.FormatInt(seed, 10), "--count", strconv.Itoa(count),
		"--redis", url, "--namespace", testredis.Prefix(t), "--out", out)
	gen.Dir = "testdata"
	msg, err := gen.CombinedOutput()
	if err != nil {
		t.Fatalf("gen_stores.rb: %v\n%s", err, msg)
	}
	t.Logf("%s", bytes.TrimSpace(msg))
	vs := readVectors(t, out)
	if len(vs) != count {
		t.Fatalf("%d sessions, want %d", len(vs), count)
	}
	ctx := context.Background()
	var keys []string
	for _, v := range vs {
		keys = append(keys, v.RedisKey)
	}
	t.Cleanup(func() { rdb.Del(context.Background(), keys...) })

	stats := map[string]int{}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			t.Logf("%s %s: %s", v.Store, v.Format, v.Note)
			stored, err := rdb.Get(ctx, v.RedisKey).Bytes()
			if err != nil {
				t.Fatalf("GET %s: %v", v.RedisKey, err)
			}
			if !bytes.Equal(stored, v.value(t)) {
				t.Fatal("Redis holds other bytes than the generator recorded")
			}
			session, info, err := DecodeValueInfo(stored)
			if err != nil {
				t.Fatalf("DecodeValue: %v", err)
			}
			checkDecoded(t, v, session, info)

			s := New(rdb, Options{Cookie: v.CookieName, Prefix: v.KeyPrefix, Identity: auth.IdentityOptions{DeviseScope: v.DeviseScope}})
			id, err := s.Authenticate(ctx, handshake(v.CookieName+"="+v.CookieValue))
			if !v.wantOK() {
				if !errors.Is(err, auth.ErrUnauthorized) {
					t.Fatalf("the session names no usable user, yet: %+v, %v", id, err)
				}
				stats["reject"]++
				return
			}
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if want := v.wantUser(t); id.UserID != want {
				t.Errorf("user %q, want %q", id.UserID, want)
			}
			if id.SessionRef != v.RedisKey {
				t.Errorf("SessionRef %q, want %q", id.SessionRef, v.RedisKey)
			}
			assertJSON(t, id.Session, v.ExpectSession)
			name := v.Store + " " + string(info.Format)
			if info.Compressed {
				name += "+zlib"
			}
			if v.KeyUses == "public_id" {
				name += " legacy-key"
			}
			stats[strings.TrimPrefix(name, "ActionDispatch::Session::")]++
		})
	}
	t.Logf("%v", stats)

	// Sign-out deletes the keys: every one is then missing.
	if m, err := New(rdb, Options{}).Missing(ctx, keys); err != nil || len(m) != 0 {
		t.Fatalf("Missing before DEL: %v, %v", m, err)
	}
	rdb.Del(ctx, keys...)
	if m, err := New(rdb, Options{}).Missing(ctx, keys); err != nil || len(m) != len(keys) {
		t.Fatalf("Missing after DEL: %d of %d, %v", len(m), len(keys), err)
	}
}
