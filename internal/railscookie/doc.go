// Package railscookie verifies, decrypts and decodes Rails session cookies
// (the cookie store), given the app's secret_key_base, so herald can
// authenticate a connection from the cookie the browser already sends.
// ../shared/docs/rails-sessions.md §1 describes the formats; every one was
// checked against cookies written by real Rails.
//
// # Pipeline
//
// Decoder.Decode takes the cookie value as it appears in the Cookie header:
//
//  1. Reject values longer than MaxCookieSize (8 KiB) before any work, then
//     percent-decode (Rack escapes with URI.encode_www_form_component).
//  2. Pick the layout from the "--"-separated parts. Three parts are
//     AES-256-GCM (Rails 5.2+): B64(ct)--B64(12-byte iv)--B64(16-byte tag),
//     no associated data, key PBKDF2(secret, authenticated_encrypted_cookie_salt, 32).
//     Two parts, data--hex(HMAC(data)), are either AES-256-CBC (Rails
//     4.0–5.1; data = B64(B64(ct)--B64(iv)); MAC key PBKDF2(secret,
//     encrypted_signed_cookie_salt, 64), encryption key PBKDF2(secret,
//     encrypted_cookie_salt, 32)) or a signed cookie (data = B64(payload);
//     MAC key PBKDF2(secret, signed_cookie_salt, 64)): the key that verifies
//     the MAC tells which. The MAC digest follows from the hex length: 40 is
//     SHA1 (Rails' default), 64, 96 and 128 are SHA256, SHA384 and SHA512
//     (signed_cookie_digest and cookies_digest are configurable).
//  3. Try every key in order: for each secret (current first), the key
//     derived with PBKDF2-HMAC-SHA256 (load_defaults 7.0+), then with
//     PBKDF2-HMAC-SHA1 (Rails ≤ 6.1, and 7.x apps with the SHA1 rotator);
//     1000 iterations, the secret used as its ASCII text. MACs are compared
//     with hmac.Equal; nothing inside is parsed before a MAC or tag checks
//     out. All keys are derived once, in New.
//  4. Unwrap the `_rails` envelope (a plaintext starting with
//     {"_rails":): exp not in the future → ErrExpired; a purpose other than
//     "cookie.<CookieName>" → ErrWrongPurpose (nil or "" is accepted, as
//     Rails' retry without a purpose does); the message is base64. No
//     envelope is fine (4.x, 5.2 without expiry, use_cookies_with_metadata
//     off). Cookie jars always write this legacy envelope, even in 7.1+.
//  5. Detect the serializer from the first bytes, as Rails 7.1's
//     SerializerWithFallback does, whatever the app's cookies_serializer:
//     04 08 is Ruby Marshal (handed to Options.Marshal), CC 80 is
//     ActiveSupport::MessagePack (mapped here, see msgpack.go), anything
//     else is JSON (returned as it is, after json.Valid).
//
// The result is the session as JSON, in the value mapping of
// ../shared/testdata/rails/README.md §1. For a Rails 8 authentication
// generator cookie (cookies.signed[:session_id]) it is the stored value,
// e.g. 123.
//
// # MessagePack (Rails 7.1 cookies_serializer = :message_pack)
//
// The payload is the msgpack uint8 128 (CC 80) followed by one msgpack
// value. Ruby types travel as extension types (activesupport
// message_pack/extensions.rb): 0 Symbol, 1 Integer beyond 64 bits, 2
// BigDecimal, 3 Rational, 4 Complex, 5 DateTime, 6 Date, 7 Time, 8
// TimeWithZone, 9 TimeZone, 10 Duration, 11 Range, 12 Set, 13 URI, 14
// IPAddr, 15 Pathname, 16 Regexp, 17 HashWithIndifferentAccess, 18
// SafeBuffer (127 is the opt-in object fallback; rejected). Each maps to
// the JSON its Marshal form has, so a session reads the same whichever
// serializer wrote it; msgpack.go lists the payloads and the few forms
// Marshal has no equivalent for.
//
// # Errors and limits
//
// Every error wraps one sentinel (ErrBadSignature, ErrWrongPurpose,
// ErrExpired, ErrUnknownFormat, ErrMalformed, ErrUnsupported, ErrNoMarshal;
// ErrTooLarge also matches ErrMalformed) and Reason gives a short code.
// Messages never contain a secret, a key or the cookie value. Declared
// msgpack lengths and counts are checked against the bytes left before
// anything is allocated or looped over, and nesting is capped at 100.
//
// # Not handled
//
// Rails 3 / 4 apps without secret_key_base sign with the raw secret_token
// (no PBKDF2); pass that case to a different decoder. Server-side session
// stores (the cookie holds only a session id) are another package's job.
//
// # Tests
//
// testdata/cookies.jsonl is a copy of ../shared/testdata/rails/
// cookies.jsonl (15 cookies from Rails 6.1.7.10). testdata/gen_cookies.rb
// has real Rails write fresh cookies with random secrets, configurations
// and contents; TestDifferentialRails runs it when ruby and Debian's
// ruby-rails and ruby-devise are installed (HERALD_DIFF_SEED reproduces a
// run). Marshal-serialized vectors go through the test's Marshal hook,
// testMarshal.
package railscookie
