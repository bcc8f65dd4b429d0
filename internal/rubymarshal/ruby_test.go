package rubymarshal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/testenv"
)

// TestDifferentialRuby checks the decoder against real Ruby: the script
// testdata/gen_random.rb builds random values (every type sessions use,
// and more), Marshal.dumps them, loads them back and maps them to JSON in
// Ruby; each dump must decode here to the same JSON.
//
// RUBYMARSHAL_SEED fixes the seed (it is logged on every run) and
// RUBYMARSHAL_COUNT the number of values (500; 100 with -short).
func TestDifferentialRuby(t *testing.T) {
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		testenv.Skip(t, "ruby is not on PATH, so the differential test against real Marshal.dump cannot run (Debian: apt-get install ruby; add ruby-activesupport for ActiveSupport types)")
	}
	seed := time.Now().UnixNano() % 1_000_000_000
	if s := os.Getenv("RUBYMARSHAL_SEED"); s != "" {
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("RUBYMARSHAL_SEED: %v", err)
		}
	}
	count := 500
	if testing.Short() {
		count = 100
	}
	if s := os.Getenv("RUBYMARSHAL_COUNT"); s != "" {
		if count, err = strconv.Atoi(s); err != nil {
			t.Fatalf("RUBYMARSHAL_COUNT: %v", err)
		}
	}
	t.Logf("seed %d, %d values (repeat with RUBYMARSHAL_SEED=%d)", seed, count, seed)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ruby, "testdata/gen_random.rb", strconv.FormatInt(seed, 10), strconv.Itoa(count))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, stderr.Bytes())
	}

	type line struct {
		I       int             `json:"i"`
		Hex     string          `json:"hex"`
		Expect  json.RawMessage `json:"expect"`
		Inspect string          `json:"inspect"`
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n, failed := 0, 0
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
		fail := func(format string, args ...any) {
			failed++
			if failed <= 10 {
				t.Errorf("seed %d value %d: %s\n  ruby:  %s\n  dump:  %s", seed, l.I, fmt.Sprintf(format, args...), l.Inspect, l.Hex)
			}
		}
		v, err := Decode(unhex(t, l.Hex), nil)
		if err != nil {
			fail("Decode: %v", err)
			continue
		}
		got, err := ToJSON(v)
		if err != nil {
			fail("ToJSON: %v", err)
			continue
		}
		if d := jsonDiff(got, l.Expect); d != "" {
			fail("%s\n  got:   %s\n  want:  %s", d, got, l.Expect)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != count {
		t.Fatalf("got %d values from Ruby, want %d", n, count)
	}
	if failed > 0 {
		t.Errorf("%d of %d values differ from Ruby (seed %d)", failed, n, seed)
	}
}
