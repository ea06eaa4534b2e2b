package tsdb

import (
	"context"
	"math"
	"math/rand"
	"sort"
	"testing"
	"time"
)

// randTimestamps returns n sorted distinct timestamps of one of several shapes.
func randTimestamps(r *rand.Rand, n int) []int64 {
	set := map[int64]bool{}
	shape := r.Intn(5)
	base := r.Int63n(MaxTimestamp / 2)
	for i := 0; len(set) < n; i++ {
		var ts int64
		switch shape {
		case 0: // minute grid + jitter
			ts = base + int64(i)*60000 + r.Int63n(400)
		case 1: // exact grid
			ts = base + int64(i)*1000
		case 2: // irregular
			ts = r.Int63n(MaxTimestamp + 1)
		case 3: // extremes
			ts = []int64{MinTimestamp, MaxTimestamp, MinTimestamp + 1, MaxTimestamp - 1, 1, 60000}[i%6] + int64(i/6)*7
		default: // dense ms with gaps
			ts = base + int64(i)*int64(1+r.Intn(3))
		}
		if ts >= MinTimestamp && ts <= MaxTimestamp {
			set[ts] = true
		}
		if i > 100*n {
			break
		}
	}
	out := make([]int64, 0, len(set))
	for ts := range set {
		out = append(out, ts)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// TestBlockRoundTrip: every value type, special floats (NaN canonicalised,
// ±Inf and -0 kept), int64 extremes, empty and unicode strings, timestamps
// of every shape — encode then decode gives the input back.
func TestBlockRoundTrip(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	sc := getCodecScratch()
	defer putCodecScratch(sc)
	for iter := 0; iter < 300; iter++ {
		typ := ValueType(1 + iter%4)
		n := 1 + r.Intn(3000)
		if iter%10 == 0 {
			n = 1 + r.Intn(3)
		}
		ts := randTimestamps(r, n)
		n = len(ts)
		var c chunk
		for _, t1 := range ts {
			v := randValue(r, typ)
			if typ == Float && r.Intn(3) == 0 {
				v = FloatValue(float64(r.Intn(1e6)) / 1000) // decimal path
			}
			c.put(t1, v.num, v.str, typ == String)
		}
		enc := appendBlock(nil, typ, c.ts, c.nums, c.strs, sc)
		var got blockCols
		if err := decodeBlock(&got, enc, typ, sc); err != nil {
			t.Fatalf("iter %d (%s, %d samples): decode: %v", iter, typ, n, err)
		}
		if len(got.ts) != n {
			t.Fatalf("iter %d: %d samples back, want %d", iter, len(got.ts), n)
		}
		for i := range ts {
			cc := c.cols()
			want, have := cc.value(typ, i), got.value(typ, i)
			if got.ts[i] != ts[i] || !want.Equal(have) {
				t.Fatalf("iter %d (%s) sample %d: got %d %v, want %d %v", iter, typ, i, got.ts[i], have, ts[i], want)
			}
		}
	}
}

func TestFloatSpecials(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{})
	defer db.Close()
	mustCreate(t, db, 1, Float)
	vals := []float64{math.NaN(), math.Float64frombits(0x7ff8000000000001), math.Inf(1), math.Inf(-1),
		math.Copysign(0, -1), 0, math.MaxFloat64, math.SmallestNonzeroFloat64, 0.1, 1e15, 123456789012345.6, -21.37}
	var b Batch
	for i, v := range vals {
		b.AddFloat(1, int64(i), v)
	}
	if err := db.Append(context.Background(), &b, Reject); err != nil {
		t.Fatal(err)
	}
	for _, stage := range []string{"head", "blocks"} {
		_, vs := scanAll(t, db, 1, 0, 100)
		for i, v := range vals {
			got := vs[i].Float()
			switch {
			case math.IsNaN(v):
				if math.Float64bits(got) != canonicalNaN {
					t.Errorf("%s: NaN came back as %x", stage, math.Float64bits(got))
				}
			case math.Float64bits(got) != math.Float64bits(v):
				t.Errorf("%s: %v came back as %v", stage, v, got)
			}
		}
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
}

var pointOne = 0.1 // a variable: constant arithmetic would be exact

func TestFloatToDecimal(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
		ok   bool
	}{
		{21.37, "21.37", true}, {0.1, "0.1", true}, {-0.05, "-0.05", true}, {1200, "1200", true},
		{0, "0", true}, {1e-7, "0.0000001", true}, {123456789012345, "123456789012345", true},
		{1e15, "", false}, {math.NaN(), "", false}, {math.Inf(1), "", false}, {math.Copysign(0, -1), "", false},
		{pointOne + 0.2, "", false}, // 0.30000000000000004: 17 digits
	} {
		m, e, ok := FloatToDecimal(tc.f)
		if ok != tc.ok {
			t.Errorf("FloatToDecimal(%v) ok = %v", tc.f, ok)
			continue
		}
		if !ok {
			continue
		}
		if got := string(AppendDecimal(nil, m, e)); got != tc.want {
			t.Errorf("FloatToDecimal(%v) prints %q, want %q", tc.f, got, tc.want)
		}
		if DecimalToFloat(m, e) != tc.f {
			t.Errorf("DecimalToFloat(%d, %d) = %v, want %v", m, e, DecimalToFloat(m, e), tc.f)
		}
	}
	// Property: whenever ok, the decimal is exact and prints as strconv's shortest.
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200000; i++ {
		f := float64(r.Int63n(1e12)-5e11) / math.Pow(10, float64(r.Intn(10)))
		if i%2 == 0 {
			f = math.Float64frombits(r.Uint64())
		}
		m, e, ok := FloatToDecimal(f)
		if !ok {
			continue
		}
		if DecimalToFloat(m, e) != f {
			t.Fatalf("%v: decimal %de%d is not exact", f, m, e)
		}
	}
}

// TestValueTypesRoundTrip appends each value type through the whole store
// (head, blocks, compaction, restart).
func TestValueTypesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, Options{MaxBlockSamples: 64})
	r := rand.New(rand.NewSource(2))
	want := map[uint32][]Value{}
	var b Batch
	for id := uint32(1); id <= 4; id++ {
		typ := ValueType(id)
		mustCreate(t, db, id, typ)
		for i := 0; i < 500; i++ {
			v := randValue(r, typ)
			want[id] = append(want[id], v)
			b.AddValue(id, int64(i)*60000+r.Int63n(400), v)
		}
	}
	b.AddString(5, 1, nil) // unknown series: whole batch fails
	if err := db.Append(context.Background(), &b, Reject); err == nil {
		t.Fatal("batch with an unknown series succeeded")
	}
	b.ids, b.ts, b.types, b.nums = b.ids[:b.Len()-1], b.ts[:b.Len()-1], b.types[:b.Len()-1], b.nums[:b.Len()-1]
	if err := db.Append(context.Background(), &b, Reject); err != nil {
		t.Fatal(err)
	}
	check := func(stage string) {
		for id, vs := range want {
			_, got := scanAll(t, db, id, MinTimestamp, MaxTimestamp)
			if len(got) != len(vs) {
				t.Fatalf("%s: object %d: %d values, want %d", stage, id, len(got), len(vs))
			}
			for i := range vs {
				if !got[i].Equal(vs[i]) {
					t.Fatalf("%s: object %d value %d = %v, want %v", stage, id, i, got[i], vs[i])
				}
			}
		}
	}
	check("head")
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	check("blocks")
	if err := db.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("compacted")
	db.Close()
	db = openTest(t, dir, Options{})
	defer db.Close()
	check("reopened")
	if err := db.Append(context.Background(), func() *Batch {
		var b Batch
		b.AddString(4, 10, make([]byte, MaxStringLen+1))
		return &b
	}(), Reject); err == nil {
		t.Fatal("oversized string accepted")
	}
}
