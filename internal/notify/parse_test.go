package notify

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func TestParseValid(t *testing.T) {
	cases := []struct {
		name, in string
		want     []Message
	}{
		{"user string", `{"user":"42","event":"notification","data":{"title":"hi"}}`,
			[]Message{{Event: "notification", Data: raw(`{"title":"hi"}`), Users: []string{"42"}}}},
		{"user number, default event, no data", `{"user":42}`,
			[]Message{{Event: "notification", Users: []string{"42"}}}},
		{"big integer kept exactly", `{"user":12345678901234567890}`,
			[]Message{{Event: "notification", Users: []string{"12345678901234567890"}}}},
		{"negative zero", `{"user":-0}`,
			[]Message{{Event: "notification", Users: []string{"0"}}}},
		{"negative integer", `{"user":-7}`,
			[]Message{{Event: "notification", Users: []string{"-7"}}}},
		{"users mixed", `{"users":["1",2,"x"],"event":"comment"}`,
			[]Message{{Event: "comment", Users: []string{"1", "2", "x"}}}},
		{"user then users, duplicates kept", `{"users":[1,2],"user":1}`,
			[]Message{{Event: "notification", Users: []string{"1", "1", "2"}}}},
		{"room and rooms", `{"rooms":["b","c"],"room":"a"}`,
			[]Message{{Event: "notification", Rooms: []string{"a", "b", "c"}}}},
		{"users and rooms", `{"users":[1],"rooms":["admins"]}`,
			[]Message{{Event: "notification", Users: []string{"1"}, Rooms: []string{"admins"}}}},
		{"empty users with a room", `{"users":[],"room":"a"}`,
			[]Message{{Event: "notification", Rooms: []string{"a"}}}},
		{"broadcast", `{"broadcast":true,"event":"maintenance","data":"at 10pm"}`,
			[]Message{{Event: "maintenance", Data: raw(`"at 10pm"`), Broadcast: true}}},
		{"broadcast false with a user", `{"broadcast":false,"user":1}`,
			[]Message{{Event: "notification", Users: []string{"1"}}}},
		{"data null is kept", `{"user":1,"data":null}`,
			[]Message{{Event: "notification", Data: raw(`null`), Users: []string{"1"}}}},
		{"data byte for byte", "{\"user\":1,\"data\": { \"a\" : [1, 2.50, \"\\u00e9<>\"] } }",
			[]Message{{Event: "notification", Data: raw("{ \"a\" : [1, 2.50, \"\\u00e9<>\"] }"), Users: []string{"1"}}}},
		{"data any scalar", `{"user":1,"data":1e3}`,
			[]Message{{Event: "notification", Data: raw(`1e3`), Users: []string{"1"}}}},
		{"escaped strings decoded", `{"user":"\u0034\u0032","room":"caf\u00e9","event":"a\"b"}`,
			[]Message{{Event: `a"b`, Users: []string{"42"}, Rooms: []string{"café"}}}},
		{"strings not trimmed", `{"user":" 42 "}`,
			[]Message{{Event: "notification", Users: []string{" 42 "}}}},
		{"unknown fields ignored", `{"user":1,"priority":"high","User":{},"ttl":[1,2]}`,
			[]Message{{Event: "notification", Users: []string{"1"}}}},
		{"last duplicate wins", `{"user":1,"user":2}`,
			[]Message{{Event: "notification", Users: []string{"2"}}}},
		{"whitespace around", " \n\t{\"user\":1}\r\n ",
			[]Message{{Event: "notification", Users: []string{"1"}}}},
		{"event at the limit", `{"user":1,"event":"` + strings.Repeat("e", MaxLen) + `"}`,
			[]Message{{Event: strings.Repeat("e", MaxLen), Users: []string{"1"}}}},
		{"reserved names are case-sensitive", `{"user":1,"event":"Connect"}`,
			[]Message{{Event: "Connect", Users: []string{"1"}}}},
		{"disconnect user", `{"disconnect":{"user":"42"}}`,
			[]Message{{Disconnect: &Disconnect{Users: []string{"42"}}}}},
		{"disconnect user number", `{"disconnect":{"user":42}}`,
			[]Message{{Disconnect: &Disconnect{Users: []string{"42"}}}}},
		{"disconnect session", `{"disconnect":{"session":"tok"}}`,
			[]Message{{Disconnect: &Disconnect{Sessions: []string{"tok"}}}}},
		{"disconnect all kinds", `{"disconnect":{"users":[1,"2"],"user":0,"sessions":["b"],"session":"a","why":"x"},"reason":"signed out"}`,
			[]Message{{Disconnect: &Disconnect{Users: []string{"0", "1", "2"}, Sessions: []string{"a", "b"}}}}},
		{"array", `[{"user":1},{"broadcast":true},{"disconnect":{"user":2}}]`,
			[]Message{
				{Event: "notification", Users: []string{"1"}},
				{Event: "notification", Broadcast: true},
				{Disconnect: &Disconnect{Users: []string{"2"}}},
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse([]byte(c.in))
			if err != nil {
				t.Fatalf("Parse(%s): %v", c.in, err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Parse(%s)\n got %#v\nwant %#v", c.in, got, c.want)
			}
			roundTrip(t, got)
		})
	}
}

func TestParseInvalid(t *testing.T) {
	long := strings.Repeat("x", MaxLen+1)
	cases := []struct{ name, in, err string }{
		{"empty", ``, "empty input: expected a JSON object or an array of objects"},
		{"blank", " \n", "empty input"},
		{"syntax", `{"user":1`, "invalid JSON at byte 9: unexpected end of JSON input"},
		{"trailing garbage", `{"user":1} x`, "invalid JSON at byte 12: invalid character 'x' after top-level value"},
		{"two objects", `{"user":1}{"user":2}`, "invalid JSON"},
		{"garbage", `hello`, "invalid JSON at byte 1: invalid character 'h'"},
		{"string", `"hello"`, "expected a JSON object or an array of objects, got a string"},
		{"null", `null`, "got null"},
		{"number", `42`, "got a number"},
		{"empty array", `[]`, "empty array: expected at least one message"},
		{"array of non-objects", `[{"user":1},42]`, "message 1: expected a JSON object, got a number"},
		{"nested array", `[[{"user":1}]]`, "message 0: expected a JSON object, got an array"},
		{"too many messages", "[" + strings.TrimSuffix(strings.Repeat(`{"user":1},`, MaxMessages+1), ",") + "]",
			"too many messages: 1001 (at most 1000 per array)"},
		{"no target", `{"event":"x","data":{}}`, `no target: set "user", "users", "room" or "rooms", or "broadcast": true, or "disconnect"`},
		{"empty object", `{}`, "no target"},
		{"only empty arrays", `{"users":[],"rooms":[]}`, "no target"},
		{"broadcast false alone", `{"broadcast":false}`, "no target"},
		{"indexed in array", `[{"user":1},{"user":2},{"user":3},{"users":[1,2,4.2]}]`,
			`message 3: "users"[2]: must be a string or an integer user id, got 4.2`},
		{"float user", `{"user":4.2}`, `"user": must be a string or an integer user id, got 4.2`},
		{"float user 1.0", `{"user":1.0}`, `"user": must be a string or an integer user id, got 1.0`},
		{"exponent user", `{"user":1e3}`, `"user": must be a string or an integer user id, got 1e3`},
		{"capital exponent user", `{"user":1E3}`, `got 1E3`},
		{"long number shortened", `{"user":0.` + strings.Repeat("1", 100) + `}`, `got 0.111111111111111111111111111111...`},
		{"bool user", `{"user":true}`, `"user": must be a string or an integer user id, got a boolean`},
		{"null user", `{"user":null}`, `"user": must be a string or an integer user id, got null`},
		{"object user", `{"user":{"id":1}}`, `"user": must be a string or an integer user id, got an object`},
		{"array user", `{"user":[1]}`, `"user": must be a string or an integer user id, got an array`},
		{"empty user", `{"user":""}`, `"user": must not be empty`},
		{"long user", `{"user":"` + long + `"}`, `"user": must be at most 256 bytes, got 257`},
		{"long integer user", `{"user":` + strings.Repeat("9", MaxLen+1) + `}`, `"user": must be at most 256 bytes, got 257`},
		{"users not array", `{"users":"1"}`, `"users": must be an array of user ids, got a string`},
		{"users null", `{"users":null}`, `"users": must be an array of user ids, got null`},
		{"users element", `{"users":["1",""]}`, `"users"[1]: must not be empty`},
		{"room number", `{"room":5}`, `"room": must be a string room name, got a number`},
		{"room empty", `{"room":""}`, `"room": must not be empty`},
		{"room long", `{"room":"` + long + `"}`, `"room": must be at most 256 bytes, got 257`},
		{"rooms not array", `{"rooms":{"a":1}}`, `"rooms": must be an array of room names, got an object`},
		{"rooms element", `{"rooms":["a",null]}`, `"rooms"[1]: must be a string room name, got null`},
		{"event not string", `{"user":1,"event":5}`, `"event": must be a string, got a number`},
		{"event null", `{"user":1,"event":null}`, `"event": must be a string, got null`},
		{"event empty", `{"user":1,"event":""}`, `"event": must not be empty`},
		{"event long", `{"user":1,"event":"` + long + `"}`, `"event": must be at most 256 bytes, got 257`},
		{"event connect", `{"user":1,"event":"connect"}`, `"event": "connect" is reserved by Socket.IO`},
		{"event connect_error", `{"user":1,"event":"connect_error"}`, `"connect_error" is reserved`},
		{"event disconnect", `{"user":1,"event":"disconnect"}`, `"disconnect" is reserved`},
		{"event disconnecting", `{"user":1,"event":"disconnecting"}`, `"disconnecting" is reserved`},
		{"event newListener", `{"user":1,"event":"newListener"}`, `"newListener" is reserved`},
		{"event removeListener", `{"user":1,"event":"removeListener"}`, `"removeListener" is reserved`},
		{"broadcast not bool", `{"broadcast":"true"}`, `"broadcast": must be true or false, got a string`},
		{"broadcast null", `{"broadcast":null,"user":1}`, `"broadcast": must be true or false, got null`},
		{"broadcast with user", `{"broadcast":true,"user":1}`, `"broadcast": true cannot be combined with "user"`},
		{"broadcast with empty rooms", `{"broadcast":true,"rooms":[]}`, `"broadcast": true cannot be combined with "rooms"`},
		{"data invalid UTF-8", "{\"user\":1,\"data\":\"\xff\"}", `"data": contains invalid UTF-8`},
		{"too many targets", `{"users":[` + strings.TrimSuffix(strings.Repeat(`1,`, MaxTargets), ",") + `],"room":"a"}`,
			"too many targets: 10001 (at most 10000 per message)"},
		{"disconnect with event", `{"disconnect":{"user":1},"event":"x"}`, `"disconnect" cannot be combined with "event"`},
		{"disconnect with data", `{"disconnect":{"user":1},"data":null}`, `"disconnect" cannot be combined with "data"`},
		{"disconnect with user", `{"disconnect":{"user":1},"user":1}`, `"disconnect" cannot be combined with "user"`},
		{"disconnect with rooms", `{"disconnect":{"user":1},"rooms":[]}`, `"disconnect" cannot be combined with "rooms"`},
		{"disconnect with broadcast", `{"disconnect":{"user":1},"broadcast":false}`, `"disconnect" cannot be combined with "broadcast"`},
		{"disconnect not object", `{"disconnect":"42"}`, `"disconnect": must be an object, got a string`},
		{"disconnect null", `{"disconnect":null}`, `"disconnect": must be an object, got null`},
		{"disconnect empty", `{"disconnect":{}}`, `"disconnect": no user or session: set "user", "users", "session" or "sessions"`},
		{"disconnect empty arrays", `{"disconnect":{"users":[],"sessions":[]}}`, `"disconnect": no user or session`},
		{"disconnect float user", `{"disconnect":{"users":[1,2.5]}}`, `"disconnect.users"[1]: must be a string or an integer user id, got 2.5`},
		{"disconnect users not array", `{"disconnect":{"users":1}}`, `"disconnect.users": must be an array of user ids, got a number`},
		{"disconnect session number", `{"disconnect":{"session":12345}}`, `"disconnect.session": must be a string session token, got a number`},
		{"disconnect session empty", `{"disconnect":{"sessions":["a",""]}}`, `"disconnect.sessions"[1]: must not be empty`},
		{"disconnect sessions not array", `{"disconnect":{"sessions":"tok"}}`, `"disconnect.sessions": must be an array of session tokens, got a string`},
		{"disconnect too many", `{"disconnect":{"sessions":[` + strings.TrimSuffix(strings.Repeat(`"s",`, MaxTargets+1), ",") + `]}}`,
			`"disconnect": too many targets: 10001 (at most 10000 per message)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse([]byte(c.in))
			if err == nil {
				t.Fatalf("Parse(%.80s) = %#v, want error containing %q", c.in, got, c.err)
			}
			if !strings.Contains(err.Error(), c.err) {
				t.Fatalf("Parse(%.80s) error\n got %q\nwant it to contain %q", c.in, err, c.err)
			}
			if got != nil {
				t.Fatalf("Parse returned messages with an error: %#v", got)
			}
		})
	}
}

// A session token is a secret: no error may quote it.
func TestParseErrorsDoNotQuoteSessions(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	long := secret + strings.Repeat("x", MaxLen)
	for _, in := range []string{
		`{"disconnect":{"session":"` + long + `"}}`,
		`{"disconnect":{"sessions":["` + long + `"]}}`,
		`{"disconnect":{"session":"` + secret + `"},"event":"x"}`,
		`{"disconnect":{"session":"` + secret + `","users":[1.5]}}`,
		`{"disconnect":{"session":"` + secret + `","user":""}}`,
	} {
		_, err := Parse([]byte(in))
		if err == nil {
			t.Fatalf("Parse(%.60s) accepted", in)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error quotes the session token: %v", err)
		}
	}
}

func TestParseLimitsExactly(t *testing.T) {
	in := `{"users":[` + strings.TrimSuffix(strings.Repeat(`1,`, MaxTargets-1), ",") + `],"room":"a"}`
	if _, err := Parse([]byte(in)); err != nil {
		t.Fatalf("%d targets rejected: %v", MaxTargets, err)
	}
	in = "[" + strings.TrimSuffix(strings.Repeat(`{"user":1},`, MaxMessages), ",") + "]"
	msgs, err := Parse([]byte(in))
	if err != nil || len(msgs) != MaxMessages {
		t.Fatalf("%d messages: got %d, %v", MaxMessages, len(msgs), err)
	}
	id := strings.Repeat("7", MaxLen)
	msgs, err = Parse([]byte(`{"user":` + id + `}`))
	if err != nil || msgs[0].Users[0] != id {
		t.Fatalf("a %d-digit id: %v", MaxLen, err)
	}
}

// Parse must not alias its input: callers reuse their buffers.
func TestParseCopiesData(t *testing.T) {
	b := []byte(`{"user":"abc","data":{"x":1}}`)
	msgs, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = ' '
	}
	if string(msgs[0].Data) != `{"x":1}` || msgs[0].Users[0] != "abc" {
		t.Fatalf("message changed with its input: %#v", msgs[0])
	}
}

func TestMarshalCanonical(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"data":{"a": 1},"user":42}`, `{"event":"notification","users":["42"],"data":{"a": 1}}`},
		{`{"room":"r","user":"1","rooms":["s"],"users":[2],"event":"e"}`, `{"event":"e","users":["1","2"],"rooms":["r","s"]}`},
		{`{"broadcast":true,"data":null}`, `{"event":"notification","broadcast":true,"data":null}`},
		{`{"user":"<&>\u2028\u0001\t\"\\é"}`, `{"event":"notification","users":["<&>\u2028\u0001\t\"\\é"]}`},
		{`{"disconnect":{"user":1}}`, `{"disconnect":{"users":["1"]}}`},
		{`{"disconnect":{"session":"a"}}`, `{"disconnect":{"sessions":["a"]}}`},
		{`{"disconnect":{"session":"a","user":"b"}}`, `{"disconnect":{"users":["b"],"sessions":["a"]}}`},
	}
	for _, c := range cases {
		msgs, err := Parse([]byte(c.in))
		if err != nil {
			t.Fatalf("Parse(%s): %v", c.in, err)
		}
		got, err := msgs[0].MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON(%s): %v", c.in, err)
		}
		if string(got) != c.want {
			t.Errorf("MarshalJSON(Parse(%s))\n got %s\nwant %s", c.in, got, c.want)
		}
		roundTrip(t, msgs)
	}
}

// json.Marshal must use the canonical form for values as well as pointers.
func TestJSONMarshalUsesCanonicalForm(t *testing.T) {
	m := Message{Event: "e", Users: []string{"1"}}
	for _, v := range []any{m, &m, []Message{m}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `{"event":"e","users":["1"]}`) {
			t.Errorf("json.Marshal(%T) = %s", v, b)
		}
	}
}

func TestMarshalBuiltInGo(t *testing.T) {
	valid := []Message{
		{Users: []string{"1"}}, // empty Event: the default
		{Event: "x", Rooms: []string{"a"}, Data: raw(`[1]`)},
		{Broadcast: true, Data: json.RawMessage{}}, // empty Data: absent
		{Disconnect: &Disconnect{Sessions: []string{"t"}}},
	}
	for _, m := range valid {
		b, err := m.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON(%#v): %v", m, err)
		}
		if _, err := Parse(b); err != nil {
			t.Fatalf("Parse(%s): %v", b, err)
		}
	}
	invalid := []struct {
		m   Message
		err string
	}{
		{Message{}, "no target"},
		{Message{Event: "connect", Users: []string{"1"}}, `"event": "connect" is reserved by Socket.IO`},
		{Message{Users: []string{"1", ""}}, `"users"[1]: must not be empty`},
		{Message{Rooms: []string{strings.Repeat("r", MaxLen+1)}}, `"rooms"[0]: must be at most 256 bytes`},
		{Message{Users: make([]string, MaxTargets+1)}, "too many targets: 10001"},
		{Message{Broadcast: true, Rooms: []string{"a"}}, `"broadcast": true cannot be combined with "rooms"`},
		{Message{Users: []string{"1"}, Data: raw(`{`)}, `"data": not valid JSON`},
		{Message{Users: []string{"1"}, Data: raw("\"\xff\"")}, `"data": contains invalid UTF-8`},
		{Message{Disconnect: &Disconnect{}}, `"disconnect": no user or session`},
		{Message{Event: "x", Disconnect: &Disconnect{Users: []string{"1"}}}, `"disconnect" cannot be combined with "event"`},
		{Message{Broadcast: true, Disconnect: &Disconnect{Users: []string{"1"}}}, `"disconnect" cannot be combined with "broadcast"`},
		{Message{Disconnect: &Disconnect{Sessions: []string{""}}}, `"disconnect.sessions"[0]: must not be empty`},
		{Message{Disconnect: &Disconnect{Users: []string{""}}}, `"disconnect.users"[0]: must not be empty`},
	}
	for _, c := range invalid {
		if _, err := c.m.MarshalJSON(); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("MarshalJSON(%#v) error = %v, want %q", c.m, err, c.err)
		}
	}
}

func TestTargets(t *testing.T) {
	many := make([]string, 20)
	for i := range many {
		many[i] = strconv.Itoa(i % 10)
	}
	cases := []struct {
		m    Message
		want []string
	}{
		{Message{Users: []string{"42"}}, []string{"user:42"}},
		{Message{Users: []string{"1", "2", "1"}, Rooms: []string{"a", "user:2", "a", "b"}}, []string{"user:1", "user:2", "a", "b"}},
		{Message{Users: many, Rooms: []string{"user:3", "z"}}, []string{
			"user:0", "user:1", "user:2", "user:3", "user:4", "user:5", "user:6", "user:7", "user:8", "user:9", "z"}},
		{Message{Broadcast: true}, nil},
		{Message{Disconnect: &Disconnect{Users: []string{"1"}}}, nil},
		{Message{}, nil},
	}
	for _, c := range cases {
		if got := c.m.Targets(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Targets(%#v) = %q, want %q", c.m, got, c.want)
		}
	}
}

// roundTrip checks that each message survives MarshalJSON then Parse.
func roundTrip(t testing.TB, msgs []Message) {
	t.Helper()
	for _, m := range msgs {
		b, err := m.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON(%#v): %v", m, err)
		}
		back, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(MarshalJSON(%#v)) = Parse(%s): %v", m, b, err)
		}
		if len(back) != 1 || !reflect.DeepEqual(back[0], m) {
			t.Fatalf("round trip changed the message\n  in %#v\n out %#v\njson %s", m, back, b)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"user":"42","event":"notification","data":{"title":"New comment","body":"...","url":"/posts/1"}}`,
		`{"user":12345678901234567890,"data":null}`,
		`{"users":["1",2,-0],"rooms":["a","user:1"],"event":"e"}`,
		`{"broadcast":true,"data":[1,"\u00e9",{"a":null}]}`,
		`{"disconnect":{"users":[1,"2"],"session":"tok","sessions":["a"]}}`,
		`[{"user":1},{"room":"r","data":"x"},{"disconnect":{"user":1}}]`,
		`{"user":"\ud83d\ude00\u0000\\","event":"a\"b"}`,
		`{"user":4.2}`, `{"user":1e3}`, `[]`, `{}`, `{"disconnect":{}}`,
		"{\"user\":\"\xff\",\"data\":\"\xc3\xa9\"}",
		` [ { "user" : 1 , "data" : { "x" : [ 1 , 2 ] } } ] `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := Parse(b)
		if err != nil {
			if msgs != nil {
				t.Fatalf("messages with an error: %v", err)
			}
			return
		}
		if len(msgs) == 0 || len(msgs) > MaxMessages {
			t.Fatalf("Parse accepted %d messages", len(msgs))
		}
		for _, m := range msgs {
			if err := m.Validate(); err != nil {
				t.Fatalf("Parse returned an invalid message %#v: %v", m, err)
			}
			_ = m.Targets()
		}
		roundTrip(t, msgs)
	})
}

func BenchmarkParse(b *testing.B) {
	in := []byte(`{"user":42,"event":"notification","data":{"title":"New comment","body":"...","url":"/posts/1"}}`)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		msgs, err := Parse(in)
		if err != nil || len(msgs) != 1 {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	msgs, err := Parse([]byte(`{"user":42,"event":"notification","data":{"title":"New comment","body":"...","url":"/posts/1"}}`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := msgs[0].MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}

// The hand splitter agrees with encoding/json on every valid object and
// array: the same members (last of a repeated key), the same raw values.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":"x\"}","c":{"d":[1,{"e":"]"}]},"a":true}`,
		` [ 1 , "a" , { "k" : null } , [ ] , -1.5e3 ] `,
		"{\"\\u0065vent\":\"e\",\"\xff\":1}", `{}`, `[]`, `{"k":"\\\\"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		switch b[skipSpace(b)] {
		case '{':
			var want map[string]json.RawMessage
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			got := splitObject(nil, b)
			keys := map[string]bool{}
			for _, m := range got {
				keys[m.key] = true
			}
			if len(keys) != len(want) {
				t.Fatalf("%d distinct keys, encoding/json has %d", len(keys), len(want))
			}
			for k, v := range want {
				if g, ok := got.get(k); !ok || !bytes.Equal(g, v) {
					t.Fatalf("key %q: got %q, encoding/json %q", k, g, v)
				}
			}
		case '[':
			var want []json.RawMessage
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			got := splitArray(b)
			if len(got) != len(want) {
				t.Fatalf("%d elements, encoding/json has %d", len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("element %d: got %q, encoding/json %q", i, got[i], want[i])
				}
			}
		}
	})
}
