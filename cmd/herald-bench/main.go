package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// subcommands by name; each returns the process exit code.
var subcommands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) int{
	"idle":      runIdle,
	"unicast":   deliverySubcommand("unicast"),
	"burst":     deliverySubcommand("burst"),
	"broadcast": deliverySubcommand("broadcast"),
	"emitter":   deliverySubcommand("emitter"),
	"suite":     deliverySubcommand("suite"),
	"report":    runReport,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	cmd, ok := subcommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "herald-bench: unknown subcommand %q\n", args[0])
		usage(stderr)
		return 2
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: herald-bench <subcommand> [flags]

subcommands:
  idle       open N idle Socket.IO connections and measure the server's
             memory, goroutines and CPU per connection
  unicast    N connections, one user each; notifications to random users
             at -rate/s for -duration via Redis PUBLISH on herald:notify:
             latency p50/p99/p99.9, exact loss/duplicate/misroute
             accounting, server CPU per delivery
  burst      the same, -burst notifications published as fast as possible:
             deliveries/s, server CPU per delivery
  broadcast  {"broadcast":true} -broadcasts times to every connection:
             fan-out deliveries/s, latency, server CPU per delivery
  emitter    unicast and broadcast in the Socket.IO Redis emitter format
             (socket.io#/#user:<id># and socket.io#/#)
  suite      the idle measurement, then unicast, burst, broadcast and both
             emitter phases on one set of connections (-phases to choose)
  report     Markdown comparison table from suite -json result files

run "herald-bench <subcommand> -h" for its flags.
`)
}

// clientFlags are the flags shared by every subcommand that drives a
// connection pool.
type clientFlags struct {
	url, path        string
	n, c             int
	cookie, auth     string
	origin           string
	insecure         bool
	spread           bool
	handshakeTimeout time.Duration
	timeout          time.Duration
	json             bool
	quiet            bool
}

func (f *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "url", "http://127.0.0.1:3003", "server URL (http, https, ws or wss); a path other than / is the namespace, as with io(url)")
	fs.StringVar(&f.path, "path", "/socket.io/", "Engine.IO endpoint path")
	fs.IntVar(&f.n, "n", 10000, "number of connections")
	fs.IntVar(&f.c, "c", 200, "dial concurrency (handshakes in flight)")
	fs.StringVar(&f.cookie, "cookie", "", "Cookie header value; {i} is replaced by the connection index")
	fs.StringVar(&f.auth, "auth", "", `CONNECT auth payload, a JSON object, e.g. {"token":"t{i}"}; {i} is replaced by the connection index`)
	fs.StringVar(&f.origin, "origin", "", "Origin header value ({i} substituted too)")
	fs.BoolVar(&f.insecure, "insecure", false, "skip TLS certificate verification (https/wss)")
	fs.BoolVar(&f.spread, "spread", true, "against a 127.x target, bind source addresses 127.0.0.2-254 round-robin")
	fs.DurationVar(&f.handshakeTimeout, "dial-timeout", 30*time.Second, "bound on each connection's TCP+WebSocket+Engine.IO+Socket.IO handshake")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "overall bound on the run (closing afterwards has its own 30s bound)")
	fs.BoolVar(&f.json, "json", false, "also print the result as one JSON line")
	fs.BoolVar(&f.quiet, "q", false, "no progress lines on stderr")
}

func (f *clientFlags) validate() error {
	switch {
	case f.n <= 0:
		return errors.New("-n must be positive")
	case f.c <= 0:
		return errors.New("-c must be positive")
	case f.handshakeTimeout <= 0 || f.timeout <= 0:
		return errors.New("timeouts must be positive")
	}
	return checkAuth(f.auth)
}

func (f *clientFlags) poolConfig(t *target, stderr io.Writer) poolConfig {
	pc := poolConfig{
		Target: t, N: f.n, Concurrency: f.c, Spread: f.spread,
		Cookie: f.cookie, Auth: f.auth, Origin: f.origin,
		HandshakeTimeout: f.handshakeTimeout,
	}
	if !f.quiet {
		pc.Progress = stderr
	}
	return pc
}
