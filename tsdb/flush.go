package tsdb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// metaSeqKey holds the highest sequence number used by a flush or a
// compaction (block keys carry it), so sequences stay monotonic after the
// WAL it came from is deleted.
var metaSeqKey = []byte{prefixMeta, 's'}

// metaWALCutKey holds the cut of the last flush: its blocks hold every WAL
// record with a sequence ≤ cut (replay skips those still there).
var metaWALCutKey = []byte{prefixMeta, 'c'}

func (db *DB) triggerFlush() {
	select {
	case db.flushCh <- struct{}{}:
	default:
	}
}

// flushLoop runs flushes requested by Append until Close.
func (db *DB) flushLoop() {
	defer db.wg.Done()
	for {
		select {
		case <-db.quit:
			return
		case <-db.flushCh:
			if db.headBytes.Load() < db.opts.HeadBytes {
				continue
			}
			if err := db.Flush(); err != nil && !errors.Is(err, ErrClosed) {
				db.log.Error("tsdb: background flush failed", "err", err)
			}
		}
	}
}

type frozenSeries struct {
	s     *series
	c     *chunk // nil when only stats or reads changed
	st    Stats
	bmin  int64
	bmax  int64
	stats bool
	late  bool
	// mergeSmall: merge the object's small blocks from smallSince on.
	mergeSmall bool
	smallSince int64
	reads      uint64
	rdirty     bool
	prevMax    int64 // blkMax before the cut
}

// Flush writes the head to blocks: one Pebble ingestion of sstables holds
// the encoded blocks of every object, their stats as of the cut, the
// observer's keys, and the cut itself (walCut: replay skips the WAL records
// it covers) — either all of it exists or the WAL still holds the samples.
// The WAL records are deleted after it. Appends continue into a fresh head
// meanwhile.
func (db *DB) Flush() error {
	if db.closed.Load() {
		return ErrClosed
	}
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	return db.flushLocked()
}

func (db *DB) flushLocked() error {
	t0 := time.Now()
	// 1. The cut: every record with seq ≤ cut is in the heads we freeze.
	var list []frozenSeries
	db.tab.mu.RLock()
	db.lockAll()
	cut := db.seq.Load()
	// Blocks get a sequence of their own, above every earlier one: a
	// background compaction may have taken cut itself for its merged blocks,
	// which hold older data than this head.
	bseq := db.seq.Add(1)
	walCut := db.walBytes.Load()
	db.tab.forEachLocked(func(s *series) {
		f := frozenSeries{s: s}
		if s.head.len() > 0 {
			c := s.head
			s.frozen = &c
			// A quarter of headroom: the grower (grow.go) starts at 7/8.
			s.head = chunk{hint: c.len() + c.len()/4}
			f.c = s.frozen
		}
		if f.c != nil {
			f.prevMax = s.blkMax
			s.cutBlkMax, s.frozenCommitted = s.blkMax, false
			f.late = f.c.ts[0] <= s.blkMax // overlaps earlier blocks
			if f.c.len() < db.opts.MaxBlockSamples/4 {
				// Small blocks pile up when many objects share the head:
				// every 8th small flush of an object merges them.
				s.smallSince = min(s.smallSince, f.c.ts[0])
				if s.smallFlushes++; s.smallFlushes >= 8 {
					f.mergeSmall, f.smallSince = true, s.smallSince
					s.smallFlushes, s.smallSince = 0, math.MaxInt64
				}
			}
			s.blkMin = min(s.blkMin, f.c.ts[0])
			s.blkMax = max(s.blkMax, f.c.ts[f.c.len()-1])
			s.dirty = true
		}
		if s.dirty {
			f.st, f.bmin, f.bmax, f.stats = s.st, s.blkMin, s.blkMax, true
			s.dirty = false
		}
		if s.readsDirty.Swap(false) {
			f.reads, f.rdirty = s.reads.Load(), true
		}
		if f.c != nil || f.stats || f.rdirty {
			list = append(list, f)
		}
	})
	db.unlockAll()
	db.tab.mu.RUnlock()
	// Keys of ours written through batches (new series, block compactions,
	// deletes) sit in the memtable, where this flush's tables would overlap
	// them: flush it now, while we encode, rather than have the ingestion
	// wait for it with the commit pipeline held (dirtyMemtable).
	var memFlushed <-chan struct{}
	if db.dirtyMem.Swap(false) {
		var err error
		if memFlushed, err = db.pdb.AsyncFlush(); err != nil {
			db.log.Warn("tsdb: cannot flush the memtable", "err", err)
			memFlushed = nil
		}
	}

	// 2. Encode, outside the locks. The batch is sized up front (≈ 2 B a sample of blocks,
	// ≈ 2.5 of rollup groups when observed): growing a tens-of-MB batch by doubling copied
	// it over and over (pprof of BenchmarkIngestRollupsPaired).
	var nSamples int64
	for _, f := range list {
		if f.c != nil {
			nSamples += int64(f.c.len())
		}
	}
	perSample := int64(2)
	if db.obs != nil {
		perSample = 5
	}
	pb := db.pdb.NewBatchWithSize(int(min(nSamples*perSample+1<<20, 1<<30)))
	defer pb.Close()
	sc := getCodecScratch()
	defer putCodecScratch(sc)
	var buf, key []byte
	var mants []int64 // a float series' decimal mantissas, for the observer
	var nBlocks, frozenBytes int64
	gen := db.gen.Load()
	var fv *FlushView // the flush changes the blocks' content: a new generation
	if nSamples > 0 {
		gen++
		fv = &FlushView{Batch: pb, Gen: gen, db: db}
	}
	for _, f := range list {
		if f.c != nil {
			c := f.c
			frozenBytes += chunkSampleBytes*int64(c.len()) + int64(len(c.strs))
			mants = mants[:0]
			mantOK, scale := f.s.typ == Float && db.obs != nil, 0 // only the observer reads them
			for i, r := range splitChunk(c, f.s.typ, db.opts.MaxBlockSamples) {
				ts := c.ts[r[0]:r[1]]
				buf = appendBlock(buf[:0], f.s.typ, ts, c.nums[r[0]:r[1]], c.strs, sc)
				if mantOK = mantOK && sc.mantOK && (i == 0 || sc.mantScale == scale); mantOK {
					mants, scale = append(mants, sc.mant...), sc.mantScale
				}
				key = appendBlockKey(key[:0], f.s.id, ts[0], ts[len(ts)-1], bseq)
				if err := pb.Set(key, buf, nil); err != nil {
					return db.unfreeze(list, err)
				}
				nBlocks++
			}
			if db.obs != nil {
				fs := FlushedSeries{ID: f.s.id, Type: f.s.typ, TS: c.ts, Nums: c.nums, PrevMax: f.prevMax, c: c}
				if mantOK {
					fs.Mants, fs.MantScale = mants, scale
				}
				if err := db.obs.ObserveFlush(fv, &fs); err != nil {
					return db.unfreeze(list, fmt.Errorf("tsdb: flush observer: %w", err))
				}
			}
		}
		if f.stats {
			if err := pb.Set(seriesKey(f.s.id, seriesKindStats), encodeStats(f.st, f.bmin, f.bmax), nil); err != nil {
				return db.unfreeze(list, err)
			}
		}
		if f.rdirty {
			if err := pb.Set(seriesKey(f.s.id, seriesKindReads), binary.AppendUvarint(nil, f.reads), nil); err != nil {
				return db.unfreeze(list, err)
			}
		}
	}
	// The WAL records up to cut are deleted after the ingestion (below);
	// until then walCut tells replay that the blocks hold them.
	if err := pb.Set(metaWALCutKey, binary.BigEndian.AppendUint64(nil, cut), nil); err != nil {
		return db.unfreeze(list, err)
	}
	if err := pb.Set(metaSeqKey, binary.BigEndian.AppendUint64(nil, bseq), nil); err != nil {
		return db.unfreeze(list, err)
	}
	if fv != nil {
		if err := setGen(pb, fv.Gen); err != nil {
			return db.unfreeze(list, err)
		}
		if db.obs != nil {
			if err := db.obs.ObserveFlushEnd(fv); err != nil {
				return db.unfreeze(list, fmt.Errorf("tsdb: flush observer: %w", err))
			}
		}
	}
	// Written as sstables outside every lock, ingested under commitMu
	// (ReadHead sees the frozen heads either as head or as committed blocks).
	tEnc := time.Now()
	paths, err := db.writeBatchSST(pb, db.ingestPath(), &db.sst)
	if err != nil {
		removeTables(paths)
		return db.unfreeze(list, err)
	}
	if memFlushed != nil {
		<-memFlushed
	}
	tSST := time.Now()
	var st pebble.IngestOperationStats
	db.commitMu.Lock()
	if len(paths) > 0 {
		st, err = db.pdb.IngestWithStats(context.Background(), paths)
	}
	if err == nil {
		for _, f := range list {
			if f.c != nil {
				f.s.frozenCommitted = true
			}
		}
		db.gen.Store(gen)
		db.rowsGen.Add(1)
	}
	db.commitMu.Unlock()
	tIngest := time.Now()
	removeTables(paths)
	if err != nil {
		return db.unfreeze(list, fmt.Errorf("tsdb: cannot ingest flush: %w", err))
	}
	if st.MemtableOverlappingFiles > 0 {
		db.m.ingestOverlaps.Inc()
	}
	// The WAL records the blocks now hold: their deletion needs no sync (a
	// crash before it leaves records that replay skips, below walCut, and
	// the next flush deletes). Deleted in the memtable that holds most of
	// them, they never reach an sstable.
	if err := db.pdb.DeleteRange(walKey(0), walKey(cut+1), pebble.NoSync); err != nil {
		db.log.Warn("tsdb: cannot delete flushed WAL records", "err", err)
	}
	// 3. Blocks are durable: drop the frozen heads.
	db.lockAll()
	for _, f := range list {
		if f.c != nil && f.s.frozen == f.c {
			f.s.frozen = nil
		}
	}
	db.unlockAll()
	db.headBytes.Add(-frozenBytes)
	db.headSamples.Add(-nSamples)
	db.walBytes.Add(-walCut)
	db.m.flushes.Inc()
	db.m.flushedSamples.Add(int(nSamples))
	db.blocks.Add(nBlocks)
	for _, f := range list {
		var job compactJob
		switch {
		case f.mergeSmall:
			job = compactJob{f.s.id, f.smallSince, MaxTimestamp}
		case f.late:
			job = compactJob{f.s.id, f.c.ts[0], f.c.ts[f.c.len()-1]}
		default:
			continue
		}
		db.merging.Store(true)
		select {
		case db.compactCh <- job:
		default: // queue full: Compact() will merge them
		}
	}
	db.flushMu2.Lock()
	close(db.flushDone)
	db.flushDone = make(chan struct{})
	db.flushMu2.Unlock()
	db.log.Debug("tsdb: flushed head", "samples", nSamples, "blocks", nBlocks, "series", len(list), "duration", time.Since(t0),
		"encode", tEnc.Sub(t0), "write", tSST.Sub(tEnc), "ingest", tIngest.Sub(tSST), "bytes", pb.Len(),
		"memtableOverlaps", st.MemtableOverlappingFiles)
	return nil
}

// unfreeze puts frozen heads back after a failed flush: the WAL still holds
// their records, so nothing is lost; frozen samples are merged under newer
// head samples.
func (db *DB) unfreeze(list []frozenSeries, err error) error {
	db.lockAll()
	for _, f := range list {
		if f.stats {
			f.s.dirty = true
		}
		if f.rdirty {
			f.s.readsDirty.Store(true)
		}
		if f.c == nil || f.s.frozen != f.c {
			continue
		}
		newer := f.s.head
		f.s.head = *f.c
		f.s.frozen = nil
		for i, ts := range newer.ts {
			var str []byte
			if f.s.typ == String {
				r := newer.nums[i]
				str = newer.strs[strOff(r) : strOff(r)+strLen(r)]
			}
			f.s.head.put(ts, newer.nums[i], str, f.s.typ == String)
		}
	}
	db.unlockAll()
	return err
}

// splitBlocks cuts n samples into ⌈n/max⌉ blocks of near-equal size.
func splitBlocks(n, maxPer int) [][2]int {
	if n == 0 {
		return nil
	}
	nb := (n + maxPer - 1) / maxPer
	per := (n + nb - 1) / nb
	out := make([][2]int, 0, nb)
	for i := 0; i < n; i += per {
		out = append(out, [2]int{i, min(i+per, n)})
	}
	return out
}

// splitChunk cuts a chunk into blocks: by count, and for strings also at
// maxStringBlockBytes of string data.
func splitChunk(c *chunk, typ ValueType, maxPer int) [][2]int {
	ranges := splitBlocks(c.len(), maxPer)
	if typ != String {
		return ranges
	}
	var out [][2]int
	for _, r := range ranges {
		start, size := r[0], 0
		for i := r[0]; i < r[1]; i++ {
			l := strLen(c.nums[i])
			if size+l > maxStringBlockBytes && i > start {
				out = append(out, [2]int{start, i})
				start, size = i, 0
			}
			size += l
		}
		out = append(out, [2]int{start, r[1]})
	}
	return out
}

// metaUint64 reads a big-endian u64 under the meta prefix (0 when absent or
// not 8 bytes long, as replay has always treated it).
func (db *DB) metaUint64(key []byte) (uint64, error) {
	v, c, err := db.pdb.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("tsdb: cannot read %s: %w", db.dir, err)
	}
	defer c.Close()
	if len(v) != 8 {
		return 0, nil
	}
	return binary.BigEndian.Uint64(v), nil
}

// replay reads the WAL records above the last flush into the head (Open).
func (db *DB) replay() error {
	t0 := time.Now()
	seq, err := db.metaUint64(metaSeqKey)
	if err != nil {
		return err
	}
	db.seq.Store(seq)
	walCut, err := db.metaUint64(metaWALCutKey)
	if err != nil {
		return err
	}
	if walCut > db.seq.Load() {
		db.seq.Store(walCut)
	}
	// Records at or below the last flush's cut are in its blocks: a crash
	// came between its ingestion and their deletion.
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: walKey(walCut + 1), UpperBound: walEnd})
	if err != nil {
		return err
	}
	defer it.Close()
	var b Batch
	var lk blockLookup
	var records, samples int64
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != 9 {
			continue
		}
		seq := binary.BigEndian.Uint64(k[1:])
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if seq > db.seq.Load() {
			db.seq.Store(seq)
		}
		db.walBytes.Add(int64(len(v)))
		records++
		kind, d, err := decodeWALRecord(v, &b)
		if err != nil {
			return &CorruptionError{What: "WAL record", Key: append([]byte(nil), k...), Err: err}
		}
		lk.reset()
		switch kind {
		case walKindSamples:
			for i, id := range b.ids {
				s := db.tab.getLocked(id)
				if s == nil || s.createSeq >= seq || s.typ != b.types[i] {
					continue // deleted object, earlier incarnation
				}
				var str []byte
				if s.typ == String {
					r := b.nums[i]
					str = b.strs[strOff(r) : strOff(r)+strLen(r)]
				}
				before := s.head.len()
				isNew, err := db.applyLocked(s, b.ts[i], b.nums[i], str, false, &lk)
				if err != nil {
					return err
				}
				if isNew {
					db.totalSamples.Add(1)
				}
				grew := int64(s.head.len() - before)
				db.headSamples.Add(grew)
				db.headBytes.Add(chunkSampleBytes*grew + int64(len(str)))
				samples++
			}
		case walKindDeleteRange:
			s := db.tab.getLocked(d.id)
			if s == nil || s.createSeq >= seq {
				continue
			}
			db.applyDeleteRangeLocked(s, d)
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	if records > 0 {
		db.log.Info("tsdb: replayed WAL", "records", records, "samples", samples, "duration", time.Since(t0))
	}
	return nil
}
