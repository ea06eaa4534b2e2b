package aggregate

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tsgate/tsgate/tsdb"
)

// TestReadsDuringFlushes: a reader sees every acknowledged sample exactly
// once while flushes move the head into blocks and rows: the day row's
// count lies between what was acknowledged before and after the read, and
// its sum equals its count (every value is 1). Samples are readable just
// before their fsync, so one batch in flight may be counted too; counting a
// flushing head (≥ 1250 samples) both as head and as stored rows would break
// the upper bound.
func TestReadsDuringFlushes(t *testing.T) {
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{HeadBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := openRollups(t, db, Options{})
	defer r.Close()
	if err := db.CreateSeriesNow(1, tsdb.Float); err != nil {
		t.Fatal(err)
	}
	day := ms("2026-05-01T00:00:00Z")
	var acked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var b tsdb.Batch
		ts := day
		for k := 0; k < 400; k++ {
			b.Reset()
			for range 50 {
				b.AddFloat(1, ts, 1)
				ts += 100
			}
			if err := r.Append(context.Background(), &b, tsdb.Reject); err != nil {
				t.Error(err)
				break
			}
			acked.Add(50)
			if k%25 == 0 {
				if err := db.Flush(); err != nil {
					t.Error(err)
					break
				}
			}
		}
		close(stop)
	}()
	reads := 0
	for done := false; !done; reads++ {
		select {
		case <-stop:
			done = true
		default:
		}
		lo := acked.Load()
		var row Row
		if err := r.ObjectRows(context.Background(), 1, Days, day, day, func(rw *Row) error { row = *rw; return nil }); err != nil {
			t.Fatal(err)
		}
		hi := acked.Load()
		if int64(row.Count) < lo || int64(row.Count) > hi+50 || row.Sum != float64(row.Count) {
			t.Fatalf("read %d: count %d sum %v, acknowledged %d..%d", reads, row.Count, row.Sum, lo, hi)
		}
	}
	wg.Wait()
	if n := r.m.groups.Get(); n == 0 {
		t.Fatal("no rollup group written: the flushes were not observed")
	}
	t.Logf("%d reads", reads)
}

// TestDetachedFlushRebuilds: blocks written while no Rollups is attached
// (a tool opened the DB alone) are noticed at the next Open, which
// recomputes the rows.
func TestDetachedFlushRebuilds(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	ids := []uint32{1, 2}
	createSeries(t, db, len(ids)) // ids are 1…n
	r := openRollups(t, db, Options{})
	m := fillDirect(t, db, ids, 3)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	checkRows(t, r, m, ids, "attached")
	r.Close()
	for id, s := range fillDirect(t, db, ids, 4) {
		for ts, v := range s {
			m.put(id, ts, v)
		}
	}
	if err := db.Flush(); err != nil { // not observed
		t.Fatal(err)
	}
	db.Close()
	db = openDB(t, dir)
	defer db.Close()
	r = openRollups(t, db, Options{})
	defer r.Close()
	if r.m.rebuilds.Get() != 1 {
		t.Fatalf("%d rebuilds at Open, want 1", r.m.rebuilds.Get())
	}
	checkRows(t, r, m, ids, "reopened")
}
