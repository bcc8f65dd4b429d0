package notify

import (
	"encoding/json"
	"errors"
)

// A publish is checked once with json.Valid, then split by hand: the
// splitter below may assume valid JSON. encoding/json's reflection into a
// map cost a fifth of the CPU of a delivered notification.

// member is one name/value pair of a JSON object.
type member struct {
	key string
	val json.RawMessage
}

// object is a JSON object's members in order.
type object []member

// get returns the value of key; a repeated key's last value wins, as with
// encoding/json.
func (o object) get(key string) (json.RawMessage, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].key == key {
			return o[i].val, true
		}
	}
	return nil, false
}

var errNotValid = errors.New("not valid JSON")

// validJSON checks b, with encoding/json's error for invalid input.
func validJSON(b []byte) error {
	if json.Valid(b) {
		return nil
	}
	var v json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		return jsonError(err)
	}
	return errNotValid
}

// splitObject returns the members of the valid JSON object b, appended to
// o (callers pass a small array's slice: a message has a handful of
// members, and the array then stays on the stack).
func splitObject(o object, b []byte) object {
	var key string
	n := 0
	eachChild(b, func(v []byte) {
		if n++; n%2 == 1 {
			key, _ = parseString(v)
		} else {
			o = append(o, member{key, v})
		}
	})
	return o
}

// splitArray returns the elements of the valid JSON array b.
func splitArray(b []byte) []json.RawMessage {
	var elems []json.RawMessage
	eachChild(b, func(v []byte) { elems = append(elems, v) })
	return elems
}

// eachChild calls fn with each value directly inside the valid JSON object
// or array b, in order: an object's keys and values alternate.
func eachChild(b []byte, fn func([]byte)) {
	i := skipSpace(b) + 1 // past '{' or '['
	for {
		i += skipSpace(b[i:])
		switch b[i] {
		case '}', ']':
			return
		case ',', ':':
			i++
			continue
		}
		end := i + valueLen(b[i:])
		fn(b[i:end])
		i = end
	}
}

// valueLen returns the length of the valid JSON value at the start of b.
func valueLen(b []byte) int {
	switch b[0] {
	case '"':
		for i := 1; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
	case '{', '[':
		depth := 0
		for i := 0; i < len(b); i++ {
			switch b[i] {
			case '"':
				i += valueLen(b[i:]) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	default: // number, true, false, null
		for i := 1; i < len(b); i++ {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
		}
	}
	return len(b)
}
