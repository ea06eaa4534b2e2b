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
