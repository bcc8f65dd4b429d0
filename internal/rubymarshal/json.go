package rubymarshal

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heraldrt/herald/internal/jsonstr"
)

// Bounds on ToJSON's work. Object links let a small input describe a value
// whose JSON is exponentially large (each level an array holding the
// previous one twice), so the output is capped as well as the input.
const (
	MaxJSONBytes = 16 << 20
	MaxJSONDepth = 1000
)

// ToJSON writes v as JSON following the mapping of the project's Rails test
// vectors (shared/testdata/rails/README.md §1):
//
//   - nil, true, false as themselves; Integers in int64 as numbers, others as
//     {"__integer": "<digits>"}.
//   - Floats as Ruby's Float#to_s writes them ("2.0", "1.0e+100", "-0.0");
//     NaN and ±Infinity as {"__float": "nan" | "inf" | "-inf"}.
//   - Strings and Symbols in UTF-8, US-ASCII or ASCII-8BIT whose bytes are
//     valid UTF-8 as JSON strings; any other as
//     {"__bytes": "<hex>", "encoding": "<name>"}.
//   - Arrays as arrays; Hashes (the default value left out) as objects
//     keyed by the String or Symbol text, or an Integer's decimal text.
//   - "C" and "e" wrappers as the value they wrap.
//   - Objects as {"__class": name, "@ivar": value, ...}; Structs likewise
//     with member names; Time as {"__class":"Time", "utc":
//     "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ", "utc_offset": n, "zone": s|null};
//     other "u" objects as {"__class": name, "_dump": string}; "U" objects
//     as {"__class": name, "marshal_dump": value}; Regexp as
//     {"__class":"Regexp","source": s,"options": n}; class and module
//     references as {"__class":"Class"|"Module","name": s}.
//
// A link repeats the linked value in full. ToJSON returns an error, never
// recursing forever, for a cycle, for nesting deeper than MaxJSONDepth, for
// output beyond MaxJSONBytes, for a Hash key that is not a String, Symbol or
// Integer (or whose text is not valid UTF-8), and for two different keys
// with the same text. Keys Ruby itself treats as equal collapse as in a
// Ruby Hash: the last value, at the first key's position.
func ToJSON(v Value) ([]byte, error) {
	return toJSON(v, MaxJSONBytes)
}

func toJSON(v Value, maxBytes int) ([]byte, error) {
	e := encoder{onPath: make(map[any]struct{}), maxBytes: maxBytes}
	if err := e.value(v); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// JSONError is an error from ToJSON: what could not be written, and where
// in the value (a path such as `$["flash"][0]`).
type JSONError struct {
	Path string
	Msg  string
}

func (e *JSONError) Error() string {
	return fmt.Sprintf("rubymarshal: cannot write JSON at %s: %s", e.Path, e.Msg)
}

// jsonErr collects the path while unwinding; segments are in reverse.
type jsonErr struct {
	rev []string
	msg string
}

func (e *jsonErr) Error() string { return e.msg }

func (e *jsonErr) public() *JSONError {
	var b strings.Builder
	b.WriteString("$")
	for i := len(e.rev) - 1; i >= 0; i-- {
		b.WriteString(e.rev[i])
	}
	return &JSONError{Path: b.String(), Msg: e.msg}
}

type encoder struct {
	buf      []byte
	onPath   map[any]struct{}
	depth    int
	maxBytes int
}

func (e *encoder) value(v Value) error {
	err := e.val(v)
	if je, ok := err.(*jsonErr); ok {
		return je.public()
	}
	return err
}

func fail(format string, args ...any) error {
	return &jsonErr{msg: fmt.Sprintf(format, args...)}
}

// at adds a path segment to an error coming up from a child.
func at(err error, seg string) error {
	if je, ok := err.(*jsonErr); ok {
		je.rev = append(je.rev, seg)
	}
	return err
}

func (e *encoder) enter(key any) error {
	if _, ok := e.onPath[key]; ok {
		return fail("cycle: the value contains itself through an object link")
	}
	e.onPath[key] = struct{}{}
	return nil
}

func (e *encoder) val(v Value) error {
	if len(e.buf) > e.maxBytes {
		return fail("output larger than %d bytes (MaxJSONBytes)", e.maxBytes)
	}
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > MaxJSONDepth {
		return fail("nesting deeper than %d (MaxJSONDepth)", MaxJSONDepth)
	}
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case *big.Int:
		if x == nil {
			return fail("nil *big.Int")
		}
		if x.IsInt64() {
			e.buf = strconv.AppendInt(e.buf, x.Int64(), 10)
		} else {
			e.buf = append(e.buf, `{"__integer":"`...)
			e.buf = x.Append(e.buf, 10)
			e.buf = append(e.buf, `"}`...)
		}
	case float64:
		e.float(x)
	case String:
		e.str(x.Bytes, x.Encoding)
	case Symbol:
		e.str([]byte(x.Name), x.Encoding)
	case []Value:
		if len(x) == 0 {
			e.buf = append(e.buf, "[]"...)
			return nil
		}
		key := &x[0]
		if err := e.enter(key); err != nil {
			return err
		}
		defer delete(e.onPath, key)
		e.buf = append(e.buf, '[')
		for i, el := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.val(el); err != nil {
				return at(err, "["+strconv.Itoa(i)+"]")
			}
		}
		e.buf = append(e.buf, ']')
	case *Hash:
		if x == nil {
			return fail("nil *Hash")
		}
		if err := e.enter(x); err != nil {
			return err
		}
		defer delete(e.onPath, x)
		return e.hash(x)
	case *Object:
		if x == nil {
			return fail("nil *Object")
		}
		if err := e.enter(x); err != nil {
			return err
		}
		defer delete(e.onPath, x)
		return e.record(x.Class, x.Ivars)
	case *Struct:
		if x == nil {
			return fail("nil *Struct")
		}
		if err := e.enter(x); err != nil {
			return err
		}
		defer delete(e.onPath, x)
		return e.record(x.Class, x.Members)
	case *UserMarshal:
		if x == nil {
			return fail("nil *UserMarshal")
		}
		if err := e.enter(x); err != nil {
			return err
		}
		defer delete(e.onPath, x)
		return e.record(x.Class, []Field{{Name: "marshal_dump", Value: x.Data}})
	case UserDefined:
		return e.record(x.Class, []Field{{Name: "_dump", Value: x.Dump}})
	case UserClass:
		return e.val(x.Value)
	case Extended:
		return e.val(x.Value)
	case Time:
		e.time(x)
	case Regexp:
		return e.record("Regexp", []Field{{Name: "source", Value: x.Source}, {Name: "options", Value: int64(x.Options)}})
	case ClassRef:
		return e.record("Class", []Field{{Name: "name", Value: String{Bytes: []byte(x.Name), Encoding: "UTF-8"}}})
	case ModuleRef:
		return e.record("Module", []Field{{Name: "name", Value: String{Bytes: []byte(x.Name), Encoding: "UTF-8"}}})
	default:
		return fail("%T is not a rubymarshal Value", v)
	}
	return nil
}

// record writes {"__class": class, field: value, ...}. A field named
// "__class" (a Struct member, say) replaces the class, and a repeated
// field name keeps its first position with its last value, as Ruby's
// mapping into a Hash does.
func (e *encoder) record(class string, fields []Field) error {
	if !utf8.ValidString(class) {
		return fail("class name %q is not valid UTF-8", class)
	}
	keys := make([]string, 0, len(fields)+1)
	vals := make([]Value, 0, len(fields)+1)
	pos := make(map[string]int, len(fields)+1)
	keys = append(keys, "__class")
	vals = append(vals, String{Bytes: []byte(class), Encoding: "UTF-8"})
	pos["__class"] = 0
	for _, f := range fields {
		if !utf8.ValidString(f.Name) {
			return fail("name %q is not valid UTF-8", f.Name)
		}
		if i, ok := pos[f.Name]; ok {
			vals[i] = f.Value
			continue
		}
		pos[f.Name] = len(keys)
		keys = append(keys, f.Name)
		vals = append(vals, f.Value)
	}
	return e.object(keys, vals)
}

func (e *encoder) object(keys []string, vals []Value) error {
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.quote(k)
		e.buf = append(e.buf, ':')
		if err := e.val(vals[i]); err != nil {
			return at(err, "["+strconv.Quote(k)+"]")
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

func (e *encoder) hash(h *Hash) error {
	keys := make([]string, 0, len(h.Pairs))
	vals := make([]Value, 0, len(h.Pairs))
	raw := make([]Value, 0, len(h.Pairs))
	pos := make(map[string]int, len(h.Pairs))
	for i, p := range h.Pairs {
		k, err := keyText(p.Key)
		if err != nil {
			return at(err, "{key "+strconv.Itoa(i)+"}")
		}
		if j, ok := pos[k]; ok {
			if !sameKey(raw[j], p.Key) {
				return fail("two different keys (%s and %s) both map to %q", kindOf(unwrap(raw[j])), kindOf(unwrap(p.Key)), k)
			}
			vals[j] = p.Value
			continue
		}
		pos[k] = len(keys)
		keys = append(keys, k)
		vals = append(vals, p.Value)
		raw = append(raw, p.Key)
	}
	return e.object(keys, vals)
}

// keyText is a Hash key's JSON member name.
func keyText(k Value) (string, error) {
	switch x := unwrap(k).(type) {
	case String:
		if plainText(x.Bytes, x.Encoding) {
			return string(x.Bytes), nil
		}
		return "", fail("hash key String in %s is not plain text", encodingName(x.Encoding))
	case Symbol:
		if plainText([]byte(x.Name), x.Encoding) {
			return x.Name, nil
		}
		return "", fail("hash key Symbol in %s is not plain text", encodingName(x.Encoding))
	case int64:
		return strconv.FormatInt(x, 10), nil
	case *big.Int:
		if x != nil {
			return x.String(), nil
		}
	}
	return "", fail("hash key of type %s is outside the JSON mapping", kindOf(unwrap(k)))
}

// sameKey reports whether two keys with the same text are one key to Ruby
// (String#eql?: same bytes in the same encoding, or ASCII-only bytes).
func sameKey(a, b Value) bool {
	a, b = unwrap(a), unwrap(b)
	switch x := a.(type) {
	case String:
		y, ok := b.(String)
		return ok && (encodingName(x.Encoding) == encodingName(y.Encoding) || isASCII(x.Bytes))
	case Symbol:
		y, ok := b.(Symbol)
		return ok && (x.Encoding == y.Encoding || isASCII([]byte(x.Name)))
	case int64, *big.Int:
		switch b.(type) {
		case int64, *big.Int:
			return true
		}
	}
	return false
}

func encodingName(enc string) string {
	if enc == "" {
		return "ASCII-8BIT"
	}
	return enc
}

func plainText(b []byte, enc string) bool {
	switch encodingName(enc) {
	case "UTF-8", "US-ASCII", "ASCII-8BIT":
		return utf8.Valid(b)
	}
	return false
}

func (e *encoder) str(b []byte, enc string) {
	if plainText(b, enc) {
		e.quote(string(b))
		return
	}
	e.buf = append(e.buf, `{"__bytes":"`...)
	e.buf = hex.AppendEncode(e.buf, b)
	e.buf = append(e.buf, `","encoding":`...)
	e.quote(encodingName(enc))
	e.buf = append(e.buf, '}')
}

// quote writes s, which must be valid UTF-8, as a JSON string.
func (e *encoder) quote(s string) { e.buf = jsonstr.Append(e.buf, s) }

func (e *encoder) float(f float64) {
	switch {
	case math.IsNaN(f):
		e.buf = append(e.buf, `{"__float":"nan"}`...)
	case math.IsInf(f, 1):
		e.buf = append(e.buf, `{"__float":"inf"}`...)
	case math.IsInf(f, -1):
		e.buf = append(e.buf, `{"__float":"-inf"}`...)
	default:
		e.buf = appendRubyFloat(e.buf, f)
	}
}

// appendRubyFloat appends a finite float as Ruby's Float#to_s writes it:
// the shortest digits that read back to the same double, in fixed notation
// when the decimal exponent is in -4 < e <= 16 (always with a ".": "2.0",
// "0.0001"), otherwise as "d.ddde+XX" ("1.0e+16", "1.0e-05").
func appendRubyFloat(b []byte, f float64) []byte {
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // -d.dddde±dd
	if s[0] == '-' {
		b = append(b, '-')
		s = s[1:]
	}
	ei := 0
	for s[ei] != 'e' {
		ei++
	}
	exp, _ := strconv.Atoi(string(s[ei+1:]))
	var digits [24]byte
	nd := 0
	for _, c := range s[:ei] {
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	ds := digits[:nd]
	decpt := exp + 1 // value = 0.DIGITS × 10^decpt
	switch {
	case decpt > 0 && decpt <= 16:
		if nd <= decpt {
			b = append(b, ds...)
			for i := nd; i < decpt; i++ {
				b = append(b, '0')
			}
			return append(b, ".0"...)
		}
		b = append(b, ds[:decpt]...)
		b = append(b, '.')
		return append(b, ds[decpt:]...)
	case decpt <= 0 && decpt > -4:
		b = append(b, "0."...)
		for i := decpt; i < 0; i++ {
			b = append(b, '0')
		}
		return append(b, ds...)
	}
	b = append(b, ds[0], '.')
	if nd > 1 {
		b = append(b, ds[1:]...)
	} else {
		b = append(b, '0')
	}
	b = append(b, 'e')
	x := decpt - 1
	if x < 0 {
		b = append(b, '-')
		x = -x
	} else {
		b = append(b, '+')
	}
	if x < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(x), 10)
}

func (e *encoder) time(t Time) {
	u := t.Time.UTC()
	y := u.Year()
	e.buf = append(e.buf, `{"__class":"Time","utc":"`...)
	if y < 0 {
		e.buf = append(e.buf, '-')
		y = -y
	}
	e.buf = appendPadded(e.buf, y, 4)
	e.buf = append(e.buf, '-')
	e.buf = appendPadded(e.buf, int(u.Month()), 2)
	e.buf = append(e.buf, '-')
	e.buf = appendPadded(e.buf, u.Day(), 2)
	e.buf = append(e.buf, 'T')
	e.buf = appendPadded(e.buf, u.Hour(), 2)
	e.buf = append(e.buf, ':')
	e.buf = appendPadded(e.buf, u.Minute(), 2)
	e.buf = append(e.buf, ':')
	e.buf = appendPadded(e.buf, u.Second(), 2)
	e.buf = append(e.buf, '.')
	e.buf = appendPadded(e.buf, u.Nanosecond(), 9)
	e.buf = append(e.buf, `Z","utc_offset":`...)
	off := t.Offset
	if t.UTC {
		off = 0
	}
	e.buf = strconv.AppendInt(e.buf, int64(off), 10)
	e.buf = append(e.buf, `,"zone":`...)
	if z, ok := t.Zone.(String); ok {
		e.str(z.Bytes, z.Encoding)
	} else {
		e.buf = append(e.buf, "null"...)
	}
	e.buf = append(e.buf, '}')
}

func appendPadded(b []byte, n, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// DecodeJSON decodes a Marshal stream straight into its JSON mapping, with
// default limits: the hook session decoders take.
func DecodeJSON(data []byte) ([]byte, error) {
	v, err := Decode(data, nil)
	if err != nil {
		return nil, err
	}
	return ToJSON(v)
}
