package aggregate

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/tsgate/tsgate/tsdb"
)

// Append stores b in the DB (tsdb.DB.Append with the same arguments and the
// same errors) and brings the rollups up to date before returning, so a
// write acknowledged after it returns nil is visible in Rows.
//
// It is the write path's only entry: samples appended to the DB directly are
// not reflected in rollups until Rebuild. Before the samples go to tsdb, an
// intent naming their (object, day) pairs is written to Pebble without
// waiting for fsync; tsdb's fsync makes it durable with them, so a crash at
// any point leaves either the rows or an intent that Open recomputes.
//
// In-order samples (later than everything observed for their object) update
// the open 15-minute accumulator in memory; closed hours and days are
// written in bulk. A sample at or before what was observed for its object
// (late, or overwriting) makes its bucket be recomputed from raw data: the
// open hour when it falls there, else its whole UTC day.
//
// An error after tsdb accepted the samples is returned wrapped ("samples
// stored, rollups not updated"); the rows are then repaired at the next
// Open.
func (r *Rollups) Append(ctx context.Context, b *tsdb.Batch, dup tsdb.Duplicates) error {
	if b.Len() == 0 {
		return r.db.Append(ctx, b, dup)
	}
	seq, err := r.prepare(b)
	if err != nil {
		return err
	}
	err = r.db.Append(ctx, b, dup)
	if err != nil {
		if notApplied(err) {
			r.finish(seq)
			return err
		}
		// The samples may be stored: recompute what they touch.
		if oerr := r.observe(b, seq, true); oerr != nil {
			return errors.Join(err, oerr)
		}
		return err
	}
	if err := r.observe(b, seq, false); err != nil {
		return fmt.Errorf("aggregate: samples stored, rollups not updated: %w", err)
	}
	return nil
}

// notApplied reports whether an Append error guarantees that nothing of the
// batch was stored (tsdb returns these before its WAL write).
func notApplied(err error) bool {
	var se *tsdb.SampleError
	return errors.As(err, &se) || errors.Is(err, tsdb.ErrClosed) || errors.Is(err, tsdb.ErrUnknownSeries) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// sampleValue returns a numeric sample's value as float64; ok is false for
// bool and string samples.
func sampleValue(v tsdb.Value) (float64, bool) {
	switch v.Type {
	case tsdb.Float:
		return v.Float(), true
	case tsdb.Int:
		return float64(v.Int()), true
	}
	return 0, false
}

// prepare loads the states of the batch's objects that have none yet
// (before tsdb counts the batch in their stats) and writes the intent: the
// batch's day range and its object ids as runs. seq 0: no numeric sample.
// It does not touch the states themselves (one pass over the batch, no
// cache miss per sample).
func (r *Rollups) prepare(b *tsdb.Batch) (uint64, error) {
	r.mu.Lock()
	if r.mu.closed {
		r.mu.Unlock()
		return 0, ErrClosed
	}
	if err := r.brokenErr(); err != nil {
		r.mu.Unlock()
		return 0, err
	}
	runs := r.mu.runs[:0]
	nruns := 0
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	runStart, runEnd, prevEnd := int64(-1), int64(-1), int64(0)
	n := b.Len()
	dense := r.mu.dense
	for i := 0; i < n; i++ {
		id, ts, val := b.Sample(i)
		if val.Type != tsdb.Float && val.Type != tsdb.Int {
			continue
		}
		x := int64(id)
		if x == runEnd-1 { // same object as the previous sample
			lo, hi = min(lo, ts), max(hi, ts)
			continue
		}
		if !(id < denseLimit && int(id) < len(dense) && dense[id] != nil) && r.stateLocked(id) == nil {
			st, err := r.loadLocked(id)
			if err != nil {
				r.mu.Unlock()
				return 0, err
			}
			if st == nil {
				continue // unknown series: Append reports it
			}
			dense = r.mu.dense
		}
		lo, hi = min(lo, ts), max(hi, ts)
		if x == runEnd {
			runEnd++
			continue
		}
		if runEnd >= 0 {
			runs = binary.AppendVarint(runs, runStart-prevEnd)
			runs = binary.AppendUvarint(runs, uint64(runEnd-runStart))
			prevEnd = runEnd
			nruns++
		}
		runStart, runEnd = x, x+1
	}
	if runEnd < 0 {
		r.mu.runs = runs
		r.mu.Unlock()
		return 0, nil
	}
	runs = binary.AppendVarint(runs, runStart-prevEnd)
	runs = binary.AppendUvarint(runs, uint64(runEnd-runStart))
	nruns++
	bp := intentBufs.Get().(*[]byte)
	var rec []byte
	if hi/dayMs-lo/dayMs <= 1 {
		rec = appendIntentHeader((*bp)[:0], lo/dayMs, hi/dayMs, 1, nruns)
		rec = append(rec, runs...)
	} else {
		// Backfill or late data: one group per day, so recovery recomputes
		// only the days each object touched.
		rec = r.appendIntentByDayLocked((*bp)[:0], b)
	}
	r.mu.runs = runs
	seq := r.mu.nextSeq
	r.mu.nextSeq++
	r.mu.inflight[seq] = make(chan struct{})
	r.mu.sinceCk++
	if r.mu.sinceCk >= r.opts.CheckpointIntents {
		r.triggerCheckpoint()
	}
	r.mu.Unlock()
	err := r.pdb.Set(intentKey(seq), rec, pebble.NoSync)
	*bp = rec
	intentBufs.Put(bp)
	if err != nil {
		r.finish(seq)
		return 0, fmt.Errorf("aggregate: cannot write rollup intent: %w", err)
	}
	return seq, nil
}

// appendIntentByDayLocked encodes an intent with one group per UTC day of
// b's numeric samples of known objects.
func (r *Rollups) appendIntentByDayLocked(dst []byte, b *tsdb.Batch) []byte {
	byDay := map[int64][]uint32{}
	for i := 0; i < b.Len(); i++ {
		id, ts, val := b.Sample(i)
		if val.Type != tsdb.Float && val.Type != tsdb.Int || r.stateLocked(id) == nil {
			continue
		}
		d := ts / dayMs
		ids := byDay[d]
		if n := len(ids); n == 0 || ids[n-1] != id {
			byDay[d] = append(ids, id)
		}
	}
	days := make([]int64, 0, len(byDay))
	for d := range byDay {
		days = append(days, d)
	}
	slices.Sort(days)
	dst = append(dst, intentVer)
	dst = binary.AppendUvarint(dst, uint64(len(days)))
	for _, d := range days {
		ids := byDay[d]
		slices.Sort(ids)
		ids = slices.Compact(ids)
		nruns := 0
		for i := range ids {
			if i == 0 || ids[i] != ids[i-1]+1 {
				nruns++
			}
		}
		dst = appendIntentGroup(dst, d, d, nruns)
		prevEnd := int64(0)
		for i := 0; i < len(ids); {
			j := i + 1
			for j < len(ids) && ids[j] == ids[j-1]+1 {
				j++
			}
			dst = binary.AppendVarint(dst, int64(ids[i])-prevEnd)
			dst = binary.AppendUvarint(dst, uint64(j-i))
			prevEnd = int64(ids[i]) + int64(j-i)
			i = j
		}
	}
	return dst
}

func (r *Rollups) triggerCheckpoint() {
	select {
	case r.ckCh <- struct{}{}:
	default:
	}
}

// finish marks intent seq as observed (its checkpoint may delete it).
func (r *Rollups) finish(seq uint64) {
	if seq == 0 {
		return
	}
	r.mu.Lock()
	r.finishLocked(seq)
	r.mu.Unlock()
}

func (r *Rollups) finishLocked(seq uint64) {
	if seq == 0 {
		return
	}
	if ch, ok := r.mu.inflight[seq]; ok {
		close(ch)
		delete(r.mu.inflight, seq)
	}
}

// observe folds an appended batch into the rollups. allLate treats every
// sample as late (recompute from raw data), for batches whose fate is
// unknown.
func (r *Rollups) observe(b *tsdb.Batch, seq uint64, allLate bool) error {
	r.waitEarlier(seq)
	r.mu.Lock()
	if r.mu.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	lates := r.mu.lates[:0]
	n := b.Len()
	var err error
	for i := 0; i < n; i++ {
		id, ts, val := b.Sample(i)
		v, ok := sampleValue(val)
		if !ok {
			continue
		}
		st := r.stateLocked(id)
		if st == nil {
			// Dropped since prepare (rebuild, delete): reload; tsdb's stats
			// now include this batch, so its samples count as late.
			if st, err = r.loadLocked(id); err != nil {
				break
			}
			if st == nil {
				continue
			}
		}
		switch {
		case allLate || ts < st.hour:
			lates = append(lates, late{st, ts})
			continue
		case ts-st.hour >= hourMs: // a later hour (ts > maxTs)
			r.advanceLocked(st, hourStart(ts))
			st.seen = append(st.seen, uint32(ts-st.hour))
			st.maxTs = ts
		case ts > st.maxTs:
			if st.seenOK {
				if len(st.seen) < maxSeen {
					st.seen = append(st.seen, uint32(ts-st.hour))
				} else {
					st.seenOK = false
				}
			}
			st.maxTs = ts
		default: // in the open hour, at or before maxTs
			if !st.seenOK || len(st.seen) >= maxSeen {
				lates = append(lates, late{st, ts})
				continue
			}
			off := uint32(ts - st.hour)
			j, found := slices.BinarySearch(st.seen, off)
			if found { // overwrite of a counted sample
				lates = append(lates, late{st, ts})
				continue
			}
			st.seen = slices.Insert(st.seen, j, off)
		}
		if usable(v) {
			st.q[(ts-st.hour)/quarterMs].Add(ts, v)
		}
		r.markDirtyLocked(st)
	}
	if err == nil && len(lates) > 0 {
		err = r.resolveLatesLocked(lates)
	}
	clear(lates)
	r.mu.lates = lates[:0]
	r.finishLocked(seq)
	var pb *pebble.Batch
	big := r.mu.pending.Len() >= r.opts.PendingBytes
	if big {
		pb = r.takePendingLocked()
	}
	r.mu.Unlock()
	if big {
		if cerr := r.commitTaken(pb, pebble.NoSync); err == nil {
			err = cerr
		}
	}
	return err
}

// maxObserveWait bounds how long an Append waits for the Appends prepared
// before it to be observed.
const maxObserveWait = 100 * time.Millisecond

// waitEarlier waits (at most maxObserveWait) until every Append prepared
// before seq has been observed. Correctness does not depend on it — any
// order gives exact rows — but concurrent writers of the same objects
// (time-major bulk batches on several connections) then fold their samples
// in the order they were prepared, which is nearly always time order, and
// stay on the in-order path instead of recomputing from raw data.
func (r *Rollups) waitEarlier(seq uint64) {
	if seq == 0 {
		return
	}
	r.mu.Lock()
	var waits []chan struct{}
	for s, ch := range r.mu.inflight {
		if s < seq {
			waits = append(waits, ch)
		}
	}
	r.mu.Unlock()
	if len(waits) == 0 {
		return
	}
	t := time.NewTimer(maxObserveWait)
	defer t.Stop()
	for _, ch := range waits {
		select {
		case <-ch:
		case <-t.C:
			return
		}
	}
}

// resolveLatesLocked recomputes the buckets of late samples from raw data,
// once per (object, bucket). The decision is taken after the whole batch was
// folded in, against the objects' final open hours.
func (r *Rollups) resolveLatesLocked(lates []late) error {
	days := r.mu.days
	defer clear(days)
	for _, l := range lates {
		st := l.st
		if r.stateLocked(st.id) != st {
			continue // dropped meanwhile
		}
		if l.ts >= st.hour && l.ts-st.hour < hourMs {
			k := stDay{st, st.hour + 1} // +1: distinct from day keys
			if _, done := days[k]; done {
				continue
			}
			days[k] = struct{}{}
			if err := r.rescanHourLocked(st); err != nil {
				return err
			}
			continue
		}
		if h := hourStart(l.ts); dayStart(h) == st.day && h < st.hour && st.hrs != nil {
			k := stDay{st, h + 2}
			if _, done := days[k]; done {
				continue
			}
			days[k] = struct{}{}
			if err := r.rescanClosedHourLocked(st, h); err != nil {
				return err
			}
			continue
		}
		k := stDay{st, dayStart(l.ts)}
		if _, done := days[k]; done {
			continue
		}
		days[k] = struct{}{}
		if err := r.recomputeDayLocked(st.id, st, k.day); err != nil {
			return err
		}
	}
	return nil
}

// advanceLocked closes st's open hour (and its day when h is in another
// day), writing their records, and opens hour h.
func (r *Rollups) advanceLocked(st *objState, h int64) {
	d := dayStart(h)
	if st.hour != noWindow {
		r.putHourLocked(st.id, st.hour, &st.q)
		hr := st.q.row(st.hour)
		st.dayAcc.Merge(&hr)
		if st.hrs == nil {
			st.hrs = new([24]Row)
		}
		st.hrs[(st.hour-st.day)/hourMs] = hr
		if d != st.day {
			r.putDayLocked(st.id, st.day, &st.dayAcc)
			st.dayAcc = Row{Start: d}
			*st.hrs = [24]Row{}
		}
	} else {
		st.dayAcc = Row{Start: d}
		if st.hrs != nil {
			*st.hrs = [24]Row{}
		}
	}
	st.hour, st.day = h, d
	st.q.reset(h)
	st.seen, st.seenOK = st.seen[:0], true
	r.markDirtyLocked(st)
}

// maxSeen bounds the open hour's timestamp list (16 KiB per object): above
// it, samples at or before maxTs make the open hour be rescanned.
const maxSeen = 4096

// rescanClosedHourLocked recomputes closed hour h of st's open day from raw
// data, rewrites its record and rebuilds the day accumulator.
func (r *Rollups) rescanClosedHourLocked(st *objState, h int64) error {
	q := &r.mu.hours[0]
	q.reset(h)
	if _, err := r.scan(st.id, h, h+hourMs-1, func(ts int64, v float64) {
		q[(ts-h)/quarterMs].Add(ts, v)
	}); err != nil {
		return err
	}
	r.putHourLocked(st.id, h, q)
	st.hrs[(h-st.day)/hourMs] = q.row(h)
	st.dayAcc = Row{Start: st.day}
	for i := range int((st.hour - st.day) / hourMs) {
		st.dayAcc.Merge(&st.hrs[i])
	}
	r.markDirtyLocked(st)
	r.m.hourRecomp.Inc()
	return nil
}

// loadLocked creates the state of id from tsdb's stats and the stored
// records of its open day. It returns nil for unknown series.
func (r *Rollups) loadLocked(id uint32) (*objState, error) {
	stats, err := r.db.Stats(id)
	if err != nil {
		if errors.Is(err, tsdb.ErrUnknownSeries) {
			return nil, nil
		}
		return nil, fmt.Errorf("aggregate: cannot read stats of object %d: %w", id, err)
	}
	st := &objState{id: id, maxTs: noWindow, hour: noWindow, day: noWindow}
	if stats.NWrites > 0 {
		m := stats.LastTs
		st.maxTs, st.hour, st.day = m, hourStart(m), dayStart(m)
		st.q.reset(st.hour)
		st.dayAcc = Row{Start: st.day}
		if err := r.loadOpenDay(st); err != nil {
			var ce *CorruptionError
			if !errors.As(err, &ce) {
				return nil, err
			}
			r.log.Error("aggregate: recomputing a damaged day from raw data", "err", err)
			r.putStateLocked(st)
			if err := r.recomputeDayLocked(id, st, st.day); err != nil {
				r.dropStateLocked(id)
				return nil, err
			}
			return st, nil
		}
	}
	r.putStateLocked(st)
	return st, nil
}

// loadOpenDay reads the hour records of st's open day up to its open hour.
func (r *Rollups) loadOpenDay(st *objState) error {
	it, err := r.pdb.NewIter(&pebble.IterOptions{
		LowerBound: recKey(st.id, recHour, st.day),
		UpperBound: recKey(st.id, recHour, st.hour+1),
	})
	if err != nil {
		return err
	}
	defer it.Close()
	var hr Row
	for it.First(); it.Valid(); it.Next() {
		_, _, start, ok := parseRecKey(it.Key())
		if !ok {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if start == st.hour {
			if err := decodeHourRecord(&st.q, start, v); err != nil {
				return &CorruptionError{Key: append([]byte(nil), it.Key()...), Err: err}
			}
			continue
		}
		if err := decodeHourRow(&hr, start, v); err != nil {
			return &CorruptionError{Key: append([]byte(nil), it.Key()...), Err: err}
		}
		st.dayAcc.Merge(&hr)
		if st.hrs == nil {
			st.hrs = new([24]Row)
		}
		st.hrs[(start-st.day)/hourMs] = hr
	}
	return it.Error()
}

// scan feeds fn the usable numeric samples of id in [from, to] and returns
// the greatest timestamp seen (NaN included), or noWindow. An unknown series
// has no samples.
func (r *Rollups) scan(id uint32, from, to int64, fn func(ts int64, v float64)) (int64, error) {
	rawMax := int64(noWindow)
	it, err := r.db.Scan(id, max(from, tsdb.MinTimestamp), min(to, tsdb.MaxTimestamp))
	if err != nil {
		if errors.Is(err, tsdb.ErrUnknownSeries) {
			return rawMax, nil
		}
		return rawMax, fmt.Errorf("aggregate: cannot read object %d: %w", id, err)
	}
	switch it.Type() {
	case tsdb.Float:
		for it.Next() {
			ts, v := it.Timestamp(), it.Float()
			rawMax = ts
			if usable(v) {
				fn(ts, v)
			}
		}
	case tsdb.Int:
		for it.Next() {
			rawMax = it.Timestamp()
			fn(rawMax, float64(it.Int()))
		}
	}
	if err := it.Close(); err != nil {
		return rawMax, fmt.Errorf("aggregate: cannot read object %d: %w", id, err)
	}
	return rawMax, nil
}

// rescanHourLocked recomputes st's open hour from raw data.
func (r *Rollups) rescanHourLocked(st *objState) error {
	h := st.hour
	q := &r.mu.hours[0]
	q.reset(h)
	seen := st.seen[:0]
	rawMax, err := r.scan(st.id, h, h+hourMs-1, func(ts int64, v float64) {
		q[(ts-h)/quarterMs].Add(ts, v)
		seen = append(seen, uint32(ts-h))
	})
	if err != nil {
		return err
	}
	st.q = *q
	st.seen, st.seenOK = seen, len(seen) < maxSeen
	st.maxTs = max(st.maxTs, rawMax)
	r.markDirtyLocked(st)
	r.m.hourRecomp.Inc()
	return nil
}

// recomputeDayLocked recomputes UTC day d of id from raw data and writes all
// its records. st (nil when id has no state) is updated when d is its open
// day, or advanced to d when d is later.
func (r *Rollups) recomputeDayLocked(id uint32, st *objState, d int64) error {
	if st != nil && (st.hour == noWindow || d > st.day) {
		r.advanceLocked(st, d)
	}
	hours := &r.mu.hours
	for i := range hours {
		hours[i].reset(d + int64(i)*hourMs)
	}
	rawMax, err := r.scan(id, d, d+dayMs-1, func(ts int64, v float64) {
		o := ts - d
		hours[o/hourMs][(o%hourMs)/quarterMs].Add(ts, v)
	})
	if err != nil {
		return err
	}
	open := 24 // index of the open hour in d, 24: d is a closed day
	if st != nil && d == st.day {
		st.maxTs = max(st.maxTs, rawMax)
		if st.maxTs >= d {
			st.hour = hourStart(st.maxTs)
		}
		open = int((st.hour - d) / hourMs)
	}
	_ = r.mu.pending.DeleteRange(recKey(id, recHour, d), recKey(id, recHour, d+dayMs), nil)
	day := Row{Start: d}
	if open < 24 && st.hrs == nil {
		st.hrs = new([24]Row)
	}
	for i := range hours {
		if i == open {
			st.dayAcc = day
		}
		hr := hours[i].row(d + int64(i)*hourMs)
		if open < 24 {
			st.hrs[i] = hr
		}
		if !hours[i].empty() {
			r.putHourLocked(id, d+int64(i)*hourMs, &hours[i])
			day.Merge(&hr)
		}
	}
	r.putDayLocked(id, d, &day)
	if open < 24 {
		st.q = hours[open]
		st.seen, st.seenOK = st.seen[:0], false // rebuilt by the next rescan
		r.markDirtyLocked(st)
	}
	r.m.dayRecomp.Inc()
	return nil
}
