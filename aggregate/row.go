package aggregate

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/tsgate/tsgate/tsdb"
)

// Row is one rollup window of one object: count, sum, Welford mean and M2
// (population variance = M2/Count), min, max, and the values with the
// smallest and the greatest timestamps. NaN and ±Inf are left out. An empty
// row has Count 0 and no meaningful fields.
//
// Timestamps are ms since the Unix epoch; Start is the UTC-aligned window
// start.
type Row struct {
	Start   int64
	Count   uint64
	Sum     float64
	Mean    float64
	M2      float64
	Min     float64
	Max     float64
	First   float64
	Last    float64
	FirstTs int64
	LastTs  int64

	// Exact decimal moments (see moments.go): when de > 0, every value is
	// m × 10^−(de−1) with |m| ≤ maxMomMant, ms = Σm and mq = Σm².
	de uint8
	ms int64
	mq uint64
}

// Std returns the population standard deviation (0 for one value).
func (r *Row) Std() float64 {
	if r.Count == 0 || r.M2 <= 0 {
		return 0
	}
	return math.Sqrt(r.M2 / float64(r.Count))
}

// Add folds one sample in (Welford). ts must not already be in the row
// (tsdb stores one value per timestamp); NaN and ±Inf must be filtered by the
// caller (see usable).
func (r *Row) Add(ts int64, v float64) {
	if r.Count == 0 {
		r.Count, r.Sum, r.Mean, r.M2 = 1, v, v, 0
		r.Min, r.Max, r.First, r.Last = v, v, v, v
		r.FirstTs, r.LastTs = ts, ts
		r.de, r.ms, r.mq = 1, 0, 0
		r.momAdd(v)
		return
	}
	r.momAdd(v)
	r.Count++
	d := v - r.Mean
	r.Mean += d / float64(r.Count)
	r.M2 += d * (v - r.Mean)
	r.Sum += v
	if v < r.Min {
		r.Min = v
	}
	if v > r.Max {
		r.Max = v
	}
	if ts < r.FirstTs {
		r.First, r.FirstTs = v, ts
	}
	if ts > r.LastTs {
		r.Last, r.LastTs = v, ts
	}
}

// Merge folds o into r with Chan et al.'s parallel formula. On equal
// timestamps the receiver's first and last win. Start is kept.
func (r *Row) Merge(o *Row) {
	if o.Count == 0 {
		return
	}
	if r.Count == 0 {
		start := r.Start
		*r = *o
		r.Start = start
		return
	}
	r.momMerge(o)
	na, nb := float64(r.Count), float64(o.Count)
	n := na + nb
	d := o.Mean - r.Mean
	r.Mean += d * nb / n
	r.M2 += o.M2 + d*d*na*nb/n
	r.Count += o.Count
	r.Sum += o.Sum
	r.Min = min(r.Min, o.Min)
	r.Max = max(r.Max, o.Max)
	if o.FirstTs < r.FirstTs {
		r.First, r.FirstTs = o.First, o.FirstTs
	}
	if o.LastTs > r.LastTs {
		r.Last, r.LastTs = o.Last, o.LastTs
	}
}

// usable reports whether v enters rollups (NaN and ±Inf are left out).
func usable(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Row encoding (docs/format/aggregate.md): count uvarint (≥ 1) | tag byte |
// firstTs − start uvarint | (count > 1) lastTs − start uvarint, M2 float64 |
// the values. Tag 0: sum, min, max, first, last as float64 (little-endian).
// Tag 1 + 2e: min, max, first and last are decimals m × 10^−e (0 ≤ e ≤ 15,
// |m| < 2^53): min zigzag varint, then (count > 1) max − min, first − min,
// last − min uvarints, and the sum as its own decimals k (byte) and
// mantissa (zigzag varint), exact up to float addition error. The mean is sum / count (within the
// 1e-9 relative tolerance of DESIGN.md §5 of the running mean). A row of one
// value is its value only. Sensor rows take ≈ 25 bytes instead of 76.
//
// hint is the decimal exponent the previous row of the group used (rows of
// one object usually share it); it is tried first and updated.
func appendRow(dst []byte, r *Row, hint *int) []byte {
	dst = binary.AppendUvarint(dst, r.Count)
	if r.Count == 0 {
		return dst
	}
	tagAt := len(dst)
	dst = append(dst, 0)
	dst = binary.AppendUvarint(dst, uint64(r.FirstTs-r.Start))
	if r.Count > 1 {
		dst = binary.AppendUvarint(dst, uint64(r.LastTs-r.Start))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(r.M2))
	}
	e, ms, ok := rowDecimalsAt(r, *hint)
	if !ok {
		e, ms, ok = rowDecimals(r)
	}
	se, sm := e, int64(0)
	if ok && r.Count > 1 {
		if sm, ok, _ = sumDecimalAt(r.Sum, e); !ok {
			se, sm, ok = sumDecimal(r.Sum)
		}
	}
	if ok {
		*hint = e
		dst[tagAt] = byte(1 + 2*e)
		dst = binary.AppendVarint(dst, ms[0])
		if r.Count > 1 {
			dst = binary.AppendUvarint(dst, uint64(ms[1]-ms[0]))
			dst = binary.AppendUvarint(dst, uint64(ms[2]-ms[0]))
			dst = binary.AppendUvarint(dst, uint64(ms[3]-ms[0]))
			dst = append(dst, byte(se))
			dst = binary.AppendVarint(dst, sm)
		}
		return dst
	}
	if r.Count == 1 {
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(r.Min))
	}
	for _, f := range [...]float64{r.Sum, r.Min, r.Max, r.First, r.Last} {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
	}
	return dst
}

const maxRowMant = 1 << 53

// rowDecimals returns the exponent e (value = m × 10^−e) at which min, max,
// first and last are all exact decimals — the largest of their shortest
// decimal forms — and their mantissas; ok is false when one has none.
func rowDecimals(r *Row) (e int, ms [4]int64, ok bool) {
	for _, v := range [4]float64{r.Min, r.Max, r.First, r.Last} {
		_, x, ok := tsdb.FloatToDecimal(v)
		if !ok {
			return 0, ms, false
		}
		e = max(e, int(-x))
	}
	return rowDecimalsAt(r, e)
}

// rowDecimalsAt is rowDecimals at exponent e only (any exact decimal will
// do; the shortest is not needed): four multiply-round-divide checks (the
// division is DecimalToFloat's for |m| < 2^53 and e ≤ 15, inlined).
func rowDecimalsAt(r *Row, e int) (int, [4]int64, bool) {
	var ms [4]int64
	p := pow10[e]
	for i, v := range [4]float64{r.Min, r.Max, r.First, r.Last} {
		x := math.RoundToEven(v * p)
		if !(math.Abs(x) < maxRowMant) || x/p != v || (v == 0 && math.Signbit(v)) {
			return 0, ms, false
		}
		ms[i] = int64(x)
	}
	return e, ms, true
}

// sumDecimalAt returns sum's mantissa at k decimals (value = m × 10^−k) when
// sum is one up to float addition error: that error is far below 2^−40
// relative, so a sum off an integer by more has more decimals (or, at worst,
// loses less than 2^−40 of itself — DESIGN.md §5 allows 1e-9). big reports
// that sum × 10^k is past what a row stores, and so is every larger k.
func sumDecimalAt(sum float64, k int) (m int64, ok, big bool) {
	x := sum * pow10[k]
	if !(math.Abs(x) < maxRowMant/16) {
		return 0, false, true
	}
	if r := math.Round(x); math.Abs(x-r) <= max(math.Abs(x), 1)*0x1p-40 {
		return int64(r), true, false
	}
	return 0, false, false
}

// sumDecimal returns the fewest decimals k at which sumDecimalAt holds sum,
// and the mantissa.
func sumDecimal(sum float64) (k int, m int64, ok bool) {
	for k := range pow10 {
		m, ok, big := sumDecimalAt(sum, k)
		if ok || big {
			return k, m, ok
		}
	}
	return 0, 0, false
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

var errBadRow = errors.New("bad rollup row")

// decodeRow reads a row whose window starts at start and returns the rest.
// statsOnly leaves min, max, first and last out of decimal rows (zero): a
// reader that needs count, sum, mean and std only saves their conversion.
func decodeRow(r *Row, start int64, p []byte, statsOnly bool) ([]byte, error) {
	c, n := uvarint(p)
	if n <= 0 || c == 0 || len(p) < n+1 {
		return nil, errBadRow
	}
	tag := p[n]
	p = p[n+1:]
	*r = Row{Start: start, Count: c}
	ft, n := uvarint(p)
	if n <= 0 || ft >= dayMs {
		return nil, errBadRow
	}
	p = p[n:]
	r.FirstTs, r.LastTs = start+int64(ft), start+int64(ft)
	if c > 1 {
		lt, n := uvarint(p)
		if n <= 0 || lt >= dayMs || len(p) < n+8 {
			return nil, errBadRow
		}
		r.LastTs = start + int64(lt)
		r.M2 = math.Float64frombits(binary.LittleEndian.Uint64(p[n:]))
		p = p[n+8:]
	}
	switch {
	case tag == 0 && c == 1:
		if len(p) < 8 {
			return nil, errBadRow
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(p))
		r.Sum, r.Min, r.Max, r.First, r.Last = v, v, v, v, v
		p = p[8:]
	case tag == 0:
		if len(p) < 40 {
			return nil, errBadRow
		}
		f := func(i int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:])) }
		r.Sum, r.Min, r.Max, r.First, r.Last = f(0), f(1), f(2), f(3), f(4)
		p = p[40:]
	case tag&1 == 1 && tag>>1 <= 15:
		e := int16(tag >> 1)
		m0, n := varint(p)
		if n <= 0 {
			return nil, errBadRow
		}
		p = p[n:]
		if c == 1 || !statsOnly {
			r.Min = tsdb.DecimalToFloat(m0, -e)
			r.Sum, r.Max, r.First, r.Last = r.Min, r.Min, r.Min, r.Min
		}
		if c > 1 {
			var d [3]uint64
			for i := range d {
				if d[i], n = uvarint(p); n <= 0 || d[i] >= maxRowMant {
					return nil, errBadRow
				}
				p = p[n:]
			}
			if len(p) < 1 || p[0] > 15 {
				return nil, errBadRow
			}
			se := int16(p[0])
			ms, n := varint(p[1:])
			if n <= 0 {
				return nil, errBadRow
			}
			p = p[1+n:]
			if !statsOnly {
				r.Max = tsdb.DecimalToFloat(m0+int64(d[0]), -e)
				r.First = tsdb.DecimalToFloat(m0+int64(d[1]), -e)
				r.Last = tsdb.DecimalToFloat(m0+int64(d[2]), -e)
			}
			r.Sum = tsdb.DecimalToFloat(ms, -se)
		}
	default:
		return nil, errBadRow
	}
	r.Mean = r.Sum / float64(c)
	if c == 1 {
		r.Mean = r.Min
	}
	return p, nil
}

// uvarint is binary.Uvarint with the one-byte case inlined (most row
// fields: counts, slots, small offsets and deltas).
func uvarint(p []byte) (uint64, int) {
	if len(p) > 0 && p[0] < 0x80 {
		return uint64(p[0]), 1
	}
	return binary.Uvarint(p)
}

// varint is binary.Varint with the one-byte case inlined.
func varint(p []byte) (int64, int) {
	if len(p) > 0 && p[0] < 0x80 {
		x := int64(p[0] >> 1)
		if p[0]&1 != 0 {
			x = ^x
		}
		return x, 1
	}
	return binary.Varint(p)
}
