package aggregate

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/tsgate/tsgate/bench/dataset"
	"github.com/tsgate/tsgate/tsdb"
)

// benchBatches cuts the standard dataset (time-major) into batches of per
// samples.
func benchBatches(objects, points, per int) []*tsdb.Batch {
	g := dataset.New(dataset.Config{Objects: objects, Points: points})
	var out []*tsdb.Batch
	cur := &tsdb.Batch{}
	for s, ok := g.Next(); ok; s, ok = g.Next() {
		cur.AddFloat(s.ID, s.TS, s.Value)
		if cur.Len() == per {
			out = append(out, cur)
			cur = &tsdb.Batch{}
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur)
	}
	return out
}

// createSeries creates float series 1..n in one Pebble batch.
func createSeries(b testing.TB, db *tsdb.DB, n int) {
	pb := db.Pebble().NewBatch()
	defer pb.Close()
	for id := uint32(1); id <= uint32(n); id++ {
		if err := db.CreateSeries(pb, id, tsdb.Float); err != nil {
			b.Fatal(err)
		}
	}
	if err := pb.Commit(pebble.Sync); err != nil {
		b.Fatal(err)
	}
}

// seedFlushed appends, for objects 1..objs, one sample every step ms over
// days days from 2026-01-01, flushes, and returns the start.
func seedFlushed(b *testing.B, db *tsdb.DB, objs, days int, step int64) int64 {
	start := ms("2026-01-01T00:00:00Z")
	createSeries(b, db, objs)
	var batch tsdb.Batch
	for ts := start; ts < start+int64(days)*dayMs; ts += step {
		for id := uint32(1); id <= uint32(objs); id++ {
			batch.AddFloat(id, ts, float64(ts/step%1000)+float64(id))
		}
		if batch.Len() >= 50_000 {
			if err := db.Append(context.Background(), &batch, tsdb.Reject); err != nil {
				b.Fatal(err)
			}
			batch.Reset()
		}
	}
	if err := db.Append(context.Background(), &batch, tsdb.Reject); err != nil {
		b.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		b.Fatal(err)
	}
	return start
}

// BenchmarkRowsHours100x7d: hour rows of 100 objects over 7 days (16 800
// rows). One op = one Rows call.
func BenchmarkRowsHours100x7d(b *testing.B) {
	db := openDB(b, b.TempDir())
	defer db.Close()
	r := openRollups(b, db, Options{})
	defer r.Close()
	start := seedFlushed(b, db, 100, 7, 60_000)
	ids := make([]uint32, 100)
	for i := range ids {
		ids[i] = uint32(i + 1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		n = 0
		if err := r.Rows(context.Background(), ids, Hours, start, start+7*dayMs-1, func(_ uint32, row *Row) error {
			n++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	if n != 100*7*24 {
		b.Fatalf("%d rows", n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/query")
}

// BenchmarkRowsDays1000x30d: day rows (mean) of 1000 objects over 30 days
// (30 000 rows). One op = one Rows call.
func BenchmarkRowsDays1000x30d(b *testing.B) { benchRows1000x30d(b, Days) }

// BenchmarkRowsHours1000x30d: hour rows (mean) of 1000 objects over 30
// days (720 000 rows), the read behind the query issue's 1000 × 30 d hourly
// mean. One op = one Rows call.
func BenchmarkRowsHours1000x30d(b *testing.B) { benchRows1000x30d(b, Hours) }

// benchRows1000x30d reads the rows of res (mean) of 1000 objects over 30
// days of samples every 15 minutes.
func benchRows1000x30d(b *testing.B, res Resolution) {
	db := openDB(b, b.TempDir())
	defer db.Close()
	r := openRollups(b, db, Options{})
	defer r.Close()
	start := seedFlushed(b, db, 1000, 30, quarterMs)
	ids := make([]uint32, 1000)
	for i := range ids {
		ids[i] = uint32(i + 1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var sum float64
	n := 0
	for i := 0; i < b.N; i++ {
		n = 0
		if err := r.Rows(context.Background(), ids, res, start, start+30*dayMs-1, func(_ uint32, row *Row) error {
			sum += row.Mean
			n++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	if want := 1000 * int(30*dayMs/res.Millis()); n != want {
		b.Fatalf("%d rows, want %d", n, want)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/query")
}

// BenchmarkAppendPaired measures what rollups cost ingest: durable appends
// of 5000-sample batches of the standard dataset (10 000 objects, 4
// appenders) into two stores, one bare and one with Rollups attached, in
// the same process, phase by phase interleaved so load changes on a shared
// machine hit both alike. A phase is 1920 batches (9.6 M samples, about
// what the default head holds) ended by the flush they cause — where
// rollups do their work — so each phase's CPU time is its own. b.N = phases
// per variant. It reports both throughputs and the rollups overhead
// (1 − rollups/tsdb throughput).
func BenchmarkAppendPaired(b *testing.B) {
	const (
		per       = 5000
		objects   = dataset.StandardObjects
		points    = 240
		appenders = 4
		phase     = 1920
	)
	batches := benchBatches(objects, points, per)
	dbs := [2]*tsdb.DB{openDB(b, b.TempDir()), openDB(b, b.TempDir())}
	defer dbs[0].Close()
	defer dbs[1].Close()
	for _, db := range dbs {
		createSeries(b, db, objects)
	}
	r := openRollups(b, dbs[1], Options{})
	defer r.Close()
	var elapsed, cpu [2]time.Duration
	var done [2]int
	run := func(mode int) {
		// Each phase starts clean and pays for its own background work: the
		// previous phase's garbage is collected, and the Pebble compactions
		// its flush causes are waited for inside it.
		runtime.GC()
		start := done[mode]
		var next atomic.Int64
		var wg sync.WaitGroup
		t0 := time.Now()
		c0 := cpuTime()
		for w := 0; w < appenders; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine tsdb.Batch
				for {
					i := start + int(next.Add(1)-1)
					if i >= start+phase {
						return
					}
					src := batches[i%len(batches)]
					shift := int64(i/len(batches)) * points * 60_000
					mine.Reset()
					for k := 0; k < src.Len(); k++ {
						id, ts, v := src.Sample(k)
						mine.AddFloat(id, ts+shift, v.Float())
					}
					var err error
					if mode == 1 {
						err = r.Append(context.Background(), &mine, tsdb.Reject)
					} else {
						err = dbs[0].Append(context.Background(), &mine, tsdb.Reject)
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if err := dbs[mode].Flush(); err != nil {
			b.Fatal(err)
		}
		dbs[mode].WaitIdle(time.Minute)
		elapsed[mode] += time.Since(t0)
		cpu[mode] += cpuTime() - c0
		done[mode] += phase
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run(i % 2)
		run(1 - i%2)
	}
	b.StopTimer()
	tp := func(m int) float64 { return float64(done[m]*per) / elapsed[m].Seconds() }
	b.ReportMetric(tp(0), "tsdb-samples/s")
	b.ReportMetric(tp(1), "rollups-samples/s")
	b.ReportMetric(100*(1-tp(1)/tp(0)), "overhead-%")
	cps := func(m int) float64 { return float64(cpu[m].Nanoseconds()) / float64(done[m]*per) }
	b.ReportMetric(cps(0), "tsdb-cpu-ns/sample")
	b.ReportMetric(cps(1), "rollups-cpu-ns/sample")
	b.ReportMetric(100*(cps(1)/cps(0)-1), "cpu-overhead-%")
	b.ReportMetric(float64(r.m.dayRecomp.Get()), "day-recomputes")
	b.ReportMetric(float64(r.m.groupBytes.Get())/float64(done[1]*per), "rollup-B/sample")
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
