package query

import (
	"errors"
	"math"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/tsdb"
)

// dateParam reads an optional date-time query parameter (bbdata-v2.md §0.2); absent or
// empty gives ok=false; a bad one is 400 MethodArgumentTypeMismatchException.
func dateParam(ctx *fasthttp.RequestCtx, name string) (ms int64, ok bool, err error) {
	v := ctx.QueryArgs().Peek(name)
	if len(v) == 0 {
		return 0, false, nil
	}
	ms, err = api.ParseDateTime(v)
	if err != nil {
		return 0, false, api.Errorf(fasthttp.StatusBadRequest, api.ExcTypeMismatch,
			"Failed to convert value of type 'java.lang.String' to required type 'org.joda.time.DateTime' for parameter '%s'; %v", name, err)
	}
	return ms, true, nil
}

// missingParam is the 400 of a required query parameter that is absent.
func missingParam(typ, name string) error {
	return api.Errorf(fasthttp.StatusBadRequest, api.ExcMissingParam, "Required %s parameter '%s' is not present", typ, name)
}

// rangeParams reads from (required) and to (default now).
func (h *Handler) rangeParams(ctx *fasthttp.RequestCtx) (from, to int64, err error) {
	from, ok, err := dateParam(ctx, "from")
	if err != nil {
		return 0, 0, err
	}
	if !ok {
		return 0, 0, missingParam("DateTime", "from")
	}
	to, ok, err = dateParam(ctx, "to")
	if err != nil {
		return 0, 0, err
	}
	if !ok {
		to = h.nowMS()
	}
	return from, to, nil
}

// callerTarget resolves the authenticated request's object {id}: the id, then the read
// check (404 for what the key may not read).
func (h *Handler) callerTarget(ctx *fasthttp.RequestCtx) (target, error) {
	id, err := api.IDParam(ctx, "id")
	if err != nil {
		return target{}, err
	}
	kv, err := h.keyView(ctx)
	if err != nil {
		return target{}, err
	}
	return h.readable(kv, id)
}

func (h *Handler) values(ctx *fasthttp.RequestCtx) {
	h.valuesOf(ctx, h.callerTarget)
}

func (h *Handler) publicValues(ctx *fasthttp.RequestCtx) {
	h.valuesOf(ctx, h.publicTarget)
}

func (h *Handler) valuesOf(ctx *fasthttp.RequestCtx, resolve func(*fasthttp.RequestCtx) (target, error)) {
	f, err := negotiate(ctx)
	if err == nil {
		_, err = api.IDParam(ctx, "id")
	}
	var from, to int64
	if err == nil {
		from, to, err = h.rangeParams(ctx)
	}
	var t target
	if err == nil {
		t, err = resolve(ctx)
	}
	if err != nil {
		api.WriteError(ctx, err)
		return
	}
	spans := clip(max(from, tsdb.MinTimestamp), min(to, tsdb.MaxTimestamp), t.windows)
	if err := h.checkRawPoints(&t, spans, 0); err != nil {
		api.WriteError(ctx, err)
		return
	}
	h.countRead(t.id)
	e := &encoder{f: f}
	h.streamBody(ctx, f, func(o *out) error {
		e.begin(o)
		e.object(t.id)
		if err := h.writeRaw(o, e, &t, spans, 0); err != nil {
			return err
		}
		e.end(o)
		return nil
	})
}

// streamBody answers 200 with rows produced by produce while the client reads them.
func (h *Handler) streamBody(ctx *fasthttp.RequestCtx, f format, produce func(o *out) error) {
	h.streams.Inc()
	stream(ctx, f, &body{produce: produce, onDone: func(o *out) {
		h.rows.Add(int(o.rows))
		if o.err != nil {
			h.aborted.Inc()
		}
	}})
}

// writeRaw streams t's samples in spans; limit > 0 caps the rows written by e in total.
func (h *Handler) writeRaw(o *out, e *encoder, t *target, spans []span, limit int64) error {
	for _, sp := range spans {
		it, err := h.db.Scan(t.id, sp.from, sp.to)
		if err != nil {
			if errors.Is(err, tsdb.ErrUnknownSeries) {
				return nil
			}
			return err
		}
		for it.NextRun() {
			r := it.Run()
			n := r.Len()
			if limit > 0 {
				n = int(min(int64(n), limit-e.n))
			}
			if n <= 0 {
				break
			}
			ok := e.rawRun(o, r, n)
			o.rows += int64(n)
			if !ok {
				it.Close()
				return o.err
			}
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	return nil
}

// checkRawPoints enforces MaxQueryPoints for raw rows of t in spans (limit > 0: rows
// beyond it are not sent anyway), before the first byte.
func (h *Handler) checkRawPoints(t *target, spans []span, limit int64) error {
	maxp := h.opts.MaxQueryPoints
	if maxp <= 0 || (limit > 0 && limit <= maxp) {
		return nil
	}
	n, err := h.countRaw(t, spans, maxp+1)
	if err != nil {
		return err
	}
	if n > maxp {
		return tooManyPoints(maxp)
	}
	return nil
}

func tooManyPoints(maxp int64) error {
	return api.WrongParams("the query would return more than %d points (--max-query-points): narrow the range, select fewer objects, use a rollup granularity or a limit", maxp)
}

// countRaw counts t's samples in spans, stopping at stop: the stored count bounds it
// (returned when it is already below stop), else the timestamps are scanned.
func (h *Handler) countRaw(t *target, spans []span, stop int64) (int64, error) {
	st, err := h.db.Stats(t.id)
	if err != nil {
		if errors.Is(err, tsdb.ErrUnknownSeries) {
			return 0, nil
		}
		return 0, err
	}
	if int64(st.Count) < stop {
		return int64(st.Count), nil // an upper bound below the cap is enough
	}
	return h.scanCount(t, spans, stop)
}

// scanCount counts t's samples in spans exactly, stopping at stop.
func (h *Handler) scanCount(t *target, spans []span, stop int64) (int64, error) {
	var n int64
	for _, sp := range spans {
		it, err := h.db.Scan(t.id, sp.from, sp.to)
		if err != nil {
			if errors.Is(err, tsdb.ErrUnknownSeries) {
				return 0, nil
			}
			return 0, err
		}
		for n < stop && it.Next() {
			n++
		}
		if err := it.Close(); err != nil {
			return 0, err
		}
		if n >= stop {
			break
		}
	}
	return n, nil
}

func (h *Handler) latest(ctx *fasthttp.RequestCtx)       { h.latestOf(ctx, h.callerTarget) }
func (h *Handler) publicLatest(ctx *fasthttp.RequestCtx) { h.latestOf(ctx, h.publicTarget) }

func (h *Handler) latestOf(ctx *fasthttp.RequestCtx, resolve func(*fasthttp.RequestCtx) (target, error)) {
	f, err := negotiate(ctx)
	if err == nil {
		_, err = api.IDParam(ctx, "id")
	}
	var before int64
	if err == nil {
		var ok bool
		before, ok, err = dateParam(ctx, "before")
		if !ok {
			before = h.nowMS()
		}
	}
	var t target
	if err == nil {
		t, err = resolve(ctx)
	}
	var ts int64
	var found bool
	if err == nil {
		ts, found, err = h.latestTs(&t, before)
	}
	if err != nil {
		api.WriteError(ctx, err)
		return
	}
	h.countRead(t.id)
	e := &encoder{f: f}
	h.streamBody(ctx, f, func(o *out) error {
		e.begin(o)
		if found {
			e.object(t.id)
			if err := h.writeRaw(o, e, &t, []span{{ts, ts}}, 0); err != nil {
				return err
			}
		}
		e.end(o)
		return nil
	})
}

// latestTs finds t's greatest timestamp ≤ before inside its windows.
func (h *Handler) latestTs(t *target, before int64) (int64, bool, error) {
	spans := clip(tsdb.MinTimestamp, min(before, tsdb.MaxTimestamp), t.windows)
	for i := len(spans) - 1; i >= 0; i-- {
		smp, ok, err := h.db.Latest(t.id, spans[i].to)
		if err != nil {
			if errors.Is(err, tsdb.ErrUnknownSeries) {
				return 0, false, nil
			}
			return 0, false, err
		}
		if ok && smp.TS >= spans[i].from {
			return smp.TS, true, nil
		}
		if !ok {
			return 0, false, nil
		}
	}
	return 0, false, nil
}

func (h *Handler) aggregated(ctx *fasthttp.RequestCtx)       { h.aggregatedOf(ctx, h.callerTarget) }
func (h *Handler) publicAggregated(ctx *fasthttp.RequestCtx) { h.aggregatedOf(ctx, h.publicTarget) }

func (h *Handler) aggregatedOf(ctx *fasthttp.RequestCtx, resolve func(*fasthttp.RequestCtx) (target, error)) {
	f, err := negotiate(ctx)
	if err == nil {
		_, err = api.IDParam(ctx, "id")
	}
	var from, to int64
	if err == nil {
		from, to, err = h.rangeParams(ctx)
	}
	g := Hours
	if err == nil && ctx.QueryArgs().Has("granularity") {
		g, err = parseGranularity(string(ctx.QueryArgs().Peek("granularity")), false)
	}
	var t target
	if err == nil {
		t, err = resolve(ctx)
	}
	if err == nil && !t.numeric() {
		err = api.WrongParams("aggregated values exist only for numeric objects (float or int); object %d is of type %s", t.id, t.typ)
	}
	if err == nil {
		err = h.checkRowPoints(&t, g, from, to, 0)
	}
	if err != nil {
		api.WriteError(ctx, err)
		return
	}
	h.countRead(t.id)
	e := &encoder{f: f, agg: true, fields: fAll}
	h.streamBody(ctx, f, func(o *out) error {
		e.begin(o)
		e.object(t.id)
		if err := h.writeRows(o, e, h.rollups, &t, g, from, to, 0); err != nil {
			return err
		}
		e.end(o)
		return nil
	})
}

// writeRows streams t's rollup rows; limit > 0 caps the rows written by e in total.
func (h *Handler) writeRows(o *out, e *encoder, rollups Rollups, t *target, g Granularity, from, to int64, limit int64) error {
	isInt := t.typ == tsdb.Int
	var werr error
	err := clippedRows(rollups, h.db, t, g, from, to, func(r *Row) bool {
		if limit > 0 && e.n >= limit {
			return false
		}
		e.row(o, r, g, isInt)
		o.rows++
		if !o.maybeFlush() {
			werr = o.err
			return false
		}
		return true
	})
	if werr != nil {
		return werr
	}
	if errors.Is(err, tsdb.ErrUnknownSeries) {
		return nil
	}
	return err
}

// checkRowPoints enforces MaxQueryPoints for rollup rows: the number of windows bounds the
// rows; past the cap they are counted.
func (h *Handler) checkRowPoints(t *target, g Granularity, from, to int64, limit int64) error {
	maxp := h.opts.MaxQueryPoints
	if maxp <= 0 || (limit > 0 && limit <= maxp) || from > to {
		return nil
	}
	step := g.Millis()
	if windows := (alignDown(to, step)-alignUp(from, step))/step + 1; windows <= maxp {
		return nil
	}
	n, err := h.countRows(t, g, from, to, maxp+1)
	if err != nil {
		return err
	}
	if n > maxp {
		return tooManyPoints(maxp)
	}
	return nil
}

func (h *Handler) countRows(t *target, g Granularity, from, to int64, stop int64) (int64, error) {
	var n int64
	err := clippedRows(h.rollups, h.db, t, g, from, to, func(*Row) bool {
		n++
		return n < stop
	})
	if errors.Is(err, tsdb.ErrUnknownSeries) {
		err = nil
	}
	return n, err
}

func (h *Handler) stats(ctx *fasthttp.RequestCtx) {
	t, err := h.callerTarget(ctx)
	if err != nil {
		api.WriteError(ctx, err)
		return
	}
	st, err := h.statsOf(&t)
	if err != nil {
		api.WriteError(ctx, err)
		return
	}
	b := ctx.Response.Body()[:0]
	b = append(b, `{"objectId":`...)
	b = strconv.AppendUint(b, uint64(t.id), 10)
	b = append(b, `,"nReads":`...)
	b = strconv.AppendUint(b, st.NReads, 10)
	b = append(b, `,"nWrites":`...)
	b = strconv.AppendUint(b, st.NWrites, 10)
	b = append(b, `,"lastTs":`...)
	b = appendOptDate(b, st.LastTs, st.NWrites > 0)
	b = append(b, `,"avgSamplePeriod":`...)
	b = api.AppendValueFloat(b, st.AvgSamplePeriod)
	b = append(b, `,"count":`...)
	b = strconv.AppendUint(b, st.Count, 10)
	b = append(b, `,"firstTs":`...)
	b = appendOptDate(b, st.FirstTs, st.Count > 0)
	b = append(b, '}')
	api.WriteJSONBody(ctx, b)
}

func appendOptDate(b []byte, ms int64, ok bool) []byte {
	if !ok {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = api.AppendDateTime(b, ms)
	return append(b, '"')
}

// statsOf returns t's stats; for a clipped object they are computed from the clipped values
// (API.md §4): count, firstTs, lastTs, avgSamplePeriod = (last − first)/(count − 1),
// nWrites = count, nReads = 0.
func (h *Handler) statsOf(t *target) (tsdb.Stats, error) {
	if t.windows == nil {
		st, err := h.db.Stats(t.id)
		if errors.Is(err, tsdb.ErrUnknownSeries) {
			return tsdb.Stats{}, nil
		}
		return st, err
	}
	var st tsdb.Stats
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for _, sp := range clip(tsdb.MinTimestamp, tsdb.MaxTimestamp, t.windows) {
		it, err := h.db.Scan(t.id, sp.from, sp.to)
		if err != nil {
			if errors.Is(err, tsdb.ErrUnknownSeries) {
				return tsdb.Stats{}, nil
			}
			return tsdb.Stats{}, err
		}
		for it.Next() {
			ts := it.Timestamp()
			st.Count++
			first, last = min(first, ts), max(last, ts)
		}
		if err := it.Close(); err != nil {
			return tsdb.Stats{}, err
		}
	}
	st.NWrites = st.Count
	if st.Count > 0 {
		st.FirstTs, st.LastTs = first, last
	}
	if st.Count > 1 {
		st.AvgSamplePeriod = float64(last-first) / float64(st.Count-1)
	}
	return st, nil
}
