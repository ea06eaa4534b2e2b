package aggregate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/tsgate/tsgate/tsdb"
)

// group is the rows of one object at one resolution over one group span
// (a day of quarters or hours, 32 days of days); slot i is the window
// start+i×res. Empty slots have Count 0.
type group struct {
	res     Resolution
	start   int64
	rows    []Row
	changed bool
}

func (g *group) reset(res Resolution, start int64) {
	g.res, g.start, g.changed = res, start, false
	n := res.slots()
	if cap(g.rows) < n {
		g.rows = make([]Row, n)
	}
	g.rows = g.rows[:n]
	step := res.Millis()
	for i := range g.rows {
		g.rows[i] = Row{Start: start + int64(i)*step}
	}
}

func (g *group) slot(start int64) *Row { return &g.rows[(start-g.start)/g.res.Millis()] }

// set replaces the window of row (clearing it when row is empty).
func (g *group) set(row *Row) {
	s := g.slot(row.Start)
	start := s.Start
	*s = *row
	s.Start = start
	if row.Count == 0 {
		*s = Row{Start: start}
	}
	g.changed = true
}

// merge folds row into its window (Chan).
func (g *group) merge(row *Row) {
	if row.Count == 0 {
		return
	}
	g.slot(row.Start).Merge(row)
	g.changed = true
}

func (g *group) empty() bool {
	for i := range g.rows {
		if g.rows[i].Count > 0 {
			return false
		}
	}
	return true
}

// appendGroup appends g's value: columnar (groupcol.go) when every row has
// exact decimal moments, else version 1: version u8 (=1) | n uvarint |
// n × (slot uvarint | row).
// c is column scratch (nil: one is allocated).
func appendGroup(dst []byte, g *group, c *groupCols) []byte {
	if c == nil {
		c = new(groupCols)
	}
	if out, ok := appendGroupCol(dst, g, c); ok {
		return out
	}
	return appendRowGroup(dst, g)
}

// appendRowGroup appends g's value row by row (version 1).
func appendRowGroup(dst []byte, g *group) []byte {
	dst = append(dst, groupVer)
	n := 0
	for i := range g.rows {
		if g.rows[i].Count > 0 {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	hint := 0
	for i := range g.rows {
		if g.rows[i].Count > 0 {
			dst = binary.AppendUvarint(dst, uint64(i))
			dst = appendRow(dst, &g.rows[i], &hint)
		}
	}
	return dst
}

var errBadGroup = errors.New("bad rollup group")

// walkGroup calls fn with each row of a group value, ascending, decoded into
// row (the caller's scratch: no allocation per call; statsOnly: see
// decodeRow).
func walkGroup(res Resolution, start int64, v []byte, statsOnly bool, row *Row, fn func(*Row) error) error {
	if len(v) > 0 && v[0] == groupVerCol {
		return walkGroupCol(res, start, v, statsOnly, row, fn)
	}
	if len(v) < 1 || v[0] != groupVer {
		if len(v) > 0 {
			return fmt.Errorf("%w: version %d", errBadGroup, v[0])
		}
		return errBadGroup
	}
	p := v[1:]
	n, k := uvarint(p)
	if k <= 0 || n > uint64(res.slots()) {
		return errBadGroup
	}
	p = p[k:]
	slots := uint64(res.slots())
	prev := -1
	for range n {
		i, k := uvarint(p)
		if k <= 0 || i >= slots || int(i) <= prev {
			return errBadGroup
		}
		prev = int(i)
		var err error
		if p, err = decodeRow(row, start+int64(i)*res.Millis(), p[k:], statsOnly); err != nil {
			return err
		}
		if row.Count == 0 {
			return errBadGroup
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if len(p) != 0 {
		return errBadGroup
	}
	return nil
}

// value returns a numeric sample's value from tsdb's raw form.
func value(typ tsdb.ValueType, num uint64) float64 {
	if typ == tsdb.Int {
		return float64(int64(num))
	}
	return math.Float64frombits(num)
}

// foldQuarters appends the quarter rows of sorted, distinct samples to dst.
// Each quarter's samples are contiguous. When the values are exact
// decimals — mants (the values × 10^scale: tsdb's block mantissas) when not
// nil, int values as they are — a row is gathered in integers: count, Σm,
// Σm², min, max, first and last (foldExact). Else one pass gathers count,
// sum, min, max, first, last and the moments by converting each value (the
// previous row's exponent tried first; scale < 0 leaves moments out:
// readers' rows are not stored), and rows without moments take a second
// pass adding the squared deviations from the mean (two-pass M2: no
// division per sample, as stable as Welford's).
func foldQuarters(dst []Row, typ tsdb.ValueType, ts []int64, nums []uint64, mants []int64, scale int) []Row {
	hint := uint8(1)
	switch {
	case scale < 0:
		hint, mants = 0, nil
	case typ == tsdb.Int:
	case mants != nil && scale <= 15:
		hint = uint8(scale + 1)
	default:
		mants = nil
	}
	exact := hint != 0 && (typ == tsdb.Int || mants != nil)
	for i := 0; i < len(ts); {
		start := floorTo(ts[i], quarterMs)
		end := start + quarterMs
		j := i + 1
		for j < len(ts) && ts[j] < end {
			j++
		}
		if exact {
			var ms []int64
			if mants != nil {
				ms = mants[i:j]
			}
			if r, ok := foldExact(start, ts[i:j], nums[i:j], ms, int(hint-1)); ok {
				dst = append(dst, r)
				i = j
				continue
			}
		}
		r := Row{Start: start, de: hint}
		var n uint64
		var sum float64
		for k := i; k < j; k++ {
			v := value(typ, nums[k])
			if v-v != 0 { // NaN or ±Inf: left out
				continue
			}
			if n == 0 {
				r.First, r.FirstTs, r.Min, r.Max = v, ts[k], v, v
			}
			r.Last, r.LastTs = v, ts[k]
			n++
			sum += v
			if v < r.Min {
				r.Min = v
			}
			if v > r.Max {
				r.Max = v
			}
			r.momAdd(v)
		}
		if n > 0 {
			r.Count = n
			if r.de == 0 || !r.setMomFloats() {
				r.de = 0
				mean := sum / float64(n)
				var m2 float64
				for _, num := range nums[i:j] {
					if v := value(typ, num); v-v == 0 {
						d := v - mean
						m2 += d * d
					}
				}
				r.Sum, r.Mean, r.M2 = sum, mean, m2
			} else if !exact {
				hint = r.de
			}
			dst = append(dst, r)
		}
		i = j
	}
	return dst
}

// foldExact is the row of one window's samples whose values are the
// decimals mants × 10^−e (int values, e = 0, when mants is nil), gathered
// in integers; false when a mantissa is past maxMomMant or Σm² overflows.
func foldExact(start int64, ts []int64, nums []uint64, mants []int64, e int) (Row, bool) {
	var lo, hi, s, m0, mn int64
	var q uint64
	var ok bool
	if mants != nil {
		m0, mn = mants[0], mants[len(mants)-1]
		lo, hi, s, q, ok = intMoments(mants)
	} else {
		m0, mn = int64(nums[0]), int64(nums[len(nums)-1])
		lo, hi, s, q, ok = intMoments(nums)
	}
	if !ok {
		return Row{}, false
	}
	r := Row{Start: start, Count: uint64(len(ts)), FirstTs: ts[0], LastTs: ts[len(ts)-1], de: uint8(e + 1), ms: s, mq: q}
	if !r.setMomFloats() {
		return Row{}, false
	}
	r.Min, r.Max, r.First, r.Last = decFloat(lo, e), decFloat(hi, e), decFloat(m0, e), decFloat(mn, e)
	return r, true
}

// intMoments returns the min, max, Σm and Σm² of mantissas xs (int64
// values, or their bits as uint64); false when one is past maxMomMant or
// Σm² overflows.
func intMoments[T int64 | uint64](xs []T) (lo, hi, s int64, q uint64, ok bool) {
	lo, hi = int64(xs[0]), int64(xs[0])
	var carry uint64
	bad := false
	for _, u := range xs {
		x := int64(u)
		bad = bad || x > maxMomMant || x < -maxMomMant
		lo, hi = min(lo, x), max(hi, x)
		var c uint64
		q, c = bits.Add64(q, uint64(x*x), 0)
		carry |= c
		s += x
	}
	return lo, hi, s, q, !bad && carry == 0
}

// coarsen appends to dst the rows of res made by merging src's ascending
// finer rows.
func coarsen(dst []Row, src []Row, res Resolution) []Row {
	for i := range src {
		ws := res.WindowStart(src[i].Start)
		if n := len(dst); n > 0 && dst[n-1].Start == ws {
			dst[n-1].Merge(&src[i])
			continue
		}
		dst = append(dst, Row{Start: ws})
		dst[len(dst)-1].Merge(&src[i])
	}
	return dst
}

// folder turns a sample stream (ascending, distinct) into quarter rows.
type folder struct {
	rows []Row
}

func (f *folder) add(ts int64, v float64) {
	if !usable(v) {
		return
	}
	if n := len(f.rows); n == 0 || ts-f.rows[n-1].Start >= quarterMs {
		f.rows = append(f.rows, Row{Start: floorTo(ts, quarterMs)})
	}
	f.rows[len(f.rows)-1].Add(ts, v)
}

// scanQuarters folds it's samples into quarter rows (appended to dst),
// leaving out those with skipFrom ≤ ts ≤ skipTo; it closes it.
func scanQuarters(dst []Row, it *tsdb.Iterator, skipFrom, skipTo int64) ([]Row, error) {
	f := folder{rows: dst}
	typ := it.Type()
	for it.Next() {
		ts := it.Timestamp()
		if ts >= skipFrom && ts <= skipTo {
			continue
		}
		if typ == tsdb.Int {
			f.add(ts, float64(it.Int()))
		} else {
			f.add(ts, it.Float())
		}
	}
	return f.rows, it.Close()
}
