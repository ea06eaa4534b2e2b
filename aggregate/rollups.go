package aggregate

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/tsgate/tsgate/tsdb"
)

// Sentinel errors.
var (
	// ErrClosed is returned by calls on closed Rollups.
	ErrClosed = errors.New("aggregate: closed")
	// ErrNewerFormat means the rollup keyspace was written by a newer build.
	ErrNewerFormat = errors.New("aggregate: rollup format is newer than this build supports")
)

// Rollups maintains the rollup rows of every numeric object of a tsdb.DB,
// in the DB's Pebble instance under the 'r' prefix.
//
// Stored rows always describe exactly the DB's flushed samples: they are
// written by tsdb's flushes and deletes (Rollups is the DB's
// tsdb.RowsObserver), in the same Pebble batch as the blocks, so a crash
// leaves both or neither. Samples still in the head are folded in by every
// read (Rows), so a row is exact as soon as its write is acknowledged. The
// write path itself does no rollup work.
//
// All methods are safe for concurrent use. Close must be called once, after
// every other call has returned, and before the DB is closed.
type Rollups struct {
	db   *tsdb.DB
	pdb  *pebble.DB
	opts Options
	log  *slog.Logger
	m    *rollupMetrics

	fl flushScratch // observer calls are serialized by tsdb

	reads     sync.Pool // *readScratch
	closed    atomic.Bool
	closeOnce sync.Once
}

// Open attaches rollups to db. When the stored rows do not describe the
// DB's blocks — a new keyspace, an older format, or blocks changed while no
// Rollups was attached (a tool opened the DB alone) — every row is first
// recomputed from raw data (Rebuild), so rows always equal a recomputation.
func Open(db *tsdb.DB, opts Options) (*Rollups, error) {
	opts = opts.withDefaults()
	r := &Rollups{db: db, pdb: db.Pebble(), opts: opts, log: opts.Logger}
	r.m = newRollupMetrics(r, opts.Metrics)
	err := db.SetRowsObserver(r, func(gen uint64) error {
		ver, stored, err := r.readMarkers()
		if err != nil {
			return err
		}
		why := ""
		switch {
		case ver > formatVer:
			return fmt.Errorf("%w: rollup keyspace has version %d, this build reads %d", ErrNewerFormat, ver, formatVer)
		case ver == 0:
			why = "new rollup keyspace"
		case ver >= rowGroupsVer && ver < epochKeysVer && stored == gen:
			// Versions 2 and 3 differ in their keys (no epoch) and, for 2, in
			// the columnar groups written from version 3 on only (its
			// row-by-row groups are read as they are): the keys are rewritten.
			t0 := opts.Now()
			n, err := r.addEpochs()
			if err != nil {
				return fmt.Errorf("aggregate: cannot upgrade rollup keys: %w", err)
			}
			if err := r.pdb.Set(versionKey, []byte{formatVer}, pebble.Sync); err != nil {
				return fmt.Errorf("aggregate: cannot write rollup format version: %w", err)
			}
			r.log.Info("aggregate: rollup format upgraded in place", "from", ver, "to", formatVer,
				"groups", n, "duration", opts.Now().Sub(t0))
			return nil
		case ver < formatVer:
			why = fmt.Sprintf("rollup format %d upgraded to %d", ver, formatVer)
		case stored != gen:
			why = fmt.Sprintf("raw data changed while rollups were detached (generation %d, rows at %d)", gen, stored)
		default:
			return nil
		}
		t0 := opts.Now()
		r.log.Info("aggregate: computing rollups from raw data", "reason", why)
		if err := r.rebuildLocked(context.Background(), nil, gen); err != nil {
			return err
		}
		r.log.Info("aggregate: rollups computed from raw data", "reason", why, "duration", opts.Now().Sub(t0))
		return nil
	})
	if err != nil {
		r.m.unregister()
		return nil, err
	}
	return r, nil
}

// addEpochs rewrites the group keys of versions before epochKeysVer
// (prefix, kind, id, start, gen) with their epoch, values unchanged, and
// returns how many it rewrote. Each batch sets new keys and deletes the old
// ones it replaces, so a crash midway leaves both kinds, told apart by
// length, and the next Open finishes the work.
func (r *Rollups) addEpochs() (int, error) {
	it, err := r.pdb.NewIter(&pebble.IterOptions{LowerBound: keyspaceLo, UpperBound: keyspaceHi})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	pb := r.pdb.NewBatch()
	defer func() { pb.Close() }()
	n := 0
	var key []byte
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()
		if len(k) != oldKeyLen {
			continue // version, generation, or a key rewritten before a crash
		}
		res, ok := resOfKind(k[1])
		if !ok {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return n, err
		}
		id, start, gen := binary.BigEndian.Uint32(k[2:]), int64(binary.BigEndian.Uint64(k[6:])), binary.BigEndian.Uint64(k[14:])
		if start < 0 || start > maxStart {
			return n, &CorruptionError{Key: append([]byte(nil), k...), Err: fmt.Errorf("group start %d out of range", start)}
		}
		key = appendGroupKey(key[:0], res, id, start, gen)
		if err := pb.Set(key, v, nil); err != nil {
			return n, err
		}
		if err := pb.Delete(k, nil); err != nil {
			return n, err
		}
		n++
		if pb.Len() >= 4<<20 {
			if err := pb.Commit(pebble.Sync); err != nil {
				return n, err
			}
			pb.Close()
			pb = r.pdb.NewBatch()
		}
	}
	if err := it.Error(); err != nil {
		return n, err
	}
	return n, pb.Commit(pebble.Sync)
}

// readMarkers reads the keyspace version (0: absent) and the generation.
func (r *Rollups) readMarkers() (ver byte, gen uint64, err error) {
	v, c, err := r.pdb.Get(versionKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		return 0, 0, nil
	case err != nil:
		return 0, 0, fmt.Errorf("aggregate: cannot read rollup format version: %w", err)
	}
	if len(v) == 1 {
		ver = v[0]
	}
	c.Close()
	if ver == 0 {
		return 0, 0, fmt.Errorf("aggregate: bad rollup format version key")
	}
	v, c, err = r.pdb.Get(genKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		return ver, 0, nil
	case err != nil:
		return 0, 0, fmt.Errorf("aggregate: cannot read rollup generation: %w", err)
	}
	defer c.Close()
	if len(v) == 8 {
		gen = binary.BigEndian.Uint64(v)
	}
	return ver, gen, nil
}

func setGen(pb *pebble.Batch, gen uint64) error {
	return pb.Set(genKey, binary.BigEndian.AppendUint64(nil, gen), nil)
}

// Close detaches the rollups from the DB (flushes after it are not
// observed: the next Open notices and recomputes). It does not close the DB.
func (r *Rollups) Close() error {
	err := ErrClosed
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		err = r.db.SetRowsObserver(nil, nil)
		r.m.unregister()
	})
	return err
}

// Append stores b in the DB: tsdb.DB.Append with the same arguments and
// errors. Rollups need nothing on the write path; a row read after Append
// returns includes the samples.
func (r *Rollups) Append(ctx context.Context, b *tsdb.Batch, dup tsdb.Duplicates) error {
	if r.closed.Load() {
		return ErrClosed
	}
	return r.db.Append(ctx, b, dup)
}

// DeleteObject deletes object id in the DB (tsdb.DB.DeleteObject); its rows
// go in the same batch.
func (r *Rollups) DeleteObject(id uint32) error {
	if r.closed.Load() {
		return ErrClosed
	}
	return r.db.DeleteObject(id)
}

// DeleteRange deletes id's samples with from ≤ ts ≤ to in the DB
// (tsdb.DB.DeleteRange, retention); the rows are corrected in the same batch.
func (r *Rollups) DeleteRange(id uint32, from, to int64) error {
	if r.closed.Load() {
		return ErrClosed
	}
	return r.db.DeleteRange(id, from, to)
}
