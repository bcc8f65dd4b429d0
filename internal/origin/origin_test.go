package origin

import "testing"

func TestAllowed(t *testing.T) {
	cases := []struct {
		list, origin, host string
		want               bool
	}{
		{"", "http://localhost:3000", "herald.example:3003", true},
		{"", "http://127.0.0.1:8080", "herald.example:3003", true},
		{"", "http://[::1]:8080", "herald.example:3003", true},
		{"", "https://evil.example", "herald.example:3003", false},
		{"", "https://herald.example:3003", "herald.example:3003", true}, // same origin
		{"https://app.example.com", "https://app.example.com", "ws.example.com", true},
		{"https://app.example.com", "http://app.example.com", "ws.example.com", false},
		{"https://app.example.com", "https://app.example.com:8443", "ws.example.com", false},
		{"https://app.example.com", "https://evil.app.example.com", "ws.example.com", false},
		{"https://app.example.com", "http://localhost:3000", "ws.example.com", false}, // a list replaces the dev default
		{"http://127.0.0.1:*", "http://127.0.0.1:5173", "x", true},
		{"http://127.0.0.1:*", "http://127.0.0.2:5173", "x", false},
		{"https://*.example.com", "https://a.b.example.com", "x", true},
		{"https://*.example.com", "https://example.com", "x", false},
		{"https://*.example.com", "https://badexample.com", "x", false},
		{"https://app.example.com,http://127.0.0.1:*", "http://127.0.0.1:1", "x", true},
		{"*", "https://anything.example", "x", true},
		{"https://app.example.com", "null", "x", false},
		{"https://app.example.com", "file:///etc/passwd", "x", false},
	}
	for _, c := range cases {
		p, err := Parse(c.list)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.list, err)
		}
		if got := p.Allowed(c.origin, c.host); got != c.want {
			t.Errorf("Parse(%q).Allowed(%q, %q) = %v, want %v", c.list, c.origin, c.host, got, c.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, bad := range []string{"app.example.com", "ftp://x", "https://a*.example.com", "https://x/path", "https://*"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted a bad pattern", bad)
		}
	}
}
