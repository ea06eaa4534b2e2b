package tsdb

import (
	"context"
	"errors"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// TestGrowerGrowsFillingHeads: a head filled past 7/8 of its capacity is
// grown by half by the grower, off the append path, and keeps its samples.
func TestGrowerGrowsFillingHeads(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{})
	defer db.Close()
	mustCreate(t, db, 5, Float)
	ctx := context.Background()
	var b Batch
	const base = int64(1_700_000_000_000)
	const n = 57 // inline doubling reaches capacity 64 at the 33rd sample
	for i := 0; i < n; i++ {
		b.Reset()
		b.AddFloat(5, base+int64(i), float64(i))
		if err := db.Append(ctx, &b, Reject); err != nil {
			t.Fatal(err)
		}
	}
	s, err := db.series(5)
	if err != nil {
		t.Fatal(err)
	}
	headCap := func() int {
		st := db.stripe(5)
		db.big.RLock()
		st.Lock()
		defer func() { st.Unlock(); db.big.RUnlock() }()
		return cap(s.head.ts)
	}
	// 57 samples fit in 64: only the grower (asked at 56 = 7/8) makes it 96.
	deadline := time.Now().Add(10 * time.Second)
	for headCap() != 96 {
		if time.Now().After(deadline) {
			t.Fatalf("head capacity stayed %d; the grower did not grow it by half", headCap())
		}
		time.Sleep(time.Millisecond)
	}
	ts, vs := scanAll(t, db, 5, base, base+1000)
	if len(ts) != n {
		t.Fatalf("%d samples after growth, want %d", len(ts), n)
	}
	for i := range ts {
		if ts[i] != base+int64(i) || vs[i].Float() != float64(i) {
			t.Fatalf("sample %d = %d %v", i, ts[i], vs[i])
		}
	}
}

// TestAppendLoadsManySeries: a batch naming hundreds of series not loaded
// yet (created since Open) loads them in one pass; an unknown id among them
// fails the batch with its index and stores nothing.
func TestAppendLoadsManySeries(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{})
	defer db.Close()
	const n = 500
	for id := uint32(1); id <= n; id++ {
		mustCreate(t, db, id*3, Int)
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	var b Batch
	for _, i := range rng.Perm(n) {
		id := uint32(i+1) * 3
		b.AddInt(id, 1000, int64(id))
		b.AddInt(id, 2000, -int64(id))
	}
	var bad Batch
	bad.setShifted(&b, 0)
	bad.AddInt(4, 1000, 1) // never created
	err := db.Append(ctx, &bad, Reject)
	var se *SampleError
	if !errors.As(err, &se) || !errors.Is(err, ErrUnknownSeries) || se.Index != 2*n || se.ID != 4 {
		t.Fatalf("Append with an unknown series = %v, want ErrUnknownSeries at index %d", err, 2*n)
	}
	if c, _ := db.Count(3); c != 0 {
		t.Fatalf("a failed batch stored %d samples", c)
	}
	if err := db.Append(ctx, &b, Reject); err != nil {
		t.Fatal(err)
	}
	for id := uint32(1); id <= n; id++ {
		ts, vs := scanAll(t, db, id*3, 0, 3000)
		if len(ts) != 2 || vs[0].Int() != int64(id*3) || vs[1].Int() != -int64(id*3) {
			t.Fatalf("series %d: %v %v", id*3, ts, vs)
		}
	}
}

// TestLoadSeriesReadsStats: a series read back from Pebble has the stats
// and read count its flush persisted.
func TestLoadSeriesReadsStats(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{})
	defer db.Close()
	mustCreate(t, db, 9, Float)
	var b Batch
	for i := int64(0); i < 10; i++ {
		b.AddFloat(9, 60_000*i, 1)
	}
	if err := db.Append(context.Background(), &b, Reject); err != nil {
		t.Fatal(err)
	}
	db.AddReads(9, 3)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	s, err := db.loadSeries(9)
	if err != nil || s == nil {
		t.Fatalf("loadSeries = %v, %v", s, err)
	}
	if s.st.Count != 10 || s.st.NWrites != 10 || s.st.LastTs != 540_000 || s.blkMax != 540_000 || s.reads.Load() != 3 {
		t.Fatalf("loaded stats %+v blkMax %d reads %d", s.st, s.blkMax, s.reads.Load())
	}
	if s, err := db.loadSeries(10); s != nil || err != nil {
		t.Fatalf("loadSeries(unknown) = %v, %v", s, err)
	}
}

// TestChunkSearch: the tail-first search answers as a plain bisection does,
// for chunks of any length and timestamps before, inside, between and after.
func TestChunkSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 40; n++ {
		var c chunk
		ts := int64(0)
		for i := 0; i < n; i++ {
			ts += 1 + rng.Int64N(3)
			c.ts = append(c.ts, ts)
		}
		for q := int64(-1); q <= ts+2; q++ {
			want := sort.Search(len(c.ts), func(i int) bool { return c.ts[i] >= q })
			wantFound := want < len(c.ts) && c.ts[want] == q
			got, found := c.search(q)
			if got != want || found != wantFound {
				t.Fatalf("n=%d search(%d) = %d %v, want %d %v (%v)", n, q, got, found, want, wantFound, c.ts)
			}
		}
	}
}
