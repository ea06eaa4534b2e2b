package tsdb

import (
	"context"
	"encoding/binary"
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
		did, err := db.compactSeries(id)
		if err != nil {
			return err
		}
		if did {
			merged++
		}
	}
	if err := db.pdb.Compact(ctx, []byte{0x00}, []byte{0xff, 0xff}, true); err != nil {
		return fmt.Errorf("tsdb: cannot compact Pebble in %s: %w", db.dir, err)
	}
	db.m.compactions.Inc()
	db.log.Info("tsdb: compacted", "series", len(ids), "merged", merged, "duration", time.Since(t0))
	return nil
}

// compactSeries rewrites one object's blocks when they overlap or are more
// than needed. It holds flushMu (no flush or delete meanwhile), not the
// stripe lock: the rewrite is one atomic batch of equal logical content.
func (db *DB) compactSeries(id uint32) (bool, error) {
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	s, err := db.series(id)
	if err != nil || s == nil {
		return false, err
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: blockPrefix(id), UpperBound: blockPrefixEnd(id)})
	if err != nil {
		return false, err
	}
	defer it.Close()
	type bk struct {
		key   []byte
		parts blockKeyParts
		count int
	}
	var blocks []bk
	total := 0
	overlap := false
	prevMax := int64(-1 << 63)
	for it.First(); it.Valid(); it.Next() {
		k, ok := parseBlockKey(it.Key())
		if !ok {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return false, err
		}
		cnt := 0
		if len(v) > 2 {
			c, n := binary.Uvarint(v[2:])
			if n > 0 {
				cnt = int(c)
			}
		}
		if k.minTs <= prevMax {
			overlap = true
		}
		prevMax = max(prevMax, k.maxTs)
		blocks = append(blocks, bk{append([]byte(nil), it.Key()...), k, cnt})
		total += cnt
	}
	if err := it.Error(); err != nil {
		return false, err
	}
	need := (total + db.opts.MaxBlockSamples - 1) / db.opts.MaxBlockSamples
	if !overlap && len(blocks) <= need {
		return false, nil
	}
	// Merge through a Scan-like walk of the blocks only (no head): iterate
	// with an Iterator whose head sources are empty.
	mit := &Iterator{db: db, id: id, typ: s.typ, from: MinTimestamp, to: MaxTimestamp, sc: getCodecScratch()}
	mit.pit, err = db.pdb.NewIter(&pebble.IterOptions{LowerBound: blockPrefix(id), UpperBound: blockPrefixEnd(id)})
	if err != nil {
		putCodecScratch(mit.sc)
		return false, err
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
		return false, err
	}
	pb := db.pdb.NewBatch()
	defer pb.Close()
	for _, b := range blocks {
		_ = pb.Delete(b.key, nil)
	}
	seq := db.seq.Add(1)
	sc := getCodecScratch()
	defer putCodecScratch(sc)
	var buf, key []byte
	ranges := splitBlocks(all.len(), db.opts.MaxBlockSamples)
	for _, r := range ranges {
		ts := all.ts[r[0]:r[1]]
		buf = appendBlock(buf[:0], s.typ, ts, all.nums[r[0]:r[1]], all.strs, sc)
		key = appendBlockKey(key[:0], id, ts[0], ts[len(ts)-1], seq)
		_ = pb.Set(key, buf, nil)
	}
	_ = pb.Set(metaSeqKey, binary.BigEndian.AppendUint64(nil, db.seq.Load()), nil)
	if err := pb.Commit(pebble.Sync); err != nil {
		return false, fmt.Errorf("tsdb: cannot compact object %d: %w", id, err)
	}
	db.blocks.Add(int64(len(ranges) - len(blocks)))
	return true, nil
}
