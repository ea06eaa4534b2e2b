package query

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tsgate/tsgate/aggregate"
	"github.com/tsgate/tsgate/tsdb"
)

// TestAggregateRollupsEqualRaw: the rows served from the aggregate package equal the rows
// RawRollups computes from the same raw data (float and int objects, every granularity,
// random ranges), so swapping Options.Rollups changes no output.
func TestAggregateRollupsEqualRaw(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	types := map[uint32]tsdb.ValueType{1: tsdb.Float, 2: tsdb.Int, 3: tsdb.Float}
	for id, typ := range types {
		if err := db.CreateSeriesNow(id, typ); err != nil {
			t.Fatal(err)
		}
	}
	base := int64(1735689600000)
	var b tsdb.Batch
	for id, typ := range types {
		for ts := base + int64(r.IntN(600_000)); ts < base+3*86400_000; ts += int64(1 + r.IntN(40*60_000)) {
			if typ == tsdb.Int {
				b.AddInt(id, ts, int64(r.IntN(1_000_000)-500_000))
			} else {
				b.AddFloat(id, ts, math.Round(r.NormFloat64()*1e4)/100)
			}
		}
	}
	if err := db.Append(context.Background(), &b, tsdb.Reject); err != nil {
		t.Fatal(err)
	}
	ro, err := aggregate.Open(db, aggregate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	agg, raw := AggregateRollups{R: ro}, RawRollups{DB: db}
	collect := func(rr Rollups, id uint32, g Granularity, from, to int64) []Row {
		var out []Row
		if err := rr.Rows(id, types[id], g, from, to, func(r *Row) bool { out = append(out, *r); return true }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for range 60 {
		id := uint32(1 + r.IntN(3))
		g := Granularity(1 + r.IntN(3))
		from := base - 3600_000 + int64(r.IntN(4*86400_000))
		to := from + int64(r.IntN(2*86400_000))
		a, w := collect(agg, id, g, from, to), collect(raw, id, g, from, to)
		if len(a) != len(w) {
			t.Fatalf("object %d %s [%d, %d]: %d rows from aggregate, %d from raw", id, g, from, to, len(a), len(w))
		}
		isInt := types[id] == tsdb.Int
		for i := range a {
			x, y := &a[i], &w[i]
			tol := 1e-9 * math.Max(1, math.Max(math.Abs(x.Max), math.Abs(x.Min)))
			ok := x.Start == y.Start && x.Count == y.Count && x.FirstTs == y.FirstTs && x.LastTs == y.LastTs &&
				math.Abs(x.Mean-y.Mean) <= tol && math.Abs(x.Std()-y.Std()) <= tol
			if isInt {
				ok = ok && x.IntMin == y.IntMin && x.IntMax == y.IntMax && x.IntLast == y.IntLast && x.IntSum == y.IntSum
			} else {
				ok = ok && x.Min == y.Min && x.Max == y.Max && x.Last == y.Last && math.Abs(x.Sum-y.Sum) <= tol*float64(x.Count)
			}
			if !ok {
				t.Fatalf("object %d %s row %d:\naggregate %+v\nraw       %+v", id, g, i, *x, *y)
			}
		}
	}
}
