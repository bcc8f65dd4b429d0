// Package config turns flags and HERALD_* environment variables into one
// validated Config. Other packages take their own small options structs;
// only cmd/herald reads the environment.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/heraldrt/herald/internal/origin"
)

// Config is herald's whole configuration.
type Config struct {
	Listen          string
	RedisURL        string
	APIKey          string
	AllowedOrigins  string
	Origins         origin.Policy
	PingInterval    time.Duration
	PingTimeout     time.Duration
	ShutdownTimeout time.Duration
	Pprof           string
	LogLevel        slog.Level
	LogFormat       string

	// Authentication from the session copy Rails keeps in Redis.
	Auth          string // redis-hash or redis-key
	SessionCookie string
	SessionHash   string
	SessionPrefix string
	IdentityField string

	// Delivery.
	Channel       string
	EmitterPrefix string

	// Sign-out.
	RevocationInterval time.Duration
	KeyspaceEvents     string // auto or off

	// Demo serves the demo page at /: auto (with the embedded Redis only),
	// on or off.
	Demo string

	// EmbeddedRedis is the address of the development Redis started when
	// RedisURL is empty.
	EmbeddedRedis string
}

// ErrHelp is returned when --help was asked for; the usage was printed.
var ErrHelp = flag.ErrHelp

// Load parses args over the environment (flags win) and validates.
func Load(args []string, getenv func(string) string, usage io.Writer) (*Config, error) {
	c := &Config{}
	var logLevel string
	fs := flag.NewFlagSet("herald", flag.ContinueOnError)
	fs.SetOutput(usage)
	str := func(p *string, name, env, def, help string) {
		if v := getenv(env); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, help+" ($"+env+")")
	}
	dur := func(p *time.Duration, name, env string, def time.Duration, help string) {
		if v := getenv(env); v != "" {
			if d, err := time.ParseDuration(v); err == nil {
				def = d
			}
		}
		fs.DurationVar(p, name, def, help+" ($"+env+")")
	}
	str(&c.Listen, "listen", "HERALD_LISTEN", ":3003", "address to serve Socket.IO, the API, health and metrics on")
	str(&c.RedisURL, "redis", "HERALD_REDIS_URL", "", "Redis URL, e.g. redis://127.0.0.1:6379/0; empty starts an embedded Redis-protocol server on loopback for development")
	str(&c.APIKey, "api-key", "HERALD_API_KEY", "", "bearer key for POST /api/publish; empty turns the API off")
	str(&c.AllowedOrigins, "allowed-origins", "HERALD_ALLOWED_ORIGINS", "", "comma-separated browser origins allowed to connect; '*' may stand for a port or leftmost subdomain labels (https://app.example.com,http://127.0.0.1:*); empty allows same-origin and loopback pages only")
	dur(&c.PingInterval, "ping-interval", "HERALD_PING_INTERVAL", 25*time.Second, "Engine.IO heartbeat interval")
	dur(&c.PingTimeout, "ping-timeout", "HERALD_PING_TIMEOUT", 20*time.Second, "Engine.IO heartbeat timeout")
	dur(&c.ShutdownTimeout, "shutdown-timeout", "HERALD_SHUTDOWN_TIMEOUT", 10*time.Second, "bound on graceful shutdown after SIGTERM")
	str(&c.Pprof, "pprof", "HERALD_PPROF", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060); empty disables it")
	str(&logLevel, "log-level", "HERALD_LOG_LEVEL", "info", "debug, info, warn or error")
	str(&c.LogFormat, "log-format", "HERALD_LOG_FORMAT", "text", "text or json")
	str(&c.Auth, "auth", "HERALD_AUTH", "redis-hash", "how connections are authenticated: redis-hash (HGET <session-hash> <token>, the original design) or redis-key (GET <session-prefix><token>, one key per session so it can expire)")
	str(&c.SessionCookie, "session-cookie", "HERALD_SESSION_COOKIE", "_validation_token_key", "cookie carrying the session token (clients without cookies may send auth.token instead)")
	str(&c.SessionHash, "session-hash", "HERALD_SESSION_HASH", "mySessionStore", "Redis hash of the session copies (redis-hash)")
	str(&c.SessionPrefix, "session-prefix", "HERALD_SESSION_PREFIX", "herald:session:", "key prefix of the session copies (redis-key)")
	str(&c.IdentityField, "identity-field", "HERALD_IDENTITY_FIELD", "user_id", "session JSON field naming the user; sockets join the room user:<id>")
	str(&c.Channel, "channel", "HERALD_CHANNEL", "herald:notify", "Redis channel of notifications published by the app")
	str(&c.EmitterPrefix, "emitter-prefix", "HERALD_EMITTER_PREFIX", "socket.io", "channel prefix of @socket.io/redis-emitter messages; 'off' ignores them")
	dur(&c.RevocationInterval, "revocation-interval", "HERALD_REVOCATION_INTERVAL", time.Second, "how often live sessions are re-checked in Redis when keyspace events are unavailable")
	str(&c.KeyspaceEvents, "keyspace-events", "HERALD_KEYSPACE_EVENTS", "auto", "auto: enable Redis keyspace notifications (CONFIG SET) to see sign-outs at once; off: only re-check on the interval")
	str(&c.EmbeddedRedis, "embedded-redis", "HERALD_EMBEDDED_REDIS", "127.0.0.1:6379", "address of the embedded development Redis, used when --redis is empty (falls back to a free port)")
	str(&c.Demo, "demo", "HERALD_DEMO", "auto", "serve the demo page at /: auto (only with the embedded Redis), on, or off; it lets anyone sign in as any user, never turn it on in production")
	fs.Usage = func() {
		fmt.Fprintf(usage, "herald: a Socket.IO v4 notification server for Rails apps.\n\nUsage: herald [flags]\n\nEvery flag can also be set by the environment variable named after it.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := c.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return c, c.validate()
}

func (c *Config) validate() error {
	var errs []error
	var err error
	if c.Origins, err = origin.Parse(c.AllowedOrigins); err != nil {
		errs = append(errs, fmt.Errorf("--allowed-origins: %w", err))
	}
	if c.PingInterval <= 0 || c.PingTimeout <= 0 {
		errs = append(errs, errors.New("--ping-interval and --ping-timeout must be positive"))
	}
	if c.Auth != "redis-hash" && c.Auth != "redis-key" {
		errs = append(errs, fmt.Errorf("--auth %q: want redis-hash or redis-key", c.Auth))
	}
	if c.KeyspaceEvents != "auto" && c.KeyspaceEvents != "off" {
		errs = append(errs, fmt.Errorf("--keyspace-events %q: want auto or off", c.KeyspaceEvents))
	}
	if c.Demo != "auto" && c.Demo != "on" && c.Demo != "off" {
		errs = append(errs, fmt.Errorf("--demo %q: want auto, on or off", c.Demo))
	}
	if c.RevocationInterval <= 0 {
		errs = append(errs, errors.New("--revocation-interval must be positive"))
	}
	if c.Channel == "" {
		errs = append(errs, errors.New("--channel must not be empty"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") && !strings.HasPrefix(c.RedisURL, "unix://") {
		errs = append(errs, fmt.Errorf("--redis %q: want redis://, rediss:// or unix://", redactURL(c.RedisURL)))
	}
	return errors.Join(errs...)
}

// redactURL hides a password in a URL for messages and logs.
func redactURL(s string) string {
	if at := strings.LastIndex(s, "@"); at >= 0 {
		if scheme := strings.Index(s, "://"); scheme >= 0 && scheme < at {
			return s[:scheme+3] + "***" + s[at:]
		}
	}
	return s
}

// RedactedRedisURL is the Redis URL safe to log.
func (c *Config) RedactedRedisURL() string { return redactURL(c.RedisURL) }
