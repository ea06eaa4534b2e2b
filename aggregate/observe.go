package aggregate

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/cockroachdb/pebble/v2"
	"github.com/tsgate/tsgate/tsdb"
)

// flushScratch is reused across observed operations (tsdb serializes them).
type flushScratch struct {
	groups []*group // touched groups of the current object
	spare  []*group
	q, h   []Row // quarter and hour rows
	d      []Row // day rows
	days   []int64
	buf    []byte
	key    []byte
	cols   groupCols
}

// get returns the group (res, start) of the current object, started empty:
// it becomes a new fragment (keys.go), so stored groups are never read.
func (fs *flushScratch) get(res Resolution, start int64) *group {
	// Newest first: rows come in time order per resolution, so the group
	// is almost always among the last touched (a flush of a month of one
	// series touches ≈ 150 groups).
	for i := len(fs.groups) - 1; i >= 0; i-- {
		if g := fs.groups[i]; g.res == res && g.start == start {
			return g
		}
	}
	var g *group
	if n := len(fs.spare); n > 0 {
		g, fs.spare = fs.spare[n-1], fs.spare[:n-1]
	} else {
		g = new(group)
	}
	g.reset(res, start)
	fs.groups = append(fs.groups, g)
	return g
}

// write puts the changed, non-empty groups of object id into pb as
// fragments of generation gen, and forgets them.
func (fs *flushScratch) write(pb *pebble.Batch, id uint32, gen uint64, m *rollupMetrics) error {
	for _, g := range fs.groups {
		if g.changed && !g.empty() {
			fs.key = appendGroupKey(fs.key[:0], g.res, id, g.start, gen)
			fs.buf = appendGroup(fs.buf[:0], g, &fs.cols)
			if err := pb.Set(fs.key, fs.buf, nil); err != nil {
				return err
			}
			m.groups.Inc()
			m.groupBytes.Add(len(fs.buf))
		}
		fs.spare = append(fs.spare, g)
	}
	clear(fs.groups)
	fs.groups = fs.groups[:0]
	return nil
}

// resRows are one resolution's rows.
type resRows struct {
	res  Resolution
	rows []Row
}

// levels returns quarters and the hour and day rows made from them.
func (fs *flushScratch) levels(quarters []Row) [3]resRows {
	fs.h = coarsen(fs.h[:0], quarters, Hours)
	fs.d = coarsen(fs.d[:0], fs.h, Days)
	return [3]resRows{{Quarters, quarters}, {Hours, fs.h}, {Days, fs.d}}
}

// setDay replaces the rows of day d (all three resolutions) by quarters
// (the day's quarter rows, ascending; possibly none): with clear, the day's
// fragments are deleted first (the new groups come after the delete in pb,
// so they win).
func (r *Rollups) setDay(pb *pebble.Batch, id uint32, d int64, quarters []Row, clear bool) error {
	fs := &r.fl
	for _, set := range fs.levels(quarters) {
		if clear {
			if err := r.deleteGroups(pb, set.res, id, d, d+dayMs); err != nil {
				return err
			}
		}
		for i := range set.rows {
			fs.get(set.res, set.res.groupStart(set.rows[i].Start)).set(&set.rows[i])
		}
	}
	r.m.dayRecomp.Inc()
	return nil
}

// mergeRows adds the quarter rows of samples new to the stored rows (all
// later than what they hold) to the groups, with their hours and days.
func (r *Rollups) mergeRows(quarters []Row) {
	fs := &r.fl
	for _, set := range fs.levels(quarters) {
		for i := range set.rows {
			fs.get(set.res, set.res.groupStart(set.rows[i].Start)).merge(&set.rows[i])
		}
	}
}

// ObserveFlush implements tsdb.RowsObserver: the rows of a flushed numeric
// series are brought to what its blocks will hold, in the flush's batch.
// Samples above the series' previous block maximum are folded into the
// stored rows (Chan); the UTC days holding samples at or below it (late
// data, overwrites) are recomputed from the blocks merged with the flush.
func (r *Rollups) ObserveFlush(f *tsdb.FlushView, s *tsdb.FlushedSeries) error {
	if s.Type != tsdb.Float && s.Type != tsdb.Int {
		return nil
	}
	fs := &r.fl
	k := sort.Search(len(s.TS), func(j int) bool { return s.TS[j] > s.PrevMax })
	fs.days = fs.days[:0]
	for _, ts := range s.TS[:k] {
		if d := dayStart(ts); len(fs.days) == 0 || fs.days[len(fs.days)-1] != d {
			fs.days = append(fs.days, d)
		}
	}
	for _, d := range fs.days {
		it, err := f.Scan(s, d, d+dayMs-1)
		if err != nil {
			return err
		}
		if fs.q, err = scanQuarters(fs.q[:0], it, 1, 0); err != nil {
			return err
		}
		if err := r.setDay(f.Batch, s.ID, d, fs.q, true); err != nil {
			return err
		}
	}
	if n := len(fs.days); n > 0 {
		// Samples of the last recomputed day are in it already.
		last := fs.days[n-1]
		for k < len(s.TS) && dayStart(s.TS[k]) == last {
			k++
		}
	}
	if k < len(s.TS) {
		var mants []int64
		if s.Mants != nil {
			mants = s.Mants[k:]
		}
		fs.q = foldQuarters(fs.q[:0], s.Type, s.TS[k:], s.Nums[k:], mants, s.MantScale)
		r.mergeRows(fs.q)
	}
	return fs.write(f.Batch, s.ID, f.Gen, r.m)
}

// ObserveFlushEnd implements tsdb.RowsObserver: the rows now describe the
// flush's generation.
func (r *Rollups) ObserveFlushEnd(f *tsdb.FlushView) error { return setGen(f.Batch, f.Gen) }

// ObserveDelete implements tsdb.RowsObserver: DeleteObject deletes every
// row of the object; DeleteRange deletes the rows of the days inside the
// range and recomputes the (at most two) days it cuts, in the delete's batch.
func (r *Rollups) ObserveDelete(d *tsdb.DeleteView) error {
	pb := d.Batch
	if d.Whole || (d.Type != tsdb.Float && d.Type != tsdb.Int) {
		for _, res := range allResolutions {
			if err := r.deleteGroups(pb, res, d.ID, 0, maxStart+1); err != nil {
				return err
			}
		}
		return setGen(pb, d.Gen)
	}
	from, to := max(d.From, 0), min(d.To, tsdb.MaxTimestamp)
	if from > to {
		return setGen(pb, d.Gen)
	}
	// Whole days inside [from, to]: [first, last] (day starts).
	first, last := dayStart(from), dayStart(to)
	cutFirst, cutLast := first < from, to-last != dayMs-1
	if cutFirst {
		first += dayMs
	}
	if cutLast {
		last -= dayMs
	}
	fs := &r.fl
	if first <= last {
		for _, res := range allResolutions { // groups divide days
			if err := r.deleteGroups(pb, res, d.ID, first, last+dayMs); err != nil {
				return err
			}
		}
	}
	// The days the range cuts, recomputed without the deleted samples.
	fs.days = fs.days[:0]
	if cutFirst {
		fs.days = append(fs.days, dayStart(from))
	}
	if cutLast && (len(fs.days) == 0 || fs.days[0] != dayStart(to)) {
		fs.days = append(fs.days, dayStart(to))
	}
	for _, day := range fs.days {
		it, err := d.Scan(day, day+dayMs-1)
		if err != nil {
			return err
		}
		if fs.q, err = scanQuarters(fs.q[:0], it, from, to); err != nil {
			return err
		}
		if err := r.setDay(pb, d.ID, day, fs.q, true); err != nil {
			return err
		}
	}
	fs.days = fs.days[:0]
	if err := fs.write(pb, d.ID, d.Gen, r.m); err != nil {
		return err
	}
	return setGen(pb, d.Gen)
}

// Rebuild recomputes every row from raw data: the rollup keyspace is
// cleared and each numeric series' flushed samples are folded again.
// progress, if not nil, is called after each object with the objects done
// and the total. Flushes wait meanwhile (appends continue into the head
// until its budget is spent); it is meant for `tsgate admin rebuild-rollups`
// on a stopped server.
func (r *Rollups) Rebuild(ctx context.Context, progress func(done, total int)) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if r.closed.Load() {
		return ErrClosed
	}
	return r.db.Exclusive(func() error {
		return r.rebuildLocked(ctx, progress, r.db.RawGeneration())
	})
}

// rebuildLocked is Rebuild with tsdb's structural lock held. The version
// and generation keys are written last: a crash midway leaves a keyspace
// without a version, which the next Open rebuilds.
func (r *Rollups) rebuildLocked(ctx context.Context, progress func(done, total int), gen uint64) error {
	var ids []uint32
	r.db.ForEachSeries(func(id uint32, t tsdb.ValueType) bool {
		if t == tsdb.Float || t == tsdb.Int {
			ids = append(ids, id)
		}
		return true
	})
	pb := r.pdb.NewBatch()
	defer func() { pb.Close() }()
	// The keys there are, not the whole keyspace: a range deletion stays
	// in the memtable and then L0 until compacted away, and any flush table
	// it overlaps is placed in L0 instead of the bottom level (a new
	// keyspace's rebuild deleted [r, s) and sent every rollup table of
	// the next flushes to L0; TestFlushTablesPerEpoch).
	lo, hi, err := r.keyspaceSpan()
	if err != nil {
		return err
	}
	if lo != nil {
		if err := pb.DeleteRange(lo, hi, nil); err != nil {
			return err
		}
	}
	commit := func() error {
		err := r.db.ApplyDerived(pb)
		pb.Close()
		pb = r.pdb.NewBatch()
		if err != nil {
			return fmt.Errorf("aggregate: cannot write rebuilt rows: %w", err)
		}
		return nil
	}
	if err := commit(); err != nil {
		return err
	}
	fs := &r.fl
	for n, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		it, err := r.db.ScanBlocks(id, 0, tsdb.MaxTimestamp)
		if errors.Is(err, tsdb.ErrUnknownSeries) {
			continue
		}
		if err != nil {
			return err
		}
		if fs.q, err = scanQuarters(fs.q[:0], it, 1, 0); err != nil {
			return err
		}
		for i := 0; i < len(fs.q); {
			d := dayStart(fs.q[i].Start)
			j := i
			for j < len(fs.q) && fs.q[j].Start < d+dayMs {
				j++
			}
			if err := r.setDay(pb, id, d, fs.q[i:j], false); err != nil { // the keyspace was cleared
				return err
			}
			i = j
		}
		if err := fs.write(pb, id, gen, r.m); err != nil {
			return err
		}
		if pb.Len() >= 4<<20 {
			if err := commit(); err != nil {
				return err
			}
		}
		if progress != nil {
			progress(n+1, len(ids))
		}
	}
	if err := pb.Set(versionKey, []byte{formatVer}, nil); err != nil {
		return err
	}
	if err := setGen(pb, gen); err != nil {
		return err
	}
	r.m.rebuilds.Inc()
	return commit()
}

// keyspaceSpan returns the smallest range [lo, hi) holding every key of
// the rollup keyspace (nil when it is empty).
func (r *Rollups) keyspaceSpan() (lo, hi []byte, err error) {
	it, err := r.pdb.NewIter(&pebble.IterOptions{LowerBound: keyspaceLo, UpperBound: keyspaceHi})
	if err != nil {
		return nil, nil, err
	}
	if it.First() {
		lo = append([]byte(nil), it.Key()...)
		if it.Last() {
			hi = append(append([]byte(nil), it.Key()...), 0) // the key's immediate successor
		}
	}
	if err := it.Error(); err != nil {
		_ = it.Close()
		return nil, nil, err
	}
	return lo, hi, it.Close()
}

// CorruptionError reports a rollup group that cannot be decoded.
type CorruptionError struct {
	Key []byte
	Err error
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("aggregate: corrupt rollup group %x: %v", e.Key, e.Err)
}

func (e *CorruptionError) Unwrap() error { return e.Err }
