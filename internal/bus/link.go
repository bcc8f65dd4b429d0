package bus

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
)

// link is one subscribed connection: it parses what Redis sends and hands
// messages to the subscription's handler.
type link struct {
	b       *Bus
	r       respReader
	pending int  // subscriptions not confirmed yet; reader goroutine only
	failed  bool // reader goroutine only
	up      atomic.Bool
	seen    atomic.Bool // something arrived since the last health tick
	done    chan error  // the first failure
}

func (l *link) onData(data []byte) {
	if l.failed {
		return
	}
	l.seen.Store(true)
	if err := l.r.feed(data, l.handle); err != nil {
		l.failed = true
		l.fail(err)
	}
}

func (l *link) fail(err error) {
	select {
	case l.done <- err:
	default:
	}
}

// readLoop reads a connection the event loop cannot take (TLS).
func (l *link) readLoop(nc net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := nc.Read(buf)
		if n > 0 {
			l.onData(buf[:n])
		}
		if err != nil {
			l.fail(closeError(err))
			return
		}
	}
}

var (
	kindMessage     = []byte("message")
	kindPMessage    = []byte("pmessage")
	kindSubscribe   = []byte("subscribe")
	kindPSubscribe  = []byte("psubscribe")
	kindPong        = []byte("pong")
	errNotPubSubMsg = errors.New("redis: unexpected reply on the subscription connection")
)

func (l *link) handle(v *reply) error {
	switch v.kind {
	case '+': // AUTH's OK
		return nil
	case '-':
		return fmt.Errorf("redis: %s", v.str)
	case '*':
	default:
		return errNotPubSubMsg
	}
	e := v.elems
	if len(e) < 2 || e[0].kind != '$' {
		return errNotPubSubMsg
	}
	switch {
	case bytes.Equal(e[0].str, kindMessage) && len(e) == 3:
		l.b.sub.Handle(string(e[1].str), "", bytes.Clone(e[2].str))
	case bytes.Equal(e[0].str, kindPMessage) && len(e) == 4:
		l.b.sub.Handle(string(e[2].str), string(e[1].str), bytes.Clone(e[3].str))
	case bytes.Equal(e[0].str, kindSubscribe), bytes.Equal(e[0].str, kindPSubscribe):
		if l.pending--; l.pending == 0 {
			l.live()
		}
	case bytes.Equal(e[0].str, kindPong):
	default:
		return errNotPubSubMsg
	}
	return nil
}

// live runs once every subscription is confirmed.
func (l *link) live() {
	l.up.Store(true)
	l.b.retrying.Store(false)
	if !l.b.up.Swap(true) {
		l.b.log.Info("redis subscription live", "channels", l.b.sub.Channels, "patterns", l.b.sub.Patterns)
		if l.b.sub.OnUp != nil {
			l.b.sub.OnUp()
		}
	}
}
