package aggregate

import (
	"math"
	"math/rand"
	"testing"
)

// TestRowCodecRoundTrip: rows of random windows — decimal sensor values,
// integers, arbitrary floats, huge and tiny magnitudes, single values —
// decode with min, max, first, last, count and timestamps exact, and sum,
// mean and std within DESIGN.md §5's tolerance; decimal rows take the short
// form.
func TestRowCodecRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewSource(7))
	gens := []func() float64{
		func() float64 { return math.Round((20+rnd.NormFloat64()*5)*100) / 100 },
		func() float64 { return float64(rnd.Int63n(2_000_000) - 1_000_000) },
		func() float64 { return rnd.NormFloat64() * 1e-7 },
		func() float64 { return rnd.Float64() * 1e300 },
		func() float64 { return math.Round(rnd.NormFloat64()*1e6) / 1e3 },
		func() float64 { return []float64{0.1, 0.2, 0.3, -0.7}[rnd.Intn(4)] },
	}
	start := int64(1_700_000_000_000) / quarterMs * quarterMs
	short := 0
	for i := 0; i < 20000; i++ {
		gen := gens[i%len(gens)]
		var r Row
		r.Start = start
		n := 1 + rnd.Intn(30)
		if i%5 == 0 {
			n = 1
		}
		maxV := 0.0
		for k := 0; k < n; k++ {
			v := gen()
			maxV = max(maxV, math.Abs(v))
			r.Add(start+int64(k)*30_000+int64(rnd.Intn(1000)), v)
		}
		hint := i % 4
		b := appendRow(nil, &r, &hint)
		var got Row
		rest, err := decodeRow(&got, start, b, false)
		if err != nil || len(rest) != 0 {
			t.Fatalf("row %d: %v, %d bytes left", i, err, len(rest))
		}
		if got.Min != r.Min || got.Max != r.Max || got.First != r.First || got.Last != r.Last ||
			got.Count != r.Count || got.FirstTs != r.FirstTs || got.LastTs != r.LastTs {
			t.Fatalf("row %d: got %+v, want %+v", i, got, r)
		}
		if err := rowsEqual(&got, &r, maxV); err != nil {
			t.Fatalf("row %d (%d values): %v", i, n, err)
		}
		var light Row
		if _, err := decodeRow(&light, start, b, true); err != nil || light.Count != r.Count || light.Sum != got.Sum || light.Mean != got.Mean || light.M2 != got.M2 {
			t.Fatalf("row %d stats only: %+v, %v; want the stats of %+v", i, light, err, got)
		}
		if i%len(gens) == 0 && len(b) < 30 {
			short++
		}
	}
	if short < 20000/len(gens)*9/10 {
		t.Fatalf("only %d decimal rows under 30 bytes", short)
	}
}

// FuzzDecodeGroup: corrupt group values give an error, never a panic.
func FuzzDecodeGroup(f *testing.F) {
	var g group
	g.reset(Quarters, 0)
	g.rows[0].Add(1000, 21.5)
	g.rows[0].Add(2000, 22.25)
	g.rows[3].Add(3*quarterMs+5, 1e300)
	f.Add(appendGroup(nil, &g, nil))
	f.Add([]byte{groupVer, 1, 0, 1, 0, 0})
	var col group // decimals only: columnar
	col.reset(Hours, 0)
	for i := range 20 {
		col.rows[i%7].Add(int64(i%7)*hourMs+int64(i)*1000, float64(2000+i*i%17)/100)
	}
	if v := appendGroup(nil, &col, nil); v[0] == groupVerCol {
		f.Add(v)
	} else {
		f.Fatalf("decimal group written as version %d", v[0])
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		var row Row
		for _, res := range allResolutions {
			_ = walkGroup(res, 0, v, false, &row, func(*Row) error { return nil })
			_ = walkGroup(res, 0, v, true, &row, func(*Row) error { return nil })
		}
	})
}
