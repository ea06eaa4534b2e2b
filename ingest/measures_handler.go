package ingest

import (
	"errors"
	"math"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/tsdb"
)

// writeState is the per-request scratch of the write paths, pooled: the tsdb batch, the
// in-body duplicate set and the augmented response's value texts.
type writeState struct {
	batch tsdb.Batch
	// In-body duplicate check: last[id] is the greatest timestamp seen for object id in this
	// request (valid when gen[id] == curGen), so in-order data is proven new by one array
	// access; seen is filled (lazily, from the measures so far) only when a measure is not
	// after its object's last one.
	last   []int64
	gen    []uint32
	curGen uint32
	seen   map[sampleKey]struct{}
	seenN  int     // measures already in seen
	values []byte  // canonical value texts, back to back
	ends   []int32 // end offset in values of measure i's text
	resp   []byte
}

type sampleKey struct {
	id uint32
	ts int64
}

var writeStates = sync.Pool{New: func() any { return &writeState{seen: map[sampleKey]struct{}{}} }}

func getWriteState() *writeState { return writeStates.Get().(*writeState) }

func putWriteState(s *writeState) {
	if cap(s.values) > 8<<20 || cap(s.resp) > 32<<20 || len(s.seen) > 1<<20 {
		return // let an outsized one go
	}
	s.batch.Reset()
	clear(s.seen)
	s.seenN = 0
	s.values, s.ends, s.resp = s.values[:0], s.ends[:0], s.resp[:0]
	writeStates.Put(s)
}

func (h *Handler) objectValues(ctx *fasthttp.RequestCtx) { h.measures(ctx, false) }
func (h *Handler) inputMeasure(ctx *fasthttp.RequestCtx) { h.measures(ctx, true) }

// measures serves POST /objects/values and its deprecated twins in the processing order of
// bbdata-v2.md §3.2: parse, validate all, then per measure future skew, (objectId, token),
// disabled, value type, duplicate in body; then the duplicate against the store (in the
// append, atomically); nothing is stored unless everything passes.
func (h *Handler) measures(ctx *fasthttp.RequestCtx, single bool) {
	start := time.Now()
	h.requests.Inc()
	defer h.latency.UpdateDuration(start)
	simulate, err := api.BoolParam(ctx, "simulate", false)
	if err != nil {
		h.reject(ctx, "validation", err)
		return
	}
	dup, err := duplicatesParam(ctx, tsdb.Reject)
	if err != nil {
		h.reject(ctx, "validation", err)
		return
	}
	countOnly := string(ctx.QueryArgs().Peek("response")) == "count"
	gz := gunzipBufs.Get().(*bytesBuffer)
	defer gunzipBufs.Put(gz)
	body, err := h.body(ctx, gz)
	if err != nil {
		h.reject(ctx, "too_large", err)
		return
	}
	now := h.opts.Now().UnixMilli()
	p := GetMeasuresParser()
	defer PutMeasuresParser(p)
	p.MaxMeasures = h.opts.MaxMeasures
	var ms []Measure
	if single {
		m, perr := p.ParseObject(body, now)
		if perr == nil {
			ms = []Measure{*m}
		}
		err = perr
	} else {
		ms, err = p.ParseArray(body, now)
	}
	if err != nil {
		var se *SyntaxError
		var ve *ValidationError
		switch {
		case errors.As(err, &se):
			h.reject(ctx, "syntax", api.Errorf(fasthttp.StatusBadRequest, api.ExcNotReadable, "%s", se.Error()))
		case errors.As(err, &ve):
			if len(ve.Fields) == 1 && ve.Fields[0].Field == "" {
				h.reject(ctx, "validation", api.WrongParams("%s", ve.Fields[0].Message))
			} else {
				h.reject(ctx, "validation", api.Validation(ve.Details()))
			}
		case errors.Is(err, ErrTooManyMeasures):
			h.reject(ctx, "too_large", api.Errorf(fasthttp.StatusRequestEntityTooLarge, api.ExcPayloadTooLarge,
				"more than %d measures in one request", h.opts.MaxMeasures))
		default:
			h.reject(ctx, "syntax", api.Errorf(fasthttp.StatusBadRequest, api.ExcNotReadable, "%v", err))
		}
		return
	}

	st := getWriteState()
	defer putWriteState(st)
	snap := h.objects.snapshot()
	st.startRequest(len(snap.objs))
	keep := h.keep.forRequest(now)
	epoch := h.acl.TokenEpoch()
	for i := range ms {
		m := &ms[i]
		// a. future skew
		if m.HasTimestamp && m.Timestamp > now+2000 {
			h.reject(ctx, "future", api.WrongParams("objectId %d: date should be in the past. input='%s', now='%s'",
				m.ObjectID, formatMS(m.Timestamp), formatMS(now)))
			return
		}
		// b. the (objectId, token) pair
		var info *objectInfo
		if m.ObjectID <= math.MaxUint32 && snap.checkToken(h.acl, epoch, uint32(m.ObjectID), m.Token) {
			info = snap.get(uint32(m.ObjectID))
		}
		if info == nil {
			h.reject(ctx, "token", api.Errorf(fasthttp.StatusNotFound, api.ExcItemNotFound,
				"objectId %d: the pair <objectId, token> does not exist", m.ObjectID))
			return
		}
		id := uint32(m.ObjectID)
		// c. disabled (rarely reachable: disabling deletes the tokens)
		if info.disabled {
			h.reject(ctx, "disabled", api.Forbidden("objectId %d is disabled.", id))
			return
		}
		if old, d := keep.tooOld(info.tenant, m.Timestamp); old {
			h.reject(ctx, "range", api.WrongParams("objectId %d: timestamp %s is older than the retention of its tenant (%s)",
				id, formatMS(m.Timestamp), api.FormatDuration(d)))
			return
		}
		// d. the value against the object's type
		if err := st.addValue(id, m.Timestamp, info, m.Value, !countOnly); err != nil {
			h.reject(ctx, "type", api.WrongParams("objectId %d: the value '%s' does not match the unit %s (%s) declared in the object definition.",
				id, m.Value, info.unit, info.typ))
			return
		}
		// e. duplicate in the body
		if dup == tsdb.Reject && st.duplicateInBody(ms, i, id) {
			h.reject(ctx, "duplicate", api.WrongParams("objectId %d: two or more values with the same timestamp", id))
			return
		}
	}
	if !simulate {
		// f. duplicate against the store, checked atomically with the append.
		if err := h.appendDurable(ctx, &st.batch, dup); err != nil {
			var se *tsdb.SampleError
			switch {
			case errors.As(err, &se) && errors.Is(err, tsdb.ErrDuplicate):
				h.reject(ctx, "duplicate", api.WrongParams("objectId %d: a value with the same timestamp (%s) already exists for this object.",
					se.ID, formatMS(se.Timestamp)))
			case errors.As(err, &se) && errors.Is(err, tsdb.ErrUnknownSeries):
				h.reject(ctx, "token", api.Errorf(fasthttp.StatusNotFound, api.ExcItemNotFound,
					"objectId %d: the pair <objectId, token> does not exist", se.ID))
			case errors.As(err, &se):
				h.reject(ctx, "range", api.WrongParams("objectId %d: %v", se.ID, se.Err))
			default:
				h.reject(ctx, "internal", err)
			}
			return
		}
		h.measuresOK.Add(len(ms))
	}
	if countOnly {
		b := append(st.resp[:0], `{"accepted":`...)
		b = appendInt(b, int64(len(ms)))
		st.resp = append(b, '}')
		writeBody(ctx, st.resp)
		return
	}
	st.resp = h.appendAugmented(st.resp[:0], ms, st, snap, single)
	writeBody(ctx, st.resp)
}

// startRequest prepares the in-body duplicate check for object ids below n.
func (st *writeState) startRequest(n int) {
	if len(st.last) < n {
		st.last = make([]int64, n)
		st.gen = make([]uint32, n)
		st.curGen = 0
	}
	st.curGen++
	if st.curGen == 0 { // wrapped: forget every stamp
		clear(st.gen)
		st.curGen = 1
	}
}

// duplicateInBody reports whether measure i (of object id) repeats the (object, timestamp) of
// an earlier measure. Cost: one array access while each object's timestamps increase.
func (st *writeState) duplicateInBody(ms []Measure, i int, id uint32) bool {
	ts := ms[i].Timestamp
	if st.gen[id] != st.curGen {
		st.gen[id], st.last[id] = st.curGen, ts
		return false
	}
	if ts > st.last[id] {
		st.last[id] = ts
		return false
	}
	// Out of order within the body: consult the full set of what came before.
	for ; st.seenN < i; st.seenN++ {
		st.seen[sampleKey{uint32(ms[st.seenN].ObjectID), ms[st.seenN].Timestamp}] = struct{}{}
	}
	_, dup := st.seen[sampleKey{id, ts}]
	return dup
}

// writeBody answers 200 with a copy of b as JSON (b goes back to the pool).
func writeBody(ctx *fasthttp.RequestCtx, b []byte) {
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json")
	ctx.Response.SetBody(b)
}

// addValue parses raw as the object's type, adds the sample to the batch and, when keep, its
// canonical text to the response buffer.
func (st *writeState) addValue(id uint32, ts int64, info *objectInfo, raw []byte, keep bool) error {
	switch kindOf(info.typ) {
	case api.ValueFloat:
		f, err := api.ParseValueFloat(raw)
		if err != nil {
			return err
		}
		st.batch.AddFloat(id, ts, f)
		if keep {
			st.values = api.AppendValueFloat(st.values, f)
		}
	case api.ValueInt:
		v, err := api.ParseValueInt(raw)
		if err != nil {
			return err
		}
		st.batch.AddInt(id, ts, v)
		if keep {
			st.values = api.AppendValueInt(st.values, v)
		}
	case api.ValueBool:
		v, err := api.ParseValueBool(raw)
		if err != nil {
			return err
		}
		st.batch.AddBool(id, ts, v)
		if keep {
			st.values = api.AppendValueBool(st.values, v)
		}
	default:
		if err := api.CheckValueString(raw); err != nil {
			return err
		}
		st.batch.AddString(id, ts, raw)
		if keep {
			st.values = append(st.values, raw...)
		}
	}
	if keep {
		st.ends = append(st.ends, int32(len(st.values)))
	}
	return nil
}

// appendAugmented writes the response of bbdata-v2.md §3.2: every measure in body order with
// its canonical value, unit and owner, and no token.
func (h *Handler) appendAugmented(b []byte, ms []Measure, st *writeState, snap *objectSnapshot, single bool) []byte {
	if !single {
		b = append(b, '[')
	}
	prev := int32(0)
	for i := range ms {
		m := &ms[i]
		info := snap.get(uint32(m.ObjectID))
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"objectId":`...)
		b = appendInt(b, m.ObjectID)
		b = append(b, `,"timestamp":"`...)
		b = api.AppendDateTime(b, m.Timestamp)
		b = append(b, `","value":`...)
		b = api.AppendJSONString(b, string(st.values[prev:st.ends[i]]))
		prev = st.ends[i]
		b = append(b, `,"comment":`...)
		if m.HasComment && m.Comment != nil {
			b = api.AppendJSONString(b, string(m.Comment))
		} else {
			b = append(b, "null"...)
		}
		b = append(b, `,"unitName":`...)
		b = api.AppendJSONString(b, info.unitName)
		b = append(b, `,"unitSymbol":`...)
		b = api.AppendJSONString(b, info.unit)
		b = append(b, `,"type":"`...)
		b = append(b, info.typ.String()...)
		b = append(b, `","owner":`...)
		b = appendInt(b, int64(info.owner))
		b = append(b, '}')
	}
	if !single {
		b = append(b, ']')
	}
	return b
}
