package query

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/acl"
	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/tsdb"
)

// multiRequest is the body of POST /query (API.md §3.6).
type multiRequest struct {
	Objects     []uint32     `json:"objects"`
	Tags        []string     `json:"tags"`
	ObjectGroup *uint32      `json:"objectGroup"`
	From        api.JSONTime `json:"from"`
	To          api.JSONTime `json:"to"`
	Granularity string       `json:"granularity"`
	Limit       *int64       `json:"limit"`
	Fields      []string     `json:"fields"`
}

// query serves /query: Influx's start-up statements when a q parameter is present (API.md
// §4), else tsgate's multi-object query.
func (h *Handler) query(ctx *fasthttp.RequestCtx) {
	if q, ok := influxStatement(ctx); ok {
		h.influx(ctx, q)
		return
	}
	f, err := negotiate(ctx)
	var req multiRequest
	if err == nil {
		if ctx.IsPost() {
			err = h.decodeBody(ctx, &req)
		} else {
			err = h.decodeArgs(ctx, &req)
		}
	}
	var g Granularity
	var fields fieldSet
	if err == nil && req.Granularity != "" {
		g, err = parseGranularity(req.Granularity, true)
	}
	if err == nil {
		fields, err = parseFields(req.Fields)
	}
	if err == nil && req.Limit != nil && *req.Limit < 0 {
		err = api.Validation(map[string]string{"limit": "must be greater than or equal to 0"})
	}
	var kv *acl.KeyView
	if err == nil {
		kv, err = h.keyView(ctx)
	}
	if err != nil {
		api.WriteError(ctx, err)
		return
	}
	from, to := req.From.MS, req.To.MS
	if !req.To.Set {
		to = h.nowMS()
	}
	var limit int64
	if req.Limit != nil {
		limit = *req.Limit
		if limit == 0 {
			limit = -1 // limit 0: no rows
		}
	}
	targets := h.selectTargets(kv, api.CallerIdentity(ctx).Principal.ID, &req, g)
	if err := h.checkMultiPoints(targets, g, from, to, limit); err != nil {
		api.WriteError(ctx, err)
		return
	}
	for i := range targets {
		h.countRead(targets[i].id)
	}
	e := &encoder{f: f, agg: g != Raw, fields: fields}
	h.streamBody(ctx, f, func(o *out) error {
		rollups := h.rollups
		statsOnly := fields&(fLast|fLastTs|fMin|fMax) == 0
		s, session := rollups.(rollupSession)
		if per := parallelPlan(len(targets), g, from, to, limit); session && per > 0 {
			e.begin(o)
			if err := h.writeRowsParallel(o, e, s, statsOnly, targets, g, from, to, per); err != nil {
				return err
			}
			e.end(o)
			return nil
		}
		if session && g != Raw {
			var done func()
			rollups, done = s.Session(statsOnly)
			defer done()
		}
		e.begin(o)
		if limit >= 0 {
			for i := range targets {
				if limit > 0 && e.n >= limit {
					break
				}
				t := &targets[i]
				e.object(t.id)
				var err error
				if g == Raw {
					err = h.writeRaw(o, e, t, clip(max(from, tsdb.MinTimestamp), min(to, tsdb.MaxTimestamp), t.windows), limit)
				} else {
					err = h.writeRows(o, e, rollups, t, g, from, to, limit)
				}
				if err != nil {
					return err
				}
			}
		}
		e.end(o)
		return nil
	})
}

// decodeBody reads POST /query's JSON body: from is required.
func (h *Handler) decodeBody(ctx *fasthttp.RequestCtx, req *multiRequest) error {
	if ct := ctx.Request.Header.ContentType(); len(ct) > 0 && !bytes.Contains(bytes.ToLower(ct), []byte("json")) {
		return api.Errorf(fasthttp.StatusUnsupportedMediaType, api.ExcMediaTypeUnsupported, "Content type '%s' not supported", ct)
	}
	if err := api.DecodeJSON(ctx, req, true); err != nil {
		return err
	}
	if !req.From.Set {
		return api.Validation(map[string]string{"from": "must not be null"})
	}
	return nil
}

// decodeArgs reads GET /query's parameters: objects=1,2 tags=a,b objectGroup from to
// granularity limit fields=mean,max.
func (h *Handler) decodeArgs(ctx *fasthttp.RequestCtx, req *multiRequest) error {
	args := ctx.QueryArgs()
	from, ok, err := dateParam(ctx, "from")
	if err != nil {
		return err
	}
	if !ok {
		return missingParam("DateTime", "from")
	}
	req.From = api.JSONTime{MS: from, Set: true}
	to, ok, err := dateParam(ctx, "to")
	if err != nil {
		return err
	}
	req.To = api.JSONTime{MS: to, Set: ok}
	for _, s := range listArg(args, "objects") {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return typeMismatch("objects", s, "long[]")
		}
		req.Objects = append(req.Objects, uint32(n))
	}
	req.Tags = listArg(args, "tags")
	if v := args.Peek("objectGroup"); len(v) > 0 {
		n, err := strconv.ParseUint(string(v), 10, 32)
		if err != nil {
			return typeMismatch("objectGroup", string(v), "long")
		}
		g := uint32(n)
		req.ObjectGroup = &g
	}
	req.Granularity = string(args.Peek("granularity"))
	if v := args.Peek("limit"); len(v) > 0 {
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return typeMismatch("limit", string(v), "int")
		}
		req.Limit = &n
	}
	req.Fields = listArg(args, "fields")
	return nil
}

func typeMismatch(name, v, typ string) error {
	return api.Errorf(fasthttp.StatusBadRequest, api.ExcTypeMismatch,
		"Failed to convert value of type 'java.lang.String' to required type '%s' for parameter '%s'; For input string: \"%s\"", typ, name, v)
}

// listArg reads a comma list parameter (repeated parameters are joined).
func listArg(args *fasthttp.Args, name string) []string {
	var out []string
	for _, v := range args.PeekMulti(name) {
		for _, s := range strings.Split(string(v), ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// selectTargets intersects the selectors (objects ∩ tags (any) ∩ objectGroup, API.md §4)
// with the key's read set before any data is touched; at rollup granularities non-numeric
// objects are skipped. Ascending ids.
func (h *Handler) selectTargets(kv *acl.KeyView, principal uint32, req *multiRequest, g Granularity) []target {
	var group []uint32
	if req.ObjectGroup != nil {
		gid := *req.ObjectGroup
		if _, err := h.cat.Group(gid); err != nil || !h.acl.CanReadGroup(principal, gid) {
			return nil // an unreadable or missing object group selects nothing
		}
		group = slices.Clone(h.cat.Members(gid))
		slices.Sort(group)
	}
	var ids []uint32
	if req.Objects != nil {
		ids = slices.Clone(req.Objects)
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if group != nil {
			ids = intersectSorted(ids, group)
		}
		ids = slices.DeleteFunc(ids, func(id uint32) bool { return !kv.CanRead(id) })
	} else if group != nil {
		ids = slices.DeleteFunc(group, func(id uint32) bool { return !kv.CanRead(id) })
	} else {
		kv.ForEachReadable(func(id uint32) bool {
			ids = append(ids, id)
			return true
		})
	}
	out := make([]target, 0, len(ids))
	for _, id := range ids {
		if id == 0 {
			continue
		}
		if len(req.Tags) > 0 && !h.hasAnyTag(kv, id, req.Tags) {
			continue
		}
		typ, err := h.db.SeriesType(id)
		if err != nil {
			continue
		}
		t := target{id: id, typ: typ, windows: kv.Windows(id)}
		if g != Raw && !t.numeric() {
			continue
		}
		out = append(out, t)
	}
	return out
}

// hasAnyTag reports whether object id carries one of tags, in the metadata the caller sees
// (as of its share's instant when windowed).
func (h *Handler) hasAnyTag(kv *acl.KeyView, id uint32, tags []string) bool {
	o, err := h.cat.Object(id)
	if at, ok := kv.AsOf(id); ok {
		o, err = h.cat.ObjectAsOf(id, at)
	}
	if err != nil {
		return false
	}
	for _, t := range tags {
		if slices.Contains(o.Tags, t) {
			return true
		}
	}
	return false
}

func intersectSorted(a, b []uint32) []uint32 {
	out := a[:0]
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// checkMultiPoints enforces MaxQueryPoints over all targets before the first byte: first
// with cheap upper bounds (stored counts, number of windows), then, when they exceed the cap,
// by counting the rows.
func (h *Handler) checkMultiPoints(targets []target, g Granularity, from, to int64, limit int64) error {
	maxp := h.opts.MaxQueryPoints
	if maxp <= 0 || limit < 0 || (limit > 0 && limit <= maxp) || from > to {
		return nil
	}
	var bound int64
	for i := range targets {
		if g == Raw {
			st, err := h.db.Stats(targets[i].id)
			if err == nil {
				bound += int64(st.Count)
			}
		} else {
			step := g.Millis()
			bound += (alignDown(to, step)-alignUp(from, step))/step + 1
		}
		if bound > maxp {
			break
		}
	}
	if bound <= maxp {
		return nil
	}
	var n int64
	for i := range targets {
		t := &targets[i]
		var k int64
		var err error
		if g == Raw {
			k, err = h.scanCount(t, clip(max(from, tsdb.MinTimestamp), min(to, tsdb.MaxTimestamp), t.windows), maxp+1-n)
		} else {
			k, err = h.countRows(t, g, from, to, maxp+1-n)
		}
		if err != nil {
			return err
		}
		if n += k; n > maxp {
			return tooManyPoints(maxp)
		}
	}
	return nil
}

// influxStatement returns the q parameter of an Influx client's /query (query string or
// form body).
func influxStatement(ctx *fasthttp.RequestCtx) (string, bool) {
	if ctx.QueryArgs().Has("q") {
		return string(ctx.QueryArgs().Peek("q")), true
	}
	if ctx.IsPost() && bytes.HasPrefix(bytes.ToLower(ctx.Request.Header.ContentType()), []byte("application/x-www-form-urlencoded")) {
		if ctx.PostArgs().Has("q") {
			return string(ctx.PostArgs().Peek("q")), true
		}
	}
	return "", false
}

// influx answers the statements an Influx writer sends at start (API.md §4) in Influx's
// shape with empty results; SHOW DATABASES lists tsgate. Anything else is 400.
func (h *Handler) influx(ctx *fasthttp.RequestCtx, q string) {
	type series struct {
		Name    string   `json:"name,omitempty"`
		Columns []string `json:"columns"`
		Values  [][]any  `json:"values,omitempty"`
	}
	type result struct {
		StatementID int      `json:"statement_id"`
		Series      []series `json:"series,omitempty"`
	}
	var results []result
	for _, stmt := range strings.Split(q, ";") {
		words := strings.Fields(strings.ToUpper(stmt))
		if len(words) == 0 {
			continue
		}
		r := result{StatementID: len(results)}
		switch {
		case hasWords(words, "SHOW", "DATABASES"):
			r.Series = []series{{Name: "databases", Columns: []string{"name"}, Values: [][]any{{"tsgate"}}}}
		case hasWords(words, "CREATE", "DATABASE"), hasWords(words, "CREATE", "RETENTION", "POLICY"),
			hasWords(words, "ALTER", "RETENTION", "POLICY"), hasWords(words, "SHOW", "RETENTION", "POLICIES"),
			hasWords(words, "SHOW", "MEASUREMENTS"), hasWords(words, "SHOW", "USERS"),
			hasWords(words, "SHOW", "DIAGNOSTICS"), hasWords(words, "SHOW", "STATS"):
		default:
			api.WriteError(ctx, api.WrongParams("statement not supported: tsgate answers only the statements Influx writers send at start (CREATE DATABASE, SHOW DATABASES, SHOW RETENTION POLICIES, …); read values with POST /query"))
			return
		}
		results = append(results, r)
	}
	if len(results) == 0 {
		api.WriteError(ctx, api.WrongParams("missing query statement"))
		return
	}
	b, err := json.Marshal(map[string]any{"results": results})
	if err != nil {
		api.WriteError(ctx, err)
		return
	}
	api.WriteJSONBody(ctx, b)
}

func hasWords(words []string, want ...string) bool {
	return len(words) >= len(want) && slices.Equal(words[:len(want)], want)
}
