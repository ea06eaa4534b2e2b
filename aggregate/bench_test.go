package aggregate

import (
	"context"
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

// BenchmarkAppend: durable appends of 5000-sample batches of the standard
// dataset (10 000 objects) from 4 concurrent appenders, straight to tsdb
// ("tsdb") and through Rollups.Append ("rollups"), in the same run. One op =
// one batch; later rounds shift time so data stays in order. The rollups
// variant includes its checkpoints and a final one (Close) in the timing.
func BenchmarkAppend(b *testing.B) {
	const (
		per       = 5000
		objects   = dataset.StandardObjects
		points    = 240
		appenders = 4
	)
	batches := benchBatches(objects, points, per)
	for _, mode := range []string{"tsdb", "rollups"} {
		b.Run(mode, func(b *testing.B) {
			db := openDB(b, b.TempDir())
			defer db.Close()
			createSeries(b, db, objects)
			var r *Rollups
			if mode == "rollups" {
				r = openRollups(b, db, Options{})
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			t0 := time.Now()
			var wg sync.WaitGroup
			for w := 0; w < appenders; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var mine tsdb.Batch
					for {
						i := int(next.Add(1) - 1)
						if i >= b.N {
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
						if r != nil {
							err = r.Append(context.Background(), &mine, tsdb.Reject)
						} else {
							err = db.Append(context.Background(), &mine, tsdb.Reject)
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if r != nil {
				b.ReportMetric(float64(r.m.hourRecomp.Get()), "hour-recomputes")
				b.ReportMetric(float64(r.m.dayRecomp.Get()), "day-recomputes")
				if err := r.Close(); err != nil {
					b.Fatal(err)
				}
			}
			el := time.Since(t0)
			b.StopTimer()
			b.ReportMetric(float64(b.N)*per/el.Seconds(), "samples/s")
			b.ReportMetric(float64(el.Nanoseconds())/(float64(b.N)*per), "ns/sample")
		})
	}
}

// BenchmarkObserve: the rollup work of one 5000-sample batch alone (prepare
// and observe, no tsdb append, no intent write), one goroutine.
func BenchmarkObserve(b *testing.B) {
	const per, objects, points = 5000, dataset.StandardObjects, 240
	batches := benchBatches(objects, points, per)
	db := openDB(b, b.TempDir())
	defer db.Close()
	createSeries(b, db, objects)
	r := openRollups(b, db, Options{})
	defer r.Close()
	var mine tsdb.Batch
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src := batches[i%len(batches)]
		shift := int64(i/len(batches)) * points * 60_000
		mine.Reset()
		for k := 0; k < src.Len(); k++ {
			id, ts, v := src.Sample(k)
			mine.AddFloat(id, ts+shift, v.Float())
		}
		if err := r.observe(&mine, 0, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*per), "ns/sample")
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

// seedRecords writes synthetic records straight to the keyspace: hour
// records for hourObjs objects over hourDays days and day records for
// dayObjs objects over dayDays days, starting 2026-01-01.
func seedRecords(b *testing.B, r *Rollups, hourObjs, hourDays, dayObjs, dayDays int) int64 {
	start := ms("2026-01-01T00:00:00Z")
	commit := func() {
		r.mu.Lock()
		pb := r.takePendingLocked()
		r.mu.Unlock()
		if err := r.commitTaken(pb, pebble.NoSync); err != nil {
			b.Fatal(err)
		}
	}
	r.mu.Lock()
	for id := uint32(1); id <= uint32(hourObjs); id++ {
		for h := 0; h < hourDays*24; h++ {
			hour := start + int64(h)*hourMs
			var q hourAcc
			q.reset(hour)
			for i := range q {
				for k := 0; k < 15; k++ {
					q[i].Add(q[i].Start+int64(k)*60_000, float64(h+k))
				}
			}
			r.putHourLocked(id, hour, &q)
		}
	}
	for id := uint32(1); id <= uint32(dayObjs); id++ {
		for d := 0; d < dayDays; d++ {
			row := Row{Start: start + int64(d)*dayMs}
			for k := 0; k < 24; k++ {
				row.Add(row.Start+int64(k)*hourMs, float64(d+k))
			}
			r.putDayLocked(id, row.Start, &row)
		}
	}
	r.mu.Unlock()
	commit()
	return start
}

// BenchmarkRowsHours100x7d: hour rows of 100 objects over 7 days (16 800
// rows). One op = one Rows call.
func BenchmarkRowsHours100x7d(b *testing.B) {
	db := openDB(b, b.TempDir())
	defer db.Close()
	r := openRollups(b, db, Options{})
	defer r.Close()
	start := seedRecords(b, r, 100, 7, 0, 0)
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
func BenchmarkRowsDays1000x30d(b *testing.B) {
	db := openDB(b, b.TempDir())
	defer db.Close()
	r := openRollups(b, db, Options{})
	defer r.Close()
	start := seedRecords(b, r, 0, 0, 1000, 30)
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
		if err := r.Rows(context.Background(), ids, Days, start, start+30*dayMs-1, func(_ uint32, row *Row) error {
			sum += row.Mean
			n++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	if n != 30000 {
		b.Fatalf("%d rows", n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/query")
}

// BenchmarkAppendPaired is BenchmarkAppend with the two variants interleaved
// in the same process, phase by phase (96 batches of 5000 samples each, 4
// appenders), into two stores, so load changes on a shared machine hit both
// alike. b.N = phases per variant. It reports both throughputs and the
// rollups overhead (1 − rollups/tsdb throughput).
func BenchmarkAppendPaired(b *testing.B) {
	const (
		per       = 5000
		objects   = dataset.StandardObjects
		points    = 240
		appenders = 4
		phase     = 96
	)
	batches := benchBatches(objects, points, per)
	dbs := [2]*tsdb.DB{openDB(b, b.TempDir()), openDB(b, b.TempDir())}
	defer dbs[0].Close()
	defer dbs[1].Close()
	for _, db := range dbs {
		createSeries(b, db, objects)
	}
	r := openRollups(b, dbs[1], Options{})
	var elapsed, cpu [2]time.Duration
	var done [2]int
	run := func(mode int) {
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
		elapsed[mode] += time.Since(t0)
		cpu[mode] += cpuTime() - c0
		done[mode] += phase
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run(i % 2)
		run(1 - i%2)
	}
	t0 := time.Now()
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	elapsed[1] += time.Since(t0)
	b.StopTimer()
	tp := func(m int) float64 { return float64(done[m]*per) / elapsed[m].Seconds() }
	b.ReportMetric(tp(0), "tsdb-samples/s")
	b.ReportMetric(tp(1), "rollups-samples/s")
	b.ReportMetric(100*(1-tp(1)/tp(0)), "overhead-%")
	cps := func(m int) float64 { return float64(cpu[m].Nanoseconds()) / float64(done[m]*per) }
	b.ReportMetric(cps(0), "tsdb-cpu-ns/sample")
	b.ReportMetric(cps(1), "rollups-cpu-ns/sample")
	b.ReportMetric(float64(r.m.hourRecomp.Get()+r.m.dayRecomp.Get()), "recomputes")
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
