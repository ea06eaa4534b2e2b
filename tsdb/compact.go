package tsdb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Compact brings the store to a steady state: it flushes the head, merges
// each object's overlapping and undersized blocks into ⌈n/MaxBlockSamples⌉
// non-overlapping blocks (the newest write of a timestamp wins), then runs a
// full Pebble compaction. Appends and reads continue meanwhile. It is what
// `tsgate admin compact` runs; benchmarks call it before measuring bytes.
func (db *DB) Compact(ctx context.Context) error {
	if db.closed.Load() {
		return ErrClosed
	}
	t0 := time.Now()
	if err := db.Flush(); err != nil {
		return err
	}
	var ids []uint32
	db.ForEachSeries(func(id uint32, _ ValueType) bool { ids = append(ids, id); return true })
	merged := 0
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		did, err := db.compactSeries(id, MinTimestamp, MaxTimestamp, true)
		if err != nil {
			return err
		}
		if did {
			merged++
		}
	}
	db.flushMu.Lock()
	err := db.ingestMergesLocked()
	db.flushMu.Unlock()
	if err != nil {
		return err
	}
	if err := db.pdb.Compact(ctx, []byte{0x00}, []byte{0xff, 0xff}, true); err != nil {
		return fmt.Errorf("tsdb: cannot compact Pebble in %s: %w", db.dir, err)
	}
	db.m.compactions.Inc()
	db.log.Info("tsdb: compacted", "series", len(ids), "merged", merged, "duration", time.Since(t0))
	return nil
}

// compactSeries merges blocks of one object. full: every block, when they
// overlap or are more than ⌈n/MaxBlockSamples⌉ (Compact). Otherwise only the
// groups of mutually overlapping blocks that touch [lo, hi] (the background
// pass after a flush that wrote late data). It holds flushMu (no flush or
// delete meanwhile), not the stripe lock: each rewrite is one atomic batch of
// equal logical content.
func (db *DB) compactSeries(id uint32, lo, hi int64, full bool) (bool, error) {
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	if db.closed.Load() {
		return false, ErrClosed
	}
	s, err := db.series(id)
	if err != nil || s == nil {
		return false, err
	}
	if db.merges.ids[id] {
		// An earlier merge of id is not ingested: the blocks listed below
		// would be stale, and the blocks it wrote would survive this merge.
		if err := db.ingestMergesLocked(); err != nil {
			return false, err
		}
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: blockPrefix(id), UpperBound: blockPrefixEnd(id)})
	if err != nil {
		return false, err
	}
	type bk struct {
		key   []byte
		parts blockKeyParts
		count int
	}
	type group struct {
		lo, hi int64
		keys   [][]byte
		count  int
	}
	var blocks []bk
	total := 0
	for it.First(); it.Valid(); it.Next() {
		k, ok := parseBlockKey(it.Key())
		if !ok {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return false, err
		}
		cnt := 0
		if len(v) > 2 {
			if c, n := binary.Uvarint(v[2:]); n > 0 {
				cnt = int(c)
			}
		}
		total += cnt
		blocks = append(blocks, bk{append([]byte(nil), it.Key()...), k, cnt})
	}
	if err := it.Close(); err != nil {
		return false, err
	}
	// Groups of overlapping blocks (blocks are sorted by minTs).
	var groups []group
	for _, b := range blocks {
		if n := len(groups); n > 0 && b.parts.minTs <= groups[n-1].hi {
			g := &groups[n-1]
			g.hi = max(g.hi, b.parts.maxTs)
			g.keys = append(g.keys, b.key)
			g.count += b.count
			continue
		}
		groups = append(groups, group{b.parts.minTs, b.parts.maxTs, [][]byte{b.key}, b.count})
	}
	var todo []group
	if full {
		need := (total + db.opts.MaxBlockSamples - 1) / db.opts.MaxBlockSamples
		if len(groups) == len(blocks) && len(blocks) <= need {
			return false, nil
		}
		all := group{lo: MinTimestamp, hi: MaxTimestamp}
		for _, b := range blocks {
			all.keys = append(all.keys, b.key)
		}
		todo = append(todo, all)
	} else {
		// Overlapping groups touching [lo, hi], and runs of consecutive
		// small single blocks there (flushes of many objects leave each a
		// small block), coalesced up to MaxBlockSamples.
		small := db.opts.MaxBlockSamples / 4
		var run group
		flushRun := func() {
			if len(run.keys) > 1 {
				todo = append(todo, run)
			}
			run = group{}
		}
		for _, g := range groups {
			if g.hi < lo || g.lo > hi {
				flushRun()
				continue
			}
			if len(g.keys) > 1 {
				flushRun()
				todo = append(todo, g)
				continue
			}
			if g.count >= small || run.count+g.count > db.opts.MaxBlockSamples {
				flushRun()
				if g.count >= small {
					continue
				}
			}
			if len(run.keys) == 0 {
				run.lo = g.lo
			}
			run.hi = g.hi
			run.keys = append(run.keys, g.keys...)
			run.count += g.count
		}
		flushRun()
	}
	for _, g := range todo {
		if err := db.mergeBlocksLocked(s, g.lo, g.hi, g.keys); err != nil {
			return false, err
		}
	}
	return len(todo) > 0, nil
}

// mergeBlocksLocked rewrites the blocks keys (all of s's blocks meeting
// [lo, hi]) as non-overlapping blocks, in the pending merges. Caller holds
// flushMu and listed keys with no merge of s pending, or only merges of
// ranges disjoint from [lo, hi] (compactSeries' groups).
func (db *DB) mergeBlocksLocked(s *series, lo, hi int64, keys [][]byte) error {
	id := s.id
	mit := &Iterator{db: db, id: id, typ: s.typ, from: lo, to: hi, sc: getCodecScratch()}
	upper := blockPrefixEnd(id)
	if hi < MaxTimestamp {
		upper = blockSeekKey(id, hi+1)
	}
	var err error
	mit.pit, err = db.pdb.NewIter(&pebble.IterOptions{LowerBound: blockPrefix(id), UpperBound: upper})
	if err != nil {
		putCodecScratch(mit.sc)
		return err
	}
	mit.pending = mit.pit.First()
	mit.advancePending()
	var all chunk
	for mit.Next() {
		var str []byte
		if s.typ == String {
			str = mit.Bytes()
		}
		all.put(mit.Timestamp(), mit.cur.cols.nums[mit.ci], str, s.typ == String)
	}
	if err := mit.Close(); err != nil {
		return err
	}
	pb := db.merges.pb
	if pb == nil {
		pb = db.pdb.NewBatch()
		db.merges.pb, db.merges.ids = pb, map[uint32]bool{}
	}
	db.merges.ids[id] = true
	for _, k := range keys {
		_ = pb.Delete(k, nil)
	}
	seq := db.seq.Add(1)
	sc := getCodecScratch()
	defer putCodecScratch(sc)
	var buf, key []byte
	ranges := splitChunk(&all, s.typ, db.opts.MaxBlockSamples)
	for _, r := range ranges {
		ts := all.ts[r[0]:r[1]]
		buf = appendBlock(buf[:0], s.typ, ts, all.nums[r[0]:r[1]], all.strs, sc)
		key = appendBlockKey(key[:0], id, ts[0], ts[len(ts)-1], seq)
		_ = pb.Set(key, buf, nil)
	}
	_ = pb.Set(metaSeqKey, binary.BigEndian.AppendUint64(nil, db.seq.Load()), nil)
	db.merges.blocks += int64(len(ranges) - len(keys))
	if pb.Len() >= mergeIngestBytes {
		return db.ingestMergesLocked()
	}
	return nil
}

// mergeIngestBytes is the size at which pending block merges are ingested.
const mergeIngestBytes = 8 << 20

// pendingMerges are block merges not yet in the store: merges are written
// as ingested sstables, many at a time, like flushes (decision 0014). Each
// merge committed through the memtable made the next flush flush the
// memtable first (its 'b' keys would overlap the flush's tables), and with
// it every WAL record since the last flush: ≈ 6.5 B a sample written to L0
// and compacted, the largest Pebble cost of a paced ingest. Guarded by
// flushMu.
type pendingMerges struct {
	pb     *pebble.Batch
	ids    map[uint32]bool // objects merged in pb
	blocks int64           // block count change
}

// ingestMergesLocked ingests the pending merges. A merge's content equals
// the blocks it replaces, so until then readers see the same samples; an
// error or a crash before it loses only the merging. Caller holds flushMu.
// Deletes call it first (a delete after a pending merge of its object would
// be undone by it), and so does a merge of an object with one pending; a
// flush need not: its blocks carry a newer sequence than any pending merge's
// and the merge deletes only the keys it listed.
func (db *DB) ingestMergesLocked() error {
	pb := db.merges.pb
	if pb == nil {
		return nil
	}
	blocks := db.merges.blocks
	db.merges = pendingMerges{}
	defer pb.Close()
	paths, err := db.writeBatchSST(pb, db.ingestPath(), &db.sst)
	if err == nil && len(paths) > 0 {
		err = db.pdb.Ingest(context.Background(), paths)
	}
	removeTables(paths)
	if err != nil {
		return fmt.Errorf("tsdb: cannot write merged blocks: %w", err)
	}
	db.blocks.Add(blocks)
	return nil
}

type compactJob struct {
	id     uint32
	lo, hi int64
}

// compactLoop merges overlapping blocks left by flushes of late data, in the
// background, until Close.
func (db *DB) compactLoop() {
	defer db.wg.Done()
	for {
		select {
		case <-db.quit:
			return
		case j := <-db.compactCh:
			db.merging.Store(true)
			if _, err := db.compactSeries(j.id, j.lo, j.hi, false); err != nil && !errors.Is(err, ErrClosed) {
				db.log.Error("tsdb: background compaction failed", "object", j.id, "err", err)
			}
			if len(db.compactCh) == 0 { // the queue is drained: write what is merged
				db.flushMu.Lock()
				if err := db.ingestMergesLocked(); err != nil && !db.closed.Load() {
					db.log.Error("tsdb: background compaction failed", "err", err)
				}
				db.flushMu.Unlock()
				db.merging.Store(len(db.compactCh) > 0)
			}
		}
	}
}
