package query

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/tsdb"
)

// TestDecimalCanonical: printing the stored decimal gives exactly the canonical text of the
// float (api.AppendValueFloat), for the usual sensor values and the edges of plain notation.
func TestDecimalCanonical(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	vals := []float64{0, 1, -1, 0.001, 0.0009999, 9999999.9, 1e7, 12.2, 1234, -0.05, 21.5, 1200, 1e-3, 123456.789, 0.1 + 0.2}
	for range 200_000 {
		dec := r.IntN(8)
		v := math.Round((r.Float64()-0.5)*math.Pow(10, float64(r.IntN(12)-3))*math.Pow(10, float64(dec))) / math.Pow(10, float64(dec))
		vals = append(vals, v)
	}
	for _, v := range vals {
		m, e, ok := tsdb.FloatToDecimal(v)
		if !ok {
			continue
		}
		want := string(api.AppendValueFloat(nil, v))
		canon := func(m int64, e int16) string {
			d, ok := appendDecimalCanonical(nil, m, e)
			if !ok {
				return string(api.AppendValueFloat(nil, v))
			}
			return string(d)
		}
		got := canon(m, e)
		if got != want {
			t.Fatalf("%v (m=%d e=%d): got %s want %s", v, m, e, got, want)
		}
		// blocks may keep trailing zeros under a shared exponent
		if e > -10 && m < 1e8 && m > -1e8 {
			if got := canon(m*100, e-2); got != want {
				t.Fatalf("%v scaled: got %s want %s", v, got, want)
			}
		}
	}
}

func TestClip(t *testing.T) {
	f := func(from, to int64, ws []span, want []span) {
		t.Helper()
		var aw []aclWindow
		if ws != nil {
			aw = []aclWindow{}
		}
		for _, w := range ws {
			aw = append(aw, aclWindow(w))
		}
		got := clip(from, to, toWindows(aw))
		if len(got) != len(want) {
			t.Fatalf("clip(%d,%d,%v) = %v, want %v", from, to, ws, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("clip(%d,%d,%v) = %v, want %v", from, to, ws, got, want)
			}
		}
	}
	f(0, 100, nil, []span{{0, 100}})
	f(100, 0, nil, nil)
	f(0, 100, []span{}, nil)
	f(0, 100, []span{{10, 20}}, []span{{10, 19}})
	f(0, 100, []span{{50, 0}, {10, 20}}, []span{{10, 19}, {50, 100}})
	f(0, 100, []span{{10, 30}, {20, 40}, {40, 45}}, []span{{10, 44}})
	f(15, 16, []span{{10, 20}}, []span{{15, 16}})
	f(200, 300, []span{{10, 20}}, nil)
}

func TestAlign(t *testing.T) {
	for _, c := range []struct{ ts, step, down, up int64 }{
		{0, 10, 0, 0}, {5, 10, 0, 10}, {10, 10, 10, 10}, {-5, 10, -10, 0}, {-10, 10, -10, -10},
	} {
		if d, u := alignDown(c.ts, c.step), alignUp(c.ts, c.step); d != c.down || u != c.up {
			t.Fatalf("%+v: %d %d", c, d, u)
		}
	}
}

func TestDecimalCanonicalCases(t *testing.T) {
	for _, c := range []struct {
		m    int64
		e    int16
		want string
	}{
		{12, 2, "1200.0"}, {-5, -2, "-0.05"}, {215, -1, "21.5"}, {1, -3, "0.001"}, {9999999, 0, "9999999.0"},
		{10000000, 0, ""}, {9, -4, ""}, {100, -2, "1.0"}, {-2150, -2, "-21.5"}, {0, -3, "0.0"},
	} {
		d, ok := appendDecimalCanonical(nil, c.m, c.e)
		if string(d) != c.want || ok != (c.want != "") {
			t.Fatalf("%d e%d: %q %v, want %q", c.m, c.e, d, ok, c.want)
		}
	}
}

func TestDateTimeCache(t *testing.T) {
	var c dtCache
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		ms := int64(r.Uint64N(253402300800000 + 1000))
		if r.IntN(10) == 0 {
			ms = -ms
		}
		if got, want := string(c.appendDateTime(nil, ms)), string(api.AppendDateTime(nil, ms)); got != want {
			t.Fatalf("%d: %s want %s", ms, got, want)
		}
		if got, want := string(c.appendDateTime(nil, ms+1)), string(api.AppendDateTime(nil, ms+1)); got != want {
			t.Fatalf("%d: %s want %s", ms+1, got, want)
		}
	}
}

// TestRounding: round12 equals the strconv definition (format with 12 significant digits,
// parse back) and appendRound5 prints what AppendValueFloat(round5(x)) prints.
func TestRounding(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 9))
	var fails int
	for i := range 300_000 {
		x := (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(24)-10))
		if i%3 == 0 { // sums of 2-decimal values
			x = 0
			for range 1 + r.IntN(100) {
				x += math.Round(r.NormFloat64()*5000) / 100
			}
		}
		want, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'e', 11, 64), 64)
		if got := round12(x); got != want {
			fails++
			if fails > 3 {
				t.Fatalf("round12(%v) = %v, want %v", x, got, want)
			}
		}
		if got, want := string(appendRound5(nil, x)), string(api.AppendValueFloat(nil, round5(x))); got != want && !(want == "-0.0" && got == "0.0") {
			t.Fatalf("appendRound5(%v) = %s, want %s", x, got, want)
		}
	}
	if fails > 0 {
		t.Logf("round12: %d ties rounded differently from strconv", fails)
	}
}

func TestRound12Edges(t *testing.T) {
	for _, x := range []float64{999999999999.7, 99999999999.97, 1e-10, 9.9999999999995e-11, 1e12, -999999999999.5, 1384.0000000000002} {
		want, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'e', 11, 64), 64)
		if got := round12(x); got != want {
			t.Fatalf("round12(%v) = %v, want %v", x, got, want)
		}
	}
}

// TestDecimalFixed: appendDecimalFixed prints a block's mantissa with its shared exponent
// exactly as appendDecimalCanonical (else the float's canonical text) does, across the
// plain-notation edges, signs, trailing zeros and every exponent it takes.
func TestDecimalFixed(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	want := func(m int64, k int) string {
		if d, ok := appendDecimalCanonical(nil, m, int16(-k)); ok {
			return string(d)
		}
		return string(api.AppendValueFloat(nil, tsdb.DecimalToFloat(m, int16(-k))))
	}
	f := func(m int64, k int) {
		t.Helper()
		pre := []byte("x,")
		if got := string(appendDecimalFixed(pre, m, k)[2:]); got != want(m, k) {
			t.Fatalf("appendDecimalFixed(%d, %d) = %s, want %s", m, k, got, want(m, k))
		}
	}
	for k := 0; k <= maxFixedDecimals; k++ {
		for _, m := range []int64{0, 1, -1, 9, 10, 99, 100, 101, 999, 1000, 1001, 1e6, 1e7 - 1, 1e7, 1e8 - 1, 1e8,
			1e9, 1e14, 1e15 - 1, -(1e15 - 1), 1 << 52, -(1 << 52), 120000, 99999999, 999999999999999} {
			f(m, k)
			f(-m, k)
		}
		p := int64(pow10u[k])
		for _, m := range []int64{p / 1000, p/1000 - 1, p/1000 + 1, 1e7 * p, 1e7*p - 1, 1e7*p + 1} { // 1e-3, 1e7 edges
			f(m, k)
			f(-m, k)
		}
	}
	for range 500_000 {
		k := r.IntN(maxFixedDecimals + 1)
		m := r.Int64N(int64(pow10u[r.IntN(9)])*int64(pow10u[r.IntN(8)])) + 1
		if r.IntN(3) == 0 {
			m = m / 1000 * 1000 // trailing zeros
		}
		if r.IntN(2) == 0 {
			m = -m
		}
		f(m, k)
	}
}

// TestTsText: the incremental timestamp text (date kept per day) equals api.AppendDateTime after every put, for
// sequences that step by a millisecond up to a year (crossing seconds, minutes, hours, days,
// month ends, leap days of 2000, 2024 and none in 2100, year ends), jump back, and leave the
// supported years.
func TestTsText(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	ms := func(s string) int64 {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UnixMilli()
	}
	starts := []int64{0, ms("2024-02-28T23:59:59.990Z"), ms("2000-02-28T23:58:00Z"), ms("2100-02-28T23:59:00Z"),
		ms("2025-12-31T23:59:59.999Z"), ms("1999-12-31T23:00:00Z"), ms("2025-01-01T00:00:00Z"),
		ms("9999-12-31T23:59:00Z"), ms("1970-01-01T00:00:00Z"), ms("2023-06-30T23:59:59.500Z")}
	steps := []int64{1, 7, 999, 1000, 1001, 59_999, 60_000, 60_001, 3_599_999, 3_600_000, 86_399_999, 86_400_000,
		86_400_001, 31 * 86_400_000, 365 * 86_400_000}
	var tt tsText
	var f [tsTextLen]byte
	check := func(v int64) {
		t.Helper()
		ok := tt.put(v)
		if ok {
			tt.store(f[:])
		}
		if v < 0 || v >= maxTextMs {
			if ok {
				t.Fatalf("put(%d) accepted a timestamp outside 1970…9999", v)
			}
			return
		}
		if want := api.AppendDateTime(nil, v); !ok || string(f[:]) != string(want) {
			t.Fatalf("put(%d) = %q %v, want %q", v, f[:], ok, want)
		}
	}
	for range 2000 {
		v := starts[r.IntN(len(starts))]
		if r.IntN(3) == 0 {
			v = r.Int64N(maxTextMs)
		}
		for range 200 {
			check(v)
			switch r.IntN(20) {
			case 0:
				v -= r.Int64N(100_000_000) // back in time
			case 1:
				v = []int64{-1, maxTextMs, maxTextMs - 1, 0}[r.IntN(4)]
			default:
				step := steps[r.IntN(len(steps))]
				if r.IntN(2) == 0 {
					step = 1 + r.Int64N(step)
				}
				v += step
			}
		}
	}
	// a year at 1/min from 2024-01-01 (a leap year), every sample
	tt = tsText{}
	for v := ms("2024-01-01T00:00:00Z"); v < ms("2025-01-02T00:00:00Z"); v += 60_000 + r.Int64N(400) - 200 {
		check(v)
	}
}
