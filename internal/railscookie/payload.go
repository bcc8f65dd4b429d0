package railscookie

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldrt/herald/internal/jsonstr"
)

// envelopePrefix starts every `_rails` metadata envelope a cookie jar
// writes: cookies always get the legacy form, whose message is the
// base64 of the serialized value (activesupport messages/metadata.rb).
var envelopePrefix = []byte(`{"_rails":`)

// unwrap removes the `_rails` envelope, if there is one, and checks it as
// Rails' AbstractCookieJar#[] does: first exp (now >= exp is rejected),
// then the purpose, which must be "cookie.<name>" or absent (Rails retries
// without a purpose, accepting a nil or empty one). A payload without an
// envelope is returned as it is: that is the 4.x, 5.2 and
// use_cookies_with_metadata=false form.
func (d *Decoder) unwrap(p []byte, info *Info) ([]byte, error) {
	if !bytes.HasPrefix(p, envelopePrefix) {
		return p, nil
	}
	info.Envelope = true
	// One pass into a struct. (encoding/json matches member names without
	// regard to case; harmless here, as the payload is authenticated and
	// Rails writes these names in lower case.)
	var outer struct {
		Rails *struct {
			Message *string         `json:"message"`
			Exp     json.RawMessage `json:"exp"`
			Pur     json.RawMessage `json:"pur"`
		} `json:"_rails"`
	}
	if err := json.Unmarshal(p, &outer); err != nil || outer.Rails == nil {
		return nil, malformed("envelope is not {\"_rails\":{...}} JSON")
	}
	env := outer.Rails
	if env.Message == nil {
		return nil, malformed("envelope has no message string")
	}
	message := *env.Message
	if raw := env.Exp; raw != nil && string(raw) != "null" {
		var exp string
		if err := json.Unmarshal(raw, &exp); err != nil {
			return nil, malformed("envelope's exp is not a string")
		}
		t, err := time.Parse(time.RFC3339Nano, exp)
		if err != nil {
			return nil, malformed("envelope's exp is not an ISO 8601 time")
		}
		info.Expires = t
		if !d.now().Before(t) {
			return nil, fmt.Errorf("%w: expired at %s", ErrExpired, t.UTC().Format(time.RFC3339Nano))
		}
	}
	if raw := env.Pur; raw != nil && string(raw) != "null" {
		var pur string
		if err := json.Unmarshal(raw, &pur); err != nil {
			return nil, fmt.Errorf("%w: purpose is not a string", ErrWrongPurpose)
		}
		info.Purpose = pur
		if pur != "" && pur != d.purpose {
			return nil, fmt.Errorf("%w: purpose %s, want %s", ErrWrongPurpose, quoteShort(pur), quoteShort(d.purpose))
		}
	}
	msg, err := decode64Alloc(message)
	if err != nil {
		return nil, malformed("envelope's message is not base64")
	}
	return msg, nil
}

// Serializer signatures (activesupport messages/serializer_with_fallback.rb
// and message_pack/serializer.rb).
var (
	marshalSignature     = []byte{0x04, 0x08}
	messagePackSignature = []byte{0xcc, 0x80} // msgpack uint8 128
	jsonStart            = regexp.MustCompile(`\A(?:[{\["]|-?\d|true|false|null)`)
)

// deserialize detects the serializer from the first bytes, as
// SerializerWithFallback does, whatever the app's cookies_serializer:
// Marshal, MessagePack, else JSON.
func (d *Decoder) deserialize(msg []byte, info *Info) ([]byte, error) {
	switch {
	case bytes.HasPrefix(msg, marshalSignature):
		info.Serializer = "marshal"
		if d.marshal == nil {
			return nil, ErrNoMarshal
		}
		out, err := d.marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("%w: ruby marshal: %w", ErrMalformed, err)
		}
		if !json.Valid(out) {
			return nil, fmt.Errorf("%w: the Marshal decoder returned invalid JSON", ErrMalformed)
		}
		return out, nil
	case bytes.HasPrefix(msg, messagePackSignature):
		info.Serializer = "message_pack"
		return messagePackToJSON(msg[len(messagePackSignature):])
	}
	info.Serializer = "json"
	if json.Valid(msg) {
		return msg, nil
	}
	if jsonStart.Match(msg) {
		return nil, malformed("session is not valid JSON")
	}
	return nil, unknownFormat("session is neither JSON, Ruby Marshal nor MessagePack")
}

// appendRubyString appends a Ruby String with the given encoding name by
// the README §1 rule: a JSON string when the encoding is UTF-8, US-ASCII or
// ASCII-8BIT and the bytes are valid UTF-8, otherwise
// {"__bytes": hex, "encoding": name}.
func appendRubyString(b []byte, s []byte, encoding string) []byte {
	if utf8.Valid(s) && (encoding == "UTF-8" || encoding == "US-ASCII" || encoding == "ASCII-8BIT") {
		return jsonstr.Append(b, string(s))
	}
	b = append(b, `{"__bytes":"`...)
	b = fmt.Appendf(b, "%x", s)
	b = append(b, `","encoding":`...)
	b = jsonstr.Append(b, encoding)
	return append(b, '}')
}

// appendRubyFloat appends f as README §1 maps a Float: a JSON number
// written as Ruby's Float#to_s writes it (always with a "." or an
// exponent), or {"__float": "nan" | "inf" | "-inf"}.
func appendRubyFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `{"__float":"nan"}`...)
	case math.IsInf(f, 1):
		return append(b, `{"__float":"inf"}`...)
	case math.IsInf(f, -1):
		return append(b, `{"__float":"-inf"}`...)
	}
	return append(b, rubyFloatString(f)...)
}

// rubyFloatString formats a finite float like Ruby's Float#to_s: the
// shortest digits that round-trip; fixed notation when the decimal
// exponent is in -4 < decpt <= 15 (0.0001 and 100000000000000.0 are
// fixed; 1.0e-05 and 1.0e+15 are not), else d.ddde[+-]XX.
func rubyFloatString(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.dddde±XX
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1
	switch {
	case decpt > 0 && decpt <= 15:
		if len(digits) <= decpt {
			return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		}
		return sign + digits[:decpt] + "." + digits[decpt:]
	case decpt <= 0 && decpt > -4:
		return sign + "0." + strings.Repeat("0", -decpt) + digits
	}
	frac := digits[1:]
	if frac == "" {
		frac = "0"
	}
	return fmt.Sprintf("%s%s.%se%+03d", sign, digits[:1], frac, exp)
}
