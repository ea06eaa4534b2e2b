package query_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tsgate/tsgate/aggregate"
	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/query"
	"github.com/tsgate/tsgate/server/servertest"
)

// startVM starts the Debian package's victoria-metrics on a free loopback port with its data
// in a temp dir and returns its base URL; it is killed when the benchmark ends. Skips when the
// binary is missing.
func startVM(b *testing.B) string {
	url, _ := startVMProc(b)
	return url
}

// startVMProc is startVM also returning the process id (for vmCPU).
func startVMProc(b *testing.B) (string, int) {
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
	return url, cmd.Process.Pid
}

// procCPU is the user+system CPU time of process pid so far, from /proc (clock ticks of
// 10 ms: read it across many requests).
func procCPU(b *testing.B, pid int) time.Duration {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// fields after the command name, which is in parentheses: state is field 3, utime 14, stime 15
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	sys, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+sys) * 10 * time.Millisecond
}

// BenchmarkYearRawVsVM: the same year (525 600 samples at 1/min from 2025-01-01, the values
// of fillMinutes) exported raw by tsgate (CSV, JSON) and by VictoriaMetrics'
// /api/v1/export (JSON lines) and /api/v1/export/csv, to the last byte over loopback, in one
// run.
func BenchmarkYearRawVsVM(b *testing.B) {
	const n = 525_600
	vm, vmPid := startVMProc(b)
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
		n, err := drain(res.Body)
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("%s: %d %v", path, res.StatusCode, err)
		}
		return n
	}
	rng := "start=2025-01-01T00:00:00Z&end=2026-01-01T00:00:00Z"
	vmCSV := "/api/v1/export/csv?format=__timestamp__:rfc3339,__value__&match[]=year&" + rng
	vmJSON := "/api/v1/export?match[]=year&" + rng
	// VictoriaMetrics answers from its data once flushed: check the row count first
	if got := vmGet(b, vmCSV); got < n*20 {
		b.Fatalf("VictoriaMetrics CSV export is %d bytes: data not visible", got)
	}
	path := fmt.Sprintf("/objects/%d/values?from=2025-01-01&to=2026-01-01", id)
	// cpu-ms/op: server and client together — this process for tsgate (its client too), this
	// process (the client) plus the victoria-metrics process for VictoriaMetrics
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
			cpu0, vm0 := cpuTime(), procCPU(b, vmPid)
			for b.Loop() {
				bytes = c.get(b)
			}
			cpu := cpuTime() - cpu0 + procCPU(b, vmPid) - vm0
			b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			b.SetBytes(bytes)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// BenchmarkMeanVsVM: 1000 objects × 30 days (a sample every 15 min), hourly means of every
// object as CSV from tsgate's /query over aggregate rows, beside VictoriaMetrics'
// avg_over_time(…[1h]) range query with step 1h and nocache=1 on the same data: the same
// 720 000 output points, precomputed against computed at query time.
func BenchmarkMeanVsVM(b *testing.B) {
	const objects, days, per = 1000, 30, 15 * 60_000
	points := days * 86400_000 / per
	vm := startVM(b)
	sw := &swapRollups{}
	nd, db := startNode(b, query.Options{Rollups: sw})
	sw.r = query.RawRollups{DB: db}
	g := nd.Admin.CreateGroup("bench")
	ids := createObjects(b, nd.Admin, g, objects)
	fillEvery(b, db, ids, points, per)
	ro, err := aggregate.Open(db, aggregate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ro.Close() })
	sw.r = query.AggregateRollups{R: ro}
	if err := db.Compact(context.Background()); err != nil { // a steady store: rollup rows compacted too
		b.Fatal(err)
	}

	// the same values into VictoriaMetrics, one JSON line per object
	var body bytes.Buffer
	r := rand.New(rand.NewPCG(42, 0))
	state := make([]float64, objects)
	for i := range state {
		state[i] = 15 + 10*r.Float64()
	}
	vals := make([][]float64, objects)
	for p := 0; p < points; p++ {
		for i := range ids {
			state[i] += r.NormFloat64() * 0.05
			vals[i] = append(vals[i], math.Round(state[i]*100)/100)
		}
	}
	for i := range ids {
		fmt.Fprintf(&body, `{"metric":{"__name__":"temp","object":"%d"},"values":[`, ids[i])
		for p, v := range vals[i] {
			if p > 0 {
				body.WriteByte(',')
			}
			body.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
		}
		body.WriteString(`],"timestamps":[`)
		for p := range vals[i] {
			if p > 0 {
				body.WriteByte(',')
			}
			body.WriteString(strconv.FormatInt(benchStart+int64(p)*per, 10))
		}
		body.WriteString("]}\n")
	}
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
	start, end := benchStart, benchStart+int64(days)*86400_000-3600_000
	vmPath := fmt.Sprintf("/api/v1/query_range?query=avg_over_time(temp[1h])&start=%d&end=%d&step=1h&nocache=1",
		(start+3600_000)/1000, (end+3600_000)/1000)
	vmGet := func(b *testing.B) int64 {
		res, err := hc.Get(vm + vmPath)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		n, err := drain(res.Body)
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("%d %v", res.StatusCode, err)
		}
		return n
	}
	qbody := fmt.Sprintf(`{"granularity":"hours","fields":["mean"],"from":%q,"to":%q}`,
		api.AppendDateTime(nil, start), api.AppendDateTime(nil, end))
	if n := get(b, nd.Admin, hc, "POST", "/query", "text/csv", qbody); n < int64(objects*days*24*30) {
		b.Fatalf("tsgate answered %d bytes", n)
	}
	if n := vmGet(b); n < int64(objects*days*24*10) {
		b.Fatalf("VictoriaMetrics answered %d bytes", n)
	}
	for _, c := range []struct {
		name string
		get  func(b *testing.B) int64
	}{
		{"tsgate-csv", func(b *testing.B) int64 { return get(b, nd.Admin, hc, "POST", "/query", "text/csv", qbody) }},
		{"vm-avg_over_time", vmGet},
	} {
		b.Run(c.name, func(b *testing.B) {
			var n int64
			for b.Loop() {
				n = c.get(b)
			}
			b.SetBytes(n)
			b.ReportMetric(float64(objects*days*24*b.N)/b.Elapsed().Seconds(), "points/s")
		})
	}
}
