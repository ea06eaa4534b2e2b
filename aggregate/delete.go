package aggregate

import (
	"github.com/cockroachdb/pebble/v2"
)

// DeleteObject deletes object id in the DB (tsdb.DB.DeleteObject) and then
// its rollup rows and state. A crash in between leaves rows without a
// series; the next Open removes them.
func (r *Rollups) DeleteObject(id uint32) error {
	if r.closed.Load() {
		return ErrClosed
	}
	if err := r.db.DeleteObject(id); err != nil {
		return err
	}
	r.mu.Lock()
	r.dropStateLocked(id)
	_ = r.mu.pending.DeleteRange(objPrefix(id), objPrefixEnd(id), nil)
	pb := r.takePendingLocked()
	r.mu.Unlock()
	return r.commitTaken(pb, pebble.Sync)
}

// DeleteRange deletes id's samples with from ≤ ts ≤ to in the DB
// (tsdb.DB.DeleteRange, retention) and then corrects the rows: the records
// of the days inside the range are deleted, the days the range cuts are
// recomputed from raw data. Retention cuts at UTC day boundaries, so it only
// deletes records.
func (r *Rollups) DeleteRange(id uint32, from, to int64) error {
	if r.closed.Load() {
		return ErrClosed
	}
	if err := r.db.DeleteRange(id, from, to); err != nil {
		return err
	}
	if from > to {
		return nil
	}
	from = max(from, 0)
	r.mu.Lock()
	st := r.stateLocked(id)
	// Whole days inside [from, to]: [dFirst, dLast] (day starts).
	dFirst := dayStart(from)
	if dFirst < from {
		dFirst += dayMs
	}
	dLast := dayStart(to)
	if to-dLast != dayMs-1 {
		dLast -= dayMs
	}
	var err error
	if dFirst <= dLast {
		end := dLast + dayMs
		_ = r.mu.pending.DeleteRange(recKey(id, recHour, dFirst), recKey(id, recHour, end), nil)
		_ = r.mu.pending.DeleteRange(recKey(id, recDay, dFirst), recKey(id, recDay, end), nil)
		if st != nil && st.day >= dFirst && st.day <= dLast {
			err = r.recomputeDayLocked(id, st, st.day)
		}
	}
	for _, d := range [2]int64{dayStart(from), dayStart(to)} {
		if err == nil && (d < dFirst || d > dLast) {
			s := st
			if s != nil && (s.hour == noWindow || d > s.day) {
				s = nil // beyond the object's open day: do not move its state
			}
			err = r.recomputeDayLocked(id, s, d)
		}
	}
	pb := r.takePendingLocked()
	r.mu.Unlock()
	if cerr := r.commitTaken(pb, pebble.Sync); err == nil {
		err = cerr
	}
	return err
}
