package query

import (
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/acl"
	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/catalog"
	"github.com/tsgate/tsgate/tsdb"
)

// Options configures the read endpoints. The zero value works.
type Options struct {
	// MaxQueryPoints caps the rows one request to /query, values or aggregated may return
	// (API.md §3.6); 0 means unlimited, as in the original.
	MaxQueryPoints int64
	// Rollups serves rollup rows; nil computes them from raw values on read (RawRollups).
	Rollups Rollups
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil discards.
	Logger *slog.Logger
	// Metrics receives the query metrics; nil creates a private set.
	Metrics *metrics.Set
}

// Handler serves the read endpoints: values, latest, aggregated and stats of one object,
// their public twins, and the multi-object /query.
type Handler struct {
	opts    Options
	acl     *acl.ACL
	cat     *catalog.Catalog
	db      *tsdb.DB
	rollups Rollups
	log     *slog.Logger

	rows, streams, aborted *metrics.Counter
}

// Mount registers the read endpoints into s.
func Mount(s *api.Server, d api.Deps, opts Options) *Handler {
	if opts.Now == nil {
		opts.Now = d.Now
		if opts.Now == nil {
			opts.Now = time.Now
		}
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.NewSet()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := &Handler{opts: opts, acl: d.ACL, cat: d.Catalog, db: d.DB, rollups: opts.Rollups, log: opts.Logger,
		rows:    opts.Metrics.NewCounter("tsgate_query_rows_total"),
		streams: opts.Metrics.NewCounter("tsgate_query_streams_total"),
		aborted: opts.Metrics.NewCounter("tsgate_query_streams_aborted_total"),
	}
	if h.rollups == nil {
		h.rollups = RawRollups{DB: d.DB}
	}
	r := s.Router()
	r.Handle(api.Route{Method: "GET", Path: "/objects/{id}/values", Access: api.Read, Scope: "read:data",
		Summary: "raw values in [from, to], ascending (JSON or CSV)"}, h.values)
	r.Handle(api.Route{Method: "GET", Path: "/objects/{id}/values/latest", Access: api.Read, Scope: "read:data",
		Summary: "the latest value at or before `before` (JSON or CSV)"}, h.latest)
	r.Handle(api.Route{Method: "GET", Path: "/objects/{id}/values/aggregated", Access: api.Read, Scope: "read:data",
		Summary: "rollup rows (quarters, hours, days) whose window starts in [from, to] (JSON or CSV)"}, h.aggregated)
	r.Handle(api.Route{Method: "GET", Path: "/objects/{id}/stats", Access: api.Read, Scope: "read:data",
		Summary: "read and write counters of an object"}, h.stats)
	r.Handle(api.Route{Method: "GET", Path: "/public/objects/{id}/values", Access: api.Public,
		Summary: "raw values of a public object whose values are public"}, h.publicValues)
	r.Handle(api.Route{Method: "GET", Path: "/public/objects/{id}/values/latest", Access: api.Public,
		Summary: "latest value of a public object whose values are public"}, h.publicLatest)
	r.Handle(api.Route{Method: "GET", Path: "/public/objects/{id}/values/aggregated", Access: api.Public,
		Summary: "rollup rows of a public object whose values are public"}, h.publicAggregated)
	r.Handle(api.Route{Method: "POST", Path: "/query", Access: api.Read, Scope: "read:data", QueryCredentials: true,
		Summary: "rows of many objects in one stream (JSON body), or an Influx client's statement (form with q)"}, h.query)
	r.Handle(api.Route{Method: "GET", Path: "/query", Access: api.Read, Scope: "read:data", QueryCredentials: true,
		Summary: "rows of many objects in one stream (query parameters), or an Influx client's statement (q)"}, h.query)
	return h
}

// keyView returns the caller's key view (built per request; never kept).
func (h *Handler) keyView(ctx *fasthttp.RequestCtx) (*acl.KeyView, error) {
	kv, err := h.acl.KeyView(api.CallerIdentity(ctx).Key)
	if err != nil {
		return nil, api.FromDomain(err, "apikey")
	}
	return kv, nil
}

// target is one object a request reads: its id, value type and the windows its values are
// clipped to (nil: not clipped).
type target struct {
	id      uint32
	typ     tsdb.ValueType
	windows []acl.Window
}

func (t *target) numeric() bool { return t.typ == tsdb.Float || t.typ == tsdb.Int }

// readable resolves object id for the caller: 404 when it may not read it or it has no series.
func (h *Handler) readable(kv *acl.KeyView, id uint32) (target, error) {
	if id == 0 || !kv.CanRead(id) {
		return target{}, api.NotFound("object")
	}
	typ, err := h.db.SeriesType(id)
	if err != nil {
		if errors.Is(err, tsdb.ErrUnknownSeries) {
			return target{}, api.NotFound("object")
		}
		return target{}, err
	}
	return target{id: id, typ: typ, windows: kv.Windows(id)}, nil
}

// publicTarget resolves object id for an anonymous reader: the object must be public with its
// values public (API.md §3.3), else 404.
func (h *Handler) publicTarget(ctx *fasthttp.RequestCtx) (target, error) {
	id, err := api.IDParam(ctx, "id")
	if err != nil {
		return target{}, err
	}
	if id == 0 || !h.acl.View(acl.AnonymousPrincipal).CanRead(id) {
		return target{}, api.NotFound("object")
	}
	o, err := h.cat.Object(id)
	if err != nil || !o.PublicField("values") {
		return target{}, api.NotFound("object")
	}
	typ, err := h.db.SeriesType(id)
	if err != nil {
		return target{}, api.NotFound("object")
	}
	return target{id: id, typ: typ}, nil
}

// nowMS is the clock in Unix milliseconds.
func (h *Handler) nowMS() int64 { return h.opts.Now().UnixMilli() }

// countRead adds one read to object id (bbdata-v2.md §4.5); a failure is logged, never
// surfaced: the values were served.
func (h *Handler) countRead(id uint32) {
	if err := h.db.AddReads(id, 1); err != nil && !errors.Is(err, tsdb.ErrUnknownSeries) {
		h.log.Warn("cannot count a read", "object", id, "err", err)
	}
}
