package aggregate

import (
	"math"
	"testing"

	"github.com/tsgate/tsgate/tsdb"
)

// BenchmarkFoldQuarters: folding one object's flushed head (1500 samples at
// 1/min, two-decimal values) into quarter rows, then hours and days, and
// encoding the groups — the per-sample rollup work of a flush, without
// Pebble (the values' decimal mantissas come from tsdb's block encoding, as
// in a flush). ns/sample.
func BenchmarkFoldQuarters(b *testing.B) {
	const n = 1500
	ts := make([]int64, n)
	nums := make([]uint64, n)
	mants := make([]int64, n)
	start := ms("2026-01-01T00:00:00Z")
	for i := range ts {
		ts[i] = start + int64(i)*60_000
		m := int64(math.Round((20 + math.Sin(float64(i)/50)*5) * 100))
		nums[i], mants[i] = math.Float64bits(float64(m)/100), m
	}
	var q, h, d []Row
	var g group
	var buf []byte
	var cols groupCols
	b.ResetTimer()
	for b.Loop() {
		q = foldQuarters(q[:0], tsdb.Float, ts, nums, mants, 2)
		h = coarsen(h[:0], q, Hours)
		d = coarsen(d[:0], h, Days)
		for _, set := range [...]struct {
			res  Resolution
			rows []Row
		}{{Quarters, q}, {Hours, h}, {Days, d}} {
			gs := int64(-1)
			for i := range set.rows {
				if s := set.res.groupStart(set.rows[i].Start); s != gs {
					if gs >= 0 {
						buf = appendGroup(buf[:0], &g, &cols)
					}
					gs = s
					g.reset(set.res, s)
				}
				g.merge(&set.rows[i])
			}
			buf = appendGroup(buf[:0], &g, &cols)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sample")
}
