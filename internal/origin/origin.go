// Package origin decides which browser origins may open a connection.
//
// Cookie-authenticated WebSockets are open to cross-site hijacking: CORS
// does not apply to WebSocket upgrades, so any page the user visits could
// open a socket that carries the user's cookies. The server therefore
// checks the Origin header of every request against an allowlist.
package origin

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Policy is a parsed allowlist. The zero Policy allows same-origin and
// loopback pages only, which suits development.
type Policy struct {
	patterns []pattern
}

// pattern is one allowed origin; "*" may stand for the port or for the
// leftmost labels of the host ("https://*.example.com").
type pattern struct {
	scheme  string
	host    string // without a leading "*."
	anySub  bool   // host began with "*."
	port    string // "" = the scheme's default port
	anyPort bool
}

// Parse reads a comma-separated list such as
// "https://app.example.com,http://127.0.0.1:*". "*" alone allows every
// origin (only for public, cookie-less deployments).
func Parse(list string) (Policy, error) {
	var p Policy
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if item == "*" {
			p.patterns = append(p.patterns, pattern{scheme: "*"})
			continue
		}
		pat, err := parsePattern(item)
		if err != nil {
			return Policy{}, err
		}
		p.patterns = append(p.patterns, pat)
	}
	return p, nil
}

func parsePattern(s string) (pattern, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (scheme != "http" && scheme != "https") || rest == "" || strings.ContainsAny(rest, "/?#") {
		return pattern{}, fmt.Errorf("origin %q: want scheme://host[:port], e.g. https://app.example.com", s)
	}
	pat := pattern{scheme: scheme}
	host, port := rest, ""
	if h, pt, err := net.SplitHostPort(rest); err == nil {
		host, port = h, pt
	}
	if port == "*" {
		pat.anyPort = true
	} else {
		pat.port = port
	}
	if strings.HasPrefix(host, "*.") {
		pat.anySub, host = true, host[2:]
	}
	if host == "" || strings.Contains(host, "*") {
		return pattern{}, fmt.Errorf("origin %q: '*' may only stand for the port or the leftmost labels", s)
	}
	pat.host = strings.ToLower(host)
	return pat, nil
}

// Allowed reports whether a page of the given origin may connect to a
// server that the browser reached as requestHost (the Host header).
func (p Policy) Allowed(origin, requestHost string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if strings.EqualFold(u.Host, requestHost) {
		return true // same origin
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if len(p.patterns) == 0 {
		return isLoopback(host)
	}
	for _, pat := range p.patterns {
		if pat.match(u.Scheme, host, port) {
			return true
		}
	}
	return false
}

func (pat pattern) match(scheme, host, port string) bool {
	if pat.scheme == "*" {
		return true
	}
	if scheme != pat.scheme {
		return false
	}
	if !pat.anyPort && port != pat.port {
		return false
	}
	if pat.anySub {
		return strings.HasSuffix(host, "."+pat.host)
	}
	return host == pat.host
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
