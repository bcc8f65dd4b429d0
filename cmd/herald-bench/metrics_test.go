package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const sampleMetrics = `# HELP go_goroutines_extra A decoy sharing the prefix.
go_goroutines_extra 999
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 10042
go_threads 9
`

func TestParseGauge(t *testing.T) {
	if v, ok := parseGauge(strings.NewReader(sampleMetrics), "go_goroutines"); !ok || v != 10042 {
		t.Fatalf("%v %v", v, ok)
	}
	if v, ok := parseGauge(strings.NewReader(`go_goroutines{instance="a"} 7 1700000000000`+"\n"), "go_goroutines"); !ok || v != 7 {
		t.Fatalf("labels: %v %v", v, ok)
	}
	if v, ok := parseGauge(strings.NewReader("go_goroutines 1.5e3\n"), "go_goroutines"); !ok || v != 1500 {
		t.Fatalf("float: %v %v", v, ok)
	}
	if _, ok := parseGauge(strings.NewReader("process_cpu_seconds_total 3\n"), "go_goroutines"); ok {
		t.Fatal("found absent metric")
	}
}

func TestScrapeGauge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, sampleMetrics)
	}))
	defer srv.Close()
	ctx := context.Background()
	if v, found, err := scrapeGauge(ctx, srv.URL+"/metrics", "go_goroutines"); err != nil || !found || v != 10042 {
		t.Fatalf("%v %v %v", v, found, err)
	}
	if _, found, err := scrapeGauge(ctx, srv.URL+"/metrics", "nodejs_heap"); err != nil || found {
		t.Fatalf("absent: %v %v", found, err)
	}
	if _, _, err := scrapeGauge(ctx, srv.URL+"/nope", "go_goroutines"); err == nil {
		t.Fatal("404 accepted")
	}
}
