package ingest

import (
	"errors"
	"math"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/catalog"
	"github.com/tsgate/tsgate/tsdb"
)

// minTimestamp is the earliest accepted timestamp (2016-01-01T00:00:00Z), as for JSON.
const minTimestamp = 1451606400000

// lineProtocol serves POST /write (v1 precisions) and /api/v2/write (v2 precisions), API.md
// §3.2 and §4: parse every line (400) → authorize every object (403) → types and ranges (400) →
// duplicates (400 under reject; overwrite by default). Atomic; durable on 204.
func (h *Handler) lineProtocol(ctx *fasthttp.RequestCtx, v2 bool) {
	start := time.Now()
	h.requests.Inc()
	defer h.latency.UpdateDuration(start)
	precArg := string(ctx.QueryArgs().Peek("precision"))
	var prec Precision
	var err error
	if v2 {
		prec, err = ParsePrecisionV2(precArg)
	} else {
		prec, err = ParsePrecisionV1(precArg)
	}
	if err != nil {
		h.reject(ctx, "validation", api.WrongParams("%v", err))
		return
	}
	dup, err := duplicatesParam(ctx, tsdb.Overwrite)
	if err != nil {
		h.reject(ctx, "validation", err)
		return
	}
	gz := gunzipBufs.Get().(*bytesBuffer)
	defer gunzipBufs.Put(gz)
	body, err := h.body(ctx, gz)
	if err != nil {
		h.reject(ctx, "too_large", err)
		return
	}
	now := h.opts.Now().UnixMilli()
	p := GetLineParser()
	defer PutLineParser(p)
	p.MaxSamples = h.opts.MaxMeasures
	samples, err := p.Parse(body, prec, now)
	if err != nil {
		var le *LineError
		switch {
		case errors.As(err, &le):
			h.reject(ctx, "syntax", api.WrongParams("%s", le.Error()))
		case errors.Is(err, ErrTooManyMeasures):
			h.reject(ctx, "too_large", api.Errorf(fasthttp.StatusRequestEntityTooLarge, api.ExcPayloadTooLarge,
				"more than %d lines in one request", h.opts.MaxMeasures))
		default:
			h.reject(ctx, "syntax", api.WrongParams("%v", err))
		}
		return
	}
	if len(samples) == 0 {
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	kv, err := h.acl.KeyView(api.CallerIdentity(ctx).Key)
	if err != nil {
		h.reject(ctx, "forbidden", api.Errorf(fasthttp.StatusForbidden, api.ExcBadApikey, "Access denied: bad apikey"))
		return
	}
	// Authorize every object before looking at any value: an object the key may not write,
	// whether it exists or not, is a 403 for the whole batch.
	last := uint32(0)
	for i := range samples {
		if o := samples[i].Object; o != last {
			if !kv.CanWrite(o) {
				h.reject(ctx, "forbidden", api.Forbidden("line %d: this apikey may not write object %d", samples[i].Line, o))
				return
			}
			last = o
		}
	}
	st := getWriteState()
	defer putWriteState(st)
	snap := h.objects.snapshot()
	keep := h.keep.forRequest(now)
	for i := range samples {
		s := &samples[i]
		info := snap.get(s.Object)
		if info == nil || info.disabled {
			h.reject(ctx, "forbidden", api.Forbidden("line %d: this apikey may not write object %d", s.Line, s.Object))
			return
		}
		if s.Timestamp < minTimestamp {
			h.reject(ctx, "range", api.WrongParams("line %d: timestamp %s is before 2016-01-01T00:00:00.000Z", s.Line, formatMS(s.Timestamp)))
			return
		}
		if old, d := keep.tooOld(info.tenant, s.Timestamp); old {
			h.reject(ctx, "range", api.WrongParams("line %d: timestamp %s is older than the retention of object %d's tenant (%s)",
				s.Line, formatMS(s.Timestamp), s.Object, api.FormatDuration(d)))
			return
		}
		if s.Timestamp > now+2000 {
			h.reject(ctx, "future", api.WrongParams("line %d: timestamp %s is in the future (now %s)", s.Line, formatMS(s.Timestamp), formatMS(now)))
			return
		}
		if msg := st.addLineValue(p, s, info.typ); msg != "" {
			h.reject(ctx, "type", api.WrongParams("line %d: object %d is of type %s: %s", s.Line, s.Object, info.typ, msg))
			return
		}
	}
	if err := h.appendDurable(ctx, &st.batch, dup); err != nil {
		var se *tsdb.SampleError
		switch {
		case errors.As(err, &se) && errors.Is(err, tsdb.ErrDuplicate):
			line := samples[se.Index].Line
			if se.InBatch {
				h.reject(ctx, "duplicate", api.WrongParams("line %d: object %d has two values at %s", line, se.ID, formatMS(se.Timestamp)))
			} else {
				h.reject(ctx, "duplicate", api.WrongParams("line %d: object %d already has a value at %s", line, se.ID, formatMS(se.Timestamp)))
			}
		case errors.As(err, &se):
			h.reject(ctx, "range", api.WrongParams("line %d: %v", samples[se.Index].Line, se.Err))
		default:
			h.reject(ctx, "internal", err)
		}
		return
	}
	h.measuresOK.Add(len(samples))
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// addLineValue adds s to the batch as the object's type (API.md §4: float ← float or Ni;
// int ← Ni or an integral float; bool ← boolean; string ← quoted string), or says why not.
func (st *writeState) addLineValue(p *LineParser, s *Sample, t catalog.Type) string {
	switch t {
	case catalog.TypeFloat:
		switch s.Kind {
		case LineFloat:
			st.batch.AddFloat(s.Object, s.Timestamp, s.Float)
			return ""
		case LineInt:
			st.batch.AddFloat(s.Object, s.Timestamp, float64(s.Int))
			return ""
		}
	case catalog.TypeInt:
		switch s.Kind {
		case LineInt:
			st.batch.AddInt(s.Object, s.Timestamp, s.Int)
			return ""
		case LineFloat:
			if v, err := api.ParseValueInt(p.Text(s)); err == nil {
				st.batch.AddInt(s.Object, s.Timestamp, v)
				return ""
			}
			f := s.Float
			if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
				st.batch.AddInt(s.Object, s.Timestamp, int64(f))
				return ""
			}
			return "a fractional number is not an integer"
		}
	case catalog.TypeBool:
		if s.Kind == LineBool {
			st.batch.AddBool(s.Object, s.Timestamp, s.Bool)
			return ""
		}
	case catalog.TypeString:
		if s.Kind == LineString {
			txt := p.Text(s)
			if len(txt) > api.MaxValueStringLen {
				return "string longer than 64 KiB"
			}
			st.batch.AddString(s.Object, s.Timestamp, txt)
			return ""
		}
	}
	return "the value is " + s.Kind.String()
}

// String names the Influx field type.
func (k LineValueKind) String() string {
	switch k {
	case LineFloat:
		return "a float"
	case LineInt:
		return "an integer"
	case LineBool:
		return "a boolean"
	case LineString:
		return "a string"
	}
	return "unknown"
}
