package emitter

import "testing"

func TestChannels(t *testing.T) {
	tests := []struct {
		prefix, nsp     string
		pattern, reqChn string
	}{
		{"socket.io", "/", "socket.io#/#*", "socket.io-request#/#"},
		{"socket.io", "/admin", "socket.io#/admin#*", "socket.io-request#/admin#"},
		{"app", "/", "app#/#*", "app-request#/#"},
		{"a*b", "/[x]?", `a\*b#/\[x\]\?#*`, "a*b-request#/[x]?#"},
		{`p\`, "/", `p\\#/#*`, `p\-request#/#`},
	}
	for _, tt := range tests {
		if got := BroadcastPattern(tt.prefix, tt.nsp); got != tt.pattern {
			t.Errorf("BroadcastPattern(%q, %q) = %q, want %q", tt.prefix, tt.nsp, got, tt.pattern)
		}
		if got := RequestChannel(tt.prefix, tt.nsp); got != tt.reqChn {
			t.Errorf("RequestChannel(%q, %q) = %q, want %q", tt.prefix, tt.nsp, got, tt.reqChn)
		}
	}
}

func TestRoomFromChannel(t *testing.T) {
	tests := []struct {
		prefix, nsp, channel string
		room                 string
		ok                   bool
	}{
		{"socket.io", "/", "socket.io#/#", "", true},
		{"socket.io", "/", "socket.io#/#user:42#", "user:42", true},
		{"socket.io", "/", "socket.io#/#42#", "42", true},
		{"socket.io", "/", "socket.io#/#a#b#", "a#b", true}, // as the Node adapter slices it
		{"socket.io", "/", "socket.io#/##", "", true},
		{"socket.io", "/", "socket.io#/#user:42", "", false}, // no closing '#'
		{"socket.io", "/", "socket.io#/admin#", "", false},
		{"socket.io", "/", "socket.io-request#/#", "", false},
		{"socket.io", "/", "other#/#room#", "", false},
		{"socket.io", "/admin", "socket.io#/admin#r#", "r", true},
		{"socket.io", "/admin", "socket.io#admin#r#", "", false}, // the Ruby gem's of("admin")
		{"socket.io", "/", "", "", false},
	}
	for _, tt := range tests {
		room, ok := RoomFromChannel(tt.prefix, tt.nsp, tt.channel)
		if room != tt.room || ok != tt.ok {
			t.Errorf("RoomFromChannel(%q, %q, %q) = %q, %v; want %q, %v",
				tt.prefix, tt.nsp, tt.channel, room, ok, tt.room, tt.ok)
		}
	}
}

func TestRequestTypeString(t *testing.T) {
	for typ, want := range map[RequestType]string{
		RemoteJoin:   "REMOTE_JOIN",
		BroadcastAck: "BROADCAST_ACK",
		Sockets:      "SOCKETS",
		42:           "RequestType(42)",
		-1:           "RequestType(-1)",
	} {
		if got := typ.String(); got != want {
			t.Errorf("RequestType(%d).String() = %q, want %q", int(typ), got, want)
		}
	}
}
