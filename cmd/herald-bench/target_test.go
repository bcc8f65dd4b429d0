package main

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		url, path                 string
		addr, host, p, q, ns, str string
		tls, loop                 bool
	}{
		{"http://127.0.0.1:3003", "", "127.0.0.1:3003", "127.0.0.1:3003", "/socket.io/", "", "/",
			"ws://127.0.0.1:3003/socket.io/?EIO=4&transport=websocket", false, true},
		{"ws://127.0.0.1", "/custom", "127.0.0.1:80", "127.0.0.1", "/custom", "", "/",
			"ws://127.0.0.1/custom?EIO=4&transport=websocket", false, true},
		{"https://127.0.0.1/admin?room=x", "sio/", "127.0.0.1:443", "127.0.0.1", "/sio/", "room=x", "/admin",
			"wss://127.0.0.1/sio/?room=x&EIO=4&transport=websocket", true, true},
		{"http://localhost:3100/", "", "127.0.0.1:3100", "localhost:3100", "/socket.io/", "", "/",
			"ws://localhost:3100/socket.io/?EIO=4&transport=websocket", false, true},
		{"http://[::1]:3100", "", "[::1]:3100", "[::1]:3100", "/socket.io/", "", "/",
			"ws://[::1]:3100/socket.io/?EIO=4&transport=websocket", false, false},
		{"http://10.1.2.3:3003", "", "10.1.2.3:3003", "10.1.2.3:3003", "/socket.io/", "", "/",
			"ws://10.1.2.3:3003/socket.io/?EIO=4&transport=websocket", false, false},
	}
	for _, tc := range cases {
		tg, err := parseTarget(ctx, tc.url, tc.path, false)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		b := tg.base
		if tc.url == "http://localhost:3100/" && !strings.HasPrefix(b.Addr, "127.") {
			t.Logf("localhost resolved to %s (no IPv4 loopback entry?)", b.Addr)
			continue
		}
		if b.Addr != tc.addr || b.Host != tc.host || b.Path != tc.p || b.Query != tc.q || b.Namespace != tc.ns ||
			(b.TLS != nil) != tc.tls || tg.loopback4 != tc.loop || tg.String() != tc.str {
			t.Errorf("%s: got addr %q host %q path %q query %q ns %q tls %v loop %v str %q",
				tc.url, b.Addr, b.Host, b.Path, b.Query, b.Namespace, b.TLS != nil, tg.loopback4, tg.String())
		}
	}
	for _, bad := range []string{"ftp://x", "http://", "://x", "http://no-such-host.invalid:1"} {
		if _, err := parseTarget(ctx, bad, "", false); err == nil {
			t.Errorf("parseTarget(%q) succeeded", bad)
		}
	}
}

func TestLocalAddrSpread(t *testing.T) {
	tg, err := parseTarget(context.Background(), "http://127.0.0.1:1", "", false)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := range 1000 {
		a := tg.localAddr(i, true).(*net.TCPAddr)
		ip := a.IP.To4()
		if ip == nil || ip[0] != 127 || ip[1] != 0 || ip[2] != 0 || ip[3] < 2 || ip[3] > 254 || a.Port != 0 {
			t.Fatalf("conn %d: source %v", i, a)
		}
		seen[a.IP.String()] = true
	}
	if len(seen) != 253 {
		t.Fatalf("%d distinct source addresses, want 253", len(seen))
	}
	if tg.localAddr(5, false) != nil {
		t.Fatal("spread disabled but address chosen")
	}
	if got := tg.srcRange(10, true); got != "127.0.0.2-127.0.0.11" {
		t.Fatal(got)
	}
	if got := tg.srcRange(10000, true); got != "127.0.0.2-127.0.0.254" {
		t.Fatal(got)
	}
	remote, _ := parseTarget(context.Background(), "http://10.0.0.1:1", "", false)
	if remote.localAddr(1, true) != nil || remote.srcRange(5, true) != "kernel-chosen" {
		t.Fatal("non-loopback target must not bind source addresses")
	}
}

func TestSubstAndCheckAuth(t *testing.T) {
	if got := subst("sid=tok{i}; other={i}", 42); got != "sid=tok42; other=42" {
		t.Fatal(got)
	}
	if got := subst("plain", 42); got != "plain" {
		t.Fatal(got)
	}
	for _, ok := range []string{"", `{"token":"t{i}"}`, `{"n":{i}}`} {
		if err := checkAuth(ok); err != nil {
			t.Errorf("checkAuth(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{`null`, `[1]`, `"x"`, `{"a":`, `tok{i}`} {
		if err := checkAuth(bad); err == nil {
			t.Errorf("checkAuth(%q) accepted", bad)
		}
	}
}
