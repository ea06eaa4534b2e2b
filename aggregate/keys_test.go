package aggregate

import (
	"context"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/tsgate/tsgate/tsdb"
)

// TestObjectEpochsAndDeleteGroups: objectEpochs finds exactly the epochs
// holding an object's groups (against a brute force over the stored keys),
// skipping empty epochs, and deleteGroups removes exactly the groups of an
// object and span, short spans (epoch by epoch) and long ones (populated
// epochs only) alike.
func TestObjectEpochsAndDeleteGroups(t *testing.T) {
	pdb, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	r := &Rollups{pdb: pdb}
	rnd := rand.New(rand.NewSource(7))
	type gk struct {
		id    uint32
		start int64
	}
	for round := 0; round < 40; round++ {
		// A fresh keyspace: groups of 1–6 objects over up to 300 epochs,
		// sparse, in all three resolutions.
		if err := pdb.DeleteRange(keyspaceLo, keyspaceHi, pebble.Sync); err != nil {
			t.Fatal(err)
		}
		stored := map[Resolution]map[gk]bool{}
		pb := pdb.NewBatch()
		for _, res := range allResolutions {
			stored[res] = map[gk]bool{}
			n := rnd.Intn(400)
			for i := 0; i < n; i++ {
				k := gk{uint32(1 + rnd.Intn(6)), res.groupStart(int64(rnd.Intn(300)) * res.epochSpan() / 3)}
				stored[res][k] = true
				if err := pb.Set(groupKey(res, k.id, k.start, uint64(1+rnd.Intn(3))), []byte{groupVer}, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := pb.Commit(pebble.Sync); err != nil {
			t.Fatal(err)
		}
		res := allResolutions[rnd.Intn(3)]
		id := uint32(1 + rnd.Intn(6))
		e0 := uint32(rnd.Intn(120))
		e1 := e0 + uint32(rnd.Intn(150))
		var want []uint32
		for k := range stored[res] {
			if e := res.epochOf(k.start); k.id == id && e >= e0 && e <= e1 && !slices.Contains(want, e) {
				want = append(want, e)
			}
		}
		slices.Sort(want)
		it, err := pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefix, res.kind()}, UpperBound: []byte{prefix, res.kind() + 1}})
		if err != nil {
			t.Fatal(err)
		}
		var got []uint32
		if err := objectEpochs(it, res, id, e0, e1, func(e uint32) error { got = append(got, e); return nil }); err != nil {
			t.Fatal(err)
		}
		it.Close()
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: %s epochs of %d in [%d, %d]: %v, want %v", round, res, id, e0, e1, got, want)
		}

		// Delete a span: short (≤ a few epochs) or long.
		span := res.epochSpan() * int64(1+rnd.Intn(3))
		if rnd.Intn(2) == 0 {
			span = res.epochSpan() * int64(20+rnd.Intn(200))
		}
		from := res.groupStart(int64(rnd.Intn(200)) * res.epochSpan() / 2)
		to := from + span
		pb = pdb.NewBatch()
		if err := r.deleteGroups(pb, res, id, from, to); err != nil {
			t.Fatal(err)
		}
		if err := pb.Commit(pebble.Sync); err != nil {
			t.Fatal(err)
		}
		left := map[gk]bool{}
		it, err = pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefix, res.kind()}, UpperBound: []byte{prefix, res.kind() + 1}})
		if err != nil {
			t.Fatal(err)
		}
		for it.First(); it.Valid(); it.Next() {
			e, kid, start, _, ok := parseGroupKey(it.Key())
			if !ok || e != res.epochOf(start) {
				t.Fatalf("bad key %x", it.Key())
			}
			left[gk{kid, start}] = true
		}
		it.Close()
		for k := range stored[res] {
			gone := k.id == id && k.start >= from && k.start < to
			if left[k] == gone {
				t.Fatalf("round %d: %s group (%d, %d) after deleting [%d, %d) of %d: present %v", round, res, k.id, k.start, from, to, id, left[k])
			}
		}
	}
}

// TestFlushTablesPerEpoch: a flush writes its groups as one sstable per
// resolution and epoch, so the groups of epochs no earlier flush touched
// are placed straight in the bottom level, where no compaction rewrites
// them (with the object first in the key, every flush's table overlapped
// all rollup keys stored before it and went to L0).
func TestFlushTablesPerEpoch(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	ids := []uint32{1, 2, 3, 4, 5}
	createSeries(t, db, len(ids))
	r := openRollups(t, db, Options{})
	defer r.Close()
	base := ms("2026-04-01T00:00:00Z")
	bottom := func() uint64 {
		m := db.Pebble().Metrics()
		return m.Levels[len(m.Levels)-1].TablesIngested
	}
	for day := int64(0); day < 3; day++ {
		var b tsdb.Batch
		for _, id := range ids {
			for k := int64(0); k < 24*60; k += 5 {
				b.AddFloat(id, base+day*dayMs+k*60_000, float64(k%97)/4)
			}
		}
		if err := r.Append(context.Background(), &b, tsdb.Reject); err != nil {
			t.Fatal(err)
		}
		// A compaction writing into the bottom level over a table's range
		// keeps the table out of that level (Pebble's ingestTargetLevel):
		// the first memtable flush spans every prefix.
		db.WaitIdle(time.Minute)
		before := bottom()
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
		// The day's four quarter epochs are new: four tables in the bottom
		// level (the hour and day epochs hold earlier days already).
		if n := bottom() - before; n < 4 {
			t.Errorf("day %d: %d tables ingested into the bottom level, want ≥ 4 (the quarter epochs)", day, n)
		}
	}
	checkRows(t, r, scanModel(t, db, ids), ids, "after three flushes")
}
