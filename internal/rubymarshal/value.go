package rubymarshal

import (
	"math/big"
	"time"
)

// Value is one decoded Ruby value. Its dynamic type is always one of:
//
//	nil            nil
//	bool           true, false
//	int64          an Integer (Fixnum "i", or Bignum "l" within int64)
//	*big.Int       an Integer outside int64 (Bignum "l")
//	float64        a Float "f" (NaN, ±Inf and -0.0 included)
//	String         a String '"' with its encoding
//	Symbol         a Symbol ":" or symbol link ";"
//	[]Value        an Array "["
//	*Hash          a Hash "{" or a Hash with a default "}"
//	*Object        a plain object "o"
//	*Struct        a Struct "S"
//	Time           a Time ("u" of class Time)
//	UserDefined    any other "u" (_dump), e.g. BigDecimal
//	*UserMarshal   a "U" (marshal_dump), e.g. TimeWithZone, Date, Rational
//	UserClass      a "C" wrapper, e.g. HashWithIndifferentAccess, SafeBuffer
//	Extended       an "e" wrapper (an object extended with a module)
//	Regexp         a Regexp "/"
//	ClassRef       a Class "c"
//	ModuleRef      a Module "m" or old-style module "M"
//
// Objects that Ruby could make refer to themselves (arrays, hashes, "o",
// "S" and "U" objects) are slices or pointers, so an object link "@" shares
// them exactly as Ruby does, cycles included. Walk decoded values with that
// in mind, or use the helpers below, which never follow more than one
// level.
type Value = any

// String is a Ruby String: its bytes and the name of its encoding as Ruby
// names it ("UTF-8", "US-ASCII", "ASCII-8BIT" for binary, "ISO-8859-1", ...).
// Bytes are not checked against the encoding.
type String struct {
	Bytes    []byte
	Encoding string
}

// Symbol is a Ruby Symbol. Encoding is "US-ASCII" for ASCII-only names
// written without an encoding, "ASCII-8BIT" for other names written without
// one, and otherwise what the "I:" wrapper said (usually "UTF-8").
type Symbol struct {
	Name     string
	Encoding string
}

// Hash is a Ruby Hash, its pairs in stream order. Marshal writes each key
// once, but hostile input may repeat one; Lookup then answers with the last,
// as Ruby's Hash would. Default is the default value of a "}" hash
// (Hash.new(x)); HasDefault tells it apart from a nil default.
type Hash struct {
	Pairs      []Pair
	Default    Value
	HasDefault bool
}

// Pair is one key and value of a Hash.
type Pair struct {
	Key, Value Value
}

// Field is a named value: an instance variable (Name keeps its "@"), or a
// Struct member.
type Field struct {
	Name  string
	Value Value
}

// Object is a plain Ruby object ("o"): its class name and instance
// variables in stream order. A Set (Ruby 3.1 and earlier) is an Object of
// class "Set" whose "@hash" maps each element to true.
type Object struct {
	Class string
	Ivars []Field
}

// Struct is an instance of a Struct class ("S"), members in stream order.
type Struct struct {
	Class   string
	Members []Field
}

// UserDefined is an object that Ruby wrote with its class's _dump method
// ("u"), such as BigDecimal: the class name and the dumped string. Ivars are
// the instance variables written on the dumped string other than its
// encoding.
type UserDefined struct {
	Class string
	Dump  String
	Ivars []Field
}

// UserMarshal is an object that Ruby wrote with marshal_dump ("U"), such as
// ActiveSupport::TimeWithZone ([utc Time, zone name, local Time]), Date or
// Rational: the class name and the dumped value.
type UserMarshal struct {
	Class string
	Data  Value
}

// UserClass is a String, Array, Hash or Regexp of a user subclass ("C"),
// such as ActiveSupport::HashWithIndifferentAccess or
// ActiveSupport::SafeBuffer.
type UserClass struct {
	Class string
	Value Value
}

// Extended is an object extended with a module ("e"), as obj.extend(Module)
// does.
type Extended struct {
	Module string
	Value  Value
}

// Regexp is a Ruby Regexp: its source and the options byte
// (1 ignore case, 2 extended, 4 multiline, 16 fixed encoding, 32 no
// encoding).
type Regexp struct {
	Source  String
	Options byte
}

// ClassRef is a reference to a class by name ("c"), e.g. String.
type ClassRef struct {
	Name string
}

// ModuleRef is a reference to a module by name ("m", or "M" when Old).
type ModuleRef struct {
	Name string
	Old  bool
}

// Time is a Ruby Time, read from its 8-byte _dump and the instance
// variables written with it.
type Time struct {
	// Time is the instant in UTC, truncated to the nanosecond (Ruby keeps
	// any finer fraction; strftime("%N") truncates it the same way).
	Time time.Time
	// UTC reports a Time in UTC mode (Time#utc?).
	UTC bool
	// Offset is the UTC offset in seconds from the "offset" ivar; 0 for a
	// UTC Time and when the ivar is absent or not a valid offset.
	Offset int
	// Zone is what Time#zone answers: "UTC" for a UTC Time, otherwise the
	// "zone" ivar, a String such as "CET", or nil when the ivar is absent
	// or nil (a fixed-offset Time).
	Zone Value
	// Ivars are all instance variables written on the dump, other than its
	// encoding: offset, zone, nano_num, nano_den, submicro and any others.
	Ivars []Field
}

// unwrap strips "C" and "e" wrappers.
func unwrap(v Value) Value {
	for {
		switch w := v.(type) {
		case UserClass:
			v = w.Value
		case Extended:
			v = w.Value
		default:
			return v
		}
	}
}

// Lookup returns the value stored under the String or Symbol key named key
// in the Hash v, looking through "C" and "e" wrappers such as
// ActiveSupport::HashWithIndifferentAccess. A String key is preferred to a
// Symbol key of the same name; among equal keys the last one wins, as in
// Ruby. ok is false when v is not a Hash or has no such key.
func Lookup(v Value, key string) (value Value, ok bool) {
	h, isHash := unwrap(v).(*Hash)
	if !isHash {
		return nil, false
	}
	symIdx := -1
	for i := len(h.Pairs) - 1; i >= 0; i-- {
		switch k := unwrap(h.Pairs[i].Key).(type) {
		case String:
			if string(k.Bytes) == key {
				return h.Pairs[i].Value, true
			}
		case Symbol:
			if symIdx < 0 && k.Name == key {
				symIdx = i
			}
		}
	}
	if symIdx >= 0 {
		return h.Pairs[symIdx].Value, true
	}
	return nil, false
}

// AsString returns the bytes of a String (through "C" and "e" wrappers, so
// a SafeBuffer too) or the name of a Symbol, whatever their encoding.
func AsString(v Value) (string, bool) {
	switch s := unwrap(v).(type) {
	case String:
		return string(s.Bytes), true
	case Symbol:
		return s.Name, true
	}
	return "", false
}

// AsInt64 returns an Integer that fits in int64.
func AsInt64(v Value) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case *big.Int:
		if n != nil && n.IsInt64() {
			return n.Int64(), true
		}
	}
	return 0, false
}

// AsArray returns the elements of an Array, through "C" and "e" wrappers.
func AsArray(v Value) ([]Value, bool) {
	a, ok := unwrap(v).([]Value)
	return a, ok
}
