package tsdb

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// DeleteObject deletes all of id's data: blocks, head, series and stats, in
// one Pebble batch. WAL records still holding its samples are skipped at
// replay (the series is gone, and a later series of the same id only takes
// records above its creation sequence). Unknown ids are not an error.
func (db *DB) DeleteObject(id uint32) error {
	if db.closed.Load() {
		return ErrClosed
	}
	db.flushMu.Lock() // blocks cannot change meanwhile
	defer db.flushMu.Unlock()
	if err := db.ingestMergesLocked(); err != nil {
		return err
	}
	s, err := db.series(id)
	if err != nil {
		return err
	}
	nb, err := db.countBlocks(id)
	if err != nil {
		return err
	}
	pb := db.pdb.NewBatch()
	defer pb.Close()
	_ = pb.DeleteRange(blockPrefix(id), blockPrefixEnd(id), nil)
	_ = pb.DeleteRange(seriesPrefix(id), seriesPrefixEnd(id), nil)
	gen, err := db.nextGenLocked(pb)
	if err != nil {
		return err
	}
	if db.obs != nil {
		d := &DeleteView{Batch: pb, Gen: gen, ID: id, Whole: true, db: db}
		if s != nil {
			d.Type = s.typ
		}
		if err := db.obs.ObserveDelete(d); err != nil {
			return fmt.Errorf("tsdb: delete observer: %w", err)
		}
	}
	// Apply under the object's lock (appends see the series deleted at
	// once), wait for the fsync after releasing it.
	db.commitMu.Lock()
	defer db.commitMu.Unlock()
	db.lockOne(id)
	err = db.pdb.ApplyNoSyncWait(pb, pebble.Sync)
	db.dirtyMem.Store(true)
	if err != nil {
		db.unlockOne(id)
		return fmt.Errorf("tsdb: cannot delete object %d: %w", id, err)
	}
	db.gen.Store(gen)
	db.rowsGen.Add(1)
	db.blocks.Add(-nb)
	if s != nil {
		s.deleted = true
		db.totalSamples.Add(-int64(s.st.Count))
		db.headSamples.Add(-int64(s.head.len()))
		db.headBytes.Add(-(chunkSampleBytes*int64(s.head.len()) + int64(len(s.head.strs))))
		s.head = chunk{}
	}
	db.unlockOne(id)
	if s != nil {
		db.tab.mu.Lock()
		if db.tab.getLocked(id) == s {
			db.tab.removeLocked(id)
		}
		db.tab.mu.Unlock()
	}
	if err := pb.SyncWait(); err != nil {
		return fmt.Errorf("tsdb: cannot sync deletion of object %d: %w", id, err)
	}
	return nil
}

func (db *DB) countBlocks(id uint32) (int64, error) {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: blockPrefix(id), UpperBound: blockPrefixEnd(id)})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	var n int64
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	return n, it.Error()
}

// DeleteRange deletes id's samples with from ≤ ts ≤ to (retention, API.md
// §4): blocks inside the range are deleted, blocks across its edges are
// rewritten, the head is trimmed, and a WAL record carries the deletion (and
// the resulting Count and FirstTs) so a replay after a crash ends in the same
// state. Stats: Count and FirstTs follow; NWrites, LastTs and
// AvgSamplePeriod are history and stay.
func (db *DB) DeleteRange(id uint32, from, to int64) error {
	if db.closed.Load() {
		return ErrClosed
	}
	if from > to {
		return nil
	}
	db.flushMu.Lock() // blocks cannot change meanwhile
	defer db.flushMu.Unlock()
	if err := db.ingestMergesLocked(); err != nil {
		return err
	}
	s, err := db.series(id)
	if err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("%w: object %d", ErrUnknownSeries, id)
	}
	// Block rewrites without the object's lock (reads and encoding).
	pb := db.pdb.NewBatch()
	defer pb.Close()
	gone, firstBlock, nbDelta, err := db.rewriteBlocksForDelete(pb, s, from, to)
	if err != nil {
		return err
	}
	gen, err := db.nextGenLocked(pb)
	if err != nil {
		return err
	}
	if db.obs != nil {
		if err := db.obs.ObserveDelete(&DeleteView{Batch: pb, Gen: gen, ID: id, Type: s.typ, From: from, To: to, db: db}); err != nil {
			return fmt.Errorf("tsdb: delete observer: %w", err)
		}
	}
	// Under the lock: the head's part, the WAL record, the apply; the fsync
	// is awaited after unlocking, as in Append.
	db.commitMu.Lock()
	defer db.commitMu.Unlock()
	db.lockOne(id)
	if s.deleted {
		db.unlockOne(id)
		return fmt.Errorf("%w: object %d", ErrUnknownSeries, id)
	}
	headGone := 0
	firstHead, hasHead := int64(0), false
	for _, ts := range s.head.ts {
		if ts >= from && ts <= to {
			headGone++
			delete(gone, ts) // counted once, by the head trim
		} else if !hasHead {
			firstHead, hasHead = ts, true
		}
	}
	d := walDeleteRange{id: id, from: from, to: to}
	d.count = s.st.Count - min(s.st.Count, uint64(headGone+len(gone)))
	switch {
	case firstBlock != nil && (!hasHead || *firstBlock < firstHead):
		d.firstTs = *firstBlock
	case hasHead:
		d.firstTs = firstHead
	}
	if d.count == 0 {
		d.firstTs = 0
	}
	seq := db.seq.Add(1)
	rec := appendWALDeleteRange(nil, d)
	if err := pb.Set(walKey(seq), rec, nil); err != nil {
		db.unlockOne(id)
		return err
	}
	err = db.pdb.ApplyNoSyncWait(pb, pebble.Sync)
	db.dirtyMem.Store(true)
	if err != nil {
		db.unlockOne(id)
		return fmt.Errorf("tsdb: cannot delete range of object %d: %w", id, err)
	}
	db.gen.Store(gen)
	db.rowsGen.Add(1)
	db.walBytes.Add(int64(len(rec)))
	db.blocks.Add(nbDelta)
	db.applyDeleteRangeLocked(s, d)
	db.unlockOne(id)
	if err := pb.SyncWait(); err != nil {
		return fmt.Errorf("tsdb: cannot sync range deletion of object %d: %w", id, err)
	}
	return nil
}

// applyDeleteRangeLocked trims the head and sets Count and FirstTs (live and
// at replay; Pebble already holds the rewritten blocks).
func (db *DB) applyDeleteRangeLocked(s *series, d walDeleteRange) {
	n := s.head.removeRange(d.from, d.to)
	db.headSamples.Add(-int64(n))
	db.headBytes.Add(-chunkSampleBytes * int64(n))
	db.totalSamples.Add(int64(d.count) - int64(s.st.Count))
	s.st.Count, s.st.FirstTs = d.count, d.firstTs
	s.dirty = true
}

// rewriteBlocksForDelete adds to pb the deletion or rewrite of every block of
// s overlapping [from, to]. It returns the distinct block timestamps removed
// and the first block timestamp after. Caller holds flushMu.
func (db *DB) rewriteBlocksForDelete(pb *pebble.Batch, s *series, from, to int64) (gone map[int64]struct{}, first *int64, nbDelta int64, err error) {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: blockPrefix(s.id), UpperBound: blockPrefixEnd(s.id)})
	if err != nil {
		return nil, nil, 0, err
	}
	defer it.Close()
	sc := getCodecScratch()
	defer putCodecScratch(sc)
	var cols blockCols
	gone = map[int64]struct{}{}
	var buf, key []byte
	noteFirst := func(ts int64) {
		if first == nil || ts < *first {
			first = &ts
		}
	}
	for it.First(); it.Valid(); it.Next() {
		k, ok := parseBlockKey(it.Key())
		if !ok {
			continue
		}
		if k.maxTs < from || k.minTs > to {
			noteFirst(k.minTs)
			if k.minTs > to {
				break // later blocks start even later
			}
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, nil, 0, err
		}
		if err := decodeBlock(&cols, v, s.typ, sc); err != nil {
			return nil, nil, 0, &CorruptionError{What: "block", Key: append([]byte(nil), it.Key()...), Err: err}
		}
		_ = pb.Delete(it.Key(), nil)
		nbDelta--
		var keep chunk
		for i, ts := range cols.ts {
			if ts >= from && ts <= to {
				gone[ts] = struct{}{}
				continue
			}
			var str []byte
			if s.typ == String {
				r := cols.nums[i]
				str = cols.strs[strOff(r) : strOff(r)+strLen(r)]
			}
			keep.put(ts, cols.nums[i], str, s.typ == String)
		}
		if keep.len() > 0 {
			buf = appendBlock(buf[:0], s.typ, keep.ts, keep.nums, keep.strs, sc)
			key = appendBlockKey(key[:0], s.id, keep.ts[0], keep.ts[keep.len()-1], k.seq)
			_ = pb.Set(key, buf, nil)
			nbDelta++
			noteFirst(keep.ts[0])
		}
	}
	if err := it.Error(); err != nil {
		return nil, nil, 0, err
	}
	return gone, first, nbDelta, nil
}
