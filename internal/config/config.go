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
