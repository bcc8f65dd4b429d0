package sioclient

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAcceptKeyRFCExample(t *testing.T) {
	// RFC 6455 §1.3.
	if got := acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("acceptKey = %q", got)
	}
}

func TestAppendFrameRoundTrip(t *testing.T) {
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		payload := bytes.Repeat([]byte("abcdefg"), n/7+1)[:n]
		f := appendFrame(nil, opText, payload, mask)
		wantHdr := 2 + 4
		switch {
		case n > 65535:
			wantHdr += 8
		case n > 125:
			wantHdr += 2
		}
		if len(f) != wantHdr+n {
			t.Fatalf("n=%d: frame length %d, want %d", n, len(f), wantHdr+n)
		}
		h, err := readFrameHeader(bufio.NewReader(bytes.NewReader(f)))
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !h.fin || h.op != opText || !h.masked || h.mask != mask || h.length != uint64(n) {
			t.Fatalf("n=%d: header %+v", n, h)
		}
		body := append([]byte(nil), f[wantHdr:]...)
		if n > 0 && bytes.Equal(body, payload) {
			t.Fatalf("n=%d: payload not masked", n)
		}
		maskBytes(body, mask, 0)
		if !bytes.Equal(body, payload) {
			t.Fatalf("n=%d: payload mismatch after unmasking", n)
		}
	}
}

func TestAppendFrameStringAndRFCMaskedExample(t *testing.T) {
	// RFC 6455 §5.7: a single-frame masked text message containing "Hello".
	want := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	got := appendFrame(nil, opText, "Hello", [4]byte{0x37, 0xfa, 0x21, 0x3d})
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x\nwant % x", got, want)
	}
}

func TestMaskBytesOffset(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	a := []byte("hello world, masked in pieces")
	whole := append([]byte(nil), a...)
	maskBytes(whole, key, 0)
	pieces := append([]byte(nil), a...)
	pos := maskBytes(pieces[:5], key, 0)
	pos = maskBytes(pieces[5:11], key, pos)
	maskBytes(pieces[11:], key, pos)
	if !bytes.Equal(whole, pieces) {
		t.Fatal("masking in pieces differs from masking at once")
	}
}

func serverFrame(fin bool, op byte, p []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch n := len(p); {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, p...)
}

func TestReadFrameHeaderRejects(t *testing.T) {
	cases := map[string]struct {
		in   []byte
		want error
	}{
		"rsv1":            {[]byte{0xC1, 0x00}, errReservedBits},
		"fragmented ping": {[]byte{0x09, 0x00}, errBadControl},
		"long close":      {append([]byte{0x88, 126, 0, 126}, make([]byte, 126)...), errBadControl},
		"opcode 3":        {[]byte{0x83, 0x00}, errBadOpcode},
	}
	for name, tc := range cases {
		_, err := readFrameHeader(bufio.NewReader(bytes.NewReader(tc.in)))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	if _, err := readFrameHeader(bufio.NewReader(bytes.NewReader([]byte{0x81, 126, 0}))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated length: err = %v", err)
	}
	if _, err := readFrameHeader(bufio.NewReader(bytes.NewReader(nil))); err != io.EOF {
		t.Errorf("empty: err = %v, want io.EOF", err)
	}
}

// recConn is a net.Conn that records writes (for pong/close replies).
type recConn struct {
	net.Conn
	mu  sync.Mutex
	out bytes.Buffer
}

func (r *recConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.Write(p)
}
func (r *recConn) SetWriteDeadline(time.Time) error { return nil }
func (r *recConn) SetReadDeadline(time.Time) error  { return nil }
func (r *recConn) SetDeadline(time.Time) error      { return nil }
func (r *recConn) Close() error                     { return nil }

func newTestConn(in []byte) (*Conn, *recConn) {
	rc := &recConn{}
	return &Conn{nc: rc, br: bufio.NewReaderSize(bytes.NewReader(in), 16), ns: "/",
		wTimeout: time.Second, maxMessage: 1 << 10, done: make(chan struct{})}, rc
}

// decodeClientFrames parses what the client wrote (masked frames).
func decodeClientFrames(t *testing.T, b []byte) (ops []byte, payloads []string) {
	t.Helper()
	r := bufio.NewReader(bytes.NewReader(b))
	for {
		h, err := readFrameHeader(r)
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.masked {
			t.Fatal("client frame not masked")
		}
		p := make([]byte, h.length)
		io.ReadFull(r, p)
		maskBytes(p, h.mask, 0)
		ops = append(ops, h.op)
		payloads = append(payloads, string(p))
	}
}

func TestReadMessageFragmentsAndControl(t *testing.T) {
	var in []byte
	in = append(in, serverFrame(false, opText, []byte(`42["ev`))...)
	in = append(in, serverFrame(true, opPing, []byte("hi"))...) // interleaved control frame
	in = append(in, serverFrame(false, opContinuation, []byte(`ent",`))...)
	in = append(in, serverFrame(true, opContinuation, []byte(`1]`))...)
	in = append(in, serverFrame(true, opBinary, []byte{1, 2, 3})...)
	in = append(in, serverFrame(true, opClose, []byte{0x03, 0xE8, 'b', 'y', 'e'})...)
	c, rc := newTestConn(in)

	op, msg, err := c.readMessage()
	if err != nil || op != opText || string(msg) != `42["event",1]` {
		t.Fatalf("got %v %q %v", op, msg, err)
	}
	op, msg, err = c.readMessage()
	if err != nil || op != opBinary || !bytes.Equal(msg, []byte{1, 2, 3}) {
		t.Fatalf("got %v %q %v", op, msg, err)
	}
	_, _, err = c.readMessage()
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 1000 || ce.Reason != "bye" {
		t.Fatalf("close: %v", err)
	}
	ops, ps := decodeClientFrames(t, rc.out.Bytes())
	if len(ops) != 2 || ops[0] != opPong || ps[0] != "hi" || ops[1] != opClose || ps[1] != "\x03\xe8" {
		t.Fatalf("client replies: ops %v payloads %q", ops, ps)
	}
	if err := c.WriteMessage([]byte("3")); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestReadMessageErrors(t *testing.T) {
	cases := map[string]struct {
		in   []byte
		want string
	}{
		"masked by server": {[]byte{0x81, 0x81, 1, 2, 3, 4, 'x'}, "masked"},
		"bad continuation": {serverFrame(true, opContinuation, []byte("x")), "continuation"},
		"interleaved data": {append(serverFrame(false, opText, []byte("a")), serverFrame(true, opText, []byte("b"))...), "fragmented"},
		"too big":          {serverFrame(true, opText, make([]byte, 2000)), "larger"},
		"truncated":        {serverFrame(true, opText, []byte("abc"))[:3], "unexpected EOF"},
	}
	for name, tc := range cases {
		c, _ := newTestConn(tc.in)
		_, _, err := c.readMessage()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want containing %q", name, err, tc.want)
		}
	}
}

func TestReadLoopDispatch(t *testing.T) {
	var in []byte
	for _, m := range []string{
		`2`,                     // engine.io ping → pong
		`6`,                     // noop
		`42["hello","world",1]`, // event
		`42/admin,["other"]`,    // other namespace: ignored
		`4217["withack"]`,       // event requesting an ack
		`43["ackarg"]`,          // missing id is allowed by the parser
		`4312[{"ok":true}]`,     // ack
		`451-["bin",{"_placeholder":true,"num":0}]`,
	} {
		in = append(in, serverFrame(true, opText, []byte(m))...)
	}
	in = append(in, serverFrame(true, opBinary, []byte{9, 9})...)
	in = append(in, serverFrame(true, opText, []byte(`41`))...)
	c, rc := newTestConn(in)
	c.readTimeout = time.Second
	var events, acks []string
	err := c.ReadLoop(Handler{
		Event: func(name string, data []byte) { events = append(events, name+" "+string(data)) },
		Ack:   func(id int64, data []byte) { acks = append(acks, string(rune('0'+id%10))+" "+string(data)) },
	})
	var de *DisconnectError
	if !errors.As(err, &de) || de.Reason != "io server disconnect" {
		t.Fatalf("ReadLoop = %v", err)
	}
	wantEv := []string{`hello ["hello","world",1]`, `withack ["withack"]`, `bin ["bin",{"_placeholder":true,"num":0}]`}
	if strings.Join(events, "|") != strings.Join(wantEv, "|") {
		t.Fatalf("events %q", events)
	}
	if len(acks) != 2 || acks[1] != `2 [{"ok":true}]` {
		t.Fatalf("acks %q", acks)
	}
	_, ps := decodeClientFrames(t, rc.out.Bytes())
	if len(ps) != 1 || ps[0] != "3" {
		t.Fatalf("client wrote %q, want one pong", ps)
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed")
	}
}

func TestReadLoopEndReasons(t *testing.T) {
	cases := map[string]struct {
		in     []byte
		reason string
	}{
		"engine.io close": {serverFrame(true, opText, []byte("1")), "transport close"},
		"eof":             {nil, "transport close"},
		"ws close":        {serverFrame(true, opClose, []byte{0x03, 0xE9}), "transport close"},
		"bad eio type":    {serverFrame(true, opText, []byte("9")), "parse error"},
		"bad sio packet":  {serverFrame(true, opText, []byte(`42{"x":1}`)), "parse error"},
		"empty frame":     {serverFrame(true, opText, nil), "parse error"},
	}
	for name, tc := range cases {
		c, _ := newTestConn(tc.in)
		c.readTimeout = time.Second
		err := c.ReadLoop(Handler{})
		if got := Reason(err); !strings.HasPrefix(got, tc.reason) {
			t.Errorf("%s: reason %q (err %v), want prefix %q", name, got, err, tc.reason)
		}
	}
}
