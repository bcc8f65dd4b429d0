package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/heraldrt/herald/internal/sioclient"
)

// target is where the pool connects: the shared part of every
// connection's sioclient.Config, resolved once.
type target struct {
	base      sioclient.Config // Addr (an IP), Host, Path, Query, TLS, Namespace
	ip        netip.Addr
	loopback4 bool // IPv4 loopback: source addresses can be spread
}

// parseTarget interprets -url and -path the way socket.io-client reads
// io(url, {path}): scheme http/ws or https/wss, host and port; a URL path
// other than "/" names the namespace; the query is passed along in the
// handshake; the Engine.IO path is -path (default /socket.io/).
func parseTarget(ctx context.Context, rawURL, path string, insecure bool) (*target, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("-url: %w", err)
	}
	t := &target{}
	port := u.Port()
	switch u.Scheme {
	case "http", "ws":
		if port == "" {
			port = "80"
		}
	case "https", "wss":
		if port == "" {
			port = "443"
		}
		t.base.TLS = &tls.Config{InsecureSkipVerify: insecure}
	default:
		return nil, fmt.Errorf("-url: unsupported scheme %q (want http, https, ws or wss)", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return nil, errors.New("-url: no host")
	}
	t.base.Host = u.Host
	if path == "" {
		path = sioclient.DefaultPath
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	t.base.Path = path
	t.base.Query = u.RawQuery
	t.base.Namespace = "/"
	if u.Path != "" && u.Path != "/" {
		t.base.Namespace = u.Path
	}

	ip, err := resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	t.ip = ip
	t.loopback4 = ip.Is4() && ip.IsLoopback()
	t.base.Addr = net.JoinHostPort(ip.String(), port)
	return t, nil
}

// resolve looks the host up once, preferring IPv4 (so that "localhost"
// allows spreading source addresses over 127.0.0.0/8).
func resolve(ctx context.Context, host string) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap(), nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return netip.Addr{}, fmt.Errorf("-url: cannot resolve %q: %v", host, err)
	}
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			return ip.Unmap(), nil
		}
	}
	return ips[0], nil
}

// Source addresses used against an IPv4 loopback target: 127.0.0.2 to
// 127.0.0.254, 253 addresses, each with its own ephemeral port range.
const (
	srcFirst = 2
	srcCount = 253
)

// localAddr returns the source address of connection i, or nil to let the
// kernel choose.
func (t *target) localAddr(i int, spread bool) net.Addr {
	if !spread || !t.loopback4 {
		return nil
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(srcFirst+i%srcCount))}
}

// srcRange describes the source addresses in use, for the report.
func (t *target) srcRange(n int, spread bool) string {
	if !spread || !t.loopback4 {
		return "kernel-chosen"
	}
	last := srcFirst + min(n, srcCount) - 1
	return fmt.Sprintf("127.0.0.%d-127.0.0.%d", srcFirst, last)
}

// String is the URL that is dialled.
func (t *target) String() string {
	scheme := "ws"
	if t.base.TLS != nil {
		scheme = "wss"
	}
	q := "EIO=4&transport=websocket"
	if t.base.Query != "" {
		q = t.base.Query + "&" + q
	}
	return fmt.Sprintf("%s://%s%s?%s", scheme, t.base.Host, t.base.Path, q)
}

// subst replaces every "{i}" in tmpl by the connection index.
func subst(tmpl string, i int) string {
	if !strings.Contains(tmpl, "{i}") {
		return tmpl
	}
	return strings.ReplaceAll(tmpl, "{i}", strconv.Itoa(i))
}

// checkAuth validates the -auth template: once {i} is substituted it must
// be a JSON object, as Socket.IO requires of the CONNECT payload.
func checkAuth(tmpl string) error {
	if tmpl == "" {
		return nil
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(subst(tmpl, 0)), &obj); err != nil {
		return fmt.Errorf("-auth must be a JSON object (after {i} substitution): %w", err)
	}
	if obj == nil {
		return errors.New("-auth must be a JSON object, not null")
	}
	return nil
}
