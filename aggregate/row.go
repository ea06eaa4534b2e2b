package aggregate

import (
	"encoding/binary"
	"errors"
	"math"
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
		return
	}
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

// Row encoding (docs/format/aggregate.md): count uvarint; when count > 0,
// sum, mean, M2, min, max, first, last as float64 bits little-endian, then
// firstTs − start and lastTs − start as uvarints.
func appendRow(dst []byte, r *Row) []byte {
	dst = binary.AppendUvarint(dst, r.Count)
	if r.Count == 0 {
		return dst
	}
	for _, f := range [...]float64{r.Sum, r.Mean, r.M2, r.Min, r.Max, r.First, r.Last} {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
	}
	dst = binary.AppendUvarint(dst, uint64(r.FirstTs-r.Start))
	dst = binary.AppendUvarint(dst, uint64(r.LastTs-r.Start))
	return dst
}

var errBadRow = errors.New("bad rollup row")

// decodeRow reads a row whose window starts at start and returns the rest.
func decodeRow(r *Row, start int64, p []byte) ([]byte, error) {
	c, n := binary.Uvarint(p)
	if n <= 0 {
		return nil, errBadRow
	}
	p = p[n:]
	*r = Row{Start: start, Count: c}
	if c == 0 {
		return p, nil
	}
	if len(p) < 56 {
		return nil, errBadRow
	}
	f := func(i int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:])) }
	r.Sum, r.Mean, r.M2, r.Min, r.Max, r.First, r.Last = f(0), f(1), f(2), f(3), f(4), f(5), f(6)
	p = p[56:]
	ft, n := binary.Uvarint(p)
	if n <= 0 {
		return nil, errBadRow
	}
	p = p[n:]
	lt, n := binary.Uvarint(p)
	if n <= 0 {
		return nil, errBadRow
	}
	r.FirstTs, r.LastTs = start+int64(ft), start+int64(lt)
	return p[n:], nil
}
