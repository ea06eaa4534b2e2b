package tsdb

import (
	"context"
	"math"
	"math/rand"
	"testing"
	"time"
)

type scanned struct {
	ts []int64
	vs []Value
}

// scanNext reads id's samples in [from, to] with Next.
func scanNext(t *testing.T, db *DB, id uint32, from, to int64) scanned {
	t.Helper()
	it, err := db.Scan(id, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var s scanned
	for it.Next() {
		s.ts = append(s.ts, it.Timestamp())
		s.vs = append(s.vs, it.Value())
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return s
}

// runValue is sample i of r as a Value, checking the run's decimal form.
func runValue(t *testing.T, r *Run, i int) Value {
	t.Helper()
	switch r.Type() {
	case Float:
		f := r.Float(i)
		if mant, exp, ok := r.Decimals(); ok {
			if len(mant) != r.Len() {
				t.Fatalf("Decimals gave %d mantissas for a run of %d", len(mant), r.Len())
			}
			if d := DecimalToFloat(mant[i], exp); math.Float64bits(d) != math.Float64bits(f) {
				t.Fatalf("decimal %d×10^%d = %v, Float = %v", mant[i], exp, d, f)
			}
		}
		return FloatValue(f)
	case Int:
		return IntValue(r.Int(i))
	case Bool:
		return BoolValue(r.Bool(i))
	}
	return StringValue(string(r.Bytes(i)))
}

// scanRuns reads id's samples in [from, to] with NextRun, or (mixed) with
// NextRun and Next chosen at random, checking that the sample accessors
// follow the run's first sample.
func scanRuns(t *testing.T, db *DB, r *rand.Rand, id uint32, from, to int64, mixed bool) (s scanned, runs int) {
	t.Helper()
	it, err := db.Scan(id, from, to)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if mixed && r.Intn(3) == 0 {
			if !it.Next() {
				break
			}
			s.ts = append(s.ts, it.Timestamp())
			s.vs = append(s.vs, it.Value())
			continue
		}
		if !it.NextRun() {
			break
		}
		runs++
		run := it.Run()
		if run.Len() == 0 {
			t.Fatal("empty run")
		}
		if it.Timestamp() != run.Timestamps()[0] || !it.Value().Equal(runValue(t, run, 0)) {
			t.Fatalf("accessors at %d %v, run starts at %d %v", it.Timestamp(), it.Value(), run.Timestamps()[0], runValue(t, run, 0))
		}
		for i, ts := range run.Timestamps() {
			s.ts = append(s.ts, ts)
			v := runValue(t, run, i)
			if v.Type == String { // Bytes aliases the run
				v = StringValue(v.Str())
			}
			s.vs = append(s.vs, v)
		}
	}
	if it.NextRun() || it.Next() {
		t.Fatal("iterator went on after its end")
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return s, runs
}

func sameScan(t *testing.T, what string, got, want scanned) {
	t.Helper()
	if len(got.ts) != len(want.ts) {
		t.Fatalf("%s: %d samples %v, Next gave %d %v", what, len(got.ts), got.ts, len(want.ts), want.ts)
	}
	for i := range got.ts {
		if got.ts[i] != want.ts[i] || !got.vs[i].Equal(want.vs[i]) {
			t.Fatalf("%s: sample %d = %d %v, Next gave %d %v", what, i, got.ts[i], got.vs[i], want.ts[i], want.vs[i])
		}
	}
}

// TestNextRunMatchesNext: on stores with overlapping blocks (late data,
// small blocks, no compaction), duplicates across head, frozen head and
// blocks, every value type and decimal and raw-float blocks, NextRun (alone
// and interleaved with Next) yields exactly Next's samples over random
// ranges.
func TestNextRunMatchesNext(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	db := openTest(t, t.TempDir(), Options{HeadBytes: 2 << 10, MaxBlockSamples: 32})
	defer db.Close()
	types := []ValueType{Float, Int, Bool, String, Float}
	for i, typ := range types {
		mustCreate(t, db, uint32(i+1), typ)
	}
	ctx := context.Background()
	var b Batch
	for step := 0; step < 60; step++ {
		b.Reset()
		base := int64(r.Intn(3000))
		for i := 0; i < 1+r.Intn(80); i++ {
			id := uint32(1 + r.Intn(len(types)))
			ts := base + int64(i)
			if r.Intn(4) == 0 {
				ts = int64(r.Intn(3000)) // late, overlapping
			}
			v := randValue(r, types[id-1])
			if id == 5 && v.Type == Float { // id 5: decimal blocks only
				v = FloatValue(float64(r.Intn(20000)-10000) / 100)
			}
			b.AddValue(id, ts, v)
		}
		if err := db.Append(ctx, &b, Overwrite); err != nil {
			t.Fatal(err)
		}
		if r.Intn(5) == 0 {
			if err := db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		for check := 0; check < 3; check++ {
			id := uint32(1 + r.Intn(len(types)))
			from := int64(r.Intn(3200)) - 100
			to := from + int64(r.Intn(3200))
			if r.Intn(8) == 0 {
				from, to = MinTimestamp, math.MaxInt64
			}
			want := scanNext(t, db, id, from, to)
			got, _ := scanRuns(t, db, r, id, from, to, false)
			sameScan(t, "NextRun", got, want)
			got, _ = scanRuns(t, db, r, id, from, to, true)
			sameScan(t, "NextRun and Next", got, want)
		}
	}
	// compacted: whole blocks come as one run each
	if err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	for id := uint32(1); id <= uint32(len(types)); id++ {
		want := scanNext(t, db, id, MinTimestamp, MaxTimestamp)
		got, runs := scanRuns(t, db, r, id, MinTimestamp, MaxTimestamp, false)
		sameScan(t, "compacted NextRun", got, want)
		if blocks := (len(want.ts) + 31) / 32; runs > blocks {
			t.Fatalf("object %d: %d runs for %d samples in blocks of 32", id, runs, len(want.ts))
		}
	}
}

// TestNextRunDecimals: a compacted decimal series gives runs whose Decimals
// are the stored mantissas (and floats computed on demand).
func TestNextRunDecimals(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{MaxBlockSamples: 100})
	defer db.Close()
	mustCreate(t, db, 1, Float)
	var b Batch
	for i := 0; i < 1000; i++ {
		b.AddFloat(1, int64(i)*60_000, float64(i%700-300)/100)
	}
	if err := db.Append(context.Background(), &b, Reject); err != nil {
		t.Fatal(err)
	}
	if err := db.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	it, err := db.Scan(1, 150*60_000, 849*60_000)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 150
	for it.NextRun() {
		run := it.Run()
		mant, exp, ok := run.Decimals()
		if !ok || exp != -2 {
			t.Fatalf("Decimals = %v, %d, %v", mant, exp, ok)
		}
		for i, ts := range run.Timestamps() {
			if ts != int64(n)*60_000 || mant[i] != int64(n%700-300) || run.Float(i) != float64(n%700-300)/100 {
				t.Fatalf("sample %d: %d %d×10^%d %v", n, ts, mant[i], exp, run.Float(i))
			}
			n++
		}
	}
	if n != 850 {
		t.Fatalf("read up to %d", n)
	}
}
