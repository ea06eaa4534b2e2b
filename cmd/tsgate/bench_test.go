package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// benchCmd runs `tsgate bench …` and returns its stdout, stderr and error.
func benchCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"bench"}, args...)...)
	cmd.Env = append(os.Environ(), "TSGATE_ADMIN_PASSWORD=test-password")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	return string(out), stderr.String(), err
}

// TestBenchAgainstServer starts the real binary as a server and runs short benches of both
// ingest formats against it (seconds, 127.0.0.1 only), checking their JSON results, the
// report, and that the query bench either runs or names the endpoints that are missing.
func TestBenchAgainstServer(t *testing.T) {
	p := startServe(t, t.TempDir())
	url := "http://" + p.addr
	report := filepath.Join(t.TempDir(), "report")
	for _, format := range []string{"line", "json"} {
		out, stderr, err := benchCmd(t, "ingest", "--url", url, "--format", format, "--objects", "30", "--points", "100",
			"--batch", "500", "--concurrency", "2", "--json", "--report", report)
		if err != nil {
			t.Fatalf("%s: %v\n%s", format, err, stderr)
		}
		var r struct {
			Samples  int64          `json:"samplesAccepted"`
			Planned  int64          `json:"samplesPlanned"`
			OK       int            `json:"requestsOK"`
			Requests int            `json:"requests"`
			Errors   map[string]int `json:"errors"`
			Latency  struct {
				P99 float64 `json:"p99Ms"`
			} `json:"latency"`
			Rate float64 `json:"samplesPerS"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%s: %v\n%s", format, err, out)
		}
		if r.Samples != 3000 || r.Planned != 3000 || r.OK != 6 || r.Requests != 6 || len(r.Errors) != 0 || r.Rate <= 0 || r.Latency.P99 <= 0 {
			t.Fatalf("%s: result %+v", format, r)
		}
	}
	if md, err := os.ReadFile(filepath.Join(report, "report.md")); err != nil || !strings.Contains(string(md), "| tsgate |") {
		t.Fatalf("report: %v\n%s", err, md)
	}

	out, stderr, err := benchCmd(t, "query", "--url", url, "--objects", "10", "--points", "120", "--duration", "500ms",
		"--concurrency", "2", "--json")
	if err != nil {
		// Acceptable only as the clear error naming endpoints the server does not serve yet.
		if !strings.Contains(stderr, "answered 404 Not Found") || strings.Count(stderr, "\n") != 1 {
			t.Fatalf("query: %v\n%s", err, stderr)
		}
		t.Logf("query endpoints missing: %s", stderr)
		return
	}
	var q struct {
		Requests int   `json:"requests"`
		Rows     int64 `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &q); err != nil || q.Requests == 0 || q.Rows == 0 {
		t.Fatalf("query result %v: %s", err, out)
	}
}
