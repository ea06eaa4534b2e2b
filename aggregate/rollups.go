package aggregate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

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

// noWindow marks an object state without an open window (far below any
// timestamp, far enough from MinInt64 that window arithmetic cannot overflow).
const noWindow = math.MinInt64 / 2

// objState is one numeric object's in-memory rollup state. Guarded by
// Rollups.mu.
type objState struct {
	// Hot fields first: one cache line per in-order sample, plus the quarter.
	id     uint32
	seenOK bool
	dirty  bool     // open windows changed since the last checkpoint
	maxTs  int64    // greatest timestamp observed (or read from tsdb at load); noWindow: none
	hour   int64    // open hour start; noWindow: none
	day    int64    // open day start (= dayStart(hour)); noWindow: none
	seen   []uint32 // see below
	q      hourAcc  // quarters of the open hour
	dayAcc Row      // closed hours of the open day
	// hrs holds the closed hour rows of the open day (allocated at the first
	// close), so a late sample in one of them rescans only that hour.
	hrs *[24]Row
	// seen lists, as offsets from hour, the timestamps counted in the open
	// hour (sorted; every counted sample is in it) when seenOK: a sample at
	// or before maxTs but not in it is new and is folded in without a rescan
	// (concurrent writers, shuffled batches). Bounded by maxSeen.
}

// Rollups maintains the rollup rows of every numeric object of a tsdb.DB,
// in the DB's Pebble instance under the 'r' prefix.
//
// All methods are safe for concurrent use. Close must be called once, after
// every other call has returned, and before the DB is closed.
type Rollups struct {
	db   *tsdb.DB
	pdb  *pebble.DB
	opts Options
	log  *slog.Logger
	m    *rollupMetrics

	mu struct {
		sync.Mutex
		dense    []*objState // by id, for ids < denseLimit
		sparse   map[uint32]*objState
		dirty    []*objState // states with dirty set
		pending  *pebble.Batch
		nextSeq  uint64                   // next intent sequence
		inflight map[uint64]chan struct{} // intent seq → closed when its Append is observed
		sinceCk  int
		ckCut    uint64 // intents below it are deleted
		closed   bool

		// scratch
		runs  []byte
		lates []late
		days  map[stDay]struct{}
		hours [24]hourAcc
		buf   []byte
	}
	// commitMu orders commits of pending batches: it is taken while mu is
	// held (never the other way round) and released after the commit, so
	// batches reach Pebble in the order they were filled.
	commitMu sync.Mutex
	broken   atomic.Pointer[error] // a commit failed: rows may lag until a restart recovers
	closed   atomic.Bool
	nObjects atomic.Int64

	ckCh      chan struct{}
	quit      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

type late struct {
	st *objState
	ts int64
}

type stDay struct {
	st  *objState
	day int64
}

const denseLimit = 1 << 24

var intentBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Open attaches rollups to db. It recovers after a crash (the days named by
// the intents left in Pebble are recomputed from raw data) and, on a store
// whose rollup keyspace is new, computes every row from raw data (Rebuild),
// so the rows always equal a recomputation. It starts one background
// goroutine (checkpoints) that Close stops.
func Open(db *tsdb.DB, opts Options) (*Rollups, error) {
	opts = opts.withDefaults()
	r := &Rollups{db: db, pdb: db.Pebble(), opts: opts, log: opts.Logger,
		ckCh: make(chan struct{}, 1), quit: make(chan struct{})}
	r.mu.sparse = make(map[uint32]*objState)
	r.mu.inflight = make(map[uint64]chan struct{})
	r.mu.days = make(map[stDay]struct{})
	r.mu.pending = r.pdb.NewBatch()
	r.m = newRollupMetrics(r, opts.Metrics)
	fail := func(err error) (*Rollups, error) {
		r.m.unregister()
		r.mu.pending.Close()
		return nil, err
	}
	v, c, err := r.pdb.Get(versionKey)
	fresh := false
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		fresh = true
	case err != nil:
		return fail(fmt.Errorf("aggregate: cannot read rollup format version: %w", err))
	default:
		ver := byte(0)
		if len(v) == 1 {
			ver = v[0]
		}
		c.Close()
		if ver == 0 || ver > formatVer {
			return fail(fmt.Errorf("%w: rollup keyspace has version %d, this build reads %d", ErrNewerFormat, ver, formatVer))
		}
	}
	if err := r.loadNextSeq(); err != nil {
		return fail(err)
	}
	if fresh {
		t0 := opts.Now()
		if err := r.rebuild(context.Background(), nil, false); err != nil {
			return fail(err)
		}
		if err := r.pdb.Set(versionKey, []byte{formatVer}, pebble.Sync); err != nil {
			return fail(fmt.Errorf("aggregate: cannot write rollup format version: %w", err))
		}
		r.log.Info("aggregate: rollups computed from raw data (new keyspace)", "duration", opts.Now().Sub(t0))
	} else {
		if err := r.recover(); err != nil {
			return fail(err)
		}
	}
	r.wg.Add(1)
	go r.checkpointLoop()
	return r, nil
}

// loadNextSeq continues intent sequences after the largest one left.
func (r *Rollups) loadNextSeq() error {
	it, err := r.pdb.NewIter(&pebble.IterOptions{LowerBound: intentLo, UpperBound: intentHi})
	if err != nil {
		return err
	}
	defer it.Close()
	r.mu.nextSeq = 1
	if it.Last() {
		if k := it.Key(); len(k) == 10 {
			r.mu.nextSeq = beUint64(k[2:]) + 1
		}
	}
	return it.Error()
}

func beUint64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[7]) | uint64(b[6])<<8 | uint64(b[5])<<16 | uint64(b[4])<<24 |
		uint64(b[3])<<32 | uint64(b[2])<<40 | uint64(b[1])<<48 | uint64(b[0])<<56
}

// Close commits every object's open windows (a checkpoint, synced), so the
// next Open has nothing to recover, and stops the background goroutine. It
// does not close the DB.
func (r *Rollups) Close() error {
	err := ErrClosed
	r.closeOnce.Do(func() {
		close(r.quit)
		r.wg.Wait()
		err = r.checkpoint(pebble.Sync)
		r.mu.Lock()
		r.mu.closed = true
		r.closed.Store(true)
		r.mu.pending.Close()
		r.mu.Unlock()
		r.m.unregister()
	})
	return err
}

// stateLocked returns id's state or nil.
func (r *Rollups) stateLocked(id uint32) *objState {
	if id < denseLimit {
		if int(id) < len(r.mu.dense) {
			return r.mu.dense[id]
		}
		return nil
	}
	return r.mu.sparse[id]
}

func (r *Rollups) putStateLocked(st *objState) {
	id := st.id
	if id < denseLimit {
		if int(id) >= len(r.mu.dense) {
			n := max(int(id)+1, 2*len(r.mu.dense), 1024)
			n = min(n, denseLimit)
			d := make([]*objState, n)
			copy(d, r.mu.dense)
			r.mu.dense = d
		}
		r.mu.dense[id] = st
	} else {
		r.mu.sparse[id] = st
	}
	r.nObjects.Add(1)
}

func (r *Rollups) dropStateLocked(id uint32) {
	st := r.stateLocked(id)
	if st == nil {
		return
	}
	if id < denseLimit {
		r.mu.dense[id] = nil
	} else {
		delete(r.mu.sparse, id)
	}
	st.dirty = false // the dirty list skips it: it is no longer in the table
	r.nObjects.Add(-1)
}

func (r *Rollups) markDirtyLocked(st *objState) {
	if !st.dirty {
		st.dirty = true
		r.mu.dirty = append(r.mu.dirty, st)
	}
}

// takePendingLocked swaps out the pending batch and takes commitMu; the
// caller releases mu and then calls commitTaken (which releases commitMu).
// The returned batch is nil when nothing is pending.
func (r *Rollups) takePendingLocked() *pebble.Batch {
	r.commitMu.Lock()
	if r.mu.pending.Empty() {
		return nil
	}
	b := r.mu.pending
	r.mu.pending = r.pdb.NewBatch()
	return b
}

func (r *Rollups) commitTaken(b *pebble.Batch, opt *pebble.WriteOptions) error {
	defer r.commitMu.Unlock()
	if b == nil {
		return r.brokenErr()
	}
	defer b.Close()
	if err := b.Commit(opt); err != nil {
		err = fmt.Errorf("aggregate: cannot commit rollup rows: %w", err)
		r.broken.CompareAndSwap(nil, &err)
		return err
	}
	r.m.commits.Inc()
	return nil
}

func (r *Rollups) brokenErr() error {
	if p := r.broken.Load(); p != nil {
		return *p
	}
	return nil
}

// checkpointLoop runs checkpoints every CheckpointInterval and when enough
// intents have accumulated, until Close.
func (r *Rollups) checkpointLoop() {
	defer r.wg.Done()
	t := time.NewTicker(r.opts.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-r.quit:
			return
		case <-t.C:
		case <-r.ckCh:
		}
		if err := r.checkpoint(pebble.NoSync); err != nil && !errors.Is(err, ErrClosed) {
			r.log.Error("aggregate: checkpoint failed", "err", err)
		}
	}
}

// checkpoint writes every dirty object's open hour and day records and
// deletes the intents of the Appends already observed, in one batch: after
// it, recovery has nothing to do for them.
func (r *Rollups) checkpoint(opt *pebble.WriteOptions) error {
	r.mu.Lock()
	if r.mu.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	for _, st := range r.mu.dirty {
		if !st.dirty {
			continue
		}
		st.dirty = false
		r.writeOpenLocked(st)
	}
	clear(r.mu.dirty)
	r.mu.dirty = r.mu.dirty[:0]
	cut := r.mu.nextSeq
	for s := range r.mu.inflight {
		cut = min(cut, s)
	}
	if r.brokenErr() == nil && cut > r.mu.ckCut {
		_ = r.mu.pending.DeleteRange(intentKey(r.mu.ckCut), intentKey(cut), nil)
		r.mu.ckCut = cut
	}
	r.mu.sinceCk = 0
	b := r.takePendingLocked()
	r.mu.Unlock()
	if err := r.commitTaken(b, opt); err != nil {
		return err
	}
	r.m.checkpoints.Inc()
	return nil
}

// writeOpenLocked puts the open hour record and the open day record of st
// (partial windows) into the pending batch.
func (r *Rollups) writeOpenLocked(st *objState) {
	if st.hour == noWindow {
		return
	}
	r.putHourLocked(st.id, st.hour, &st.q)
	d := st.dayAcc
	hr := st.q.row(st.hour)
	d.Start = st.day
	d.Merge(&hr)
	r.putDayLocked(st.id, st.day, &d)
}

// putHourLocked writes (or deletes, when empty) an hour record.
func (r *Rollups) putHourLocked(id uint32, hour int64, q *hourAcc) {
	key := recKey(id, recHour, hour)
	if q.empty() {
		_ = r.mu.pending.Delete(key, nil)
		return
	}
	r.mu.buf = appendHourRecord(r.mu.buf[:0], hour, q)
	_ = r.mu.pending.Set(key, r.mu.buf, nil)
	n := 1
	for i := range q {
		if q[i].Count > 0 {
			n++
		}
	}
	r.m.rows.Add(n)
}

// putDayLocked writes (or deletes, when empty) a day record.
func (r *Rollups) putDayLocked(id uint32, day int64, row *Row) {
	key := recKey(id, recDay, day)
	if row.Count == 0 {
		_ = r.mu.pending.Delete(key, nil)
		return
	}
	r.mu.buf = appendDayRecord(r.mu.buf[:0], row)
	_ = r.mu.pending.Set(key, r.mu.buf, nil)
	r.m.rows.Inc()
}
