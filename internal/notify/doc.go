// Package notify is the schema of the messages a Rails app publishes to
// herald, on the Redis channel (default herald:notify) or through
// POST /api/publish: parsing, validation, the canonical encoding that herald
// nodes pass to each other, and the rooms a message is delivered to.
//
// It is pure (standard library only, no I/O, no logging) and fuzzed:
// everything Parse accepts is encoded by MarshalJSON into a form that Parse
// reads back to an equal Message.
//
// # Input
//
// A publish is one JSON object, or a non-empty JSON array of at most
// MaxMessages (1,000) objects. Each object is either a notification:
//
//	{"user": 42, "event": "notification", "data": {"title": "New comment"}}
//	{"users": ["42", 43], "room": "admins", "data": ...}
//	{"broadcast": true, "event": "maintenance", "data": ...}
//
// or a control command that disconnects sockets on every node:
//
//	{"disconnect": {"user": "42"}}
//	{"disconnect": {"users": [42, "43"], "sessions": ["<token>"]}}
//
// Fields of a notification:
//
//	event      string, optional, default "notification": the Socket.IO event
//	           the client receives (socket.on(event, data)). Non-empty, at
//	           most 256 bytes, and not one of Socket.IO's reserved names:
//	           connect, connect_error, disconnect, disconnecting,
//	           newListener, removeListener.
//	data       any JSON value, optional: the event's argument, forwarded
//	           byte for byte. "data": null sends null; without "data" the
//	           event has no argument. Must be valid UTF-8 (a WebSocket text
//	           frame carrying invalid UTF-8 would close the client's
//	           connection).
//	user       one user id: a non-empty string of at most 256 bytes, or a
//	           JSON integer (42, or 12345678901234567890: kept exactly as
//	           written, never through a float). Floats (4.2), exponents
//	           (1e3), booleans, null, objects and arrays are rejected.
//	           Strings are not trimmed: "42" and " 42" are different users.
//	users      an array of user ids as above (may be empty).
//	room       one room name: a non-empty string of at most 256 bytes.
//	rooms      an array of room names (may be empty).
//	broadcast  true or false. true sends to every connected socket and
//	           cannot be combined with user, users, room or rooms.
//
// A notification needs at least one target (user, users, room, rooms) or
// "broadcast": true. User id 42 is delivered to the room "user:42" (see
// UserRoom), which every socket authenticated as user 42 joins; user, users,
// room and rooms may be combined and the union is delivered once per socket
// (see Message.Targets). A message has at most MaxTargets (10,000) ids in
// user, users, room and rooms together.
//
// Fields of "disconnect", an object: user, users (user ids as above) and
// session, sessions (non-empty session token strings of at most 256 bytes);
// at least one id, at most MaxTargets in all. A disconnect command takes no
// other top-level field: event, data, user, users, room, rooms or broadcast
// next to it is an error.
//
// Unknown fields, at the top level and inside "disconnect", are ignored, so
// that an app can publish fields a newer herald understands to an older one.
// Field names are matched exactly ("User" is an unknown field). If a field
// appears twice in an object, the last occurrence wins.
//
// # Errors
//
// Parse rejects the whole publish at the first invalid message; nothing of
// it should be delivered. Errors name the message (its zero-based index, for
// arrays), the field, and the element index within an array field:
//
//	message 3: "users"[2]: must be a string or an integer user id, got 4.2
//
// Error texts never quote session tokens, which are secrets.
//
// # Canonical form
//
// Message.MarshalJSON writes a message in one canonical form, the one
// herald nodes exchange over Redis:
//
//	{"event":"notification","users":["42"],"rooms":["admins"],"data":{...}}
//	{"event":"maintenance","broadcast":true,"data":{...}}
//	{"disconnect":{"users":["42"],"sessions":["..."]}}
//
// User ids are always strings, user and room are folded into users and
// rooms, empty arrays are left out and data comes last, byte for byte.
package notify
