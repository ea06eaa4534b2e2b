package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/acl"
	"github.com/tsgate/tsgate/aggregate"
	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/catalog"
	"github.com/tsgate/tsgate/tsdb"
)

// Options configures the write endpoints. The zero value works.
type Options struct {
	// MaxMeasures bounds the measures (or lines) of one request; 0 means 100 000 (API.md §3.1).
	MaxMeasures int
	// MaxBodyBytes bounds a request body, after gzip decompression; 0 means 32 MiB.
	MaxBodyBytes int
	// BackpressureWait is how long a write waits for head room before answering 429; 0 means 2 s.
	BackpressureWait time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil discards.
	Logger *slog.Logger
	// Metrics receives the ingest metrics; nil creates a private set.
	Metrics *metrics.Set
	// Appender makes a batch durable (and updates what derives from it, e.g. rollups); nil
	// means the DB's own Append.
	Appender Appender
}

// Appender is tsdb.DB.Append's shape: aggregate.Rollups wraps it to keep rollups exact.
type Appender interface {
	Append(ctx context.Context, b *tsdb.Batch, dup tsdb.Duplicates) error
}

// Handler serves POST /objects/values (and its deprecated twins), POST /write,
// POST /api/v2/write and /ping.
type Handler struct {
	opts    Options
	acl     *acl.ACL
	db      *tsdb.DB
	objects objectTable
	keep    retentions

	requests, measuresOK, bytesIn *metrics.Counter
	rejected                      map[string]*metrics.Counter
	// latency is a whole request's duration, appendLatency the part spent in the Appender
	// (storage, rollups, fsync wait, backpressure): the difference is ingest's own share.
	latency, appendLatency *metrics.Histogram
}

// Mount registers the write endpoints into s.
func Mount(s *api.Server, d api.Deps, opts Options) *Handler {
	if opts.MaxMeasures <= 0 {
		opts.MaxMeasures = 100_000
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 32 << 20
	}
	if opts.BackpressureWait <= 0 {
		opts.BackpressureWait = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.NewSet()
	}
	if opts.Appender == nil {
		opts.Appender = d.DB
	}
	m := opts.Metrics
	h := &Handler{opts: opts, acl: d.ACL, db: d.DB, objects: objectTable{cat: d.Catalog}, keep: retentions{acl: d.ACL},
		requests:      m.NewCounter("tsgate_ingest_requests_total"),
		measuresOK:    m.NewCounter("tsgate_ingest_measures_accepted_total"),
		bytesIn:       m.NewCounter("tsgate_ingest_bytes_total"),
		latency:       m.NewHistogram("tsgate_ingest_request_duration_seconds"),
		appendLatency: m.NewHistogram("tsgate_ingest_append_duration_seconds"),
		rejected:      map[string]*metrics.Counter{},
	}
	for _, reason := range []string{"syntax", "validation", "future", "token", "disabled", "type", "duplicate", "forbidden", "range", "too_large", "backpressure", "internal"} {
		h.rejected[reason] = m.NewCounter(`tsgate_ingest_requests_rejected_total{reason="` + reason + `"}`)
	}
	r := s.Router()
	r.Handle(api.Route{Method: "POST", Path: "/objects/values", Access: api.Public, JSONBody: true,
		Summary: "write measures authorized by object tokens (all or nothing, durable on 2xx)"}, h.objectValues)
	r.Handle(api.Route{Method: "POST", Path: "/input/measures", Access: api.Public, JSONBody: true,
		Summary: "deprecated: write one measure"}, h.inputMeasure)
	r.Handle(api.Route{Method: "POST", Path: "/input/measures/bulk", Access: api.Public, JSONBody: true,
		Summary: "deprecated twin of POST /objects/values"}, h.objectValues)
	for _, p := range []struct {
		path string
		v2   bool
	}{{"/write", false}, {"/api/v2/write", true}} {
		v2 := p.v2
		r.Handle(api.Route{Method: "POST", Path: p.path, Access: api.Write, Scope: "use:data:write", QueryCredentials: true, RestrictedOK: true,
			Summary: "write Influx line protocol with a writable apikey (durable on 204)"},
			func(ctx *fasthttp.RequestCtx) { h.lineProtocol(ctx, v2) })
	}
	ping := func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.Set("X-Influxdb-Version", "1.8.10-tsgate")
		ctx.Response.Header.Set("X-Influxdb-Build", "OSS")
		ctx.SetStatusCode(fasthttp.StatusNoContent)
	}
	r.Handle(api.Route{Method: "GET", Path: "/ping", Access: api.Public, Summary: "Influx clients' liveness probe"}, ping)
	r.Handle(api.Route{Method: "HEAD", Path: "/ping", Access: api.Public, Summary: "Influx clients' liveness probe"}, ping)
	return h
}

func (h *Handler) reject(ctx *fasthttp.RequestCtx, reason string, err error) {
	h.rejected[reason].Inc()
	api.WriteError(ctx, err)
}

// body returns the request body, gunzipped when Content-Encoding is gzip, bounded by
// MaxBodyBytes (413 beyond, counted while decompressing).
func (h *Handler) body(ctx *fasthttp.RequestCtx, buf *bytes.Buffer) ([]byte, error) {
	raw := ctx.Request.Body()
	h.bytesIn.Add(len(raw))
	enc := ctx.Request.Header.Peek("Content-Encoding")
	if len(enc) == 0 || bytes.EqualFold(enc, []byte("identity")) {
		return raw, nil
	}
	if !bytes.EqualFold(enc, []byte("gzip")) {
		return nil, api.Errorf(fasthttp.StatusUnsupportedMediaType, api.ExcMediaTypeUnsupported, "Content-Encoding '%s' not supported (gzip or none)", enc)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, api.Errorf(fasthttp.StatusBadRequest, api.ExcNotReadable, "bad gzip body: %v", err)
	}
	defer zr.Close()
	buf.Reset()
	n, err := io.Copy(buf, io.LimitReader(zr, int64(h.opts.MaxBodyBytes)+1))
	if err != nil {
		return nil, api.Errorf(fasthttp.StatusBadRequest, api.ExcNotReadable, "bad gzip body: %v", err)
	}
	if n > int64(h.opts.MaxBodyBytes) {
		return nil, api.Errorf(fasthttp.StatusRequestEntityTooLarge, api.ExcPayloadTooLarge,
			"decompressed body larger than %d bytes", h.opts.MaxBodyBytes)
	}
	return buf.Bytes(), nil
}

// bytesBuffer is the pooled gunzip buffer.
type bytesBuffer = bytes.Buffer

var gunzipBufs = sync.Pool{New: func() any { return new(bytesBuffer) }}

// duplicatesParam reads ?duplicates=reject|overwrite.
func duplicatesParam(ctx *fasthttp.RequestCtx, def tsdb.Duplicates) (tsdb.Duplicates, error) {
	v := ctx.QueryArgs().Peek("duplicates")
	switch string(v) {
	case "":
		return def, nil
	case "reject":
		return tsdb.Reject, nil
	case "overwrite":
		return tsdb.Overwrite, nil
	}
	return 0, api.WrongParams("duplicates must be reject or overwrite, not '%s'", v)
}

// appendDurable appends b and maps tsdb's errors; waits at most BackpressureWait for head room.
func (h *Handler) appendDurable(ctx *fasthttp.RequestCtx, b *tsdb.Batch, dup tsdb.Duplicates) error {
	t0 := time.Now()
	c, cancel := context.WithTimeout(context.Background(), h.opts.BackpressureWait)
	err := h.opts.Appender.Append(c, b, dup)
	cancel()
	h.appendLatency.UpdateDuration(t0)
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		h.rejected["backpressure"].Inc()
		return &api.Error{Status: fasthttp.StatusTooManyRequests, Exception: api.ExcTooManyRequests,
			Details: "the store is flushing; retry shortly", RetryAfter: 1}
	}
	if errors.Is(err, tsdb.ErrClosed) || errors.Is(err, aggregate.ErrClosed) {
		return api.Errorf(fasthttp.StatusServiceUnavailable, api.ExcServiceUnavailable, "the server is shutting down")
	}
	return err
}

func formatMS(ms int64) string {
	return string(api.AppendDateTime(nil, ms))
}

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// kindOf maps a catalog type to the BBData value kind.
func kindOf(t catalog.Type) api.ValueKind {
	switch t {
	case catalog.TypeFloat:
		return api.ValueFloat
	case catalog.TypeInt:
		return api.ValueInt
	case catalog.TypeBool:
		return api.ValueBool
	}
	return api.ValueString
}
