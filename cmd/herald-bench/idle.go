package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"
)

// idleResult is what `herald-bench idle` measures; it is also the JSON
// line printed with -json. Optional figures are omitted when not measured.
type idleResult struct {
	Target      string `json:"target"`
	Namespace   string `json:"namespace"`
	N           int    `json:"n"`
	Concurrency int    `json:"concurrency"`
	Sources     string `json:"source_addrs"`

	OK           int           `json:"ok"`
	Failed       int           `json:"failed"`
	NotAttempted int           `json:"not_attempted"`
	Dropped      int           `json:"dropped"` // connected, then lost before the final close
	Failures     []reasonCount `json:"failures,omitempty"`
	Drops        []reasonCount `json:"drops,omitempty"`

	ConnectSeconds float64 `json:"connect_seconds"`
	ConnectRate    float64 `json:"connect_rate"` // successful connections per second
	SettleSeconds  float64 `json:"settle_seconds"`
	HoldSeconds    float64 `json:"hold_seconds"`
	Measured       int     `json:"measured_conns"` // connections open when the loaded figures were taken

	ServerPID       int      `json:"server_pid,omitempty"`
	RSSBaseline     *int64   `json:"rss_baseline_bytes,omitempty"`
	RSSLoaded       *int64   `json:"rss_loaded_bytes,omitempty"`
	RSSPerConn      *float64 `json:"rss_per_conn_bytes,omitempty"`
	AnonBaseline    *int64   `json:"rss_anon_baseline_bytes,omitempty"`
	AnonLoaded      *int64   `json:"rss_anon_loaded_bytes,omitempty"`
	AnonPerConn     *float64 `json:"rss_anon_per_conn_bytes,omitempty"`
	CPUConnect      *float64 `json:"cpu_connect_seconds,omitempty"`
	CPUPerConnectUS *float64 `json:"cpu_per_connect_us,omitempty"`
	ClkTck          int64    `json:"clk_tck,omitempty"`

	GoroutinesBaseline *float64 `json:"goroutines_baseline,omitempty"`
	GoroutinesLoaded   *float64 `json:"goroutines_loaded,omitempty"`
	GoroutinesPerConn  *float64 `json:"goroutines_per_conn,omitempty"`

	ClientRSS        int64  `json:"client_rss_bytes,omitempty"`
	ClientGoroutines int    `json:"client_goroutines"`
	NoFile           uint64 `json:"rlimit_nofile"`

	TimedOut bool     `json:"timed_out,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	ExitCode int      `json:"exit_code"`
}

// failLimit is the share of connections that may fail (dial failures,
// connections not attempted before -timeout, connections dropped before
// the end) without a non-zero exit: 0.1%.
func failLimitExceeded(bad, n int) bool { return bad*1000 > n }

func runIdle(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herald-bench idle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.register(fs)
	pid := fs.Int("pid", 0, "server PID: read VmRSS/RssAnon from /proc/<pid>/status and CPU time from /proc/<pid>/stat")
	metricsURL := fs.String("metrics-url", "", "Prometheus text endpoint of the server, read for go_goroutines")
	settle := fs.Duration("settle", 5*time.Second, "wait after the connect phase before measuring (pings are answered meanwhile)")
	hold := fs.Duration("hold", 0, "keep the connections open this long after measuring")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: herald-bench idle [flags]\n\nOpens -n idle Socket.IO connections and reports the server's memory,\ngoroutines and CPU per connection.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "herald-bench idle: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if err := cf.validate(); err != nil {
		fmt.Fprintln(stderr, "herald-bench idle:", err)
		return 2
	}
	if *settle < 0 || *hold < 0 {
		fmt.Fprintln(stderr, "herald-bench idle: -settle and -hold must not be negative")
		return 2
	}
	progress := stderr
	if cf.quiet {
		progress = io.Discard
	}

	res := idleResult{N: cf.n, Concurrency: cf.c, ServerPID: *pid}
	soft, hard, err := raiseNoFile()
	res.NoFile = soft
	if err != nil {
		res.warn("raising RLIMIT_NOFILE: %v", err)
	}
	if soft < uint64(cf.n)+64 {
		res.warn("RLIMIT_NOFILE is %d (hard %d): too low for %d connections", soft, hard, cf.n)
	}

	runCtx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	t, err := parseTarget(runCtx, cf.url, cf.path, cf.insecure)
	if err != nil {
		fmt.Fprintln(stderr, "herald-bench idle:", err)
		return 2
	}
	res.Target, res.Namespace, res.Sources = t.String(), t.base.Namespace, t.srcRange(cf.n, cf.spread)
	fmt.Fprintf(progress, "herald-bench idle: %s namespace %s, n=%d c=%d, sources %s, RLIMIT_NOFILE %d\n",
		res.Target, res.Namespace, cf.n, cf.c, res.Sources, soft)

	p, _ := connectAndMeasure(runCtx, &res, cf.poolConfig(t, progress), *pid, *metricsURL, *settle, progress, stderr)
	if p == nil {
		return 2
	}

	if *hold > 0 {
		fmt.Fprintf(progress, "  holding %d connections for %v\n", p.alive.Load(), *hold)
		holdStart := time.Now()
		sleepCtx(runCtx, *hold)
		res.HoldSeconds = time.Since(holdStart).Seconds()
	}
	res.TimedOut = runCtx.Err() != nil
	res.Drops = p.drops.sorted()
	res.Dropped = p.drops.total()
	res.Failures = p.failures.sorted()

	// Close cleanly, bounded separately from -timeout so that a run that
	// timed out still says goodbye.
	fmt.Fprintf(progress, "  closing %d connections\n", p.alive.Load())
	closeCtx, cancelClose := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelClose()
	if err := p.close(closeCtx, 2*time.Second); err != nil {
		res.warn("closing: %v", err)
	}

	if failLimitExceeded(res.Failed+res.NotAttempted+res.Dropped, res.N) {
		res.ExitCode = 1
	}
	res.print(stdout)
	if cf.json {
		b, _ := json.Marshal(res)
		fmt.Fprintf(stdout, "%s\n", b)
	}
	return res.ExitCode
}

// connectAndMeasure is the connect phase shared by every subcommand: it
// reads the server's baseline memory (pid > 0) and goroutines (metricsURL),
// dials the pool measuring the server's CPU, waits settle (answering
// pings), then reads memory and goroutines again, filling res. It also
// returns the server's idle CPU use during the second half of settle, in
// seconds of CPU per second (-1 when not measured). It returns a nil pool
// (after printing the error) only if /proc/<pid> cannot be read.
func connectAndMeasure(runCtx context.Context, res *idleResult, pc poolConfig, pid int, metricsURL string,
	settle time.Duration, progress, stderr io.Writer) (*pool, float64) {
	var memBase memInfo
	var cpu0 int64
	var err error
	if pid > 0 {
		if memBase, err = readMem(pid); err != nil {
			fmt.Fprintf(stderr, "herald-bench: -pid %d: %v\n", pid, err)
			return nil, -1
		}
		res.ClkTck = clockTicks()
	}
	gBase, gOK := res.goroutines(runCtx, metricsURL)

	// Connect phase.
	if pid > 0 {
		cpu0, _ = readCPUTicks(pid)
	}
	p := newPool(pc)
	st := p.dial(runCtx)
	var cpu1 int64
	if pid > 0 {
		cpu1, _ = readCPUTicks(pid)
	}
	res.OK, res.Failed, res.NotAttempted = st.OK, st.Failed, st.NotAttempted
	res.ConnectSeconds = st.Elapsed.Seconds()
	if st.Elapsed > 0 {
		res.ConnectRate = float64(st.OK) / st.Elapsed.Seconds()
	}
	fmt.Fprintf(progress, "  connect phase done: %d ok, %d failed in %.2fs; settling %v\n", st.OK, st.Failed, res.ConnectSeconds, settle)

	// Settle, then measure; the server's idle CPU is read over the second
	// half of the settle time, once the connect phase's work is over.
	idleRate := -1.0
	settleStart := time.Now()
	sleepCtx(runCtx, settle/2)
	var idle0 int64
	idleStart := time.Now()
	if pid > 0 {
		idle0, _ = readCPUTicks(pid)
	}
	sleepCtx(runCtx, settle-settle/2)
	if pid > 0 {
		if idle1, err := readCPUTicks(pid); err == nil && time.Since(idleStart) > 0 && settle > 0 {
			idleRate = float64(idle1-idle0) / float64(res.ClkTck) / time.Since(idleStart).Seconds()
		}
	}
	res.SettleSeconds = time.Since(settleStart).Seconds()
	res.Measured = int(p.alive.Load())
	if pid > 0 {
		if memLoaded, err := readMem(pid); err != nil {
			res.warn("reading server memory after settle: %v", err)
		} else {
			res.setMem(memBase, memLoaded)
		}
		cpu := float64(cpu1-cpu0) / float64(res.ClkTck)
		res.CPUConnect = &cpu
		if st.OK > 0 {
			us := cpu / float64(st.OK) * 1e6
			res.CPUPerConnectUS = &us
		}
	}
	if gOK {
		if gLoaded, ok := res.goroutines(runCtx, metricsURL); ok {
			res.GoroutinesBaseline, res.GoroutinesLoaded = &gBase, &gLoaded
			if res.Measured > 0 {
				per := (gLoaded - gBase) / float64(res.Measured)
				res.GoroutinesPerConn = &per
			}
		}
	}
	if self, err := readMem(os.Getpid()); err == nil {
		res.ClientRSS = self.RSS
	}
	res.ClientGoroutines = runtime.NumGoroutine()
	return p, idleRate
}

func (r *idleResult) warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

func (r *idleResult) setMem(base, loaded memInfo) {
	r.RSSBaseline, r.RSSLoaded = &base.RSS, &loaded.RSS
	if r.Measured > 0 {
		per := float64(loaded.RSS-base.RSS) / float64(r.Measured)
		r.RSSPerConn = &per
	}
	if base.HasAnon && loaded.HasAnon {
		r.AnonBaseline, r.AnonLoaded = &base.RssAnon, &loaded.RssAnon
		if r.Measured > 0 {
			per := float64(loaded.RssAnon-base.RssAnon) / float64(r.Measured)
			r.AnonPerConn = &per
		}
	}
}

// goroutines reads go_goroutines from the metrics endpoint, if any.
func (r *idleResult) goroutines(ctx context.Context, url string) (float64, bool) {
	if url == "" {
		return 0, false
	}
	v, found, err := scrapeGauge(ctx, url, "go_goroutines")
	switch {
	case err != nil:
		r.warn("metrics: %v", err)
		return 0, false
	case !found:
		r.warn("metrics: no go_goroutines at %s; goroutine figures skipped", url)
		return 0, false
	}
	return v, true
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// printBody prints everything but the verdict.
func (r *idleResult) printBody(w io.Writer) {
	pct := func(k int) float64 { return 100 * float64(k) / float64(max(r.N, 1)) }
	fmt.Fprintf(w, "target:        %s (namespace %s), sources %s\n", r.Target, r.Namespace, r.Sources)
	fmt.Fprintf(w, "connections:   %d ok, %d failed (%.2f%%), %d not attempted, %d dropped after connecting; %d open when measured\n",
		r.OK, r.Failed, pct(r.Failed), r.NotAttempted, r.Dropped, r.Measured)
	for _, f := range r.Failures {
		fmt.Fprintf(w, "  failed %6d  %s\n", f.Count, f.Reason)
	}
	for _, d := range r.Drops {
		fmt.Fprintf(w, "  dropped %5d  %s\n", d.Count, d.Reason)
	}
	fmt.Fprintf(w, "connect phase: %.2f s, %.0f conn/s (concurrency %d); settled %.1f s", r.ConnectSeconds, r.ConnectRate, r.Concurrency, r.SettleSeconds)
	if r.HoldSeconds > 0 {
		fmt.Fprintf(w, ", held %.1f s", r.HoldSeconds)
	}
	fmt.Fprintln(w)
	if r.ServerPID > 0 {
		fmt.Fprintf(w, "server pid %d:\n", r.ServerPID)
		if r.RSSLoaded != nil {
			fmt.Fprintf(w, "  RSS          baseline %s, loaded %s", mib(*r.RSSBaseline), mib(*r.RSSLoaded))
			if r.RSSPerConn != nil {
				fmt.Fprintf(w, ", %.0f B/conn (%.2f KiB/conn)", *r.RSSPerConn, *r.RSSPerConn/1024)
			}
			fmt.Fprintln(w)
		}
		if r.AnonLoaded != nil {
			fmt.Fprintf(w, "  RssAnon      baseline %s, loaded %s", mib(*r.AnonBaseline), mib(*r.AnonLoaded))
			if r.AnonPerConn != nil {
				fmt.Fprintf(w, ", %.0f B/conn (%.2f KiB/conn)", *r.AnonPerConn, *r.AnonPerConn/1024)
			}
			fmt.Fprintln(w)
		}
		if r.CPUConnect != nil {
			fmt.Fprintf(w, "  CPU          %.2f s user+sys during the connect phase", *r.CPUConnect)
			if r.CPUPerConnectUS != nil {
				fmt.Fprintf(w, ", %.0f µs/connect", *r.CPUPerConnectUS)
			}
			fmt.Fprintf(w, " (CLK_TCK %d)\n", r.ClkTck)
		}
	}
	if r.GoroutinesLoaded != nil {
		fmt.Fprintf(w, "goroutines:    baseline %.0f, loaded %.0f", *r.GoroutinesBaseline, *r.GoroutinesLoaded)
		if r.GoroutinesPerConn != nil {
			fmt.Fprintf(w, ", %.2f per conn", *r.GoroutinesPerConn)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "client:        RSS %s, %d goroutines, RLIMIT_NOFILE %d\n", mib(r.ClientRSS), r.ClientGoroutines, r.NoFile)
	if r.TimedOut {
		fmt.Fprintln(w, "note:          -timeout expired (or interrupted) before the run completed")
	}
	for _, wn := range r.Warnings {
		fmt.Fprintln(w, "warning:      ", wn)
	}
}

func (r *idleResult) print(w io.Writer) {
	r.printBody(w)
	verdict := "PASS"
	if r.ExitCode != 0 {
		verdict = "FAIL (more than 0.1% of connections failed or dropped)"
	}
	fmt.Fprintln(w, "result:       ", verdict)
}
