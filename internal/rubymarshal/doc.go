// Package rubymarshal decodes Ruby's Marshal format 4.8, the bytes that
// Marshal.dump writes and that Rails keeps in Marshal-serialized session
// cookies and in Redis session stores, into plain Go values. It uses the
// standard library only.
//
// # Safety
//
// In Ruby, Marshal.load on bytes an attacker controls means running the
// attacker's code: loading calls _load, marshal_load and allocators of
// whatever classes the bytes name. This package instantiates nothing and
// calls nothing: a class name is only a string in the result (Object.Class,
// UserDefined.Class, ...), a "u" object is only its dumped bytes, and a
// "U" object only its dumped value. Only Time is interpreted, from its
// documented 8-byte layout, because sessions carry Times.
//
// Hostile bytes still cost only bounded time and memory:
//
//   - the input size is capped (Limits.MaxBytes, 1 MiB by default);
//   - nesting is capped (Limits.MaxDepth, 64), so recursion is bounded;
//   - the number of values read is capped (Limits.MaxObjects, 100,000);
//   - every declared length or count is checked against the bytes left
//     before anything is allocated, so a four-byte header cannot ask for a
//     gigabyte; the elements an array or hash declares are also charged to
//     MaxObjects when it is allocated, so nested containers cannot multiply
//     the preallocation (a hostile 1 MiB input costs a few MiB at most);
//   - a Bignum is at most 4096 16-bit words;
//   - object links ("@") and symbol links (";") must point at an entry
//     already read.
//
// Links may make a value contain itself (a = []; a << a is legal Marshal):
// Decode returns such a value as it is, and ToJSON reports the cycle as an
// error. ToJSON also caps its output (MaxJSONBytes) and nesting
// (MaxJSONDepth), because shared links can describe exponentially large
// JSON in a few bytes. Lookup, AsString, AsInt64 and AsArray look one level
// down only.
//
// Decrypt or verify a cookie before decoding it: these limits make decoding
// safe, not the data trustworthy.
//
// # Format notes
//
// The object-link table is numbered the way Ruby's marshal.c numbers it:
// index 0 is the top value; every String, Array, Hash, Float, Bignum,
// Regexp, "o", "S", "U", "u", "c", "m" and "M" takes the next index in
// stream order; symbols, nil, true, false, Fixnums and the "I", "C" and "e"
// wrappers take none. Containers, "o", "S" and "U" are numbered before
// their contents, a Regexp before its instance variables, and a "u" object
// after them (so a Time's zone string comes before the Time). Symbols have
// their own table, numbered when the name is read.
//
// Decode rejects bytes after the top value, and the "d" type (C data
// objects), which Rails sessions never contain.
package rubymarshal
