package aggregate

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/tsgate/tsgate/tsdb"
)

func openDB(t testing.TB, dir string) *tsdb.DB {
	t.Helper()
	db, err := tsdb.Open(dir, tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func openRollups(t testing.TB, db *tsdb.DB, opts Options) *Rollups {
	t.Helper()
	r, err := Open(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// abandon drops r the way a crash does: nothing is left to commit (rows
// are written by tsdb's flushes), so it only detaches.
func (r *Rollups) abandon() { _ = r.Close() }

// model is the raw data the rows must reflect: object → ts → stored value
// (NaN and ±Inf included: the brute force leaves them out).
type model map[uint32]map[int64]float64

func (m model) put(id uint32, ts int64, v float64) {
	if m[id] == nil {
		m[id] = map[int64]float64{}
	}
	m[id][ts] = v
}

// brute computes the rows of one object's samples directly (two passes),
// and for each row the greatest |v| of its window (the tolerance's scale).
func brute(samples map[int64]float64, res Resolution) ([]Row, []float64) {
	ts := make([]int64, 0, len(samples))
	for t, v := range samples {
		if usable(v) {
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	var out []Row
	var maxV []float64
	for i := 0; i < len(ts); {
		start := res.WindowStart(ts[i])
		j := i
		for j < len(ts) && res.WindowStart(ts[j]) == start {
			j++
		}
		r := Row{Start: start, Count: uint64(j - i), Min: math.Inf(1), Max: math.Inf(-1)}
		m := 0.0
		for _, t := range ts[i:j] {
			v := samples[t]
			r.Sum += v
			r.Min = min(r.Min, v)
			r.Max = max(r.Max, v)
			m = max(m, math.Abs(v))
		}
		r.Mean = r.Sum / float64(r.Count)
		for _, t := range ts[i:j] {
			d := samples[t] - r.Mean
			r.M2 += d * d
		}
		r.First, r.FirstTs = samples[ts[i]], ts[i]
		r.Last, r.LastTs = samples[ts[j-1]], ts[j-1]
		out = append(out, r)
		maxV = append(maxV, m)
		i = j
	}
	return out, maxV
}

// rowsEqual compares a stored row with the brute-force one within
// 1e-9 × max(|a|, |b|, max |v|) (DESIGN.md §5).
func rowsEqual(got, want *Row, maxV float64) error {
	if got.Start != want.Start || got.Count != want.Count || got.FirstTs != want.FirstTs || got.LastTs != want.LastTs {
		return fmt.Errorf("start/count/firstTs/lastTs %d/%d/%d/%d, want %d/%d/%d/%d",
			got.Start, got.Count, got.FirstTs, got.LastTs, want.Start, want.Count, want.FirstTs, want.LastTs)
	}
	for _, f := range []struct {
		name string
		a, b float64
	}{
		{"sum", got.Sum, want.Sum}, {"mean", got.Mean, want.Mean}, {"std", got.Std(), want.Std()},
		{"min", got.Min, want.Min}, {"max", got.Max, want.Max}, {"first", got.First, want.First}, {"last", got.Last, want.Last},
	} {
		tol := 1e-9 * max(math.Abs(f.a), math.Abs(f.b), maxV)
		if math.Abs(f.a-f.b) > tol {
			return fmt.Errorf("%s %v, want %v (tolerance %g)", f.name, f.a, f.b, tol)
		}
	}
	return nil
}

// checkRows compares every row of every resolution of ids with the brute
// force over m.
func checkRows(t testing.TB, r *Rollups, m model, ids []uint32, label string) {
	t.Helper()
	checkRowsRange(t, r, m, ids, 0, tsdb.MaxTimestamp, label)
	checkRowsRange(t, r, m, ids, math.MinInt64, math.MaxInt64, label+" (unbounded)")
}

// checkRowsRange is checkRows for the windows starting in [from, to].
func checkRowsRange(t testing.TB, r *Rollups, m model, ids []uint32, from, to int64, label string) {
	t.Helper()
	for _, res := range []Resolution{Quarters, Hours, Days} {
		got := map[uint32][]Row{}
		err := r.Rows(context.Background(), ids, res, from, to, func(id uint32, row *Row) error {
			got[id] = append(got[id], *row)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: Rows %s: %v", label, res, err)
		}
		for _, id := range ids {
			var want []Row
			var wantMax []float64
			all, allMax := brute(m[id], res)
			for k, w := range all {
				if w.Start >= from && w.Start <= to {
					want = append(want, w)
					wantMax = append(wantMax, allMax[k])
				}
			}
			g := got[id]
			if len(g) != len(want) {
				t.Fatalf("%s: object %d %s: %d rows, want %d\n got %v\nwant %v", label, id, res, len(g), len(want), starts(g), starts(want))
			}
			for i := range want {
				if err := rowsEqual(&g[i], &want[i], wantMax[i]); err != nil {
					t.Fatalf("%s: object %d %s window %s: %v", label, id, res, fmtTs(want[i].Start), err)
				}
			}
		}
	}
}

func starts(rows []Row) []string {
	var s []string
	for _, r := range rows {
		s = append(s, fmt.Sprintf("%s(%d)", fmtTs(r.Start), r.Count))
	}
	return s
}

// scanModel reads every series' samples back into a model.
func scanModel(t testing.TB, db *tsdb.DB, ids []uint32) model {
	m := model{}
	for _, id := range ids {
		it, err := db.Scan(id, 0, tsdb.MaxTimestamp)
		if err != nil {
			t.Fatal(err)
		}
		for it.Next() {
			m.put(id, it.Timestamp(), it.Float())
		}
		if err := it.Close(); err != nil {
			t.Fatal(fmt.Errorf("scan %d: %w", id, err))
		}
	}
	return m
}
