package bus

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// collect feeds the stream in pieces of size step and returns the replies
// as text.
func collect(t *testing.T, stream string, step int) ([]string, error) {
	t.Helper()
	var r respReader
	var got []string
	for i := 0; i < len(stream); i += step {
		end := min(i+step, len(stream))
		err := r.feed([]byte(stream[i:end]), func(v *reply) error {
			got = append(got, show(v))
			return nil
		})
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

func show(v *reply) string {
	switch {
	case v.null:
		return string(v.kind) + "nil"
	case v.kind == ':':
		return fmt.Sprintf(":%d", v.num)
	case v.kind == '*':
		var parts []string
		for i := range v.elems {
			parts = append(parts, show(&v.elems[i]))
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return string(v.kind) + string(v.str)
}

func TestRESPRepliesInAnyPieces(t *testing.T) {
	stream := "+OK\r\n" +
		"*3\r\n$9\r\nsubscribe\r\n$13\r\nherald:notify\r\n:1\r\n" +
		"*3\r\n$7\r\nmessage\r\n$13\r\nherald:notify\r\n$17\r\n{\"user_id\":\"42\"}\n\r\n" +
		"*4\r\n$8\r\npmessage\r\n$3\r\na:*\r\n$3\r\na:b\r\n$0\r\n\r\n" +
		"$-1\r\n*-1\r\n-ERR wrong\r\n"
	want := []string{
		"+OK",
		"[$subscribe $herald:notify :1]",
		"[$message $herald:notify $" + "{\"user_id\":\"42\"}\n" + "]",
		"[$pmessage $a:* $a:b $]",
		"$nil", "*nil", "-ERR wrong",
	}
	for _, step := range []int{1, 2, 3, 7, 64, len(stream)} {
		got, err := collect(t, stream, step)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("step %d:\n got %q\nwant %q", step, got, want)
		}
	}
}

func TestRESPRejectsBrokenStreams(t *testing.T) {
	for name, stream := range map[string]string{
		"unknown type":        "!x\r\n",
		"bare LF":             "+OK\n",
		"bad integer":         ":12a\r\n",
		"bad length":          "$x\r\nabc\r\n",
		"negative length":     "$-2\r\n",
		"unterminated bulk":   "$3\r\nabcXY",
		"too deep":            "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
		"length over the cap": fmt.Sprintf("$%d\r\n", maxReply+1),
		"empty line":          "\r\n",
	} {
		if _, err := collect(t, stream, len(stream)); err == nil {
			t.Errorf("%s: %q accepted", name, stream)
		}
	}
}

// A reply split across reads waits in the reader's own buffer: the
// caller's read buffer is reused for the next read.
func TestRESPKeepsNoReferenceToTheCallersBytes(t *testing.T) {
	var r respReader
	data := []byte("$5\r\nhel")
	if err := r.feed(data, func(*reply) error { t.Fatal("incomplete reply delivered"); return nil }); err != nil {
		t.Fatal(err)
	}
	copy(data, "XXXXXXX")
	var got string
	if err := r.feed([]byte("lo\r\n"), func(v *reply) error { got = string(v.str); return nil }); err != nil {
		t.Fatal(err)
	}
	if got != "hello" {
		t.Fatalf("got %q, want hello", got)
	}
	if r.buf != nil {
		t.Fatalf("buffer kept after a complete reply: %q", r.buf)
	}
}

func TestAppendCommand(t *testing.T) {
	got := appendCommand(nil, "SUBSCRIBE", "a", "")
	if want := "*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$0\r\n\r\n"; string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func FuzzRESPReader(f *testing.F) {
	f.Add([]byte("*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n"), 3)
	f.Add([]byte("+OK\r\n-ERR x\r\n:5\r\n$-1\r\n*-1\r\n"), 1)
	f.Fuzz(func(t *testing.T, stream []byte, step int) {
		if step <= 0 || step > len(stream)+1 {
			step = len(stream) + 1
		}
		// Parsing in pieces must give what parsing at once gives.
		whole, errWhole := collect(t, string(stream), len(stream)+1)
		pieces, errPieces := collect(t, string(stream), step)
		if (errWhole == nil) != (errPieces == nil) {
			t.Fatalf("whole: %v, pieces: %v", errWhole, errPieces)
		}
		if errWhole == nil && !bytes.Equal([]byte(strings.Join(whole, "|")), []byte(strings.Join(pieces, "|"))) {
			t.Fatalf("whole %q, pieces %q", whole, pieces)
		}
	})
}

// BenchmarkRESPMessage parses one published notification as it arrives.
func BenchmarkRESPMessage(b *testing.B) {
	msg := []byte("*3\r\n$7\r\nmessage\r\n$13\r\nherald:notify\r\n$95\r\n" +
		`{"user":42,"event":"notification","data":{"title":"New comment","body":"...","url":"/posts/1"}}` + "\r\n")
	var r respReader
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := r.feed(msg, func(*reply) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// A large payload arriving in many small reads is reassembled exactly.
func TestRESPLargeReplyInSmallReads(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<17) // 2 MiB
	stream := append(fmt.Appendf(nil, "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$%d\r\n", len(payload)), payload...)
	stream = append(stream, "\r\n+OK\r\n"...)
	var r respReader
	var got [][]byte
	for i := 0; i < len(stream); i += 1000 {
		err := r.feed(stream[i:min(i+1000, len(stream))], func(v *reply) error {
			if v.kind == '*' {
				got = append(got, bytes.Clone(v.elems[2].str))
			} else {
				got = append(got, bytes.Clone(v.str))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 || !bytes.Equal(got[0], payload) || string(got[1]) != "OK" {
		t.Fatalf("got %d replies", len(got))
	}
	if r.buf != nil {
		t.Fatal("buffer kept after the stream was consumed")
	}
}
