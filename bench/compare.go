package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// CompareOptions configures a side-by-side run of tsgate, VictoriaMetrics and InfluxDB 1.x on
// the same line-protocol payload (bench/compare.sh is its front end).
type CompareOptions struct {
	Tsgate      string   // tsgate binary
	VM          string   // victoria-metrics binary; "" = from $PATH
	Influx      string   // influxd binary; "" = from $PATH
	Systems     []string // subset of tsgate, victoriametrics, influxdb; nil = all three
	Dir         string   // work directory (data dirs, logs); "" = a temp dir, removed after
	Port        int      // first of the 127.0.0.1 ports used; 0 = 18480
	Objects     int      // dataset objects; 0 = 10 000
	Points      int      // points per object; 0 = 500
	Batch       int      // samples per request; 0 = 5000
	Concurrency int      // connections; 0 = 8
	JSON        bool     // also measure tsgate's BBData JSON ingest (?response=count)
	Log         io.Writer
	Progress    io.Writer
}

// SystemResult is one system's row of the comparison.
type SystemResult struct {
	System         string        `json:"system"`
	Version        string        `json:"version"`
	Ingest         *IngestResult `json:"ingest"`
	JSON           *IngestResult `json:"json,omitempty"`     // tsgate only
	Half           *IngestResult `json:"halfLoad,omitempty"` // tsgate only: line paced at half the rate reached
	Samples        int64         `json:"samplesStored"`
	StorageBytes   int64         `json:"storageBytes"` // the engine's own figure (tsgate blocks, VM data parts, InfluxDB TSM)
	DirBytes       int64         `json:"dirBytes"`     // the data directory's total after flush and compaction
	BytesPerSample float64       `json:"bytesPerSample"`
	DirPerSample   float64       `json:"dirBytesPerSample"`
	PeakRSS        int64         `json:"peakRssBytes"`
	CPUSeconds     float64       `json:"serverCpuS"`     // CPU the server used during the line run
	PerCPUSecond   float64       `json:"samplesPerCpuS"` // samples accepted per server CPU-second
	JSONPerCPUS    float64       `json:"jsonMeasuresPerCpuS,omitempty"`
	Durable        string        `json:"durableAck"`
	Note           string        `json:"note,omitempty"`
}

// CompareResult is the whole comparison.
type CompareResult struct {
	Started time.Time      `json:"started"`
	Machine string         `json:"machine"`
	Systems []SystemResult `json:"systems"`
}

func (o *CompareOptions) defaults() {
	if o.VM == "" {
		o.VM = "victoria-metrics"
	}
	if o.Influx == "" {
		o.Influx = "influxd"
	}
	if len(o.Systems) == 0 {
		o.Systems = []string{"tsgate", "victoriametrics", "influxdb"}
	}
	if o.Port == 0 {
		o.Port = 18480
	}
	if o.Objects <= 0 {
		o.Objects = 10_000
	}
	if o.Points <= 0 {
		o.Points = 500
	}
	if o.Batch <= 0 {
		o.Batch = 5000
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
}

// Compare runs each system in turn on 127.0.0.1 with data under a fresh directory: start, post
// the same line-protocol payload, flush and compact, measure, stop. Everything it starts is
// stopped before it returns, also on error or when ctx is cancelled.
func Compare(ctx context.Context, o CompareOptions) (*CompareResult, error) {
	o.defaults()
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "tsgate-compare-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		o.Dir = d
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	res := &CompareResult{Started: time.Now().UTC(), Machine: machine()}
	var errs []error
	for i, s := range o.Systems {
		port := o.Port + 10*i
		var (
			r   *SystemResult
			err error
		)
		switch t, _ := ParseTarget(s); t {
		case TargetTsgate:
			r, err = compareTsgate(ctx, o, port)
		case TargetVM:
			r, err = compareVM(ctx, o, port)
		case TargetInfluxDB:
			r, err = compareInflux(ctx, o, port)
		default:
			err = fmt.Errorf("bench: unknown system %q", s)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s, err))
			logf(o.Log, "%s failed: %v", s, err)
		}
		if r != nil {
			res.Systems = append(res.Systems, *r)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return res, errors.Join(errs...)
}

func (o *CompareOptions) ingestOpts(target Target, url string) IngestOptions {
	return IngestOptions{
		URL: url, Target: target, Format: FormatLine, Objects: o.Objects, Points: o.Points,
		Batch: o.Batch, Concurrency: o.Concurrency, Password: "admin-pw", Log: o.Log, Progress: o.Progress,
	}
}

const comparePassword = "admin-pw"

func compareTsgate(ctx context.Context, o CompareOptions, port int) (*SystemResult, error) {
	data := filepath.Join(o.Dir, "tsgate")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	start := func(logName string) (*Proc, error) {
		p, err := StartProc("tsgate", filepath.Join(o.Dir, logName), []string{"TSGATE_ADMIN_PASSWORD=" + comparePassword},
			o.Tsgate, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--data", data, "--password-cost", "4", "--log-level", "warn")
		if err != nil {
			return nil, err
		}
		if err := WaitHTTP(ctx, p, base+"/health", time.Minute); err != nil {
			_ = p.Stop(10 * time.Second)
			return nil, err
		}
		return p, nil
	}
	r := &SystemResult{System: "tsgate", Version: cmdVersion(o.Tsgate, "version"), Durable: "yes (fsync before 2xx)"}
	p, err := start("tsgate.log")
	if err != nil {
		return nil, err
	}
	defer func() { _ = p.Stop(30 * time.Second) }()
	iopts := o.ingestOpts(TargetTsgate, base)
	run, err := PrepareIngest(ctx, iopts)
	if err != nil {
		return nil, err
	}
	logf(o.Log, "tsgate: posting %d samples", run.Payload().Total)
	cpu0 := p.CPUTime()
	if r.Ingest, err = run.Run(ctx); err != nil {
		return r, err
	}
	cpuUsed(r, p.CPUTime()-cpu0)
	r.PeakRSS = p.PeakRSS()
	logf(o.Log, "tsgate: stopping, compacting (tsgate admin compact), restarting")
	if err := p.Stop(60 * time.Second); err != nil {
		return r, err
	}
	if out, err := exec.CommandContext(ctx, o.Tsgate, "admin", "compact", "--data", data).CombinedOutput(); err != nil {
		return r, fmt.Errorf("bench: tsgate admin compact: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if p, err = start("tsgate-2.log"); err != nil {
		return r, err
	}
	m, err := ScrapeMetrics(ctx, base+"/metrics")
	if err != nil {
		return r, err
	}
	r.Samples = int64(m.Sum("tsgate_tsdb_samples"))
	r.StorageBytes = int64(m.Sum("tsgate_tsdb_blocks_bytes"))
	r.DirBytes, _ = DirSize(data)
	per(r)
	if wal := m.Sum("tsgate_wal_bytes"); wal > 0 {
		r.Note = fmt.Sprintf("WAL %d bytes after compaction", int64(wal))
	}
	if r.Ingest.Rate > 0 {
		ho := iopts
		ho.Rate = r.Ingest.Rate / 2
		hrun, err := PrepareIngest(ctx, ho)
		if err != nil {
			return r, err
		}
		logf(o.Log, "tsgate: posting %d samples paced at half the rate reached (%.0f samples/s)", hrun.Payload().Total, ho.Rate)
		if r.Half, err = hrun.Run(ctx); err != nil {
			return r, err
		}
	}
	if o.JSON {
		jo := iopts
		jo.Format = FormatJSON
		jrun, err := PrepareIngest(ctx, jo)
		if err != nil {
			return r, err
		}
		logf(o.Log, "tsgate: posting %d measures as BBData JSON", jrun.Payload().Total)
		c0 := p.CPUTime()
		if r.JSON, err = jrun.Run(ctx); err != nil {
			return r, err
		}
		if d := (p.CPUTime() - c0).Seconds(); d > 0 {
			r.JSONPerCPUS = float64(r.JSON.Samples) / d
		}
	}
	return r, nil
}

func compareVM(ctx context.Context, o CompareOptions, port int) (*SystemResult, error) {
	data := filepath.Join(o.Dir, "vm")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	// The same flags as bench/vm_size.sh: 100 years of retention (the dataset starts
	// 2026-01-01, older than VM's default month).
	p, err := StartProc("victoria-metrics", filepath.Join(o.Dir, "vm.log"), nil, o.VM,
		"-storageDataPath="+data, fmt.Sprintf("-httpListenAddr=127.0.0.1:%d", port), "-retentionPeriod=100y", "-loggerLevel=ERROR")
	if err != nil {
		return nil, err
	}
	defer func() { _ = p.Stop(30 * time.Second) }()
	if err := WaitHTTP(ctx, p, base+"/health", time.Minute); err != nil {
		return nil, err
	}
	r := &SystemResult{System: "victoriametrics", Version: debVersion("victoria-metrics"), Durable: "no (acks before its ~1 s flush)"}
	run, err := PrepareIngest(ctx, o.ingestOpts(TargetVM, base))
	if err != nil {
		return nil, err
	}
	logf(o.Log, "victoriametrics: posting %d samples", run.Payload().Total)
	cpu0 := p.CPUTime()
	if r.Ingest, err = run.Run(ctx); err != nil {
		return r, err
	}
	cpuUsed(r, p.CPUTime()-cpu0)
	r.PeakRSS = p.PeakRSS()
	logf(o.Log, "victoriametrics: force_flush, force_merge, waiting for a stable size")
	for _, path := range []string{"/internal/force_flush", "/internal/force_merge"} {
		if res, err := http.Get(base + path); err == nil {
			res.Body.Close()
		}
		time.Sleep(2 * time.Second)
	}
	r.DirBytes = WaitStableSize(ctx, data, 2*time.Second, 5, 10*time.Minute, "cache")
	r.StorageBytes, _ = DirSize(filepath.Join(data, "data"))
	r.Samples = vmCount(base)
	if r.Samples == 0 {
		r.Samples = r.Ingest.Samples
		r.Note = "stored count not readable; samples accepted used"
	}
	per(r)
	return r, nil
}

// vmCount asks VictoriaMetrics how many samples of m_value it holds.
func vmCount(base string) int64 {
	q := url.Values{"query": {"sum(count_over_time(m_value[400d]))"}, "time": {strconv.FormatInt(time.Now().Unix(), 10)}}
	res, err := http.Get(base + "/api/v1/query?" + q.Encode())
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	b, _ := readAllLimit(res.Body, 1<<20)
	// {"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[t,"N"]}]}}
	s := string(b)
	i := strings.LastIndex(s, `,"`)
	if i < 0 {
		return 0
	}
	s = s[i+2:]
	if j := strings.IndexByte(s, '"'); j >= 0 {
		s = s[:j]
	}
	f, _ := strconv.ParseFloat(s, 64)
	return int64(f)
}

func compareInflux(ctx context.Context, o CompareOptions, port int) (*SystemResult, error) {
	dir := filepath.Join(o.Dir, "influxdb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	// Cold durations of a few seconds so that the cache is snapshotted to TSM and fully
	// compacted soon after the load ends (the defaults are 10 min and 4 h).
	conf := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = %q
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "2s"
  compact-full-write-cold-duration = "5s"
[http]
  bind-address = "127.0.0.1:%d"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
`, port+1, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), port)
	cf := filepath.Join(dir, "influxdb.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	p, err := StartProc("influxd", filepath.Join(o.Dir, "influxdb.log"), nil, o.Influx, "run", "-config", cf)
	if err != nil {
		return nil, err
	}
	defer func() { _ = p.Stop(30 * time.Second) }()
	if err := WaitHTTP(ctx, p, base+"/ping", time.Minute); err != nil {
		return nil, err
	}
	res, err := http.PostForm(base+"/query", url.Values{"q": {"CREATE DATABASE bench"}})
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	r := &SystemResult{System: "influxdb", Version: debVersion("influxdb"), Durable: "yes (WAL fsync per write)"}
	run, err := PrepareIngest(ctx, o.ingestOpts(TargetInfluxDB, base))
	if err != nil {
		return nil, err
	}
	logf(o.Log, "influxdb: posting %d samples", run.Payload().Total)
	cpu0 := p.CPUTime()
	if r.Ingest, err = run.Run(ctx); err != nil {
		return r, err
	}
	cpuUsed(r, p.CPUTime()-cpu0)
	r.PeakRSS = p.PeakRSS()
	logf(o.Log, "influxdb: waiting for the snapshot and full compaction (stable size, WAL drained)")
	wal := filepath.Join(dir, "wal")
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if n, _ := DirSize(wal); n < 64<<10 {
			break
		}
		time.Sleep(2 * time.Second)
	}
	WaitStableSize(ctx, filepath.Join(dir, "data"), 3*time.Second, 5, 10*time.Minute)
	// The engine's figure is its TSM files: the series file (_series) preallocates segments.
	r.StorageBytes, _ = dirSize(filepath.Join(dir, "data"), func(n string) bool { return strings.HasSuffix(n, ".tsm") })
	r.DirBytes, _ = DirSize(dir)
	r.Samples = r.Ingest.Samples
	per(r)
	return r, nil
}

// cpuUsed records the server CPU a line run took: on a shared machine, samples per
// server CPU-second compares the engines where wall-clock rates mostly measure the neighbours.
func cpuUsed(r *SystemResult, d time.Duration) {
	r.CPUSeconds = d.Seconds()
	if r.CPUSeconds > 0 && r.Ingest != nil {
		r.PerCPUSecond = float64(r.Ingest.Samples) / r.CPUSeconds
	}
}

func per(r *SystemResult) {
	if r.Samples > 0 {
		r.BytesPerSample = float64(r.StorageBytes) / float64(r.Samples)
		r.DirPerSample = float64(r.DirBytes) / float64(r.Samples)
	}
}

func readAllLimit(r io.Reader, n int64) ([]byte, error) { return io.ReadAll(io.LimitReader(r, n)) }

func cmdVersion(bin string, args ...string) string {
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

func debVersion(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", pkg).Output()
	if err != nil || len(out) == 0 {
		return "unknown"
	}
	return pkg + " " + string(out)
}

// machine describes the host: CPUs, memory, load.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
	}
	return fmt.Sprintf("%d × %s%s, %s", numCPU(), cpu, mem, loadAverage())
}

// WriteTable prints the comparison with ratios to VictoriaMetrics.
func (c *CompareResult) WriteTable(w io.Writer) {
	var vm *SystemResult
	for i := range c.Systems {
		if c.Systems[i].System == "victoriametrics" {
			vm = &c.Systems[i]
		}
	}
	fmt.Fprintf(w, "side by side, %s, machine: %s\n", c.Started.Format(time.RFC3339), c.Machine)
	if len(c.Systems) > 0 && c.Systems[0].Ingest != nil {
		i := c.Systems[0].Ingest
		fmt.Fprintf(w, "payload: standard dataset, %d objects × %d points = %d samples, line protocol (ms), batch %d, %d connections\n\n",
			i.Objects, i.Points, i.Planned, i.Batch, i.Concurrency)
	}
	fmt.Fprintf(w, "| system | line samples/s | × VM | server CPU s | samples/CPU-s | × VM | p50 ms | p99 ms | errors | bytes/sample | × VM | data dir B/sample | peak RSS MiB | durable ack |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range c.Systems {
		if s.Ingest == nil {
			continue
		}
		rate, bps, cpu := "", "", ""
		if vm != nil && vm.Ingest != nil && vm.Ingest.Rate > 0 {
			rate = fmt.Sprintf("%.2f", s.Ingest.Rate/vm.Ingest.Rate)
		}
		if vm != nil && vm.PerCPUSecond > 0 {
			cpu = fmt.Sprintf("%.2f", s.PerCPUSecond/vm.PerCPUSecond)
		}
		if vm != nil && vm.BytesPerSample > 0 {
			bps = fmt.Sprintf("%.2f", s.BytesPerSample/vm.BytesPerSample)
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %.2f | %.0f | %s | %.2f | %.2f | %s | %.3f | %s | %.3f | %.0f | %s |\n",
			s.System, s.Ingest.Rate, rate, s.CPUSeconds, s.PerCPUSecond, cpu, s.Ingest.Latency.P50, s.Ingest.Latency.P99, errString(s.Ingest.Errors),
			s.BytesPerSample, bps, s.DirPerSample, float64(s.PeakRSS)/(1<<20), s.Durable)
	}
	for _, s := range c.Systems {
		if h := s.Half; h != nil {
			fmt.Fprintf(w, "\n%s line paced at half that rate (%.0f samples/s): reached %.0f, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms, errors %s\n",
				s.System, h.TargetRate, h.Rate, h.Latency.P50, h.Latency.P90, h.Latency.P99, h.Latency.Max, errString(h.Errors))
		}
		if s.JSON != nil {
			j := s.JSON
			fmt.Fprintf(w, "\n%s BBData JSON (POST %s): %.0f measures/s (%.0f per server CPU-second), p50 %.2f ms, p99 %.2f ms, errors %s\n",
				s.System, j.Path, j.Rate, s.JSONPerCPUS, j.Latency.P50, j.Latency.P99, errString(j.Errors))
		}
	}
	fmt.Fprintln(w)
	for _, s := range c.Systems {
		fmt.Fprintf(w, "%s: %s; %d samples stored, engine %d bytes, data dir %d bytes", s.System, s.Version, s.Samples, s.StorageBytes, s.DirBytes)
		if s.Note != "" {
			fmt.Fprintf(w, "; %s", s.Note)
		}
		fmt.Fprintln(w)
		for _, r := range []*IngestResult{s.Ingest, s.Half, s.JSON} {
			if r == nil {
				continue
			}
			for _, k := range sortedKeys(r.ErrorSample) {
				fmt.Fprintf(w, "  %s %s error %s: %s\n", s.System, r.Format, k, r.ErrorSample[k])
			}
		}
	}
	fmt.Fprintln(w)
	c.WriteBenchfmt(w)
}

// WriteBenchfmt writes the comparison in Go benchmark format, for benchstat.
func (c *CompareResult) WriteBenchfmt(w io.Writer) {
	line := func(name string, r *IngestResult, extra string) {
		if r == nil {
			return
		}
		fmt.Fprintf(w, "BenchmarkE2EIngest/%s-%d \t1\t%.0f samples/s\t%.2f p50-ms\t%.2f p99-ms%s\n", name, numCPU(), r.Rate, r.Latency.P50, r.Latency.P99, extra)
	}
	for _, s := range c.Systems {
		line("system="+s.System+"/format=line", s.Ingest, fmt.Sprintf("\t%.0f samples/CPU-s\t%.3f B/sample\t%.0f peak-RSS-MiB", s.PerCPUSecond, s.BytesPerSample, float64(s.PeakRSS)/(1<<20)))
		line("system="+s.System+"/format=line/load=half", s.Half, "")
		line("system="+s.System+"/format=json", s.JSON, "")
	}
}

func numCPU() int { return runtime.NumCPU() }
