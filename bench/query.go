package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/bench/dataset"
)

// Query kinds.
const (
	KindRaw        = "raw"        // GET /objects/{id}/values?from&to
	KindLatest     = "latest"     // GET /objects/{id}/values/latest
	KindAggregated = "aggregated" // GET /objects/{id}/values/aggregated?from&to&granularity=hours
	KindMulti      = "multi"      // POST /query {"objects":[…],"from","to","granularity":"raw"}
)

// AllKinds are the query kinds in the order they are reported.
var AllKinds = []string{KindRaw, KindLatest, KindAggregated, KindMulti}

// ErrNoQueryEndpoint reports a query endpoint that answered 404 Not Found for an object the
// bench created and filled: the server does not serve it (yet).
var ErrNoQueryEndpoint = errors.New("bench: query endpoint not served")

// QueryOptions configures a query run over objects that hold the standard dataset.
type QueryOptions struct {
	URL         string        // base URL; "" = http://127.0.0.1:8080
	API         *APIClient    // logged-in client whose key reads the objects (bbuser/bbtoken)
	IDs         []uint32      // object id of dataset object o (its points are stored)
	Points      int           // points per object stored (one a minute from Start)
	Start       time.Time     // time of point 0; zero = dataset.DefaultStart
	Kinds       []string      // nil = AllKinds; requests rotate through them
	Concurrency int           // connections; 0 = 8
	Duration    time.Duration // run length; 0 = 10 s (always bounded)
	Requests    int           // stop after this many requests as well; 0 = no count limit
	Window      time.Duration // raw and multi query span; 0 = 1 h
	Multi       int           // objects per multi-object query; 0 = 10
	Seed        int64         // query choice seed; 0 = 1
	Timeout     time.Duration // per request; 0 = 60 s
	Step        time.Duration // timeline interval; 0 = 1 s
	Progress    io.Writer     // live progress bar; nil = quiet
}

// KindResult is the outcome of one query kind.
type KindResult struct {
	Kind     string         `json:"kind"`
	Requests int            `json:"requests"`
	OK       int            `json:"requestsOK"`
	Rows     int64          `json:"rows"`
	RowsPerS float64        `json:"rowsPerS"`
	ReqPerS  float64        `json:"requestsPerS"`
	Latency  Latency        `json:"latency"`
	Errors   map[string]int `json:"errors,omitempty"`
}

// QueryResult is the outcome of a query run.
type QueryResult struct {
	Kind        string            `json:"kind"` // "query"
	URL         string            `json:"url"`
	Objects     int               `json:"objects"`
	Points      int               `json:"points"`
	Concurrency int               `json:"concurrency"`
	Started     time.Time         `json:"started"`
	ElapsedS    float64           `json:"elapsedS"`
	Requests    int               `json:"requests"`
	Rows        int64             `json:"rows"`
	RowsPerS    float64           `json:"rowsPerS"`
	Latency     Latency           `json:"latency"`
	Kinds       []KindResult      `json:"kinds"`
	ErrorSample map[string]string `json:"errorSample,omitempty"`
	Timeline    []TimePoint       `json:"timeline,omitempty"`
}

func (o *QueryOptions) defaults() {
	if o.URL == "" {
		o.URL = "http://127.0.0.1:8080"
	}
	o.URL = strings.TrimRight(o.URL, "/")
	if len(o.Kinds) == 0 {
		o.Kinds = AllKinds
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Window <= 0 {
		o.Window = time.Hour
	}
	if o.Multi <= 0 {
		o.Multi = 10
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	if o.Step <= 0 {
		o.Step = time.Second
	}
	if o.Start.IsZero() {
		o.Start = dataset.DefaultStart
	}
	if o.Points <= 0 {
		o.Points = 1
	}
}

// queryGen draws the requests of one connection.
type queryGen struct {
	o    *QueryOptions
	rnd  *rand.Rand
	buf  []byte
	auth func(*fasthttp.Request)
}

const isoMs = "2006-01-02T15:04:05.000Z"

// next fills req with request number i (its kind is Kinds[i % len]) and returns the kind index.
func (g *queryGen) next(req *fasthttp.Request, i int) int {
	o := g.o
	k := i % len(o.Kinds)
	id := o.IDs[g.rnd.Intn(len(o.IDs))]
	span := time.Duration(o.Points) * time.Minute
	from := o.Start
	if span > o.Window {
		from = o.Start.Add(time.Duration(g.rnd.Int63n(int64(span - o.Window))))
	}
	to := from.Add(o.Window)
	// A full reset: a GET after a POST on the same request would otherwise keep the POST's
	// Content-Length header and the server would wait for a body that never comes.
	req.Reset()
	g.auth(req)
	req.Header.SetMethod("GET")
	b := append(g.buf[:0], o.URL...)
	switch o.Kinds[k] {
	case KindRaw:
		b = fmt.Appendf(b, "/objects/%d/values?from=%s&to=%s", id, from.Format(isoMs), to.Format(isoMs))
	case KindLatest:
		b = fmt.Appendf(b, "/objects/%d/values/latest", id)
	case KindAggregated:
		b = fmt.Appendf(b, "/objects/%d/values/aggregated?from=%s&to=%s&granularity=hours", id, o.Start.Format(isoMs), o.Start.Add(span).Format(isoMs))
	case KindMulti:
		b = append(b, "/query"...)
		body := append([]byte(nil), `{"objects":[`...)
		for j := 0; j < o.Multi; j++ {
			if j > 0 {
				body = append(body, ',')
			}
			body = strconv.AppendUint(body, uint64(o.IDs[g.rnd.Intn(len(o.IDs))]), 10)
		}
		body = fmt.Appendf(body, `],"from":%q,"to":%q,"granularity":"raw"}`, from.Format(isoMs), to.Format(isoMs))
		req.Header.SetMethod("POST")
		req.Header.SetContentType("application/json")
		req.SetBody(body)
	}
	g.buf = b
	req.SetRequestURIBytes(b)
	return k
}

// kindPath names a kind's endpoint in messages.
func kindPath(kind string) string {
	return map[string]string{
		KindRaw:        "GET /objects/{id}/values",
		KindLatest:     "GET /objects/{id}/values/latest",
		KindAggregated: "GET /objects/{id}/values/aggregated",
		KindMulti:      "POST /query",
	}[kind]
}

// countRows counts the rows of a JSON answer: one "objectId" key per row.
func countRows(body []byte) int64 { return int64(bytes.Count(body, []byte(`"objectId"`))) }

// RunQueries probes each kind once (a 404 Not Found is ErrNoQueryEndpoint, naming the
// endpoint), then sends queries over Concurrency connections until Duration has passed,
// Requests were sent or ctx is done.
func RunQueries(ctx context.Context, o QueryOptions) (*QueryResult, error) {
	o.defaults()
	for _, k := range o.Kinds {
		if kindPath(k) == "" {
			return nil, fmt.Errorf("bench: unknown query kind %q: want %s", k, strings.Join(AllKinds, ", "))
		}
	}
	if len(o.IDs) == 0 || o.API == nil {
		return nil, fmt.Errorf("bench: a query run needs objects and a logged-in client")
	}
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("bench: bad URL %q", o.URL)
	}
	hc := &fasthttp.HostClient{
		Addr: u.Host, IsTLS: u.Scheme == "https", MaxConns: o.Concurrency,
		ReadTimeout: o.Timeout, WriteTimeout: o.Timeout, MaxIdemponentCallAttempts: 1, NoDefaultUserAgentHeader: true,
	}
	defer hc.CloseIdleConnections()
	setAuth := func(req *fasthttp.Request) {
		req.Header.Set("bbuser", strconv.FormatUint(uint64(o.API.User), 10))
		req.Header.Set("bbtoken", o.API.Secret)
		req.Header.Set("Accept", "application/json")
	}

	// Probe: one request of each kind, so a missing endpoint is one clear error.
	{
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		g := queryGen{o: &o, rnd: rand.New(rand.NewSource(o.Seed)), auth: setAuth}
		var missing []string
		for i := range o.Kinds {
			g.next(req, i)
			if err := hc.DoTimeout(req, resp, o.Timeout); err != nil {
				return nil, fmt.Errorf("bench: %s: %w", kindPath(o.Kinds[i]), err)
			}
			if resp.StatusCode() == fasthttp.StatusNotFound {
				missing = append(missing, kindPath(o.Kinds[i]))
			}
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		if len(missing) > 0 {
			return nil, fmt.Errorf("%w: %s answered 404 Not Found for objects the bench created and filled; this server does not serve them (yet) — leave them out with --kinds",
				ErrNoQueryEndpoint, strings.Join(missing, ", "))
		}
	}

	var bar interface{ Add(int) error }
	if o.Progress != nil {
		bar = newTimeBar(o.Progress, "query", o.Duration)
	}
	type kindRec struct {
		recorder
		errs map[string]int
	}
	var (
		sent    atomic.Int64
		wg      sync.WaitGroup
		mu      sync.Mutex
		samples = map[string]string{}
		recs    = make([][]kindRec, o.Concurrency)
	)
	start := time.Now()
	deadline := start.Add(o.Duration)
	for w := 0; w < o.Concurrency; w++ {
		recs[w] = make([]kindRec, len(o.Kinds))
		for k := range recs[w] {
			recs[w][k].errs = map[string]int{}
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			g := queryGen{o: &o, rnd: rand.New(rand.NewSource(o.Seed + int64(w) + 1)), auth: setAuth}
			for i := w; ; i += o.Concurrency {
				n := sent.Add(1)
				if ctx.Err() != nil || time.Now().After(deadline) || (o.Requests > 0 && n > int64(o.Requests)) {
					return
				}
				k := g.next(req, i)
				t0 := time.Now()
				err := hc.DoTimeout(req, resp, o.Timeout)
				took := time.Since(t0)
				status, rows := resp.StatusCode(), int64(0)
				if err != nil {
					status = 0
				} else if status/100 == 2 {
					rows = countRows(resp.Body())
				}
				r := &recs[w][k]
				r.add(t0.Sub(start), took, status, rows)
				if status/100 != 2 {
					key := "transport"
					detail := ""
					if err != nil {
						detail = err.Error()
					} else {
						key, detail = strconv.Itoa(status), string(resp.Body())
					}
					r.errs[key]++
					mu.Lock()
					if _, ok := samples[key]; !ok {
						samples[key] = truncate(detail, 300)
					}
					mu.Unlock()
				}
				if bar != nil {
					_ = bar.Add(1)
				}
				resp.Reset()
			}
		}(w)
	}
	wg.Wait()
	if f, ok := bar.(interface{ Finish() error }); ok {
		_ = f.Finish()
	}

	res := &QueryResult{Kind: "query", URL: o.URL, Objects: len(o.IDs), Points: o.Points, Concurrency: o.Concurrency, Started: start.UTC(), ErrorSample: samples}
	var all []event
	var allLat []time.Duration
	for k, kind := range o.Kinds {
		kr := KindResult{Kind: kind, Errors: map[string]int{}}
		var lats []time.Duration
		for w := range recs {
			r := &recs[w][k]
			for _, e := range r.events {
				kr.Requests++
				lats = append(lats, e.took)
				if e.status/100 == 2 {
					kr.OK++
					kr.Rows += e.n
				}
			}
			for s, n := range r.errs {
				kr.Errors[s] += n
			}
			all = append(all, r.events...)
		}
		allLat = append(allLat, lats...)
		kr.Latency = summarize(lats)
		if len(kr.Errors) == 0 {
			kr.Errors = nil
		}
		res.Kinds = append(res.Kinds, kr)
		res.Requests += kr.Requests
		res.Rows += kr.Rows
	}
	var end time.Duration
	for _, e := range all {
		end = max(end, e.start+e.took)
	}
	res.ElapsedS = end.Seconds()
	if res.ElapsedS > 0 {
		res.RowsPerS = float64(res.Rows) / res.ElapsedS
		for i := range res.Kinds {
			res.Kinds[i].RowsPerS = float64(res.Kinds[i].Rows) / res.ElapsedS
			res.Kinds[i].ReqPerS = float64(res.Kinds[i].Requests) / res.ElapsedS
		}
	}
	res.Latency = summarize(allLat)
	res.Timeline = timeline(all, o.Step, func(s int) bool { return s/100 == 2 })
	if len(samples) == 0 {
		res.ErrorSample = nil
	}
	return res, ctx.Err()
}

// WriteTable writes the result as a human table.
func (r *QueryResult) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "queries → %s: %d objects × %d points, %d connections, %.2f s, %d requests, %s rows/s\n",
		r.URL, r.Objects, r.Points, r.Concurrency, r.ElapsedS, r.Requests, human(r.RowsPerS))
	fmt.Fprintf(w, "  %-11s %9s %11s %10s %9s %8s %8s %8s %8s  %s\n", "kind", "requests", "rows", "rows/s", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors")
	for _, k := range r.Kinds {
		fmt.Fprintf(w, "  %-11s %9d %11d %10.0f %9.1f %8.2f %8.2f %8.2f %8.2f  %s\n",
			k.Kind, k.Requests, k.Rows, k.RowsPerS, k.ReqPerS, k.Latency.P50, k.Latency.P90, k.Latency.P99, k.Latency.Max, errString(k.Errors))
	}
	for _, k := range sortedKeys(r.ErrorSample) {
		fmt.Fprintf(w, "  e.g. %s: %s\n", k, r.ErrorSample[k])
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
