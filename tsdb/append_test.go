package tsdb

import (
	"context"
	"errors"
	"math"
	"testing"
)

func mustCreate(t testing.TB, db *DB, id uint32, typ ValueType) {
	t.Helper()
	if err := db.CreateSeriesNow(id, typ); err != nil {
		t.Fatalf("CreateSeriesNow(%d): %v", id, err)
	}
}

func scanAll(t testing.TB, db *DB, id uint32, from, to int64) ([]int64, []Value) {
	t.Helper()
	it, err := db.Scan(id, from, to)
	if err != nil {
		t.Fatalf("Scan(%d): %v", id, err)
	}
	defer it.Close()
	var ts []int64
	var vs []Value
	for it.Next() {
		ts = append(ts, it.Timestamp())
		vs = append(vs, it.Value())
	}
	if err := it.Err(); err != nil {
		t.Fatalf("Scan(%d): %v", id, err)
	}
	return ts, vs
}

func TestAppendScanBasic(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, Options{})
	mustCreate(t, db, 1, Float)
	mustCreate(t, db, 2, Int)
	var b Batch
	b.AddFloat(1, 1000, 1.5)
	b.AddFloat(1, 3000, 3.25)
	b.AddFloat(1, 2000, -2)
	b.AddInt(2, 5, math.MaxInt64)
	ctx := context.Background()
	if err := db.Append(ctx, &b, Reject); err != nil {
		t.Fatal(err)
	}
	check := func(stage string) {
		t.Helper()
		ts, vs := scanAll(t, db, 1, 1000, 3000)
		if len(ts) != 3 || ts[0] != 1000 || ts[1] != 2000 || ts[2] != 3000 || vs[1].Float() != -2 {
			t.Fatalf("%s: scan = %v %v", stage, ts, vs)
		}
		ts, _ = scanAll(t, db, 1, 1001, 2999)
		if len(ts) != 1 {
			t.Fatalf("%s: inner scan = %v", stage, ts)
		}
		_, vs = scanAll(t, db, 2, 0, 10)
		if len(vs) != 1 || vs[0].Int() != math.MaxInt64 {
			t.Fatalf("%s: int scan = %v", stage, vs)
		}
		st, err := db.Stats(1)
		if err != nil || st.Count != 3 || st.NWrites != 3 || st.LastTs != 3000 || st.FirstTs != 1000 || st.AvgSamplePeriod != 2000 {
			t.Fatalf("%s: stats = %+v, %v", stage, st, err)
		}
		l, ok, err := db.Latest(1, 2500)
		if err != nil || !ok || l.TS != 2000 {
			t.Fatalf("%s: Latest = %+v %v %v", stage, l, ok, err)
		}
	}
	check("head")
	// Duplicate under reject.
	b.Reset()
	b.AddFloat(1, 4000, 9)
	b.AddFloat(1, 2000, 9)
	err := db.Append(ctx, &b, Reject)
	var se *SampleError
	if !errors.As(err, &se) || !errors.Is(err, ErrDuplicate) || se.Index != 1 {
		t.Fatalf("duplicate append = %v", err)
	}
	check("after rejected batch")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir, Options{})
	check("replayed")
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	check("flushed")
	db.Close()
	db = openTest(t, dir, Options{})
	defer db.Close()
	check("reopened after flush")
	b.Reset()
	b.AddFloat(1, 2000, 9)
	if err := db.Append(ctx, &b, Reject); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate against blocks = %v", err)
	}
	if err := db.Append(ctx, &b, Overwrite); err != nil {
		t.Fatal(err)
	}
	_, vs := scanAll(t, db, 1, 2000, 2000)
	if len(vs) != 1 || vs[0].Float() != 9 {
		t.Fatalf("overwrite = %v", vs)
	}
	st, _ := db.Stats(1)
	if st.Count != 3 || st.NWrites != 4 {
		t.Fatalf("stats after overwrite = %+v", st)
	}
	// Errors.
	for _, tc := range []struct {
		add  func(*Batch)
		want error
	}{
		{func(b *Batch) { b.AddFloat(99, 1, 1) }, ErrUnknownSeries},
		{func(b *Batch) { b.AddInt(1, 1, 1) }, ErrWrongType},
		{func(b *Batch) { b.AddFloat(1, -1, 1) }, ErrTimestampRange},
		{func(b *Batch) { b.AddFloat(1, MaxTimestamp+1, 1) }, ErrTimestampRange},
		{func(b *Batch) { b.AddFloat(1, 10, 1); b.AddFloat(1, 10, 2) }, ErrDuplicate},
	} {
		b.Reset()
		tc.add(&b)
		if err := db.Append(ctx, &b, Reject); !errors.Is(err, tc.want) {
			t.Errorf("Append = %v, want %v", err, tc.want)
		}
	}
	check2, _ := scanAll(t, db, 1, 0, 20)
	if len(check2) != 0 {
		t.Fatalf("failed batches left samples: %v", check2)
	}
}

// TestAppendAllocs: Append allocates per call (Pebble batch, pools), never per
// sample: a batch of 5000 costs about what a batch of 50 does.
func TestAppendAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are noisy under -short parallel runs")
	}
	db := openTest(t, t.TempDir(), Options{})
	defer db.Close()
	for id := uint32(1); id <= 50; id++ {
		mustCreate(t, db, id, Float)
	}
	ts := int64(0)
	allocs := func(n int) float64 {
		var b Batch
		return testing.AllocsPerRun(20, func() {
			b.Reset()
			for i := 0; i < n; i++ {
				b.AddFloat(uint32(1+i%50), ts+int64(i/50), float64(i))
			}
			ts += int64(n/50) + 1
			if err := db.Append(context.Background(), &b, Reject); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, big := allocs(50), allocs(5000)
	t.Logf("allocs per Append: 50 samples %.0f, 5000 samples %.0f", small, big)
	if big > small+60 {
		t.Fatalf("Append of 5000 samples allocates %.0f times vs %.0f for 50: per-sample allocation?", big, small)
	}
}
