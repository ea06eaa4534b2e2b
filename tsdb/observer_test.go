package tsdb

import (
	"context"
	"math"
	"testing"
)

// mantObserver records what ObserveFlush shows of each series' mantissas.
type mantObserver struct {
	t    *testing.T
	seen map[uint32]bool // id → Mants given
}

func (o *mantObserver) ObserveFlush(_ *FlushView, s *FlushedSeries) error {
	if s.Mants != nil {
		if len(s.Mants) != len(s.Nums) {
			o.t.Fatalf("series %d: %d mantissas for %d values", s.ID, len(s.Mants), len(s.Nums))
		}
		for i, m := range s.Mants {
			if got := DecimalToFloat(m, int16(-s.MantScale)); math.Float64bits(got) != s.Nums[i] {
				o.t.Fatalf("series %d sample %d: %d × 10^-%d = %v, value %v", s.ID, i, m, s.MantScale, got, math.Float64frombits(s.Nums[i]))
			}
		}
	}
	o.seen[s.ID] = s.Mants != nil
	return nil
}
func (o *mantObserver) ObserveFlushEnd(*FlushView) error { return nil }
func (o *mantObserver) ObserveDelete(*DeleteView) error  { return nil }

// TestFlushedSeriesMants: a flush hands the observer each float series'
// decimal mantissas from its block encoding — equal to the values at one
// scale, across all its blocks — and none for a series whose blocks were
// encoded at different scales (more decimals in a later block), with a
// non-decimal value, or of another type.
func TestFlushedSeriesMants(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{MaxBlockSamples: 100})
	defer db.Close()
	obs := &mantObserver{t: t, seen: map[uint32]bool{}}
	if err := db.SetRowsObserver(obs, nil); err != nil {
		t.Fatal(err)
	}
	for id, typ := range map[uint32]ValueType{1: Float, 2: Float, 3: Float, 4: Int} {
		if err := db.CreateSeriesNow(id, typ); err != nil {
			t.Fatal(err)
		}
	}
	var b Batch
	for k := 0; k < 250; k++ {
		ts := int64(1_700_000_000_000 + k*60_000)
		b.AddFloat(1, ts, float64(2000+k)/100) // one scale in every block
		v := float64(k) / 10                   // blocks at 1 decimal …
		if k >= 200 {
			v = float64(k) / 1000 // … and a last block at 3
		}
		b.AddFloat(2, ts, v)
		if k == 120 {
			b.AddFloat(3, ts, math.NaN())
		} else {
			b.AddFloat(3, ts, float64(k))
		}
		b.AddInt(4, ts, int64(k))
	}
	if err := db.Append(context.Background(), &b, Reject); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	want := map[uint32]bool{1: true, 2: false, 3: false, 4: false}
	for id, w := range want {
		if got, ok := obs.seen[id]; !ok || got != w {
			t.Errorf("series %d: mantissas given %v (seen %v), want %v", id, got, ok, w)
		}
	}
}
