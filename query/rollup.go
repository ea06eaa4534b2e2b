package query

import (
	"math"
	"strings"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/tsdb"
)

// Granularity is the resolution of a read: raw samples or UTC-aligned rollup windows.
type Granularity uint8

// Granularities (API.md §2: quarters, hours and days; raw only in /query).
const (
	Raw Granularity = iota
	Quarters
	Hours
	Days
)

// Millis is the window length in milliseconds (0 for Raw).
func (g Granularity) Millis() int64 {
	switch g {
	case Quarters:
		return 15 * 60_000
	case Hours:
		return 60 * 60_000
	case Days:
		return 24 * 60 * 60_000
	}
	return 0
}

// Minutes is the window length in minutes, the `minutes` field of a row.
func (g Granularity) Minutes() int64 { return g.Millis() / 60_000 }

// String returns the parameter spelling ("raw", "quarters", "hours", "days").
func (g Granularity) String() string {
	return [...]string{"raw", "quarters", "hours", "days"}[g]
}

// parseGranularity reads a granularity parameter: case-insensitive and trimmed
// (bbdata-v2.md §4.4); raw only where allowRaw.
func parseGranularity(s string, allowRaw bool) (Granularity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "quarters":
		return Quarters, nil
	case "hours":
		return Hours, nil
	case "days":
		return Days, nil
	case "raw":
		if allowRaw {
			return Raw, nil
		}
	}
	if allowRaw {
		return 0, api.WrongParams("granularity should be one of [raw, quarters, hours, days]")
	}
	return 0, api.WrongParams("granularity should be one of [quarters, hours, days]")
}

// Row is one rollup window of one numeric object (DESIGN.md §5): count, sum, mean, M2
// (population variance × count), min, max, first and last with their timestamps. Float
// objects use the float fields; int objects keep exact integers in the Int fields, and Sum
// too once IntSum overflows (IntOverflow). NaN and ±Inf are not part of any row.
type Row struct {
	Start           int64 // window start, ms
	Count           uint64
	Mean, M2        float64
	Sum             float64 // float objects; int objects when IntOverflow
	Min, Max        float64 // float objects
	First, Last     float64 // float objects
	IntSum          int64
	IntOverflow     bool
	IntMin, IntMax  int64
	IntFirst        int64
	IntLast         int64
	FirstTs, LastTs int64
}

// Std is the population standard deviation (0 for one value).
func (r *Row) Std() float64 {
	if r.Count == 0 {
		return math.NaN()
	}
	return math.Sqrt(math.Max(r.M2, 0) / float64(r.Count))
}

// addFloat folds one float sample into r (Welford's update).
func (r *Row) addFloat(ts int64, v float64) {
	if r.Count == 0 {
		r.Min, r.Max, r.First, r.FirstTs = v, v, v, ts
	} else {
		r.Min, r.Max = min(r.Min, v), max(r.Max, v)
	}
	r.Last, r.LastTs = v, ts
	r.Count++
	r.Sum += v
	d := v - r.Mean
	r.Mean += d / float64(r.Count)
	r.M2 += d * (v - r.Mean)
}

// addInt folds one int sample into r.
func (r *Row) addInt(ts int64, v int64) {
	if r.Count == 0 {
		r.IntMin, r.IntMax, r.IntFirst, r.FirstTs = v, v, v, ts
	} else {
		r.IntMin, r.IntMax = min(r.IntMin, v), max(r.IntMax, v)
	}
	r.IntLast, r.LastTs = v, ts
	r.Count++
	s := r.IntSum + v
	if !r.IntOverflow && (v > 0 && s < r.IntSum || v < 0 && s > r.IntSum) {
		r.IntOverflow = true
		r.Sum = float64(r.IntSum)
	}
	r.IntSum = s
	if r.IntOverflow {
		r.Sum += float64(v)
	}
	f := float64(v)
	d := f - r.Mean
	r.Mean += d / float64(r.Count)
	r.M2 += d * (f - r.Mean)
}

// merge folds b (a row of the same window over other samples) into r with Chan's parallel
// formula; used where a share window cuts a bucket twice.
func (r *Row) merge(b *Row, isInt bool) {
	if b.Count == 0 {
		return
	}
	if r.Count == 0 {
		start := r.Start
		*r = *b
		r.Start = start
		return
	}
	na, nb := float64(r.Count), float64(b.Count)
	n := na + nb
	delta := b.Mean - r.Mean
	r.Mean += delta * nb / n
	r.M2 += b.M2 + delta*delta*na*nb/n
	r.Count += b.Count
	if isInt {
		s := r.IntSum + b.IntSum
		over := r.IntOverflow || b.IntOverflow ||
			(b.IntSum > 0 && s < r.IntSum) || (b.IntSum < 0 && s > r.IntSum)
		if over {
			ra, rb := r.Sum, b.Sum
			if !r.IntOverflow {
				ra = float64(r.IntSum)
			}
			if !b.IntOverflow {
				rb = float64(b.IntSum)
			}
			r.Sum = ra + rb
		}
		r.IntSum, r.IntOverflow = s, over
		r.IntMin, r.IntMax = min(r.IntMin, b.IntMin), max(r.IntMax, b.IntMax)
		if b.FirstTs < r.FirstTs {
			r.IntFirst, r.FirstTs = b.IntFirst, b.FirstTs
		}
		if b.LastTs > r.LastTs {
			r.IntLast, r.LastTs = b.IntLast, b.LastTs
		}
		return
	}
	r.Sum += b.Sum
	r.Min, r.Max = min(r.Min, b.Min), max(r.Max, b.Max)
	if b.FirstTs < r.FirstTs {
		r.First, r.FirstTs = b.First, b.FirstTs
	}
	if b.LastTs > r.LastTs {
		r.Last, r.LastTs = b.Last, b.LastTs
	}
}

// Rollups serves rollup rows. The aggregate package's store implements it (rows maintained
// on write); RawRollups computes the same rows from raw values on read.
type Rollups interface {
	// Rows calls fn, ascending by window start, for every non-empty window of object id
	// (value type typ, Float or Int) at granularity g whose start is in [from, to]; each row
	// covers the whole window [start, start+g). It stops when fn returns false.
	Rows(id uint32, typ tsdb.ValueType, g Granularity, from, to int64, fn func(r *Row) bool) error
}

// rollupSession is implemented by Rollups that serve the objects of one query cheaper
// together: Session returns the Rollups to use for them and the function that ends it;
// statsOnly promises that only count, sum, mean and std of the rows are used.
type rollupSession interface {
	Session(statsOnly bool) (Rollups, func())
}

// RawRollups computes rollup rows from the raw values at read time, with the formulas of
// API.md §4 (Welford in float64; NaN and ±Inf left out).
type RawRollups struct{ DB *tsdb.DB }

// Rows implements Rollups.
func (rr RawRollups) Rows(id uint32, typ tsdb.ValueType, g Granularity, from, to int64, fn func(r *Row) bool) error {
	step := g.Millis()
	first, last := alignUp(from, step), alignDown(to, step)
	if first > last {
		return nil
	}
	return scanRows(rr.DB, id, typ, g, first, last+step-1, fn)
}

// scanRows computes the rows of the samples of id in [from, to] (inclusive, any alignment):
// a window only partly inside gets a row of the samples inside.
func scanRows(db *tsdb.DB, id uint32, typ tsdb.ValueType, g Granularity, from, to int64, fn func(r *Row) bool) error {
	if from > to {
		return nil
	}
	it, err := db.Scan(id, max(from, tsdb.MinTimestamp), min(to, tsdb.MaxTimestamp))
	if err != nil {
		return err
	}
	defer it.Close()
	step := g.Millis()
	var r Row
	r.Start = math.MinInt64
	isInt := typ == tsdb.Int
	for it.Next() {
		ts := it.Timestamp()
		start := alignDown(ts, step)
		if isInt {
			if start != r.Start {
				if r.Count > 0 && !fn(&r) {
					return nil
				}
				r = Row{Start: start}
			}
			r.addInt(ts, it.Int())
			continue
		}
		v := it.Float()
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if start != r.Start {
			if r.Count > 0 && !fn(&r) {
				return nil
			}
			r = Row{Start: start}
		}
		r.addFloat(ts, v)
	}
	if err := it.Err(); err != nil {
		return err
	}
	if r.Count > 0 {
		fn(&r)
	}
	return nil
}

// alignDown floors ts to a multiple of step (UTC windows).
func alignDown(ts, step int64) int64 {
	q := ts / step
	if ts%step != 0 && ts < 0 {
		q--
	}
	return q * step
}

// alignUp ceils ts to a multiple of step.
func alignUp(ts, step int64) int64 {
	d := alignDown(ts, step)
	if d == ts {
		return ts
	}
	return d + step
}

// clippedRows produces the rows of target t at granularity g for windows starting in
// [from, to], clipped to t.windows: buckets wholly inside a window come from rollups,
// buckets a window cuts are computed from the raw samples inside (API.md §3.5); a bucket
// cut several times is merged into one row.
func clippedRows(rollups Rollups, db *tsdb.DB, t *target, g Granularity, from, to int64, fn func(r *Row) bool) error {
	step := g.Millis()
	first, last := alignUp(from, step), alignDown(to, step)
	if first > last {
		return nil
	}
	if t.windows == nil {
		return rollups.Rows(t.id, t.typ, g, first, last, fn)
	}
	isInt := t.typ == tsdb.Int
	var pending Row
	stopped := false
	emit := func(r *Row) bool {
		if stopped {
			return false
		}
		if pending.Count > 0 && pending.Start == r.Start {
			pending.merge(r, isInt)
			return true
		}
		if pending.Count > 0 && !fn(&pending) {
			stopped = true
			return false
		}
		pending = *r
		return true
	}
	for _, sp := range clip(first, last+step-1, t.windows) {
		a, b := sp.from, sp.to
		if alignDown(a, step) != a { // head: a bucket the window cuts
			end := min(b, alignDown(a, step)+step-1)
			if err := scanRows(db, t.id, t.typ, g, a, end, emit); err != nil {
				return err
			}
			a = end + 1
		}
		if a > b {
			continue
		}
		if lastFull := alignDown(b+1, step) - step; lastFull >= a {
			if err := rollups.Rows(t.id, t.typ, g, a, lastFull, emit); err != nil {
				return err
			}
			a = lastFull + step
		}
		if a <= b && !stopped {
			if err := scanRows(db, t.id, t.typ, g, a, b, emit); err != nil {
				return err
			}
		}
		if stopped {
			return nil
		}
	}
	if pending.Count > 0 && !stopped {
		fn(&pending)
	}
	return nil
}
