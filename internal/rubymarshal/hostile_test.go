package rubymarshal

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// hx reads hex with optional spaces.
func hx(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func rep(b []byte, n int) []byte { return bytes.Repeat(b, n) }

func TestHostileInputs(t *testing.T) {
	time := func(p uint32) []byte { // u:Time with an 8-byte dump
		b := cat(hx("0408 75 3a 09"), []byte("Time"), hx("0d"))
		b = binary.LittleEndian.AppendUint32(b, 1<<31|100<<14|p)
		return binary.LittleEndian.AppendUint32(b, 0)
	}
	cases := []struct {
		name    string
		in      []byte
		lim     *Limits
		kind    error
		msg     string // part of the message
		atLeast int    // minimum offset reported
	}{
		{"empty", nil, nil, ErrTruncated, "shorter than the 2-byte version header", 0},
		{"only major", hx("04"), nil, ErrTruncated, "version header", 0},
		{"wrong major", hx("0308 30"), nil, ErrMalformed, "not Marshal 4.8", 0},
		{"newer minor", hx("0409 30"), nil, ErrMalformed, "not Marshal 4.8", 0},
		{"JSON text", []byte(`{"a":1}`), nil, ErrMalformed, "not Marshal 4.8", 0},
		{"header only", hx("0408"), nil, ErrTruncated, "type byte", 2},
		{"trailing bytes", hx("0408 30 30"), nil, ErrMalformed, "1 bytes left over", 3},
		{"unknown type", hx("0408 21"), nil, ErrMalformed, "unknown type byte 0x21", 2},
		{"data object", hx("0408 64 3a 06 58 30"), nil, ErrUnsupported, "type 'd'", 2},

		// Long encoding.
		{"long missing bytes", hx("0408 69 02 01"), nil, ErrTruncated, "long of 2 bytes, but only 1 left", 3},
		{"long missing entirely", hx("0408 69"), nil, ErrTruncated, "fixnum", 3},
		{"negative string length", hx("0408 22 fa"), nil, ErrMalformed, "negative string length -1", 3},
		{"negative array length", hx("0408 5b ff 00"), nil, ErrMalformed, "negative array length -256", 3},

		// Declared lengths larger than the input: rejected before allocating.
		{"huge string", hx("0408 22 04 ffffff7f"), nil, ErrTruncated, "string length 2147483647 needs at least", 3},
		{"huge array", hx("0408 5b 04 ffffff7f 30"), nil, ErrTruncated, "array length 2147483647", 3},
		{"huge hash", hx("0408 7b 04 ffffff3f 30 30"), nil, ErrTruncated, "hash size 1073741823 needs at least 2147483646 bytes", 3},
		{"huge symbol", hx("0408 3a 04 ffffff7f"), nil, ErrTruncated, "symbol length", 3},
		{"huge ivar count", hx("0408 49 22 00 04 ffffff7f"), nil, ErrTruncated, "instance variable count", 5},
		{"huge object ivars", hx("0408 6f 3a 06 58 04 ffffff7f"), nil, ErrTruncated, "instance variable count", 6},
		{"huge bignum", hx("0408 6c 2b 04 ffffff7f"), nil, ErrTruncated, "bignum length", 4},
		{"bignum over the cap", cat(hx("0408 6c 2b 02 0120"), rep([]byte{1}, 2*0x2001)), nil, ErrLimit, "8193 16-bit words", 2},
		{"bignum bad sign", hx("0408 6c 2a 06 0100"), nil, ErrMalformed, "sign byte 0x2a", 3},
		{"huge regexp", hx("0408 2f 04 ffffff7f"), nil, ErrTruncated, "regexp source length", 3},
		{"huge class name", hx("0408 63 04 ffffff7f"), nil, ErrTruncated, "class or module name length", 3},
		{"huge _dump", hx("0408 75 3a 06 58 04 ffffff7f"), nil, ErrTruncated, "_dump length", 6},

		// Links.
		{"link to the future", hx("0408 5b 06 40 06"), nil, ErrMalformed, "link to object 1, but only 1 objects so far", 4},
		{"link at top", hx("0408 40 00"), nil, ErrMalformed, "link to object 0, but only 0", 2},
		{"negative link", hx("0408 5b 06 40 fa"), nil, ErrMalformed, "link to object -1", 4},
		{"symbol link to the future", hx("0408 5b 07 3a 06 61 3b 06"), nil, ErrMalformed, "symbol link to symbol 1, but only 1 symbols", 6},
		{"symbol link with no symbols", hx("0408 3b 00"), nil, ErrMalformed, "symbol link to symbol 0", 2},
		// A "u" object is numbered after its ivars, so they cannot link to it.
		{"u ivar links to its own u", hx("0408 49 75 3a 06 58 00 06 3a 06 61 40 00"), nil, ErrMalformed, "link to object 0, but only 0", 10},

		// Symbols where the format wants one.
		{"object class is not a symbol", hx("0408 6f 69 00 00"), nil, ErrMalformed, "object class: expected a symbol, found type byte 'i'", 3},
		{"ivar name is a string", hx("0408 6f 3a 06 58 06 22 00 30"), nil, ErrMalformed, "instance variable name: expected a symbol", 7},
		{"encoded symbol link", hx("0408 6f 3a 06 58 06 49 3b 00 30"), nil, ErrMalformed, "found type byte ';'", 7},

		// Wrappers.
		{"C around a fixnum", hx("0408 43 3a 06 58 69 06"), nil, ErrMalformed, `user class "X" wraps a Integer`, 6},
		{"C around an object", hx("0408 43 3a 06 58 6f 3b 00 00"), nil, ErrMalformed, "wraps a Object", 6},
		{"I with nothing after", hx("0408 49"), nil, ErrTruncated, "type byte", 3},
		{"I string missing ivars", hx("0408 49 22 00"), nil, ErrTruncated, "instance variable count", 5},

		// Floats and Times.
		{"float garbage", hx("0408 66 06 78"), nil, ErrMalformed, `float "x" is not a number`, 2},
		{"float empty", hx("0408 66 00"), nil, ErrMalformed, "float", 2},
		{"time short dump", cat(hx("0408 75 3a 09"), []byte("Time"), hx("08 616263")), nil, ErrMalformed, "Time: dump is 3 bytes", 2},
		{"time month 13", time(12<<10 | 1<<5), nil, ErrMalformed, "month 13", 2},
		{"time day 0", time(0), nil, ErrMalformed, "day 0", 2},
		{"time hour 24", time(1<<5 | 24), nil, ErrMalformed, "24:00:00", 2},
		{"time nano_den zero", cat(hx("0408 49 75 3a 09"), []byte("Time"), hx("0d 2000 0080 00000000 07 3a0d"), []byte("nano_num"), hx("6906 3a0d"), []byte("nano_den"), hx("6900")), nil, ErrMalformed, "nano_den is zero", 2},
		{"time nano_num without den", cat(hx("0408 49 75 3a 09"), []byte("Time"), hx("0d 2000 0080 00000000 06 3a0d"), []byte("nano_num"), hx("6906")), nil, ErrMalformed, "not Integers", 2},

		// Limits.
		{"over MaxBytes", rep([]byte{4}, 11), &Limits{MaxBytes: 10}, ErrLimit, "11 bytes, more than the limit of 10", 0},
		{"default MaxBytes", cat(hx("0408 22 04 00001000"), rep([]byte{'x'}, 1<<20)), nil, ErrLimit, "limit of 1048576", 0},
		{"deep arrays", cat(hx("0408"), rep(hx("5b06"), 100), hx("30")), nil, ErrLimit, "nesting deeper than 64", 2 + 64*2},
		{"deep wrappers", cat(hx("0408"), rep(hx("65 3a 06 4d"), 3), rep(hx("65 3b 00"), 100), hx("30")), nil, ErrLimit, "nesting deeper than 64", 2},
		{"deep ivar values", cat(hx("0408"), rep(hx("49 22 00 06 3a 06 61"), 70), hx("30")), nil, ErrLimit, "nesting deeper", 2},
		{"array over MaxObjects", cat(hx("0408 5b 19"), rep(hx("30"), 20)), &Limits{MaxObjects: 10}, ErrLimit, "array length 20 would hold 20 values, more than the 9 left of MaxObjects", 3},
		{"values over MaxObjects", cat(hx("0408 5b 08"), rep(hx("5b 08 30 30 30"), 3)), &Limits{MaxObjects: 10}, ErrLimit, "MaxObjects", 2},
		{"hash over MaxObjects", cat(hx("0408 7b 0a"), rep(hx("30"), 10)), &Limits{MaxObjects: 9}, ErrLimit, "hash size 5 would hold 10 values, more than the 8 left", 3},
		{"links over MaxObjects", cat(hx("0408 5b 06 5b 7f"), rep(hx("40 00"), 122)), &Limits{MaxObjects: 100}, ErrLimit, "array length 122 would hold 122 values, more than the 98 left", 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Decode(c.in, c.lim)
			if err == nil {
				t.Fatalf("decoded %#v, want an error", v)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if !errors.Is(err, c.kind) {
				t.Errorf("kind %v, want %v (%v)", e.Kind, c.kind, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not say %q", err, c.msg)
			}
			if e.Offset < c.atLeast || e.Offset > len(c.in) {
				t.Errorf("offset %d, want %d..%d (%v)", e.Offset, c.atLeast, len(c.in), err)
			}
		})
	}
}

func TestLimitsRaised(t *testing.T) {
	deep := cat(hx("0408"), rep(hx("5b06"), 100), hx("30"))
	if _, err := Decode(deep, &Limits{MaxDepth: 101}); err != nil {
		t.Errorf("depth 101 allowed: %v", err)
	}
	if _, err := Decode(deep, &Limits{MaxDepth: 100}); !errors.Is(err, ErrLimit) {
		t.Errorf("depth 100 allowed: got %v, want ErrLimit", err)
	}
	many := cat(hx("0408 5b 19"), rep(hx("30"), 20))
	if _, err := Decode(many, &Limits{MaxObjects: 21}); err != nil {
		t.Errorf("21 values allowed: %v", err)
	}
}

// TestTruncatedVectors cuts every vector at every length: each prefix is an
// error that names an offset inside it, never a panic or a value.
func TestTruncatedVectors(t *testing.T) {
	for _, in := range allSeeds(t) {
		for i := 0; i < len(in); i++ {
			v, err := Decode(in[:i], nil)
			if err == nil {
				t.Fatalf("prefix %x of %x decoded to %#v", in[:i], in, v)
			}
			var e *Error
			if !errors.As(err, &e) || e.Offset > i {
				t.Fatalf("prefix of %d bytes: %v", i, err)
			}
		}
	}
}

// TestMutatedVectors flips bytes of every vector: decoding and mapping
// must never panic, and any JSON produced must be valid.
func TestMutatedVectors(t *testing.T) {
	n := 0
	for _, in := range allSeeds(t) {
		buf := make([]byte, len(in))
		for i := 2; i < len(in); i++ {
			for _, m := range []byte{0x01, 0x80, 0xff, 0x7f} {
				copy(buf, in)
				buf[i] ^= m
				v, err := Decode(buf, nil)
				if err != nil {
					continue
				}
				n++
				if out, err := ToJSON(v); err == nil && !json.Valid(out) {
					t.Fatalf("%x: invalid JSON %s", buf, out)
				}
			}
		}
	}
	t.Logf("%d mutated inputs still decoded", n)
}

func TestCycles(t *testing.T) {
	cases := []struct{ name, hex, path string }{
		{"array holds itself", "0408 5b 06 40 00", "$[0]"},
		{"hash holds itself", "0408 7b 06 69 06 40 00", `$["1"]`},
		{"hash default is itself", "0408 7d 00 40 00", ""}, // the default is not mapped
		{"object holds itself", "0408 6f 3a 06 58 06 3a 07 40 61 40 00", `$["@a"]`},
		{"struct holds itself", "0408 53 3a 06 58 06 3a 06 61 40 00", `$["a"]`},
		{"U holds itself", "0408 55 3a 06 58 5b 06 40 00", `$["marshal_dump"][0]`},
		{"two arrays", "0408 5b 06 5b 06 40 00", "$[0][0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := Decode(hx(c.hex), nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := ToJSON(v)
			if c.path == "" {
				if err != nil {
					t.Fatalf("ToJSON: %v", err)
				}
				return
			}
			var je *JSONError
			if !errors.As(err, &je) || !strings.Contains(je.Msg, "cycle") || je.Path != c.path {
				t.Fatalf("ToJSON = %s, %v; want a cycle error at %s", out, err, c.path)
			}
		})
	}
	// A self-referencing array decodes as one, like Ruby's a = []; a << a.
	v, _ := Decode(hx("0408 5b 06 40 00"), nil)
	a := v.([]Value)
	if inner := a[0].([]Value); &inner[0] != &a[0] {
		t.Error("the link is not the array itself")
	}
}

// TestSharedLinksBlowUp: each array holds the previous one twice, so 40
// levels describe 2^40 leaves in under 200 bytes. Decoding is cheap;
// ToJSON stops at MaxJSONBytes.
func TestSharedLinksBlowUp(t *testing.T) {
	const levels = 40
	in := cat(hx("0408 5b"), longBytes(levels+1), hx("5b 06 22 0d"), []byte("xxxxxxxx"))
	// Top is index 0, the first array 1, its string 2; array k (k >= 2)
	// is index k+1 and holds array k-1 twice.
	prev := 1
	for k := 2; k <= levels+1; k++ {
		in = append(in, 0x5b, 0x07, 0x40)
		in = append(in, longBytes(prev)...)
		in = append(in, 0x40)
		in = append(in, longBytes(prev)...)
		prev = k + 1
	}
	v, err := Decode(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = toJSON(v, 64<<10)
	var je *JSONError
	if !errors.As(err, &je) || je.Msg != "output larger than 65536 bytes (MaxJSONBytes)" {
		t.Fatalf("toJSON: %v, want the output cap", err)
	}
	if !testing.Short() { // 16 MiB of output: slow under -race
		_, err = ToJSON(v)
		if !errors.As(err, &je) || !strings.Contains(je.Msg, "MaxJSONBytes") {
			t.Fatalf("ToJSON: %v, want the output cap", err)
		}
	}

	// A chain of links nests without bound in JSON though the stream is
	// flat: ToJSON stops at MaxJSONDepth.
	const chain = MaxJSONDepth + 10
	in = cat(hx("0408 5b"), longBytes(chain), hx("5b 00"))
	for k := 2; k <= chain; k++ {
		in = append(in, 0x5b, 0x06, 0x40)
		in = append(in, longBytes(k-1)...)
	}
	if v, err = Decode(in, nil); err != nil {
		t.Fatal(err)
	}
	_, err = ToJSON(v)
	if !errors.As(err, &je) || !strings.Contains(je.Msg, "MaxJSONDepth") {
		t.Fatalf("ToJSON: %v, want the depth cap", err)
	}
}

// longBytes writes n >= 0 in Marshal's long encoding.
func longBytes(n int) []byte {
	switch {
	case n == 0:
		return []byte{0}
	case n < 123:
		return []byte{byte(n + 5)}
	case n < 256:
		return []byte{1, byte(n)}
	case n < 65536:
		return []byte{2, byte(n), byte(n >> 8)}
	}
	return []byte{3, byte(n), byte(n >> 8), byte(n >> 16)}
}

func TestLongEncoding(t *testing.T) {
	// Fixnums at every boundary, both the canonical and a longer form.
	cases := []struct {
		hex  string
		want int64
	}{
		{"00", 0}, {"06", 1}, {"7f", 122}, {"01 7b", 123}, {"80", -123},
		{"ff 84", -124}, {"01 ff", 255}, {"ff 00", -256}, {"02 0001", 256},
		{"fe fffe", -257}, {"03 000001", 65536}, {"04 ffffff3f", 1<<30 - 1},
		{"fc 000000c0", -(1 << 30)}, {"04 ffffffff", 1<<32 - 1}, {"fc 00000000", -(1 << 32)},
		{"01 05", 5}, // not canonical, accepted like Ruby
	}
	for _, c := range cases {
		v, err := Decode(cat(hx("0408 69"), hx(c.hex)), nil)
		if err != nil || v != c.want {
			t.Errorf("i %s = %v, %v; want %d", c.hex, v, err, c.want)
		}
	}
}

func TestKeyMapping(t *testing.T) {
	cases := []struct{ name, hex, want, err string }{
		// "a" twice (Ruby keeps one key, the last value, first position).
		{"same string twice", "0408 7b 08 22 06 61 69 06 22 06 62 69 07 22 06 61 69 08", `{"a":3,"b":2}`, ""},
		{"string and symbol clash", "0408 7b 07 22 06 61 69 06 3a 06 61 69 07", "", "both map to"},
		{"integer and string clash", "0408 7b 07 69 06 30 22 06 31 30", "", "both map to"},
		{"nil key", "0408 7b 06 30 30", "", "hash key of type nil"},
		{"array key", "0408 7b 06 5b 00 30", "", "hash key of type Array"},
		{"binary key", "0408 7b 06 22 06 ff 30", "", "not plain text"},
		{"bignum key", "0408 7b 06 6c 2b 0a 0000000000000000 0100 30", `{"18446744073709551616":null}`, ""},
		{"struct member __class", "0408 53 3a 06 58 06 3a 0c 5f 5f 63 6c 61 73 73 69 06", `{"__class":1}`, ""},
	}
	for _, c := range cases {
		v, err := Decode(hx(c.hex), nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		out, err := ToJSON(v)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %s, %v; want error %q", c.name, out, err, c.err)
			}
			continue
		}
		if err != nil || string(out) != c.want {
			t.Errorf("%s: %s, %v; want %s", c.name, out, err, c.want)
		}
	}
}

func TestFloatText(t *testing.T) {
	cases := map[float64]string{
		0: "0.0", 1: "1.0", 2.5: "2.5", -2.25: "-2.25", 0.1: "0.1", 100: "100.0",
		1e15: "1000000000000000.0", 1e16: "1.0e+16", 1.5e16: "1.5e+16", 123456789.123456789: "123456789.12345679",
		0.0001: "0.0001", 0.00012: "0.00012", 1e-5: "1.0e-05", 1.25e-5: "1.25e-05",
		1e100: "1.0e+100", 1.7976931348623157e308: "1.7976931348623157e+308", 5e-324: "5.0e-324",
		9007199254740993: "9007199254740992.0",
	}
	for f, want := range cases {
		if got := string(appendRubyFloat(nil, f)); got != want {
			t.Errorf("%v: got %s, want %s", f, got, want)
		}
	}
}

// TestToJSONForeignValues: values that no Decode returns are errors.
func TestToJSONForeignValues(t *testing.T) {
	for _, v := range []Value{int(1), "go string", []string{"a"}, (*Hash)(nil), map[string]any{}} {
		if out, err := ToJSON(v); err == nil {
			t.Errorf("ToJSON(%#v) = %s, want an error", v, out)
		}
	}
	if out, err := ToJSON([]Value{String{Bytes: []byte("\x00\"\\\u2028é"), Encoding: "UTF-8"}}); err != nil || string(out) != `["\u0000\"\\\u2028é"]` {
		t.Errorf("escapes: %s %v", out, err)
	}
}

// TestPreallocationBounded: nested containers each declaring as many
// elements as the budget allows must not each get that much memory; the
// declared slots count against MaxObjects before they are read.
func TestPreallocationBounded(t *testing.T) {
	n := 90_000 // under DefaultMaxObjects, and under the bytes left
	var in []byte
	in = append(in, 4, 8)
	for i := 0; i < 60; i++ {
		in = append(in, '[', 3, byte(n), byte(n>>8), byte(n>>16))
	}
	in = append(in, bytes.Repeat([]byte{'0'}, DefaultMaxBytes-len(in))...)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Decode(in, nil)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("got %v, want ErrLimit", err)
	}
	// The input copy (1 MiB) plus one array of n values (1.4 MiB).
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %.1f MiB", float64(alloc)/(1<<20))
	if alloc > 4<<20 {
		t.Errorf("allocated %d MiB for a %d-byte input", alloc>>20, len(in))
	}
}
