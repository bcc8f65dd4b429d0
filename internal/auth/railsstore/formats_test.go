package railsstore

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Hand-checked constructions. The recorded vectors prove the formats the
// real stores write; these build each cache layout byte by byte from
// activesupport's source (cache.rb Rails70Coder for 7.0, cache/coder.rb for
// 7.1, Entry for 6.1) around a real Marshal session, to pin every field
// (expiry, version, type byte, compressed flag) and each way to be wrong.

// devise is the Marshal session redis-actionpack wrote in the vector
// redis_actionpack_devise (a Hash with no object links, so it can be
// embedded in a larger Marshal stream as it is).
func devise(tb testing.TB) (marshal []byte, sessionJSON []byte) {
	tb.Helper()
	for _, v := range readVectors(tb, "testdata/stores.jsonl") {
		if v.Name == "redis_actionpack_devise" {
			return v.value(tb), v.ExpectSession
		}
	}
	tb.Fatal("no redis_actionpack_devise vector")
	return nil, nil
}

// Minimal Marshal writers.

func mLong(n int) []byte {
	switch {
	case n == 0:
		return []byte{0}
	case n > 0 && n < 123:
		return []byte{byte(n + 5)}
	case n < 0 && n > -124:
		return []byte{byte(n - 5)}
	}
	var b []byte
	for i := 1; i <= 4; i++ {
		b = append(b, byte(n>>(8*(i-1))))
		if (n >= 0 && n>>(8*i) == 0) || (n < 0 && n>>(8*i) == -1) {
			if n < 0 {
				return append([]byte{byte(-i)}, b...)
			}
			return append([]byte{byte(i)}, b...)
		}
	}
	panic("long out of range")
}

func mSym(name string) []byte { return append(append([]byte{':'}, mLong(len(name))...), name...) }
func mBinary(b []byte) []byte { return append(append([]byte{'"'}, mLong(len(b))...), b...) }
func mFloat(f float64) []byte {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	return append(append([]byte{'f'}, mLong(len(s))...), s...)
}

// body strips the 04 08 header of a Marshal stream.
func body(m []byte) []byte { return m[2:] }

func marshal(parts ...[]byte) []byte {
	return append([]byte{4, 8}, bytes.Join(parts, nil)...)
}

func mArray(elems ...[]byte) []byte {
	return append(append([]byte{'['}, mLong(len(elems))...), bytes.Join(elems, nil)...)
}

// mEntry writes an ActiveSupport::Cache::Entry with the given ivars
// (name, value) in order.
func mEntry(ivars ...[]byte) []byte {
	b := append([]byte{'o'}, mSym("ActiveSupport::Cache::Entry")...)
	b = append(b, mLong(len(ivars)/2)...)
	return append(b, bytes.Join(ivars, nil)...)
}

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// cache71 writes the 7.1 header: "\x00\x11", type, float64 LE expires_at,
// int32 LE version length, then version and payload.
func cache71(typ byte, expiresAt float64, version string, payload []byte) []byte {
	b := []byte{0x00, 0x11, typ}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(expiresAt))
	vl := int32(-1)
	if version != "" {
		vl = int32(len(version))
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(vl))
	return append(append(b, version...), payload...)
}

func TestCacheFormatsByHand(t *testing.T) {
	sess, want := devise(t)
	nilV := []byte{'0'}
	trueV := []byte{'T'}
	for _, c := range []struct {
		name       string
		value      []byte
		format     Format
		compressed bool
		expiresAt  float64 // 0: none
	}{
		{"marshal", sess, FormatMarshal, false, 0},
		{"6.1 entry, no expiry", marshal(mEntry(
			mSym("@value"), body(sess), mSym("@version"), nilV,
			mSym("@created_at"), mFloat(1795629745.25), mSym("@expires_in"), nilV)), FormatCache61, false, 0},
		{"6.1 entry, expires_in", marshal(mEntry(
			mSym("@value"), body(sess), mSym("@version"), nilV,
			mSym("@created_at"), mFloat(1795629745.25), mSym("@expires_in"), mFloat(1800.0))), FormatCache61, false, 1795631545.25},
		{"6.1 entry as Rails 7.x writes it (created_at 0.0, absolute expires_in)", marshal(mEntry(
			mSym("@value"), body(sess), mSym("@version"), nilV,
			mSym("@created_at"), mFloat(0), mSym("@expires_in"), mFloat(1795631545.5))), FormatCache61, false, 1795631545.5},
		{"6.1 entry, compressed", marshal(mEntry(
			mSym("@value"), mBinary(deflate(sess)), mSym("@version"), nilV,
			mSym("@created_at"), mFloat(1795629745.25), mSym("@expires_in"), []byte{'i', 0x0a},
			mSym("@compressed"), trueV)), FormatCache61, true, 1795629750.25},
		{"7.0 [value]", append([]byte{0x00}, marshal(mArray(body(sess)))...), FormatCache70, false, 0},
		{"7.0 [value, expires_at]", append([]byte{0x00}, marshal(mArray(body(sess), mFloat(1795631545.5)))...), FormatCache70, false, 1795631545.5},
		{"7.0 [value, nil, version]", append([]byte{0x00}, marshal(mArray(body(sess), nilV, mBinary([]byte("v1"))))...), FormatCache70, false, 0},
		{"7.0 compressed", append([]byte{0x01}, deflate(marshal(mArray(body(sess), mFloat(1795631545.5))))...), FormatCache70, true, 1795631545.5},
		{"7.1 object", cache71(0x01, -1, "", sess), FormatCache71, false, 0},
		{"7.1 object, expiry and version", cache71(0x01, 1795631545.5, "v1", sess), FormatCache71, false, 1795631545.5},
		{"7.1 compressed", cache71(0x81, 1795631545.5, "", deflate(sess)), FormatCache71, true, 1795631545.5},
		{"7.1 compressed, Marshal'ed version", cache71(0x81, -1, string(marshal(mBinary([]byte("v\xff")))), deflate(sess)), FormatCache71, true, 0},
		{"7.1 version length -5 (read as none)", append(cache71(0x01, -1, "", nil)[:11], append([]byte{0xfb, 0xff, 0xff, 0xff}, sess...)...), FormatCache71, false, 0},
		{"json with spaces", []byte("  {\"user_id\": 7}\n"), FormatJSON, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, info, err := DecodeValueInfo(c.value)
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != c.format || info.Compressed != c.compressed {
				t.Errorf("info %+v, want format %s compressed %v", info, c.format, c.compressed)
			}
			if info.Expires != (c.expiresAt != 0) || (c.expiresAt != 0 && info.ExpiresAt != c.expiresAt) {
				t.Errorf("expiry %v at %v, want %v", info.Expires, info.ExpiresAt, c.expiresAt)
			}
			if c.format == FormatJSON {
				if string(got) != `{"user_id": 7}` {
					t.Errorf("JSON not as stored: %q", got)
				}
				return
			}
			assertJSON(t, got, want)
		})
	}
}

func TestDecodeValueRejects(t *testing.T) {
	sess, _ := devise(t)
	nilV := []byte{'0'}
	bomb := deflate(make([]byte, 16<<20)) // 16 MiB of zeros in ~16 KiB
	bombMarshal := deflate(append(marshal(mBinary(make([]byte, 4))), make([]byte, 16<<20)...))
	for _, c := range []struct {
		name  string
		value []byte
		kind  error
	}{
		{"empty", nil, ErrUnknownFormat},
		{"text", []byte("hello"), ErrUnknownFormat},
		{"JSON array", []byte("[1,2]"), ErrUnknownFormat},
		{"top-level MessagePack", []byte("\xcc\x80\x81\xa1a\x01"), ErrUnknownFormat},
		{"bad JSON", []byte(`{"user_id": `), ErrMalformed},
		{"too large", append([]byte("{"), make([]byte, MaxValueBytes)...), ErrLimit},
		{"truncated Marshal", sess[:len(sess)-3], ErrMalformed},
		{"Marshal with trailing bytes", append(append([]byte{}, sess...), 'x'), ErrMalformed},
		{"Marshal array", marshal(mArray([]byte{'i', 6})), ErrNotSession},
		{"Marshal cycle", []byte("\x04\x08{\x06I\"\x06a\x06:\x06ET[\x06@\x00"), ErrMalformed},
		{"6.1 entry without @value", marshal(mEntry(mSym("@version"), nilV)), ErrMalformed},
		{"6.1 entry holding a String", marshal(mEntry(mSym("@value"), mBinary([]byte("x")))), ErrNotSession},
		{"6.1 entry, non-numeric expiry", marshal(mEntry(mSym("@value"), body(sess), mSym("@expires_in"), mBinary([]byte("1")))), ErrMalformed},
		{"6.1 compressed, @value not a String", marshal(mEntry(mSym("@value"), body(sess), mSym("@compressed"), []byte{'T'})), ErrMalformed},
		{"6.1 compressed, bad zlib", marshal(mEntry(mSym("@value"), mBinary([]byte("not zlib")), mSym("@compressed"), []byte{'T'})), ErrMalformed},
		{"6.1 compressed, bad checksum", marshal(mEntry(mSym("@value"), mBinary(flipLast(deflate(sess))), mSym("@compressed"), []byte{'T'})), ErrMalformed},
		{"6.1 compressed bomb", marshal(mEntry(mSym("@value"), mBinary(bomb), mSym("@compressed"), []byte{'T'})), ErrLimit},
		{"7.0 compressed bomb", append([]byte{0x01}, bombMarshal...), ErrLimit},
		{"7.0 not Marshal", []byte("\x00{}"), ErrMalformed},
		{"7.0 empty array", append([]byte{0x00}, marshal(mArray())...), ErrMalformed},
		{"7.0 four members", append([]byte{0x00}, marshal(mArray(body(sess), nilV, nilV, nilV))...), ErrMalformed},
		{"7.0 not an array", append([]byte{0x00}, sess...), ErrMalformed},
		{"7.0 string expiry", append([]byte{0x00}, marshal(mArray(body(sess), mBinary([]byte("soon"))))...), ErrMalformed},
		{"7.1 truncated header", cache71(0x01, -1, "", nil)[:14], ErrMalformed},
		{"7.1 version longer than entry", append(cache71(0x01, -1, "", nil)[:11], 5, 0, 0, 0, 'v'), ErrMalformed},
		{"7.1 huge version length", append(cache71(0x01, -1, "", nil)[:11], 0xff, 0xff, 0xff, 0x7f), ErrMalformed},
		{"7.1 string type", cache71(0x02, -1, "", []byte("hello")), ErrNotSession},
		{"7.1 compressed string type", cache71(0x83, -1, "", deflate([]byte("hello"))), ErrNotSession},
		{"7.1 unknown type", cache71(0x05, -1, "", sess), ErrMalformed},
		{"7.1 MessagePack", cache71(0x01, -1, "", []byte("\xcc\x80\x81\xa7user_id\x2a")), ErrUnsupported},
		{"7.1 unknown payload", cache71(0x01, -1, "", []byte("{}")), ErrMalformed},
		{"7.1 compressed bomb", cache71(0x81, -1, "", bombMarshal), ErrLimit},
		{"7.1 compressed, bad zlib", cache71(0x81, -1, "", []byte("nope")), ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			got, err := DecodeValue(c.value)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, c.kind) {
				t.Fatalf("got %q, %v; want an error of kind %v", got, err, c.kind)
			}
			if strings.Contains(c.name, "bomb") {
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
					t.Errorf("a bomb cost %d bytes", alloc)
				}
				if elapsed > 2*time.Second {
					t.Errorf("a bomb took %v", elapsed)
				}
			}
		})
	}
}

func flipLast(b []byte) []byte {
	b = bytes.Clone(b)
	b[len(b)-1] ^= 1
	return b
}

func TestInfoExpiredAt(t *testing.T) {
	i := Info{Expires: true, ExpiresAt: 100}
	if i.ExpiredAt(99.5) || !i.ExpiredAt(100) || !i.ExpiredAt(101) {
		t.Error("expired? must be expires_at <= now, as in Entry#expired?")
	}
	if (Info{}).ExpiredAt(math.MaxFloat64) {
		t.Error("an entry without expiry expired")
	}
	// 7.1: a negative expires_at means none; NaN never expires.
	for _, at := range []float64{-1, math.NaN()} {
		_, info, err := DecodeValueInfo(cache71(0x01, at, "", []byte("\x04\x08{\x00")))
		if err != nil || info.Expires {
			t.Errorf("expires_at %v: %+v, %v", at, info, err)
		}
	}
}
