package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/heraldrt/herald/internal/jsonstr"
)

// Limits on a publish. They bound the work one publish can cause on every
// node, and each is reported by name when exceeded.
const (
	// MaxMessages is the most messages one JSON array may hold.
	MaxMessages = 1000
	// MaxTargets is the most user ids and rooms (or, for a disconnect
	// command, user ids and sessions) one message may name.
	MaxTargets = 10000
	// MaxLen is the longest event name, user id, room name or session
	// token, in bytes.
	MaxLen = 256
)

// DefaultEvent is the event a notification is emitted as when it names none.
const DefaultEvent = "notification"

// UserRoomPrefix starts the name of the room every socket of a user joins.
const UserRoomPrefix = "user:"

// UserRoom returns the room every socket authenticated as user id joins,
// "user:<id>".
func UserRoom(id string) string { return UserRoomPrefix + id }

// Message is one notification or control command published by the app.
//
// Exactly one of three kinds: a notification to targets (Users and/or
// Rooms), a notification to everyone (Broadcast), or a control command
// (Disconnect, with every other field zero). Parse only returns valid
// messages; Validate checks one built in Go.
type Message struct {
	// Event is the Socket.IO event name; Parse sets DefaultEvent when the
	// input names none. Empty for a disconnect command.
	Event string
	// Data is the event's argument as sent (any JSON value, byte for byte);
	// nil when absent, in which case the event is emitted with no argument.
	// "data": null is present: Data is then the four bytes null.
	Data json.RawMessage
	// Users are user ids (JSON strings or integer numbers, normalised to
	// decimal strings), in input order, duplicates kept.
	Users []string
	// Rooms are room names, in input order, duplicates kept.
	Rooms []string
	// Broadcast sends to every connected socket.
	Broadcast bool
	// Disconnect, when not nil, makes this a control command: disconnect
	// these users' or sessions' sockets on every node.
	Disconnect *Disconnect
}

// Disconnect names the sockets a control command disconnects: every socket
// of each user id, and every socket authenticated with each session token.
type Disconnect struct {
	Users    []string
	Sessions []string
}

// Targets returns the rooms to emit m to: UserRoom(id) for each user, then
// Rooms, without duplicates (so a socket in several of them gets m once),
// in first-seen order. It is nil for a broadcast or a disconnect command.
func (m *Message) Targets() []string {
	if m.Broadcast || m.Disconnect != nil {
		return nil
	}
	n := len(m.Users) + len(m.Rooms)
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	// A linear scan beats a map for the usual one or two targets.
	var seen map[string]struct{}
	if n > 8 {
		seen = make(map[string]struct{}, n)
	}
	add := func(room string) {
		if seen != nil {
			if _, dup := seen[room]; dup {
				return
			}
			seen[room] = struct{}{}
		} else {
			for _, r := range out {
				if r == room {
					return
				}
			}
		}
		out = append(out, room)
	}
	for _, u := range m.Users {
		add(UserRoom(u))
	}
	for _, r := range m.Rooms {
		add(r)
	}
	return out
}

// Validate reports whether m obeys the rules Parse enforces (see the package
// documentation), naming fields as the canonical form does. An empty Event
// stands for DefaultEvent.
func (m *Message) Validate() error {
	if d := m.Disconnect; d != nil {
		if f := m.disconnectConflict(); f != "" {
			return fmt.Errorf(`"disconnect" cannot be combined with %q`, f)
		}
		if err := checkCount(len(d.Users) + len(d.Sessions)); err != nil {
			return fmt.Errorf(`"disconnect": %w`, err)
		}
		if len(d.Users)+len(d.Sessions) == 0 {
			return errNoDisconnectTarget
		}
		for i, u := range d.Users {
			if err := checkName(u); err != nil {
				return fmt.Errorf(`"disconnect.users"[%d]: %w`, i, err)
			}
		}
		for i, s := range d.Sessions {
			if err := checkName(s); err != nil {
				return fmt.Errorf(`"disconnect.sessions"[%d]: %w`, i, err)
			}
		}
		return nil
	}
	if m.Event != "" {
		if err := checkEvent(m.Event); err != nil {
			return fmt.Errorf(`"event": %w`, err)
		}
	}
	if len(m.Data) > 0 {
		if err := checkData(m.Data); err != nil {
			return fmt.Errorf(`"data": %w`, err)
		}
	}
	n := len(m.Users) + len(m.Rooms)
	if err := checkCount(n); err != nil {
		return err
	}
	if m.Broadcast && n > 0 {
		f := "users"
		if len(m.Users) == 0 {
			f = "rooms"
		}
		return fmt.Errorf(`"broadcast": true cannot be combined with %q`, f)
	}
	if !m.Broadcast && n == 0 {
		return errNoTarget
	}
	for i, u := range m.Users {
		if err := checkName(u); err != nil {
			return fmt.Errorf(`"users"[%d]: %w`, i, err)
		}
	}
	for i, r := range m.Rooms {
		if err := checkName(r); err != nil {
			return fmt.Errorf(`"rooms"[%d]: %w`, i, err)
		}
	}
	return nil
}

// disconnectConflict names the first field a disconnect command must not
// carry, or returns "".
func (m *Message) disconnectConflict() string {
	switch {
	case m.Event != "":
		return "event"
	case len(m.Data) > 0:
		return "data"
	case len(m.Users) > 0:
		return "users"
	case len(m.Rooms) > 0:
		return "rooms"
	case m.Broadcast:
		return "broadcast"
	}
	return ""
}

// MarshalJSON encodes m in the canonical form (see the package
// documentation), which Parse reads back to an equal Message. It fails if m
// is not valid (see Validate).
//
// It has a value receiver so that json.Marshal uses it for a Message as well
// as a *Message. Note that json.Marshal compacts and HTML-escapes what
// MarshalJSON returns, which may change the bytes of Data (not its meaning);
// call MarshalJSON directly for the exact canonical bytes.
func (m Message) MarshalJSON() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	size := 32 + len(m.Data)
	for _, s := range m.Users {
		size += len(s) + 3
	}
	for _, s := range m.Rooms {
		size += len(s) + 3
	}
	b := make([]byte, 0, size)
	if d := m.Disconnect; d != nil {
		b = append(b, `{"disconnect":{`...)
		if len(d.Users) > 0 {
			b = appendStrings(append(b, `"users":`...), d.Users)
		}
		if len(d.Sessions) > 0 {
			if len(d.Users) > 0 {
				b = append(b, ',')
			}
			b = appendStrings(append(b, `"sessions":`...), d.Sessions)
		}
		return append(b, "}}"...), nil
	}
	event := m.Event
	if event == "" {
		event = DefaultEvent
	}
	b = jsonstr.Append(append(b, `{"event":`...), event)
	if len(m.Users) > 0 {
		b = appendStrings(append(b, `,"users":`...), m.Users)
	}
	if len(m.Rooms) > 0 {
		b = appendStrings(append(b, `,"rooms":`...), m.Rooms)
	}
	if m.Broadcast {
		b = append(b, `,"broadcast":true`...)
	}
	if len(m.Data) > 0 {
		b = append(append(b, `,"data":`...), m.Data...)
	}
	return append(b, '}'), nil
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.Append(b, s)
	}
	return append(b, ']')
}

var (
	errNoTarget           = errors.New(`no target: set "user", "users", "room" or "rooms", or "broadcast": true, or "disconnect"`)
	errNoDisconnectTarget = errors.New(`"disconnect": no user or session: set "user", "users", "session" or "sessions"`)
)

// reserved are the event names Socket.IO keeps for itself: a client's
// socket.on("connect", ...) would be fired by a notification, confusing the
// app's connection handling.
func reserved(event string) bool {
	switch event {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

func checkEvent(e string) error {
	if err := checkName(e); err != nil {
		return err
	}
	if reserved(e) {
		return fmt.Errorf("%q is reserved by Socket.IO", e)
	}
	return nil
}

// checkName checks a user id, room name, session token or event name. Its
// errors never quote the value: it may be a session token.
func checkName(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	if len(s) > MaxLen {
		return fmt.Errorf("must be at most %d bytes, got %d", MaxLen, len(s))
	}
	return nil
}

func checkCount(n int) error {
	if n > MaxTargets {
		return fmt.Errorf("too many targets: %d (at most %d per message)", n, MaxTargets)
	}
	return nil
}

func checkData(d json.RawMessage) error {
	if !json.Valid(d) {
		return errors.New("not valid JSON")
	}
	if !utf8.Valid(d) {
		return errors.New("contains invalid UTF-8")
	}
	return nil
}

// quoteNumber shows a rejected number in an error, shortened.
func quoteNumber(raw []byte) string {
	const max = 32
	if len(raw) > max {
		return string(raw[:max]) + "..."
	}
	return string(raw)
}

var _ json.Marshaler = Message{}
