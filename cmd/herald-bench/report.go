package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// runReport reads the -json lines of delivery runs (suite) and prints a
// Markdown table comparing two servers: the median of each figure over
// the runs, the ratio a/b, and the target where the project has one.
func runReport(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herald-bench report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	a := fs.String("a", "herald", "label of the first server (the ratio's numerator)")
	b := fs.String("b", "node", "label of the second server")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: herald-bench report [-a herald] [-b node] label=file ...\n\nEach file holds the output of one `herald-bench suite -json` run (its last\nJSON line is read); label names the server it measured. Prints a Markdown\ntable of medians, ratios a/b and the targets.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	runs := map[string][]deliveryResult{}
	for _, arg := range fs.Args() {
		label, file, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(stderr, "herald-bench report: %q: want label=file\n", arg)
			return 2
		}
		r, err := readResult(file)
		if err != nil {
			fmt.Fprintf(stderr, "herald-bench report: %v\n", err)
			return 1
		}
		runs[label] = append(runs[label], r)
	}
	if len(runs[*a]) == 0 || len(runs[*b]) == 0 {
		fmt.Fprintf(stderr, "herald-bench report: need runs of both %q and %q\n", *a, *b)
		return 2
	}
	writeReport(stdout, *a, *b, runs[*a], runs[*b])
	return 0
}

// readResult returns the last JSON line of a file.
func readResult(file string) (deliveryResult, error) {
	var r deliveryResult
	f, err := os.Open(file)
	if err != nil {
		return r, err
	}
	defer f.Close()
	var last string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "{") {
			last = l
		}
	}
	if err := sc.Err(); err != nil {
		return r, fmt.Errorf("%s: %w", file, err)
	}
	if last == "" {
		return r, fmt.Errorf("%s: no JSON result line", file)
	}
	if err := json.Unmarshal([]byte(last), &r); err != nil {
		return r, fmt.Errorf("%s: %w", file, err)
	}
	return r, nil
}

// metric is one row of the report.
type metric struct {
	label  string
	unit   string
	digits int
	get    func(r *deliveryResult) (float64, bool)
	// target, if set, is shown, and check tells whether the medians of
	// a and b meet it.
	target string
	check  func(a, b float64) bool
}

func phaseOf(r *deliveryResult, name string) *phaseResult {
	for i := range r.Phases {
		if r.Phases[i].Name == name {
			return &r.Phases[i]
		}
	}
	return nil
}

func phaseMetric(name string, f func(p *phaseResult) (float64, bool)) func(r *deliveryResult) (float64, bool) {
	return func(r *deliveryResult) (float64, bool) {
		p := phaseOf(r, name)
		if p == nil {
			return 0, false
		}
		return f(p)
	}
}

func ptr(v *float64) (float64, bool) {
	if v == nil {
		return 0, false
	}
	return *v, true
}

func ratioAtMost(limit float64) func(a, b float64) bool {
	return func(a, b float64) bool { return b > 0 && a/b <= limit }
}

func reportMetrics() []metric {
	cpu := func(p *phaseResult) (float64, bool) { return ptr(p.CPUPerDeliveryUS) }
	cpuUser := func(p *phaseResult) (float64, bool) { return ptr(p.CPUUserPerDeliveryUS) }
	p50 := func(p *phaseResult) (float64, bool) { return p.P50MS, p.Delivered > 0 }
	p99 := func(p *phaseResult) (float64, bool) { return p.P99MS, p.Delivered > 0 }
	p999 := func(p *phaseResult) (float64, bool) { return p.P999MS, p.Delivered > 0 }
	rate := func(p *phaseResult) (float64, bool) { return p.DeliveriesPerSec, p.Delivered > 0 }
	return []metric{
		{label: "RSS per idle connection", unit: "KiB", digits: 2, get: func(r *deliveryResult) (float64, bool) {
			v, ok := ptr(r.RSSPerConn)
			return v / 1024, ok
		}, target: "ratio ≤ 0.33", check: ratioAtMost(0.33)},
		{label: "server CPU per connect + auth", unit: "µs", digits: 0, get: func(r *deliveryResult) (float64, bool) { return ptr(r.CPUPerConnectUS) },
			target: "ratio ≤ 0.2", check: ratioAtMost(0.2)},
		{label: "connect rate", unit: "conn/s", digits: 0, get: func(r *deliveryResult) (float64, bool) { return r.ConnectRate, r.OK > 0 }},
		{label: "idle server CPU", unit: "% core", digits: 1, get: func(r *deliveryResult) (float64, bool) {
			v, ok := ptr(r.IdleCPU)
			return v * 100, ok
		}},
		{label: "unicast latency p50", unit: "ms", digits: 2, get: phaseMetric("unicast", p50)},
		{label: "unicast latency p99", unit: "ms", digits: 2, get: phaseMetric("unicast", p99),
			target: "≤ 2 ms", check: func(a, _ float64) bool { return a <= 2 }},
		{label: "unicast latency p99.9", unit: "ms", digits: 2, get: phaseMetric("unicast", p999)},
		{label: "unicast server CPU per delivery", unit: "µs", digits: 1, get: phaseMetric("unicast", cpu),
			target: "ratio ≤ 0.2", check: ratioAtMost(0.2)},
		{label: "… of which user space (the rest is system calls)", unit: "µs", digits: 1, get: phaseMetric("unicast", cpuUser)},
		{label: "burst deliveries/s", unit: "/s", digits: 0, get: phaseMetric("burst", rate)},
		{label: "burst server CPU per delivery", unit: "µs", digits: 1, get: phaseMetric("burst", cpu),
			target: "ratio ≤ 0.2", check: ratioAtMost(0.2)},
		{label: "broadcast fan-out deliveries/s", unit: "/s", digits: 0, get: phaseMetric("broadcast", rate)},
		{label: "broadcast latency p99", unit: "ms", digits: 1, get: phaseMetric("broadcast", p99)},
		{label: "broadcast server CPU per delivery", unit: "µs", digits: 2, get: phaseMetric("broadcast", cpu),
			target: "ratio ≤ 0.2", check: ratioAtMost(0.2)},
		{label: "… of which user space (the rest is system calls)", unit: "µs", digits: 2, get: phaseMetric("broadcast", cpuUser)},
		{label: "emitter unicast latency p99", unit: "ms", digits: 2, get: phaseMetric("emitter-unicast", p99),
			target: "≤ 2 ms", check: func(a, _ float64) bool { return a <= 2 }},
		{label: "emitter unicast server CPU per delivery", unit: "µs", digits: 1, get: phaseMetric("emitter-unicast", cpu),
			target: "ratio ≤ 0.2", check: ratioAtMost(0.2)},
		{label: "emitter broadcast deliveries/s", unit: "/s", digits: 0, get: phaseMetric("emitter-broadcast", rate)},
		{label: "emitter broadcast server CPU per delivery", unit: "µs", digits: 2, get: phaseMetric("emitter-broadcast", cpu),
			target: "ratio ≤ 0.2", check: ratioAtMost(0.2)},
	}
}

// median of the values; the mean of the middle two for an even count.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtNum(v float64, digits int) string {
	s := fmt.Sprintf("%.*f", digits, v)
	// thousands separators for the integer part
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if neg {
		out = "-" + out
	}
	if frac != "" {
		out += "." + frac
	}
	return out
}

func writeReport(w io.Writer, a, b string, ra, rb []deliveryResult) {
	fmt.Fprintf(w, "| metric (%s connections) | %s (median of %d) | %s (median of %d) | %s/%s | target | met | %s runs | %s runs |\n",
		fmtNum(float64(ra[0].N), 0), a, len(ra), b, len(rb), a, b, a, b)
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, m := range reportMetrics() {
		va, vb := values(ra, m.get), values(rb, m.get)
		if len(va) == 0 && len(vb) == 0 {
			continue
		}
		cell := func(v []float64) string {
			if len(v) == 0 {
				return "–"
			}
			return fmtNum(median(v), m.digits) + " " + m.unit
		}
		runsCell := func(v []float64) string {
			parts := make([]string, len(v))
			for i, x := range v {
				parts[i] = fmtNum(x, m.digits)
			}
			return strings.Join(parts, ", ")
		}
		ratio, met := "–", ""
		if len(va) > 0 && len(vb) > 0 {
			ma, mb := median(va), median(vb)
			if mb != 0 {
				ratio = fmt.Sprintf("%.2f", ma/mb)
			}
			if m.check != nil {
				met = "no"
				if m.check(ma, mb) {
					met = "yes"
				}
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", m.label, cell(va), cell(vb), ratio, m.target, met, runsCell(va), runsCell(vb))
	}
	// Correctness: totals over every run and phase.
	type totals struct{ lost, dup, mis, deliveries, failed, dropped int64 }
	sum := func(rs []deliveryResult) (t totals) {
		for _, r := range rs {
			t.failed += int64(r.Failed + r.NotAttempted)
			t.dropped += int64(r.Dropped)
			for _, p := range r.Phases {
				t.lost += p.Lost
				t.dup += p.Duplicated
				t.mis += p.Misrouted
				t.deliveries += p.Delivered
			}
		}
		return t
	}
	ta, tb := sum(ra), sum(rb)
	fmt.Fprintf(w, "| lost / duplicated / misrouted (all runs, all phases) | %d / %d / %d of %s | %d / %d / %d of %s | | 0 | %s | | |\n",
		ta.lost, ta.dup, ta.mis, fmtNum(float64(ta.deliveries), 0), tb.lost, tb.dup, tb.mis, fmtNum(float64(tb.deliveries), 0),
		yesNo(ta.lost+ta.dup+ta.mis == 0))
	fmt.Fprintf(w, "| connections failed / dropped (all runs) | %d / %d | %d / %d | | | | | |\n", ta.failed, ta.dropped, tb.failed, tb.dropped)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func values(rs []deliveryResult, get func(*deliveryResult) (float64, bool)) []float64 {
	var v []float64
	for i := range rs {
		if x, ok := get(&rs[i]); ok {
			v = append(v, x)
		}
	}
	return v
}
