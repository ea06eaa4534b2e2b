package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tsgate/tsgate/bench"
)

const benchUsage = `Usage:
  tsgate bench ingest [flags]   post the standard dataset (DESIGN.md §8), report samples/s and latency
  tsgate bench query [flags]    raw, latest, aggregated and multi-object queries at a concurrency
  tsgate bench mixed [flags]    ingest and queries at once, reporting both
  tsgate bench compare [flags]  tsgate, VictoriaMetrics and InfluxDB side by side (bench/compare.sh)

Run 'tsgate bench <command> -h' for its flags; each falls back to TSGATE_BENCH_<NAME>.
Every run is bounded by its points or --duration and talks to the given URL only.
`

// cmdBench runs `tsgate bench …`: the load benchmark of package bench, an HTTP client of tsgate.
func cmdBench(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, benchUsage)
		return errUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "ingest":
		return benchIngest(ctx, args[1:], stdout, stderr)
	case "query":
		return benchQuery(ctx, args[1:], stdout, stderr)
	case "mixed":
		return benchMixed(ctx, args[1:], stdout, stderr)
	case "compare":
		return benchCompare(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, benchUsage)
		return nil
	}
	fmt.Fprintf(stderr, "tsgate: unknown bench command %q\n%s", args[0], benchUsage)
	return errUsage
}

// ingestFlags are the flags of the ingest generator, shared by ingest and mixed.
type ingestFlags struct {
	url, target, format, user, password string
	objects, points, batch, concurrency int
	seed                                int64
	duration, timeout                   time.Duration
	echo                                bool
	rate                                float64
}

func addIngestFlags(fs *flag.FlagSet, f *ingestFlags, prefix string) {
	fs.StringVar(&f.format, prefix+"format", "line", "line (POST /write?precision=ms) or json (POST /objects/values?response=count)")
	fs.IntVar(&f.objects, "objects", 1000, "dataset objects, created through the API")
	fs.IntVar(&f.points, "points", 1000, "points per object: the run sends objects × points samples at most")
	fs.IntVar(&f.batch, prefix+"batch", 5000, "samples per request")
	fs.IntVar(&f.concurrency, prefix+"concurrency", 8, "ingest connections, one request in flight on each")
	fs.Int64Var(&f.seed, "seed", 42, "dataset seed")
	fs.Float64Var(&f.rate, prefix+"rate", 0, "pace the ingest at this many samples/s (0 = as fast as it goes)")
	fs.BoolVar(&f.echo, prefix+"echo", false, "json: ask for the echoed measures instead of ?response=count")
}

func addCommonFlags(fs *flag.FlagSet, f *ingestFlags, c *commonFlags) {
	fs.StringVar(&f.url, "url", "http://127.0.0.1:8080", "base URL of the server")
	fs.StringVar(&f.user, "user", "admin", "tsgate user to log in as (it creates the bench's objects)")
	fs.StringVar(&f.password, "password", "", "its password (env TSGATE_BENCH_PASSWORD, else TSGATE_ADMIN_PASSWORD)")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long (0 = when every point is sent)")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "per request")
	fs.BoolVar(&c.json, "json", false, "print the result as JSON")
	fs.StringVar(&c.report, "report", "", "write a markdown report and charts (SVG) into this directory")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress bar even on a terminal")
}

type commonFlags struct {
	json, quiet bool
	report      string
}

func (f *ingestFlags) options(stderr io.Writer, c *commonFlags) (bench.IngestOptions, error) {
	format, err := bench.ParseFormat(f.format)
	if err != nil {
		return bench.IngestOptions{}, err
	}
	target, err := bench.ParseTarget(f.target)
	if err != nil {
		return bench.IngestOptions{}, err
	}
	pw := f.password
	if pw == "" {
		pw = os.Getenv("TSGATE_ADMIN_PASSWORD")
	}
	o := bench.IngestOptions{
		URL: f.url, Target: target, Format: format, Objects: f.objects, Points: f.points, Seed: f.seed,
		Batch: f.batch, Concurrency: f.concurrency, Duration: f.duration, Timeout: f.timeout,
		User: f.user, Password: pw, Echo: f.echo, Rate: f.rate,
	}
	if !c.json {
		o.Log = stderr
	}
	if !c.quiet && isTerminal(os.Stderr) {
		o.Progress = os.Stderr
	}
	return o, nil
}

func benchIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("bench ingest", stderr)
	var f ingestFlags
	var c commonFlags
	addIngestFlags(fs, &f, "")
	addCommonFlags(fs, &f, &c)
	fs.StringVar(&f.target, "target", "tsgate", "tsgate, victoriametrics or influxdb (line protocol, no setup)")
	var prof profileFlags
	prof.add(fs)
	if err := parseBenchFlags(fs, args); err != nil {
		return err
	}
	o, err := f.options(stderr, &c)
	if err != nil {
		return err
	}
	run, err := bench.PrepareIngest(ctx, o)
	if err != nil {
		return err
	}
	profDone := prof.start(ctx, f.url, f.duration, stderr)
	res, err := run.Run(ctx)
	if err != nil {
		return err
	}
	if err := <-profDone; err != nil {
		return err
	}
	if err := writeResult(stdout, c, res, res.WriteTable); err != nil {
		return err
	}
	if c.report != "" {
		if err := bench.WriteReport(c.report, bench.Report{Ingest: res}); err != nil {
			return err
		}
	}
	if res.OK == 0 {
		return fmt.Errorf("bench: no request succeeded (%v)", res.Errors)
	}
	return nil
}

func writeResult(w io.Writer, c commonFlags, v any, table func(io.Writer)) error {
	if c.json {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(v)
	}
	table(w)
	return nil
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func benchCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("bench compare", stderr)
	self, _ := os.Executable()
	var o bench.CompareOptions
	var systems string
	var asJSON, quiet bool
	fs.StringVar(&o.Tsgate, "tsgate", self, "tsgate binary to start")
	fs.StringVar(&o.VM, "vm", "victoria-metrics", "VictoriaMetrics binary (Debian package victoria-metrics)")
	fs.StringVar(&o.Influx, "influxd", "influxd", "InfluxDB 1.x server binary (Debian package influxdb)")
	fs.StringVar(&systems, "systems", "tsgate,victoriametrics,influxdb", "systems to run, in order")
	fs.StringVar(&o.Dir, "dir", "", "work directory for data and logs (default: a temp dir, removed after)")
	fs.IntVar(&o.Port, "port", 18480, "first 127.0.0.1 port; each system takes the next ten")
	fs.IntVar(&o.Objects, "objects", 10_000, "dataset objects")
	fs.IntVar(&o.Points, "points", 500, "points per object (objects × points samples per system)")
	fs.IntVar(&o.Batch, "batch", 5000, "samples per request")
	fs.IntVar(&o.Concurrency, "concurrency", 8, "connections")
	fs.BoolVar(&o.JSON, "bbdata-json", true, "also measure tsgate's BBData JSON ingest")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	fs.BoolVar(&quiet, "quiet", false, "no progress bar even on a terminal")
	if err := parseBenchFlags(fs, args); err != nil {
		return err
	}
	o.Systems = strings.Split(systems, ",")
	o.Log = stderr
	if !quiet && isTerminal(os.Stderr) {
		o.Progress = os.Stderr
	}
	res, err := bench.Compare(ctx, o)
	if res != nil {
		if werr := writeResult(stdout, commonFlags{json: asJSON}, res, res.WriteTable); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// queryFlags are the flags of the query generator, shared by query and mixed.
type queryFlags struct {
	kinds              string
	concurrency, multi int
	requests           int
	window             time.Duration
}

func addQueryFlags(fs *flag.FlagSet, q *queryFlags, prefix string) {
	fs.StringVar(&q.kinds, "kinds", strings.Join(bench.AllKinds, ","), "query kinds, rotated: raw, latest, aggregated, multi")
	fs.IntVar(&q.concurrency, prefix+"concurrency", 8, "query connections, one request in flight on each")
	fs.IntVar(&q.multi, "multi", 10, "objects per multi-object query (POST /query)")
	fs.IntVar(&q.requests, "requests", 0, "stop after this many queries as well (0 = duration only)")
	fs.DurationVar(&q.window, "window", time.Hour, "time span of raw and multi-object queries")
}

func (q *queryFlags) options(run *bench.IngestRun, points int, duration time.Duration) bench.QueryOptions {
	return bench.QueryOptions{
		URL: run.API().URL, API: run.API(), IDs: run.World().IDs, Points: points,
		Kinds: strings.Split(q.kinds, ","), Concurrency: q.concurrency, Duration: duration,
		Requests: q.requests, Window: q.window, Multi: q.multi,
	}
}

// benchQuery sets up and preloads the dataset (line protocol, not measured), then queries it.
func benchQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("bench query", stderr)
	var f ingestFlags
	var q queryFlags
	var c commonFlags
	addIngestFlags(fs, &f, "ingest-")
	addCommonFlags(fs, &f, &c)
	addQueryFlags(fs, &q, "")
	if err := parseBenchFlags(fs, args); err != nil {
		return err
	}
	if f.duration <= 0 {
		f.duration = 10 * time.Second
	}
	o, err := f.options(stderr, &c)
	if err != nil {
		return err
	}
	o.Duration = 0 // the preload is bounded by its points
	run, err := bench.PrepareIngest(ctx, o)
	if err != nil {
		return err
	}
	if !c.json {
		fmt.Fprintf(stderr, "bench: preloading %d samples\n", run.Payload().Total)
	}
	pre, err := run.Run(ctx)
	if err != nil {
		return err
	}
	if pre.OK != pre.Requests {
		return fmt.Errorf("bench: preload failed: %d of %d requests ok (%v)", pre.OK, pre.Requests, pre.ErrorSample)
	}
	qo := q.options(run, f.points, f.duration)
	qo.Progress = o.Progress
	res, err := bench.RunQueries(ctx, qo)
	if err != nil {
		return err
	}
	if err := writeResult(stdout, c, res, res.WriteTable); err != nil {
		return err
	}
	if c.report != "" {
		return bench.WriteReport(c.report, bench.Report{Query: res})
	}
	return nil
}

// MixedResult is the outcome of `tsgate bench mixed`.
type mixedResult struct {
	Ingest *bench.IngestResult `json:"ingest"`
	Query  *bench.QueryResult  `json:"query"`
}

// benchMixed preloads the first half of the dataset's points, then ingests the second half
// while querying the first, and reports both.
func benchMixed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("bench mixed", stderr)
	var f ingestFlags
	var q queryFlags
	var c commonFlags
	addIngestFlags(fs, &f, "")
	addCommonFlags(fs, &f, &c)
	addQueryFlags(fs, &q, "query-")
	if err := parseBenchFlags(fs, args); err != nil {
		return err
	}
	o, err := f.options(stderr, &c)
	if err != nil {
		return err
	}
	o.Progress = nil // two runs at once: no bars
	run, err := bench.PrepareIngest(ctx, o)
	if err != nil {
		return err
	}
	half := len(run.Payload().Bodies) / 2
	if half == 0 {
		return fmt.Errorf("bench: mixed needs at least two requests' worth of samples (objects × points ≥ 2 × batch)")
	}
	pre, err := run.RunBodies(ctx, 0, half, nil)
	if err != nil {
		return err
	}
	if pre.OK != pre.Requests {
		return fmt.Errorf("bench: preload failed: %d of %d requests ok (%v)", pre.OK, pre.Requests, pre.ErrorSample)
	}
	preloaded := int(pre.Samples) / f.objects // whole points stored
	qctx, stopQueries := context.WithCancel(ctx)
	defer stopQueries()
	var (
		qres *bench.QueryResult
		qerr error
		done = make(chan struct{})
	)
	dur := f.duration
	if dur <= 0 {
		dur = time.Hour // bounded by the ingest, which stops the queries
	}
	go func() {
		defer close(done)
		qres, qerr = bench.RunQueries(qctx, q.options(run, preloaded, dur))
	}()
	ires, ierr := run.RunBodies(ctx, half, len(run.Payload().Bodies), nil)
	stopQueries()
	<-done
	if ierr != nil {
		return ierr
	}
	if qerr != nil && !errors.Is(qerr, context.Canceled) {
		return qerr
	}
	res := mixedResult{ires, qres}
	if err := writeResult(stdout, c, res, func(w io.Writer) { ires.WriteTable(w); qres.WriteTable(w) }); err != nil {
		return err
	}
	if c.report != "" {
		return bench.WriteReport(c.report, bench.Report{Title: "tsgate bench mixed", Ingest: ires, Query: qres})
	}
	return nil
}

// profileFlags take the server's CPU profile during a run (--cpuprofile), when it exposes
// /debug/pprof (bench/profserve does; tsgate serve does not).
type profileFlags struct {
	path, url string
	seconds   int
}

func (p *profileFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&p.path, "cpuprofile", "", "write the server's CPU profile during the run to this file (needs /debug/pprof: bench/profserve)")
	fs.StringVar(&p.url, "pprof-url", "", "base URL of the server's /debug/pprof (default --url)")
	fs.IntVar(&p.seconds, "profile-seconds", 0, "profile length (default: --duration, else 10 s); size the run to cover it")
}

// start begins fetching the profile in the background; the channel yields its error.
func (p *profileFlags) start(ctx context.Context, url string, d time.Duration, stderr io.Writer) <-chan error {
	done := make(chan error, 1)
	if p.path == "" {
		done <- nil
		return done
	}
	if p.url != "" {
		url = p.url
	}
	secs := p.seconds
	if secs <= 0 {
		secs = max(int(d.Seconds()), 0)
		if secs == 0 {
			secs = 10
		}
	}
	fmt.Fprintf(stderr, "bench: taking a %d s CPU profile from %s/debug/pprof into %s\n", secs, url, p.path)
	go func() { done <- bench.FetchCPUProfile(ctx, url, secs, p.path) }()
	return done
}

// parseBenchFlags parses like parseFlags, but the environment fallback of a bench flag is
// TSGATE_BENCH_<NAME>: bench flags have generic names (url, objects, password) that must not
// pick up the server's TSGATE_<NAME> variables.
func parseBenchFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "tsgate: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "TSGATE_BENCH_" + strings.TrimPrefix(envName(f.Name), "TSGATE_")
		if given[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("bad %s=%q: %v", name, v, e)
			}
		}
	})
	return err
}
