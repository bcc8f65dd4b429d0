package cookie

import "testing"

func TestGet(t *testing.T) {
	cases := []struct {
		lines []string
		name  string
		want  string
		ok    bool
	}{
		{[]string{"a=1; _s=abc%3D%3D--x; b=2"}, "_s", "abc%3D%3D--x", true},
		{[]string{`prefs={"x":1}; _s=tok`}, "_s", "tok", true}, // a neighbour net/http rejects
		{[]string{"caf\xc3\xa9=1; _s=tok"}, "_s", "tok", true},
		{[]string{"a=1", "_s=second-line"}, "_s", "second-line", true},
		{[]string{`_s="quoted"`}, "_s", "quoted", true},
		{[]string{"_s=first; _s=second"}, "_s", "first", true},
		{[]string{"x_s=1; _sx=2"}, "_s", "", false},
		{[]string{"_s"}, "_s", "", false},
		{[]string{"_s="}, "_s", "", true},
		{nil, "_s", "", false},
	}
	for _, c := range cases {
		got, ok := Get(c.lines, c.name)
		if got != c.want || ok != c.ok {
			t.Errorf("Get(%q, %q) = %q, %v; want %q, %v", c.lines, c.name, got, ok, c.want, c.ok)
		}
	}
}
