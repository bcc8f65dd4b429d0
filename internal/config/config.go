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
	"slices"
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

	// Authentication: a chain of modes tried in order.
	Auth          string // as given: comma-separated modes
	AuthModes     []string
	SessionCookie string
	SessionHash   string
	SessionPrefix string
	IdentityField string

	// Native Rails sessions.
	Rails RailsConfig

	// JWT and the HTTP callback.
	JWTSecret, JWTPublicKey, JWTAudience, JWTIssuer, JWTUserClaim, JWTCookie, JWTQueryParam string
	AuthURL                                                                                 string
	AuthCacheTTL                                                                            time.Duration

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

// RailsConfig reads Rails' own sessions (cookie store or Redis stores).
type RailsConfig struct {
	SecretKeyBase []string // current first, then older ones
	SessionCookie string
	SessionPrefix string
	DeviseScope   string

	SignedCookieSalt, EncryptedCookieSalt, EncryptedSignedCookieSalt, AuthenticatedEncryptedCookieSalt string
}

// AuthModes known to herald.
var authModes = []string{"redis-hash", "redis-key", "rails-cookie", "rails-redis-store", "jwt", "http"}

// ErrHelp is returned when --help was asked for; the usage was printed.
var ErrHelp = flag.ErrHelp

// Load parses args over the environment (flags win) and validates.
func Load(args []string, getenv func(string) string, usage io.Writer) (*Config, error) {
	c := &Config{}
	var logLevel string
	fs := flag.NewFlagSet("herald", flag.ContinueOnError)
	fs.SetOutput(usage)
	b := binder{fs, getenv}
	str, dur := b.str, b.dur
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
	str(&c.Auth, "auth", "HERALD_AUTH", "redis-hash", "how connections are authenticated, a mode or a comma-separated chain tried in order: redis-hash (HGET <session-hash> <token>, the original design), redis-key (GET <session-prefix><token>), rails-cookie (Rails' encrypted session cookie), rails-redis-store (Rails' Redis session stores), jwt, http (a callback to the app)")
	str(&c.SessionCookie, "session-cookie", "HERALD_SESSION_COOKIE", "_validation_token_key", "cookie carrying the session token (clients without cookies may send auth.token instead)")
	str(&c.SessionHash, "session-hash", "HERALD_SESSION_HASH", "mySessionStore", "Redis hash of the session copies (redis-hash)")
	str(&c.SessionPrefix, "session-prefix", "HERALD_SESSION_PREFIX", "herald:session:", "key prefix of the session copies (redis-key)")
	str(&c.IdentityField, "identity-field", "HERALD_IDENTITY_FIELD", "user_id", "session JSON field naming the user; sockets join the room user:<id>")
	var secrets string
	b.rails(&c.Rails, &secrets)
	str(&c.JWTSecret, "jwt-secret", "HERALD_JWT_SECRET", "", "HS256 secret (jwt)")
	str(&c.JWTPublicKey, "jwt-public-key", "HERALD_JWT_PUBLIC_KEY", "", "file of the RS256 or ES256 public key, PEM (jwt)")
	str(&c.JWTAudience, "jwt-audience", "HERALD_JWT_AUDIENCE", "", "required aud claim (jwt)")
	str(&c.JWTIssuer, "jwt-issuer", "HERALD_JWT_ISSUER", "", "required iss claim (jwt)")
	str(&c.JWTUserClaim, "jwt-user-claim", "HERALD_JWT_USER_CLAIM", "sub", "claim naming the user (jwt)")
	str(&c.JWTCookie, "jwt-cookie", "HERALD_JWT_COOKIE", "", "cookie that may carry the token, after auth.token (jwt)")
	str(&c.JWTQueryParam, "jwt-query-param", "HERALD_JWT_QUERY_PARAM", "", "query parameter that may carry the token (jwt)")
	str(&c.AuthURL, "auth-url", "HERALD_AUTH_URL", "", "the app's endpoint herald POSTs cookies and the auth payload to (http)")
	dur(&c.AuthCacheTTL, "auth-cache-ttl", "HERALD_AUTH_CACHE_TTL", 5*time.Second, "how long answers of the http callback are reused")
	str(&c.Channel, "channel", "HERALD_CHANNEL", "herald:notify", "Redis channel of notifications published by the app")
	str(&c.EmitterPrefix, "emitter-prefix", "HERALD_EMITTER_PREFIX", "socket.io", "channel prefix of @socket.io/redis-emitter messages; 'off' ignores them")
	dur(&c.RevocationInterval, "revocation-interval", "HERALD_REVOCATION_INTERVAL", time.Second, "how often live sessions are re-checked in Redis when keyspace events are unavailable")
	str(&c.KeyspaceEvents, "keyspace-events", "HERALD_KEYSPACE_EVENTS", "auto", "auto: enable Redis keyspace notifications (CONFIG SET) to see sign-outs at once; off: only re-check on the interval")
	str(&c.EmbeddedRedis, "embedded-redis", "HERALD_EMBEDDED_REDIS", "127.0.0.1:6379", "address of the embedded development Redis, used when --redis is empty (falls back to a free port)")
	str(&c.Demo, "demo", "HERALD_DEMO", "auto", "serve the demo page at /: auto (only with the embedded Redis), on, or off; it lets anyone sign in as any user, never turn it on in production")
	fs.Usage = func() {
		fmt.Fprintf(usage, "herald: a Socket.IO v4 notification server for Rails apps.\n\nUsage: herald [flags]\n       herald session decode [flags] COOKIE-VALUE   (herald session decode -h)\n\nEvery flag can also be set by the environment variable named after it.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.Rails.SecretKeyBase = splitList(secrets)
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
	errs = append(errs, c.validateAuth()...)
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

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// validateAuth checks the auth chain and what each mode needs.
func (c *Config) validateAuth() []error {
	var errs []error
	c.AuthModes = splitList(c.Auth)
	if len(c.AuthModes) == 0 {
		return []error{errors.New("--auth: no mode given")}
	}
	seen := map[string]bool{}
	for _, m := range c.AuthModes {
		if !slices.Contains(authModes, m) {
			errs = append(errs, fmt.Errorf("--auth %q: unknown mode; want %s", m, strings.Join(authModes, ", ")))
		}
		if seen[m] {
			errs = append(errs, fmt.Errorf("--auth: %q given twice", m))
		}
		seen[m] = true
	}
	if seen["rails-cookie"] && len(c.Rails.SecretKeyBase) == 0 {
		errs = append(errs, errors.New("--auth rails-cookie needs --rails-secret-key-base (HERALD_RAILS_SECRET_KEY_BASE)"))
	}
	if (seen["rails-cookie"] || seen["rails-redis-store"]) && c.Rails.SessionCookie == "" {
		errs = append(errs, errors.New("--auth rails-cookie and rails-redis-store need --rails-session-cookie (HERALD_RAILS_SESSION_COOKIE), e.g. _myapp_session"))
	}
	if seen["jwt"] && c.JWTSecret == "" && c.JWTPublicKey == "" {
		errs = append(errs, errors.New("--auth jwt needs --jwt-secret or --jwt-public-key"))
	}
	if seen["http"] && c.AuthURL == "" {
		errs = append(errs, errors.New("--auth http needs --auth-url"))
	}
	return errs
}

// Has reports whether the auth chain includes mode.
func (c *Config) Has(mode string) bool { return slices.Contains(c.AuthModes, mode) }

// binder defines flags whose defaults come from the environment.
type binder struct {
	fs     *flag.FlagSet
	getenv func(string) string
}

func (b binder) str(p *string, name, env, def, help string) {
	if v := b.getenv(env); v != "" {
		def = v
	}
	b.fs.StringVar(p, name, def, help+" ($"+env+")")
}

func (b binder) dur(p *time.Duration, name, env string, def time.Duration, help string) {
	if v := b.getenv(env); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			def = d
		}
	}
	b.fs.DurationVar(p, name, def, help+" ($"+env+")")
}

// rails defines the flags of Rails' own sessions; secrets receives the
// comma-separated secret_key_base list.
func (b binder) rails(r *RailsConfig, secrets *string) {
	b.str(secrets, "rails-secret-key-base", "HERALD_RAILS_SECRET_KEY_BASE", "", "the Rails app's secret_key_base (rails-cookie); comma-separated: the current one first, then older ones still accepted")
	b.str(&r.SessionCookie, "rails-session-cookie", "HERALD_RAILS_SESSION_COOKIE", "", "the Rails session cookie's name, e.g. _myapp_session (rails-cookie, rails-redis-store)")
	b.str(&r.SessionPrefix, "rails-session-prefix", "HERALD_RAILS_SESSION_PREFIX", "", "key prefix of the Rails session store (rails-redis-store): e.g. rack:session: for redis-actionpack's default, myapp:_session_id: for CacheStore; empty is valid")
	b.str(&r.DeviseScope, "devise-scope", "HERALD_DEVISE_SCOPE", "user", "Devise/Warden scope: the user id is read from warden.user.<scope>.key, then from --identity-field")
	b.str(&r.SignedCookieSalt, "rails-signed-cookie-salt", "HERALD_RAILS_SIGNED_COOKIE_SALT", "", "Rails' signed_cookie_salt (default: Rails' default)")
	b.str(&r.EncryptedCookieSalt, "rails-encrypted-cookie-salt", "HERALD_RAILS_ENCRYPTED_COOKIE_SALT", "", "Rails' encrypted_cookie_salt (default: Rails' default)")
	b.str(&r.EncryptedSignedCookieSalt, "rails-encrypted-signed-cookie-salt", "HERALD_RAILS_ENCRYPTED_SIGNED_COOKIE_SALT", "", "Rails' encrypted_signed_cookie_salt (default: Rails' default)")
	b.str(&r.AuthenticatedEncryptedCookieSalt, "rails-authenticated-encrypted-cookie-salt", "HERALD_RAILS_AUTHENTICATED_ENCRYPTED_COOKIE_SALT", "", "Rails' authenticated_encrypted_cookie_salt (default: Rails' default)")
}

// Decode is the configuration of "herald session decode".
type Decode struct {
	Rails   RailsConfig
	Marshal string // a file of raw Marshal bytes ("-": stdin)
	Store   string // a file of a Redis session-store value ("-": stdin)
	Value   string // the cookie value
}

// LoadDecode parses "herald session decode [options] VALUE".
func LoadDecode(args []string, getenv func(string) string, usage io.Writer) (*Decode, error) {
	d := &Decode{}
	fs := flag.NewFlagSet("herald session decode", flag.ContinueOnError)
	fs.SetOutput(usage)
	b := binder{fs, getenv}
	var secrets string
	b.rails(&d.Rails, &secrets)
	fs.StringVar(&d.Marshal, "marshal", "", "decode raw Ruby Marshal bytes from this file (- for stdin) instead of a cookie")
	fs.StringVar(&d.Store, "store", "", "decode a Rails Redis session-store value from this file (- for stdin) instead of a cookie")
	fs.Usage = func() {
		fmt.Fprintf(usage, "Usage: herald session decode [options] COOKIE-VALUE\n       herald session decode --marshal FILE|-\n       herald session decode --store FILE|-\n\n"+
			"Prints the decoded session as JSON, or exits non-zero with the reason.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	d.Rails.SecretKeyBase = splitList(secrets)
	switch {
	case d.Marshal != "" || d.Store != "":
		if fs.NArg() > 0 || (d.Marshal != "" && d.Store != "") {
			return nil, errors.New("give one of --marshal FILE, --store FILE or a cookie value")
		}
	case fs.NArg() != 1:
		return nil, errors.New("give the cookie value (one argument)")
	default:
		d.Value = fs.Arg(0)
		if len(d.Rails.SecretKeyBase) == 0 || d.Rails.SessionCookie == "" {
			return nil, errors.New("decoding a cookie needs --rails-secret-key-base and --rails-session-cookie (or HERALD_RAILS_SECRET_KEY_BASE, HERALD_RAILS_SESSION_COOKIE)")
		}
	}
	return d, nil
}
