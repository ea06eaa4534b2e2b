package tsdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// FormatVersion is the store format this build writes and reads
// (docs/format/tsdb.md). A store with a higher version is refused.
const FormatVersion = 1

// DB is the time-series store over one Pebble instance shared with the other
// packages (each under its own key prefix, docs/format/keys.md).
//
// All methods are safe for concurrent use. Close must be called once, after
// every other call has returned; it syncs and closes Pebble without flushing
// the head (the WAL records are durable and are replayed by the next Open).
type DB struct {
	dir  string
	opts Options
	log  *slog.Logger
	pdb  *pebble.DB
	lock *pebble.Lock
	m    *dbMetrics

	tab     seriesTable
	big     sync.RWMutex // see lockStripes
	stripes [numStripes]stripe

	seq          atomic.Uint64 // last WAL / flush / compaction sequence
	epoch        atomic.Uint64 // Append duplicate-check epochs
	walBytes     atomic.Int64
	headBytes    atomic.Int64
	headSamples  atomic.Int64
	totalSamples atomic.Int64
	blocks       atomic.Int64

	// flushMu serializes the structural operations: flush, compaction of a
	// series, DeleteObject, DeleteRange. Appends never take it.
	flushMu sync.Mutex
	merges  pendingMerges // guarded by flushMu
	merging atomic.Bool   // compactLoop has jobs queued or running (WaitIdle)
	// flushMu2 guards flushDone, closed and replaced at each flush's end.
	flushMu2  sync.Mutex
	flushDone chan struct{}
	flushCh   chan struct{}
	compactCh chan compactJob
	growCh    chan []growReq
	loadMu    sync.Mutex // serializes loadMissing
	quit      chan struct{}
	wg        sync.WaitGroup

	closed    atomic.Bool
	closeOnce sync.Once

	// obs sees every change of the blocks' content (observer.go); guarded
	// by flushMu.
	obs RowsObserver
	gen atomic.Uint64 // raw-data generation (metaGenKey)
	// commitMu orders commits that change derived keys (flushes, deletes,
	// ApplyDerived: write-locked, each bumping rowsGen) with ReadHead
	// (read-locked), so a reader sees a flushing head either as head or as
	// committed blocks and rows, never as both.
	commitMu sync.RWMutex
	rowsGen  atomic.Uint64
	// sst is the flush's scratch for writing its sstables (flushMu).
	sst sstScratch
	// dirtyMem is set by every commit of ours that is not a WAL record or a
	// flush (new series, block compactions, deletes, derived keys): the
	// memtable may hold keys a flush's tables overlap (flush.go).
	dirtyMem atomic.Bool
}

// Open opens (creating if needed) the store in dir.
//
// It returns an error wrapping ErrLocked, with the path, when another process
// holds the directory, and ErrNewerFormat when the store was written by a
// newer format (the store is left untouched).
func Open(dir string, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tsdb: cannot create data directory %s: %w", dir, err)
	}
	if _, err := os.ReadDir(dir); err != nil {
		return nil, fmt.Errorf("tsdb: cannot read data directory %s: %w", dir, err)
	}
	lock, err := pebble.LockDirectory(dir, vfs.Default)
	if err != nil {
		if isLockHeld(err) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
		}
		return nil, fmt.Errorf("tsdb: cannot lock data directory %s: %w", dir, err)
	}
	db, err := open(dir, opts, lock)
	if err != nil {
		_ = lock.Close()
		return nil, err
	}
	return db, nil
}

func isLockHeld(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) ||
		errors.Is(err, syscall.EWOULDBLOCK) || strings.Contains(err.Error(), "lock held by current process")
}

func open(dir string, opts Options, lock *pebble.Lock) (*DB, error) {
	desc, err := pebble.Peek(dir, vfs.Default)
	if err != nil {
		return nil, fmt.Errorf("tsdb: cannot inspect data directory %s: %w", dir, err)
	}
	// Pebble reserves every memtable (and every large batch it applies as
	// one, like a flush's) from the block cache: a cache of PebbleCacheBytes
	// next to 256 MiB memtables held nothing at all (BenchmarkMeanVsVM: 0
	// cached blocks after the first flush, every read a pread + snappy
	// decode). The cache is sized for the memtables on top.
	memtable := uint64(min(max(opts.HeadBytes, 16<<20), 1<<30))
	const memtables = 2 // MemTableStopWritesThreshold
	cache := pebble.NewCache(opts.PebbleCacheBytes + int64(memtable)*(memtables+1))
	defer cache.Unref()
	po := &pebble.Options{
		Cache:  cache,
		Lock:   lock,
		Logger: pebbleLogger{opts.Logger},
		// WAL records go through the memtable; sized like the head so that
		// most of them are deleted (flush cut) before they reach an sstable.
		// Pebble recycles up to MemTableStopWritesThreshold+1 WAL files of the
		// memtable's size: 2 keeps that disk overhead at ≤ 3 × HeadBytes.
		MemTableSize:                memtable,
		MemTableStopWritesThreshold: memtables,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       1000,
		LBaseMaxBytes:               256 << 20,
	}
	// A flush's table that overlaps an existing table's bounds but none of
	// its keys (a rollup epoch no flush touched, decision 0016) splits that
	// table into two virtual ones and goes to the bottom level, instead of
	// L0 and a compaction that rewrites both.
	po.Experimental.IngestSplit = func() bool { return true }
	if !desc.Exists {
		// New stores start at the newest Pebble format; existing stores keep
		// theirs (Open never ratchets, so a refused store stays as it was).
		po.FormatMajorVersion = pebble.FormatNewest
	}
	if err := cleanIngestDir(dir); err != nil {
		return nil, err
	}
	pdb, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("tsdb: cannot open store in %s: %w", dir, err)
	}
	db := &DB{dir: dir, opts: opts, log: opts.Logger, pdb: pdb, lock: lock,
		flushDone: make(chan struct{}), flushCh: make(chan struct{}, 1), compactCh: make(chan compactJob, 4096), growCh: make(chan []growReq, 64), quit: make(chan struct{})}
	db.dirtyMem.Store(true) // whatever the memtable replayed from Pebble's WAL holds
	if err := db.checkFormat(); err != nil {
		_ = pdb.Close()
		return nil, err
	}
	if err := db.loadGeneration(); err != nil {
		_ = pdb.Close()
		return nil, fmt.Errorf("tsdb: cannot read generation in %s: %w", dir, err)
	}
	if err := db.loadAllSeries(); err != nil {
		_ = pdb.Close()
		return nil, fmt.Errorf("tsdb: cannot load series in %s: %w", dir, err)
	}
	nb, err := db.countAllBlocks()
	if err != nil {
		_ = pdb.Close()
		return nil, fmt.Errorf("tsdb: cannot count blocks in %s: %w", dir, err)
	}
	db.blocks.Store(nb)
	if err := db.replay(); err != nil {
		_ = pdb.Close()
		return nil, fmt.Errorf("tsdb: cannot replay WAL in %s: %w", dir, err)
	}
	db.m = newDBMetrics(db, opts.Metrics)
	db.wg.Add(3)
	go db.growLoop()
	go db.flushLoop()
	go db.compactLoop()
	return db, nil
}

// checkFormat reads the store version under the 0x01 prefix, writing it when
// the store is new.
func (db *DB) checkFormat() error {
	v, closer, err := db.pdb.Get(metaVersionKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		it, err := db.pdb.NewIter(nil)
		if err != nil {
			return fmt.Errorf("tsdb: cannot read store in %s: %w", db.dir, err)
		}
		nonEmpty := it.First()
		_ = it.Close()
		if nonEmpty {
			return &CorruptionError{What: "meta", Key: metaVersionKey, Err: errors.New("store has data but no format version")}
		}
		val := encodeMeta(FormatVersion, time.Now().UnixMilli(), buildVersion())
		if err := db.pdb.Set(metaVersionKey, val, pebble.Sync); err != nil {
			return fmt.Errorf("tsdb: cannot write store format version in %s: %w", db.dir, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("tsdb: cannot read store format version in %s: %w", db.dir, err)
	}
	defer closer.Close()
	ver, _, _, err := decodeMeta(v)
	if err != nil {
		return &CorruptionError{What: "meta", Key: metaVersionKey, Err: err}
	}
	if ver > FormatVersion {
		return fmt.Errorf("%w: %s has format %d, this build reads up to %d", ErrNewerFormat, db.dir, ver, FormatVersion)
	}
	return nil
}

// WaitIdle waits, at most max, until Pebble has run no flush and no
// compaction, and tsdb no block merge, for 50 ms (one finishing often
// schedules the next), and reports whether it got there: benchmarks charge
// a phase with the background work it caused, and size measurements see a
// settled store.
func (db *DB) WaitIdle(max time.Duration) bool {
	idle := 0
	for deadline := time.Now().Add(max); idle < 10; time.Sleep(5 * time.Millisecond) {
		if !time.Now().Before(deadline) {
			return false
		}
		if m := db.pdb.Metrics(); m.Compact.NumInProgress == 0 && m.Flush.NumInProgress == 0 && !db.merging.Load() {
			idle++
		} else {
			idle = 0
		}
	}
	return true
}

// Pebble returns the shared Pebble instance. Other packages store their keys
// in it under their own prefixes (docs/format/keys.md) and must not touch
// tsdb's (0x01, 'w', 'b', 's').
func (db *DB) Pebble() *pebble.DB { return db.pdb }

// Dir returns the data directory.
func (db *DB) Dir() string { return db.dir }

// Close syncs and closes Pebble. It does not flush the head: the WAL is
// durable and the next Open replays it.
func (db *DB) Close() error {
	err := ErrClosed
	db.closeOnce.Do(func() {
		db.closed.Store(true)
		err = db.close()
	})
	return err
}

func (db *DB) close() error {
	var errs []error
	close(db.quit)
	db.wg.Wait()
	db.flushMu.Lock() // wait for a running Flush, Compact or delete
	defer db.flushMu.Unlock()
	if err := db.ingestMergesLocked(); err != nil {
		errs = append(errs, err)
	}
	if err := db.persistReads(); err != nil {
		errs = append(errs, err)
	}
	if err := db.pdb.LogData(nil, pebble.Sync); err != nil {
		errs = append(errs, fmt.Errorf("tsdb: cannot sync %s: %w", db.dir, err))
	}
	db.m.unregister()
	if err := db.pdb.Close(); err != nil {
		errs = append(errs, fmt.Errorf("tsdb: cannot close %s: %w", db.dir, err))
	}
	if err := db.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("tsdb: cannot unlock %s: %w", db.dir, err))
	}
	return errors.Join(errs...)
}

func (db *DB) countAllBlocks() (int64, error) {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: blockStart, UpperBound: blockEnd})
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

// persistReads writes the read counters changed since the last flush.
func (db *DB) persistReads() error {
	pb := db.pdb.NewBatch()
	defer pb.Close()
	db.tab.mu.RLock()
	db.tab.forEachLocked(func(s *series) {
		if s.readsDirty.Swap(false) {
			_ = pb.Set(seriesKey(s.id, seriesKindReads), binary.AppendUvarint(nil, s.reads.Load()), nil)
		}
	})
	db.tab.mu.RUnlock()
	if pb.Empty() {
		return nil
	}
	err := pb.Commit(pebble.Sync)
	db.dirtyMem.Store(true)
	if err != nil {
		return fmt.Errorf("tsdb: cannot persist read counters in %s: %w", db.dir, err)
	}
	return nil
}
