package rubymarshal

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Default limits, used for the zero fields of Limits.
const (
	DefaultMaxBytes   = 1 << 20
	DefaultMaxDepth   = 64
	DefaultMaxObjects = 100_000
)

// maxBignumWords caps a Bignum at 4096 16-bit words (8 KiB, about 19,700
// decimal digits), so that printing one stays cheap. Sessions hold nothing
// close to that.
const maxBignumWords = 4096

// Limits bound what Decode accepts. A zero field takes its default.
type Limits struct {
	// MaxBytes is the largest input accepted. Default 1 MiB.
	MaxBytes int
	// MaxDepth is the deepest nesting of values, wrappers ("I", "C", "e")
	// included. Default 64.
	MaxDepth int
	// MaxObjects is the most values read, each link, symbol value and
	// instance-variable value included; the elements an array or hash
	// declares count from the moment it is allocated. Default 100,000.
	MaxObjects int
}

func (l *Limits) withDefaults() Limits {
	var out Limits
	if l != nil {
		out = *l
	}
	if out.MaxBytes <= 0 {
		out.MaxBytes = DefaultMaxBytes
	}
	if out.MaxDepth <= 0 {
		out.MaxDepth = DefaultMaxDepth
	}
	if out.MaxObjects <= 0 {
		out.MaxObjects = DefaultMaxObjects
	}
	return out
}

// Kinds of decoding error. Every error from Decode is an *Error whose Kind
// is one of these, so errors.Is(err, ErrLimit) works.
var (
	// ErrTruncated: the input ends early, or declares a length or count
	// larger than what is left of it.
	ErrTruncated = errors.New("truncated")
	// ErrMalformed: bytes that Ruby's Marshal.load would not accept, or
	// that make no sense (a link to an object not read yet).
	ErrMalformed = errors.New("malformed")
	// ErrLimit: the input is larger, deeper or has more values than the
	// Limits allow.
	ErrLimit = errors.New("limit exceeded")
	// ErrUnsupported: valid Marshal that this decoder does not read (the
	// "d" data type).
	ErrUnsupported = errors.New("unsupported")
)

// Error is a decoding error: what was wrong, and where.
type Error struct {
	Offset int   // byte offset in the input where the bad item starts
	Kind   error // ErrTruncated, ErrMalformed, ErrLimit or ErrUnsupported
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("rubymarshal: %s: %s at offset %d", e.Kind, e.Msg, e.Offset)
}

func (e *Error) Unwrap() error { return e.Kind }

// Decode reads one Ruby value in Marshal format 4.8 (as written by
// Marshal.dump) into plain Go values; see Value for the types. It runs no
// Ruby code and instantiates nothing: a class name is only a name. lim may
// be nil for the defaults. The whole input must be one value.
func Decode(data []byte, lim *Limits) (Value, error) {
	d := decoder{buf: data, lim: lim.withDefaults()}
	if len(data) > d.lim.MaxBytes {
		return nil, d.fail(0, ErrLimit, "input is %d bytes, more than the limit of %d", len(data), d.lim.MaxBytes)
	}
	if len(data) < 2 {
		return nil, d.fail(len(data), ErrTruncated, "input is %d bytes, shorter than the 2-byte version header", len(data))
	}
	// Ruby's Marshal.load accepts 4.0 to 4.8.
	if data[0] != 4 || data[1] > 8 {
		return nil, d.fail(0, ErrMalformed, "version header %02x %02x is not Marshal 4.8 (04 08)", data[0], data[1])
	}
	// One private copy of the input: strings are slices of it, so they
	// neither alias the caller's buffer nor cost an allocation each.
	d.buf = append([]byte(nil), data...)
	d.pos = 2
	v, _, err := d.value(nil)
	if err != nil {
		return nil, err
	}
	if d.pos != len(data) {
		return nil, d.fail(d.pos, ErrMalformed, "%d bytes left over after the value", len(data)-d.pos)
	}
	return v, nil
}

type decoder struct {
	buf    []byte
	pos    int
	lim    Limits
	objs   []Value  // object-link table ("@")
	syms   []Symbol // symbol table (";")
	depth  int
	values int
	// reserved counts the elements that unfinished arrays and hashes
	// declared and allocated but have not read yet; they are charged to
	// MaxObjects up front, so nesting cannot multiply the preallocation.
	reserved int
}

func (d *decoder) fail(at int, kind error, format string, args ...any) error {
	return &Error{Offset: at, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) readByte(what string) (byte, error) {
	if d.pos >= len(d.buf) {
		return 0, d.fail(d.pos, ErrTruncated, "input ends where %s was expected", what)
	}
	b := d.buf[d.pos]
	d.pos++
	return b, nil
}

// long reads Marshal's variable-length integer ("w_long").
func (d *decoder) long(what string) (int64, error) {
	at := d.pos
	b, err := d.readByte(what)
	if err != nil {
		return 0, err
	}
	c := int8(b)
	switch {
	case c == 0:
		return 0, nil
	case c > 4:
		return int64(c) - 5, nil
	case c < -4:
		return int64(c) + 5, nil
	}
	n := int(c)
	var x int64
	if c < 0 {
		n = -n
		x = -1
	}
	if len(d.buf)-d.pos < n {
		return 0, d.fail(at, ErrTruncated, "%s: long of %d bytes, but only %d left", what, n, len(d.buf)-d.pos)
	}
	for i := 0; i < n; i++ {
		x &^= 0xff << (8 * i)
		x |= int64(d.buf[d.pos+i]) << (8 * i)
	}
	d.pos += n
	return x, nil
}

// length reads a declared length or count whose items take at least unit
// bytes each, and checks it against the bytes left before anything is
// allocated. Each item holds values values (0 for bytes); the count is also
// checked against what is left of MaxObjects once the values read and the
// slots already reserved by unfinished containers are taken off.
func (d *decoder) length(what string, unit, values int) (int, error) {
	at := d.pos
	n, err := d.long(what)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, d.fail(at, ErrMalformed, "negative %s %d", what, n)
	}
	left := len(d.buf) - d.pos
	if n > int64(left/unit) {
		return 0, d.fail(at, ErrTruncated, "%s %d needs at least %d bytes, but only %d are left", what, n, n*int64(unit), left)
	}
	if left := d.lim.MaxObjects - d.values - d.reserved; values > 0 && n*int64(values) > int64(left) {
		return 0, d.fail(at, ErrLimit, "%s %d would hold %d values, more than the %d left of MaxObjects", what, n, n*int64(values), left)
	}
	return int(n), nil
}

// bytes reads a length-prefixed byte string: a slice of the decoder's
// private copy of the input, capped so that appending to it copies.
func (d *decoder) bytes(what string) ([]byte, error) {
	n, err := d.length(what, 1, 0)
	if err != nil {
		return nil, err
	}
	b := d.buf[d.pos : d.pos+n : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *decoder) register(v Value) int {
	d.objs = append(d.objs, v)
	return len(d.objs) - 1
}

// symbol reads a Symbol where the format requires one: a class or module
// name, an instance-variable name or a Struct member.
func (d *decoder) symbol(what string) (Symbol, error) {
	at := d.pos
	t, err := d.readByte(what)
	if err != nil {
		return Symbol{}, err
	}
	switch t {
	case ':':
		return d.symreal(false)
	case ';':
		return d.symlink(at)
	case 'I':
		t, err = d.readByte(what)
		if err != nil {
			return Symbol{}, err
		}
		if t == ':' {
			return d.symreal(true)
		}
	}
	return Symbol{}, d.fail(at, ErrMalformed, "%s: expected a symbol, found %s", what, typeName(t))
}

// symreal reads a symbol's name (after ":") and numbers it before its
// instance variables, as Ruby does.
func (d *decoder) symreal(ivars bool) (Symbol, error) {
	name, err := d.bytes("symbol length")
	if err != nil {
		return Symbol{}, err
	}
	sym := Symbol{Name: string(name), Encoding: "ASCII-8BIT"}
	if isASCII(name) {
		sym.Encoding = "US-ASCII"
	}
	idx := len(d.syms)
	d.syms = append(d.syms, sym)
	if ivars {
		_, enc, err := d.ivars(true)
		if err != nil {
			return Symbol{}, err
		}
		if enc != "" {
			sym.Encoding = enc
			d.syms[idx] = sym
		}
	}
	return sym, nil
}

func (d *decoder) symlink(at int) (Symbol, error) {
	n, err := d.long("symbol link")
	if err != nil {
		return Symbol{}, err
	}
	if n < 0 || n >= int64(len(d.syms)) {
		return Symbol{}, d.fail(at, ErrMalformed, "symbol link to symbol %d, but only %d symbols so far", n, len(d.syms))
	}
	return d.syms[n], nil
}

// ivars reads an instance-variable list. When encodings is true, "E" (true
// for UTF-8, false for US-ASCII) and "encoding" (a name) give the returned
// encoding instead of being fields.
func (d *decoder) ivars(encodings bool) (fields []Field, enc string, err error) {
	n, err := d.length("instance variable count", 2, 1)
	if err != nil {
		return nil, "", err
	}
	for i := 0; i < n; i++ {
		name, err := d.symbol("instance variable name")
		if err != nil {
			return nil, "", err
		}
		val, _, err := d.value(nil)
		if err != nil {
			return nil, "", err
		}
		if encodings {
			switch name.Name {
			case "E":
				// Any other value is ignored by Ruby as well.
				if b, ok := val.(bool); ok {
					enc = "US-ASCII"
					if b {
						enc = "UTF-8"
					}
					continue
				}
			case "encoding":
				if s, ok := val.(String); ok {
					enc = canonicalEncoding(string(s.Bytes))
					continue
				}
			}
		}
		fields = append(fields, Field{Name: name.Name, Value: val})
	}
	return fields, enc, nil
}

// value reads one value. ivp is non-nil inside an "I" wrapper: the types
// that read their own instance variables (symbols, regexps and "u" objects)
// do so and clear *ivp. idx is the value's index in the object-link table,
// or -1 when reading it added no entry (immediates, symbols, links).
func (d *decoder) value(ivp *bool) (v Value, idx int, err error) {
	d.values++
	if d.values > d.lim.MaxObjects {
		return nil, -1, d.fail(d.pos, ErrLimit, "more than %d values (MaxObjects)", d.lim.MaxObjects)
	}
	d.depth++
	if d.depth > d.lim.MaxDepth {
		return nil, -1, d.fail(d.pos, ErrLimit, "nesting deeper than %d (MaxDepth)", d.lim.MaxDepth)
	}
	v, idx, err = d.valueOf(ivp)
	d.depth--
	return v, idx, err
}

func (d *decoder) valueOf(ivp *bool) (Value, int, error) {
	at := d.pos
	t, err := d.readByte("a type byte")
	if err != nil {
		return nil, -1, err
	}
	switch t {
	case '0':
		return nil, -1, nil
	case 'T':
		return true, -1, nil
	case 'F':
		return false, -1, nil
	case 'i':
		n, err := d.long("fixnum")
		return n, -1, err
	case 'l':
		return d.bignum(at)
	case 'f':
		return d.float(at)
	case '"':
		b, err := d.bytes("string length")
		if err != nil {
			return nil, -1, err
		}
		var s Value = String{Bytes: b, Encoding: "ASCII-8BIT"}
		return s, d.register(s), nil
	case ':':
		ivars := ivp != nil && *ivp
		if ivars {
			*ivp = false
		}
		s, err := d.symreal(ivars)
		return s, -1, err
	case ';':
		s, err := d.symlink(at)
		return s, -1, err
	case '@':
		n, err := d.long("object link")
		if err != nil {
			return nil, -1, err
		}
		if n < 0 || n >= int64(len(d.objs)) {
			return nil, -1, d.fail(at, ErrMalformed, "link to object %d, but only %d objects so far", n, len(d.objs))
		}
		return d.objs[n], -1, nil
	case 'I':
		if d.pos < len(d.buf) && d.buf[d.pos] == '"' {
			return d.ivarString()
		}
		ivars := true
		v, idx, err := d.value(&ivars)
		if err != nil || !ivars {
			return v, idx, err
		}
		// Instance variables of the wrapped object: an encoding for a
		// String; anything else is dropped.
		_, enc, err := d.ivars(true)
		if err != nil {
			return nil, -1, err
		}
		if enc != "" {
			v = withEncoding(v, enc)
			if idx >= 0 {
				d.objs[idx] = v
			}
		}
		return v, idx, nil
	case '[':
		n, err := d.length("array length", 1, 1)
		if err != nil {
			return nil, -1, err
		}
		a := make([]Value, n)
		var v Value = a
		idx := d.register(v)
		d.reserved += n
		for i := range a {
			d.reserved--
			if a[i], _, err = d.value(nil); err != nil {
				return nil, -1, err
			}
		}
		return v, idx, nil
	case '{', '}':
		return d.hash(t == '}')
	case '/':
		return d.regexp(ivp)
	case 'o':
		o := &Object{}
		idx := d.register(o)
		cls, err := d.symbol("object class")
		if err != nil {
			return nil, -1, err
		}
		o.Class = cls.Name
		if o.Ivars, _, err = d.ivars(false); err != nil {
			return nil, -1, err
		}
		return o, idx, nil
	case 'S':
		s := &Struct{}
		idx := d.register(s)
		cls, err := d.symbol("struct class")
		if err != nil {
			return nil, -1, err
		}
		s.Class = cls.Name
		if s.Members, _, err = d.ivars(false); err != nil {
			return nil, -1, err
		}
		return s, idx, nil
	case 'u':
		return d.userDefined(at, ivp)
	case 'U':
		cls, err := d.symbol("marshal_dump class")
		if err != nil {
			return nil, -1, err
		}
		u := &UserMarshal{Class: cls.Name}
		idx := d.register(u)
		if u.Data, _, err = d.value(nil); err != nil {
			return nil, -1, err
		}
		return u, idx, nil
	case 'C':
		cls, err := d.symbol("user class")
		if err != nil {
			return nil, -1, err
		}
		innerAt := d.pos
		v, idx, err := d.value(nil)
		if err != nil {
			return nil, -1, err
		}
		switch v.(type) {
		case String, []Value, *Hash, Regexp, *Struct, UserClass:
		default:
			return nil, -1, d.fail(innerAt, ErrMalformed, "user class %q wraps a %s, not a String, Array, Hash or Regexp", cls.Name, kindOf(v))
		}
		w := UserClass{Class: cls.Name, Value: v}
		if idx >= 0 {
			d.objs[idx] = w
		}
		return w, idx, nil
	case 'e':
		mod, err := d.symbol("extending module")
		if err != nil {
			return nil, -1, err
		}
		v, idx, err := d.value(nil)
		if err != nil {
			return nil, -1, err
		}
		w := Extended{Module: mod.Name, Value: v}
		if idx >= 0 {
			d.objs[idx] = w
		}
		return w, idx, nil
	case 'c', 'm', 'M':
		name, err := d.bytes("class or module name length")
		if err != nil {
			return nil, -1, err
		}
		if ivp != nil && *ivp && t != 'M' {
			// Newer Rubies may give the name an encoding.
			*ivp = false
			if _, _, err := d.ivars(true); err != nil {
				return nil, -1, err
			}
		}
		var v Value = ClassRef{Name: string(name)}
		if t != 'c' {
			v = ModuleRef{Name: string(name), Old: t == 'M'}
		}
		return v, d.register(v), nil
	case 'd':
		return nil, -1, d.fail(at, ErrUnsupported, "type 'd' (a C data object with _dump_data) is not supported")
	}
	return nil, -1, d.fail(at, ErrMalformed, "unknown type byte 0x%02x", t)
}

// ivarString reads the commonest item, a String with its encoding ("I"
// then '"'), boxing it once.
func (d *decoder) ivarString() (Value, int, error) {
	// Counted and nested like the value that the generic path reads.
	d.values++
	if d.values > d.lim.MaxObjects {
		return nil, -1, d.fail(d.pos, ErrLimit, "more than %d values (MaxObjects)", d.lim.MaxObjects)
	}
	if d.depth+1 > d.lim.MaxDepth {
		return nil, -1, d.fail(d.pos, ErrLimit, "nesting deeper than %d (MaxDepth)", d.lim.MaxDepth)
	}
	d.pos++ // '"'
	b, err := d.bytes("string length")
	if err != nil {
		return nil, -1, err
	}
	// The String is numbered before its ivars; it is filled in after them.
	idx := d.register(nil)
	_, enc, err := d.ivars(true)
	if err != nil {
		return nil, -1, err
	}
	if enc == "" {
		enc = "ASCII-8BIT"
	}
	var s Value = String{Bytes: b, Encoding: enc}
	d.objs[idx] = s
	return s, idx, nil
}

func (d *decoder) bignum(at int) (Value, int, error) {
	sign, err := d.readByte("bignum sign")
	if err != nil {
		return nil, -1, err
	}
	if sign != '+' && sign != '-' {
		return nil, -1, d.fail(at+1, ErrMalformed, "bignum sign byte 0x%02x is neither '+' nor '-'", sign)
	}
	words, err := d.length("bignum length in 16-bit words", 2, 0)
	if err != nil {
		return nil, -1, err
	}
	if words > maxBignumWords {
		return nil, -1, d.fail(at, ErrLimit, "bignum of %d 16-bit words, more than the limit of %d", words, maxBignumWords)
	}
	le := d.buf[d.pos : d.pos+2*words]
	d.pos += 2 * words
	be := make([]byte, len(le))
	for i, b := range le {
		be[len(le)-1-i] = b
	}
	n := new(big.Int).SetBytes(be)
	if sign == '-' {
		n.Neg(n)
	}
	var v Value = n
	if n.IsInt64() {
		v = n.Int64()
	}
	return v, d.register(v), nil
}

func (d *decoder) float(at int) (Value, int, error) {
	b, err := d.bytes("float length")
	if err != nil {
		return nil, -1, err
	}
	f, ok := parseFloat(string(b))
	if !ok {
		return nil, -1, d.fail(at, ErrMalformed, "float %q is not a number", b)
	}
	var v Value = f
	return v, d.register(v), nil
}

// parseFloat reads a Float as Marshal writes it: "nan", "inf", "-inf", or
// decimal text. Ruby 1.8 appended extra mantissa bytes after a NUL; like
// strtod, this stops at the NUL and ignores them.
func parseFloat(s string) (float64, bool) {
	switch s {
	case "nan":
		return math.NaN(), true
	case "inf":
		return math.Inf(1), true
	case "-inf":
		return math.Inf(-1), true
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Out of range: ±Inf or 0, as strtod gives.
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

func (d *decoder) hash(withDefault bool) (Value, int, error) {
	n, err := d.length("hash size", 2, 2)
	if err != nil {
		return nil, -1, err
	}
	h := &Hash{Pairs: make([]Pair, n), HasDefault: withDefault}
	var v Value = h
	idx := d.register(v)
	d.reserved += 2 * n
	for i := range h.Pairs {
		d.reserved -= 2
		if h.Pairs[i].Key, _, err = d.value(nil); err != nil {
			return nil, -1, err
		}
		if h.Pairs[i].Value, _, err = d.value(nil); err != nil {
			return nil, -1, err
		}
	}
	if withDefault {
		if h.Default, _, err = d.value(nil); err != nil {
			return nil, -1, err
		}
	}
	return v, idx, nil
}

func (d *decoder) regexp(ivp *bool) (Value, int, error) {
	src, err := d.bytes("regexp source length")
	if err != nil {
		return nil, -1, err
	}
	opts, err := d.readByte("regexp options")
	if err != nil {
		return nil, -1, err
	}
	re := Regexp{Source: String{Bytes: src, Encoding: "ASCII-8BIT"}, Options: opts}
	// Ruby numbers the Regexp before reading its instance variables.
	idx := d.register(re)
	enc := ""
	if ivp != nil && *ivp {
		*ivp = false
		if _, enc, err = d.ivars(true); err != nil {
			return nil, -1, err
		}
	}
	if enc != "" {
		re.Source.Encoding = enc
	} else {
		re.Source.Bytes = strip18Escapes(re.Source.Bytes)
	}
	var v Value = re
	d.objs[idx] = v
	return v, idx, nil
}

// strip18Escapes does what Marshal.load does to a Regexp dumped without an
// encoding (Ruby 1.8 compatibility): a backslash escaping one of the letters
// that 1.8 did not define is removed. src is not modified.
func strip18Escapes(src []byte) []byte {
	out := make([]byte, 0, len(src))
	bs := 0
	for _, c := range src {
		switch c {
		case '\\':
			bs++
		case 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'o', 'p', 'q', 'u', 'y',
			'E', 'F', 'H', 'I', 'J', 'K', 'L', 'N', 'O', 'P', 'Q', 'R',
			'S', 'T', 'U', 'V', 'X', 'Y':
			if bs&1 == 1 {
				out = out[:len(out)-1]
			}
			bs = 0
		default:
			bs = 0
		}
		out = append(out, c)
	}
	return out
}

func (d *decoder) userDefined(at int, ivp *bool) (Value, int, error) {
	cls, err := d.symbol("_dump class")
	if err != nil {
		return nil, -1, err
	}
	dump, err := d.bytes("_dump length")
	if err != nil {
		return nil, -1, err
	}
	var fields []Field
	enc := ""
	if ivp != nil && *ivp {
		*ivp = false
		if fields, enc, err = d.ivars(true); err != nil {
			return nil, -1, err
		}
	}
	var v Value
	if cls.Name == "Time" {
		t, msg := decodeTime(dump, fields)
		if msg != "" {
			return nil, -1, d.fail(at, ErrMalformed, "Time: %s", msg)
		}
		v = t
	} else {
		if enc == "" {
			enc = "ASCII-8BIT"
		}
		v = UserDefined{Class: cls.Name, Dump: String{Bytes: dump, Encoding: enc}, Ivars: fields}
	}
	// Ruby numbers a "u" object after its instance variables.
	return v, d.register(v), nil
}

// withEncoding gives a String (or the String or Regexp inside "C" and "e"
// wrappers) the encoding named by its "I" wrapper.
func withEncoding(v Value, enc string) Value {
	switch x := v.(type) {
	case String:
		x.Encoding = enc
		return x
	case Regexp:
		x.Source.Encoding = enc
		return x
	case UserClass:
		x.Value = withEncoding(x.Value, enc)
		return x
	case Extended:
		x.Value = withEncoding(x.Value, enc)
		return x
	}
	return v
}

// canonicalEncoding spells the names Ruby treats as the three plain
// encodings the way Encoding#name does; others are kept as written.
func canonicalEncoding(name string) string {
	switch strings.ToUpper(name) {
	case "UTF-8", "CP65001":
		return "UTF-8"
	case "US-ASCII", "ASCII", "ANSI_X3.4-1968", "646":
		return "US-ASCII"
	case "ASCII-8BIT", "BINARY":
		return "ASCII-8BIT"
	}
	return name
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func typeName(t byte) string {
	if t >= 0x21 && t < 0x7f {
		return fmt.Sprintf("type byte %q", t)
	}
	return fmt.Sprintf("type byte 0x%02x", t)
}

func kindOf(v Value) string {
	switch v.(type) {
	case nil:
		return "nil"
	case bool:
		return "boolean"
	case int64, *big.Int:
		return "Integer"
	case float64:
		return "Float"
	case String:
		return "String"
	case Symbol:
		return "Symbol"
	case []Value:
		return "Array"
	case *Hash:
		return "Hash"
	case *Object:
		return "Object"
	case *Struct:
		return "Struct"
	case Time:
		return "Time"
	case UserDefined:
		return "_dump object"
	case *UserMarshal:
		return "marshal_dump object"
	case UserClass:
		return "user-class object"
	case Extended:
		return "extended object"
	case Regexp:
		return "Regexp"
	case ClassRef:
		return "Class"
	case ModuleRef:
		return "Module"
	}
	return fmt.Sprintf("%T", v)
}
