package engineio_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them. Every
// test shuts its Server down (which stops the timer wheel and the
// event loop) and closes its httptest server and clients, so nothing needs
// to be ignored.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
