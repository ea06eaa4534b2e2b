package aggregate

import (
	"context"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/tsgate/tsgate/tsdb"
)

// recover runs at Open: it recomputes from raw data every (object, day)
// named by an intent left by a crash, removes the rows of objects that no
// longer have a numeric series, and deletes the intents. Nothing else runs
// yet.
func (r *Rollups) recover() error {
	t0 := r.opts.Now()
	it, err := r.pdb.NewIter(&pebble.IterOptions{LowerBound: intentLo, UpperBound: intentHi})
	if err != nil {
		return err
	}
	type span struct{ lo, hi int64 }
	spans := map[uint32][]span{}
	nIntents := 0
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("aggregate: cannot read intents: %w", err)
		}
		nIntents++
		if err := decodeIntent(v, func(id uint32, lo, hi int64) {
			spans[id] = append(spans[id], span{lo, hi})
		}); err != nil {
			// A damaged intent cannot say what it covered: recompute everything.
			it.Close()
			r.log.Error("aggregate: damaged intent record, rebuilding all rollups", "err", err)
			return r.rebuild(context.Background(), nil, false)
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("aggregate: cannot read intents: %w", err)
	}
	ids := make([]uint32, 0, len(spans))
	for id := range spans {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	days := 0
	for _, id := range ids {
		ss := spans[id]
		slices.SortFunc(ss, func(a, b span) int { return int(a.lo - b.lo) })
		next := int64(-1) // first day not yet recomputed
		r.mu.Lock()
		for _, s := range ss {
			for d := max(s.lo, next); d <= s.hi; d++ {
				if err := r.recomputeDayLocked(id, nil, d*dayMs); err != nil {
					r.mu.Unlock()
					return err
				}
				days++
			}
			next = max(next, s.hi+1)
		}
		var pb *pebble.Batch
		big := r.mu.pending.Len() >= r.opts.PendingBytes
		if big {
			pb = r.takePendingLocked()
		}
		r.mu.Unlock()
		if big {
			if err := r.commitTaken(pb, pebble.NoSync); err != nil {
				return err
			}
		}
	}
	if err := r.sweep(); err != nil {
		return err
	}
	r.mu.Lock()
	_ = r.mu.pending.DeleteRange(intentLo, intentHi, nil)
	pb := r.takePendingLocked()
	r.mu.Unlock()
	if err := r.commitTaken(pb, pebble.Sync); err != nil {
		return err
	}
	if nIntents > 0 {
		r.log.Info("aggregate: recovered rollups after a crash", "intents", nIntents, "objects", len(ids),
			"days", days, "duration", r.opts.Now().Sub(t0))
	}
	return nil
}

// sweep adds to the pending batch the deletion of the rows of every
// object that has no numeric series (a crash between tsdb's DeleteObject and
// ours). One seek per object with rows.
func (r *Rollups) sweep() error {
	it, err := r.pdb.NewIter(&pebble.IterOptions{LowerBound: objectsLo, UpperBound: objectsHi})
	if err != nil {
		return err
	}
	defer it.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for valid := it.First(); valid; {
		id, _, _, ok := parseRecKey(it.Key())
		if !ok {
			valid = it.Next()
			continue
		}
		t, err := r.db.SeriesType(id)
		if err != nil || (t != tsdb.Float && t != tsdb.Int) {
			_ = r.mu.pending.DeleteRange(objPrefix(id), objPrefixEnd(id), nil)
		}
		valid = it.SeekGE(objPrefixEnd(id))
	}
	return it.Error()
}

// Rebuild recomputes every row from raw data: for each numeric series, its
// records are deleted and rewritten from a scan of all its samples (and the
// rows of objects without a numeric series are deleted). progress, if not
// nil, is called after each object with the objects done and the total.
//
// It may run while ingest continues (each object is rebuilt under the lock
// that ingest takes, so its writes wait for that object's scan), but it is
// meant for `tsgate admin rebuild-rollups` on a stopped server.
func (r *Rollups) Rebuild(ctx context.Context, progress func(done, total int)) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if r.closed.Load() {
		return ErrClosed
	}
	return r.rebuild(ctx, progress, true)
}

func (r *Rollups) rebuild(ctx context.Context, progress func(done, total int), live bool) error {
	var ids []uint32
	r.db.ForEachSeries(func(id uint32, t tsdb.ValueType) bool {
		if t == tsdb.Float || t == tsdb.Int {
			ids = append(ids, id)
		}
		return true
	})
	if err := r.sweep(); err != nil {
		return err
	}
	for i, id := range ids {
		if ctx != nil {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		r.mu.Lock()
		if r.mu.closed {
			r.mu.Unlock()
			return ErrClosed
		}
		r.dropStateLocked(id)
		err := r.rebuildObjectLocked(id)
		pb := r.takePendingLocked()
		cerr := r.commitTaken(pb, pebble.NoSync) // under mu: the object's state reloads from the new rows
		r.mu.Unlock()
		if err != nil {
			return err
		}
		if cerr != nil {
			return cerr
		}
		if progress != nil {
			progress(i+1, len(ids))
		}
	}
	if !live {
		r.mu.Lock()
		_ = r.mu.pending.DeleteRange(intentLo, intentHi, nil)
		pb := r.takePendingLocked()
		r.mu.Unlock()
		return r.commitTaken(pb, pebble.Sync)
	}
	return r.checkpoint(pebble.Sync)
}

// rebuildObjectLocked replaces id's records by a recomputation from all its
// raw samples, in the pending batch.
func (r *Rollups) rebuildObjectLocked(id uint32) error {
	_ = r.mu.pending.DeleteRange(objPrefix(id), objPrefixEnd(id), nil)
	var q hourAcc
	h, d := int64(noWindow), int64(noWindow)
	var day Row
	closeHour := func() {
		if h == noWindow {
			return
		}
		r.putHourLocked(id, h, &q)
		hr := q.row(h)
		day.Merge(&hr)
	}
	_, err := r.scan(id, tsdb.MinTimestamp, tsdb.MaxTimestamp, func(ts int64, v float64) {
		if ts-h >= hourMs {
			closeHour()
			nh := hourStart(ts)
			if nd := dayStart(nh); nd != d {
				if d != noWindow {
					r.putDayLocked(id, d, &day)
				}
				d, day = nd, Row{Start: nd}
			}
			h = nh
			q.reset(h)
		}
		q[(ts-h)/quarterMs].Add(ts, v)
	})
	if err != nil {
		return err
	}
	closeHour()
	if d != noWindow {
		r.putDayLocked(id, d, &day)
	}
	return nil
}
