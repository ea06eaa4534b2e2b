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

// TestBenchCompareTsgateOnly runs the comparison with tsgate alone (VictoriaMetrics and
// InfluxDB are not on CI machines): start, ingest, stop, `admin compact`, restart, size — and
// checks that the sizes come out and the server it started is gone.
func TestBenchCompareTsgateOnly(t *testing.T) {
	dir := t.TempDir()
	out, stderr, err := benchCmd(t, "compare", "--tsgate", binary, "--systems", "tsgate", "--dir", dir,
		"--port", benchFreePort(t), "--objects", "30", "--points", "100", "--batch", "500", "--concurrency", "2", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var r struct {
		Systems []struct {
			System         string  `json:"system"`
			Samples        int64   `json:"samplesStored"`
			BytesPerSample float64 `json:"bytesPerSample"`
			DirBytes       int64   `json:"dirBytes"`
			PeakRSS        int64   `json:"peakRssBytes"`
			Ingest         struct {
				Samples int64 `json:"samplesAccepted"`
			} `json:"ingest"`
			Half struct {
				Samples int64 `json:"samplesAccepted"`
			} `json:"halfLoad"`
			JSON struct {
				Samples int64 `json:"samplesAccepted"`
			} `json:"json"`
		} `json:"systems"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Systems) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	s := r.Systems[0]
	if s.System != "tsgate" || s.Ingest.Samples != 3000 || s.Half.Samples != 3000 || s.JSON.Samples != 3000 ||
		s.Samples < 3000 || s.BytesPerSample <= 0 || s.DirBytes <= 0 || s.PeakRSS <= 0 {
		t.Fatalf("result %+v", s)
	}
	// The server it started is stopped: its pid no longer runs.
	pid, err := os.ReadFile(filepath.Join(dir, "tsgate-2.pid"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/proc/" + strings.TrimSpace(string(pid))); err == nil {
		t.Fatalf("tsgate %s still running after compare", pid)
	}
}

func benchFreePort(t *testing.T) string {
	t.Helper()
	_, port, _ := strings.Cut(freeAddr(t), ":")
	return port
}
