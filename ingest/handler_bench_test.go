package ingest_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/bench/dataset"
	"github.com/tsgate/tsgate/ingest"
	"github.com/tsgate/tsgate/server/servertest"
	"github.com/tsgate/tsgate/tsdb"
)

const (
	benchObjects   = 10_000
	benchBatch     = 5000
	benchPerRound  = 40 // requests per benchmark iteration (200 000 samples)
	benchWriters   = 4
	benchPointsRnd = benchBatch * benchPerRound / benchObjects
)

// benchWorld creates the standard dataset's objects and tokens through the API.
func benchWorld(b *testing.B) (*servertest.Node, []uint32, []string, string) {
	nd := servertest.Start(b)
	ug := nd.Admin.CreateGroup("bench")
	ids := make([]uint32, 0, benchObjects)
	toks := make([]string, 0, benchObjects)
	for start := 0; start < benchObjects; start += 1000 {
		var sb strings.Builder
		sb.WriteString("[")
		for o := start; o < start+1000; o++ {
			if o > start {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `{"name":"o%d","owner":%d,"unitSymbol":%q}`, o, ug, dataset.KindOf(o).Unit())
		}
		sb.WriteString("]")
		var objs []struct{ ID uint32 }
		nd.Admin.Want("PUT", "/objects/bulk", sb.String(), 200, "").JSON(b, &objs)
		sb.Reset()
		sb.WriteString("[")
		for i, o := range objs {
			if i > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `{"objectId":%d}`, o.ID)
			ids = append(ids, o.ID)
		}
		sb.WriteString("]")
		var ts []struct{ Token string }
		nd.Admin.Want("PUT", "/objects/bulk/tokens", sb.String(), 200, "").JSON(b, &ts)
		for _, t := range ts {
			toks = append(toks, t.Token)
		}
	}
	key := nd.Admin.CreateApikey("writable=true")
	return nd, ids, toks, key.Secret
}

// bodies renders one round of requests from the standard dataset, starting at round r.
func bodies(ids []uint32, toks []string, round int, line bool) [][]byte {
	g := dataset.New(dataset.Config{Objects: benchObjects, Points: benchPointsRnd,
		Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(round*benchPointsRnd) * time.Minute)})
	out := make([][]byte, 0, benchPerRound)
	var buf []byte
	n := 0
	flush := func() {
		if line {
			out = append(out, buf)
		} else {
			out = append(out, append(buf, ']'))
		}
		buf, n = nil, 0
	}
	for {
		s, ok := g.Next()
		if !ok {
			break
		}
		if line {
			buf = fmt.Appendf(buf, "m,object=%d value=%s %d\n", ids[s.Object], strconv.FormatFloat(s.Value, 'f', -1, 64), s.TS)
		} else {
			if n == 0 {
				buf = append(buf, '[')
			} else {
				buf = append(buf, ',')
			}
			buf = fmt.Appendf(buf, `{"objectId":%d,"token":%q,"timestamp":"`, ids[s.Object], toks[s.Object])
			buf = api.AppendDateTime(buf, s.TS)
			buf = fmt.Appendf(buf, `","value":"%s"}`, strconv.FormatFloat(s.Value, 'f', -1, 64))
		}
		if n++; n == benchBatch {
			flush()
		}
	}
	return out
}

// appendMode selects what the benchmarked handler appends through.
type appendMode int

const (
	appendNode appendMode = iota // the node's own: rollups over tsdb, fsync'd
	appendTSDB                   // the bare tsdb.DB (no rollups), fsync'd
	appendNone                   // a no-op: only the HTTP, parse, auth and batch layers
)

// noAppend is an ingest.Appender that stores nothing, so that a benchmark measures ingest's
// own layers (routing, auth, parsing, token checks, type checks, batch building, response)
// without the storage's CPU and fsync waits hiding them.
type noAppend struct{}

func (noAppend) Append(context.Context, *tsdb.Batch, tsdb.Duplicates) error { return nil }

// handlerFor returns the request handler of nd, or one with the same routes whose ingest
// appends through mode's Appender.
func handlerFor(nd *servertest.Node, mode appendMode) fasthttp.RequestHandler {
	if mode == appendNode {
		return nd.N.API.Handler()
	}
	s := api.New(api.Options{})
	deps := api.Deps{ACL: nd.N.ACL, Catalog: nd.N.Catalog, DB: nd.N.DB}
	api.Mount(s, deps)
	var app ingest.Appender = noAppend{}
	if mode == appendTSDB {
		app = nd.N.DB
	}
	ingest.Mount(s, deps, ingest.Options{Appender: app})
	return s.Handler()
}

// benchmarkIngest posts rounds of 5000-sample requests through the real handler tree in
// process (parse, authorize, type-check, append through mode; no network) from benchWriters
// goroutines.
func benchmarkIngest(b *testing.B, line bool, mode appendMode) {
	nd, ids, toks, secret := benchWorld(b)
	h := handlerFor(nd, mode)
	path := "/objects/values?response=count"
	if line {
		path = "/write?precision=ms"
	}
	var total, cpu time.Duration
	b.ResetTimer()
	for i := -1; i < b.N; i++ { // round -1 warms up (series loaded, pools filled), untimed
		b.StopTimer()
		reqs := bodies(ids, toks, i+1, line)
		runtime.GC()
		if i >= 0 {
			b.StartTimer()
		}
		start, cpu0 := time.Now(), cpuTime()
		postAll(b, h, path, secret, reqs)
		if i >= 0 {
			total += time.Since(start)
			cpu += cpuTime() - cpu0
		}
	}
	n := float64(b.N * benchPerRound * benchBatch)
	b.ReportMetric(n/total.Seconds(), "samples/s")
	// CPU time of the whole process per sample: what the path costs whatever else the machine
	// runs (the wall-clock figure above depends on the load of a shared 2-core box).
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/sample")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkIngestHandler*: the whole node in process (durable appends, rollups).
func BenchmarkIngestHandlerJSON(b *testing.B) { benchmarkIngest(b, false, appendNode) }
func BenchmarkIngestHandlerLine(b *testing.B) { benchmarkIngest(b, true, appendNode) }

// BenchmarkIngestLayers*: the same requests with a no-op Appender — the CPU of ingest's share
// (routing, auth, body, parse, token and type checks, batch, response) alone.
func BenchmarkIngestLayersJSON(b *testing.B) { benchmarkIngest(b, false, appendNone) }
func BenchmarkIngestLayersLine(b *testing.B) { benchmarkIngest(b, true, appendNone) }

// BenchmarkIngestTSDB*: appends to the bare tsdb (no rollups).
func BenchmarkIngestTSDBJSON(b *testing.B) { benchmarkIngest(b, false, appendTSDB) }
func BenchmarkIngestTSDBLine(b *testing.B) { benchmarkIngest(b, true, appendTSDB) }

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIngestRollupsPaired: what rollups cost end to end on the write path — line
// protocol requests through the whole node in process, into two nodes of the same data,
// one with its rollups attached (the node as served) and one whose DB has them detached, in
// the same process, phase by phase interleaved. A phase is 40 rounds (8 M samples, about
// half of what the default head holds) ended by a head flush, where the rollups do their
// work, so each phase's CPU time includes it. b.N = phases per variant. Reports both
// throughputs and the rollups' share (1 − with/without).
func BenchmarkIngestRollupsPaired(b *testing.B) {
	const phaseRounds = 40
	type variant struct {
		nd     *servertest.Node
		ids    []uint32
		toks   []string
		secret string
		h      fasthttp.RequestHandler
		round  int
		reqs   [][]byte // reused: building bodies must not leave garbage for the timed part
		wall   time.Duration
		cpu    time.Duration
		phases []time.Duration // CPU time of each phase
		n      int
	}
	var vs [2]*variant
	for i := range vs {
		nd, ids, toks, secret := benchWorld(b)
		vs[i] = &variant{nd: nd, ids: ids, toks: toks, secret: secret, h: nd.N.API.Handler()}
	}
	if err := vs[1].nd.N.DB.SetRowsObserver(nil, nil); err != nil { // variant 1: no rollups
		b.Fatal(err)
	}
	run := func(v *variant) {
		cpu0 := v.cpu
		defer func() { v.phases = append(v.phases, v.cpu-cpu0) }()
		// Each phase starts clean and pays for its own background work: the previous phase's
		// garbage is collected and its Pebble flushes and compactions are waited for inside
		// the phase that caused them (they ran into the other variant's phase before).
		runtime.GC()
		for r := 0; r < phaseRounds; r++ {
			reqs := lineBodies(v.reqs, v.ids, v.round)
			v.reqs = reqs
			v.round++
			start, cpu0 := time.Now(), cpuTime()
			postAll(b, v.h, "/write?precision=ms", v.secret, reqs)
			if r == phaseRounds-1 {
				if err := v.nd.N.DB.Flush(); err != nil {
					b.Fatal(err)
				}
				v.nd.N.DB.WaitIdle(time.Minute)
			}
			v.wall += time.Since(start)
			v.cpu += cpuTime() - cpu0
			v.n += len(reqs) * benchBatch
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run(vs[i%2])
		run(vs[1-i%2])
	}
	b.StopTimer()
	tp := func(v *variant) float64 { return float64(v.n) / v.wall.Seconds() }
	cps := func(v *variant) float64 { return float64(v.cpu.Nanoseconds()) / float64(v.n) }
	b.ReportMetric(tp(vs[0]), "rollups-samples/s")
	b.ReportMetric(tp(vs[1]), "bare-samples/s")
	b.ReportMetric(100*(1-tp(vs[0])/tp(vs[1])), "overhead-%")
	b.ReportMetric(cps(vs[0]), "rollups-cpu-ns/sample")
	b.ReportMetric(cps(vs[1]), "bare-cpu-ns/sample")
	b.ReportMetric(100*(cps(vs[0])/cps(vs[1])-1), "cpu-overhead-%")
	// The median of the phase pairs' CPU ratios: a phase that the host
	// slowed down, or that ran a large compaction, moves it less than the
	// totals (phases of both variants hold the same number of samples).
	var ratios []float64
	for i := range min(len(vs[0].phases), len(vs[1].phases)) {
		ratios = append(ratios, float64(vs[0].phases[i])/float64(vs[1].phases[i]))
	}
	slices.Sort(ratios)
	if n := len(ratios); n > 0 {
		b.ReportMetric(100*((ratios[(n-1)/2]+ratios[n/2])/2-1), "cpu-overhead-median-%")
	}
	// What compactions rewrote, per variant: rollup groups they move are
	// the rollups' largest cost after the fold (decision 0016).
	compacted := func(v *variant) float64 {
		m := v.nd.N.DB.Pebble().Metrics()
		var n uint64
		for _, l := range m.Levels {
			n += l.TableBytesCompacted
		}
		return float64(n) / float64(v.n)
	}
	b.ReportMetric(compacted(vs[0]), "rollups-compacted-B/sample")
	b.ReportMetric(compacted(vs[1]), "bare-compacted-B/sample")
	b.ReportMetric(0, "ns/op")
}

// lineBodies renders one round of line-protocol requests like bodies, into dst's buffers
// (reused: no garbage) with strconv instead of fmt.
func lineBodies(dst [][]byte, ids []uint32, round int) [][]byte {
	g := dataset.New(dataset.Config{Objects: benchObjects, Points: benchPointsRnd,
		Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(round*benchPointsRnd) * time.Minute)})
	if dst == nil {
		dst = make([][]byte, benchPerRound)
	}
	k, n := 0, 0
	buf := dst[0][:0]
	for {
		s, ok := g.Next()
		if !ok {
			break
		}
		buf = append(buf, "m,object="...)
		buf = strconv.AppendUint(buf, uint64(ids[s.Object]), 10)
		buf = append(buf, " value="...)
		buf = strconv.AppendFloat(buf, s.Value, 'f', -1, 64)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, s.TS, 10)
		buf = append(buf, '\n')
		if n++; n == benchBatch {
			dst[k] = buf
			k, n = k+1, 0
			if k < len(dst) {
				buf = dst[k][:0]
			}
		}
	}
	return dst[:k]
}

// postAll posts every body to path through h (Bearer secret, JSON content type, which the
// line-protocol route ignores) from benchWriters goroutines, and fails b on a non-2xx answer.
func postAll(b *testing.B, h fasthttp.RequestHandler, path, secret string, reqs [][]byte) {
	next := make(chan []byte, len(reqs))
	for _, r := range reqs {
		next <- r
	}
	close(next)
	var wg sync.WaitGroup
	for w := 0; w < benchWriters; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ctx fasthttp.RequestCtx
			for body := range next {
				ctx.Request.Reset()
				ctx.Response.Reset()
				ctx.Request.Header.SetMethod("POST")
				ctx.Request.SetRequestURI(path)
				ctx.Request.Header.SetContentType("application/json")
				ctx.Request.Header.Set("Authorization", "Bearer "+secret)
				ctx.Request.SetBodyRaw(body)
				h(&ctx)
				if ctx.Response.StatusCode()/100 != 2 {
					b.Errorf("status %d: %.300s", ctx.Response.StatusCode(), ctx.Response.Body())
					return
				}
			}
		}()
	}
	wg.Wait()
}
