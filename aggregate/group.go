package aggregate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

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

// Group value: version u8 (=1) | n uvarint | n × (slot uvarint | row).
func appendGroup(dst []byte, g *group) []byte {
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
// Each quarter's samples are contiguous: one pass finds its end and gathers
// count, sum, min, max, first and last, a second adds the squared
// deviations from the mean (two-pass M2: no division per sample, as stable
// as Welford's).
func foldQuarters(dst []Row, typ tsdb.ValueType, ts []int64, nums []uint64) []Row {
	for i := 0; i < len(ts); {
		r := Row{Start: floorTo(ts[i], quarterMs)}
		end := r.Start + quarterMs
		var n uint64
		var sum float64
		j := i
		for ; j < len(ts) && ts[j] < end; j++ {
			v := value(typ, nums[j])
			if v-v != 0 { // NaN or ±Inf: left out
				continue
			}
			if n == 0 {
				r.First, r.FirstTs, r.Min, r.Max = v, ts[j], v, v
			}
			r.Last, r.LastTs = v, ts[j]
			n++
			sum += v
			if v < r.Min {
				r.Min = v
			}
			if v > r.Max {
				r.Max = v
			}
		}
		if n > 0 {
			mean := sum / float64(n)
			var m2 float64
			for _, num := range nums[i:j] {
				if v := value(typ, num); v-v == 0 {
					d := v - mean
					m2 += d * d
				}
			}
			r.Count, r.Sum, r.Mean, r.M2 = n, sum, mean, m2
			dst = append(dst, r)
		}
		i = j
	}
	return dst
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
