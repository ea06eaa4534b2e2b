package aggregate

import (
	"context"
	"sync"
	"sync/atomic"
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
