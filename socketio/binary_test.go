package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

func placeholder(n int) string { return fmt.Sprintf(`{"_placeholder":true,"num":%d}`, n) }

type encodeCase struct {
	name        string
	prefix      []any
	args        []any
	want        string
	attachments [][]byte
	err         bool
}

func encodeCases() []encodeCase {
	return []encodeCase{
		{name: "conformance event", prefix: []any{"message"}, args: []any{1, "2", map[string]any{"3": []any{true}}}, want: `["message",1,"2",{"3":[true]}]`},
		{name: "no arguments", want: `[]`},
		{name: "prefix only", prefix: []any{"ping"}, want: `["ping"]`},
		{name: "args only (ack)", args: []any{"ok", nil}, want: `["ok",null]`},
		{name: "two attachments", prefix: []any{"message"}, args: []any{[]byte{1, 2}, []byte{3}},
			want: `["message",` + placeholder(0) + `,` + placeholder(1) + `]`, attachments: [][]byte{{1, 2}, {3}}},
		{name: "attachments at depth", prefix: []any{"upload"}, args: []any{map[string]any{"files": []any{[]byte("a"), map[string]any{"data": []byte("b"), "name": "x"}}, "meta": []any{[]any{[]byte("c")}}}},
			want:        `["upload",{"files":[` + placeholder(0) + `,{"data":` + placeholder(1) + `,"name":"x"}],"meta":[[` + placeholder(2) + `]]}]`,
			attachments: [][]byte{[]byte("a"), []byte("b"), []byte("c")}},
		{name: "empty attachment", args: []any{[]byte{}}, want: `[` + placeholder(0) + `]`, attachments: [][]byte{{}}},
		{name: "nil attachment", args: []any{[]byte(nil)}, want: `[` + placeholder(0) + `]`, attachments: [][]byte{nil}},
		{name: "map keys sorted", prefix: []any{"notification"}, args: []any{map[string]any{"title": "Hi", "id": 123, "body": "Text", "a": nil}},
			want: `["notification",{"a":null,"body":"Text","id":123,"title":"Hi"}]`},
		{name: "map key escaped", args: []any{map[string]any{"a\"b": 1, "é": 2}}, want: `[{"a\"b":1,"é":2}]`},
		{name: "empty map and slice", args: []any{map[string]any{}, []any{}}, want: `[{},[]]`},
		{name: "raw message verbatim", prefix: []any{"echo"}, args: []any{json.RawMessage(`{"z" : 1,"a":[ 2 ]}`), json.RawMessage(`"x"`)},
			want: `["echo",{"z" : 1,"a":[ 2 ]},"x"]`},
		{name: "raw placeholder is not an attachment", args: []any{json.RawMessage(placeholder(0))}, want: `[` + placeholder(0) + `]`},
		{name: "raw message inside map", args: []any{map[string]any{"r": json.RawMessage(`[1, 2]`)}}, want: `[{"r":[1, 2]}]`},
		{name: "json number verbatim", args: []any{json.Number("1.50"), json.Number("12345678901234567890")}, want: `[1.50,12345678901234567890]`},
		{name: "other values through json.Marshal", args: []any{struct {
			A int    `json:"a"`
			B string `json:"b"`
		}{1, "x"}, map[string]int{"k": 2}, []string{"s"}, 1.5, true},
			want: `[{"a":1,"b":"x"},{"k":2},["s"],1.5,true]`},
		// Only []any and map[string]any are walked: []byte elsewhere is
		// json.Marshal's base64 string, as documented.
		{name: "bytes inside a struct stay base64", args: []any{struct{ B []byte }{[]byte{1, 2, 3}}}, want: `[{"B":"AQID"}]`},
		{name: "bytes inside a typed map stay base64", args: []any{map[string][]byte{"b": {1, 2, 3}}}, want: `[{"b":"AQID"}]`},

		{name: "invalid raw message", args: []any{json.RawMessage(`{`)}, err: true},
		{name: "nil raw message", args: []any{json.RawMessage(nil)}, err: true},
		{name: "channel", args: []any{make(chan int)}, err: true},
		{name: "NaN", args: []any{math.NaN()}, err: true},
		{name: "error inside slice", args: []any{[]any{1, math.Inf(1)}}, err: true},
		{name: "error inside map", args: []any{map[string]any{"f": func() {}}}, err: true},
		{name: "error in prefix", prefix: []any{make(chan int)}, err: true},
	}
}

func TestEncodeArgs(t *testing.T) {
	for _, tc := range encodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			data, att, err := encodeArgs(tc.prefix, tc.args)
			if tc.err {
				if err == nil {
					t.Fatalf("encodeArgs = %q; want an error", data)
				}
				if data != nil || att != nil {
					t.Fatalf("encodeArgs returned data with its error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tc.want {
				t.Fatalf("encodeArgs = %s\n                  want %s", data, tc.want)
			}
			if !json.Valid(data) {
				t.Fatalf("invalid JSON %s", data)
			}
			if len(att) != len(tc.attachments) {
				t.Fatalf("%d attachments; want %d", len(att), len(tc.attachments))
			}
			for i := range att {
				if !bytes.Equal(att[i], tc.attachments[i]) {
					t.Fatalf("attachment %d = %x; want %x", i, att[i], tc.attachments[i])
				}
			}
		})
	}
}

// TestEncodeArgsDeterministic: a map encodes to the same bytes, with the
// same attachment numbering, every time. encodeMap used to follow Go's
// random map order.
func TestEncodeArgsDeterministic(t *testing.T) {
	arg := map[string]any{
		"id": 123, "title": "t", "body": "b",
		"x": []byte{1}, "y": []byte{2}, "z": map[string]any{"q": []byte{3}, "p": 1, "r": 2},
	}
	want := `["n",{"body":"b","id":123,"title":"t","x":` + placeholder(0) + `,"y":` + placeholder(1) + `,"z":{"p":1,"q":` + placeholder(2) + `,"r":2}}]`
	for range 100 {
		data, att, err := encodeArgs([]any{"n"}, []any{arg})
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != want {
			t.Fatalf("encodeArgs = %s\n                  want %s", data, want)
		}
		if len(att) != 3 || att[0][0] != 1 || att[1][0] != 2 || att[2][0] != 3 {
			t.Fatalf("attachments %v", att)
		}
	}
	// Without []byte the output is json.Marshal's.
	plain := map[string]any{"b": 1, "a": []any{"x", map[string]any{"d": true, "c": nil}}, "é": "<&>", "A": 1.5}
	data, _, err := encodeArgs(nil, []any{plain})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := json.Marshal([]any{plain})
	if !bytes.Equal(data, m) {
		t.Fatalf("encodeArgs = %s; json.Marshal = %s", data, m)
	}
}

type reconstructCase struct {
	name        string
	raw         string
	attachments [][]byte
	want        any
	err         bool
}

func num(s string) json.Number { return json.Number(s) }

func reconstructCases() []reconstructCase {
	a, b := []byte{1, 2, 3}, []byte("bytes")
	return []reconstructCase{
		{name: "conformance binary event", raw: `["message",` + placeholder(0) + `,` + placeholder(1) + `]`, attachments: [][]byte{a, b},
			want: []any{"message", a, b}},
		{name: "top-level placeholder", raw: placeholder(1), attachments: [][]byte{a, b}, want: b},
		{name: "placeholder keys reversed", raw: `{"num":0,"_placeholder":true}`, attachments: [][]byte{a}, want: a},
		{name: "placeholders at depth", raw: `{"files":[{"data":` + placeholder(0) + `,"name":"x"}],"deep":[[[` + placeholder(1) + `]]]}`, attachments: [][]byte{a, b},
			want: map[string]any{"files": []any{map[string]any{"data": a, "name": "x"}}, "deep": []any{[]any{[]any{b}}}}},
		{name: "same attachment twice", raw: `[` + placeholder(0) + `,` + placeholder(0) + `]`, attachments: [][]byte{a}, want: []any{a, a}},
		{name: "empty attachment", raw: `[` + placeholder(0) + `]`, attachments: [][]byte{{}}, want: []any{[]byte{}}},
		{name: "numbers stay json.Number", raw: `[12345678901234567890,1.50,-0,1e400,0.1]`,
			want: []any{num("12345678901234567890"), num("1.50"), num("-0"), num("1e400"), num("0.1")}},
		{name: "no placeholders", raw: `{"a":[true,false,null,"s"],"b":{}}`, want: map[string]any{"a": []any{true, false, nil, "s"}, "b": map[string]any{}}},
		{name: "placeholder false is data", raw: `{"_placeholder":false,"num":0}`, attachments: [][]byte{a}, want: map[string]any{"_placeholder": false, "num": num("0")}},
		{name: "placeholder string true is data", raw: `{"_placeholder":"true","num":0}`, attachments: [][]byte{a}, want: map[string]any{"_placeholder": "true", "num": num("0")}},
		{name: "unused attachments", raw: `["x"]`, attachments: [][]byte{a}, want: []any{"x"}},

		{name: "num out of range", raw: `[` + placeholder(2) + `]`, attachments: [][]byte{a, b}, err: true},
		{name: "placeholder without attachments", raw: placeholder(0), err: true},
		{name: "negative num", raw: `{"_placeholder":true,"num":-1}`, attachments: [][]byte{a}, err: true},
		{name: "fractional num", raw: `{"_placeholder":true,"num":0.5}`, attachments: [][]byte{a}, err: true},
		{name: "huge num", raw: `{"_placeholder":true,"num":99999999999999999999}`, attachments: [][]byte{a}, err: true},
		{name: "string num", raw: `{"_placeholder":true,"num":"0"}`, attachments: [][]byte{a}, err: true},
		{name: "null num", raw: `{"_placeholder":true,"num":null}`, attachments: [][]byte{a}, err: true},
		{name: "missing num", raw: `{"_placeholder":true,"n":0}`, attachments: [][]byte{a}, err: true},
		{name: "bad placeholder at depth", raw: `[1,{"x":[{"_placeholder":true,"num":5}]}]`, attachments: [][]byte{a}, err: true},
		{name: "invalid json", raw: `[1,`, err: true},
		{name: "empty", raw: ``, err: true},
	}
}

func TestReconstruct(t *testing.T) {
	for _, tc := range reconstructCases() {
		t.Run(tc.name, func(t *testing.T) {
			v, err := reconstruct(json.RawMessage(tc.raw), tc.attachments)
			if tc.err {
				if err == nil {
					t.Fatalf("reconstruct(%s) = %#v; want an error", tc.raw, v)
				}
				return
			}
			if err != nil {
				t.Fatalf("reconstruct(%s): %v", tc.raw, err)
			}
			if !reflect.DeepEqual(v, tc.want) {
				t.Fatalf("reconstruct(%s) = %#v; want %#v", tc.raw, v, tc.want)
			}
		})
	}
}

// TestReconstructSharesAttachments: substituted values are the attachments
// themselves, not copies.
func TestReconstructSharesAttachments(t *testing.T) {
	att := []byte{1, 2, 3}
	v, err := reconstruct(json.RawMessage(placeholder(0)), [][]byte{att})
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := v.([]byte); !ok || &b[0] != &att[0] {
		t.Fatalf("reconstruct = %#v; want the attachment itself", v)
	}
}

// TestBinaryPacketRoundTrip runs the whole text path: encodeArgs, the
// BINARY_EVENT packet, Decode, reconstruct.
func TestBinaryPacketRoundTrip(t *testing.T) {
	args := []any{
		[]byte{0xde, 0xad},
		map[string]any{"name": "photo.png", "data": []byte{0x89, 'P', 'N', 'G'}, "size": json.Number("4")},
		[]any{json.Number("1"), []byte{}, "x", nil, true},
	}
	data, att, err := encodeArgs([]any{"upload"}, args)
	if err != nil {
		t.Fatal(err)
	}
	p := Packet{Type: PacketBinaryEvent, Namespace: "/files", ID: 9, HasID: true, Attachments: len(att), Data: data}
	wire := AppendPacket(nil, p)
	want := `53-/files,9["upload",` + placeholder(0) + `,{"data":` + placeholder(1) + `,"name":"photo.png","size":4},[1,` + placeholder(2) + `,"x",null,true]]`
	if string(wire) != want {
		t.Fatalf("wire %s\nwant %s", wire, want)
	}
	q, err := Decode(wire, defaultMaxAttachments)
	if err != nil {
		t.Fatal(err)
	}
	if !equalPacket(p, q) {
		t.Fatalf("Decode = %s; want %s", packetString(q), packetString(p))
	}
	v, err := reconstruct(q.Data, att)
	if err != nil {
		t.Fatal(err)
	}
	if wantV := append([]any{"upload"}, args...); !reflect.DeepEqual(v, wantV) {
		t.Fatalf("reconstruct = %#v\nwant %#v", v, wantV)
	}
}

// TestEncodeReconstructInverse: for JSON-shaped values (json.Number
// numbers), reconstruct(encodeArgs(v)) == v.
func TestEncodeReconstructInverse(t *testing.T) {
	values := [][]any{
		{},
		{"x"},
		{[]byte{}},
		{json.Number("-1.5e-7"), "s", true, false, nil},
		{map[string]any{"a": []any{[]byte{1}, map[string]any{"b": []byte{2}, "c": []any{}}}, "d": map[string]any{}}},
		{[]any{[]any{[]any{[]byte(strings.Repeat("z", 1000))}}}},
		{map[string]any{"_placeholder": false, "num": json.Number("0")}},
	}
	for _, args := range values {
		data, att, err := encodeArgs(nil, args)
		if err != nil {
			t.Fatal(err)
		}
		v, err := reconstruct(data, att)
		if err != nil {
			t.Fatalf("reconstruct(%s): %v", data, err)
		}
		if !reflect.DeepEqual(v, args) {
			t.Fatalf("reconstruct(encodeArgs(%#v)) = %#v", args, v)
		}
	}
}

func TestEncodeArgsErrorMessages(t *testing.T) {
	_, _, err := encodeArgs(nil, []any{json.RawMessage(`{`)})
	if err == nil || !strings.HasPrefix(err.Error(), "socketio: ") {
		t.Errorf("err = %v", err)
	}
	_, _, err = encodeArgs(nil, []any{make(chan int)})
	var ute *json.UnsupportedTypeError
	if !errors.As(err, &ute) {
		t.Errorf("err = %v; want it to wrap *json.UnsupportedTypeError", err)
	}
}

func BenchmarkEncodeArgs(b *testing.B) {
	prefix := []any{"notification"}
	args := []any{map[string]any{
		"id":    123,
		"title": "New message",
		"body":  "You have a new message from Alice: see you at the meeting tomorrow.",
	}}
	b.ReportAllocs()
	for b.Loop() {
		data, _, err := encodeArgs(prefix, args)
		if err != nil || len(data) == 0 {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeArgsBinary(b *testing.B) {
	prefix := []any{"upload"}
	args := []any{map[string]any{"name": "photo.png", "data": make([]byte, 4096)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, att, err := encodeArgs(prefix, args); err != nil || len(att) != 1 {
			b.Fatal(err)
		}
	}
}

func BenchmarkReconstruct(b *testing.B) {
	raw := json.RawMessage(`{"name":"photo.png","data":` + placeholder(0) + `,"tags":["a","b"],"size":4096}`)
	att := [][]byte{make([]byte, 4096)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reconstruct(raw, att); err != nil {
			b.Fatal(err)
		}
	}
}
