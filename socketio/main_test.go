package socketio_test

import (
	"io"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// test shuts its Server down (stopping both timer wheels and the event
// loop) and closes its clients, so nothing needs to be ignored.
//
// Started with holdFDsEnv set, the test binary is instead the helper
// process of BenchmarkBroadcast10k: it keeps the client ends of the
// benchmark's connections, which it inherited, open until its stdin
// closes (the benchmark's own process would run out of descriptors).
func TestMain(m *testing.M) {
	if os.Getenv(holdFDsEnv) != "" {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
