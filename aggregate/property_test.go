package aggregate

import (
	"context"
	"flag"
	"fmt"
	"github.com/cockroachdb/pebble/v2"
	"math"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/tsgate/tsgate/tsdb"
)

var (
	propSeed  = flag.Int64("aggregate.seed", 0, "seed of TestProperty (0 = time)")
	propSteps = flag.Int("aggregate.steps", 300, "steps of TestProperty")
)

// TestProperty drives random streams through Append — in order, shuffled,
// late by days, duplicates overwriting, NaN and ±Inf, int and float
// objects, retention deletes, object deletes, clean restarts and restarts
// without Close — and checks after every step that every row of every
// resolution equals a brute-force recomputation from the raw samples.
func TestProperty(t *testing.T) {
	seed := *propSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (rerun with -aggregate.seed=%d)", seed, seed)
	rnd := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	db := openDB(t, dir)
	r := openRollups(t, db, Options{})
	defer func() {
		r.Close()
		db.Close()
	}()
	const nObj = 6
	ids := make([]uint32, nObj)
	types := map[uint32]tsdb.ValueType{}
	m := model{}
	cursor := map[uint32]int64{}
	base := ms("2026-01-01T00:00:00Z")
	create := func(id uint32) {
		typ := tsdb.Float
		if id%3 == 0 {
			typ = tsdb.Int
		}
		if err := db.CreateSeriesNow(id, typ); err != nil {
			t.Fatal(err)
		}
		types[id] = typ
		cursor[id] = base + rnd.Int63n(3*dayMs)
	}
	for i := range ids {
		ids[i] = uint32(i + 1)
		create(ids[i])
	}
	value := func(id uint32) float64 {
		if types[id] == tsdb.Int {
			return float64(rnd.Int63n(2000) - 1000)
		}
		switch rnd.Intn(40) {
		case 0:
			return math.NaN()
		case 1:
			return math.Inf(1 - 2*rnd.Intn(2))
		}
		return math.Round((1e6+rnd.NormFloat64()*50)*100) / 100
	}
	add := func(b *tsdb.Batch, id uint32, ts int64, v float64) {
		if types[id] == tsdb.Int {
			b.AddInt(id, ts, int64(v))
		} else {
			b.AddFloat(id, ts, v)
		}
	}
	type smp struct {
		id uint32
		ts int64
		v  float64
	}
	for step := 0; step < *propSteps; step++ {
		var list []smp
		dup := tsdb.Overwrite
		op := rnd.Intn(100)
		switch {
		case op < 40: // in order
			for range 1 + rnd.Intn(60) {
				id := ids[rnd.Intn(nObj)]
				cursor[id] += 1 + rnd.Int63n([]int64{1000, 60_000, 20 * 60_000, 3 * hourMs}[rnd.Intn(4)])
				list = append(list, smp{id, cursor[id], value(id)})
			}
			if rnd.Intn(2) == 0 {
				dup = tsdb.Reject
			}
		case op < 55: // shuffled around the cursor
			for range 1 + rnd.Intn(40) {
				id := ids[rnd.Intn(nObj)]
				list = append(list, smp{id, cursor[id] - 2*hourMs + rnd.Int63n(3*hourMs), value(id)})
			}
			for _, s := range list {
				cursor[s.id] = max(cursor[s.id], s.ts)
			}
		case op < 70: // late by days
			for range 1 + rnd.Intn(10) {
				id := ids[rnd.Intn(nObj)]
				list = append(list, smp{id, cursor[id] - rnd.Int63n(10*dayMs), value(id)})
			}
		case op < 82: // overwrite existing samples, duplicates inside the batch too
			for range 1 + rnd.Intn(10) {
				id := ids[rnd.Intn(nObj)]
				for ts := range m[id] {
					list = append(list, smp{id, ts, value(id)})
					if rnd.Intn(3) == 0 {
						list = append(list, smp{id, ts, value(id)})
					}
					break
				}
			}
		case op < 86: // reject a duplicate: nothing changes
			for id, s := range m {
				for ts := range s {
					list = append(list, smp{id, cursor[id] + 1, value(id)}, smp{id, ts, value(id)})
					break
				}
				break
			}
			dup = tsdb.Reject
		case op < 89: // retention (day-aligned) or an arbitrary range delete
			id := ids[rnd.Intn(nObj)]
			from := dayStart(cursor[id] - rnd.Int63n(8*dayMs))
			to := from + dayMs*(1+rnd.Int63n(2)) - 1
			if rnd.Intn(2) == 0 {
				from += rnd.Int63n(dayMs)
				to = from + rnd.Int63n(2*dayMs)
			}
			if err := r.DeleteRange(id, from, to); err != nil {
				t.Fatalf("step %d: DeleteRange: %v", step, err)
			}
			for ts := range m[id] {
				if ts >= from && ts <= to {
					delete(m[id], ts)
				}
			}
		case op < 91: // delete an object and create it again
			id := ids[rnd.Intn(nObj)]
			if err := r.DeleteObject(id); err != nil {
				t.Fatalf("step %d: DeleteObject: %v", step, err)
			}
			delete(m, id)
			create(id)
		case op < 95: // clean restart
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			db.Close()
			db = openDB(t, dir)
			r = openRollups(t, db, Options{})
		default: // restart without Close (what a crash leaves, plus the unsynced tail)
			r.abandon()
			db.Close()
			db = openDB(t, dir)
			r = openRollups(t, db, Options{})
		}
		if len(list) > 0 {
			var b tsdb.Batch
			for _, s := range list {
				add(&b, s.id, s.ts, s.v)
			}
			err := r.Append(context.Background(), &b, dup)
			if err == nil {
				for _, s := range list {
					m.put(s.id, s.ts, s.v)
				}
			} else if dup != tsdb.Reject {
				t.Fatalf("step %d: Append: %v", step, err)
			}
		}
		if rnd.Intn(4) == 0 { // rows are written by flushes: flush at random points
			if err := db.Flush(); err != nil {
				t.Fatalf("step %d: Flush: %v", step, err)
			}
		}
		checkRows(t, r, m, ids, fmt.Sprintf("step %d (seed %d)", step, seed))
		// A random range, edges on and off window starts.
		c := cursor[ids[0]]
		from := c - rnd.Int63n(5*dayMs)
		to := from + rnd.Int63n(3*dayMs)
		if rnd.Intn(2) == 0 {
			from, to = hourStart(from), hourStart(to)
		}
		checkRowsRange(t, r, m, ids[rnd.Intn(2):], from, to, fmt.Sprintf("step %d range (seed %d)", step, seed))
	}
	// Both group forms were under test: columnar (decimals) and row by row
	// (NaN, ±Inf, short groups).
	forms := map[byte]int{}
	it, err := db.Pebble().NewIter(&pebble.IterOptions{LowerBound: []byte{prefix, 'd'}, UpperBound: []byte{prefix, 'r'}})
	if err != nil {
		t.Fatal(err)
	}
	for it.First(); it.Valid(); it.Next() {
		if _, _, _, _, ok := parseGroupKey(it.Key()); ok && len(it.Value()) > 0 {
			forms[it.Value()[0]]++
		}
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if forms[groupVer] == 0 || forms[groupVerCol] == 0 {
		t.Fatalf("group forms stored (version → count): %v", forms)
	}
}

// TestConcurrentAppends: writers appending to the same objects at once,
// in order, late and overwriting, then the rows against the raw data.
func TestConcurrentAppends(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	db := openDB(t, t.TempDir())
	defer db.Close()
	r := openRollups(t, db, Options{})
	defer r.Close()
	ids := []uint32{1, 2, 3}
	for _, id := range ids {
		if err := db.CreateSeriesNow(id, tsdb.Float); err != nil {
			t.Fatal(err)
		}
	}
	base := ms("2026-03-01T00:00:00Z")
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rnd := rand.New(rand.NewSource(seed + int64(w)))
			var b tsdb.Batch
			for k := 0; k < 150; k++ {
				b.Reset()
				for range 1 + rnd.Intn(20) {
					// A small grid of timestamps: writers collide on purpose.
					ts := base + int64(k)*5*60_000 + rnd.Int63n(40)*60_000 - rnd.Int63n(3)*dayMs
					b.AddFloat(ids[rnd.Intn(len(ids))], ts, float64(rnd.Intn(1000)))
				}
				if err := r.Append(context.Background(), &b, tsdb.Overwrite); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	// The model is what tsdb kept (the last writer of each timestamp).
	m := scanModel(t, db, ids)
	checkRows(t, r, m, ids, "concurrent")
}
