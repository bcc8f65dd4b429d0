package engineio

import (
	"log/slog"
	"net/http"
	"time"
)

// Options configure a Server. The zero value of every field means the
// default given in its comment, which matches the Node.js engine.io server.
type Options struct {
	// PingInterval is how often the server pings each client. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for a pong. Default 20s.
	PingTimeout time.Duration
	// UpgradeTimeout bounds a polling-to-WebSocket upgrade. Default 10s.
	UpgradeTimeout time.Duration
	// MaxPayload is the largest message (WebSocket) or POST body
	// (long-polling) accepted, in bytes. Default 1,000,000.
	MaxPayload int
	// MaxBufferedPackets bounds the packets queued for a long-polling client
	// between two GETs. A client that falls further behind is disconnected.
	// Default 1024.
	MaxBufferedPackets int
	// MaxWriteBuffer bounds the bytes queued in the kernel-side backlog of a
	// WebSocket connection that does not read. When it is exceeded the
	// connection is closed. Default 4 MiB.
	MaxWriteBuffer int
	// CheckOrigin decides whether a request from a browser page of the given
	// origin (the Origin header) may open or use a session. Allowed origins
	// are echoed in Access-Control-Allow-Origin with credentials. A nil
	// CheckOrigin allows every origin, as Node's cors {origin: "*"} does.
	// Requests without an Origin header (non-browser clients) are not
	// checked here.
	CheckOrigin func(origin string, r *http.Request) bool
	// HandshakeHeaders lists the request headers a session keeps for the
	// application (Session.Handshake). Nil keeps every header but the
	// transport's own; a short list saves memory on every connection,
	// since browsers send kilobytes of headers.
	HandshakeHeaders []string
	// Logger receives diagnostic events. Default: discard.
	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = 20 * time.Second
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = 10 * time.Second
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = 1_000_000
	}
	if c.MaxBufferedPackets <= 0 {
		c.MaxBufferedPackets = 1024
	}
	if c.MaxWriteBuffer <= 0 {
		c.MaxWriteBuffer = 4 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
