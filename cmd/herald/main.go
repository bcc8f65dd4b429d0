// Command herald is a Socket.IO v4 notification server for Rails apps.
// Run "herald --help" for its configuration.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/heraldrt/herald/internal/app"
	"github.com/heraldrt/herald/internal/config"
)

// gcPercent is herald's default GOGC. Its live heap is small (a few
// kilobytes per connection) and the resident memory of many idle
// connections is the figure that matters; the Go default of 100 lets the
// heap grow to twice the live data. Setting GOGC overrides it.
const gcPercent = 50

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "session" {
		os.Exit(sessionCmd(os.Args[2:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main without the process: tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(args, getenv, stdout)
	if errors.Is(err, config.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "herald: %v\n", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	a, err := app.New(cfg, log)
	if err != nil {
		log.Error("herald failed to start", "err", err)
		return 1
	}
	if err := a.Run(ctx); err != nil {
		log.Error("herald stopped with an error", "err", err)
		return 1
	}
	return 0
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
