package tsdb

import (
	"runtime"
	"testing"

	"github.com/tsgate/tsgate/bench/dataset"
)

// BenchmarkHeadApply measures what Append does under the locks for batches
// of 5000 samples of the standard dataset (10 000 objects, time-major): the
// Reject duplicate check and the head inserts with their stats, without
// Pebble. It is the serial part of BenchmarkAppend. The head is emptied every
// 1500 points per object, as a flush would (the next head preallocated from
// the last one's length), so growth is included. ns/sample is the wall time
// of the serial section, thread-cpu-ns/sample its CPU time, cpu-ns/sample
// the process's (GC included).
func BenchmarkHeadApply(b *testing.B) {
	const per, points = 5000, 1500
	objects := dataset.StandardObjects
	db, err := Open(b.TempDir(), Options{HeadBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	createSeriesBulk(b, db, objects, Float)
	batches := standardBatches(objects, 300, per)
	sc := &appendScratch{seen: make(map[idTs]struct{})}
	all := make([]*series, 0, objects)
	for id := 1; id <= objects; id++ {
		s, err := db.series(uint32(id))
		if err != nil || s == nil {
			b.Fatal(id, err)
		}
		all = append(all, s)
	}
	var bt Batch
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	cpu0, pcpu0 := threadCPUTime(), cpuTime()
	for i := 0; i < b.N; i++ {
		src := batches[i%len(batches)]
		round := int64(i / len(batches))
		bt.setShifted(src, round*300*60000)
		sc.sers = sc.sers[:0]
		db.tab.mu.RLock()
		for _, id := range bt.ids {
			sc.sers = append(sc.sers, db.tab.getLocked(id))
		}
		db.tab.mu.RUnlock()
		if err := db.checkDuplicatesLocked(&bt, sc); err != nil {
			b.Fatal(err)
		}
		for j, s := range sc.sers {
			if _, err := db.applyLocked(s, bt.ts[j], bt.nums[j], nil, true, &sc.lookup); err != nil {
				b.Fatal(err)
			}
		}
		if (i+1)%(points*objects/per) == 0 { // a flush: fresh heads
			for _, s := range all {
				s.head = chunk{hint: s.head.len() + s.head.len()/8}
			}
		}
	}
	b.ReportMetric(float64((threadCPUTime()-cpu0).Nanoseconds())/float64(b.N*per), "thread-cpu-ns/sample")
	b.ReportMetric(float64((cpuTime()-pcpu0).Nanoseconds())/float64(b.N*per), "cpu-ns/sample")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*per), "ns/sample")
}
