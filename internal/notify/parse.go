package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Parse reads a publish: one JSON object, or a non-empty JSON array of at
// most MaxMessages objects (see the package documentation for the fields).
// It returns the messages in order, or an error naming the first invalid
// message and field; a publish with any invalid message is rejected whole.
//
// Parse does not retain b: every returned Data is a copy.
func Parse(b []byte) ([]Message, error) {
	i := skipSpace(b)
	if i == len(b) {
		return nil, errors.New("empty input: expected a JSON object or an array of objects")
	}
	switch b[i] {
	case '{':
		m, err := parseObject(b)
		if err != nil {
			return nil, err
		}
		return []Message{m}, nil
	case '[':
		if err := validJSON(b); err != nil {
			return nil, err
		}
		raws := splitArray(b)
		if len(raws) == 0 {
			return nil, errors.New("empty array: expected at least one message")
		}
		if len(raws) > MaxMessages {
			return nil, fmt.Errorf("too many messages: %d (at most %d per array)", len(raws), MaxMessages)
		}
		msgs := make([]Message, len(raws))
		for j, raw := range raws {
			if raw[0] != '{' {
				return nil, fmt.Errorf("message %d: expected a JSON object, got %s", j, kind(raw))
			}
			var members [8]member
			m, err := parseMembers(splitObject(members[:0], raw))
			if err != nil {
				return nil, fmt.Errorf("message %d: %w", j, err)
			}
			msgs[j] = m
		}
		return msgs, nil
	default:
		if !json.Valid(b) {
			var v json.RawMessage
			return nil, jsonError(json.Unmarshal(b, &v))
		}
		return nil, fmt.Errorf("expected a JSON object or an array of objects, got %s", kind(b[i:]))
	}
}

// conflictsWithDisconnect are the fields a disconnect command cannot carry,
// in the order they are reported.
var conflictsWithDisconnect = [...]string{"event", "data", "user", "users", "room", "rooms", "broadcast"}

// parseObject parses one message from a JSON object.
func parseObject(b []byte) (Message, error) {
	if err := validJSON(b); err != nil {
		return Message{}, err
	}
	var members [8]member
	return parseMembers(splitObject(members[:0], b))
}

// parseMembers parses one message from a valid JSON object's members.
func parseMembers(f object) (Message, error) {
	var m Message
	if raw, ok := f.get("disconnect"); ok {
		for _, k := range conflictsWithDisconnect {
			if _, ok := f.get(k); ok {
				return Message{}, fmt.Errorf(`"disconnect" cannot be combined with %q`, k)
			}
		}
		d, err := parseDisconnect(raw)
		if err != nil {
			return Message{}, err
		}
		m.Disconnect = d
		return m, nil
	}

	m.Event = DefaultEvent
	if raw, ok := f.get("event"); ok {
		s, ok := parseString(raw)
		if !ok {
			return Message{}, fmt.Errorf(`"event": must be a string, got %s`, kind(raw))
		}
		if err := checkEvent(s); err != nil {
			return Message{}, fmt.Errorf(`"event": %w`, err)
		}
		m.Event = s
	}
	if raw, ok := f.get("data"); ok {
		// Already valid JSON (checked with the whole input).
		if !utf8.Valid(raw) {
			return Message{}, errors.New(`"data": contains invalid UTF-8`)
		}
		m.Data = bytes.Clone(raw) // the publish is not retained
	}
	if raw, ok := f.get("broadcast"); ok {
		switch string(raw) {
		case "true":
			m.Broadcast = true
		case "false":
		default:
			return Message{}, fmt.Errorf(`"broadcast": must be true or false, got %s`, kind(raw))
		}
	}

	user, hasUser := f.get("user")
	room, hasRoom := f.get("room")
	users, err := parseArray(f, "users", `"users"`, "user ids")
	if err != nil {
		return Message{}, err
	}
	rooms, err := parseArray(f, "rooms", `"rooms"`, "room names")
	if err != nil {
		return Message{}, err
	}
	nUsers, nRooms := len(users)+count(hasUser), len(rooms)+count(hasRoom)
	if err := checkCount(nUsers + nRooms); err != nil {
		return Message{}, err
	}
	if m.Broadcast {
		for _, k := range [...]string{"user", "users", "room", "rooms"} {
			if _, ok := f.get(k); ok {
				return Message{}, fmt.Errorf(`"broadcast": true cannot be combined with %q`, k)
			}
		}
		return m, nil
	}
	if nUsers+nRooms == 0 {
		return Message{}, errNoTarget
	}

	if nUsers > 0 {
		m.Users = make([]string, 0, nUsers)
	}
	if hasUser {
		id, err := parseID(user)
		if err != nil {
			return Message{}, fmt.Errorf(`"user": %w`, err)
		}
		m.Users = append(m.Users, id)
	}
	for i, raw := range users {
		id, err := parseID(raw)
		if err != nil {
			return Message{}, fmt.Errorf(`"users"[%d]: %w`, i, err)
		}
		m.Users = append(m.Users, id)
	}
	if nRooms > 0 {
		m.Rooms = make([]string, 0, nRooms)
	}
	if hasRoom {
		r, err := parseRoom(room)
		if err != nil {
			return Message{}, fmt.Errorf(`"room": %w`, err)
		}
		m.Rooms = append(m.Rooms, r)
	}
	for i, raw := range rooms {
		r, err := parseRoom(raw)
		if err != nil {
			return Message{}, fmt.Errorf(`"rooms"[%d]: %w`, i, err)
		}
		m.Rooms = append(m.Rooms, r)
	}
	return m, nil
}

// parseDisconnect parses the object of a disconnect command.
func parseDisconnect(raw json.RawMessage) (*Disconnect, error) {
	if raw[0] != '{' {
		return nil, fmt.Errorf(`"disconnect": must be an object, got %s`, kind(raw))
	}
	var members [8]member
	f := splitObject(members[:0], raw) // valid: checked with the whole input
	user, hasUser := f.get("user")
	session, hasSession := f.get("session")
	users, err := parseArray(f, "users", `"disconnect.users"`, "user ids")
	if err != nil {
		return nil, err
	}
	sessions, err := parseArray(f, "sessions", `"disconnect.sessions"`, "session tokens")
	if err != nil {
		return nil, err
	}
	nUsers, nSessions := len(users)+count(hasUser), len(sessions)+count(hasSession)
	if err := checkCount(nUsers + nSessions); err != nil {
		return nil, fmt.Errorf(`"disconnect": %w`, err)
	}
	if nUsers+nSessions == 0 {
		return nil, errNoDisconnectTarget
	}

	d := &Disconnect{}
	if nUsers > 0 {
		d.Users = make([]string, 0, nUsers)
	}
	if hasUser {
		id, err := parseID(user)
		if err != nil {
			return nil, fmt.Errorf(`"disconnect.user": %w`, err)
		}
		d.Users = append(d.Users, id)
	}
	for i, raw := range users {
		id, err := parseID(raw)
		if err != nil {
			return nil, fmt.Errorf(`"disconnect.users"[%d]: %w`, i, err)
		}
		d.Users = append(d.Users, id)
	}
	if nSessions > 0 {
		d.Sessions = make([]string, 0, nSessions)
	}
	if hasSession {
		s, err := parseSession(session)
		if err != nil {
			return nil, fmt.Errorf(`"disconnect.session": %w`, err)
		}
		d.Sessions = append(d.Sessions, s)
	}
	for i, raw := range sessions {
		s, err := parseSession(raw)
		if err != nil {
			return nil, fmt.Errorf(`"disconnect.sessions"[%d]: %w`, i, err)
		}
		d.Sessions = append(d.Sessions, s)
	}
	return d, nil
}

// parseArray returns the elements of the array f[key], nil when it is
// absent; field names it in errors.
func parseArray(f object, key, field, of string) ([]json.RawMessage, error) {
	raw, ok := f.get(key)
	if !ok {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, fmt.Errorf("%s: must be an array of %s, got %s", field, of, kind(raw))
	}
	return splitArray(raw), nil // valid: checked with the whole input
}

// parseID parses a user id: a string, or a JSON integer kept exactly as
// written (never through a float, so 12345678901234567890 stays that).
func parseID(raw json.RawMessage) (string, error) {
	var id string
	switch c := raw[0]; {
	case c == '"':
		id, _ = parseString(raw)
	case c == '-' || '0' <= c && c <= '9':
		// The number's syntax was validated with the input; an integer is one
		// without a fraction or an exponent.
		if bytes.ContainsAny(raw, ".eE") {
			return "", fmt.Errorf("must be a string or an integer user id, got %s", quoteNumber(raw))
		}
		id = string(raw)
		if id == "-0" {
			id = "0"
		}
	default:
		return "", fmt.Errorf("must be a string or an integer user id, got %s", kind(raw))
	}
	if err := checkName(id); err != nil {
		return "", err
	}
	return id, nil
}

func parseRoom(raw json.RawMessage) (string, error) {
	r, ok := parseString(raw)
	if !ok {
		return "", fmt.Errorf("must be a string room name, got %s", kind(raw))
	}
	return r, checkName(r)
}

// parseSession parses a session token. Errors never quote it: it is a
// secret that lets its holder act as the signed-in user.
func parseSession(raw json.RawMessage) (string, error) {
	s, ok := parseString(raw)
	if !ok {
		return "", fmt.Errorf("must be a string session token, got %s", kind(raw))
	}
	return s, checkName(s)
}

// parseString decodes raw if it is a JSON string. Strings without escapes
// (nearly all) are sliced rather than decoded.
func parseString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), true
	}
	// Escapes, or invalid UTF-8 that encoding/json turns into U+FFFD.
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// kind describes a JSON value's type for an error message without quoting
// it (it may be a secret).
func kind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func jsonError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

func skipSpace(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func count(ok bool) int {
	if ok {
		return 1
	}
	return 0
}
