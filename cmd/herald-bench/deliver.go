package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// phaseSpec is one delivery phase: how notifications are addressed and
// published.
type phaseSpec struct {
	Name   string
	Kind   phaseKind
	Format format
	Burst  bool // unicast, unpaced
}

var phaseSpecs = map[string]phaseSpec{
	"unicast":           {Name: "unicast", Kind: kindUnicast, Format: formatJSON},
	"burst":             {Name: "burst", Kind: kindUnicast, Format: formatJSON, Burst: true},
	"broadcast":         {Name: "broadcast", Kind: kindBroadcast, Format: formatJSON},
	"emitter-unicast":   {Name: "emitter-unicast", Kind: kindUnicast, Format: formatEmitter},
	"emitter-burst":     {Name: "emitter-burst", Kind: kindUnicast, Format: formatEmitter, Burst: true},
	"emitter-broadcast": {Name: "emitter-broadcast", Kind: kindBroadcast, Format: formatEmitter},
}

// The delivery subcommands differ only in their default phases.
var deliveryDefaults = map[string]string{
	"unicast":   "unicast",
	"burst":     "burst",
	"broadcast": "broadcast",
	"emitter":   "emitter-unicast,emitter-broadcast",
	"suite":     "unicast,burst,broadcast,emitter-unicast,emitter-broadcast",
}

func deliverySubcommand(name string) func(context.Context, []string, io.Writer, io.Writer) int {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		return runDelivery(ctx, name, args, stdout, stderr)
	}
}

// deliveryFlags are the flags of the delivery subcommands.
type deliveryFlags struct {
	clientFlags
	pid          int
	metricsURL   string
	settle       time.Duration
	redisURL     string
	channel      string
	emitterPfx   string
	event        string
	phases       string
	rate         int
	duration     time.Duration
	burst        int
	burstBatch   int
	broadcasts   int
	msgTimeout   time.Duration
	drain        time.Duration
	dupWait      time.Duration
	phaseTimeout time.Duration
	pause        time.Duration
	seed         uint64
	base         int
	users        int
	publish      bool
	barrier      int
	barrierKey   string
}

func (f *deliveryFlags) register(fs *flag.FlagSet, defPhases string) {
	f.clientFlags.register(fs)
	fs.Lookup("cookie").DefValue = "_validation_token_key=tok{i}"
	fs.Set("cookie", "_validation_token_key=tok{i}")
	fs.IntVar(&f.pid, "pid", 0, "server PID: memory and CPU are read from /proc/<pid>")
	fs.StringVar(&f.metricsURL, "metrics-url", "", "Prometheus text endpoint of the server, read for go_goroutines")
	fs.DurationVar(&f.settle, "settle", 5*time.Second, "wait after connecting before measuring memory and starting the phases")
	fs.StringVar(&f.redisURL, "redis", "redis://127.0.0.1:6379/0", "Redis the server listens to: notifications are published there")
	fs.StringVar(&f.channel, "channel", "herald:notify", "channel of herald's JSON notifications")
	fs.StringVar(&f.emitterPfx, "emitter-prefix", "socket.io", "channel prefix of the Socket.IO Redis emitter format")
	fs.StringVar(&f.event, "event", "notification", "event name of the notifications")
	fs.StringVar(&f.phases, "phases", defPhases, "comma-separated phases: unicast, burst, broadcast, emitter-unicast, emitter-burst, emitter-broadcast")
	fs.IntVar(&f.rate, "rate", 1000, "unicast phases: notifications per second")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "unicast phases: how long to publish (rate*duration notifications)")
	fs.IntVar(&f.burst, "burst", 20000, "burst phases: notifications, published as fast as possible")
	fs.IntVar(&f.burstBatch, "burst-batch", 100, "burst phases: notifications per Redis pipeline")
	fs.IntVar(&f.broadcasts, "broadcasts", 10, "broadcast phases: broadcasts, each published once the previous one reached every connection")
	fs.DurationVar(&f.msgTimeout, "msg-timeout", 10*time.Second, "broadcast phases: bound on waiting for one broadcast to reach every connection")
	fs.DurationVar(&f.drain, "drain", 10*time.Second, "bound on waiting for outstanding deliveries once everything is published")
	fs.DurationVar(&f.dupWait, "dup-wait", 500*time.Millisecond, "after the last expected delivery, keep listening this long for duplicates")
	fs.DurationVar(&f.phaseTimeout, "phase-timeout", 2*time.Minute, "bound on each phase (receiving processes of a multi-process run wait this long at most)")
	fs.DurationVar(&f.pause, "pause", time.Second, "quiet time between phases")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the choice of addressees")
	fs.IntVar(&f.base, "base", 0, "connection i authenticates as user base+i ({i} in -cookie/-auth/-origin is base+i)")
	fs.IntVar(&f.users, "users", 0, "multi-process runs: unicast addressees are drawn from users 0..users-1, the same in every process; 0: from this process's connected users")
	fs.BoolVar(&f.publish, "publish", true, "publish the notifications (false: only receive, in a multi-process run)")
	fs.IntVar(&f.barrier, "barrier", 1, "multi-process runs: number of processes that start each phase together (a Redis counter)")
	fs.StringVar(&f.barrierKey, "barrier-key", "herald-bench:barrier", "multi-process runs: Redis key prefix of the phase barriers, unique per run")
}

func (f *deliveryFlags) validate() ([]phaseSpec, error) {
	if err := f.clientFlags.validate(); err != nil {
		return nil, err
	}
	var specs []phaseSpec
	for name := range strings.SplitSeq(f.phases, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		s, ok := phaseSpecs[name]
		if !ok {
			return nil, fmt.Errorf("-phases: unknown phase %q", name)
		}
		specs = append(specs, s)
	}
	switch {
	case len(specs) == 0:
		return nil, errors.New("-phases: no phase")
	case f.rate <= 0 || f.duration <= 0 || f.burst <= 0 || f.burstBatch <= 0 || f.broadcasts <= 0:
		return nil, errors.New("-rate, -duration, -burst, -burst-batch and -broadcasts must be positive")
	case int64(f.rate)*int64(f.duration/time.Millisecond)/1000 > 50_000_000 || f.burst > 50_000_000:
		return nil, errors.New("at most 50,000,000 notifications per phase")
	case int64(f.broadcasts)*int64(f.n) > 100_000_000:
		return nil, errors.New("-broadcasts times -n must be at most 100,000,000")
	case f.settle < 0 || f.msgTimeout <= 0 || f.drain < 0 || f.dupWait < 0 || f.phaseTimeout <= 0 || f.pause < 0:
		return nil, errors.New("durations must not be negative")
	case f.base < 0 || f.users < 0 || f.barrier < 1:
		return nil, errors.New("-base and -users must not be negative, -barrier at least 1")
	case f.users > 0 && f.base+f.n > f.users:
		return nil, fmt.Errorf("-users %d: this process's users %d..%d lie outside it", f.users, f.base, f.base+f.n-1)
	}
	return specs, nil
}

// deliveryResult is what a delivery subcommand measures; with -json it is
// printed as one JSON line.
type deliveryResult struct {
	Subcommand string `json:"subcommand"`
	idleResult
	IdleCPU *float64      `json:"idle_cpu_cores,omitempty"` // server CPU while idle, seconds per second
	Phases  []phaseResult `json:"phases"`
	// BetweenPhases counts events received outside any phase (after a
	// phase's -dup-wait): late duplicates or deliveries.
	BetweenPhases int64 `json:"events_between_phases"`
}

// phaseResult is one phase's accounting and figures.
type phaseResult struct {
	Name          string  `json:"name"`
	Format        string  `json:"format"`
	Kind          string  `json:"kind"`
	Rate          int     `json:"rate,omitempty"` // paced unicast: target notifications per second
	Messages      int     `json:"messages"`       // notifications in the phase
	Published     int     `json:"published"`      // by this process
	PublishErrors int     `json:"publish_errors"`
	PublishLagMS  float64 `json:"publish_lag_max_ms"` // paced: worst lateness against the schedule
	Incomplete    int     `json:"incomplete_broadcasts,omitempty"`

	Expected   int64 `json:"expected"`   // deliveries due to this process's connections
	Delivered  int64 `json:"delivered"`  // distinct (notification, connection) deliveries
	Lost       int64 `json:"lost"`       // expected - delivered
	Duplicated int64 `json:"duplicated"` // deliveries beyond the first
	Misrouted  int64 `json:"misrouted"`  // unicast to a connection other than the addressee's
	Stray      int64 `json:"stray"`      // events of another phase or without the bench fields
	OutOfRange int64 `json:"out_of_range"`

	Seconds          float64 `json:"seconds"`            // first publish to last delivery (or to the bound)
	DeliveriesPerSec float64 `json:"deliveries_per_sec"` // delivered / seconds
	P50MS            float64 `json:"p50_ms"`
	P99MS            float64 `json:"p99_ms"`
	P999MS           float64 `json:"p999_ms"`
	MaxMS            float64 `json:"max_ms"`

	CPUSeconds     *float64 `json:"cpu_seconds,omitempty"`
	CPUUserSeconds *float64 `json:"cpu_user_seconds,omitempty"` // utime
	CPUSysSeconds  *float64 `json:"cpu_sys_seconds,omitempty"`  // stime: system calls, including loopback TCP
	// CPUUserPerDeliveryUS is the user-space part of CPUPerDeliveryUS.
	CPUUserPerDeliveryUS *float64 `json:"cpu_user_per_delivery_us,omitempty"`
	CPUPerDeliveryUS     *float64 `json:"cpu_per_delivery_us,omitempty"`
	CPUNetPerDeliveryUS  *float64 `json:"cpu_net_per_delivery_us,omitempty"` // minus the idle CPU of the same time

	TimedOut bool `json:"timed_out,omitempty"`
	OK       bool `json:"ok"` // nothing lost, duplicated, misrouted, nor published in error
}

// deliveryRun holds the state of one delivery subcommand's run.
type deliveryRun struct {
	f        *deliveryFlags
	p        *pool
	pub      *publisher
	rdb      *redis.Client
	dropped  []atomic.Bool
	cur      atomic.Pointer[tracker]
	outside  atomic.Int64 // events received between phases
	clk      int64
	idleRate float64
	progress io.Writer
}

func runDelivery(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herald-bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f deliveryFlags
	f.register(fs, deliveryDefaults[name])
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: herald-bench %s [flags]\n\nOpens -n authenticated Socket.IO connections (connection i is user -base+i),\npublishes notifications on Redis and accounts for every delivery.\nDefault phases: %s.\n\n", name, deliveryDefaults[name])
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "herald-bench %s: unexpected arguments %q\n", name, fs.Args())
		return 2
	}
	specs, err := f.validate()
	if err != nil {
		fmt.Fprintf(stderr, "herald-bench %s: %v\n", name, err)
		return 2
	}
	ropts, err := redis.ParseURL(f.redisURL)
	if err != nil {
		fmt.Fprintf(stderr, "herald-bench %s: -redis: %v\n", name, err)
		return 2
	}
	progress := stderr
	if f.quiet {
		progress = io.Discard
	}

	res := deliveryResult{Subcommand: name, idleResult: idleResult{N: f.n, Concurrency: f.c, ServerPID: f.pid}}
	soft, hard, err := raiseNoFile()
	res.NoFile = soft
	if err != nil {
		res.warn("raising RLIMIT_NOFILE: %v", err)
	}
	if soft < uint64(f.n)+64 {
		res.warn("RLIMIT_NOFILE is %d (hard %d): too low for %d connections", soft, hard, f.n)
	}

	runCtx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	t, err := parseTarget(runCtx, f.url, f.path, f.insecure)
	if err != nil {
		fmt.Fprintf(stderr, "herald-bench %s: %v\n", name, err)
		return 2
	}
	rdb := redis.NewClient(ropts)
	defer rdb.Close()
	if err := rdb.Ping(runCtx).Err(); err != nil {
		fmt.Fprintf(stderr, "herald-bench %s: redis %s: %v\n", name, ropts.Addr, err)
		return 1
	}
	res.Target, res.Namespace, res.Sources = t.String(), t.base.Namespace, t.srcRange(f.n, f.spread)
	fmt.Fprintf(progress, "herald-bench %s: %s namespace %s, n=%d (users %d..%d) c=%d, sources %s, phases %s\n",
		name, res.Target, res.Namespace, f.n, f.base, f.base+f.n-1, f.c, res.Sources, f.phases)

	d := &deliveryRun{f: &f, rdb: rdb, dropped: make([]atomic.Bool, f.n), progress: progress,
		pub: &publisher{rdb: rdb, channel: f.channel, emitterPrefix: f.emitterPfx, event: f.event}}
	pc := f.poolConfig(t, progress)
	pc.IndexBase = f.base
	pc.OnEvent = d.onEvent
	pc.OnDrop = func(i int, _ error) { d.dropped[i].Store(true) }
	p, idleRate := connectAndMeasure(runCtx, &res.idleResult, pc, f.pid, f.metricsURL, f.settle, progress, stderr)
	if p == nil {
		return 2
	}
	d.p, d.clk, d.idleRate = p, res.ClkTck, idleRate
	if idleRate >= 0 {
		res.IdleCPU = &idleRate
	}

	for i, spec := range specs {
		if runCtx.Err() != nil {
			break
		}
		if i > 0 {
			sleepCtx(runCtx, f.pause)
		}
		pr := d.runPhase(runCtx, int64(i+1), spec)
		res.Phases = append(res.Phases, pr)
		fmt.Fprintf(progress, "  %s\n", pr.summary())
	}

	res.TimedOut = runCtx.Err() != nil
	res.BetweenPhases = d.outside.Load()
	res.Drops = p.drops.sorted()
	res.Dropped = p.drops.total()
	res.Failures = p.failures.sorted()
	fmt.Fprintf(progress, "  closing %d connections\n", p.alive.Load())
	closeCtx, cancelClose := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelClose()
	if err := p.close(closeCtx, 2*time.Second); err != nil {
		res.warn("closing: %v", err)
	}

	if failLimitExceeded(res.Failed+res.NotAttempted+res.Dropped, res.N) || len(res.Phases) < len(specs) {
		res.ExitCode = 1
	}
	for _, ph := range res.Phases {
		if !ph.OK {
			res.ExitCode = 1
		}
	}
	res.print(stdout)
	if f.json {
		b, _ := json.Marshal(res)
		fmt.Fprintf(stdout, "%s\n", b)
	}
	return res.ExitCode
}

func (d *deliveryRun) onEvent(conn int, _ string, raw []byte) {
	t := d.cur.Load()
	if t == nil {
		d.outside.Add(1)
		return
	}
	t.record(conn, raw, time.Now().UnixNano())
}

// alive says which connections are up.
func (d *deliveryRun) alive() []bool {
	a := make([]bool, d.f.n)
	for i := range a {
		a[i] = d.p.conn(i) != nil && !d.dropped[i].Load()
	}
	return a
}

// cpuTicks returns the server's utime and stime.
func (d *deliveryRun) cpuTicks() (ut, st int64, ok bool) {
	if d.f.pid <= 0 {
		return 0, 0, false
	}
	ut, st, err := readCPUSplit(d.f.pid)
	return ut, st, err == nil
}

// runPhase runs one phase: it sets up the accounting, waits at the
// barrier, publishes (if this process publishes), waits for the
// deliveries, then for duplicates, and computes the figures.
func (d *deliveryRun) runPhase(ctx context.Context, phase int64, spec phaseSpec) phaseResult {
	f := d.f
	ctx, cancel := context.WithTimeout(ctx, f.phaseTimeout)
	defer cancel()
	pr := phaseResult{Name: spec.Name, Format: spec.Format.String(), Kind: "unicast"}
	alive := d.alive()
	var t *tracker
	switch spec.Kind {
	case kindUnicast:
		k := f.burst
		if !spec.Burst {
			k = int(int64(f.rate) * int64(f.duration) / int64(time.Second))
			pr.Rate = f.rate
		}
		pr.Messages = k
		t = newUnicastTracker(phase, k, int64(f.base), alive, d.targetFunc(phase, alive))
	case kindBroadcast:
		pr.Kind = "broadcast"
		pr.Messages = f.broadcasts
		t = newBroadcastTracker(phase, f.broadcasts, int64(f.base), alive)
	}
	d.cur.Store(t)
	defer d.cur.Store(nil)

	if f.barrier > 1 {
		key := fmt.Sprintf("%s:%d:%s", f.barrierKey, phase, spec.Name)
		if err := barrier(ctx, d.rdb, key, f.barrier); err != nil {
			fmt.Fprintf(d.progress, "  %s: %v\n", spec.Name, err)
			pr.TimedOut = true
			pr.Expected, pr.Lost = t.expected, t.expected
			return pr
		}
	}

	ut0, st0, cpuOK := d.cpuTicks()
	start := time.Now()
	var endWait time.Time // when deliveries stop being awaited
	if f.publish {
		switch {
		case spec.Kind == kindBroadcast:
			d.publishBroadcasts(ctx, t, spec, &pr)
		case spec.Burst:
			d.publishBurst(ctx, t, spec, &pr)
		default:
			d.publishPaced(ctx, t, spec, start, &pr)
		}
		endWait = time.Now().Add(f.drain)
	} else {
		endWait = start.Add(f.phaseTimeout)
	}
	wctx, wcancel := context.WithDeadline(ctx, endWait)
	select {
	case <-t.done:
	case <-wctx.Done():
		pr.TimedOut = true
	}
	wcancel()
	end := time.Now()
	ut1, st1, cpu1OK := d.cpuTicks()
	cpuWindow := time.Since(start)
	if last := t.lastNS.Load(); last != 0 && !pr.TimedOut {
		end = time.Unix(0, last)
	}
	sleepCtx(ctx, f.dupWait)

	pr.Expected = t.expected
	pr.Delivered = t.delivered.Load()
	pr.Lost = pr.Expected - pr.Delivered
	pr.Duplicated = t.dup.Load()
	pr.Misrouted = t.misrouted.Load()
	pr.Stray = t.stray.Load()
	pr.OutOfRange = t.outOfRng.Load()
	pr.Seconds = end.Sub(start).Seconds()
	if pr.Seconds > 0 {
		pr.DeliveriesPerSec = float64(pr.Delivered) / pr.Seconds
	}
	lat := t.latencies()
	pr.P50MS = float64(percentile(lat, 50)) / 1000
	pr.P99MS = float64(percentile(lat, 99)) / 1000
	pr.P999MS = float64(percentile(lat, 99.9)) / 1000
	pr.MaxMS = float64(percentile(lat, 100)) / 1000
	if cpuOK && cpu1OK && d.clk > 0 {
		user, sys := float64(ut1-ut0)/float64(d.clk), float64(st1-st0)/float64(d.clk)
		cpu := user + sys
		pr.CPUSeconds, pr.CPUUserSeconds, pr.CPUSysSeconds = &cpu, &user, &sys
		if pr.Delivered > 0 {
			per := cpu / float64(pr.Delivered) * 1e6
			pr.CPUPerDeliveryUS = &per
			perUser := user / float64(pr.Delivered) * 1e6
			pr.CPUUserPerDeliveryUS = &perUser
			if d.idleRate >= 0 {
				net := max(0, cpu-d.idleRate*cpuWindow.Seconds()) / float64(pr.Delivered) * 1e6
				pr.CPUNetPerDeliveryUS = &net
			}
		}
	}
	pr.OK = pr.Lost == 0 && pr.Duplicated == 0 && pr.Misrouted == 0 && pr.OutOfRange == 0 && pr.PublishErrors == 0 && pr.Incomplete == 0
	return pr
}

// targetFunc returns the addressee of each unicast message: with -users, a
// user drawn from 0..users-1 (the same in every process of a run);
// otherwise one of this process's connected users.
func (d *deliveryRun) targetFunc(phase int64, alive []bool) func(int) int64 {
	seed := d.f.seed
	if d.f.users > 0 {
		users := d.f.users
		return func(s int) int64 { return int64(pick(seed, phase, s, users)) }
	}
	var live []int64
	for i, a := range alive {
		if a {
			live = append(live, int64(d.f.base+i))
		}
	}
	if len(live) == 0 {
		return func(int) int64 { return -2 } // nobody: nothing expected
	}
	return func(s int) int64 { return live[pick(seed, phase, s, len(live))] }
}

// publishPaced publishes message s at start + s/rate.
func (d *deliveryRun) publishPaced(ctx context.Context, t *tracker, spec phaseSpec, start time.Time, pr *phaseResult) {
	interval := time.Second / time.Duration(d.f.rate)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var lag time.Duration
	for s := range t.k {
		due := start.Add(time.Duration(s) * interval)
		if w := time.Until(due); w > 0 {
			timer.Reset(w)
			select {
			case <-ctx.Done():
				pr.PublishLagMS = ms(lag)
				return
			case <-timer.C:
			}
		}
		lag = max(lag, time.Since(due))
		if !d.publishOne(ctx, spec, mark{Phase: t.phase, Seq: int64(s), User: t.target(s)}, false, pr) {
			break
		}
	}
	pr.PublishLagMS = ms(lag)
}

// publishOne publishes one notification and counts it; it reports false
// when the phase should stop publishing (context done or Redis failing).
func (d *deliveryRun) publishOne(ctx context.Context, spec phaseSpec, m mark, broadcast bool, pr *phaseResult) bool {
	if err := d.pub.publish(ctx, spec.Format, m, broadcast); err != nil {
		pr.PublishErrors++
		return ctx.Err() == nil && pr.PublishErrors < 100
	}
	pr.Published++
	return true
}

// publishBurst publishes the messages as fast as Redis takes them, in
// pipelines of -burst-batch.
func (d *deliveryRun) publishBurst(ctx context.Context, t *tracker, spec phaseSpec, pr *phaseResult) {
	batch := make([]mark, 0, d.f.burstBatch)
	for s := 0; s < t.k && ctx.Err() == nil; s += d.f.burstBatch {
		batch = batch[:0]
		for j := s; j < min(s+d.f.burstBatch, t.k); j++ {
			batch = append(batch, mark{Phase: t.phase, Seq: int64(j), User: t.target(j)})
		}
		if err := d.pub.publishBatch(ctx, spec.Format, batch, false); err != nil {
			pr.PublishErrors += len(batch)
			if pr.PublishErrors >= 100 {
				return
			}
			continue
		}
		pr.Published += len(batch)
	}
}

// publishBroadcasts publishes each broadcast once the previous one has
// reached every live connection of this process (or -msg-timeout passed).
func (d *deliveryRun) publishBroadcasts(ctx context.Context, t *tracker, spec phaseSpec, pr *phaseResult) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for s := range t.k {
		if !d.publishOne(ctx, spec, mark{Phase: t.phase, Seq: int64(s), User: -1}, true, pr) {
			return
		}
		timer.Reset(d.f.msgTimeout)
		select {
		case <-t.msgDone[s]:
		case <-timer.C:
			pr.Incomplete++
		case <-ctx.Done():
			pr.Incomplete++
			return
		}
	}
}

func (pr *phaseResult) summary() string {
	s := fmt.Sprintf("%-17s %s: %d/%d delivered, %d lost, %d dup, %d misrouted in %.2fs (%.0f/s), latency p50 %.2f p99 %.2f p99.9 %.2f max %.2f ms",
		pr.Name, verdictWord(pr.OK), pr.Delivered, pr.Expected, pr.Lost, pr.Duplicated, pr.Misrouted, pr.Seconds, pr.DeliveriesPerSec,
		pr.P50MS, pr.P99MS, pr.P999MS, pr.MaxMS)
	if pr.CPUPerDeliveryUS != nil {
		s += fmt.Sprintf(", server CPU %.2fs = %.1f µs/delivery", *pr.CPUSeconds, *pr.CPUPerDeliveryUS)
		if pr.CPUNetPerDeliveryUS != nil {
			s += fmt.Sprintf(" (%.1f net of idle)", *pr.CPUNetPerDeliveryUS)
		}
		if pr.CPUUserPerDeliveryUS != nil {
			s += fmt.Sprintf(", %.1f µs in user space", *pr.CPUUserPerDeliveryUS)
		}
	}
	return s
}

func verdictWord(ok bool) string {
	if ok {
		return "ok"
	}
	return "FAIL"
}

func (r *deliveryResult) print(w io.Writer) {
	r.printBody(w)
	if r.IdleCPU != nil {
		fmt.Fprintf(w, "idle server:   %.1f%% of a core\n", *r.IdleCPU*100)
	}
	for _, ph := range r.Phases {
		fmt.Fprintf(w, "phase %s\n", ph.summary())
		fmt.Fprintf(w, "      %s (%s): %d messages, %d published by this process, %d publish errors, max publish lag %.1f ms",
			ph.Kind, ph.Format, ph.Messages, ph.Published, ph.PublishErrors, ph.PublishLagMS)
		if ph.Incomplete > 0 {
			fmt.Fprintf(w, ", %d broadcasts incomplete after -msg-timeout", ph.Incomplete)
		}
		if ph.Stray > 0 || ph.OutOfRange > 0 {
			fmt.Fprintf(w, ", %d stray and %d out-of-range events", ph.Stray, ph.OutOfRange)
		}
		if ph.TimedOut {
			fmt.Fprint(w, ", timed out")
		}
		fmt.Fprintln(w)
	}
	if r.BetweenPhases > 0 {
		fmt.Fprintf(w, "late events:   %d received between phases (late deliveries or duplicates)\n", r.BetweenPhases)
	}
	verdict := "PASS"
	if r.ExitCode != 0 {
		verdict = "FAIL (notifications lost, duplicated or misrouted, a phase not run, or more than 0.1% of connections failed)"
	}
	fmt.Fprintln(w, "result:       ", verdict)
}
