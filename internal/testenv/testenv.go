// Package testenv lets tests that need outside parts (a redis-server, Node,
// Chromium, Ruby and Rails) skip on a developer's machine without them, but
// fail under scripts/test.sh, which installs them and sets
// HERALD_TEST_STRICT=1: in CI a missing part is a failure, never a silent
// pass.
package testenv

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// Strict reports whether missing test dependencies are failures.
func Strict() bool { return os.Getenv("HERALD_TEST_STRICT") == "1" }

// Skip skips the test, or fails it in strict mode.
func Skip(tb testing.TB, args ...any) {
	tb.Helper()
	if Strict() {
		tb.Fatal(append([]any{"missing test dependency (HERALD_TEST_STRICT=1):"}, args...)...)
	}
	tb.Skip(args...)
}

// Skipf is Skip with a format.
func Skipf(tb testing.TB, format string, args ...any) {
	tb.Helper()
	Skip(tb, fmt.Sprintf(format, args...))
}

// Eventually polls cond every few milliseconds until it holds, and fails
// the test, naming what it waited for, if it does not within the bound.
func Eventually(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
