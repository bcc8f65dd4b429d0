package engineio

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeText: DecodeText accepts exactly the inputs that start with a
// packet type digit, and AppendText gives the input back.
func FuzzDecodeText(f *testing.F) {
	for _, tc := range textCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := DecodeText(in)
		valid := len(in) > 0 && in[0] >= '0' && in[0] <= '6'
		if err != nil {
			if valid || !errors.Is(err, ErrInvalidPacket) {
				t.Fatalf("DecodeText(%q): %v", in, err)
			}
			return
		}
		if !valid || p.Binary || byte(p.Type) != in[0] || !bytes.Equal(p.Data, in[1:]) {
			t.Fatalf("DecodeText(%q) = %+v", in, p)
		}
		if out := AppendText(nil, p); !bytes.Equal(out, in) {
			t.Fatalf("AppendText(DecodeText(%q)) = %q", in, out)
		}
	})
}

// FuzzDecodePayload: a decoded payload has one packet per record, and
// re-encoding it decodes to the same packets; the encoding is canonical
// (encoding again gives the same bytes).
func FuzzDecodePayload(f *testing.F) {
	for _, tc := range payloadCases {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte("b\x1eb"))
	f.Add([]byte("4\x1e\x1e"))
	f.Add([]byte("bAQIDBA\r\n==\x1e4x"))
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := bytes.Clone(body)
		packets, err := DecodePayload(body)
		if !bytes.Equal(body, orig) {
			t.Fatalf("DecodePayload modified its input")
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidPacket) {
				t.Fatalf("DecodePayload(%q): %v does not wrap ErrInvalidPacket", body, err)
			}
			return
		}
		if want := bytes.Count(body, []byte{recordSeparator}) + 1; len(packets) != want {
			t.Fatalf("DecodePayload(%q): %d packets; want %d", body, len(packets), want)
		}
		for _, p := range packets {
			if !p.Type.valid() || (p.Binary && p.Type != PacketMessage) {
				t.Fatalf("DecodePayload(%q): bad packet %+v", body, p)
			}
		}
		enc := AppendPayload(nil, packets)
		again, err := DecodePayload(enc)
		if err != nil {
			t.Fatalf("DecodePayload(AppendPayload(%q) = %q): %v", body, enc, err)
		}
		if !equalPackets(packets, again) {
			t.Fatalf("round trip of %q: %v != %v", body, packets, again)
		}
		if enc2 := AppendPayload(nil, again); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not canonical: %q then %q", enc, enc2)
		}
		if !bytes.ContainsRune(body, 'b') && !bytes.Equal(enc, body) {
			// Without base64 records the body is already canonical.
			t.Fatalf("AppendPayload(DecodePayload(%q)) = %q", body, enc)
		}
	})
}

// FuzzWSReaderSplit: feeding a stream in two or three pieces, cut where
// the fuzzer chooses, gives the same emissions and the same error as
// feeding it whole; and what is emitted obeys RFC 6455.
func FuzzWSReaderSplit(f *testing.F) {
	for _, tc := range wsCases() {
		if s := tc.bytes(); len(s) <= 4096 {
			f.Add(s, uint(len(s)/2), uint(len(s)/3), uint16(tc.readerLimit()-1))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		s, _ := randomStream(rng, 6, false)
		f.Add(s, uint(rng.IntN(len(s)+1)), uint(rng.IntN(len(s)+1)), uint16(4095))
	}
	for _, bad := range badFrames() {
		s := cat(clientFrame(false, opText, "4a"), clientFrame(true, opPing, "p"), bad)
		f.Add(s, uint(len(s)-3), uint(5), uint16(200))
	}
	f.Fuzz(func(t *testing.T, stream []byte, c1, c2 uint, l uint16) {
		limit := int(l) + 1
		n := uint(len(stream) + 1)
		a, b := int(c1%n), int(c2%n)
		if a > b {
			a, b = b, a
		}
		whole := feedSplit(t, limit, stream)
		for _, cuts := range [][]int{{a}, {b}, {a, b}} {
			if got := feedSplit(t, limit, stream, cuts...); !got.equal(whole) {
				t.Fatalf("cuts %v: %v; whole: %v", cuts, got, whole)
			}
		}
		switch whole.code {
		case 0, closeProtocolError, closeInvalidData, closeTooBig:
		default:
			t.Fatalf("close code %d", whole.code)
		}
		total := 0
		for _, e := range whole.emits {
			total += len(e.payload)
			switch e.op {
			case opText:
				if !utf8.ValidString(e.payload) {
					t.Fatalf("invalid UTF-8 text emitted: %q", e.payload)
				}
				fallthrough
			case opBinary:
				if len(e.payload) > limit {
					t.Fatalf("message of %d bytes over limit %d", len(e.payload), limit)
				}
			case opClose, opPing, opPong:
				if len(e.payload) > 125 {
					t.Fatalf("control frame of %d bytes", len(e.payload))
				}
			default:
				t.Fatalf("emitted opcode %#x", e.op)
			}
		}
		if total > len(stream) {
			t.Fatalf("emitted %d payload bytes from %d stream bytes", total, len(stream))
		}
	})
}
