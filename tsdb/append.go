package tsdb

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Duplicates is the policy for a sample whose (object, timestamp) is already
// stored or appears twice in a batch (DESIGN.md §4, API.md §4).
type Duplicates uint8

const (
	// Reject fails the whole batch with a *SampleError wrapping ErrDuplicate
	// naming the first offending sample; nothing of the batch is applied.
	Reject Duplicates = iota
	// Overwrite stores the sample; the later write wins (the last one in a
	// batch), deterministically across flushes and restarts.
	Overwrite
)

const numStripes = 256

type stripe struct {
	sync.Mutex
	_ [56]byte // one cache line each
}

func (db *DB) stripe(id uint32) *stripe { return &db.stripes[id%numStripes] }

type stripeMask [numStripes / 64]uint64

func (m *stripeMask) add(id uint32) { s := id % numStripes; m[s/64] |= 1 << (s % 64) }

func (m *stripeMask) count() int {
	n := 0
	for _, w := range m {
		n += bits.OnesCount64(w)
	}
	return n
}

// Locking. An object's state is guarded by its stripe (id % 256) together
// with db.big held shared. A batch touching more than numStripes/8 stripes
// takes db.big exclusively instead — the same exclusion as holding every
// stripe, in one handoff rather than 256 (BenchmarkAppend with 4 appenders of
// 5000-object batches: locking 256 stripes in a convoy cost more than the
// work they guard). The flush cut takes db.big exclusively too.

// lockStripes locks what the batch of m needs, in index order, and reports
// whether it took db.big exclusively.
func (db *DB) lockStripes(m *stripeMask) bool {
	if m.count() > numStripes/8 {
		db.big.Lock()
		return true
	}
	db.big.RLock()
	for w, bits := range m {
		for bits != 0 {
			i := trailingZeros(bits)
			bits &= bits - 1
			db.stripes[w*64+i].Lock()
		}
	}
	return false
}

func (db *DB) unlockStripes(m *stripeMask, all bool) {
	if all {
		db.big.Unlock()
		return
	}
	for w, bits := range m {
		for bits != 0 {
			i := trailingZeros(bits)
			bits &= bits - 1
			db.stripes[w*64+i].Unlock()
		}
	}
	db.big.RUnlock()
}

func (db *DB) lockOne(id uint32) {
	db.big.RLock()
	db.stripe(id).Lock()
}

func (db *DB) unlockOne(id uint32) {
	db.stripe(id).Unlock()
	db.big.RUnlock()
}

func (db *DB) lockAll()   { db.big.Lock() }
func (db *DB) unlockAll() { db.big.Unlock() }

type idTs struct {
	id uint32
	ts int64
}

type appendScratch struct {
	sers   []*series
	miss   []uint32
	grow   []growReq
	rec    []byte
	seen   map[idTs]struct{}
	lookup blockLookup
}

var appendPool = sync.Pool{New: func() any { return &appendScratch{seen: make(map[idTs]struct{})} }}

// Append stores the samples of b durably: it returns nil only once their WAL
// record (one per call) is committed with pebble.Sync; concurrent calls share
// fsyncs (Pebble's group commit). On error nothing of the batch is applied.
// Errors about a sample are *SampleError wrapping ErrUnknownSeries,
// ErrWrongType, ErrTimestampRange, ErrValueTooLarge or ErrDuplicate.
//
// Samples are visible to readers once their record is in Pebble's WAL, just
// before the fsync completes (as with Pebble itself). b is only read and may
// be reused once Append returns.
func (db *DB) Append(ctx context.Context, b *Batch, dup Duplicates) error {
	if db.closed.Load() {
		return ErrClosed
	}
	n := b.Len()
	if n == 0 {
		return nil
	}
	if err := db.waitHeadRoom(ctx); err != nil {
		return err
	}
	sc := appendPool.Get().(*appendScratch)
	defer func() {
		clear(sc.sers)
		clear(sc.grow)
		sc.grow = sc.grow[:0]
		sc.lookup.reset()
		appendPool.Put(sc)
	}()
	// 1. Validate and resolve series, without locks.
	sc.sers = sc.sers[:0]
	var mask stripeMask
	// One read lock for the whole batch; misses load from Pebble after it.
	db.tab.mu.RLock()
	miss := false
	for _, id := range b.ids {
		s := db.tab.getLocked(id)
		miss = miss || s == nil
		sc.sers = append(sc.sers, s)
	}
	db.tab.mu.RUnlock()
	if miss {
		var err error
		if sc.miss, err = db.loadMissing(b.ids, sc.sers, sc.miss); err != nil {
			return err
		}
	}
	for i, id := range b.ids {
		s := sc.sers[i]
		if s == nil {
			return &SampleError{Index: i, ID: id, Timestamp: b.ts[i], Err: ErrUnknownSeries}
		}
		if b.types[i] != s.typ {
			return &SampleError{Index: i, ID: id, Timestamp: b.ts[i],
				Err: fmt.Errorf("%w: %s value for a %s series", ErrWrongType, b.types[i], s.typ)}
		}
		if ts := b.ts[i]; ts < MinTimestamp || ts > MaxTimestamp {
			return &SampleError{Index: i, ID: id, Timestamp: ts, Err: ErrTimestampRange}
		}
		if s.typ == String && strLen(b.nums[i]) > MaxStringLen {
			return &SampleError{Index: i, ID: id, Timestamp: b.ts[i], Err: ErrValueTooLarge}
		}
		mask.add(id)
	}
	// 2. Encode the WAL record outside the locks.
	sc.rec = appendWALSamples(sc.rec[:0], b)
	pb := db.pdb.NewBatchWithSize(len(sc.rec) + 64)
	op := pb.SetDeferred(9, len(sc.rec))
	copy(op.Value, sc.rec)

	// 3. Under the stripe locks: duplicate check, sequence, Pebble apply
	// (WAL write, no fsync wait), head update. Short and free of fsyncs.
	all := db.lockStripes(&mask)
	unlocked := false
	unlock := func() {
		if !unlocked {
			unlocked = true
			db.unlockStripes(&mask, all)
		}
	}
	defer unlock()
	if db.closed.Load() {
		pb.Close()
		return ErrClosed
	}
	// Under Reject the duplicate check also looks for deleted series (one
	// pass over the batch's series instead of two: each is a cache miss).
	if dup == Reject {
		if err := db.checkDuplicatesLocked(b, sc); err != nil {
			pb.Close()
			return err
		}
	} else if err := checkDeletedLocked(b, sc); err != nil {
		pb.Close()
		return err
	}
	seq := db.seq.Add(1)
	op.Key[0] = prefixWAL
	binary.BigEndian.PutUint64(op.Key[1:], seq)
	if err := op.Finish(); err != nil {
		pb.Close()
		return fmt.Errorf("tsdb: cannot build WAL batch: %w", err)
	}
	if err := db.pdb.ApplyNoSyncWait(pb, pebble.Sync); err != nil {
		pb.Close()
		return fmt.Errorf("tsdb: cannot write WAL record: %w", err)
	}
	db.walBytes.Add(int64(len(sc.rec)))
	var added, headBytes, headGrow int64
	for i, s := range sc.sers {
		var str []byte
		if s.typ == String {
			r := b.nums[i]
			str = b.strs[strOff(r) : strOff(r)+strLen(r)]
		}
		before := s.head.len()
		isNew, err := db.applyLocked(s, b.ts[i], b.nums[i], str, dup == Reject, &sc.lookup)
		if err != nil {
			// The record is in the WAL; the head may lag it until restart.
			db.log.Error("tsdb: cannot apply appended sample", "object", s.id, "err", err)
			continue
		}
		if isNew {
			added++
		}
		grew := int64(s.head.len() - before)
		headGrow += grew
		headBytes += chunkSampleBytes*grew + int64(len(str))
		sc.noteGrowthLocked(s)
	}
	unlock()
	if len(sc.grow) > 0 {
		db.submitGrowth(sc.grow)
	}
	db.totalSamples.Add(added)
	db.headSamples.Add(headGrow)
	db.headBytes.Add(headBytes)

	// 4. Wait for the shared fsync.
	t0 := time.Now()
	err := pb.SyncWait()
	db.m.fsync.UpdateDuration(t0)
	pb.Close()
	if err != nil {
		return fmt.Errorf("tsdb: cannot sync WAL record: %w", err)
	}
	db.m.appended.Add(n)
	db.m.appendCalls.Inc()
	if db.headBytes.Load() >= db.opts.HeadBytes {
		db.triggerFlush()
	}
	return nil
}

// checkDeletedLocked fails with ErrUnknownSeries when a series of the batch
// was deleted after it was resolved.
func checkDeletedLocked(b *Batch, sc *appendScratch) error {
	for i, s := range sc.sers {
		if s.deleted {
			return &SampleError{Index: i, ID: s.id, Timestamp: b.ts[i], Err: ErrUnknownSeries}
		}
	}
	return nil
}

// checkDuplicatesLocked implements Reject: a sample above the series' max
// timestamp (including earlier samples of this batch) is new in O(1); others
// are looked up in the batch, the head, the frozen head and the blocks. It
// also fails, like checkDeletedLocked, on a deleted series, with the error a
// check of deletions before duplicates would give.
func (db *DB) checkDuplicatesLocked(b *Batch, sc *appendScratch) error {
	if err := db.checkDupsLocked(b, sc); err != nil {
		// A deleted series anywhere in the batch takes precedence.
		if derr := checkDeletedLocked(b, sc); derr != nil {
			return derr
		}
		return err
	}
	return nil
}

func (db *DB) checkDupsLocked(b *Batch, sc *appendScratch) error {
	epoch := db.epoch.Add(1)
	// Two questions per sample, each O(1) in the common case: is it repeated inside the batch
	// (only possible when the series' timestamps do not increase within the batch: then the set
	// of what came before is built, once), and is it already stored (only possible at or before
	// the series' stored maximum: then a lookup). Concurrent writers reorder requests, so a sample
	// may well be older than the stored maximum without the batch being out of order — bench
	// profiles showed the earlier single test sending every such batch to the map.
	slow := false
	for i, s := range sc.sers {
		ts := b.ts[i]
		if s.deleted {
			clear(sc.seen)
			return &SampleError{Index: i, ID: s.id, Timestamp: ts, Err: ErrUnknownSeries}
		}
		if s.epoch != epoch {
			s.epoch, s.batchMax, s.storedMax = epoch, math.MinInt64, s.maxTsLocked()
		}
		if ts <= s.batchMax && !slow {
			slow = true
			for j := 0; j < i; j++ {
				sc.seen[idTs{b.ids[j], b.ts[j]}] = struct{}{}
			}
		}
		if ts > s.batchMax {
			s.batchMax = ts
		}
		if slow {
			k := idTs{s.id, ts}
			if _, ok := sc.seen[k]; ok {
				clear(sc.seen)
				return &SampleError{Index: i, ID: s.id, Timestamp: ts, InBatch: true, Err: ErrDuplicate}
			}
			sc.seen[k] = struct{}{}
		}
		if ts > s.storedMax {
			continue
		}
		exists, err := db.existsLocked(s, ts, &sc.lookup)
		if err != nil {
			clear(sc.seen)
			return err
		}
		if exists {
			clear(sc.seen)
			return &SampleError{Index: i, ID: s.id, Timestamp: ts, Err: ErrDuplicate}
		}
	}
	if slow {
		clear(sc.seen)
	}
	return nil
}

// existsLocked reports whether (s, ts) is stored: head, frozen head, blocks.
func (db *DB) existsLocked(s *series, ts int64, lk *blockLookup) (bool, error) {
	if ts > s.maxTsLocked() {
		return false, nil
	}
	if _, ok := s.head.search(ts); ok {
		return true, nil
	}
	return db.existsOutsideHeadLocked(s, ts, lk)
}

// existsOutsideHeadLocked is existsLocked without the head (ts ≤ the
// series' max timestamp).
func (db *DB) existsOutsideHeadLocked(s *series, ts int64, lk *blockLookup) (bool, error) {
	if s.frozen != nil {
		if _, ok := s.frozen.search(ts); ok {
			return true, nil
		}
	}
	if ts < s.blkMin || ts > s.blkMax {
		return false, nil
	}
	return lk.has(db, s, ts)
}

// applyLocked stores one sample in the head and updates the stats
// (bbdata-v2.md §4.5). knownNew skips the existence lookup (Reject checked).
// It is shared by Append and WAL replay, so both compute identical stats.
func (db *DB) applyLocked(s *series, ts int64, num uint64, str []byte, knownNew bool, lk *blockLookup) (bool, error) {
	st := &s.st
	isNew := true
	h := &s.head
	if ts <= s.maxTsLocked() && s.typ != String && len(h.ts) > 0 {
		// One search places the sample and, unless Reject checked it
		// already, tells whether the head has it.
		i, found := h.search(ts)
		if !knownNew {
			if found {
				isNew = false
			} else {
				exists, err := db.existsOutsideHeadLocked(s, ts, lk)
				if err != nil {
					return false, err
				}
				isNew = !exists
			}
		}
		h.putAt(i, found, ts, num)
	} else {
		if !knownNew && ts <= s.maxTsLocked() {
			exists, err := db.existsLocked(s, ts, lk)
			if err != nil {
				return false, err
			}
			isNew = !exists
		}
		h.put(ts, num, str, s.typ == String)
	}
	if n := st.NWrites; n == 0 {
		st.AvgSamplePeriod = 0
		st.LastTs = ts
	} else if ts > st.LastTs {
		st.AvgSamplePeriod = (st.AvgSamplePeriod*float64(n-1) + float64(ts-st.LastTs)) / float64(n)
		st.LastTs = ts
	}
	st.NWrites++
	if isNew {
		if st.Count == 0 || ts < st.FirstTs {
			st.FirstTs = ts
		}
		st.Count++
	}
	s.dirty = true
	return isNew, nil
}

// waitHeadRoom applies backpressure when flushes fall behind: above twice the
// head budget, Append waits for a flush to finish (or ctx).
func (db *DB) waitHeadRoom(ctx context.Context) error {
	for db.headBytes.Load() >= 2*db.opts.HeadBytes {
		db.triggerFlush()
		db.flushMu2.Lock()
		ch := db.flushDone
		db.flushMu2.Unlock()
		if db.headBytes.Load() < 2*db.opts.HeadBytes {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("tsdb: head is full (%d bytes), waiting for a flush: %w", db.headBytes.Load(), ctx.Err())
		case <-db.quit:
			return ErrClosed
		}
	}
	return nil
}

// blockLookup answers "is ts stored in a block of s" and caches the last
// decoded block (late samples of one batch tend to hit the same block).
type blockLookup struct {
	id    uint32
	key   []byte
	minTs int64
	maxTs int64
	cols  blockCols
	valid bool
	sc    *codecScratch
}

func (lk *blockLookup) reset() { lk.valid = false }

func (lk *blockLookup) has(db *DB, s *series, ts int64) (bool, error) {
	if lk.valid && lk.id == s.id && ts >= lk.minTs && ts <= lk.maxTs {
		i := searchInt64s(lk.cols.ts, ts)
		if i < len(lk.cols.ts) && lk.cols.ts[i] == ts {
			return true, nil
		}
	}
	if ts == math.MaxInt64 {
		return false, nil
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: blockPrefix(s.id), UpperBound: blockSeekKey(s.id, ts+1)})
	if err != nil {
		return false, err
	}
	defer it.Close()
	if lk.sc == nil {
		lk.sc = new(codecScratch)
	}
	for it.Last(); it.Valid(); it.Prev() {
		k, ok := parseBlockKey(it.Key())
		if !ok || k.maxTs < ts {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return false, err
		}
		if err := decodeBlock(&lk.cols, v, s.typ, lk.sc); err != nil {
			lk.valid = false
			return false, &CorruptionError{What: "block", Key: append([]byte(nil), it.Key()...), Err: err}
		}
		lk.id, lk.minTs, lk.maxTs, lk.valid = s.id, k.minTs, k.maxTs, true
		lk.key = append(lk.key[:0], it.Key()...)
		i := searchInt64s(lk.cols.ts, ts)
		if i < len(lk.cols.ts) && lk.cols.ts[i] == ts {
			return true, nil
		}
	}
	return false, it.Error()
}

func searchInt64s(a []int64, x int64) int {
	lo, hi := 0, len(a)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func trailingZeros(x uint64) int { return bits.TrailingZeros64(x) }
