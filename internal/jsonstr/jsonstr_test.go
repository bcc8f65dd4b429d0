package jsonstr

import (
	"encoding/json"
	"testing"
)

func TestAppend(t *testing.T) {
	cases := map[string]string{
		"":                 `""`,
		"plain <&>":        `"plain <&>"`,
		"q\"b\\":           `"q\"b\\"`,
		"\n\r\t\x00\x1f":   `"\n\r\t\u0000\u001f"`,
		"café ☃":           `"café ☃"`,
		"ls\u2028ps\u2029": `"ls\u2028ps\u2029"`,
		"bad\xffbyte":      `"bad\ufffdbyte"`,
	}
	for in, want := range cases {
		if got := string(Append(nil, in)); got != want {
			t.Errorf("Append(%q) = %s, want %s", in, got, want)
		}
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("a\"b\\c\n\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := Append(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("Append(%q) = %s: not JSON: %v", s, out, err)
		}
		var want string
		_ = json.Unmarshal(mustMarshal(s), &want) // encoding/json's reading of s
		if back != want {
			t.Fatalf("Append(%q) reads back as %q, want %q", s, back, want)
		}
	})
}

func mustMarshal(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
