package aggregate

import (
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// openSnap is a copy of an object's open windows taken for a read.
type openSnap struct {
	ok     bool
	hour   int64
	day    int64
	q      hourAcc
	dayAcc Row
}

// Rows calls fn with the rows of resolution res of each object of ids (in
// the order given; unknown and non-numeric objects have no rows) whose
// window start is in [from, to] (ms, inclusive), ascending by window start.
// Windows without a usable value have no row. The still-open window of each
// object is included, with the values of every acknowledged write. row is
// valid only during fn; fn's error stops the walk and is returned.
func (r *Rollups) Rows(ctx context.Context, ids []uint32, res Resolution, from, to int64, fn func(id uint32, row *Row) error) error {
	if res.Millis() == 0 {
		return fmt.Errorf("aggregate: invalid resolution %d", res)
	}
	if from > to || len(ids) == 0 {
		return nil
	}
	snaps := make([]openSnap, len(ids))
	r.mu.Lock()
	if r.mu.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	for i, id := range ids {
		if st := r.stateLocked(id); st != nil && st.hour != noWindow {
			snaps[i] = openSnap{ok: true, hour: st.hour, day: st.day, q: st.q, dayAcc: st.dayAcc}
		}
	}
	pb := r.takePendingLocked()
	r.mu.Unlock()
	if err := r.commitTaken(pb, pebble.NoSync); err != nil {
		return err
	}
	it, err := r.pdb.NewIter(&pebble.IterOptions{LowerBound: objectsLo, UpperBound: objectsHi})
	if err != nil {
		return fmt.Errorf("aggregate: cannot read rollups: %w", err)
	}
	defer it.Close()
	var row Row
	for i, id := range ids {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := r.readObject(it, id, res, from, to, &snaps[i], &row, fn); err != nil {
			return err
		}
	}
	return nil
}

// ObjectRows is Rows for one object.
func (r *Rollups) ObjectRows(ctx context.Context, id uint32, res Resolution, from, to int64, fn func(row *Row) error) error {
	return r.Rows(ctx, []uint32{id}, res, from, to, func(_ uint32, row *Row) error { return fn(row) })
}

// readObject walks one object's stored records of res with the open windows
// of snap laid over them (memory wins for the window it holds).
func (r *Rollups) readObject(it *pebble.Iterator, id uint32, res Resolution, from, to int64, snap *openSnap, row *Row, fn func(uint32, *Row) error) error {
	from = max(from, 0)
	if to < from {
		return nil
	}
	kind := byte(recHour)
	lo := from
	memStart := snap.hour
	switch res {
	case Quarters:
		lo = hourStart(from)
	case Days:
		kind = recDay
		memStart = snap.day
	}
	upper := append(objPrefix(id), kind+1) // the end of this kind of record
	if to < maxStart {
		upper = recKey(id, kind, to+1)
	}
	it.SetBounds(recKey(id, kind, lo), upper)
	memDone := !snap.ok
	for valid := it.First(); valid; valid = it.Next() {
		_, _, start, ok := parseRecKey(it.Key())
		if !ok {
			continue
		}
		if !memDone && start >= memStart {
			memDone = true
			if err := emitOpen(id, res, from, to, snap, row, fn); err != nil {
				return err
			}
			if start == memStart {
				continue
			}
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := emitStored(id, res, from, to, start, v, it.Key(), row, fn); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	if !memDone {
		return emitOpen(id, res, from, to, snap, row, fn)
	}
	return nil
}

// maxStart bounds window starts (keys hold them as unsigned 64-bit).
const maxStart = 1<<62 - 1

func emitStored(id uint32, res Resolution, from, to, start int64, v, key []byte, row *Row, fn func(uint32, *Row) error) error {
	switch res {
	case Hours:
		if err := decodeHourRow(row, start, v); err != nil {
			return &CorruptionError{Key: append([]byte(nil), key...), Err: err}
		}
		return fn(id, row)
	case Days:
		if err := decodeDayRecord(row, start, v); err != nil {
			return &CorruptionError{Key: append([]byte(nil), key...), Err: err}
		}
		return fn(id, row)
	}
	var q hourAcc
	if err := decodeHourRecord(&q, start, v); err != nil {
		return &CorruptionError{Key: append([]byte(nil), key...), Err: err}
	}
	return emitQuarters(id, from, to, &q, row, fn)
}

func emitQuarters(id uint32, from, to int64, q *hourAcc, row *Row, fn func(uint32, *Row) error) error {
	for i := range q {
		if q[i].Count == 0 || q[i].Start < from || q[i].Start > to {
			continue
		}
		*row = q[i]
		if err := fn(id, row); err != nil {
			return err
		}
	}
	return nil
}

func emitOpen(id uint32, res Resolution, from, to int64, snap *openSnap, row *Row, fn func(uint32, *Row) error) error {
	switch res {
	case Quarters:
		return emitQuarters(id, from, to, &snap.q, row, fn)
	case Hours:
		if snap.hour < from || snap.hour > to {
			return nil
		}
		*row = snap.q.row(snap.hour)
	case Days:
		if snap.day < from || snap.day > to {
			return nil
		}
		*row = snap.dayAcc
		row.Start = snap.day
		hr := snap.q.row(snap.hour)
		row.Merge(&hr)
	}
	if row.Count == 0 {
		return nil
	}
	return fn(id, row)
}

func fmtTs(ts int64) string { return time.UnixMilli(ts).UTC().Format("2006-01-02T15:04:05.000Z") }
