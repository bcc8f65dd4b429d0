package railscookie

import (
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/heraldrt/herald/internal/jsonstr"
)

// Rails 7.1's ActiveSupport::MessagePack serializer writes the signature
// 0xCC 0x80 (the msgpack uint8 128), then one msgpack value. Ruby types
// msgpack lacks travel as extension types (activesupport
// message_pack/extensions.rb). A "recursive" extension's payload is itself
// a sequence of msgpack values; the others hold raw bytes.
//
//	0 Symbol       the name (UTF-8)
//	1 Integer      outside int64/uint64: a sign byte (0 or 1), then the
//	               magnitude in big-endian uint32 chunks, least significant
//	               chunk first (msgpack-ruby lib/msgpack/bigint.rb)
//	2 BigDecimal   its _dump string
//	3 Rational     numerator, then denominator unless the numerator is 0
//	4 Complex      real, imaginary
//	5 DateTime     jd, hour, min, sec, sec_fraction and offset (each a
//	               Rational written as for type 3), all local
//	6 Date         jd
//	7 Time         tv_sec, tv_nsec, utc_offset
//	8 TimeWithZone the UTC time as for type 7, then the zone name
//	9 TimeZone     the name (raw bytes)
//	10 Duration    value, then [years, months, weeks, days, hours, minutes, seconds]
//	11 Range       begin, end, exclude_end
//	12 Set         an array of the members
//	13 URI         to_s (raw bytes)
//	14 IPAddr      "addr" or "addr/prefix" (7.1.0: to_s as raw bytes)
//	15 Pathname    to_s (raw bytes)
//	16 Regexp      to_s (raw bytes), loaded back with Regexp.new
//	17 HashWithIndifferentAccess  the hash
//	18 SafeBuffer  the string (since 7.1.x; 7.1.0 wrote a plain str)
//
// Each is mapped to the JSON Ruby's loaded value gets by README §1, so a
// MessagePack session reads the same as its Marshal twin: a Symbol is a
// string, HashWithIndifferentAccess and SafeBuffer are plain, a Time is
// {"__class":"Time",...} (its zone is lost in MessagePack: "zone" is null,
// "utc_offset" the written offset), BigDecimal/Rational/Complex/Date/
// DateTime/TimeWithZone/Range/Set/Regexp take their Marshal forms. A
// TimeWithZone's local time (the third marshal_dump element) is computed
// for "UTC" and for zone names Go's time.LoadLocation knows, else null.
// Types with no Marshal mapping (9, 10, 13, 14, 15) become
// {"__class": name, "msgpack": [the values the extension wrote]}.

// msgpackMaxDepth caps nesting (arrays, maps and extensions).
const msgpackMaxDepth = 100

type mpReader struct {
	b   []byte
	off int
	out []byte
}

// messagePackToJSON maps one ActiveSupport::MessagePack value (after the
// signature) to JSON.
func messagePackToJSON(b []byte) ([]byte, error) {
	r := &mpReader{b: b, out: make([]byte, 0, 2*len(b)+16)}
	if err := r.value(0); err != nil {
		return nil, err
	}
	if r.off != len(r.b) {
		return nil, malformed("message_pack: %d trailing bytes", len(r.b)-r.off)
	}
	return r.out, nil
}

func mpTruncated() error { return malformed("message_pack: truncated") }

func (r *mpReader) left() int { return len(r.b) - r.off }

func (r *mpReader) take(n int) ([]byte, error) {
	if n < 0 || n > r.left() {
		return nil, mpTruncated()
	}
	p := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return p, nil
}

func (r *mpReader) uintN(n int) (uint64, error) {
	p, err := r.take(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range p {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// mpKind is what header() found.
type mpKind int

const (
	mpNil mpKind = iota
	mpBool
	mpInt  // ival
	mpUint // uval > MaxInt64
	mpFloat
	mpStr // body
	mpBin // body
	mpArray
	mpMap
	mpExt // ext, body
)

type mpHeader struct {
	kind mpKind
	b    bool
	ival int64
	uval uint64
	f    float64
	n    int // array/map count
	ext  int8
	body []byte
}

// header reads one value's header, and the body of scalars.
func (r *mpReader) header() (h mpHeader, err error) {
	if r.left() == 0 {
		return h, mpTruncated()
	}
	c := r.b[r.off]
	r.off++
	var n uint64
	switch {
	case c <= 0x7f:
		return mpHeader{kind: mpInt, ival: int64(c)}, nil
	case c >= 0xe0:
		return mpHeader{kind: mpInt, ival: int64(int8(c))}, nil
	case c >= 0x80 && c <= 0x8f:
		return r.container(mpMap, uint64(c&0x0f))
	case c >= 0x90 && c <= 0x9f:
		return r.container(mpArray, uint64(c&0x0f))
	case c >= 0xa0 && c <= 0xbf:
		return r.body(mpStr, uint64(c&0x1f), 0)
	}
	switch c {
	case 0xc0:
		return mpHeader{kind: mpNil}, nil
	case 0xc2, 0xc3:
		return mpHeader{kind: mpBool, b: c == 0xc3}, nil
	case 0xc4, 0xc5, 0xc6: // bin 8/16/32
		if n, err = r.uintN(1 << (c - 0xc4)); err != nil {
			return h, err
		}
		return r.body(mpBin, n, 0)
	case 0xc7, 0xc8, 0xc9: // ext 8/16/32
		if n, err = r.uintN(1 << (c - 0xc7)); err != nil {
			return h, err
		}
		t, err := r.take(1)
		if err != nil {
			return h, err
		}
		return r.body(mpExt, n, int8(t[0]))
	case 0xca:
		v, err := r.uintN(4)
		return mpHeader{kind: mpFloat, f: float64(math.Float32frombits(uint32(v)))}, err
	case 0xcb:
		v, err := r.uintN(8)
		return mpHeader{kind: mpFloat, f: math.Float64frombits(v)}, err
	case 0xcc, 0xcd, 0xce, 0xcf: // uint 8/16/32/64
		v, err := r.uintN(1 << (c - 0xcc))
		if v > math.MaxInt64 {
			return mpHeader{kind: mpUint, uval: v}, err
		}
		return mpHeader{kind: mpInt, ival: int64(v)}, err
	case 0xd0, 0xd1, 0xd2, 0xd3: // int 8/16/32/64
		size := 1 << (c - 0xd0)
		v, err := r.uintN(size)
		shift := 64 - 8*size
		return mpHeader{kind: mpInt, ival: int64(v<<shift) >> shift}, err
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1/2/4/8/16
		t, err := r.take(1)
		if err != nil {
			return h, err
		}
		return r.body(mpExt, 1<<(c-0xd4), int8(t[0]))
	case 0xd9, 0xda, 0xdb: // str 8/16/32
		if n, err = r.uintN(1 << (c - 0xd9)); err != nil {
			return h, err
		}
		return r.body(mpStr, n, 0)
	case 0xdc, 0xdd: // array 16/32
		if n, err = r.uintN(2 << (c - 0xdc)); err != nil {
			return h, err
		}
		return r.container(mpArray, n)
	case 0xde, 0xdf: // map 16/32
		if n, err = r.uintN(2 << (c - 0xde)); err != nil {
			return h, err
		}
		return r.container(mpMap, n)
	}
	return h, malformed("message_pack: invalid type byte 0x%02x", c)
}

func (r *mpReader) body(kind mpKind, n uint64, ext int8) (mpHeader, error) {
	if n > uint64(r.left()) {
		return mpHeader{}, mpTruncated()
	}
	p, _ := r.take(int(n))
	return mpHeader{kind: kind, body: p, ext: ext}, nil
}

// container checks a declared count against the bytes left: every element
// takes at least one byte, so a hostile count fails here, before any loop.
func (r *mpReader) container(kind mpKind, n uint64) (mpHeader, error) {
	per := uint64(1)
	if kind == mpMap {
		per = 2
	}
	if n > uint64(r.left())/per {
		return mpHeader{}, mpTruncated()
	}
	return mpHeader{kind: kind, n: int(n)}, nil
}

// value reads one value and appends its JSON mapping.
func (r *mpReader) value(depth int) error {
	if depth > msgpackMaxDepth {
		return malformed("message_pack: nested deeper than %d", msgpackMaxDepth)
	}
	h, err := r.header()
	if err != nil {
		return err
	}
	switch h.kind {
	case mpNil:
		r.out = append(r.out, "null"...)
	case mpBool:
		r.out = strconv.AppendBool(r.out, h.b)
	case mpInt:
		r.out = strconv.AppendInt(r.out, h.ival, 10)
	case mpUint:
		r.out = append(r.out, `{"__integer":"`...)
		r.out = strconv.AppendUint(r.out, h.uval, 10)
		r.out = append(r.out, `"}`...)
	case mpFloat:
		r.out = appendRubyFloat(r.out, h.f)
	case mpStr:
		r.out = appendRubyString(r.out, h.body, "UTF-8")
	case mpBin:
		r.out = appendRubyString(r.out, h.body, "ASCII-8BIT")
	case mpArray:
		r.out = append(r.out, '[')
		for i := 0; i < h.n; i++ {
			if i > 0 {
				r.out = append(r.out, ',')
			}
			if err := r.value(depth + 1); err != nil {
				return err
			}
		}
		r.out = append(r.out, ']')
	case mpMap:
		return r.mapBody(h.n, depth)
	case mpExt:
		return r.ext(h.ext, h.body, depth)
	}
	return nil
}

func (r *mpReader) mapBody(n, depth int) error {
	r.out = append(r.out, '{')
	for i := 0; i < n; i++ {
		if i > 0 {
			r.out = append(r.out, ',')
		}
		if err := r.key(); err != nil {
			return err
		}
		r.out = append(r.out, ':')
		if err := r.value(depth + 1); err != nil {
			return err
		}
	}
	r.out = append(r.out, '}')
	return nil
}

// key appends a hash key as a JSON string: Strings and Symbols become their
// text, Integers their decimal text; nothing else has a mapping.
func (r *mpReader) key() error {
	h, err := r.header()
	if err != nil {
		return err
	}
	switch {
	case h.kind == mpInt:
		r.out = append(r.out, '"')
		r.out = strconv.AppendInt(r.out, h.ival, 10)
		r.out = append(r.out, '"')
	case h.kind == mpUint:
		r.out = append(r.out, '"')
		r.out = strconv.AppendUint(r.out, h.uval, 10)
		r.out = append(r.out, '"')
	case h.kind == mpExt && h.ext == 1:
		v, err := bigintExt(h.body)
		if err != nil {
			return err
		}
		r.out = jsonstr.Append(r.out, v.String())
	case h.kind == mpStr || h.kind == mpBin || (h.kind == mpExt && h.ext == 0):
		if !utf8.Valid(h.body) {
			return unsupported("message_pack: a hash key is not valid UTF-8")
		}
		r.out = jsonstr.Append(r.out, string(h.body))
	default:
		return unsupported("message_pack: a hash key is not a string, symbol or integer")
	}
	return nil
}

// sub reads the values of a recursive extension's payload.
type subReader struct {
	*mpReader
	depth int
	what  string
}

func (r *mpReader) sub(payload []byte, depth int, what string) subReader {
	return subReader{&mpReader{b: payload, out: r.out}, depth, what}
}

// next appends the payload's next value to the output.
func (s subReader) next() error {
	if s.off >= len(s.b) {
		return malformed("message_pack: %s extension is short", s.what)
	}
	return s.value(s.depth + 1)
}

// int reads an integer (native or type 1) from the payload.
func (s subReader) int() (*big.Int, error) {
	h, err := s.header()
	if err != nil {
		return nil, err
	}
	switch {
	case h.kind == mpInt:
		return big.NewInt(h.ival), nil
	case h.kind == mpUint:
		return new(big.Int).SetUint64(h.uval), nil
	case h.kind == mpExt && h.ext == 1:
		return bigintExt(h.body)
	}
	return nil, malformed("message_pack: %s extension holds a non-integer", s.what)
}

func (s subReader) int64() (int64, error) {
	v, err := s.int()
	if err != nil {
		return 0, err
	}
	if !v.IsInt64() {
		return 0, malformed("message_pack: %s extension: integer out of range", s.what)
	}
	return v.Int64(), nil
}

// rational reads a Rational as write_rational writes it.
func (s subReader) rational() (*big.Rat, error) {
	n, err := s.int()
	if err != nil {
		return nil, err
	}
	if n.Sign() == 0 {
		return new(big.Rat), nil
	}
	d, err := s.int()
	if err != nil {
		return nil, err
	}
	if d.Sign() == 0 {
		return nil, malformed("message_pack: %s extension: zero denominator", s.what)
	}
	return new(big.Rat).SetFrac(n, d), nil
}

// end takes back the output and checks the payload was used up.
func (s subReader) end(r *mpReader) error {
	r.out = s.out
	if s.off != len(s.b) {
		return malformed("message_pack: %s extension has %d extra bytes", s.what, len(s.b)-s.off)
	}
	return nil
}

func (r *mpReader) ext(typ int8, p []byte, depth int) error {
	if depth+1 > msgpackMaxDepth {
		return malformed("message_pack: nested deeper than %d", msgpackMaxDepth)
	}
	switch typ {
	case 0: // Symbol; msgpack-ruby falls back to a binary symbol for invalid UTF-8
		if utf8.Valid(p) {
			r.out = jsonstr.Append(r.out, string(p))
		} else {
			r.out = appendRubyString(r.out, p, "ASCII-8BIT")
		}
		return nil
	case 1:
		v, err := bigintExt(p)
		if err != nil {
			return err
		}
		r.out = appendBigInt(r.out, v)
		return nil
	case 2:
		r.out = append(r.out, `{"__class":"BigDecimal","_dump":`...)
		r.out = appendRubyString(r.out, p, "ASCII-8BIT")
		r.out = append(r.out, '}')
		return nil
	case 3:
		s := r.sub(p, depth, "Rational")
		q, err := s.rational()
		if err != nil {
			return err
		}
		s.out = appendMarshalDump(s.out, "Rational", func(b []byte) []byte {
			b = appendBigInt(b, q.Num())
			b = append(b, ',')
			return appendBigInt(b, q.Denom())
		})
		return s.end(r)
	case 4:
		s := r.sub(p, depth, "Complex")
		s.out = append(s.out, `{"__class":"Complex","marshal_dump":[`...)
		if err := s.next(); err != nil {
			return err
		}
		s.out = append(s.out, ',')
		if err := s.next(); err != nil {
			return err
		}
		s.out = append(s.out, "]}"...)
		return s.end(r)
	case 5:
		return r.dateTime(p, depth)
	case 6:
		s := r.sub(p, depth, "Date")
		jd, err := s.int()
		if err != nil {
			return err
		}
		nth, rjd := splitJD(jd)
		s.out = appendMarshalDump(s.out, "Date", func(b []byte) []byte {
			b = appendBigInt(b, nth)
			b = append(b, ',')
			b = appendBigInt(b, rjd)
			return append(b, ",0,0,0,2299161.0"...)
		})
		return s.end(r)
	case 7:
		s := r.sub(p, depth, "Time")
		t, off, err := s.time()
		if err != nil {
			return err
		}
		s.out = appendTime(s.out, t, off, "")
		return s.end(r)
	case 8:
		return r.timeWithZone(p, depth)
	case 9, 13, 15:
		name := map[int8]string{9: "ActiveSupport::TimeZone", 13: "URI", 15: "Pathname"}[typ]
		r.out = append(r.out, `{"__class":`...)
		r.out = jsonstr.Append(r.out, name)
		r.out = append(r.out, `,"msgpack":[`...)
		r.out = appendRubyString(r.out, p, "UTF-8")
		r.out = append(r.out, "]}"...)
		return nil
	case 14:
		// Rails 7.1.0 wrote IPAddr#to_s as raw bytes; later versions write
		// a msgpack string (with the prefix when there is one). An address
		// never starts with a str header byte, so the two cannot be confused.
		if len(p) == 0 || !(p[0] >= 0xa0 && p[0] <= 0xbf || p[0] >= 0xd9 && p[0] <= 0xdb) {
			r.out = append(r.out, `{"__class":"IPAddr","msgpack":[`...)
			r.out = appendRubyString(r.out, p, "UTF-8")
			r.out = append(r.out, "]}"...)
			return nil
		}
		fallthrough
	case 10:
		name, count := "ActiveSupport::Duration", 2
		if typ == 14 {
			name, count = "IPAddr", 1
		}
		s := r.sub(p, depth, name)
		s.out = append(s.out, `{"__class":`...)
		s.out = jsonstr.Append(s.out, name)
		s.out = append(s.out, `,"msgpack":[`...)
		for i := 0; i < count; i++ {
			if i > 0 {
				s.out = append(s.out, ',')
			}
			if err := s.next(); err != nil {
				return err
			}
		}
		s.out = append(s.out, "]}"...)
		return s.end(r)
	case 11: // Marshal writes a Range as an object with ivars excl, begin, end
		s := r.sub(p, depth, "Range")
		var begin, end []byte
		for _, dst := range []*[]byte{&begin, &end} {
			start := len(s.out)
			if err := s.next(); err != nil {
				return err
			}
			*dst = append([]byte(nil), s.out[start:]...)
			s.out = s.out[:start]
		}
		h, err := s.header()
		if err != nil {
			return err
		}
		if h.kind != mpBool && h.kind != mpNil {
			return malformed("message_pack: Range extension: exclude_end is not a boolean")
		}
		s.out = append(s.out, `{"__class":"Range","excl":`...)
		s.out = strconv.AppendBool(s.out, h.b)
		s.out = append(s.out, `,"begin":`...)
		s.out = append(s.out, begin...)
		s.out = append(s.out, `,"end":`...)
		s.out = append(s.out, end...)
		s.out = append(s.out, '}')
		return s.end(r)
	case 12: // Ruby 3.x Marshal: a Set is an object whose @hash maps each member to true
		s := r.sub(p, depth, "Set")
		h, err := s.header()
		if err != nil {
			return err
		}
		if h.kind != mpArray {
			return malformed("message_pack: Set extension does not hold an array")
		}
		s.out = append(s.out, `{"__class":"Set","@hash":{`...)
		for i := 0; i < h.n; i++ {
			if i > 0 {
				s.out = append(s.out, ',')
			}
			if err := s.key(); err != nil {
				return err
			}
			s.out = append(s.out, ":true"...)
		}
		s.out = append(s.out, "}}"...)
		return s.end(r)
	case 16: // Regexp.new(to_s): the loaded source is the whole to_s text, options 0
		r.out = append(r.out, `{"__class":"Regexp","source":`...)
		r.out = appendRubyString(r.out, p, "UTF-8")
		r.out = append(r.out, `,"options":0}`...)
		return nil
	case 17, 18: // HashWithIndifferentAccess, SafeBuffer: the wrapped value
		s := r.sub(p, depth, "HashWithIndifferentAccess")
		if typ == 18 {
			s.what = "SafeBuffer"
		}
		if err := s.next(); err != nil {
			return err
		}
		return s.end(r)
	}
	return unsupported("message_pack: extension type %d", typ)
}

// bigintExt decodes extension type 1.
func bigintExt(p []byte) (*big.Int, error) {
	if len(p) == 0 || (len(p)-1)%4 != 0 {
		return nil, malformed("message_pack: Integer extension is %d bytes", len(p))
	}
	chunks := p[1:]
	mag := make([]byte, len(chunks)) // big-endian magnitude
	for i := 0; i < len(chunks)/4; i++ {
		copy(mag[len(mag)-4*(i+1):], chunks[4*i:4*i+4])
	}
	v := new(big.Int).SetBytes(mag)
	if p[0] != 0 {
		v.Neg(v)
	}
	return v, nil
}

// appendBigInt appends an Integer: a JSON number inside int64, else
// {"__integer": "<decimal>"}.
func appendBigInt(b []byte, v *big.Int) []byte {
	if v.IsInt64() {
		return strconv.AppendInt(b, v.Int64(), 10)
	}
	b = append(b, `{"__integer":"`...)
	b = v.Append(b, 10)
	return append(b, `"}`...)
}

func appendMarshalDump(b []byte, class string, elems func([]byte) []byte) []byte {
	b = append(b, `{"__class":`...)
	b = jsonstr.Append(b, class)
	b = append(b, `,"marshal_dump":[`...)
	b = elems(b)
	return append(b, "]}"...)
}

// appendTime appends README §1's Time mapping: the instant in UTC with 9
// fraction digits, utc_offset and zone ("" is null).
func appendTime(b []byte, t time.Time, offset int64, zone string) []byte {
	b = append(b, `{"__class":"Time","utc":"`...)
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000000Z")
	b = append(b, `","utc_offset":`...)
	b = strconv.AppendInt(b, offset, 10)
	b = append(b, `,"zone":`...)
	if zone == "" {
		b = append(b, "null"...)
	} else {
		b = jsonstr.Append(b, zone)
	}
	return append(b, '}')
}

// time reads type 7's fields: Time.at(sec, nsec, :nanosecond, in: offset).
// Such a Time is never utc?, so its utc_offset is the offset and its zone
// nil.
func (s subReader) time() (time.Time, int64, error) {
	sec, err := s.int64()
	if err != nil {
		return time.Time{}, 0, err
	}
	nsec, err := s.int64()
	if err != nil {
		return time.Time{}, 0, err
	}
	off, err := s.int64()
	if err != nil {
		return time.Time{}, 0, err
	}
	// Ruby's Time spans any year; keep to what Go formats as Ruby does.
	const maxSec = 253402300799 // 9999-12-31T23:59:59Z
	if nsec < 0 || nsec > 999999999 || sec < -62135596800 || sec > maxSec || off <= -86400 || off >= 86400 {
		return time.Time{}, 0, malformed("message_pack: %s extension: time out of range", s.what)
	}
	return time.Unix(sec, nsec), off, nil
}

// timeWithZone maps type 8 to TimeWithZone's marshal_dump, [utc, zone
// name, local], where both Times are UTC-flagged (Rails 7.1+) and local is
// the wall clock in the zone.
func (r *mpReader) timeWithZone(p []byte, depth int) error {
	s := r.sub(p, depth, "TimeWithZone")
	t, _, err := s.time()
	if err != nil {
		return err
	}
	h, err := s.header()
	if err != nil {
		return err
	}
	if h.kind != mpStr && h.kind != mpBin {
		return malformed("message_pack: TimeWithZone extension: zone name is not a string")
	}
	name := string(h.body)
	s.out = append(s.out, `{"__class":"ActiveSupport::TimeWithZone","marshal_dump":[`...)
	s.out = appendTime(s.out, t, 0, "UTC")
	s.out = append(s.out, ',')
	s.out = appendRubyString(s.out, h.body, "UTF-8")
	s.out = append(s.out, ',')
	if loc := zoneLocation(name); loc != nil {
		_, offset := t.In(loc).Zone()
		s.out = appendTime(s.out, t.Add(time.Duration(offset)*time.Second), 0, "UTC")
	} else {
		s.out = append(s.out, "null"...)
	}
	s.out = append(s.out, "]}"...)
	return s.end(r)
}

func zoneLocation(name string) *time.Location {
	switch name {
	case "UTC", "Etc/UTC":
		return time.UTC
	case "", "Local":
		return nil
	}
	if !utf8.ValidString(name) {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	return loc
}

// splitJD splits a Julian day number as Ruby's Date does in marshal_dump:
// nth periods of 213447717 days, and the day within the period.
func splitJD(jd *big.Int) (nth, rjd *big.Int) {
	const period = 213447717 // CM_PERIOD in ext/date/date_core.c
	nth, rjd = new(big.Int), new(big.Int)
	nth.DivMod(jd, big.NewInt(period), rjd) // Euclidean: 0 <= rjd < period
	return nth, rjd
}

// dateTime maps type 5 to DateTime's marshal_dump [nth, jd, df, sf, of,
// sg]: jd and df (seconds into the day) in UTC, sf the second's fraction in
// nanoseconds, of the offset in seconds, sg Date::ITALY.
func (r *mpReader) dateTime(p []byte, depth int) error {
	s := r.sub(p, depth, "DateTime")
	var f [4]int64 // jd, hour, min, sec
	for i := range f {
		v, err := s.int64()
		if err != nil {
			return err
		}
		f[i] = v
	}
	frac, err := s.rational()
	if err != nil {
		return err
	}
	offDay, err := s.rational()
	if err != nil {
		return err
	}
	jd, hour, minute, sec := f[0], f[1], f[2], f[3]
	offSec := new(big.Rat).Mul(offDay, big.NewRat(86400, 1))
	if hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 ||
		jd < -1<<40 || jd > 1<<40 || frac.Sign() < 0 || frac.Cmp(big.NewRat(1, 1)) >= 0 ||
		!offSec.IsInt() || offSec.Num().CmpAbs(big.NewInt(86400)) > 0 {
		return malformed("message_pack: DateTime extension: field out of range")
	}
	of := offSec.Num().Int64()
	utc := hour*3600 + minute*60 + sec - of
	day := utc / 86400
	if utc%86400 < 0 {
		day--
	}
	df := utc - day*86400
	nth, rjd := splitJD(big.NewInt(jd + day))
	sf := new(big.Rat).Mul(frac, big.NewRat(1_000_000_000, 1))
	s.out = appendMarshalDump(s.out, "DateTime", func(b []byte) []byte {
		b = appendBigInt(b, nth)
		b = append(b, ',')
		b = appendBigInt(b, rjd)
		b = append(b, ',')
		b = strconv.AppendInt(b, df, 10)
		b = append(b, ',')
		if sf.IsInt() {
			b = appendBigInt(b, sf.Num())
		} else {
			b = appendMarshalDump(b, "Rational", func(b []byte) []byte {
				b = appendBigInt(b, sf.Num())
				b = append(b, ',')
				return appendBigInt(b, sf.Denom())
			})
		}
		b = append(b, ',')
		b = strconv.AppendInt(b, of, 10)
		return append(b, ",2299161.0"...)
	})
	return s.end(r)
}
