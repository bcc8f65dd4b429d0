package jsoneq

import "testing"

func TestEqual(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{`{"a":1,"b":[2.0,"x"]}`, `{"b":[2.0,"x"],"a":1}`, true},
		{`1`, `1.0`, false}, // Integer vs Float
		{`0.0`, `-0.0`, false},
		{`2.0`, `2.00`, true},
		{`12345678901234567890`, `12345678901234567891`, false},
		{`{"a":1}`, `{"a":1,"b":2}`, false},
		{`[1,2]`, `[2,1]`, false},
	}
	for _, c := range cases {
		got, err := Equal([]byte(c.a), []byte(c.b))
		if err != nil || got != c.want {
			t.Errorf("Equal(%s, %s) = %v, %v; want %v", c.a, c.b, got, err, c.want)
		}
	}
	if _, err := Equal([]byte(`{`), []byte(`{}`)); err == nil {
		t.Error("invalid JSON compared without an error")
	}
}
