package rubymarshal

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"io"
	"testing"
)

// TestMarshalVectors decodes every Marshal.dump in marshal.jsonl and checks
// ToJSON against the expected mapping.
func TestMarshalVectors(t *testing.T) {
	cases := marshalCases(t)
	if len(cases) != 61 {
		t.Errorf("marshal.jsonl has %d cases, want 61", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			v, err := Decode(unhex(t, c.Hex), nil)
			if err != nil {
				t.Fatalf("Decode(%s): %v", c.Ruby, err)
			}
			got, err := ToJSON(v)
			if err != nil {
				t.Fatalf("ToJSON(%s): %v", c.Ruby, err)
			}
			if d := jsonDiff(got, c.Expect); d != "" {
				t.Fatalf("%s\n%s\ngot  %s\nwant %s", c.Ruby, d, got, c.Expect)
			}
		})
	}
}

// TestMarshalVectorsExactText checks more than the README asks: ToJSON's
// output is byte for byte what Ruby's JSON.generate wrote (same member
// order, same number text), except for string escapes, which may differ.
func TestMarshalVectorsExactText(t *testing.T) {
	for _, c := range marshalCases(t) {
		v, err := Decode(unhex(t, c.Hex), nil)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		got, err := ToJSON(v)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		// Re-encode both through the same string escaper: only non-string
		// text (numbers, member order, structure) is compared.
		if g, w := reescape(t, got), reescape(t, c.Expect); !bytes.Equal(g, w) {
			t.Errorf("%s:\ngot  %s\nwant %s", c.Name, got, c.Expect)
		}
	}
}

// reescape rewrites every JSON string in b with Go's escaping, leaving all
// other bytes alone.
func reescape(t *testing.T, b []byte) []byte {
	t.Helper()
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			out = append(out, b[i])
			continue
		}
		j := i + 1
		for ; j < len(b) && b[j] != '"'; j++ {
			if b[j] == '\\' {
				j++
			}
		}
		var s string
		if err := json.Unmarshal(b[i:j+1], &s); err != nil {
			t.Fatalf("bad string %q: %v", b[i:j+1], err)
		}
		q, _ := json.Marshal(s)
		out = append(out, q...)
		i = j
	}
	return out
}

// TestStoreVectors decodes the Marshal values that real session stores
// wrote to Redis: redis-actionpack and redis-session-store values are a
// Marshal'ed session; Rails 6.1 CacheStore values are a Marshal'ed
// ActiveSupport::Cache::Entry whose @value is the session, or zlib-deflated
// Marshal of it when @compressed is true.
func TestStoreVectors(t *testing.T) {
	marshalled := 0
	for _, c := range storeCases(t) {
		if c.Format == "json" {
			continue
		}
		marshalled++
		t.Run(c.Name, func(t *testing.T) {
			v, err := Decode(unhex(t, c.ValueHex), nil)
			if err != nil {
				t.Fatal(err)
			}
			session := v
			switch c.Format {
			case "marshal":
			case "cache-entry-6.1":
				session = cacheEntryValue(t, v)
			default:
				t.Fatalf("unknown format %q", c.Format)
			}
			got, err := ToJSON(session)
			if err != nil {
				t.Fatal(err)
			}
			if d := jsonDiff(got, c.ExpectSession); d != "" {
				t.Fatalf("%s\ngot  %s\nwant %s", d, got, c.ExpectSession)
			}
			checkUserID(t, session, c.UserID, c.UserIDSource)
		})
	}
	if marshalled != 7 {
		t.Errorf("%d Marshal store values, want 7", marshalled)
	}
}

func cacheEntryValue(t *testing.T, v Value) Value {
	t.Helper()
	o, ok := v.(*Object)
	if !ok || o.Class != "ActiveSupport::Cache::Entry" {
		t.Fatalf("got %s, want an ActiveSupport::Cache::Entry", kindOf(v))
	}
	var value Value
	compressed := false
	for _, iv := range o.Ivars {
		switch iv.Name {
		case "@value":
			value = iv.Value
		case "@compressed":
			compressed = iv.Value == true
		}
	}
	if !compressed {
		return value
	}
	s, ok := value.(String)
	if !ok {
		t.Fatalf("compressed @value is a %s", kindOf(value))
	}
	zr, err := zlib.NewReader(bytes.NewReader(s.Bytes))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, DefaultMaxBytes+1))
	if err != nil {
		t.Fatal(err)
	}
	inner, err := Decode(raw, nil)
	if err != nil {
		t.Fatalf("inflated @value: %v", err)
	}
	return inner
}

func checkUserID(t *testing.T, session Value, want json.RawMessage, wantSource *string) {
	t.Helper()
	id, source := userID(session)
	got, err := ToJSON(id)
	if err != nil {
		t.Fatal(err)
	}
	if d := jsonDiff(got, want); d != "" {
		t.Errorf("user id: %s (got %s, want %s)", d, got, want)
	}
	ws := ""
	if wantSource != nil {
		ws = *wantSource
	}
	if source != ws {
		t.Errorf("user id source %q, want %q", source, ws)
	}
}

func vector(t testing.TB, name string) []byte {
	t.Helper()
	for _, c := range marshalCases(t) {
		if c.Name == name {
			return unhex(t, c.Hex)
		}
	}
	t.Fatalf("no vector %q", name)
	return nil
}

func TestDeviseHelpers(t *testing.T) {
	v, err := Decode(vector(t, "devise_session"), nil)
	if err != nil {
		t.Fatal(err)
	}
	id, source := userID(v)
	if n, ok := AsInt64(id); !ok || n != 42 || source != "warden.user.user.key" {
		t.Errorf("user id %v from %q, want 42 from warden.user.user.key", id, source)
	}
	key, _ := Lookup(v, "warden.user.user.key")
	pair, _ := AsArray(key)
	if salt, ok := AsString(pair[1]); !ok || salt != "$2a$11$Qm9vZ1BhcnRpY2xlU2FsdA" {
		t.Errorf("salt %q", salt)
	}
	wsession, _ := Lookup(v, "warden.user.user.session")
	at, _ := Lookup(wsession, "last_request_at")
	if n, ok := AsInt64(at); !ok || n != 1_700_000_000 {
		t.Errorf("last_request_at %v (a Bignum in the stream), want 1700000000", at)
	}
	if _, ok := Lookup(v, "missing"); ok {
		t.Error("Lookup found a missing key")
	}
	if _, ok := Lookup(pair, "x"); ok {
		t.Error("Lookup on an Array answered")
	}

	// Through the C wrapper of HashWithIndifferentAccess.
	h, err := Decode(vector(t, "hash_with_indifferent_access"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if uc, ok := h.(UserClass); !ok || uc.Class != "ActiveSupport::HashWithIndifferentAccess" {
		t.Fatalf("got %#v, want a HashWithIndifferentAccess wrapper", h)
	}
	user, ok := Lookup(h, "user")
	if !ok {
		t.Fatal("no user")
	}
	if id, _ := Lookup(user, "id"); id != int64(42) {
		t.Errorf("user.id = %v", id)
	}

	// Symbol keys and values.
	s, err := Decode(vector(t, "symbol_keys_and_values"), nil)
	if err != nil {
		t.Fatal(err)
	}
	role, _ := Lookup(s, "role")
	if name, ok := AsString(role); !ok || name != "admin" {
		t.Errorf("role %v", role)
	}
	if sym, ok := role.(Symbol); !ok || sym.Encoding != "US-ASCII" {
		t.Errorf("role %#v, want a US-ASCII Symbol", role)
	}

	// SafeBuffer: a String under C, with @html_safe dropped.
	sb, err := Decode(vector(t, "safe_buffer"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if str, ok := AsString(sb); !ok || str != "<b>Saved</b>" {
		t.Errorf("safe buffer %#v", sb)
	}
	if inner := unwrap(sb).(String); inner.Encoding != "UTF-8" {
		t.Errorf("safe buffer encoding %q", inner.Encoding)
	}
}

// TestLinkNumbering pins the object-table order the README describes.
func TestLinkNumbering(t *testing.T) {
	// [t, t] for a UTC Time: the zone string "UTC" is index 1 and the Time
	// index 2, so the second element is @2 (written as "@\a").
	v, err := Decode(vector(t, "time_with_zone_utc"), nil)
	if err != nil {
		t.Fatal(err)
	}
	u := v.(*UserMarshal)
	a := u.Data.([]Value)
	if len(a) != 3 {
		t.Fatalf("TimeWithZone dump has %d elements", len(a))
	}
	if _, ok := a[0].(Time); !ok {
		t.Errorf("element 0 is %s, want Time", kindOf(a[0]))
	}
	// The local Time's zone ivar is "@\a" (link 2): the first Time's zone
	// string, not a Time.
	if s, ok := a[2].(Time); !ok || s.Zone.(String).Encoding != "US-ASCII" {
		t.Errorf("element 2 is %#v", a[2])
	}

	// Floats take an index: [f, f] is "f ... @1".
	v, err = Decode(vector(t, "link_float"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := v.([]Value); a[0] != 1.25 || a[1] != 1.25 || a[2] != 3.5 || a[3] != 1.25 {
		t.Errorf("link_float %v", a)
	}

	// A Set is an "o" whose @hash is a "}" hash with default false.
	v, err = Decode(vector(t, "set"), nil)
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*Object)
	h := o.Ivars[0].Value.(*Hash)
	if o.Class != "Set" || o.Ivars[0].Name != "@hash" || !h.HasDefault || h.Default != false || len(h.Pairs) != 3 {
		t.Errorf("set %#v", o)
	}
}

func TestTimes(t *testing.T) {
	v, err := Decode(vector(t, "time_utc_nsec"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tm := v.(Time)
	if !tm.UTC || tm.Time.Unix() != 1_700_000_000 || tm.Time.Nanosecond() != 123_456_789 {
		t.Errorf("time_utc_nsec %#v", tm)
	}
	// Ruby may dump a UTC Time with an empty zone ivar; Time#zone still
	// answers "UTC" (from the differential test, seed 2).
	v, err = Decode(hx("0408 49 75 3a 09 54696d65 0d 695e03c0 000030b2 06 3a 09 7a6f6e65 49 22 00 06 3a 06 45 46"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := ToJSON(v); string(out) != `{"__class":"Time","utc":"1913-08-19T09:44:35.000000000Z","utc_offset":0,"zone":"UTC"}` {
		t.Errorf("UTC Time with zone \"\": %s", out)
	}
	v, err = Decode(vector(t, "time_fixed_offset"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tm = v.(Time)
	if tm.UTC || tm.Offset != 9*3600 || tm.Zone != nil {
		t.Errorf("time_fixed_offset %#v", tm)
	}
}
