package engineio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// testKey is the masking key of the frames the tests build.
var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// frameOpts describes a client frame to build, including invalid ones.
type frameOpts struct {
	fin      bool
	rsv      byte // RSV bits in place: 0x40, 0x20, 0x10
	op       byte
	unmasked bool
	key      [4]byte
	payload  []byte
	lenForm  byte // 0: the shortest form; 126 or 127: force that extended form
}

// buildFrame encodes o as RFC 6455 §5.2 does.
func buildFrame(o frameOpts) []byte {
	b0 := o.rsv | o.op
	if o.fin {
		b0 |= 0x80
	}
	var mbit byte
	if !o.unmasked {
		mbit = 0x80
	}
	n := len(o.payload)
	form := o.lenForm
	if form == 0 && n >= 126 {
		form = 126
		if n > 0xffff {
			form = 127
		}
	}
	b := []byte{b0}
	switch form {
	case 126:
		b = append(b, mbit|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	case 127:
		b = append(b, mbit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	default:
		b = append(b, mbit|byte(n))
	}
	if o.unmasked {
		return append(b, o.payload...)
	}
	b = append(b, o.key[:]...)
	for i, c := range o.payload {
		b = append(b, c^o.key[i&3])
	}
	return b
}

// clientFrame returns a masked client frame.
func clientFrame(fin bool, op byte, payload string) []byte {
	return buildFrame(frameOpts{fin: fin, op: op, key: testKey, payload: []byte(payload)})
}

// frameHeader returns the masked header of a frame announcing n payload
// bytes, without the payload.
func frameHeader(fin bool, op byte, n uint64) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, n)
	}
	return append(b, testKey[:]...)
}

func cat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

// emission is one call of feed's emit callback.
type emission struct {
	op      byte
	payload string
}

func (e emission) String() string {
	p := e.payload
	if len(p) > 40 {
		p = fmt.Sprintf("%.20s…(%d bytes)", p, len(p))
	}
	return fmt.Sprintf("{%#x %q}", e.op, p)
}

// feedResult is everything a reader did with a stream.
type feedResult struct {
	emits  []emission
	code   uint16 // close code of the error; 0 without error
	reason string
}

func (r feedResult) equal(o feedResult) bool {
	return r.code == o.code && r.reason == o.reason && slices.Equal(r.emits, o.emits)
}

func (r feedResult) String() string {
	return fmt.Sprintf("emits=%v code=%d reason=%q", r.emits, r.code, r.reason)
}

// feedSplit feeds a copy of stream (feed unmasks in place) to a new reader,
// cut at the ascending offsets cuts, and stops at the first error.
func feedSplit(t testing.TB, limit int, stream []byte, cuts ...int) feedResult {
	t.Helper()
	data := bytes.Clone(stream)
	r := &wsReader{limit: limit}
	var res feedResult
	emit := func(op byte, payload []byte) error {
		res.emits = append(res.emits, emission{op, string(payload)})
		return nil
	}
	prev := 0
	for _, c := range append(cuts, len(data)) {
		if err := r.feed(data[prev:c], emit); err != nil {
			var we *wsError
			if !errors.As(err, &we) {
				t.Fatalf("feed error %v is not a *wsError", err)
			}
			if r.buf != nil || r.msg != nil {
				t.Fatalf("reader holds buffers after error %v", err)
			}
			res.code, res.reason = we.code, we.reason
			return res
		}
		prev = c
	}
	return res
}

// byteCuts returns the cuts that feed stream one byte at a time.
func byteCuts(n int) []int {
	cuts := make([]int, 0, n)
	for i := 1; i < n; i++ {
		cuts = append(cuts, i)
	}
	return cuts
}

// randomCuts returns k sorted offsets in [0, n].
func randomCuts(rng *rand.Rand, n, k int) []int {
	cuts := make([]int, k)
	for i := range cuts {
		cuts[i] = rng.IntN(n + 1)
	}
	slices.Sort(cuts)
	return cuts
}

// wsCase is a client byte stream and what a reader must make of it.
type wsCase struct {
	name   string
	limit  int // 0 means 1 MiB
	stream []byte
	frames [][]byte // when set, stream is their concatenation
	want   []emission
	code   uint16
}

func (c wsCase) bytes() []byte {
	if c.frames != nil {
		return cat(c.frames...)
	}
	return c.stream
}

func (c wsCase) readerLimit() int {
	if c.limit == 0 {
		return 1 << 20
	}
	return c.limit
}

func wsCases() []wsCase {
	big := func(n int) string { return strings.Repeat("x", n) }
	msg := func(op byte, p string) emission { return emission{op, p} }
	f := clientFrame
	cases := []wsCase{
		{name: "text", frames: [][]byte{f(true, opText, "4hello")}, want: []emission{msg(opText, "4hello")}},
		{name: "binary", frames: [][]byte{f(true, opBinary, "\x01\x02\x03\x04")}, want: []emission{msg(opBinary, "\x01\x02\x03\x04")}},
		{name: "ping", frames: [][]byte{f(true, opPing, "hi")}, want: []emission{msg(opPing, "hi")}},
		{name: "empty ping", frames: [][]byte{f(true, opPing, "")}, want: []emission{msg(opPing, "")}},
		{name: "pong", frames: [][]byte{f(true, opPong, "")}, want: []emission{msg(opPong, "")}},
		{name: "close", frames: [][]byte{f(true, opClose, "\x03\xe8bye")}, want: []emission{msg(opClose, "\x03\xe8bye")}},
		{name: "empty close", frames: [][]byte{f(true, opClose, "")}, want: []emission{msg(opClose, "")}},
		{name: "empty text", frames: [][]byte{f(true, opText, "")}, want: []emission{msg(opText, "")}},
		{name: "empty binary", frames: [][]byte{f(true, opBinary, "")}, want: []emission{msg(opBinary, "")}},
		{name: "empty binary fragmented", frames: [][]byte{f(false, opBinary, ""), f(false, opContinuation, ""), f(true, opContinuation, "")}, want: []emission{msg(opBinary, "")}},
		{name: "empty binaries back to back", frames: [][]byte{f(true, opBinary, ""), f(true, opBinary, ""), f(true, opText, "4")}, want: []emission{msg(opBinary, ""), msg(opBinary, ""), msg(opText, "4")}},
		{name: "zero key", frames: [][]byte{buildFrame(frameOpts{fin: true, op: opText, payload: []byte("4hi")})}, want: []emission{msg(opText, "4hi")}},

		{name: "7-bit length 125", frames: [][]byte{f(true, opText, big(125))}, want: []emission{msg(opText, big(125))}},
		{name: "16-bit length 126", frames: [][]byte{f(true, opText, big(126))}, want: []emission{msg(opText, big(126))}},
		{name: "16-bit length 65535", frames: [][]byte{f(true, opBinary, big(65535))}, want: []emission{msg(opBinary, big(65535))}},
		{name: "64-bit length 65536", frames: [][]byte{f(true, opBinary, big(65536))}, want: []emission{msg(opBinary, big(65536))}},
		{name: "non-minimal 16-bit length", frames: [][]byte{buildFrame(frameOpts{fin: true, op: opText, key: testKey, payload: []byte("4hi"), lenForm: 126})}, want: []emission{msg(opText, "4hi")}},
		{name: "non-minimal 64-bit length", frames: [][]byte{buildFrame(frameOpts{fin: true, op: opText, key: testKey, payload: []byte("4hi"), lenForm: 127})}, want: []emission{msg(opText, "4hi")}},
		{name: "non-minimal 64-bit ping", frames: [][]byte{buildFrame(frameOpts{fin: true, op: opPing, key: testKey, payload: []byte("p"), lenForm: 127})}, want: []emission{msg(opPing, "p")}},

		{name: "fragmented text with interleaved control frames", frames: [][]byte{
			f(false, opText, "4hel"), f(true, opPing, "p1"), f(false, opContinuation, "l"), f(true, opPong, ""), f(true, opContinuation, "o"),
		}, want: []emission{msg(opPing, "p1"), msg(opPong, ""), msg(opText, "4hello")}},
		{name: "fragmented binary with interleaved ping", frames: [][]byte{
			f(false, opBinary, "\x00\x01"), f(false, opContinuation, ""), f(true, opPing, ""), f(false, opContinuation, "\x02"), f(true, opContinuation, "\x03\xff"),
		}, want: []emission{msg(opPing, ""), msg(opBinary, "\x00\x01\x02\x03\xff")}},
		{name: "close inside fragmented message", frames: [][]byte{f(false, opText, "4a"), f(true, opClose, "\x03\xe8")}, want: []emission{msg(opClose, "\x03\xe8")}},
		{name: "messages after a fragmented one", frames: [][]byte{f(false, opText, "4a"), f(true, opContinuation, "b"), f(true, opBinary, "c"), f(false, opBinary, "d"), f(true, opContinuation, "e")},
			want: []emission{msg(opText, "4ab"), msg(opBinary, "c"), msg(opBinary, "de")}},
		{name: "text split inside a utf-8 sequence", frames: [][]byte{f(false, opText, "4caf\xc3"), f(true, opContinuation, "\xa9")}, want: []emission{msg(opText, "4café")}},
		{name: "4-byte rune over three fragments", frames: [][]byte{f(false, opText, "\xf0\x9f"), f(false, opContinuation, "\x98"), f(true, opContinuation, "\x80")}, want: []emission{msg(opText, "😀")}},
		{name: "invalid utf-8 in binary is fine", frames: [][]byte{f(true, opBinary, "\xff\xfe\xc3")}, want: []emission{msg(opBinary, "\xff\xfe\xc3")}},
		{name: "invalid utf-8 in ping is fine", frames: [][]byte{f(true, opPing, "\xff")}, want: []emission{msg(opPing, "\xff")}},

		// Protocol errors: 1002.
		{name: "continuation without start", frames: [][]byte{f(true, opContinuation, "x")}, code: closeProtocolError},
		{name: "non-final continuation without start", frames: [][]byte{f(false, opContinuation, "x")}, code: closeProtocolError},
		{name: "continuation after a complete message", frames: [][]byte{f(true, opText, "4a"), f(true, opContinuation, "b")}, want: []emission{msg(opText, "4a")}, code: closeProtocolError},
		{name: "text inside fragmented text", frames: [][]byte{f(false, opText, "4a"), f(true, opText, "4b")}, code: closeProtocolError},
		{name: "binary inside fragmented text", frames: [][]byte{f(false, opText, "4a"), f(true, opBinary, "b")}, code: closeProtocolError},
		{name: "non-final text inside fragmented binary", frames: [][]byte{f(false, opBinary, "a"), f(false, opText, "4b")}, code: closeProtocolError},
		{name: "unmasked text", frames: [][]byte{buildFrame(frameOpts{fin: true, op: opText, unmasked: true, payload: []byte("4hi")})}, code: closeProtocolError},
		{name: "unmasked ping", frames: [][]byte{buildFrame(frameOpts{fin: true, op: opPing, unmasked: true})}, code: closeProtocolError},
		{name: "unmasked empty binary", frames: [][]byte{buildFrame(frameOpts{fin: true, op: opBinary, unmasked: true})}, code: closeProtocolError},
		{name: "rsv1", frames: [][]byte{buildFrame(frameOpts{fin: true, rsv: 0x40, op: opText, key: testKey, payload: []byte("4hi")})}, code: closeProtocolError},
		{name: "rsv2", frames: [][]byte{buildFrame(frameOpts{fin: true, rsv: 0x20, op: opBinary, key: testKey, payload: []byte("x")})}, code: closeProtocolError},
		{name: "rsv3", frames: [][]byte{buildFrame(frameOpts{fin: true, rsv: 0x10, op: opPing, key: testKey})}, code: closeProtocolError},
		{name: "rsv1 on continuation", frames: [][]byte{f(false, opText, "4a"), buildFrame(frameOpts{fin: true, rsv: 0x40, op: opContinuation, key: testKey, payload: []byte("b")})}, code: closeProtocolError},
		{name: "ping of 126 bytes", frames: [][]byte{f(true, opPing, big(126))}, code: closeProtocolError},
		{name: "pong of 125 bytes", frames: [][]byte{f(true, opPong, big(125))}, want: []emission{msg(opPong, big(125))}},
		{name: "close of 126 bytes", frames: [][]byte{f(true, opClose, big(126))}, code: closeProtocolError},
		{name: "huge ping header", stream: frameHeader(true, opPing, 1<<40), code: closeProtocolError},
		{name: "non-final ping", frames: [][]byte{f(false, opPing, "x")}, code: closeProtocolError},
		{name: "non-final pong", frames: [][]byte{f(false, opPong, "")}, code: closeProtocolError},
		{name: "non-final close", frames: [][]byte{f(false, opClose, "\x03\xe8")}, code: closeProtocolError},
		{name: "frames before an error are emitted", frames: [][]byte{f(true, opText, "4a"), f(true, opBinary, "b"), buildFrame(frameOpts{fin: true, op: opText, unmasked: true}), f(true, opText, "4never")},
			want: []emission{msg(opText, "4a"), msg(opBinary, "b")}, code: closeProtocolError},

		// Invalid UTF-8 in text messages: 1007.
		{name: "invalid utf-8 byte", frames: [][]byte{f(true, opText, "4\xff")}, code: closeInvalidData},
		{name: "utf-16 surrogate", frames: [][]byte{f(true, opText, "4\xed\xa0\x80")}, code: closeInvalidData},
		{name: "overlong encoding", frames: [][]byte{f(true, opText, "\xc0\xaf")}, code: closeInvalidData},
		{name: "code point above U+10FFFF", frames: [][]byte{f(true, opText, "\xf4\x90\x80\x80")}, code: closeInvalidData},
		{name: "truncated sequence at end", frames: [][]byte{f(true, opText, "4caf\xc3")}, code: closeInvalidData},
		{name: "invalid utf-8 over fragments", frames: [][]byte{f(false, opText, "4\xc3"), f(true, opContinuation, "(")}, code: closeInvalidData},
		{name: "truncated sequence at end of fragments", frames: [][]byte{f(false, opText, "4\xe2\x82"), f(true, opContinuation, "")}, code: closeInvalidData},
		{name: "valid then invalid text", frames: [][]byte{f(true, opText, "4ok"), f(true, opText, "4\x80")}, want: []emission{msg(opText, "4ok")}, code: closeInvalidData},

		// Size limit: 1009.
		{name: "message at limit", limit: 10, frames: [][]byte{f(true, opText, big(10))}, want: []emission{msg(opText, big(10))}},
		{name: "message over limit", limit: 10, frames: [][]byte{f(true, opText, big(11))}, code: closeTooBig},
		{name: "fragments at limit", limit: 10, frames: [][]byte{f(false, opBinary, big(5)), f(true, opContinuation, big(5))}, want: []emission{msg(opBinary, big(10))}},
		{name: "fragments over limit", limit: 10, frames: [][]byte{f(false, opBinary, big(5)), f(false, opContinuation, big(5)), f(true, opContinuation, "x")}, code: closeTooBig},
		{name: "control frames do not count toward the limit", limit: 4, frames: [][]byte{f(false, opText, "4abc"), f(true, opPing, big(100)), f(true, opContinuation, "")},
			want: []emission{msg(opPing, big(100)), msg(opText, "4abc")}},
		{name: "huge 64-bit header alone", stream: frameHeader(true, opBinary, 1<<40), code: closeTooBig},
		{name: "64-bit length with top bit set", stream: frameHeader(true, opText, 1<<63), code: closeTooBig},
		{name: "max 64-bit length", stream: frameHeader(true, opText, ^uint64(0)), code: closeTooBig},
		{name: "max 64-bit continuation", stream: cat(f(false, opText, "4a"), frameHeader(true, opContinuation, ^uint64(0))), code: closeTooBig},
		{name: "16-bit header over limit", limit: 1000, stream: frameHeader(true, opText, 1001), code: closeTooBig},
		{name: "messages before a big one are emitted", limit: 1000, stream: cat(f(true, opText, "4a"), frameHeader(true, opBinary, 1<<20)),
			want: []emission{msg(opText, "4a")}, code: closeTooBig},

		{name: "incomplete header", stream: []byte{0x81}},
		{name: "incomplete 16-bit length", stream: []byte{0x81, 0x80 | 126, 0x01}},
		{name: "incomplete 64-bit length", stream: []byte{0x82, 0x80 | 127, 0, 0, 0, 0, 0}},
		{name: "incomplete mask key", stream: []byte{0x81, 0x82, 1, 2}},
		{name: "incomplete payload", stream: clientFrame(true, opText, "4hello")[:8]},
		{name: "complete then incomplete", stream: cat(f(true, opText, "4a"), f(true, opText, "4hello")[:8]), want: []emission{msg(opText, "4a")}},
	}
	for op := byte(3); op <= 15; op++ {
		if op >= opClose && op <= opPong {
			continue
		}
		cases = append(cases,
			wsCase{name: fmt.Sprintf("unknown opcode %d", op), frames: [][]byte{f(true, op, "x")}, code: closeProtocolError},
			wsCase{name: fmt.Sprintf("unknown opcode %d inside a fragmented message", op), frames: [][]byte{f(false, opText, "4a"), f(false, op, "")}, code: closeProtocolError},
		)
	}
	return cases
}

func TestWSReader(t *testing.T) {
	for _, tc := range wsCases() {
		t.Run(tc.name, func(t *testing.T) {
			stream := tc.bytes()
			want := feedResult{emits: tc.want, code: tc.code}
			got := feedSplit(t, tc.readerLimit(), stream)
			if got.code != want.code || !slices.Equal(got.emits, want.emits) {
				t.Fatalf("whole stream: got %v; want %v", got, want)
			}
			if tc.code != 0 && got.reason == "" {
				t.Fatalf("error without a reason")
			}
			// The same result whatever the splits: one byte at a time,
			// frame by frame, and at every single offset.
			if len(stream) <= 1<<12 {
				if g := feedSplit(t, tc.readerLimit(), stream, byteCuts(len(stream))...); !g.equal(got) {
					t.Fatalf("byte at a time: got %v; want %v", g, got)
				}
				for i := 0; i <= len(stream); i++ {
					if g := feedSplit(t, tc.readerLimit(), stream, i); !g.equal(got) {
						t.Fatalf("split at %d: got %v; want %v", i, g, got)
					}
				}
			}
			if tc.frames != nil {
				var cuts []int
				off := 0
				for _, fr := range tc.frames[:len(tc.frames)-1] {
					off += len(fr)
					cuts = append(cuts, off)
				}
				if g := feedSplit(t, tc.readerLimit(), stream, cuts...); !g.equal(got) {
					t.Fatalf("frame by frame: got %v; want %v", g, got)
				}
			}
		})
	}
}

// TestWSReaderRefusesBigMessageEarly checks that a message over the limit
// is refused from its header alone, before any payload arrives, and that
// nothing is buffered for it.
func TestWSReaderRefusesBigMessageEarly(t *testing.T) {
	for _, n := range []uint64{1_000_001, 1 << 32, 1 << 40, 1<<63 - 1, 1 << 63, ^uint64(0)} {
		r := &wsReader{limit: 1_000_000}
		emitted := false
		hdr := frameHeader(true, opBinary, n)
		// The 2 + 8 length bytes suffice; the mask key is not needed.
		err := r.feed(hdr[:10], func(byte, []byte) error { emitted = true; return nil })
		var we *wsError
		if !errors.As(err, &we) || we.code != closeTooBig {
			t.Fatalf("length %d: err = %v; want close code 1009", n, err)
		}
		if emitted || r.buf != nil || r.msg != nil {
			t.Fatalf("length %d: emitted=%v buf=%d msg=%d", n, emitted, len(r.buf), len(r.msg))
		}
	}
	// Header split over two calls.
	r := &wsReader{limit: 1000}
	hdr := frameHeader(true, opText, 5000)
	if err := r.feed(hdr[:3], nil); err != nil {
		t.Fatalf("partial header: %v", err)
	}
	err := r.feed(hdr[3:4], nil)
	var we *wsError
	if !errors.As(err, &we) || we.code != closeTooBig {
		t.Fatalf("err = %v; want close code 1009", err)
	}
	// A fragment that takes the message over the limit is refused from its
	// header too.
	r = &wsReader{limit: 1000}
	err = r.feed(cat(clientFrame(false, opBinary, strings.Repeat("a", 600)), frameHeader(false, opContinuation, 401)[:4]), func(byte, []byte) error {
		t.Fatal("emitted a fragment")
		return nil
	})
	if !errors.As(err, &we) || we.code != closeTooBig {
		t.Fatalf("err = %v; want close code 1009", err)
	}
}

// TestWSReaderEmptyBinary pins the emission of empty binary messages, which
// a WebSocket library used before dropped.
func TestWSReaderEmptyBinary(t *testing.T) {
	for _, stream := range [][]byte{
		clientFrame(true, opBinary, ""),
		cat(clientFrame(false, opBinary, ""), clientFrame(true, opContinuation, "")),
		cat(clientFrame(false, opBinary, ""), clientFrame(true, opPing, ""), clientFrame(true, opContinuation, "")),
	} {
		r := &wsReader{limit: 100}
		calls := 0
		err := r.feed(bytes.Clone(stream), func(op byte, payload []byte) error {
			if op == opPing {
				return nil
			}
			calls++
			if op != opBinary || len(payload) != 0 {
				t.Errorf("emit(%#x, %q); want an empty binary message", op, payload)
			}
			return nil
		})
		if err != nil || calls != 1 {
			t.Fatalf("stream %x: err=%v, %d messages; want 1", stream, err, calls)
		}
	}
}

func TestWSReaderEmitError(t *testing.T) {
	errStop := errors.New("stop")
	r := &wsReader{limit: 100}
	var got []emission
	stream := cat(clientFrame(true, opText, "4a"), clientFrame(false, opText, "4b"), clientFrame(true, opPing, ""), clientFrame(true, opText, "4c"))
	err := r.feed(stream, func(op byte, payload []byte) error {
		got = append(got, emission{op, string(payload)})
		if op == opPing {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("err = %v; want errStop", err)
	}
	if want := []emission{{opText, "4a"}, {opPing, ""}}; !slices.Equal(got, want) {
		t.Fatalf("emits = %v; want %v", got, want)
	}
	if r.buf != nil || r.msg != nil {
		t.Fatalf("reader not reset after an emit error")
	}
}

// TestWSReaderBuffers checks that an idle reader holds no buffer and that a
// partial frame is kept between calls.
func TestWSReaderBuffers(t *testing.T) {
	r := &wsReader{limit: 1 << 20}
	noEmit := func(op byte, p []byte) error { return nil }
	frame := clientFrame(true, opText, "4"+strings.Repeat("y", 300))
	if err := r.feed(bytes.Clone(frame), noEmit); err != nil || r.buf != nil {
		t.Fatalf("whole frame: err=%v buf=%d", err, len(r.buf))
	}
	two := cat(frame, frame)
	data := bytes.Clone(two[:len(frame)+10])
	if err := r.feed(data, noEmit); err != nil || len(r.buf) != 10 {
		t.Fatalf("frame and a half: err=%v buf=%d; want 10", err, len(r.buf))
	}
	if err := r.feed(bytes.Clone(two[len(frame)+10:]), noEmit); err != nil || r.buf != nil {
		t.Fatalf("rest: err=%v buf=%d", err, len(r.buf))
	}
	// A fragmented message is kept in msg, not buf.
	if err := r.feed(clientFrame(false, opText, "4abc"), noEmit); err != nil || r.buf != nil || string(r.msg) != "4abc" || r.msgOp != opText {
		t.Fatalf("first fragment: err=%v buf=%d msg=%q op=%d", err, len(r.buf), r.msg, r.msgOp)
	}
	var got string
	if err := r.feed(clientFrame(true, opContinuation, "d"), func(op byte, p []byte) error { got = string(p); return nil }); err != nil || got != "4abcd" || r.msg != nil || r.msgOp != 0 {
		t.Fatalf("last fragment: err=%v got=%q msg=%q op=%d", err, got, r.msg, r.msgOp)
	}
}

// TestWSReaderTrickle feeds a large frame a few bytes at a time, as a slow
// or hostile client can. The cost per call must not grow with the bytes
// already buffered: the pending buffer is grown by append (amortized) and
// never reallocated per call. feed's copy of the pending buffer onto itself
// is free because the compiler skips a copy whose source and destination
// are the same.
func TestWSReaderTrickle(t *testing.T) {
	const n = 256 << 10
	payload := bytes.Repeat([]byte{'z'}, n)
	frame := buildFrame(frameOpts{fin: true, op: opBinary, key: testKey, payload: payload})
	r := &wsReader{limit: n}
	calls := 0
	emit := func(op byte, p []byte) error {
		calls++
		if op != opBinary || !bytes.Equal(p, payload) {
			t.Fatalf("emit(%#x, %d bytes)", op, len(p))
		}
		return nil
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < len(frame); i += 7 {
		if err := r.feed(frame[i:min(i+7, len(frame))], emit); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if calls != 1 || r.buf != nil {
		t.Fatalf("%d emits, buf %d", calls, len(r.buf))
	}
	// Amortized growth allocates about 4n; a copy per call would be
	// gigabytes. The bound leaves room for other goroutines' allocations.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32*n {
		t.Fatalf("feeding a %d-byte frame in 7-byte pieces allocated %d bytes", n, alloc)
	}
}

// randomStream builds a stream of valid client frames and the emissions it
// must produce: whole and fragmented text and binary messages (fragments
// split anywhere, inside UTF-8 sequences too), interleaved control frames,
// random keys, every length form.
func randomStream(rng *rand.Rand, messages int, allowHuge bool) ([]byte, []emission) {
	runes := []rune{'a', 'z', '0', '[', '"', 'é', '€', '😀', '中', 0x7f, 0}
	text := func(n int) []byte {
		var b []byte
		for len(b) < n {
			b = utf8.AppendRune(b, runes[rng.IntN(len(runes))])
		}
		return b
	}
	bin := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	size := func() int {
		switch x := rng.IntN(100); {
		case x < 10:
			return 0
		case x < 70:
			return rng.IntN(40)
		case x < 85:
			return 120 + rng.IntN(12)
		case x < 99 || !allowHuge:
			return 200 + rng.IntN(800)
		default:
			return 65530 + rng.IntN(12)
		}
	}
	frame := func(fin bool, op byte, p []byte) []byte {
		o := frameOpts{fin: fin, op: op, payload: p}
		for i := range o.key {
			o.key[i] = byte(rng.Uint32())
		}
		if len(p) < 126 && rng.IntN(20) == 0 {
			o.lenForm = 126
		} else if len(p) <= 0xffff && rng.IntN(20) == 0 {
			o.lenForm = 127
		}
		return buildFrame(o)
	}
	control := func() ([]byte, emission) {
		op := byte(opPing)
		if rng.IntN(2) == 0 {
			op = opPong
		}
		p := bin(rng.IntN(126))
		return frame(true, op, p), emission{op, string(p)}
	}
	var stream []byte
	var want []emission
	for range messages {
		switch rng.IntN(6) {
		case 0:
			f, e := control()
			stream = append(stream, f...)
			want = append(want, e)
		default:
			op := byte(opText)
			var p []byte
			if rng.IntN(2) == 0 {
				op, p = opBinary, bin(size())
			} else {
				p = text(size())
			}
			parts := 1
			if rng.IntN(3) == 0 {
				parts = 2 + rng.IntN(4)
			}
			cuts := randomCuts(rng, len(p), parts-1)
			prev := 0
			for i := range parts {
				end := len(p)
				if i < len(cuts) {
					end = cuts[i]
				}
				fop := byte(opContinuation)
				if i == 0 {
					fop = op
				}
				stream = append(stream, frame(i == parts-1, fop, p[prev:end])...)
				prev = end
				if i < parts-1 && rng.IntN(3) == 0 {
					f, e := control()
					stream = append(stream, f...)
					want = append(want, e)
				}
			}
			want = append(want, emission{op, string(p)})
		}
	}
	return stream, want
}

// badFrames are ways a stream can go wrong, for the split property.
func badFrames() [][]byte {
	return [][]byte{
		clientFrame(true, opContinuation, "x"),
		buildFrame(frameOpts{fin: true, op: opText, unmasked: true, payload: []byte("4x")}),
		buildFrame(frameOpts{fin: true, rsv: 0x40, op: opBinary, key: testKey}),
		clientFrame(true, opPing, strings.Repeat("p", 126)),
		clientFrame(false, opPong, ""),
		clientFrame(true, 0x3, ""),
		clientFrame(true, 0xb, ""),
		clientFrame(true, opText, "4\xff"),
		cat(clientFrame(false, opText, "4\xe2"), clientFrame(true, opContinuation, "\x82")),
		cat(clientFrame(false, opText, "4\xe2"), clientFrame(true, opContinuation, "x")),
		frameHeader(true, opBinary, 1<<40),
		cat(clientFrame(false, opBinary, "a"), clientFrame(true, opBinary, "b")),
	}
}

// TestWSReaderSplitProperty: a stream of many frames fed one byte at a
// time or in random pieces gives exactly the emissions of feeding it whole.
func TestWSReaderSplitProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(0x5eed, 6455))
	const limit = 1 << 20
	for round := range 40 {
		stream, want := randomStream(rng, 60, round%8 == 0)
		var tail []byte
		if round%2 == 1 {
			// End with an error, then bytes that must never be read.
			bad := badFrames()
			tail = cat(bad[rng.IntN(len(bad))], clientFrame(true, opText, "4after"))
			stream = cat(stream, tail)
		}
		whole := feedSplit(t, limit, stream)
		if !slices.Equal(whole.emits, want) {
			t.Fatalf("round %d: whole stream emitted %d messages; want %d (first diff at %d)", round, len(whole.emits), len(want), firstDiff(whole.emits, want))
		}
		if (whole.code != 0) != (tail != nil) {
			t.Fatalf("round %d: code %d, tail %v", round, whole.code, tail != nil)
		}
		if len(stream) < 64<<10 {
			if got := feedSplit(t, limit, stream, byteCuts(len(stream))...); !got.equal(whole) {
				t.Fatalf("round %d: byte at a time: %v; whole: %v", round, got, whole)
			}
		}
		for range 25 {
			cuts := randomCuts(rng, len(stream), 1+rng.IntN(40))
			if got := feedSplit(t, limit, stream, cuts...); !got.equal(whole) {
				t.Fatalf("round %d: cuts %v: %v; whole: %v", round, cuts, got, whole)
			}
		}
	}
}

func firstDiff(a, b []emission) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestValidCloseCode(t *testing.T) {
	valid := []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}
	invalid := []uint16{0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 2000, 2999, 5000, 65535}
	for _, c := range valid {
		if !validCloseCode(c) {
			t.Errorf("validCloseCode(%d) = false", c)
		}
	}
	for _, c := range invalid {
		if validCloseCode(c) {
			t.Errorf("validCloseCode(%d) = true", c)
		}
	}
}

func TestWSErrorMessage(t *testing.T) {
	err := protocolError("reserved bits set")
	if err.Error() != "websocket: reserved bits set" {
		t.Errorf("Error() = %q", err.Error())
	}
	var we *wsError
	if !errors.As(err, &we) || we.code != closeProtocolError {
		t.Errorf("protocolError code = %v", err)
	}
}

// parseServerFrame decodes an unmasked server frame.
func parseServerFrame(t *testing.T, f []byte) (fin bool, op byte, payload []byte) {
	t.Helper()
	if len(f) < 2 || f[1]&0x80 != 0 || f[0]&0x70 != 0 {
		t.Fatalf("bad server frame header % x", f[:min(len(f), 10)])
	}
	n, off := uint64(f[1]&0x7f), 2
	switch n {
	case 126:
		n, off = uint64(binary.BigEndian.Uint16(f[2:])), 4
		if n < 126 {
			t.Fatalf("non-minimal 16-bit length %d", n)
		}
	case 127:
		n, off = binary.BigEndian.Uint64(f[2:]), 10
		if n <= 0xffff {
			t.Fatalf("non-minimal 64-bit length %d", n)
		}
	}
	if uint64(len(f)-off) != n {
		t.Fatalf("frame of %d bytes announces %d payload bytes after %d", len(f), n, off)
	}
	return f[0]&0x80 != 0, f[0] & 0x0f, f[off:]
}

// maskServerFrame turns a server frame into the client frame with the same
// payload.
func maskServerFrame(f []byte, key [4]byte) []byte {
	off := 2
	switch f[1] & 0x7f {
	case 126:
		off = 4
	case 127:
		off = 10
	}
	out := append([]byte(nil), f[:off]...)
	out[1] |= 0x80
	out = append(out, key[:]...)
	for i, c := range f[off:] {
		out = append(out, c^key[i&3])
	}
	return out
}

func TestAppendFrame(t *testing.T) {
	headers := []struct {
		n      int
		header string
	}{
		{0, "\x82\x00"},
		{1, "\x82\x01"},
		{125, "\x82\x7d"},
		{126, "\x82\x7e\x00\x7e"},
		{65535, "\x82\x7e\xff\xff"},
		{65536, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00"},
		{1 << 20, "\x82\x7f\x00\x00\x00\x00\x00\x10\x00\x00"},
	}
	for _, h := range headers {
		data := bytes.Repeat([]byte{0xab}, h.n)
		f := appendFrame([]byte("pre"), opBinary, nil, data)
		if !bytes.HasPrefix(f, []byte("pre"+h.header)) || len(f) != 3+len(h.header)+h.n {
			t.Errorf("n=%d: header % x; want % x", h.n, f[3:min(len(f), 3+len(h.header))], h.header)
		}
		fin, op, p := parseServerFrame(t, f[3:])
		if !fin || op != opBinary || !bytes.Equal(p, data) {
			t.Errorf("n=%d: fin=%v op=%d payload %d bytes", h.n, fin, op, len(p))
		}
	}
	// The length counts prefix and data together: 1 + 125 takes the
	// 16-bit form.
	f := appendFrame(nil, opText, []byte("4"), bytes.Repeat([]byte("a"), 125))
	if string(f[:4]) != "\x81\x7e\x00\x7e" || string(f[4:5]) != "4" {
		t.Errorf("prefixed frame header % x", f[:5])
	}
	f = appendFrame(nil, opText, []byte("4"), bytes.Repeat([]byte("a"), 124))
	if string(f[:3]) != "\x81\x7d4" {
		t.Errorf("prefixed frame header % x", f[:3])
	}
}

func TestSharedFrames(t *testing.T) {
	cases := []struct {
		name  string
		frame []byte
		want  string
	}{
		{"ping", framePing, "\x81\x012"},
		{"noop", frameNoop, "\x81\x016"},
		{"probe", frameProbe, "\x81\x063probe"},
		{"close", frameClose, "\x81\x011"},
		{"text message", NewMessage([]byte("hello"), false).wsFrame(), "\x81\x064hello"},
		{"binary message", NewMessage([]byte{1, 2, 3}, true).wsFrame(), "\x82\x03\x01\x02\x03"},
		{"empty binary message", NewMessage(nil, true).wsFrame(), "\x82\x00"},
		{"empty text message", NewMessage(nil, false).wsFrame(), "\x81\x014"},
	}
	for _, tc := range cases {
		if string(tc.frame) != tc.want {
			t.Errorf("%s: % x; want % x", tc.name, tc.frame, tc.want)
		}
	}
}

// TestServerFramesReadBack feeds server frames, masked, to the client-frame
// reader: both sides agree on the framing for every length form.
func TestServerFramesReadBack(t *testing.T) {
	for _, n := range []int{0, 1, 124, 125, 126, 127, 65534, 65535, 65536, 100000} {
		bin := bytes.Repeat([]byte{0xab, 0x00, 0xff}, n)[:n]
		text := bytes.Repeat([]byte("a"), n)
		cases := []struct {
			op           byte
			prefix, data []byte
		}{{opBinary, nil, bin}, {opText, []byte("4"), text}}
		for _, c := range cases {
			client := maskServerFrame(appendFrame(nil, c.op, c.prefix, c.data), testKey)
			got := feedSplit(t, 1<<20, client)
			want := emission{c.op, string(c.prefix) + string(c.data)}
			if got.code != 0 || len(got.emits) != 1 || got.emits[0] != want {
				t.Fatalf("n=%d op=%d: %v", n, c.op, got)
			}
		}
	}
}

func BenchmarkWSReaderFeed(b *testing.B) {
	payload := `42["notification",{"id":123,"title":"New message","body":"A typical notification body."}]`
	payload += strings.Repeat(" ", 100-len(payload))
	frame := clientFrame(true, opText, payload)
	buf := make([]byte, len(frame))
	r := &wsReader{limit: 1_000_000}
	var n int
	emit := func(op byte, p []byte) error { n += len(p); return nil }
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, frame) // feed unmasks in place
		if err := r.feed(buf, emit); err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 {
		b.Fatal("nothing emitted")
	}
}

// BenchmarkWSReaderFeedSplit is the same frame arriving in two reads.
func BenchmarkWSReaderFeedSplit(b *testing.B) {
	payload := strings.Repeat("a", 100)
	frame := clientFrame(true, opText, payload)
	buf := make([]byte, len(frame))
	r := &wsReader{limit: 1_000_000}
	emit := func(op byte, p []byte) error { return nil }
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, frame)
		if err := r.feed(buf[:50], emit); err != nil {
			b.Fatal(err)
		}
		if err := r.feed(buf[50:], emit); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWSReaderTrickle is a 256 KiB frame arriving 64 bytes at a time.
func BenchmarkWSReaderTrickle(b *testing.B) {
	frame := buildFrame(frameOpts{fin: true, op: opBinary, key: testKey, payload: make([]byte, 256<<10)})
	buf := make([]byte, len(frame))
	emit := func(op byte, p []byte) error { return nil }
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, frame)
		r := &wsReader{limit: 1 << 20}
		for i := 0; i < len(buf); i += 64 {
			if err := r.feed(buf[i:min(i+64, len(buf))], emit); err != nil {
				b.Fatal(err)
			}
		}
	}
}
