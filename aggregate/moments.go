package aggregate

import (
	"math"
	"math/bits"

	"github.com/tsgate/tsgate/tsdb"
)

// Exact decimal moments. Sensor values are decimals with few digits
// (21.37, 48.5, 230): a row whose values are all m × 10^−e at one exponent
// (0 ≤ e ≤ 15, |m| ≤ maxMomMant) keeps Σm and Σm² as integers beside its
// float fields. They add exactly, so the columnar group (groupcol.go) stores
// the variance as the integer D = n·Σm² − (Σm)² (= n² × variance in
// mantissa units: a few bytes) instead of an 8-byte float M2, and the sum as
// an integer — both exact, where the float fields carry rounding.

// maxMomMant bounds the mantissas that enter moments: m² < 2^62.
const maxMomMant = 1 << 31

// momAdd adds v to r's moments (r.de > 0), raising the exponent when v has
// more decimals, and drops them (de = 0) when v has no decimal form within
// bounds or Σm² would overflow.
func (r *Row) momAdd(v float64) {
	if r.de == 0 {
		return
	}
	e := int(r.de - 1)
	x := math.RoundToEven(v * pow10[e])
	if !(math.Abs(x) <= maxMomMant) || x/pow10[e] != v {
		m, ex, ok := tsdb.FloatToDecimal(v)
		k := int(-ex)
		if !ok || k <= e || m > maxMomMant || m < -maxMomMant {
			r.de = 0
			return
		}
		s, q, ok := scaleMoments(r.ms, r.mq, k-e)
		if !ok {
			r.de = 0
			return
		}
		r.de, r.ms, r.mq, x = uint8(k+1), s, q, float64(m)
	}
	m := int64(x)
	q, carry := bits.Add64(r.mq, uint64(m*m), 0)
	if carry != 0 {
		r.de = 0
		return
	}
	r.ms += m // |m| ≤ 2^31 and counts < 2^32: no overflow
	r.mq = q
}

// momMerge adds o's moments to r's (both non-empty), at the larger of their
// exponents; r has none after when either has none or they do not fit.
func (r *Row) momMerge(o *Row) {
	if r.de == 0 || o.de == 0 {
		r.de = 0
		return
	}
	e := max(r.de, o.de)
	rs, rq, ok1 := scaleMoments(r.ms, r.mq, int(e-r.de))
	os, oq, ok2 := scaleMoments(o.ms, o.mq, int(e-o.de))
	q, carry := bits.Add64(rq, oq, 0)
	s, sOK := addInt64(rs, os)
	if !ok1 || !ok2 || carry != 0 || !sOK {
		r.de = 0
		return
	}
	r.de, r.ms, r.mq = e, s, q
}

// scaleMoments multiplies the mantissas behind Σm and Σm² by 10^d.
func scaleMoments(s int64, q uint64, d int) (int64, uint64, bool) {
	if d == 0 {
		return s, q, true
	}
	if 2*d >= len(pow10u) {
		return 0, 0, false
	}
	p, p2 := pow10u[d], pow10u[2*d]
	hs, ls := bits.Mul64(uint64(absInt64(s)), p)
	hq, lq := bits.Mul64(q, p2)
	if hs != 0 || ls >= 1<<63 || hq != 0 {
		return 0, 0, false
	}
	if s < 0 {
		return -int64(ls), lq, true
	}
	return int64(ls), lq, true
}

// momD returns D = n·Σm² − (Σm)² (≥ 0 by Cauchy–Schwarz), false when it
// does not fit below 2^63 (or the moments are inconsistent).
func momD(n uint64, s int64, q uint64) (uint64, bool) {
	hi, lo := bits.Mul64(n, q)
	as := uint64(absInt64(s))
	shi, slo := bits.Mul64(as, as)
	d, borrow := bits.Sub64(lo, slo, 0)
	dhi, borrow := bits.Sub64(hi, shi, borrow)
	if borrow != 0 || dhi != 0 || d >= 1<<63 {
		return 0, false
	}
	return d, true
}

// momM2 is M2 (the sum of squared deviations) from D, n and e.
func momM2(d, n uint64, e int) float64 {
	return float64(d) / float64(n) / pow10[e] / pow10[e]
}

// setMomFloats sets r's sum, mean and M2 from its moments (de > 0): exact
// up to one rounding each, where float accumulation drifts.
func (r *Row) setMomFloats() bool {
	d, ok := momD(r.Count, r.ms, r.mq)
	if !ok {
		return false
	}
	e := int(r.de - 1)
	r.Sum = decFloat(r.ms, e)
	r.Mean = r.Sum / float64(r.Count)
	r.M2 = momM2(d, r.Count, e)
	return true
}

// decFloat is tsdb.DecimalToFloat(m, −e) with its common case — |m| < 2^53,
// one correctly rounded division — small enough to inline.
func decFloat(m int64, e int) float64 {
	if m > -(1<<53) && m < 1<<53 {
		return float64(m) / pow10[e]
	}
	return tsdb.DecimalToFloat(m, int16(-e))
}

func absInt64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func addInt64(a, b int64) (int64, bool) {
	c := a + b
	return c, (c > a) == (b > 0)
}

var pow10u = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}
