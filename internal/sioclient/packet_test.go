package sioclient

import (
	"strings"
	"testing"
)

func TestParseOpen(t *testing.T) {
	op, err := ParseOpen([]byte(`0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
	if err != nil {
		t.Fatal(err)
	}
	if op.SID != "lv_VI97HAXpY6yYWAAAC" || op.PingInterval != 25000 || op.PingTimeout != 20000 || op.MaxPayload != 1000000 || len(op.Upgrades) != 0 {
		t.Fatalf("%+v", op)
	}
	for _, bad := range []string{
		``, `4{"sid":"x"}`, `0{"sid":"x"`, `0{"pingInterval":1,"pingTimeout":1}`,
		`0{"sid":"x","pingInterval":0,"pingTimeout":20000}`, `0{"sid":"x","pingInterval":25000}`,
	} {
		if _, err := ParseOpen([]byte(bad)); err == nil {
			t.Errorf("ParseOpen(%q) succeeded", bad)
		}
	}
}

func TestParsePacket(t *testing.T) {
	cases := []struct {
		in   string
		want Packet
	}{
		{`0`, Packet{Type: SIOConnect, Namespace: "/", ID: -1, Data: []byte{}}},
		{`0{"sid":"abc"}`, Packet{Type: SIOConnect, Namespace: "/", ID: -1, Data: []byte(`{"sid":"abc"}`)}},
		{`0/admin,{"sid":"abc"}`, Packet{Type: SIOConnect, Namespace: "/admin", ID: -1, Data: []byte(`{"sid":"abc"}`)}},
		{`1`, Packet{Type: SIODisconnect, Namespace: "/", ID: -1, Data: []byte{}}},
		{`1/admin,`, Packet{Type: SIODisconnect, Namespace: "/admin", ID: -1, Data: []byte{}}},
		{`1/admin`, Packet{Type: SIODisconnect, Namespace: "/admin", ID: -1, Data: []byte{}}},
		{`2["hello",1]`, Packet{Type: SIOEvent, Namespace: "/", ID: -1, Data: []byte(`["hello",1]`)}},
		{`2/admin,456["project:delete",123]`, Packet{Type: SIOEvent, Namespace: "/admin", ID: 456, Data: []byte(`["project:delete",123]`)}},
		{`3/admin,456[]`, Packet{Type: SIOAck, Namespace: "/admin", ID: 456, Data: []byte(`[]`)}},
		{`4{"message":"Not authorized"}`, Packet{Type: SIOConnectError, Namespace: "/", ID: -1, Data: []byte(`{"message":"Not authorized"}`)}},
		{`51-["hello",{"_placeholder":true,"num":0}]`, Packet{Type: SIOBinaryEvent, Attachments: 1, Namespace: "/", ID: -1, Data: []byte(`["hello",{"_placeholder":true,"num":0}]`)}},
		{`62-/admin,7[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, Packet{Type: SIOBinaryAck, Attachments: 2, Namespace: "/admin", ID: 7, Data: []byte(`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)}},
	}
	for _, tc := range cases {
		got, err := ParsePacket([]byte(tc.in))
		if err != nil {
			t.Errorf("ParsePacket(%q): %v", tc.in, err)
			continue
		}
		if got.Type != tc.want.Type || got.Attachments != tc.want.Attachments || got.Namespace != tc.want.Namespace ||
			got.ID != tc.want.ID || string(got.Data) != string(tc.want.Data) {
			t.Errorf("ParsePacket(%q) = %+v (data %q), want %+v", tc.in, got, got.Data, tc.want)
		}
	}
	for _, bad := range []string{``, `7`, `x`, `2{"a":1}`, `2`, `3"x"`, `5["a"]`, `5x-["a"]`, `1junk`, `2/admin,`} {
		if _, err := ParsePacket([]byte(bad)); err == nil {
			t.Errorf("ParsePacket(%q) succeeded", bad)
		}
	}
}

func TestEventName(t *testing.T) {
	cases := map[string]string{
		`["hello"]`:             "hello",
		`["hello",1,{"a":"b"}]`: "hello",
		` [ "sp aced" , 1]`:     "sp aced",
		`["esc\"aped\u00e9"]`:   "esc\"apedé",
		`["ünïcode"]`:           "ünïcode",
	}
	for in, want := range cases {
		got, err := EventName([]byte(in))
		if err != nil || got != want {
			t.Errorf("EventName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{``, `{}`, `[]`, `[1]`, `["open`, `["bad\q"]`} {
		if _, err := EventName([]byte(bad)); err == nil {
			t.Errorf("EventName(%q) succeeded", bad)
		}
	}
}

func TestConnectAckAndError(t *testing.T) {
	a, err := ParseConnectAck([]byte(`{"sid":"wZX3oN0bSVIhsaknAAAI","pid":"p1"}`))
	if err != nil || a.SID != "wZX3oN0bSVIhsaknAAAI" || a.PID != "p1" {
		t.Fatalf("%+v %v", a, err)
	}
	for _, bad := range []string{``, `{}`, `[1]`, `{"sid":1}`} {
		if _, err := ParseConnectAck([]byte(bad)); err == nil {
			t.Errorf("ParseConnectAck(%q) succeeded", bad)
		}
	}
	ce := ParseConnectError([]byte(`{"message":"Not authorized","data":{"code":42}}`))
	if ce.Message != "Not authorized" || string(ce.Data) != `{"code":42}` {
		t.Fatalf("%+v", ce)
	}
	if ce := ParseConnectError([]byte(`"Invalid namespace"`)); ce.Message != "Invalid namespace" {
		t.Fatalf("%+v", ce)
	}
	if ce := ParseConnectError([]byte(`garbage`)); ce.Message != "garbage" {
		t.Fatalf("%+v", ce)
	}
	if got := (&ConnectError{Message: "x"}).Error(); got != "connect_error: x" {
		t.Fatal(got)
	}
}

func TestAppendConnectAndEvent(t *testing.T) {
	cases := []struct {
		ns, auth, want string
	}{
		{"/", "", "40"},
		{"", `{"token":"abc"}`, `40{"token":"abc"}`},
		{"/admin", "", "40/admin,"},
		{"/admin", `{"token":"abc"}`, `40/admin,{"token":"abc"}`},
	}
	for _, tc := range cases {
		var auth []byte
		if tc.auth != "" {
			auth = []byte(tc.auth)
		}
		if got := string(AppendConnect(nil, tc.ns, auth)); got != tc.want {
			t.Errorf("AppendConnect(%q,%q) = %q, want %q", tc.ns, tc.auth, got, tc.want)
		}
	}
	m, err := AppendEvent(nil, "/", -1, "hello", "world", 1, map[string]int{"a": 2})
	if err != nil || string(m) != `42["hello","world",1,{"a":2}]` {
		t.Fatalf("%q %v", m, err)
	}
	m, err = AppendEvent(nil, "/admin", 12, "q")
	if err != nil || string(m) != `42/admin,12["q"]` {
		t.Fatalf("%q %v", m, err)
	}
	if _, err := AppendEvent(nil, "/", -1, "bad", make(chan int)); err == nil {
		t.Fatal("unmarshalable argument accepted")
	}
	// What we encode, we decode.
	pk, err := ParsePacket(m[1:])
	if err != nil || pk.Namespace != "/admin" || pk.ID != 12 {
		t.Fatalf("%+v %v", pk, err)
	}
	if name, _ := EventName(pk.Data); name != "q" {
		t.Fatal(name)
	}
	if !strings.HasPrefix(string(m), "4") {
		t.Fatal("not an engine.io message")
	}
}
