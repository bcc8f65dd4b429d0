package railscookie

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/testenv"
)

// TestDifferentialRails has real Rails write fresh cookies, with random
// secrets, configurations and session contents (testdata/gen_cookies.rb),
// and checks that the Decoder agrees with Rails on every one: the same
// session, or a rejection for the same reason.
//
// It needs ruby and Debian's Rails 6.1 with warden and bcrypt (CI:
// apt-get install ruby ruby-rails ruby-devise); without them it skips.
// HERALD_DIFF_SEED fixes the seed (it is logged on every run);
// HERALD_DIFF_COUNT sets the number of cookies (default 60, 20 with
// -short).
func TestDifferentialRails(t *testing.T) {
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		testenv.Skip(t, "ruby is not installed; CI installs it (apt-get install ruby ruby-rails ruby-devise)")
	}
	probe := exec.Command(ruby, "-e", `require "action_dispatch"; require "active_support/all"; require "warden"; require "bcrypt"`)
	if out, err := probe.CombinedOutput(); err != nil {
		testenv.Skipf(t, "Rails 6.1, warden or bcrypt is missing for %s (apt-get install ruby-rails ruby-devise): %v\n%s", ruby, err, bytes.TrimSpace(out))
	}
	seed := time.Now().UnixNano() % (1 << 31)
	if s := os.Getenv("HERALD_DIFF_SEED"); s != "" {
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("HERALD_DIFF_SEED: %v", err)
		}
	}
	count := 60
	if testing.Short() {
		count = 20
	}
	if s := os.Getenv("HERALD_DIFF_COUNT"); s != "" {
		if count, err = strconv.Atoi(s); err != nil {
			t.Fatalf("HERALD_DIFF_COUNT: %v", err)
		}
	}
	t.Logf("seed %d (rerun with HERALD_DIFF_SEED=%d)", seed, seed)

	out := filepath.Join(t.TempDir(), "fresh.jsonl")
	gen := exec.Command(ruby, "gen_cookies.rb", "--seed", strconv.FormatInt(seed, 10), "--count", strconv.Itoa(count), "--out", out)
	gen.Dir = "testdata"
	if msg, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("gen_cookies.rb: %v\n%s", err, msg)
	} else {
		t.Logf("%s", bytes.TrimSpace(msg))
	}
	vs := readVectors(t, out)
	if len(vs) != count {
		t.Fatalf("%d cookies, want %d", len(vs), count)
	}
	stats := map[string]int{}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			if checkVector(t, v) {
				stats["via Marshal hook"]++
			}
			stats[v.Expect]++
		})
	}
	t.Logf("%v", stats)
}
