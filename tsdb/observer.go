package tsdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// A RowsObserver keeps derived data (the rollups of package aggregate) equal
// to what the blocks hold: tsdb calls it inside every operation that changes
// the blocks' content — a flush and the deletes — with the Pebble batch that
// makes the change, so the derived keys it adds commit atomically with the
// blocks. The head (samples not flushed yet) is never in derived data;
// readers fold it in through ReadHead. Compactions rewrite blocks without
// changing their content and are not observed.
//
// Calls are serialized (they run under the DB's structural lock) and happen
// outside the append locks: appends continue meanwhile.
type RowsObserver interface {
	// ObserveFlush sees one flushed series with samples, right after its
	// blocks are encoded (its samples are still in the CPU's caches); the
	// series of a flush come in id order.
	ObserveFlush(f *FlushView, s *FlushedSeries) error
	// ObserveFlushEnd ends a flush that had samples, after its last
	// ObserveFlush and before its batch commits.
	ObserveFlushEnd(f *FlushView) error
	// ObserveDelete sees DeleteObject (whole) and DeleteRange(id, from, to).
	ObserveDelete(d *DeleteView) error
}

// TablePartitioner is an optional interface of a RowsObserver: a flush
// writes its batch as sstables (decision 0014), one per part, and Pebble
// places each table at the deepest level where it overlaps nothing. Keys
// the observer partitions by time (a table per epoch) then land in the
// bottom level when their epoch is new, instead of going through L0 with
// every other key of the flush and being rewritten by compactions.
type TablePartitioner interface {
	// TablePart returns the length of key's part: a prefix of key (at least
	// one byte) shared by every key of its table. The parts of all keys must
	// be prefix-free: no part may be a prefix of another.
	TablePart(key []byte) int
}

// FlushView is one flush as a RowsObserver sees it.
type FlushView struct {
	// Batch is the flush's Pebble batch (blocks, stats, WAL deletion).
	Batch *pebble.Batch
	// Gen is the raw-data generation the batch brings the store to
	// (RawGeneration after it commits).
	Gen uint64
	db  *DB
}

// FlushedSeries is one series' flushed samples: sorted by timestamp,
// distinct; Nums are the raw values (float64 bits, int64, bool 0/1; strings
// are references and meaningless outside tsdb). PrevMax is the greatest
// timestamp the series' blocks may hold before this flush (math.MinInt64:
// none): samples above it are new to the blocks; samples at or below it may
// replace stored ones. Mants, when not nil (a float series whose blocks
// were all encoded as decimals at one scale), holds every value as a decimal
// mantissa: Nums[i] is the float nearest to Mants[i] × 10^−MantScale (no
// NaN, ±Inf or −0 then). Valid during the call only.
type FlushedSeries struct {
	ID        uint32
	Type      ValueType
	TS        []int64
	Nums      []uint64
	Mants     []int64
	MantScale int
	PrevMax   int64
	c         *chunk
}

// Scan iterates s's samples in [from, to] as they will be once the flush
// commits: the blocks merged with the flushed samples (which win).
func (f *FlushView) Scan(s *FlushedSeries, from, to int64) (*Iterator, error) {
	return f.db.scanBlocks(s.ID, s.Type, from, to, s.c)
}

// DeleteView is a delete as a RowsObserver sees it.
type DeleteView struct {
	// Batch is the delete's Pebble batch.
	Batch *pebble.Batch
	// Gen is the raw-data generation the batch brings the store to.
	Gen uint64
	// ID and Type name the series; Whole is DeleteObject, else the samples
	// with From ≤ ts ≤ To are deleted.
	ID       uint32
	Type     ValueType
	Whole    bool
	From, To int64
	db       *DB
}

// Scan iterates the series' stored samples in [from, to] as they are before
// the delete (the deleted range included: skip it).
func (d *DeleteView) Scan(from, to int64) (*Iterator, error) {
	return d.db.scanBlocks(d.ID, d.Type, from, to, nil)
}

// metaGenKey holds the raw-data generation: the number of committed
// operations that changed the blocks' content (flushes and deletes).
var metaGenKey = []byte{prefixMeta, 'g'}

// RawGeneration returns the raw-data generation. An observer that stores it
// with its derived keys can tell at start whether blocks changed while it was
// not attached (a tool that opened the DB alone): then it must rebuild.
func (db *DB) RawGeneration() uint64 { return db.gen.Load() }

func (db *DB) loadGeneration() error {
	v, c, err := db.pdb.Get(metaGenKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	defer c.Close()
	if len(v) != 8 {
		return &CorruptionError{What: "generation", Key: metaGenKey, Err: errors.New("bad length")}
	}
	db.gen.Store(binary.BigEndian.Uint64(v))
	return nil
}

// nextGenLocked adds the generation bump to pb (caller holds flushMu).
func (db *DB) nextGenLocked(pb *pebble.Batch) (uint64, error) {
	g := db.gen.Load() + 1
	return g, setGen(pb, g)
}

// setGen puts generation g into pb.
func setGen(pb *pebble.Batch, g uint64) error {
	return pb.Set(metaGenKey, binary.BigEndian.AppendUint64(nil, g), nil)
}

// SetRowsObserver attaches o (nil detaches); one observer at a time. attach runs first with the DB's
// structural lock held — no flush, compaction or delete runs meanwhile — and
// the current generation, so an observer can bring its derived data up to
// date (Exclusive-style) before the first observed operation. An error from
// attach leaves o detached.
func (db *DB) SetRowsObserver(o RowsObserver, attach func(gen uint64) error) error {
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	if o != nil && db.obs != nil {
		return errors.New("tsdb: a rows observer is already attached")
	}
	if attach != nil {
		if err := attach(db.gen.Load()); err != nil {
			return err
		}
	}
	db.obs = o
	return nil
}

// Exclusive runs fn with the DB's structural lock held: no flush, compaction
// or delete runs meanwhile, so ScanBlocks sees stable blocks; appends
// continue into the head. fn's writes of derived keys go through
// ApplyDerived.
func (db *DB) Exclusive(fn func() error) error {
	if db.closed.Load() {
		return ErrClosed
	}
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	return fn()
}

// ApplyDerived commits pb (derived keys) durably, ordered with flushes for
// ReadHead's readers. Call it inside Exclusive.
func (db *DB) ApplyDerived(pb *pebble.Batch) error {
	db.commitMu.Lock()
	err := db.pdb.ApplyNoSyncWait(pb, pebble.Sync)
	db.dirtyMem.Store(true)
	if err == nil {
		db.rowsGen.Add(1)
	}
	db.commitMu.Unlock()
	if err != nil {
		return err
	}
	return pb.SyncWait()
}

// ScanBlocks iterates id's flushed samples in [from, to] (the head left
// out). Inside Exclusive they are stable.
func (db *DB) ScanBlocks(id uint32, from, to int64) (*Iterator, error) {
	s, err := db.series(id)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("%w: object %d", ErrUnknownSeries, id)
	}
	return db.scanBlocks(id, s.typ, from, to, nil)
}

// scanBlocks is an iterator over the blocks of id, plus c (newer) when not nil.
func (db *DB) scanBlocks(id uint32, typ ValueType, from, to int64, c *chunk) (*Iterator, error) {
	it := &Iterator{db: db, id: id, typ: typ, from: from, to: to}
	if from > to {
		it.closed = true
		return it, nil
	}
	it.sc = getCodecScratch()
	if c != nil {
		it.addChunk(c, prioFrozen)
	}
	if err := it.openBlocks(); err != nil {
		it.Close()
		return nil, err
	}
	return it, nil
}

// HeadSamples are a series' unflushed samples of a range (ReadHead).
type HeadSamples struct {
	TS   []int64
	Nums []uint64
	// StoredMax bounds the timestamps of the flushed samples the derived
	// data seen by ReadHead's fn covers: head samples above it are not in
	// it; samples at or below it may replace stored ones.
	StoredMax int64
}

// ReadHead fills h with id's samples in [from, to] that derived data does not
// cover yet (the head, and a flushing head not committed yet; the newest
// write of a timestamp), and calls fn(gen) under the same locks: derived keys
// read through a Pebble iterator that fn opens — or one opened by an earlier
// fn that got the same gen — hold exactly the flushed samples h lacks. gen
// changes whenever derived keys do. String series and unknown ids are
// errors (ErrWrongType, ErrUnknownSeries).
func (db *DB) ReadHead(id uint32, from, to int64, h *HeadSamples, fn func(gen uint64) error) (ValueType, error) {
	h.TS, h.Nums, h.StoredMax = h.TS[:0], h.Nums[:0], math.MinInt64
	if db.closed.Load() {
		return 0, ErrClosed
	}
	s, err := db.series(id)
	if err != nil {
		return 0, err
	}
	if s == nil {
		return 0, fmt.Errorf("%w: object %d", ErrUnknownSeries, id)
	}
	if s.typ == String {
		return s.typ, fmt.Errorf("%w: object %d holds strings", ErrWrongType, id)
	}
	db.commitMu.RLock()
	defer db.commitMu.RUnlock()
	db.lockOne(id)
	defer db.unlockOne(id)
	if s.deleted {
		return 0, fmt.Errorf("%w: object %d", ErrUnknownSeries, id)
	}
	h.StoredMax = s.blkMax
	if s.frozen != nil && !s.frozenCommitted {
		h.StoredMax = s.cutBlkMax
		mergeChunks(h, s.frozen, &s.head, from, to)
	} else {
		mergeChunks(h, nil, &s.head, from, to)
	}
	return s.typ, fn(db.rowsGen.Load())
}

// mergeChunks appends to h the samples of older and newer in [from, to],
// newer winning on equal timestamps.
func mergeChunks(h *HeadSamples, older, newer *chunk, from, to int64) {
	var a, b []int64
	var an, bn []uint64
	if older != nil {
		a, an = older.window(from, to)
	}
	b, bn = newer.window(from, to)
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0] < b[0]:
			h.TS, h.Nums = append(h.TS, a[0]), append(h.Nums, an[0])
			a, an = a[1:], an[1:]
		case a[0] > b[0]:
			h.TS, h.Nums = append(h.TS, b[0]), append(h.Nums, bn[0])
			b, bn = b[1:], bn[1:]
		default:
			h.TS, h.Nums = append(h.TS, b[0]), append(h.Nums, bn[0])
			a, an, b, bn = a[1:], an[1:], b[1:], bn[1:]
		}
	}
	h.TS, h.Nums = append(h.TS, a...), append(h.Nums, an...)
	h.TS, h.Nums = append(h.TS, b...), append(h.Nums, bn...)
}

// window returns c's samples with from ≤ ts ≤ to.
func (c *chunk) window(from, to int64) ([]int64, []uint64) {
	i, _ := c.search(from)
	j, found := c.search(to)
	if found {
		j++
	}
	if i >= j {
		return nil, nil
	}
	return c.ts[i:j], c.nums[i:j]
}
