package query

import (
	"math"
	"testing"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/tsdb"
)

// FuzzDecimalCanonical: any decimal the store can hold prints as the float's canonical text.
func FuzzDecimalCanonical(f *testing.F) {
	for _, s := range []struct {
		m int64
		e int8
	}{{0, 0}, {227, 0}, {12, 2}, {-5, -2}, {1, -3}, {9, -4}, {99999999, -1}, {1, 7}, {123456789012345, -15}} {
		f.Add(s.m, s.e)
	}
	f.Fuzz(func(t *testing.T, m int64, e int8) {
		if m <= -1e15 || m >= 1e15 || e < -15 || e > 6 {
			return
		}
		v := tsdb.DecimalToFloat(m, int16(e))
		want := string(api.AppendValueFloat(nil, v))
		d, ok := appendDecimalCanonical(nil, m, int16(e))
		if !ok {
			return // scientific range: the caller prints the float
		}
		if string(d) != want {
			t.Fatalf("%d e%d (%v): %s, want %s", m, e, v, d, want)
		}
	})
}

// FuzzClip: clip's pieces are sorted, disjoint, inside [from, to], and hold exactly the
// timestamps that are in [from, to] and in some window.
func FuzzClip(f *testing.F) {
	f.Add(int64(0), int64(100), int64(10), int64(20), int64(15), int64(0))
	f.Add(int64(5), int64(5), int64(0), int64(0), int64(5), int64(6))
	f.Fuzz(func(t *testing.T, from, to, a1, b1, a2, b2 int64) {
		const lim = 1 << 40
		for _, x := range []int64{from, to, a1, b1, a2, b2} {
			if x < 0 || x > lim {
				return
			}
		}
		ws := toWindows([]aclWindow{{a1, b1}, {a2, b2}})
		got := clip(from, to, ws)
		in := func(ts int64) bool {
			if ts < from || ts > to {
				return false
			}
			for _, w := range []aclWindow{{a1, b1}, {a2, b2}} {
				if (w.from == 0 || ts >= w.from) && (w.to == 0 || ts < w.to) {
					return true
				}
			}
			return false
		}
		covered := func(ts int64) bool {
			for _, s := range got {
				if s.from <= ts && ts <= s.to {
					return true
				}
			}
			return false
		}
		for i, s := range got {
			if s.from > s.to || s.from < from || s.to > to || (i > 0 && s.from <= got[i-1].to+1) {
				t.Fatalf("bad pieces %v for [%d, %d] windows %v", got, from, to, ws)
			}
		}
		for _, ts := range []int64{from, to, a1, b1, a2, b2, a1 - 1, b1 - 1, a2 - 1, b2 - 1, (from + to) / 2, math.MaxInt64 / 2} {
			if in(ts) != covered(ts) {
				t.Fatalf("ts %d: in=%v covered=%v (pieces %v, [%d, %d], windows %v)", ts, in(ts), covered(ts), got, from, to, ws)
			}
		}
	})
}
