package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fakeResult(rssKiB, connectUS, p99, cpuUni float64, lost int64) deliveryResult {
	rss := rssKiB * 1024
	r := deliveryResult{Subcommand: "suite", idleResult: idleResult{N: 100, OK: 100, RSSPerConn: &rss, CPUPerConnectUS: &connectUS}}
	r.Phases = []phaseResult{
		{Name: "unicast", Delivered: 1000, Expected: 1000 + lost, Lost: lost, P50MS: 0.1, P99MS: p99, P999MS: 2 * p99, CPUPerDeliveryUS: &cpuUni},
		{Name: "broadcast", Delivered: 5000, Expected: 5000, DeliveriesPerSec: 50000, P99MS: 10, CPUPerDeliveryUS: &cpuUni},
	}
	return r
}

func TestReport(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, r deliveryResult) string {
		b, _ := json.Marshal(r)
		p := filepath.Join(dir, name)
		// a human-readable report precedes the JSON line, as suite prints
		if err := os.WriteFile(p, append([]byte("target: x\nresult: PASS\n"), append(b, '\n')...), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	args := []string{"report",
		"herald=" + write("h1", fakeResult(3, 100, 0.5, 10, 0)),
		"node=" + write("n1", fakeResult(12, 500, 1.0, 100, 0)),
		"herald=" + write("h2", fakeResult(4, 120, 3.0, 30, 1)),
		"node=" + write("n2", fakeResult(12, 400, 1.0, 80, 0)),
		"herald=" + write("h3", fakeResult(3.5, 90, 0.7, 20, 0)),
		"node=" + write("n3", fakeResult(13, 600, 2.0, 90, 0)),
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, &stderr)
	}
	out := stdout.String()
	for _, want := range []string{
		"| metric (100 connections) | herald (median of 3) | node (median of 3) | herald/node | target | met | herald runs | node runs |",
		"| RSS per idle connection | 3.50 KiB | 12.00 KiB | 0.29 | ratio ≤ 0.33 | yes | 3.00, 4.00, 3.50 | 12.00, 12.00, 13.00 |",
		"| server CPU per connect + auth | 100 µs | 500 µs | 0.20 | ratio ≤ 0.2 | yes |",
		"| unicast latency p99 | 0.70 ms | 1.00 ms | 0.70 | ≤ 2 ms | yes |",
		"| unicast server CPU per delivery | 20.0 µs | 90.0 µs | 0.22 | ratio ≤ 0.2 | no |",
		"| broadcast fan-out deliveries/s | 50,000 /s | 50,000 /s | 1.00 |",
		"| lost / duplicated / misrouted (all runs, all phases) | 1 / 0 / 0 of 18,000 | 0 / 0 / 0 of 18,000 | | 0 | no | | |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// Phases not run are left out.
	if strings.Contains(out, "burst") || strings.Contains(out, "emitter") {
		t.Errorf("rows for phases not run:\n%s", out)
	}

	if code := run(context.Background(), []string{"report", "herald=" + filepath.Join(dir, "h1")}, &stdout, &stderr); code != 2 {
		t.Errorf("one side only: exit %d", code)
	}
	os.WriteFile(filepath.Join(dir, "empty"), []byte("no json here\n"), 0o644)
	if code := run(context.Background(), []string{"report", "herald=" + filepath.Join(dir, "empty")}, &stdout, &stderr); code != 1 {
		t.Errorf("no JSON: exit %d", code)
	}
}
