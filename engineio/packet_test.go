package engineio

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// textCase is one Engine.IO text packet, as it travels in a WebSocket text
// frame or a polling record.
type textCase struct {
	name string
	in   string
	typ  PacketType
	data string
	err  bool
}

var textCases = []textCase{
	{name: "message", in: "4hello", typ: PacketMessage, data: "hello"},
	{name: "empty message", in: "4", typ: PacketMessage, data: ""},
	{name: "open", in: `0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`, typ: PacketOpen, data: `{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`},
	{name: "close", in: "1", typ: PacketClose},
	{name: "ping", in: "2", typ: PacketPing},
	{name: "probe", in: "2probe", typ: PacketPing, data: "probe"},
	{name: "pong", in: "3", typ: PacketPong},
	{name: "pong probe", in: "3probe", typ: PacketPong, data: "probe"},
	{name: "upgrade", in: "5", typ: PacketUpgrade},
	{name: "noop", in: "6", typ: PacketNoop},
	{name: "socket.io event", in: `42["message",1,"2",{"3":[true]}]`, typ: PacketMessage, data: `2["message",1,"2",{"3":[true]}]`},
	{name: "utf-8 data", in: "4€\x00é", typ: PacketMessage, data: "€\x00é"},
	{name: "separator in text frame data", in: "4a\x1eb", typ: PacketMessage, data: "a\x1eb"},

	{name: "empty", in: "", err: true},
	{name: "invalid abc", in: "abc", err: true},
	{name: "type 7", in: "7", err: true},
	{name: "type 9", in: "9hello", err: true},
	{name: "type below 0", in: "/hello", err: true},
	{name: "base64 form is not text", in: "bAQIDBA==", err: true},
	{name: "leading space", in: " 4hello", err: true},
	{name: "record separator", in: "\x1e", err: true},
}

func TestDecodeText(t *testing.T) {
	for _, tc := range textCases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			p, err := DecodeText(in)
			if tc.err {
				if !errors.Is(err, ErrInvalidPacket) {
					t.Fatalf("DecodeText(%q) = %+v, %v; want ErrInvalidPacket", tc.in, p, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeText(%q): %v", tc.in, err)
			}
			if p.Type != tc.typ || string(p.Data) != tc.data || p.Binary {
				t.Fatalf("DecodeText(%q) = {%c %q %v}; want {%c %q false}", tc.in, p.Type, p.Data, p.Binary, tc.typ, tc.data)
			}
			if got := AppendText(nil, p); string(got) != tc.in {
				t.Fatalf("AppendText(DecodeText(%q)) = %q", tc.in, got)
			}
			// Data aliases the input.
			if len(p.Data) > 0 && &p.Data[0] != &in[1] {
				t.Fatalf("Data does not alias the input")
			}
		})
	}
}

func TestAppendText(t *testing.T) {
	cases := []struct {
		p    Packet
		want string
	}{
		{Packet{Type: PacketMessage, Data: []byte("hello")}, "4hello"},
		{Packet{Type: PacketPing}, "2"},
		{Packet{Type: PacketPong, Data: []byte("probe")}, "3probe"},
		{Packet{Type: PacketNoop}, "6"},
	}
	for _, tc := range cases {
		if got := AppendText([]byte("x"), tc.p); string(got) != "x"+tc.want {
			t.Errorf("AppendText(%+v) = %q; want %q", tc.p, got, "x"+tc.want)
		}
	}
}

// payloadCase is one long-polling body. want lists the packets, written as
// "<type><data>" for text packets and "b:<data>" for binary messages.
type payloadCase struct {
	name  string
	in    string
	want  []string
	err   bool
	canon string // AppendPayload of the packets, if it differs from in
}

var payloadCases = []payloadCase{
	{name: "single message", in: "4hello", want: []string{"4hello"}},
	{name: "three messages", in: "4test1\x1e4test2\x1e4test3", want: []string{"4test1", "4test2", "4test3"}},
	{name: "text and binary", in: "4hello\x1ebAQIDBA==", want: []string{"4hello", "b:\x01\x02\x03\x04"}},
	{name: "binary only", in: "bAQIDBA==", want: []string{"b:\x01\x02\x03\x04"}},
	{name: "empty binary", in: "b", want: []string{"b:"}},
	{name: "binary length 1", in: "bAQ==", want: []string{"b:\x01"}},
	{name: "binary length 2", in: "bAQI=", want: []string{"b:\x01\x02"}},
	{name: "binary all bytes", in: "b/+7dzLuqmYh3ZlVEMyIRAA==", want: []string{"b:\xff\xee\xdd\xcc\xbb\xaa\x99\x88\x77\x66\x55\x44\x33\x22\x11\x00"}},
	{name: "close by post", in: "1", want: []string{"1"}},
	{name: "pong and message", in: "3\x1e4hi", want: []string{"3", "4hi"}},
	{name: "socket.io connect and event", in: "40\x1e42[\"foo\"]", want: []string{"40", `42["foo"]`}},
	{name: "empty messages", in: "4\x1e4", want: []string{"4", "4"}},
	{name: "empty binary between", in: "4a\x1eb\x1e4b", want: []string{"4a", "b:", "4b"}},
	{name: "binary with newline ignored", in: "bAQID\nBA==", want: []string{"b:\x01\x02\x03\x04"}, canon: "bAQIDBA=="},

	{name: "empty payload", in: "", err: true},
	{name: "invalid abc", in: "abc", err: true},
	{name: "trailing separator", in: "4hello\x1e", err: true},
	{name: "leading separator", in: "\x1e4hello", err: true},
	{name: "separator only", in: "\x1e", err: true},
	{name: "double separator", in: "4a\x1e\x1e4b", err: true},
	{name: "invalid second record", in: "4a\x1eabc", err: true},
	{name: "invalid type 7", in: "4a\x1e7", err: true},
	{name: "bad base64", in: "b!!!!", err: true},
	{name: "base64 missing padding", in: "bAQI", err: true},
	{name: "base64 url alphabet", in: "b-_8=", err: true},
	{name: "base64 trailing garbage", in: "bAQIDBA==x", err: true},
}

func packetString(p Packet) string {
	if p.Binary {
		return "b:" + string(p.Data)
	}
	return string(p.Type) + string(p.Data)
}

func TestDecodePayload(t *testing.T) {
	for _, tc := range payloadCases {
		t.Run(tc.name, func(t *testing.T) {
			packets, err := DecodePayload([]byte(tc.in))
			if tc.err {
				if !errors.Is(err, ErrInvalidPacket) {
					t.Fatalf("DecodePayload(%q) = %v, %v; want ErrInvalidPacket", tc.in, packets, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodePayload(%q): %v", tc.in, err)
			}
			var got []string
			for _, p := range packets {
				if p.Binary && p.Type != PacketMessage {
					t.Fatalf("binary packet of type %c", p.Type)
				}
				got = append(got, packetString(p))
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Fatalf("DecodePayload(%q) = %q; want %q", tc.in, got, tc.want)
			}
			canon := tc.in
			if tc.canon != "" {
				canon = tc.canon
			}
			if enc := AppendPayload(nil, packets); string(enc) != canon {
				t.Fatalf("AppendPayload(DecodePayload(%q)) = %q; want %q", tc.in, enc, canon)
			}
		})
	}
}

func TestDecodePayloadErrorNamesRecord(t *testing.T) {
	_, err := DecodePayload([]byte("4a\x1e4b\x1eabc"))
	if err == nil || !errors.Is(err, ErrInvalidPacket) {
		t.Fatalf("err = %v", err)
	}
	if want := "record 2: "; !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Fatalf("err = %q; want it to name %q", err, want)
	}
}

func TestDecodePayloadAliasing(t *testing.T) {
	body := []byte("4hello\x1ebAQIDBA==")
	packets, err := DecodePayload(body)
	if err != nil {
		t.Fatal(err)
	}
	if &packets[0].Data[0] != &body[1] {
		t.Errorf("text data does not alias the body")
	}
	// Base64 data is decoded into new memory.
	packets[1].Data[0] = 0xff
	if string(body) != "4hello\x1ebAQIDBA==" {
		t.Errorf("body modified: %q", body)
	}
}

func TestAppendPayload(t *testing.T) {
	cases := []struct {
		packets []Packet
		want    string
	}{
		{nil, ""},
		{[]Packet{{Type: PacketMessage, Data: []byte("hello")}}, "4hello"},
		{[]Packet{{Type: PacketMessage, Data: []byte("hello")}, {Type: PacketMessage, Data: []byte{1, 2, 3, 4}, Binary: true}}, "4hello\x1ebAQIDBA=="},
		{[]Packet{{Type: PacketPing}, {Type: PacketNoop}, {Type: PacketClose}}, "2\x1e6\x1e1"},
		{[]Packet{{Type: PacketMessage, Binary: true}}, "b"},
		{[]Packet{{Type: PacketMessage, Data: []byte{}, Binary: true}, {Type: PacketMessage}}, "b\x1e4"},
	}
	for _, tc := range cases {
		if got := AppendPayload([]byte("x"), tc.packets); string(got) != "x"+tc.want {
			t.Errorf("AppendPayload(%v) = %q; want %q", tc.packets, got, "x"+tc.want)
		}
		if got := AppendPayload(nil, tc.packets); string(got) != tc.want {
			t.Errorf("AppendPayload(nil, %v) = %q; want %q", tc.packets, got, tc.want)
		}
	}
}

func TestAppendRecord(t *testing.T) {
	if got := appendRecord(nil, Packet{Type: PacketMessage, Data: []byte("hi")}); string(got) != "4hi" {
		t.Errorf("text record = %q", got)
	}
	if got := appendRecord(nil, Packet{Type: PacketMessage, Data: []byte("hi"), Binary: true}); string(got) != "baGk=" {
		t.Errorf("binary record = %q", got)
	}
}

func TestPacketTypeValid(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c >= '0' && c <= '6'
		if got := PacketType(c).valid(); got != want {
			t.Errorf("PacketType(%q).valid() = %v", rune(c), got)
		}
	}
}

// equalPackets reports whether two packet lists hold the same packets.
func equalPackets(a, b []Packet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Binary != b[i].Binary || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

func BenchmarkDecodePayload(b *testing.B) {
	body := []byte("40\x1e42[\"message\",{\"id\":123,\"title\":\"Hello\",\"body\":\"A typical notification body\"}]\x1e3\x1e451-[\"upload\",{\"_placeholder\":true,\"num\":0}]\x1ebAQIDBAUGBwgJCgsMDQ4PEA==")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		packets, err := DecodePayload(body)
		if err != nil || len(packets) != 5 {
			b.Fatal(err)
		}
	}
}
