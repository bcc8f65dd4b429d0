// Package cookie finds one cookie in Cookie request headers.
//
// It is lenient where net/http is strict on purpose: http.ParseCookie
// rejects a whole header when any one pair is malformed (a quote inside a
// value, a non-ASCII byte), and browsers do send such cookies set by other
// code on the same site. A session cookie must not be lost because of a
// neighbour.
package cookie

import "strings"

// Get returns the value of the first cookie named name in the given Cookie
// header lines. Surrounding double quotes are removed, as RFC 6265 allows.
func Get(lines []string, name string) (string, bool) {
	for _, line := range lines {
		for line != "" {
			var pair string
			pair, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok || strings.TrimSpace(k) != name {
				continue
			}
			v = strings.TrimSpace(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}
