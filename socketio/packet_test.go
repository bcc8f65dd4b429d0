package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldrt/herald/engineio"
)

// defaultMaxAttachments is socket.io-parser's default bound.
const defaultMaxAttachments = 10

// decodeCase is one Socket.IO packet as it travels: wire is the Engine.IO
// text packet ("4" + the Socket.IO packet).
type decodeCase struct {
	name  string
	wire  string
	want  Packet // Namespace "" means "/"
	err   error
	canon string // AppendPacket's wire form, when it differs from wire
}

var decodeCases = []decodeCase{
	// CONNECT.
	{name: "connect", wire: `40`, want: Packet{Type: PacketConnect}},
	{name: "connect with auth", wire: `40{"token":"123"}`, want: Packet{Type: PacketConnect, Data: raw(`{"token":"123"}`)}},
	{name: "connect custom namespace", wire: `40/custom,`, want: Packet{Type: PacketConnect, Namespace: "/custom"}},
	{name: "connect custom namespace without comma", wire: `40/custom`, want: Packet{Type: PacketConnect, Namespace: "/custom"}, canon: `40/custom,`},
	{name: "connect custom namespace with auth", wire: `40/custom,{"token":"abc"}`, want: Packet{Type: PacketConnect, Namespace: "/custom", Data: raw(`{"token":"abc"}`)}},
	{name: "connect nested namespace", wire: `40/a/b-c.d_é,`, want: Packet{Type: PacketConnect, Namespace: "/a/b-c.d_é"}},
	{name: "connect explicit root namespace", wire: `40/,{"a":1}`, want: Packet{Type: PacketConnect, Data: raw(`{"a":1}`)}, canon: `40{"a":1}`},
	{name: "connect root namespace without comma", wire: `40/`, want: Packet{Type: PacketConnect}, canon: `40`},
	{name: "connect server reply", wire: `40{"sid":"wZX3oN0bSVIhsaknAAAI"}`, want: Packet{Type: PacketConnect, Data: raw(`{"sid":"wZX3oN0bSVIhsaknAAAI"}`)}},
	{name: "connect recovery", wire: `40{"pid":"abc","offset":"1-0","token":"t"}`, want: Packet{Type: PacketConnect, Data: raw(`{"pid":"abc","offset":"1-0","token":"t"}`)}},

	// DISCONNECT.
	{name: "disconnect", wire: `41`, want: Packet{Type: PacketDisconnect}},
	{name: "disconnect custom namespace", wire: `41/custom,`, want: Packet{Type: PacketDisconnect, Namespace: "/custom"}},

	// EVENT.
	{name: "event", wire: `42["message",1,"2",{"3":[true]}]`, want: Packet{Type: PacketEvent, Data: raw(`["message",1,"2",{"3":[true]}]`)}},
	{name: "event with ack", wire: `42456["message-with-ack",1,"2",{"3":[false]}]`, want: Packet{Type: PacketEvent, ID: 456, HasID: true, Data: raw(`["message-with-ack",1,"2",{"3":[false]}]`)}},
	{name: "event custom namespace", wire: `42/custom,["hello"]`, want: Packet{Type: PacketEvent, Namespace: "/custom", Data: raw(`["hello"]`)}},
	{name: "event custom namespace with ack", wire: `42/custom,12["hello",{"a":[]}]`, want: Packet{Type: PacketEvent, Namespace: "/custom", ID: 12, HasID: true, Data: raw(`["hello",{"a":[]}]`)}},
	{name: "event ack id 0", wire: `420["x"]`, want: Packet{Type: PacketEvent, ID: 0, HasID: true, Data: raw(`["x"]`)}},
	{name: "event max ack id", wire: `429007199254740991["x"]`, want: Packet{Type: PacketEvent, ID: 1<<53 - 1, HasID: true, Data: raw(`["x"]`)}},
	{name: "event ack id leading zeros", wire: `42007["x"]`, want: Packet{Type: PacketEvent, ID: 7, HasID: true, Data: raw(`["x"]`)}, canon: `427["x"]`},
	{name: "event numeric name", wire: `42[1,"x"]`, want: Packet{Type: PacketEvent, Data: raw(`[1,"x"]`)}},
	{name: "event negative float name", wire: `42[-1.5e3]`, want: Packet{Type: PacketEvent, Data: raw(`[-1.5e3]`)}},
	{name: "event empty string name", wire: `42[""]`, want: Packet{Type: PacketEvent, Data: raw(`[""]`)}},
	{name: "event name like reserved", wire: `42["Connect"]`, want: Packet{Type: PacketEvent, Data: raw(`["Connect"]`)}},
	{name: "event escaped name", wire: `42["\u0063onnect-x"]`, want: Packet{Type: PacketEvent, Data: raw(`["\u0063onnect-x"]`)}},
	{name: "event with whitespace", wire: "42 [ \"x\" , 1 ] ", want: Packet{Type: PacketEvent, Data: raw(" [ \"x\" , 1 ] ")}},
	{name: "event unicode", wire: `42["€",{"😀":"é"}]`, want: Packet{Type: PacketEvent, Data: raw(`["€",{"😀":"é"}]`)}},
	// The transport checks UTF-8 (WebSocket text frames); JSON decoding
	// later turns invalid bytes into U+FFFD, as Node's polling decoder does.
	{name: "event invalid utf-8 string", wire: "42[\"\xff\"]", want: Packet{Type: PacketEvent, Data: raw("[\"\xff\"]")}},
	{name: "event with offset", wire: `42["foo","bar","1-0"]`, want: Packet{Type: PacketEvent, Data: raw(`["foo","bar","1-0"]`)}},

	// ACK.
	{name: "ack", wire: `43456["ack",1]`, want: Packet{Type: PacketAck, ID: 456, HasID: true, Data: raw(`["ack",1]`)}},
	{name: "empty ack", wire: `43456[]`, want: Packet{Type: PacketAck, ID: 456, HasID: true, Data: raw(`[]`)}},
	{name: "ack custom namespace", wire: `43/custom,456[{"a":null}]`, want: Packet{Type: PacketAck, Namespace: "/custom", ID: 456, HasID: true, Data: raw(`[{"a":null}]`)}},
	{name: "ack reserved name is fine", wire: `431["connect"]`, want: Packet{Type: PacketAck, ID: 1, HasID: true, Data: raw(`["connect"]`)}},

	// CONNECT_ERROR.
	{name: "connect error", wire: `44{"message":"Not authorized","data":{"code":1}}`, want: Packet{Type: PacketConnectError, Data: raw(`{"message":"Not authorized","data":{"code":1}}`)}},
	{name: "connect error invalid namespace", wire: `44/random,{"message":"Invalid namespace"}`, want: Packet{Type: PacketConnectError, Namespace: "/random", Data: raw(`{"message":"Invalid namespace"}`)}},
	{name: "connect error string", wire: `44"Invalid namespace"`, want: Packet{Type: PacketConnectError, Data: raw(`"Invalid namespace"`)}},

	// BINARY_EVENT / BINARY_ACK.
	{name: "binary event", wire: `452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, want: Packet{Type: PacketBinaryEvent, Attachments: 2, Data: raw(`["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)}},
	{name: "binary event custom namespace with ack", wire: `451-/custom,12["ev",{"_placeholder":true,"num":0}]`, want: Packet{Type: PacketBinaryEvent, Attachments: 1, Namespace: "/custom", ID: 12, HasID: true, Data: raw(`["ev",{"_placeholder":true,"num":0}]`)}},
	{name: "binary event without attachments", wire: `450-["ev"]`, want: Packet{Type: PacketBinaryEvent, Data: raw(`["ev"]`)}},
	{name: "binary event at attachment limit", wire: `4510-["ev"]`, want: Packet{Type: PacketBinaryEvent, Attachments: 10, Data: raw(`["ev"]`)}},
	{name: "binary ack", wire: `462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, want: Packet{Type: PacketBinaryAck, Attachments: 2, ID: 789, HasID: true, Data: raw(`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)}},
	{name: "binary ack custom namespace", wire: `461-/admin,5[{"_placeholder":true,"num":0}]`, want: Packet{Type: PacketBinaryAck, Attachments: 1, Namespace: "/admin", ID: 5, HasID: true, Data: raw(`[{"_placeholder":true,"num":0}]`)}},
	{name: "binary event attachment count with plus sign", wire: `45+1-["ev"]`, want: Packet{Type: PacketBinaryEvent, Attachments: 1, Data: raw(`["ev"]`)}, canon: `451-["ev"]`},

	// Rejected packets.
	{name: "not a packet type", wire: `4abc`, err: ErrInvalidPacket},
	{name: "empty socket.io packet", wire: `4`, err: ErrInvalidPacket},
	{name: "type 7", wire: `47["x"]`, err: ErrInvalidPacket},
	{name: "type 9", wire: `49`, err: ErrInvalidPacket},
	{name: "event with object", wire: `42{}`, err: ErrInvalidPayload},
	{name: "event with garbage before array", wire: `42abc["x"]`, err: ErrInvalidPayload},
	{name: "event without payload", wire: `42`, err: ErrInvalidPayload},
	{name: "event with ack id and no payload", wire: `421`, err: ErrInvalidPayload},
	{name: "event empty array", wire: `42[]`, err: ErrInvalidPayload},
	{name: "event empty array with whitespace", wire: `42[ ]`, err: ErrInvalidPayload},
	{name: "event reserved connect", wire: `42["connect"]`, err: ErrInvalidPayload},
	{name: "event reserved connect_error", wire: `42["connect_error",1]`, err: ErrInvalidPayload},
	{name: "event reserved disconnect", wire: `42["disconnect"]`, err: ErrInvalidPayload},
	{name: "event reserved disconnecting", wire: `42["disconnecting"]`, err: ErrInvalidPayload},
	{name: "event reserved newListener", wire: `42["newListener"]`, err: ErrInvalidPayload},
	{name: "event reserved removeListener", wire: `42["removeListener"]`, err: ErrInvalidPayload},
	{name: "event reserved name escaped", wire: `42["\u0063onnect"]`, err: ErrInvalidPayload},
	{name: "event reserved name with ack", wire: `421["disconnect"]`, err: ErrInvalidPayload},
	{name: "binary event reserved name", wire: `451-["connect",{"_placeholder":true,"num":0}]`, err: ErrInvalidPayload},
	{name: "event object name", wire: `42[{}]`, err: ErrInvalidPayload},
	{name: "event array name", wire: `42[["x"]]`, err: ErrInvalidPayload},
	{name: "event null name", wire: `42[null]`, err: ErrInvalidPayload},
	{name: "event boolean name", wire: `42[true]`, err: ErrInvalidPayload},
	{name: "event string payload", wire: `42"x"`, err: ErrInvalidPayload},
	{name: "event trailing garbage after namespace", wire: `42/custom,[1]x`, err: ErrInvalidPayload},
	{name: "event truncated json", wire: `42["x"`, err: ErrInvalidPayload},
	{name: "event trailing garbage", wire: `42["x"]]`, err: ErrInvalidPayload},
	{name: "event two values", wire: `42["x"]["y"]`, err: ErrInvalidPayload},
	{name: "event invalid json inside", wire: `42["x",]`, err: ErrInvalidPayload},
	{name: "ack without id", wire: `43["x"]`, err: ErrInvalidPayload},
	{name: "ack without payload", wire: `43456`, err: ErrInvalidPayload},
	{name: "ack with object", wire: `43456{}`, err: ErrInvalidPayload},
	{name: "ack with string", wire: `431"x"`, err: ErrInvalidPayload},
	{name: "disconnect with payload", wire: `41{}`, err: ErrInvalidPayload},
	{name: "disconnect custom namespace with payload", wire: `41/custom,{}`, err: ErrInvalidPayload},
	{name: "disconnect with array", wire: `41[]`, err: ErrInvalidPayload},
	{name: "connect with array", wire: `40[]`, err: ErrInvalidPayload},
	{name: "connect with string", wire: `40"x"`, err: ErrInvalidPayload},
	{name: "connect with null", wire: `40null`, err: ErrInvalidPayload},
	{name: "connect truncated object", wire: `40{"token":`, err: ErrInvalidPayload},
	{name: "connect error without payload", wire: `44`, err: ErrInvalidPayload},
	{name: "connect error with array", wire: `44["x"]`, err: ErrInvalidPayload},
	{name: "connect error with only an id", wire: `44/x,1`, err: ErrInvalidPayload},
	{name: "too many attachments", wire: `4511-["ev"]`, err: ErrTooManyBinary},
	{name: "too many attachments binary ack", wire: `46100-1[]`, err: ErrTooManyBinary},
	{name: "attachment count missing", wire: `45-["ev"]`, err: ErrInvalidPacket},
	{name: "attachment dash missing", wire: `45["ev"]`, err: ErrInvalidPacket},
	{name: "attachment dash missing with namespace", wire: `451/a,["ev"]`, err: ErrInvalidPacket},
	{name: "attachment count not a number", wire: `45a-["ev"]`, err: ErrInvalidPacket},
	{name: "attachment count overflows", wire: `4599999999999999999999-["ev"]`, err: ErrInvalidPacket},
	{name: "binary event dash only in data", wire: `45["a-b"]`, err: ErrInvalidPacket},
	{name: "binary empty", wire: `45`, err: ErrInvalidPacket},
	{name: "ack id above 2^53-1", wire: `429007199254740992["x"]`, err: ErrInvalidPacket},
	{name: "ack id overflows uint64", wire: `4399999999999999999999[]`, err: ErrInvalidPacket},
	{name: "ack id 2^64", wire: `4318446744073709551616[]`, err: ErrInvalidPacket},
	{name: "namespace without slash", wire: `40custom,{"token":"abc"}`, err: ErrInvalidPayload},
	{name: "namespace without slash or payload", wire: `40custom`, err: ErrInvalidPayload},
	{name: "namespace without slash with comma", wire: `40custom,`, err: ErrInvalidPayload},
	{name: "event namespace without slash", wire: `42custom,["x"]`, err: ErrInvalidPayload},
	{name: "disconnect namespace without slash", wire: `41custom,`, err: ErrInvalidPayload},
	{name: "namespace without comma swallows payload", wire: `42/custom["x"]`, err: ErrInvalidPayload},
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// sioData runs the Engine.IO layer: the Socket.IO packet of a wire string.
func sioData(t testing.TB, wire string) []byte {
	t.Helper()
	p, err := engineio.DecodeText([]byte(wire))
	if err != nil || p.Type != engineio.PacketMessage {
		t.Fatalf("engineio.DecodeText(%q) = %+v, %v; want a message", wire, p, err)
	}
	return p.Data
}

// equalPacket compares packets, taking a missing namespace as "/".
func equalPacket(a, b Packet) bool {
	ns := func(s string) string {
		if s == "" {
			return "/"
		}
		return s
	}
	return a.Type == b.Type && ns(a.Namespace) == ns(b.Namespace) && a.ID == b.ID && a.HasID == b.HasID &&
		a.Attachments == b.Attachments && bytes.Equal(a.Data, b.Data) && (a.Data == nil) == (b.Data == nil)
}

func packetString(p Packet) string {
	return fmt.Sprintf("{type %d nsp %q id %d/%v att %d data %q}", p.Type, p.Namespace, p.ID, p.HasID, p.Attachments, p.Data)
}

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Decode(sioData(t, tc.wire), defaultMaxAttachments)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Decode(%q) = %s, %v; want %v", tc.wire, packetString(p), err, tc.err)
				}
				if !equalPacket(p, Packet{}) {
					t.Fatalf("Decode(%q) returned %s with its error", tc.wire, packetString(p))
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode(%q): %v", tc.wire, err)
			}
			if p.Namespace == "" {
				t.Fatalf("Decode(%q): empty namespace", tc.wire)
			}
			if !equalPacket(p, tc.want) {
				t.Fatalf("Decode(%q) = %s; want %s", tc.wire, packetString(p), packetString(tc.want))
			}
			canon := tc.wire
			if tc.canon != "" {
				canon = tc.canon
			}
			if got := "4" + string(AppendPacket(nil, p)); got != canon {
				t.Fatalf("AppendPacket(Decode(%q)) = %q; want %q", tc.wire, got, canon)
			}
		})
	}
}

func TestDecodeMaxAttachments(t *testing.T) {
	cases := []struct {
		in  string
		max int
		err error
	}{
		{`51-["ev",{"_placeholder":true,"num":0}]`, 1, nil},
		{`51-["ev",{"_placeholder":true,"num":0}]`, 0, ErrTooManyBinary},
		{`50-["ev"]`, 0, nil},
		{`61-1[{"_placeholder":true,"num":0}]`, 0, ErrTooManyBinary},
		{`5100-["ev"]`, 100, nil},
		{`5101-["ev"]`, 100, ErrTooManyBinary},
		{`52-["ev"]`, -1, ErrTooManyBinary},
		{`2["ev"]`, -1, nil}, // the bound only applies to binary packets
	}
	for _, tc := range cases {
		_, err := Decode([]byte(tc.in), tc.max)
		if !errors.Is(err, tc.err) {
			t.Errorf("Decode(%q, %d): %v; want %v", tc.in, tc.max, err, tc.err)
		}
	}
}

func TestDecodeAckIDBounds(t *testing.T) {
	for _, id := range []uint64{0, 1, 9, 10, 1<<31 - 1, 1 << 31, 1<<32 + 1, 1<<53 - 1} {
		in := "3" + strconv.FormatUint(id, 10) + "[]"
		p, err := Decode([]byte(in), 0)
		if err != nil || !p.HasID || p.ID != id {
			t.Errorf("Decode(%q) = %s, %v", in, packetString(p), err)
		}
	}
	for _, id := range []uint64{1 << 53, 1<<53 + 1, 1 << 63, ^uint64(0)} {
		in := "3" + strconv.FormatUint(id, 10) + "[]"
		if _, err := Decode([]byte(in), 0); !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("Decode(%q): %v; want ErrInvalidPacket", in, err)
		}
	}
}

func TestDecodeDataAliases(t *testing.T) {
	in := []byte(`2/custom,["x"]`)
	p, err := Decode(in, 0)
	if err != nil {
		t.Fatal(err)
	}
	if &p.Data[0] != &in[9] {
		t.Errorf("Data does not alias the input")
	}
}

func TestAppendPacket(t *testing.T) {
	cases := []struct {
		p    Packet
		want string
	}{
		{Packet{Type: PacketConnect, Data: raw(`{"sid":"abc"}`)}, `0{"sid":"abc"}`},
		{Packet{Type: PacketConnect, Namespace: "/", Data: raw(`{"sid":"abc"}`)}, `0{"sid":"abc"}`},
		{Packet{Type: PacketConnect, Namespace: "/admin", Data: raw(`{"sid":"abc"}`)}, `0/admin,{"sid":"abc"}`},
		{Packet{Type: PacketDisconnect, Namespace: "/admin"}, `1/admin,`},
		{Packet{Type: PacketDisconnect}, `1`},
		{Packet{Type: PacketEvent, Data: raw(`["foo"]`)}, `2["foo"]`},
		{Packet{Type: PacketEvent, Namespace: "/admin", ID: 0, HasID: true, Data: raw(`["foo"]`)}, `2/admin,0["foo"]`},
		{Packet{Type: PacketAck, ID: 456, HasID: true, Data: raw(`[]`)}, `3456[]`},
		{Packet{Type: PacketAck, ID: 1<<53 - 1, HasID: true, Data: raw(`[1]`)}, `39007199254740991[1]`},
		{Packet{Type: PacketConnectError, Namespace: "/random", Data: raw(`{"message":"Invalid namespace"}`)}, `4/random,{"message":"Invalid namespace"}`},
		{Packet{Type: PacketBinaryEvent, Attachments: 1, Data: raw(`["ev",{"_placeholder":true,"num":0}]`)}, `51-["ev",{"_placeholder":true,"num":0}]`},
		{Packet{Type: PacketBinaryAck, Attachments: 2, Namespace: "/admin", ID: 5, HasID: true, Data: raw(`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)}, `62-/admin,5[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`},
		{Packet{Type: PacketBinaryEvent, Data: raw(`["ev"]`)}, `50-["ev"]`},
	}
	for _, tc := range cases {
		if got := AppendPacket([]byte("4"), tc.p); string(got) != "4"+tc.want {
			t.Errorf("AppendPacket(%s) = %q; want %q", packetString(tc.p), got, "4"+tc.want)
		}
	}
}

func TestPayloadValidDirect(t *testing.T) {
	// BINARY_ACK follows the ACK rule, BINARY_EVENT the EVENT rule.
	if !payloadValid(Packet{Type: PacketBinaryAck, HasID: true, Data: raw(`[]`)}) {
		t.Error("binary ack with id rejected")
	}
	if payloadValid(Packet{Type: PacketBinaryAck, Data: raw(`[]`)}) {
		t.Error("binary ack without id accepted")
	}
	if payloadValid(Packet{Type: PacketBinaryEvent, Data: raw(`[]`)}) {
		t.Error("empty binary event accepted")
	}
	if payloadValid(Packet{Type: 7}) {
		t.Error("type 7 accepted")
	}
}

func TestEventName(t *testing.T) {
	cases := []struct {
		in   string
		name string
		ok   bool
	}{
		{`["message",1]`, "message", true},
		{` [ "x" ]`, "x", true},
		{`[42]`, "42", true},
		{`[1e3,"x"]`, "1e3", true},
		{`["connect"]`, "connect", false},
		{`[]`, "", false},
		{`{}`, "", false},
		{`[{}]`, "", false},
		{``, "", false},
		{`[`, "", false},
	}
	for _, tc := range cases {
		name, ok := eventName([]byte(tc.in))
		if ok != tc.ok || (ok && name != tc.name) {
			t.Errorf("eventName(%q) = %q, %v; want %q, %v", tc.in, name, ok, tc.name, tc.ok)
		}
	}
}

func BenchmarkSocketIODecodeEvent(b *testing.B) {
	in := []byte(`2["notification",{"id":123,"title":"New message","body":"You have a new message from Alice."}]`)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := Decode(in, defaultMaxAttachments)
		if err != nil || p.Type != PacketEvent {
			b.Fatal(err)
		}
	}
}

func BenchmarkSocketIODecodeEventNamespaceAck(b *testing.B) {
	in := []byte(`2/chat,` + strings.Repeat("9", 6) + `["message",{"room":"general","text":"hello there"}]`)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(in, defaultMaxAttachments); err != nil {
			b.Fatal(err)
		}
	}
}
