package bench

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/bench/dataset"
)

// Target is the kind of server an ingest run posts to.
type Target string

const (
	TargetTsgate   Target = "tsgate"
	TargetVM       Target = "victoriametrics" // /write (Influx line protocol), no setup, no auth
	TargetInfluxDB Target = "influxdb"        // 1.x /write?db=…, no setup, no auth
)

// ParseTarget reads a target name.
func ParseTarget(s string) (Target, error) {
	switch strings.ToLower(s) {
	case "tsgate", "":
		return TargetTsgate, nil
	case "vm", "victoriametrics", "victoria-metrics":
		return TargetVM, nil
	case "influx", "influxdb":
		return TargetInfluxDB, nil
	}
	return "", fmt.Errorf("bench: unknown target %q: want tsgate, victoriametrics or influxdb", s)
}

// IngestOptions configures an ingest run. Zero values take the defaults noted.
type IngestOptions struct {
	URL         string        // base URL; "" = http://127.0.0.1:8080
	Target      Target        // "" = tsgate
	Format      Format        // line or json (json: tsgate only)
	Objects     int           // dataset objects; 0 = 1000
	Points      int           // points per object; 0 = 1000
	Start       time.Time     // time of point 0; zero = dataset.DefaultStart
	Seed        int64         // dataset seed; 0 = 42
	Batch       int           // samples per request; 0 = 5000
	Concurrency int           // connections, one request in flight on each; 0 = 8
	Duration    time.Duration // stop sending after this long; 0 = until every body is sent
	Rate        float64       // target samples/s: request k is sent at start + k·batch/Rate; 0 = as fast as possible
	Timeout     time.Duration // per request; 0 = 60 s
	User        string        // tsgate admin to log in as; "" = admin
	Password    string        // its password
	Echo        bool          // JSON: ask for the echoed measures instead of ?response=count
	Database    string        // InfluxDB database; "" = bench
	Progress    io.Writer     // where a live progress bar goes; nil = quiet
	Step        time.Duration // timeline interval; 0 = 1 s
	Log         io.Writer     // one line per setup step; nil = quiet
}

func (o *IngestOptions) defaults() {
	if o.URL == "" {
		o.URL = "http://127.0.0.1:8080"
	}
	o.URL = strings.TrimRight(o.URL, "/")
	if o.Target == "" {
		o.Target = TargetTsgate
	}
	if o.Objects <= 0 {
		o.Objects = 1000
	}
	if o.Points <= 0 {
		o.Points = 1000
	}
	if o.Batch <= 0 {
		o.Batch = 5000
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.User == "" {
		o.User = "admin"
	}
	if o.Database == "" {
		o.Database = "bench"
	}
	if o.Step <= 0 {
		o.Step = time.Second
	}
}

// IngestRun is a prepared ingest run: its world is set up and its bodies are built.
type IngestRun struct {
	opts    IngestOptions
	api     *APIClient
	world   *World
	payload *Payload
	path    string
	ctype   string
	hdr     [][2]string
	Prepare time.Duration // setup + payload build time
}

// PrepareIngest sets up the world (tsgate: a user group, the objects and their credentials,
// created through the API as opts.User) and pre-builds every request body, so that generating
// data never limits the run.
func PrepareIngest(ctx context.Context, opts IngestOptions) (*IngestRun, error) {
	opts.defaults()
	t0 := time.Now()
	r := &IngestRun{opts: opts}
	if opts.Format == FormatJSON && opts.Target != TargetTsgate {
		return nil, fmt.Errorf("bench: %s takes line protocol only", opts.Target)
	}
	pOpts := PayloadOptions{
		Format:  opts.Format,
		Dataset: dataset.Config{Objects: opts.Objects, Points: opts.Points, Start: opts.Start, Seed: opts.Seed},
		Batch:   opts.Batch,
	}
	switch opts.Target {
	case TargetTsgate:
		logf(opts.Log, "logging in to %s as %s", opts.URL, opts.User)
		api, err := Login(ctx, opts.URL, opts.User, opts.Password)
		if err != nil {
			return nil, err
		}
		logf(opts.Log, "creating a user group, %d objects and their %s", opts.Objects, map[Format]string{FormatJSON: "tokens", FormatLine: "writable apikey"}[opts.Format])
		w, err := api.Setup(ctx, SetupOptions{Objects: opts.Objects, Tokens: opts.Format == FormatJSON, Apikey: opts.Format == FormatLine})
		if err != nil {
			return nil, err
		}
		r.world, r.api = w, api
		pOpts.IDs, pOpts.Tokens = w.IDs, w.Tokens
		if opts.Format == FormatJSON {
			r.path, r.ctype = "/objects/values?response=count", "application/json"
			if opts.Echo {
				r.path = "/objects/values"
			}
		} else {
			r.path, r.ctype = "/write?precision=ms", "text/plain; charset=utf-8"
			r.hdr = [][2]string{{"bbuser", strconv.FormatUint(uint64(w.KeyUser), 10)}, {"bbtoken", w.KeySecr}}
		}
	case TargetVM:
		r.path, r.ctype = "/write?precision=ms", "text/plain; charset=utf-8"
	case TargetInfluxDB:
		r.path, r.ctype = "/write?db="+url.QueryEscape(opts.Database)+"&precision=ms", "text/plain; charset=utf-8"
	default:
		return nil, fmt.Errorf("bench: unknown target %q", opts.Target)
	}
	logf(opts.Log, "building %d %s bodies of %d samples", (opts.Objects*opts.Points+opts.Batch-1)/opts.Batch, opts.Format, opts.Batch)
	p, err := BuildPayload(pOpts)
	if err != nil {
		return nil, err
	}
	r.payload = p
	r.Prepare = time.Since(t0)
	return r, nil
}

// World returns what the run set up (nil for targets other than tsgate).
func (r *IngestRun) World() *World { return r.world }

// API returns the logged-in management client (nil for targets other than tsgate).
func (r *IngestRun) API() *APIClient { return r.api }

// Payload returns the pre-built bodies.
func (r *IngestRun) Payload() *Payload { return r.payload }

// IngestResult is the outcome of an ingest run.
type IngestResult struct {
	Kind        string            `json:"kind"` // "ingest"
	Target      Target            `json:"target"`
	Format      string            `json:"format"`
	URL         string            `json:"url"`
	Path        string            `json:"path"`
	Objects     int               `json:"objects"`
	Points      int               `json:"points"`
	Batch       int               `json:"batch"`
	Concurrency int               `json:"concurrency"`
	TargetRate  float64           `json:"targetRate,omitempty"`
	Started     time.Time         `json:"started"`
	PrepareS    float64           `json:"prepareS"`
	ElapsedS    float64           `json:"elapsedS"`
	Planned     int64             `json:"samplesPlanned"`
	Samples     int64             `json:"samplesAccepted"`
	Requests    int               `json:"requests"`
	OK          int               `json:"requestsOK"`
	Rate        float64           `json:"samplesPerS"`
	BytesSent   int64             `json:"bytesSent"`
	ClientCPUS  float64           `json:"clientCpuS"` // CPU this process (the generator) used during the run
	MBps        float64           `json:"mbPerS"`
	Latency     Latency           `json:"latency"`
	Errors      map[string]int    `json:"errors,omitempty"`      // by status ("429", "transport")
	ErrorSample map[string]string `json:"errorSample,omitempty"` // one body per status
	Timeline    []TimePoint       `json:"timeline,omitempty"`
}

// Run posts the bodies over opts.Concurrency keep-alive connections, one request in flight on
// each, until every body is sent, opts.Duration has passed or ctx is done.
func (r *IngestRun) Run(ctx context.Context) (*IngestResult, error) {
	return r.RunBodies(ctx, 0, len(r.payload.Bodies), r.opts.Progress)
}

// RunBodies is Run over bodies [lo, hi) only (a preload, or the rest after one), with the
// progress bar on progress (nil = none).
func (r *IngestRun) RunBodies(ctx context.Context, lo, hi int, progress io.Writer) (*IngestResult, error) {
	o := r.opts
	lo, hi = max(lo, 0), min(hi, len(r.payload.Bodies))
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("bench: bad URL %q", o.URL)
	}
	hc := &fasthttp.HostClient{
		Addr:                      u.Host,
		IsTLS:                     u.Scheme == "https",
		MaxConns:                  o.Concurrency,
		ReadTimeout:               o.Timeout,
		WriteTimeout:              o.Timeout,
		MaxIdemponentCallAttempts: 1,
		NoDefaultUserAgentHeader:  true,
	}
	defer hc.CloseIdleConnections()
	p := r.payload
	var planned int64
	for _, n := range p.Samples[lo:hi] {
		planned += int64(n)
	}
	var bar *progressbar.ProgressBar
	if progress != nil {
		bar = progressbar.NewOptions64(planned,
			progressbar.OptionSetWriter(progress),
			progressbar.OptionSetDescription(fmt.Sprintf("%s %s", o.Target, o.Format)),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("samples"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	}
	var (
		next    atomic.Int64 // next body - lo
		mu      sync.Mutex
		errs    = map[string]int{}
		samples = map[string]string{}
		recs    = make([]recorder, o.Concurrency)
		wg      sync.WaitGroup
	)
	var deadline time.Time
	cpu0 := selfCPU()
	start := time.Now()
	if o.Duration > 0 {
		deadline = start.Add(o.Duration)
	}
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func(rec *recorder) {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.Header.SetMethod("POST")
			req.SetRequestURI(o.URL + r.path)
			req.Header.SetContentType(r.ctype)
			for _, h := range r.hdr {
				req.Header.Set(h[0], h[1])
			}
			// Nothing below allocates per request (the generator's CPU is taken from the
			// server on a shared box): events are preallocated for this worker's share, and
			// a paced worker reuses one timer.
			rec.events = make([]event, 0, (hi-lo)/o.Concurrency+1)
			var pace *time.Timer
			if o.Rate > 0 {
				pace = time.NewTimer(time.Hour)
				pace.Stop()
				defer pace.Stop()
			}
			for {
				i := lo + int(next.Add(1)-1)
				if i >= hi || ctx.Err() != nil || (!deadline.IsZero() && time.Now().After(deadline)) {
					return
				}
				if o.Rate > 0 { // paced: wait for this request's slot
					at := start.Add(time.Duration(float64(i-lo) * float64(o.Batch) / o.Rate * float64(time.Second)))
					if d := time.Until(at); d > 0 {
						pace.Reset(d)
						select {
						case <-pace.C:
						case <-ctx.Done():
							return
						}
					}
					if !deadline.IsZero() && time.Now().After(deadline) {
						return
					}
				}
				req.SetBodyRaw(p.Bodies[i])
				t0 := time.Now()
				err := hc.Do(req, resp)
				took := time.Since(t0)
				status := resp.StatusCode()
				if err != nil {
					status = 0
				}
				n := int64(p.Samples[i])
				rec.add(t0.Sub(start), took, status, n)
				rec.bytes += int64(len(p.Bodies[i]))
				if status/100 == 2 {
					if bar != nil {
						_ = bar.Add64(n)
					}
				} else {
					key := "transport"
					var detail string
					if err != nil {
						detail = err.Error()
					} else {
						key = strconv.Itoa(status)
						detail = string(resp.Body())
					}
					mu.Lock()
					errs[key]++
					if _, ok := samples[key]; !ok {
						samples[key] = truncate(detail, 300)
					}
					mu.Unlock()
				}
				resp.Reset()
			}
		}(&recs[w])
	}
	wg.Wait()
	if bar != nil {
		_ = bar.Finish()
	}
	var events []event
	for _, rec := range recs {
		events = append(events, rec.events...)
	}
	res := &IngestResult{
		Kind: "ingest", Target: o.Target, Format: o.Format.String(), URL: o.URL, Path: r.path,
		Objects: o.Objects, Points: o.Points, Batch: o.Batch, Concurrency: o.Concurrency, TargetRate: o.Rate,
		Started: start.UTC(), PrepareS: r.Prepare.Seconds(), Planned: planned,
		Errors: errs, ErrorSample: samples,
	}
	var end time.Duration
	lats := make([]time.Duration, 0, len(events))
	for _, e := range events {
		end = max(end, e.start+e.took)
		lats = append(lats, e.took)
		res.Requests++
		if e.status/100 == 2 {
			res.OK++
			res.Samples += e.n
		}
	}
	for _, rec := range recs {
		res.BytesSent += rec.bytes
	}
	res.ElapsedS = end.Seconds()
	if res.ElapsedS > 0 {
		res.Rate = float64(res.Samples) / res.ElapsedS
		res.MBps = float64(res.BytesSent) / 1e6 / res.ElapsedS
	}
	res.ClientCPUS = (selfCPU() - cpu0).Seconds()
	res.Timeline = timeline(events, o.Step, func(s int) bool { return s/100 == 2 })
	res.Latency = summarize(lats)
	if len(errs) == 0 {
		res.Errors, res.ErrorSample = nil, nil
	}
	return res, ctx.Err()
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "bench: "+format+"\n", args...)
	}
}

// WriteTable writes the result as a human table.
func (r *IngestResult) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "ingest %s %s → %s%s\n", r.Target, r.Format, r.URL, r.Path)
	fmt.Fprintf(w, "  dataset      %d objects × %d points = %d samples, batch %d, %d connections\n", r.Objects, r.Points, r.Planned, r.Batch, r.Concurrency)
	if r.TargetRate > 0 {
		fmt.Fprintf(w, "  paced        at %s samples/s\n", human(r.TargetRate))
	}
	fmt.Fprintf(w, "  accepted     %d samples in %d/%d requests, %.2f s (prepare %.2f s)\n", r.Samples, r.OK, r.Requests, r.ElapsedS, r.PrepareS)
	fmt.Fprintf(w, "  throughput   %s samples/s, %.1f MB/s sent (%d bytes), generator CPU %.2f s\n", human(r.Rate), r.MBps, r.BytesSent, r.ClientCPUS)
	fmt.Fprintf(w, "  latency ms   p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (mean %.2f)\n", r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max, r.Latency.Mean)
	if len(r.Errors) > 0 {
		keys := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  errors %-6s %d  e.g. %s\n", k, r.Errors[k], r.ErrorSample[k])
		}
	} else {
		fmt.Fprintf(w, "  errors       none\n")
	}
}

// human prints a rate with a k/M suffix.
func human(x float64) string {
	switch {
	case x >= 1e6:
		return strconv.FormatFloat(x/1e6, 'f', 2, 64) + " M"
	case x >= 1e3:
		return strconv.FormatFloat(x/1e3, 'f', 1, 64) + " k"
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

// selfCPU is the user + system CPU this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
