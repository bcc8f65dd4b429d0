package emitter

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// reader decodes msgpack from an in-memory payload with bounded work. The
// msgpack.Decoder reads type codes, numbers and length headers; bodies
// (str, bin, ext) are sliced from the payload here, after their declared
// length has been checked against the bytes left, so that a hostile
// length never causes a large allocation. Every array element and map
// entry takes at least one byte, so declared counts are checked the same
// way before anything is allocated.
type reader struct {
	buf        []byte
	r          *bytes.Reader
	d          *msgpack.Decoder
	containers int // arrays and maps read so far
}

func newReader(b []byte) *reader {
	r := bytes.NewReader(b)
	// bytes.Reader is an io.ByteScanner, so the Decoder reads from it
	// directly, without buffering ahead of what it decodes.
	return &reader{buf: b, r: r, d: msgpack.NewDecoder(r)}
}

// undefinedValue is notepack.io's "undefined" (fixext 1, type 0). It
// becomes nil in arrays and drops the entry in maps.
type undefinedValue struct{}

// malformed returns an error wrapping ErrMalformed.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// describe names a decoded value for an error message, briefly: numbers
// by value, anything else by type.
func describe(v any) string {
	var s string
	switch v.(type) {
	case int64, uint64, float64, json.Number:
		s = fmt.Sprint(v)
	default:
		s = fmt.Sprintf("%T", v)
	}
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return s
}

// wrap turns an error from the msgpack.Decoder into a malformed error.
func wrap(what string, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return malformed("%s: truncated", what)
	}
	return malformed("%s: %v", what, err)
}

func (m *reader) peek(what string) (byte, error) {
	c, err := m.d.PeekCode()
	if err != nil {
		return 0, wrap(what, err)
	}
	return c, nil
}

// done reports an error unless the whole payload has been read; notepack
// rejects trailing bytes too.
func (m *reader) done() error {
	if n := m.r.Len(); n > 0 {
		return malformed("%d trailing bytes", n)
	}
	return nil
}

// take returns the next n bytes of the payload, without copying.
func (m *reader) take(what string, n int) ([]byte, error) {
	if n < 0 || n > m.r.Len() {
		return nil, malformed("%s: length %d exceeds the %d bytes left", what, n, m.r.Len())
	}
	off := len(m.buf) - m.r.Len()
	if _, err := m.r.Seek(int64(n), io.SeekCurrent); err != nil {
		return nil, wrap(what, err)
	}
	return m.buf[off : off+n : off+n], nil
}

// container counts an array or map at level depth against MaxDepth and
// MaxContainers.
func (m *reader) container(what string, depth int) error {
	if depth > MaxDepth {
		return malformed("%s: nesting deeper than %d", what, MaxDepth)
	}
	if m.containers++; m.containers > MaxContainers {
		return malformed("%s: more than %d arrays and maps", what, MaxContainers)
	}
	return nil
}

// arrayLen reads an array header, returning -1 for nil.
func (m *reader) arrayLen(what string, depth int) (int, error) {
	c, err := m.peek(what)
	if err != nil {
		return 0, err
	}
	if c == msgpcode.Nil {
		_ = m.d.DecodeNil()
		return -1, nil
	}
	if !msgpcode.IsFixedArray(c) && c != msgpcode.Array16 && c != msgpcode.Array32 {
		return 0, malformed("%s: %s, want array", what, kind(c))
	}
	if err := m.container(what, depth); err != nil {
		return 0, err
	}
	n, err := m.d.DecodeArrayLen()
	if err != nil {
		return 0, wrap(what, err)
	}
	if n > m.r.Len() {
		return 0, malformed("%s: %d elements in %d bytes", what, n, m.r.Len())
	}
	return n, nil
}

// mapLen reads a map header, returning -1 for nil.
func (m *reader) mapLen(what string, depth int) (int, error) {
	c, err := m.peek(what)
	if err != nil {
		return 0, err
	}
	if c == msgpcode.Nil {
		_ = m.d.DecodeNil()
		return -1, nil
	}
	if !msgpcode.IsFixedMap(c) && c != msgpcode.Map16 && c != msgpcode.Map32 {
		return 0, malformed("%s: %s, want map", what, kind(c))
	}
	if err := m.container(what, depth); err != nil {
		return 0, err
	}
	n, err := m.d.DecodeMapLen()
	if err != nil {
		return 0, wrap(what, err)
	}
	if n > m.r.Len()/2 {
		return 0, malformed("%s: %d entries in %d bytes", what, n, m.r.Len())
	}
	return n, nil
}

// str reads a str value.
func (m *reader) str(what string) (string, error) {
	c, err := m.peek(what)
	if err != nil {
		return "", err
	}
	if !msgpcode.IsString(c) {
		return "", malformed("%s: %s, want string", what, kind(c))
	}
	b, err := m.body(what)
	return string(b), err
}

// body reads the header of a str or bin value and returns its bytes.
func (m *reader) body(what string) ([]byte, error) {
	n, err := m.d.DecodeBytesLen()
	if err != nil {
		return nil, wrap(what, err)
	}
	return m.take(what, n)
}

// bool reads a boolean, treating nil as false.
func (m *reader) bool(what string) (bool, error) {
	c, err := m.peek(what)
	if err != nil {
		return false, err
	}
	switch c {
	case msgpcode.Nil:
		return false, m.d.DecodeNil()
	case msgpcode.True, msgpcode.False:
		return m.d.DecodeBool()
	}
	return false, malformed("%s: %s, want boolean", what, kind(c))
}

// isInt reports whether c starts an integer.
func isInt(c byte) bool {
	if msgpcode.IsFixedNum(c) {
		return true
	}
	switch c {
	case msgpcode.Uint8, msgpcode.Uint16, msgpcode.Uint32, msgpcode.Uint64,
		msgpcode.Int8, msgpcode.Int16, msgpcode.Int32, msgpcode.Int64:
		return true
	}
	return false
}

// integer reads an integer as int64, or as uint64 above math.MaxInt64.
func (m *reader) integer(what string, c byte) (any, error) {
	if c == msgpcode.Uint64 {
		u, err := m.d.DecodeUint64()
		if err != nil {
			return nil, wrap(what, err)
		}
		if u > math.MaxInt64 {
			return u, nil
		}
		return int64(u), nil
	}
	i, err := m.d.DecodeInt64()
	if err != nil {
		return nil, wrap(what, err)
	}
	return i, nil
}

// value reads any value at nesting level depth (the level a container
// would open). It may return undefinedValue{}.
func (m *reader) value(what string, depth int) (any, error) {
	c, err := m.peek(what)
	if err != nil {
		return nil, err
	}
	switch {
	case isInt(c):
		return m.integer(what, c)
	case msgpcode.IsString(c):
		b, err := m.body(what)
		return string(b), err
	case msgpcode.IsBin(c):
		b, err := m.body(what)
		if err != nil {
			return nil, err
		}
		return append(make([]byte, 0, len(b)), b...), nil
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		return m.array(what, depth)
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		return m.object(what, depth)
	case msgpcode.IsExt(c):
		return m.ext(what, c, depth)
	}
	switch c {
	case msgpcode.Nil:
		return nil, m.d.DecodeNil()
	case msgpcode.True, msgpcode.False:
		return m.d.DecodeBool()
	case msgpcode.Float, msgpcode.Double:
		f, err := m.d.DecodeFloat64()
		if err != nil {
			return nil, wrap(what, err)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, nil // JSON.stringify(NaN) is null
		}
		return f, nil
	}
	return nil, malformed("%s: unknown msgpack code 0x%02x", what, c)
}

func (m *reader) array(what string, depth int) ([]any, error) {
	n, err := m.arrayLen(what, depth)
	if err != nil || n < 0 {
		return nil, err
	}
	a := make([]any, n)
	for i := range a {
		v, err := m.value(what, depth+1)
		if err != nil {
			return nil, err
		}
		if _, ok := v.(undefinedValue); !ok {
			a[i] = v
		}
	}
	return a, nil
}

func (m *reader) object(what string, depth int) (map[string]any, error) {
	n, err := m.mapLen(what, depth)
	if err != nil || n < 0 {
		return nil, err
	}
	o := make(map[string]any, min(n, 64))
	for range n {
		k, err := m.key(what)
		if err != nil {
			return nil, err
		}
		v, err := m.value(what, depth+1)
		if err != nil {
			return nil, err
		}
		if _, ok := v.(undefinedValue); ok {
			delete(o, k) // a later undefined hides an earlier value too
			continue
		}
		o[k] = v
	}
	return o, nil
}

// key reads a map key, converting it to a string as JavaScript converts
// property keys (notepack.io builds plain objects). Keys that would need
// JavaScript's number or array formatting are rejected.
func (m *reader) key(what string) (string, error) {
	c, err := m.peek(what)
	if err != nil {
		return "", err
	}
	switch {
	case msgpcode.IsString(c), msgpcode.IsBin(c):
		b, err := m.body(what)
		return string(b), err
	case isInt(c):
		v, err := m.integer(what, c)
		if err != nil {
			return "", err
		}
		return intString(v), nil
	}
	switch c {
	case msgpcode.Nil:
		return "null", m.d.DecodeNil()
	case msgpcode.True:
		return "true", m.d.Skip()
	case msgpcode.False:
		return "false", m.d.Skip()
	}
	return "", malformed("%s: %s map key", what, kind(c))
}

// intString formats an int64 or uint64.
func intString(v any) string {
	switch n := v.(type) {
	case int64:
		return strconv.FormatInt(n, 10)
	case uint64:
		return strconv.FormatUint(n, 10)
	}
	return ""
}

// ext decodes an extension value the way notepack.io 3 does. An unknown
// type becomes a two-element array at level depth.
func (m *reader) ext(what string, c byte, depth int) (any, error) {
	id, n, err := m.d.DecodeExtHeader()
	if err != nil {
		return nil, wrap(what, err)
	}
	b, err := m.take(what, n)
	if err != nil {
		return nil, err
	}
	switch {
	case id == -1: // the msgpack timestamp type: a JavaScript Date
		switch len(b) {
		case 4:
			s := binary.BigEndian.Uint32(b)
			return jsDate(float64(s) * 1e3), nil
		case 8:
			hi, lo := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
			s := float64(hi&3)*0x100000000 + float64(lo)
			return jsDate(s*1e3 + float64(hi>>2)/1e6), nil
		case 12:
			ns := binary.BigEndian.Uint32(b)
			hi, lo := int32(binary.BigEndian.Uint32(b[4:])), binary.BigEndian.Uint32(b[8:])
			s := float64(hi)*0x100000000 + float64(lo)
			return jsDate(s*1e3 + float64(ns)/1e6), nil
		}
		return nil, malformed("%s: timestamp of %d bytes", what, len(b))
	case id == 0 && c == msgpcode.FixExt1: // notepack's legacy undefined
		return undefinedValue{}, nil
	case id == 0 && c == msgpcode.FixExt8: // notepack's legacy Date: int64 ms
		hi, lo := int32(binary.BigEndian.Uint32(b)), binary.BigEndian.Uint32(b[4:])
		return jsDate(float64(hi)*0x100000000 + float64(lo)), nil
	case id == 0 && !msgpcode.IsFixedExt(c): // notepack's legacy ArrayBuffer
		return append(make([]byte, 0, len(b)), b...), nil
	}
	if err := m.container(what, depth); err != nil {
		return nil, err
	}
	return []any{int64(id), append(make([]byte, 0, len(b)), b...)}, nil
}

// maxJSTime is the largest distance from the epoch, in milliseconds, that
// a JavaScript Date can hold.
const maxJSTime = 8.64e15

// jsDate returns what JSON.stringify gives for new Date(ms): the
// toISOString form, or nil (null) for an invalid date.
func jsDate(ms float64) any {
	if math.IsNaN(ms) || math.Abs(ms) > maxJSTime {
		return nil
	}
	t := time.UnixMilli(int64(math.Trunc(ms))).UTC()
	const layout = "-01-02T15:04:05.000Z"
	switch y := t.Year(); {
	case y >= 0 && y <= 9999:
		return fmt.Sprintf("%04d", y) + t.Format(layout)
	case y < 0:
		return fmt.Sprintf("-%06d", -y) + t.Format(layout)
	default:
		return fmt.Sprintf("+%06d", y) + t.Format(layout)
	}
}

// skip reads and discards one value at nesting level depth, allocating
// nothing for it.
func (m *reader) skip(what string, depth int) error {
	c, err := m.peek(what)
	if err != nil {
		return err
	}
	switch {
	case msgpcode.IsString(c), msgpcode.IsBin(c):
		_, err := m.body(what)
		return err
	case msgpcode.IsExt(c):
		_, n, err := m.d.DecodeExtHeader()
		if err != nil {
			return wrap(what, err)
		}
		_, err = m.take(what, n)
		return err
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := m.arrayLen(what, depth)
		if err != nil {
			return err
		}
		for range n {
			if err := m.skip(what, depth+1); err != nil {
				return err
			}
		}
		return nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err := m.mapLen(what, depth)
		if err != nil {
			return err
		}
		for range 2 * n {
			if err := m.skip(what, depth+1); err != nil {
				return err
			}
		}
		return nil
	case c == 0xc1: // never used
		return malformed("%s: unknown msgpack code 0x%02x", what, c)
	}
	// Scalars: numbers, nil, booleans.
	if err := m.d.Skip(); err != nil {
		return wrap(what, err)
	}
	return nil
}

// kind names the type a msgpack code starts, for error messages.
func kind(c byte) string {
	switch {
	case isInt(c):
		return "integer"
	case msgpcode.IsString(c):
		return "string"
	case msgpcode.IsBin(c):
		return "binary"
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		return "array"
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		return "map"
	case msgpcode.IsExt(c):
		return "ext"
	}
	switch c {
	case msgpcode.Nil:
		return "nil"
	case msgpcode.True, msgpcode.False:
		return "boolean"
	case msgpcode.Float, msgpcode.Double:
		return "float"
	}
	return fmt.Sprintf("code 0x%02x", c)
}
