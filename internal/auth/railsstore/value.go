package railsstore

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/heraldrt/herald/internal/rubymarshal"
)

// Bounds on one stored value. Sessions are a few hundred bytes; Rails
// itself compresses anything from 1 KiB.
const (
	// MaxValueBytes is the largest value read from Redis and decoded.
	MaxValueBytes = 1 << 20
	// MaxInflatedBytes caps what a compressed entry may inflate to, so a
	// small zlib bomb costs at most this much memory.
	MaxInflatedBytes = 1 << 20
)

// Kinds of DecodeValue error; every error wraps one of them.
var (
	// ErrUnknownFormat: the value is none of the formats the stores write.
	ErrUnknownFormat = errors.New("unknown session value format")
	// ErrMalformed: the format was recognized but the bytes are broken
	// (bad Marshal, bad zlib, a truncated cache header, a cache entry that
	// is not shaped like one).
	ErrMalformed = errors.New("malformed session value")
	// ErrNotSession: the value decodes, but holds no session Hash.
	ErrNotSession = errors.New("not a session")
	// ErrLimit: the value, or what it inflates to, is over a limit.
	ErrLimit = errors.New("limit exceeded")
	// ErrUnsupported: a valid format herald does not read (a Rails 7.1
	// cache entry serialized with MessagePack).
	ErrUnsupported = errors.New("unsupported")
)

// Format names the layout a value was found in.
type Format string

// The formats DecodeValue detects.
const (
	// FormatMarshal is Marshal.dump(session): redis-actionpack (redis-store)
	// and redis-session-store's default serializer.
	FormatMarshal Format = "marshal"
	// FormatJSON is JSON text: redis-store with serializer: JSON,
	// redis-session-store's :json (and :hybrid, which writes JSON).
	FormatJSON Format = "json"
	// FormatCache61 is a Marshal'ed ActiveSupport::Cache::Entry, the
	// RedisCacheStore value of cache_format_version 6.1 (and of Rails
	// before 7.0), under ActionDispatch::Session::CacheStore.
	FormatCache61 Format = "cache-6.1"
	// FormatCache70 is cache_format_version 7.0: "\x00" + Marshal([value,
	// expires_at, version]) with trailing nils dropped, or "\x01" + zlib of
	// the same Marshal.
	FormatCache70 Format = "cache-7.0"
	// FormatCache71 is cache_format_version 7.1: the 15-byte header
	// "\x00\x11", type byte, float64 LE expires_at, int32 LE version length,
	// then the version and the payload.
	FormatCache71 Format = "cache-7.1"
)

// Info describes a decoded value.
type Info struct {
	Format Format
	// Compressed reports a zlib-compressed cache entry.
	Compressed bool
	// Expires reports that the cache entry carries its own expiry, at
	// ExpiresAt (Unix seconds, as Ruby's Float). Rails treats an entry
	// whose ExpiresAt is not after now as absent, whatever the key's TTL.
	Expires   bool
	ExpiresAt float64
}

// ExpiredAt reports whether the entry has expired at now (Unix seconds),
// the way ActiveSupport::Cache::Entry#expired? decides.
func (i Info) ExpiredAt(now float64) bool {
	return i.Expires && i.ExpiresAt <= now
}

// Markers of the stored formats.
var (
	marshalMark = []byte{0x04, 0x08}
	cache71Mark = []byte{0x00, 0x11}
	msgpackMark = []byte{0xcc, 0x80} // ActiveSupport::MessagePack's signature
)

const (
	cache70Plain      = 0x00
	cache70Compressed = 0x01

	cache71HeaderLen  = 15
	cache71Object     = 0x01
	cache71Compressed = 0x80

	entryClass = "ActiveSupport::Cache::Entry"
)

// DecodeValue reads a session value as a Rails server-side store wrote it
// to Redis and returns the session as JSON: Marshal sessions in the
// mapping of rubymarshal.ToJSON, JSON sessions as stored. The format is
// detected from the bytes (see Format): redis-actionpack/redis-store
// (Marshal or JSON), redis-session-store (Marshal, JSON or hybrid), and
// ActionDispatch::Session::CacheStore on RedisCacheStore in the 6.1, 7.0
// and 7.1 cache formats, compressed or not. It is pure: it neither checks
// an entry's own expiry (see DecodeValueInfo) nor looks anything up. The
// session must be a Hash (a JSON object).
func DecodeValue(b []byte) (sessionJSON []byte, err error) {
	s, _, err := DecodeValueInfo(b)
	return s, err
}

// DecodeValueInfo is DecodeValue, also saying which format the value was
// in and when a cache entry expires.
func DecodeValueInfo(b []byte) (sessionJSON []byte, info Info, err error) {
	if len(b) > MaxValueBytes {
		return nil, info, fmt.Errorf("%w: value is %d bytes, more than %d", ErrLimit, len(b), MaxValueBytes)
	}
	switch {
	case len(b) == 0:
		return nil, info, fmt.Errorf("%w: empty value", ErrUnknownFormat)
	case bytes.HasPrefix(b, marshalMark):
		return decodeMarshalValue(b)
	case bytes.HasPrefix(b, cache71Mark):
		return decodeCache71(b)
	case b[0] == cache70Plain || b[0] == cache70Compressed:
		return decodeCache70(b)
	}
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		info.Format = FormatJSON
		if !json.Valid(t) {
			return nil, info, fmt.Errorf("%w: JSON value is not valid JSON", ErrMalformed)
		}
		return bytes.Clone(bytes.TrimRight(t, " \t\r\n")), info, nil
	}
	return nil, info, fmt.Errorf("%w: value starts with byte 0x%02x", ErrUnknownFormat, b[0])
}

// decodeMarshalValue reads a Marshal value: a session Hash, or a 6.1
// cache entry holding one.
func decodeMarshalValue(b []byte) ([]byte, Info, error) {
	info := Info{Format: FormatMarshal}
	v, err := rubymarshal.Decode(b, nil)
	if err != nil {
		return nil, info, marshalErr(err)
	}
	if o, ok := v.(*rubymarshal.Object); ok && o.Class == entryClass {
		info.Format = FormatCache61
		v, err = entry61(o, &info)
		if err != nil {
			return nil, info, err
		}
	}
	s, err := sessionJSON(v)
	return s, info, err
}

// entry61 returns the session an ActiveSupport::Cache::Entry holds: @value,
// or, when @compressed is true, the Marshal value inside zlib(@value).
// The expiry is @created_at + @expires_in (Rails 7.x, writing this format,
// keeps @created_at at 0.0 and an absolute time in @expires_in).
func entry61(o *rubymarshal.Object, info *Info) (rubymarshal.Value, error) {
	var (
		value                 rubymarshal.Value
		haveValue, compressed bool
		createdAt, expiresIn  rubymarshal.Value
	)
	for _, f := range o.Ivars {
		switch f.Name {
		case "@value":
			value, haveValue = f.Value, true
		case "@compressed":
			compressed = f.Value == true
		case "@created_at":
			createdAt = f.Value
		case "@expires_in":
			expiresIn = f.Value
		}
	}
	if !haveValue {
		return nil, fmt.Errorf("%w: %s without @value", ErrMalformed, entryClass)
	}
	if expiresIn != nil {
		in, ok := number(expiresIn)
		at, ok2 := 0.0, true
		if createdAt != nil {
			at, ok2 = number(createdAt)
		}
		if !ok || !ok2 {
			return nil, fmt.Errorf("%w: %s with a non-numeric @created_at or @expires_in", ErrMalformed, entryClass)
		}
		info.Expires, info.ExpiresAt = true, at+in
	}
	if !compressed {
		return value, nil
	}
	info.Compressed = true
	s, ok := value.(rubymarshal.String)
	if !ok {
		return nil, fmt.Errorf("%w: compressed %s whose @value is not a String", ErrMalformed, entryClass)
	}
	raw, err := inflate(s.Bytes)
	if err != nil {
		return nil, err
	}
	return decodeInnerMarshal(raw)
}

// decodeCache70 reads "\x00" + Marshal([value, expires_at, version]) or
// "\x01" + zlib(that Marshal).
func decodeCache70(b []byte) ([]byte, Info, error) {
	info := Info{Format: FormatCache70}
	payload := b[1:]
	if b[0] == cache70Compressed {
		info.Compressed = true
		var err error
		if payload, err = inflate(payload); err != nil {
			return nil, info, err
		}
	}
	if !bytes.HasPrefix(payload, marshalMark) {
		return nil, info, fmt.Errorf("%w: a 7.0 cache entry must hold Marshal data", ErrMalformed)
	}
	v, err := decodeInnerMarshal(payload)
	if err != nil {
		return nil, info, err
	}
	members, ok := v.([]rubymarshal.Value)
	if !ok || len(members) == 0 || len(members) > 3 {
		return nil, info, fmt.Errorf("%w: a 7.0 cache entry must be [value, expires_at, version]", ErrMalformed)
	}
	if len(members) > 1 && members[1] != nil {
		at, ok := number(members[1])
		if !ok {
			return nil, info, fmt.Errorf("%w: a 7.0 cache entry's expires_at is not a number", ErrMalformed)
		}
		info.Expires, info.ExpiresAt = true, at
	}
	s, err := sessionJSON(members[0])
	return s, info, err
}

// decodeCache71 reads the 7.1 layout of activesupport cache/coder.rb.
func decodeCache71(b []byte) ([]byte, Info, error) {
	info := Info{Format: FormatCache71}
	if len(b) < cache71HeaderLen {
		return nil, info, fmt.Errorf("%w: a 7.1 cache entry is at least %d bytes, this one %d", ErrMalformed, cache71HeaderLen, len(b))
	}
	typ := b[2]
	expiresAt := math.Float64frombits(binary.LittleEndian.Uint64(b[3:11]))
	versionLen := int32(binary.LittleEndian.Uint32(b[11:15]))
	// Rails: expires_at = nil if expires_at < 0. NaN never expires.
	if expiresAt >= 0 {
		info.Expires, info.ExpiresAt = true, expiresAt
	}
	payload := b[cache71HeaderLen:]
	if versionLen > 0 {
		if int64(versionLen) > int64(len(payload)) {
			return nil, info, fmt.Errorf("%w: a 7.1 cache entry's version is longer than the entry", ErrMalformed)
		}
		payload = payload[versionLen:]
	}
	if typ&cache71Compressed != 0 {
		info.Compressed = true
		var err error
		if payload, err = inflate(payload); err != nil {
			return nil, info, err
		}
	}
	switch t := typ &^ cache71Compressed; t {
	case cache71Object:
	case 0x02, 0x03, 0x04:
		return nil, info, fmt.Errorf("%w: the cache entry holds a String", ErrNotSession)
	default:
		return nil, info, fmt.Errorf("%w: unknown 7.1 cache entry type 0x%02x", ErrMalformed, t)
	}
	switch {
	case bytes.HasPrefix(payload, marshalMark):
	case bytes.HasPrefix(payload, msgpackMark):
		return nil, info, fmt.Errorf("%w: a 7.1 cache entry serialized with MessagePack", ErrUnsupported)
	default:
		return nil, info, fmt.Errorf("%w: a 7.1 cache entry's payload is neither Marshal nor MessagePack", ErrMalformed)
	}
	v, err := decodeInnerMarshal(payload)
	if err != nil {
		return nil, info, err
	}
	s, err := sessionJSON(v)
	return s, info, err
}

func decodeInnerMarshal(b []byte) (rubymarshal.Value, error) {
	if !bytes.HasPrefix(b, marshalMark) {
		return nil, fmt.Errorf("%w: the entry's data is not Marshal", ErrMalformed)
	}
	v, err := rubymarshal.Decode(b, nil)
	if err != nil {
		return nil, marshalErr(err)
	}
	return v, nil
}

func marshalErr(err error) error {
	if errors.Is(err, rubymarshal.ErrLimit) {
		return fmt.Errorf("%w: %v", ErrLimit, err)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// zlibReaders recycles inflaters: each holds some 40 KB of window and
// tables, which would otherwise be allocated per compressed session.
var zlibReaders sync.Pool

// inflate undoes Zlib::Deflate.deflate (RFC 1950), refusing output beyond
// MaxInflatedBytes and data whose checksum does not match.
func inflate(b []byte) ([]byte, error) {
	src := bytes.NewReader(b)
	zr, _ := zlibReaders.Get().(io.ReadCloser)
	var err error
	if zr != nil {
		err = zr.(zlib.Resetter).Reset(src, nil)
	} else {
		zr, err = zlib.NewReader(src)
	}
	if err != nil {
		if zr != nil {
			zlibReaders.Put(zr)
		}
		return nil, fmt.Errorf("%w: zlib: %v", ErrMalformed, err)
	}
	defer zlibReaders.Put(zr)
	out, err := io.ReadAll(io.LimitReader(zr, MaxInflatedBytes+1))
	if len(out) > MaxInflatedBytes {
		return nil, fmt.Errorf("%w: compressed entry inflates beyond %d bytes", ErrLimit, MaxInflatedBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: zlib: %v", ErrMalformed, err)
	}
	return out, nil
}

// sessionJSON maps a decoded session Hash (through "C" and "e" wrappers,
// such as HashWithIndifferentAccess) to JSON.
func sessionJSON(v rubymarshal.Value) ([]byte, error) {
	if _, ok := unwrap(v).(*rubymarshal.Hash); !ok {
		return nil, fmt.Errorf("%w: the stored value is a %s, not a Hash", ErrNotSession, kind(unwrap(v)))
	}
	out, err := rubymarshal.ToJSON(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return out, nil
}

// unwrap strips "C" and "e" wrappers.
func unwrap(v rubymarshal.Value) rubymarshal.Value {
	for {
		switch w := v.(type) {
		case rubymarshal.UserClass:
			v = w.Value
		case rubymarshal.Extended:
			v = w.Value
		default:
			return v
		}
	}
}

// number reads a Ruby Float or Integer as a float64.
func number(v rubymarshal.Value) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func kind(v rubymarshal.Value) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case bool:
		return "Boolean"
	case int64:
		return "Integer"
	case float64:
		return "Float"
	case rubymarshal.String:
		return "String"
	case rubymarshal.Symbol:
		return "Symbol"
	case []rubymarshal.Value:
		return "Array"
	case *rubymarshal.Object:
		return x.Class
	}
	return fmt.Sprintf("%T", v)
}
