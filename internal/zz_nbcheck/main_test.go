package nbcheck
import (
	"context"
	"testing"
	"github.com/heraldrt/herald/engineio"
)
func TestX(t *testing.T) {
	s, err := engineio.NewServer(nil)
	if err != nil { t.Fatal(err) }
	_ = s.Shutdown(context.Background())
}
