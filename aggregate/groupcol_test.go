package aggregate

import (
	"math"
	"math/big"
	"math/rand"
	"testing"

	"github.com/tsgate/tsgate/tsdb"
)

// TestGroupCodecRoundTrip: groups of random windows of every resolution —
// sensor decimals, mixed decimal lengths, integers, values past the exact
// moments' bounds, arbitrary floats, single values, gaps — decode to rows
// equal to the encoded ones (min, max, first, last, count and timestamps
// exact; sum, mean and std within DESIGN.md §5's tolerance of a brute-force
// recomputation). Groups of decimals (minColRows rows or more) take the
// columnar form, and sensor quarter rows take under 14 bytes each.
func TestGroupCodecRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewSource(11))
	walk := 20.0
	gens := []struct {
		name string
		v    func() float64
		col  bool // every group columnar
	}{
		{"sensor", func() float64 { walk += rnd.NormFloat64() * 0.05; return math.Round(walk*100) / 100 }, true},
		{"mixed decimals", func() float64 { return math.Round(rnd.NormFloat64()*1e4) / []float64{1, 10, 100, 1000}[rnd.Intn(4)] }, true},
		{"integers", func() float64 { return float64(rnd.Int63n(2_000_000) - 1_000_000) }, true},
		{"big integers", func() float64 { return float64(rnd.Int63n(1<<50) + 1<<40) }, false},
		{"floats", func() float64 { return rnd.NormFloat64() * 1e-7 }, false},
	}
	start := int64(1_700_000_000_000) / dayMs * dayMs
	for _, gen := range gens {
		sensorBytes, sensorRows := 0, 0
		for it := 0; it < 300; it++ {
			res := allResolutions[it%3]
			var g group
			g.reset(res, res.groupStart(start))
			samples := map[int64][]float64{} // window start → values in time order
			maxV := 0.0
			step := res.Millis() / 15
			for slot := range g.rows {
				if rnd.Intn(5) == 0 {
					continue // a gap
				}
				ws := g.start + int64(slot)*res.Millis()
				n := 1 + rnd.Intn(15)
				if it%7 == 0 {
					n = 1
				}
				var rows []Row // built by Add, and by Merge of single-value rows
				var whole Row
				for k := 0; k < n; k++ {
					v := gen.v()
					maxV = max(maxV, math.Abs(v))
					ts := ws + int64(k)*step + rnd.Int63n(400)
					whole.Add(ts, v)
					var one Row
					one.Add(ts, v)
					rows = append(rows, one)
					samples[ws] = append(samples[ws], v)
				}
				whole.Start = ws
				if it%2 == 0 {
					g.set(&whole)
				} else {
					for i := range rows {
						rows[i].Start = ws
						g.merge(&rows[i])
					}
				}
			}
			if g.empty() {
				continue
			}
			b := appendGroup(nil, &g, nil)
			rows := 0
			for i := range g.rows {
				if g.rows[i].Count > 0 {
					rows++
				}
			}
			if col, want := b[0] == groupVerCol, gen.col && rows >= minColRows; col != want {
				t.Fatalf("%s %v group of %d rows: columnar %v, want %v", gen.name, res, rows, col, want)
			}
			if gen.name == "sensor" && res == Quarters {
				sensorBytes += len(b)
			}
			var row Row
			got := 0
			err := walkGroup(res, g.start, b, false, &row, func(r *Row) error {
				want := g.slot(r.Start)
				if r.Min != want.Min || r.Max != want.Max || r.First != want.First || r.Last != want.Last {
					t.Fatalf("%s %v: got %+v, want %+v", gen.name, res, *r, *want)
				}
				if err := rowsEqual(r, want, maxV); err != nil {
					t.Fatalf("%s %v: %v", gen.name, res, err)
				}
				if err := bruteEqual(r, samples[r.Start], maxV); err != nil {
					t.Fatalf("%s %v window %d: %v", gen.name, res, r.Start, err)
				}
				got++
				return nil
			})
			if err != nil {
				t.Fatalf("%s %v: %v", gen.name, res, err)
			}
			if gen.name == "sensor" && res == Quarters {
				sensorRows += got
			}
			var light Row
			if err := walkGroup(res, g.start, b, true, &light, func(r *Row) error {
				want := g.slot(r.Start)
				if r.Count != want.Count || rowsEqualStats(r, want, maxV) != nil {
					t.Fatalf("%s %v stats only: %+v, want %+v", gen.name, res, *r, *want)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		if gen.name == "sensor" {
			t.Logf("sensor quarter groups: %.1f bytes per row", float64(sensorBytes)/float64(sensorRows))
		}
		if gen.name == "sensor" && sensorBytes >= 14*sensorRows {
			t.Fatalf("sensor quarter groups: %d bytes for %d rows", sensorBytes, sensorRows)
		}
	}
}

// rowsEqualStats compares count, sum, mean and std only.
func rowsEqualStats(got, want *Row, maxV float64) error {
	g, w := *got, *want
	g.Min, g.Max, g.First, g.Last = w.Min, w.Max, w.First, w.Last
	return rowsEqual(&g, &w, maxV)
}

// bruteEqual compares r's sum, mean and std with exact rational arithmetic
// over the window's values (DESIGN.md §5's tolerance).
func bruteEqual(r *Row, vals []float64, maxV float64) error {
	var sum big.Rat
	for _, v := range vals {
		sum.Add(&sum, new(big.Rat).SetFloat64(v))
	}
	n := new(big.Rat).SetInt64(int64(len(vals)))
	mean := new(big.Rat).Quo(&sum, n)
	var m2 big.Rat
	for _, v := range vals {
		d := new(big.Rat).Sub(new(big.Rat).SetFloat64(v), mean)
		m2.Add(&m2, d.Mul(d, d))
	}
	want := Row{Start: r.Start, Count: uint64(len(vals)), FirstTs: r.FirstTs, LastTs: r.LastTs,
		Min: r.Min, Max: r.Max, First: r.First, Last: r.Last}
	want.Sum, _ = sum.Float64()
	want.Mean, _ = mean.Float64()
	want.M2, _ = m2.Float64()
	return rowsEqual(r, &want, maxV)
}

// TestMomentsExact: Σm, Σm² and D of random decimal streams (exponents
// rising mid-stream, merges at different exponents) equal exact integer
// arithmetic; moments are dropped, never wrong, past their bounds.
func TestMomentsExact(t *testing.T) {
	rnd := rand.New(rand.NewSource(5))
	for it := 0; it < 2000; it++ {
		var a, b Row
		var vals []float64
		n := 1 + rnd.Intn(50)
		for k := 0; k < n; k++ {
			e := rnd.Intn(4)
			v := float64(rnd.Int63n(200_000)-100_000) / pow10[e]
			if it%50 == 0 && k == n/2 {
				v = 3e9 // past maxMomMant
			}
			vals = append(vals, v)
			if k%2 == 0 {
				a.Add(int64(k), v)
			} else {
				b.Add(int64(k), v)
			}
		}
		a.Merge(&b)
		if a.de == 0 {
			if it%50 != 0 {
				t.Fatalf("stream %d: moments dropped: %v", it, vals)
			}
			continue
		}
		e := int(a.de - 1)
		s, q := new(big.Int), new(big.Int)
		for _, v := range vals {
			m, x, ok := tsdb.FloatToDecimal(v)
			if !ok {
				t.Fatal(v)
			}
			mb := new(big.Int).Mul(big.NewInt(m), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(e+int(x))), nil))
			s.Add(s, mb)
			q.Add(q, new(big.Int).Mul(mb, mb))
		}
		if s.Int64() != a.ms || q.Uint64() != a.mq {
			t.Fatalf("stream %d at e=%d: Σm %d Σm² %d, want %v %v", it, e, a.ms, a.mq, s, q)
		}
		d, ok := momD(a.Count, a.ms, a.mq)
		want := new(big.Int).Sub(new(big.Int).Mul(big.NewInt(int64(len(vals))), q), new(big.Int).Mul(s, s))
		if !ok || want.Uint64() != d {
			t.Fatalf("stream %d: D %d (%v), want %v", it, d, ok, want)
		}
	}
}

// TestPackedRoundTrip: values of every width 0–64 (the widest value of
// each run at exactly that width), runs of 1–32, read back exactly, with the
// bytes ⌈n·w/8⌉ and the rest of the input left; a short input is an error.
func TestPackedRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewSource(3))
	var got [32]uint64
	for w := uint(0); w <= 64; w++ {
		for n := 1; n <= 32; n++ {
			vals := make([]uint64, n)
			for i := range vals {
				if w > 0 {
					vals[i] = rnd.Uint64() >> (64 - w)
				}
			}
			if w > 0 {
				vals[rnd.Intn(n)] |= 1 << (w - 1)
			}
			b := appendPacked([]byte{0xAA}, vals, w)
			if want := 1 + (n*int(w)+7)/8; len(b) != want {
				t.Fatalf("w=%d n=%d: %d bytes, want %d", w, n, len(b), want)
			}
			rest, err := readPacked(append(b[1:], 0x55), got[:n], w)
			if err != nil || len(rest) != 1 || rest[0] != 0x55 {
				t.Fatalf("w=%d n=%d: %v, rest %x", w, n, err, rest)
			}
			for i := range vals {
				if got[i] != vals[i] {
					t.Fatalf("w=%d n=%d value %d: %x, want %x", w, n, i, got[i], vals[i])
				}
			}
			if w > 0 {
				if _, err := readPacked(b[1:len(b)-1], got[:n], w); err == nil {
					t.Fatalf("w=%d n=%d: short input accepted", w, n)
				}
			}
		}
	}
	if _, err := readPacked(make([]byte, 100), got[:1], 65); err == nil {
		t.Fatal("width 65 accepted")
	}
}
