package query

import (
	"context"
	"errors"
	"math"

	"github.com/tsgate/tsgate/aggregate"
	"github.com/tsgate/tsgate/tsdb"
)

// AggregateRollups serves the rows the aggregate package keeps (computed at tsdb's flushes,
// the head folded in at read: docs/decisions/0013); the node sets Options.Rollups to it.
// Int objects' min, max, first, last and sum are converted back to integers (exact below
// 2^53, where aggregate's float64 row holds them exactly).
type AggregateRollups struct{ R *aggregate.Rollups }

var errStopRows = errors.New("query: stop")

// Rows implements Rollups: a reader session of one object.
func (a AggregateRollups) Rows(id uint32, typ tsdb.ValueType, g Granularity, from, to int64, fn func(r *Row) bool) error {
	rd := a.R.NewReader(false)
	defer rd.Close()
	return readerRollups{rd}.Rows(id, typ, g, from, to, fn)
}

// Session implements rollupSession: the objects of one query share an
// aggregate.Reader (one Pebble iterator instead of one per object); statsOnly: the rows'
// min, max, first and last are not used.
func (a AggregateRollups) Session(statsOnly bool) (Rollups, func()) {
	rd := a.R.NewReader(statsOnly)
	return readerRollups{rd}, rd.Close
}

type readerRollups struct{ rd *aggregate.Reader }

func (s readerRollups) Rows(id uint32, typ tsdb.ValueType, g Granularity, from, to int64, fn func(r *Row) bool) error {
	var res aggregate.Resolution
	switch g {
	case Quarters:
		res = aggregate.Quarters
	case Hours:
		res = aggregate.Hours
	case Days:
		res = aggregate.Days
	default:
		return nil
	}
	isInt := typ == tsdb.Int
	var row Row
	err := s.rd.ObjectRows(context.Background(), id, res, from, to, func(ar *aggregate.Row) error {
		if ar.Count == 0 {
			return nil
		}
		row = Row{Start: ar.Start, Count: ar.Count, Mean: ar.Mean, M2: ar.M2, Sum: ar.Sum,
			Min: ar.Min, Max: ar.Max, First: ar.First, Last: ar.Last, FirstTs: ar.FirstTs, LastTs: ar.LastTs}
		if isInt {
			row.IntMin, row.IntMax = int64(ar.Min), int64(ar.Max)
			row.IntFirst, row.IntLast = int64(ar.First), int64(ar.Last)
			if math.Abs(ar.Sum) < 1<<63 {
				row.IntSum = int64(ar.Sum)
			} else {
				row.IntOverflow = true
			}
		}
		if !fn(&row) {
			return errStopRows
		}
		return nil
	})
	if errors.Is(err, errStopRows) {
		return nil
	}
	return err
}
