package railscookie

import (
	"errors"
	"fmt"
)

// The reasons Decode gives. Every error it returns wraps exactly one of
// ErrBadSignature, ErrWrongPurpose, ErrExpired, ErrUnknownFormat,
// ErrMalformed, ErrUnsupported or ErrNoMarshal (ErrTooLarge also matches
// ErrMalformed), with detail that never contains a secret, a derived key or
// the cookie value. Use errors.Is, or Reason for a short code.
var (
	// ErrBadSignature: no configured key verifies the HMAC or opens the GCM
	// tag (tampered cookie, wrong or missing secret_key_base, wrong salt).
	// Every secret and both KDF digests were tried.
	ErrBadSignature = errors.New("railscookie: bad signature")

	// ErrWrongPurpose: the `_rails` envelope names a purpose other than
	// "cookie.<CookieName>": the cookie was issued under another name.
	ErrWrongPurpose = errors.New("railscookie: cookie is for another purpose")

	// ErrExpired: the `_rails` envelope's exp is not in the future.
	ErrExpired = errors.New("railscookie: cookie has expired")

	// ErrUnknownFormat: the value is not one of Rails' cookie layouts, or
	// the authenticated payload is neither JSON, Ruby Marshal nor
	// ActiveSupport::MessagePack.
	ErrUnknownFormat = errors.New("railscookie: unknown cookie format")

	// ErrMalformed: the value has a known layout but is damaged: truncated,
	// bad percent-encoding or base64, wrong IV or tag length, an invalid
	// envelope, or a serialized payload that does not parse.
	ErrMalformed = errors.New("railscookie: malformed cookie")

	// ErrTooLarge: the value is longer than MaxCookieSize. It wraps
	// ErrMalformed.
	ErrTooLarge = fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxCookieSize)

	// ErrUnsupported: an authentic payload holds a value this package does
	// not map to JSON (an unknown MessagePack extension type, or a hash key
	// that is not a string, symbol or integer).
	ErrUnsupported = errors.New("railscookie: unsupported value in session")

	// ErrNoMarshal: the session is Ruby Marshal-serialized and
	// Options.Marshal is nil.
	ErrNoMarshal = errors.New("railscookie: session is Ruby Marshal-serialized and no Marshal decoder is configured")
)

// Reason returns a short, stable code for err, for logs, metrics and the
// CLI: "bad_signature", "wrong_purpose", "expired", "unknown_format",
// "too_large", "malformed", "unsupported", "no_marshal", or "" when err is
// nil or not from this package.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrBadSignature):
		return "bad_signature"
	case errors.Is(err, ErrWrongPurpose):
		return "wrong_purpose"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrUnknownFormat):
		return "unknown_format"
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrUnsupported):
		return "unsupported"
	case errors.Is(err, ErrNoMarshal):
		return "no_marshal"
	}
	return ""
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

func unknownFormat(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnknownFormat, fmt.Sprintf(format, args...))
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}

// quoteShort quotes s for an error message, cut to 64 bytes. Only used for
// authenticated content (an envelope's purpose), never for the cookie.
func quoteShort(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%q...", s[:64])
	}
	return fmt.Sprintf("%q", s)
}
