package tsdb

import (
	"math"
	"strconv"
)

// Floats are kept in blocks as decimals (mantissa, exponent) so the query
// path can print them without running a shortest-float algorithm per value
// (docs/decisions/0005-tsdb-grid-timestamps-decimal-floats.md).

var pow10f = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

var pow10i = [...]int64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

const maxDecimalMant = 1e15 // below this, the decimal found is the shortest (see FloatToDecimal)

// FloatToDecimal returns the shortest decimal m × 10^exp that reads back as f
// exactly (the digits strconv.FormatFloat(f, 'g', -1, 64) prints), when
// |m| < 10^15 and -15 ≤ exp ≤ 0; ok is false otherwise (NaN, ±Inf, -0,
// large or very precise values), and callers fall back to strconv.
//
// Why it is exact and shortest: float64(m)/10^k is correctly rounded (both
// operands exact: |m| < 2^53, k ≤ 22), so equality proves m×10^-k rounds to f;
// the smallest such k gives the fewest digits; and with |m| < 10^15 the
// spacing 10^-k exceeds f's rounding interval, so m is the only candidate.
func FloatToDecimal(f float64) (m int64, exp int16, ok bool) {
	if f == 0 {
		if math.Signbit(f) {
			return 0, 0, false
		}
		return 0, 0, true
	}
	a := math.Abs(f)
	if !(a < maxDecimalMant) { // also NaN
		return 0, 0, false
	}
	for k := 0; k <= 15; k++ {
		x := f * pow10f[k]
		if math.Abs(x) >= maxDecimalMant {
			return 0, 0, false
		}
		// RoundToEven is one instruction on amd64 (Round is not); the two
		// differ only at a tie x = n + ½, where neither candidate can equal
		// f (their distance to x, ½ × 10^−k, exceeds f's rounding interval
		// for |x| < 10^15), so the result is the same.
		r := math.RoundToEven(x)
		if r/pow10f[k] == f {
			return int64(r), int16(-k), true
		}
	}
	return 0, 0, false
}

// DecimalToFloat converts m × 10^exp back to the float it came from. Exact for
// |m| < 2^53 and |exp| ≤ 22 (the range blocks use); slower but correct beyond.
func DecimalToFloat(m int64, exp int16) float64 {
	if m > -(1<<53) && m < 1<<53 {
		switch {
		case exp == 0:
			return float64(m)
		case exp < 0 && exp >= -22:
			return float64(m) / pow10f[-exp]
		case exp > 0 && exp <= 22:
			return float64(m) * pow10f[exp]
		}
	}
	var buf [48]byte
	b := strconv.AppendInt(buf[:0], m, 10)
	b = append(b, 'e')
	b = strconv.AppendInt(b, int64(exp), 10)
	f, _ := strconv.ParseFloat(string(b), 64)
	return f
}

// AppendDecimal appends m × 10^exp in plain decimal notation with trailing
// fraction zeros removed ("21.5", "-0.05", "1200"): the shortest text of the
// float for mantissas from FloatToDecimal (or blocks, which share an exponent).
func AppendDecimal(dst []byte, m int64, exp int16) []byte {
	if exp >= 0 {
		dst = strconv.AppendInt(dst, m, 10)
		for i := int16(0); i < exp && m != 0; i++ {
			dst = append(dst, '0')
		}
		return dst
	}
	k := int(-exp)
	for k > 0 && m%10 == 0 {
		m /= 10
		k--
	}
	if k == 0 {
		return strconv.AppendInt(dst, m, 10)
	}
	u := uint64(m)
	if m < 0 {
		dst = append(dst, '-')
		u = uint64(-m)
	}
	var buf [24]byte
	digits := strconv.AppendUint(buf[:0], u, 10)
	if len(digits) <= k {
		dst = append(dst, '0', '.')
		for i := len(digits); i < k; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-k]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-k:]...)
}
