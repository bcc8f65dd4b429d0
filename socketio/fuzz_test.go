package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzSocketIODecode: Decode never panics, fails only with its own errors,
// and a decoded packet obeys the protocol and survives AppendPacket: the
// encoding decodes to an equal packet and is canonical.
func FuzzSocketIODecode(f *testing.F) {
	for _, tc := range decodeCases {
		if strings.HasPrefix(tc.wire, "4") {
			f.Add([]byte(tc.wire[1:]), uint8(defaultMaxAttachments))
		}
	}
	f.Add([]byte(`51-/a-b,["x",{"_placeholder":true,"num":0}]`), uint8(1))
	f.Add([]byte(`0/,5`), uint8(0))
	f.Add([]byte(`2/,1 ["x"]`), uint8(0))
	f.Add([]byte(`6+0-/,0[]`), uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, maxAtt uint8) {
		max := int(maxAtt % 32)
		orig := bytes.Clone(in)
		p, err := Decode(in, max)
		if !bytes.Equal(in, orig) {
			t.Fatalf("Decode modified its input")
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidPacket) && !errors.Is(err, ErrInvalidPayload) && !errors.Is(err, ErrTooManyBinary) {
				t.Fatalf("Decode(%q): unexpected error %v", in, err)
			}
			return
		}
		switch {
		case p.Type > PacketBinaryAck:
			t.Fatalf("Decode(%q): type %d", in, p.Type)
		case !strings.HasPrefix(p.Namespace, "/") || strings.Contains(p.Namespace, ","):
			t.Fatalf("Decode(%q): namespace %q", in, p.Namespace)
		case p.ID > maxID || (!p.HasID && p.ID != 0):
			t.Fatalf("Decode(%q): id %d/%v", in, p.ID, p.HasID)
		case p.Attachments < 0 || p.Attachments > max:
			t.Fatalf("Decode(%q): %d attachments, max %d", in, p.Attachments, max)
		case p.Attachments != 0 && p.Type != PacketBinaryEvent && p.Type != PacketBinaryAck:
			t.Fatalf("Decode(%q): attachments on type %d", in, p.Type)
		case p.Data != nil && !json.Valid(p.Data):
			t.Fatalf("Decode(%q): invalid JSON data", in)
		case !payloadValid(p):
			t.Fatalf("Decode(%q): invalid payload accepted", in)
		}
		if p.Type == PacketEvent || p.Type == PacketBinaryEvent {
			var args []json.RawMessage
			if err := json.Unmarshal(p.Data, &args); err != nil || len(args) == 0 {
				t.Fatalf("Decode(%q): event data %q does not split into arguments: %v", in, p.Data, err)
			}
		}
		enc := AppendPacket(nil, p)
		q, err := Decode(enc, max)
		if err != nil {
			t.Fatalf("Decode(AppendPacket(Decode(%q)) = %q): %v", in, enc, err)
		}
		if !equalPacket(p, q) {
			t.Fatalf("round trip of %q via %q: %s != %s", in, enc, packetString(p), packetString(q))
		}
		if enc2 := AppendPacket(nil, q); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding of %q not canonical: %q then %q", in, enc, enc2)
		}
	})
}

// FuzzReconstruct: reconstruct never panics; errors are allowed. When it
// succeeds, every []byte in the result is one of the attachments, and
// encoding the result again (new placeholders) reconstructs to an equal
// value.
func FuzzReconstruct(f *testing.F) {
	for _, tc := range reconstructCases() {
		f.Add([]byte(tc.raw), uint8(len(tc.attachments)))
	}
	for _, tc := range encodeCases() {
		if !tc.err {
			f.Add([]byte(tc.want), uint8(len(tc.attachments)))
		}
	}
	f.Add([]byte(`[{"_placeholder":true,"num":0,"x":1}]`), uint8(1))
	f.Add([]byte(`{"_placeholder":true,"num":1e0}`), uint8(2))
	f.Add([]byte(`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]`), uint8(1))
	f.Add([]byte("[\"\xff\",{\"\xfe\":1}]"), uint8(0))
	f.Fuzz(func(t *testing.T, raw []byte, n uint8) {
		att := make([][]byte, n%12)
		for i := range att {
			att[i] = []byte{byte(i), 0xa5}
		}
		v, err := reconstruct(json.RawMessage(raw), att)
		if err != nil {
			return
		}
		var check func(v any)
		check = func(v any) {
			switch t1 := v.(type) {
			case []byte:
				if len(t1) != 2 || t1[1] != 0xa5 || int(t1[0]) >= len(att) {
					t.Fatalf("reconstruct(%q): []byte %x is not an attachment", raw, t1)
				}
			case []any:
				for _, e := range t1 {
					check(e)
				}
			case map[string]any:
				for _, e := range t1 {
					check(e)
				}
			case string, bool, nil, json.Number:
			default:
				t.Fatalf("reconstruct(%q): unexpected %T", raw, v)
			}
		}
		check(v)
		data, att2, err := encodeArgs(nil, []any{v})
		if err != nil {
			t.Fatalf("encodeArgs(reconstruct(%q)): %v", raw, err)
		}
		v2, err := reconstruct(data, att2)
		if err != nil {
			t.Fatalf("reconstruct(%s) after re-encoding %q: %v", data, raw, err)
		}
		if !reflect.DeepEqual([]any{v}, v2) {
			t.Fatalf("reconstruct(%q) = %#v; after re-encoding as %s: %#v", raw, v, data, v2)
		}
	})
}
