package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReportRenders writes a report of an ingest and a query result and checks the markdown
// tables and that both charts are SVG documents.
func TestReportRenders(t *testing.T) {
	ev := []event{
		{0, 10 * time.Millisecond, 204, 5000},
		{5 * time.Millisecond, 20 * time.Millisecond, 204, 5000},
		{1100 * time.Millisecond, 30 * time.Millisecond, 429, 5000},
		{1200 * time.Millisecond, 40 * time.Millisecond, 204, 5000},
	}
	ok := func(s int) bool { return s/100 == 2 }
	in := &IngestResult{Target: TargetTsgate, Format: "line", URL: "http://127.0.0.1:1", Path: "/write?precision=ms",
		Objects: 10, Points: 2000, Batch: 5000, Concurrency: 2, Samples: 15000, Requests: 4, OK: 3, Rate: 12096.8,
		Latency: summarize([]time.Duration{10e6, 20e6, 30e6, 40e6}), Errors: map[string]int{"429": 1},
		Timeline: timeline(ev, time.Second, ok)}
	q := &QueryResult{Concurrency: 2, Objects: 10, ElapsedS: 1.24, Timeline: timeline(ev, time.Second, ok),
		Kinds: []KindResult{{Kind: KindRaw, Requests: 4, Rows: 240, RowsPerS: 193.5, Latency: in.Latency}}}
	dir := t.TempDir()
	if err := WriteReport(dir, Report{Ingest: in, Query: q}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# tsgate bench report",
		"| tsgate | 12097 | 15000 | 3/4 |",
		"| 20.00 | 40.00 | 40.00 | 40.00 | 429×1 |",
		"| raw | 4 | 240 | 194 |",
		"![throughput](throughput.svg)",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	for _, name := range []string{ChartThroughput, ChartLatency} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b[:min(len(b), 200)], []byte("<svg")) || !bytes.Contains(b, []byte("seconds since start")) {
			t.Errorf("%s is not the chart: %.200s", name, b)
		}
	}
}

func TestTimeline(t *testing.T) {
	ev := []event{
		{0, 500 * time.Millisecond, 200, 10},
		{600 * time.Millisecond, 600 * time.Millisecond, 200, 20},  // ends at 1.2 s
		{1300 * time.Millisecond, 200 * time.Millisecond, 500, 30}, // ends at 1.5 s
	}
	tp := timeline(ev, time.Second, func(s int) bool { return s == 200 })
	if len(tp) != 2 {
		t.Fatalf("%d points: %+v", len(tp), tp)
	}
	if tp[0].At != 1 || tp[0].Rate != 10 || tp[0].Error != 0 {
		t.Errorf("first = %+v", tp[0])
	}
	// The last interval is partial: 1.0–1.5 s.
	if tp[1].At != 1.5 || tp[1].Rate != 40 || tp[1].Error != 1 || tp[1].Reqs != 4 {
		t.Errorf("second = %+v", tp[1])
	}
}
