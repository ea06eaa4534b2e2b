package query_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tsgate/tsgate/server/servertest"
)

// startVM starts the Debian package's victoria-metrics on a free loopback port with its data
// in a temp dir and returns its base URL; it is killed when the benchmark ends. Skips when the
// binary is missing.
func startVM(b *testing.B) string {
	bin, err := exec.LookPath("victoria-metrics")
	if err != nil {
		b.Skip("victoria-metrics not installed (apt-get install victoria-metrics)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "-storageDataPath="+b.TempDir(), "-httpListenAddr="+addr,
		"-retentionPeriod=100y", "-loggerLevel=ERROR")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	url := "http://" + addr
	for i := 0; ; i++ {
		res, err := http.Get(url + "/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if i > 300 {
			b.Fatalf("victoria-metrics did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // waiting for another process to listen
	}
	return url
}

// BenchmarkYearRawVsVM: the same year (525 600 samples at 1/min from 2025-01-01, the values
// of fillMinutes) exported raw by tsgate (CSV, JSON) and by VictoriaMetrics'
// /api/v1/export (JSON lines) and /api/v1/export/csv, to the last byte over loopback, in one
// run.
func BenchmarkYearRawVsVM(b *testing.B) {
	const n = 525_600
	vm := startVM(b)
	nd := servertest.Start(b)
	g := nd.Admin.CreateGroup("bench")
	id := nd.Admin.CreateObject("year", g, "°C")
	fillMinutes(b, nd.N.DB, []uint32{id}, n)

	// the same values into VictoriaMetrics (fillMinutes' walk, one object)
	r := rand.New(rand.NewPCG(42, 0))
	v := 15 + 10*r.Float64()
	var body bytes.Buffer
	body.WriteString(`{"metric":{"__name__":"year","object":"1"},"values":[`)
	for p := range n {
		v += r.NormFloat64() * 0.05
		if p > 0 {
			body.WriteByte(',')
		}
		body.WriteString(strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64))
	}
	body.WriteString(`],"timestamps":[`)
	for p := range n {
		if p > 0 {
			body.WriteByte(',')
		}
		body.WriteString(strconv.FormatInt(benchStart+int64(p)*60_000, 10))
	}
	body.WriteString("]}\n")
	res, err := http.Post(vm+"/api/v1/import", "application/json", &body)
	if err != nil || res.StatusCode/100 != 2 {
		b.Fatalf("import: %v %v", err, res)
	}
	res.Body.Close()
	for _, p := range []string{"/internal/force_flush", "/internal/force_merge"} {
		if res, err := http.Get(vm + p); err == nil {
			res.Body.Close()
		}
	}
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	vmGet := func(b *testing.B, path string) int64 {
		req, _ := http.NewRequest("GET", vm+path, nil)
		res, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		var cnt countWriter
		if _, err := cnt.ReadFrom(res.Body); err != nil || res.StatusCode != 200 {
			b.Fatalf("%s: %d %v", path, res.StatusCode, err)
		}
		return cnt.n
	}
	rng := "start=2025-01-01T00:00:00Z&end=2026-01-01T00:00:00Z"
	vmCSV := "/api/v1/export/csv?format=__timestamp__:rfc3339,__value__&match[]=year&" + rng
	vmJSON := "/api/v1/export?match[]=year&" + rng
	// VictoriaMetrics answers from its data once flushed: check the row count first
	if got := vmGet(b, vmCSV); got < n*20 {
		b.Fatalf("VictoriaMetrics CSV export is %d bytes: data not visible", got)
	}
	path := fmt.Sprintf("/objects/%d/values?from=2025-01-01&to=2026-01-01", id)
	for _, c := range []struct {
		name string
		get  func(b *testing.B) int64
	}{
		{"tsgate-csv", func(b *testing.B) int64 { return get(b, nd.Admin, hc, "GET", path, "text/csv", "") }},
		{"vm-export-csv", func(b *testing.B) int64 { return vmGet(b, vmCSV) }},
		{"tsgate-json", func(b *testing.B) int64 { return get(b, nd.Admin, hc, "GET", path, "application/json", "") }},
		{"vm-export-json", func(b *testing.B) int64 { return vmGet(b, vmJSON) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var bytes int64
			for b.Loop() {
				bytes = c.get(b)
			}
			b.SetBytes(bytes)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func (c *countWriter) ReadFrom(r interface{ Read([]byte) (int, error) }) (int64, error) {
	buf := make([]byte, 64<<10)
	var total int64
	for {
		k, err := r.Read(buf)
		c.n += int64(k)
		total += int64(k)
		if err != nil {
			if err.Error() == "EOF" {
				return total, nil
			}
			return total, err
		}
	}
}
