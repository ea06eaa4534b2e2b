package query_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tsgate/tsgate/aggregate"
	"github.com/tsgate/tsgate/query"
	"github.com/tsgate/tsgate/server/servertest"
	"github.com/tsgate/tsgate/tsdb"
)

// benchStart is 2025-01-01T00:00:00Z, the start of the benchmarks' year.
const benchStart = int64(1735689600000)

// fillMinutes appends n samples per object at 1/min from benchStart (a temperature-like walk
// with 2 decimals, as the standard dataset's °C objects), then compacts the store so reads
// hit blocks.
func fillMinutes(tb testing.TB, db *tsdb.DB, ids []uint32, n int) {
	tb.Helper()
	fillEvery(tb, db, ids, n, 60_000)
}

// fillEvery is fillMinutes with a sample every per ms.
func fillEvery(tb testing.TB, db *tsdb.DB, ids []uint32, n int, per int64) {
	tb.Helper()
	r := rand.New(rand.NewPCG(42, 0))
	state := make([]float64, len(ids))
	for i := range state {
		state[i] = 15 + 10*r.Float64()
	}
	var b tsdb.Batch
	for p := 0; p < n; p++ {
		ts := benchStart + int64(p)*per
		for i, id := range ids {
			state[i] += r.NormFloat64() * 0.05
			b.AddFloat(id, ts, math.Round(state[i]*100)/100)
		}
		if b.Len() >= 50_000 || p == n-1 {
			if err := db.Append(context.Background(), &b, tsdb.Overwrite); err != nil {
				tb.Fatal(err)
			}
			b.Reset()
		}
	}
	if err := db.Compact(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// get fetches url with the client's credentials and returns the body length.
func get(tb testing.TB, c *servertest.Client, hc *http.Client, method, path, accept, body string) int64 {
	var rd io.Reader
	if body != "" {
		rd = stringsReader(body)
	}
	req, _ := http.NewRequest(method, c.Nd.URL+path, rd)
	req.Header.Set("bbuser", fmt.Sprint(c.User))
	req.Header.Set("bbtoken", c.Secret)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := hc.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := drain(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		tb.Fatalf("%s %s: %d %v", method, path, res.StatusCode, err)
	}
	return n
}

// BenchmarkYearRaw: one object's year at 1/min (525 600 samples from 2025-01-01) raw, to
// the last byte over loopback.
func BenchmarkYearRaw(b *testing.B) {
	nd := servertest.Start(b)
	g := nd.Admin.CreateGroup("bench")
	id := nd.Admin.CreateObject("year", g, "°C")
	const n = 525_600
	fillMinutes(b, nd.N.DB, []uint32{id}, n)
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	path := fmt.Sprintf("/objects/%d/values?from=2025-01-01&to=2026-01-01", id)
	for _, f := range []struct{ name, accept string }{{"csv", "text/csv"}, {"json", "application/json"}} {
		b.Run(f.name, func(b *testing.B) {
			var bytes int64
			cpu := cpuTime()
			for b.Loop() {
				bytes = get(b, nd.Admin, hc, "GET", path, f.accept, "")
			}
			reportCPU(b, cpu)
			b.SetBytes(bytes)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// swapRollups lets a benchmark fill raw data before the aggregate rows exist.
type swapRollups struct{ r query.Rollups }

func (s *swapRollups) Rows(id uint32, typ tsdb.ValueType, g query.Granularity, from, to int64, fn func(r *query.Row) bool) error {
	return s.r.Rows(id, typ, g, from, to, fn)
}

// Session forwards the inner Rollups' session (one per multi-object query), if it has one.
func (s *swapRollups) Session(statsOnly bool) (query.Rollups, func()) {
	if ss, ok := s.r.(interface {
		Session(bool) (query.Rollups, func())
	}); ok {
		return ss.Session(statsOnly)
	}
	return s.r, func() {}
}

// BenchmarkHourRollups: 1 h rollups, full rows, of 100 objects × 7 days in one /query, from
// rows computed on read (raw) and from the aggregate package's stored rows (aggregate).
func BenchmarkHourRollups(b *testing.B) {
	sw := &swapRollups{}
	nd, db := startNode(b, query.Options{Rollups: sw})
	sw.r = query.RawRollups{DB: db}
	g := nd.Admin.CreateGroup("bench")
	ids := make([]uint32, 100)
	for i := range ids {
		ids[i] = nd.Admin.CreateObject(fmt.Sprintf("obj%03d", i), g, "°C")
	}
	fillMinutes(b, db, ids, 7*24*60)
	ro, err := aggregate.Open(db, aggregate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ro.Close() })
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	body := `{"granularity":"hours","from":"2025-01-01","to":"2025-01-07T23:59"}`
	for _, f := range []struct {
		name, accept string
		r            query.Rollups
	}{{"raw/json", "application/json", query.RawRollups{DB: db}}, {"raw/csv", "text/csv", query.RawRollups{DB: db}},
		{"aggregate/json", "application/json", query.AggregateRollups{R: ro}}, {"aggregate/csv", "text/csv", query.AggregateRollups{R: ro}}} {
		sw.r = f.r
		b.Run(f.name, func(b *testing.B) {
			cpu := cpuTime()
			for b.Loop() {
				get(b, nd.Admin, hc, "POST", "/query", f.accept, body)
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(100*7*24*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkACLOverhead: the same 1000-object raw query by a superuser and by a user that
// reads the 1000 objects through an object group shared with its group (its view is a
// bitset, not "everything").
func BenchmarkACLOverhead(b *testing.B) {
	nd := servertest.Start(b)
	admin := nd.Admin
	owner := admin.CreateGroup("owners")
	ids := createObjects(b, admin, owner, 1000)
	// 1000 objects × 60 minutes
	fillMinutes(b, nd.N.DB, ids, 60)
	user := nd.CreateUser("reader")
	ug := admin.CreateGroup("readers")
	admin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", ug, user.User), "", 200, "")
	og := admin.CreateObjectGroup("all", owner)
	for _, id := range ids {
		admin.Want("PUT", fmt.Sprintf("/objectGroups/%d/objects/%d", og, id), "", 200, "")
	}
	admin.Want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", og, ug), "", 200, "")
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	body := `{"from":"2025-01-01T00:00","to":"2025-01-01T00:59"}`
	want := get(b, admin, hc, "POST", "/query", "text/csv", body)
	if got := get(b, user, hc, "POST", "/query", "text/csv", body); got != want {
		b.Fatalf("user got %d bytes, superuser %d", got, want)
	}
	// Alternate the two callers request by request and time each request (wall and process
	// CPU): on a shared machine the medians of interleaved runs compare what separate
	// benchmarks cannot.
	var wall, cpu [2][]float64
	callers := [2]*servertest.Client{admin, user}
	for b.Loop() {
		for i, c := range callers {
			c0, w0 := cpuTime(), time.Now()
			get(b, c, hc, "POST", "/query", "text/csv", body)
			wall[i] = append(wall[i], float64(time.Since(w0).Microseconds())/1000)
			cpu[i] = append(cpu[i], float64(cpuTime()-c0)/float64(time.Millisecond))
		}
	}
	med := func(x []float64) float64 { slices.Sort(x); return x[len(x)/2] }
	ws, wu, cs, cu := med(wall[0]), med(wall[1]), med(cpu[0]), med(cpu[1])
	b.ReportMetric(ws, "super-ms")
	b.ReportMetric(wu, "shared-ms")
	b.ReportMetric(cs, "super-cpu-ms")
	b.ReportMetric(cu, "shared-cpu-ms")
	b.ReportMetric(100*(wu/ws-1), "overhead-%")
}

// drainBufs holds the benchmark clients' read buffers.
var drainBufs = sync.Pool{New: func() any { return new([256 << 10]byte) }}

// drain reads r to its end and returns the byte count: the benchmark clients' body reading,
// the same for tsgate and VictoriaMetrics. Reads of up to 256 KiB straight into one reused
// buffer take what the socket holds in one syscall (io.Copy to io.Discard reads 8 KiB at a
// time: ~2500 syscalls for a year's CSV).
func drain(r io.Reader) (int64, error) {
	buf := drainBufs.Get().(*[256 << 10]byte)
	defer drainBufs.Put(buf)
	var n int64
	for {
		k, err := r.Read(buf[:])
		n += int64(k)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

type strReader struct {
	s string
	i int
}

func (r *strReader) Read(p []byte) (int, error) {
	if r.i >= len(r.s) {
		return 0, io.EOF
	}
	n := copy(p, r.s[r.i:])
	r.i += n
	return n, nil
}

func stringsReader(s string) io.Reader { return &strReader{s: s} }

// cpuTime is the process's user+system CPU time (server and in-process client together).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports CPU ms per operation since start: on a busy shared machine wall time
// includes waiting for a core, CPU time does not.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// createObjects creates n °C objects owned by group g through PUT /objects/bulk.
func createObjects(tb testing.TB, c *servertest.Client, g uint32, n int) []uint32 {
	tb.Helper()
	bulk := "["
	for i := range n {
		if i > 0 {
			bulk += ","
		}
		bulk += fmt.Sprintf(`{"name":"obj%05d","owner":%d,"unitSymbol":"°C"}`, i, g)
	}
	var objs []struct{ ID uint32 }
	c.Want("PUT", "/objects/bulk", bulk+"]", 200, "").JSON(tb, &objs)
	ids := make([]uint32, n)
	for i := range ids {
		ids[i] = objs[i].ID
	}
	return ids
}
