package tsdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// Stats are the per-series statistics of bbdata-v2.md §4.5 and API.md §4.
type Stats struct {
	NWrites         uint64  // every stored sample, overwrites included
	NReads          uint64  // AddReads calls (persisted in batches)
	LastTs          int64   // max timestamp ever written; meaningful when NWrites > 0
	AvgSamplePeriod float64 // ms, bbdata-v2.md §4.5
	Count           uint64  // distinct stored samples
	FirstTs         int64   // min stored timestamp; meaningful when Count > 0
}

// series is one object's in-memory state. Fields after the first block are
// guarded by the stripe lock of id (DB.stripes).
type series struct {
	id        uint32
	typ       ValueType
	createSeq uint64 // WAL records with seq ≤ createSeq belong to an earlier incarnation

	deleted bool
	head    chunk  // samples since the last flush cut, sorted, distinct
	frozen  *chunk // head being flushed; immutable; nil otherwise
	st      Stats  // NReads excluded (see reads)
	dirty   bool   // st changed since it was last persisted
	// blkMin, blkMax bound the timestamps of the object's blocks (persisted
	// with the stats at each flush; deletes only shrink the true range): a
	// late sample outside them needs no block lookup. blkMin > blkMax: none.
	blkMin, blkMax int64
	// cutBlkMax is blkMax before the running flush's cut; frozenCommitted
	// tells whether that flush's batch is applied (observer.go: ReadHead).
	cutBlkMax       int64
	frozenCommitted bool
	// Small flushed blocks since the last background merge (flush cut only).
	smallFlushes int
	smallSince   int64

	epoch     uint64 // Append scratch: batch that last touched batchMax and storedMax
	batchMax  int64  // greatest timestamp of this series seen so far in the batch
	storedMax int64  // greatest timestamp stored before the batch

	growPending bool // queued for the grower (grow.go)

	reads      atomic.Uint64
	readsDirty atomic.Bool
}

func newSeries(id uint32, t ValueType, createSeq uint64) *series {
	return &series{id: id, typ: t, createSeq: createSeq, blkMin: math.MaxInt64, blkMax: math.MinInt64, smallSince: math.MaxInt64}
}

// maxTsLocked is the largest timestamp ever written (head, frozen and
// blocks are all ≤ it): anything above is new without a lookup.
func (s *series) maxTsLocked() int64 {
	if s.st.NWrites == 0 {
		return math.MinInt64
	}
	return s.st.LastTs
}

// chunk is a sorted, duplicate-free run of samples in memory.
type chunk struct {
	ts   []int64
	nums []uint64
	strs []byte
	hint int // capacity to allocate on first put (the previous head's length)
}

const chunkSampleBytes = 16 // ts + num per sample

// tailScan is how many of a chunk's last samples search scans before it
// bisects the rest.
const tailScan = 8

func (c *chunk) len() int { return len(c.ts) }

func (c *chunk) bytes() int64 { return int64(cap(c.ts))*8 + int64(cap(c.nums))*8 + int64(cap(c.strs)) }

// search returns the index of ts in c, or where it would be inserted.
// Late samples are nearly always a few places from the end (concurrent
// requests reorder a series' samples by a batch or two), and the tail is in
// the cache: it is scanned first. A binary search over a cold head cost
// ≈ 100 ns a sample, 19 % of a server's CPU under a paced ingest (pprof).
func (c *chunk) search(ts int64) (int, bool) {
	n := len(c.ts)
	stop := max(n-tailScan, 0)
	for i := n - 1; i >= stop; i-- {
		if t := c.ts[i]; t == ts {
			return i, true
		} else if t < ts {
			return i + 1, false
		}
	}
	lo, hi := 0, stop
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.ts[m] < ts {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(c.ts) && c.ts[lo] == ts
}

// put stores a sample, overwriting an equal timestamp. It returns whether ts
// was already in c.
func (c *chunk) put(ts int64, num uint64, str []byte, isStr bool) bool {
	if isStr {
		off := len(c.strs)
		c.strs = append(c.strs, str...)
		num = strRef(off, len(str))
	}
	if c.ts == nil && c.hint > 0 {
		c.ts, c.nums = make([]int64, 0, c.hint), make([]uint64, 0, c.hint)
	}
	if n := len(c.ts); n == 0 || c.ts[n-1] < ts {
		c.ts = append(c.ts, ts)
		c.nums = append(c.nums, num)
		return false
	}
	i, found := c.search(ts)
	c.putAt(i, found, ts, num)
	return found
}

// putAt stores a sample at i, where search put it (found: overwrite).
func (c *chunk) putAt(i int, found bool, ts int64, num uint64) {
	if found {
		c.nums[i] = num
		return
	}
	c.ts = append(c.ts, 0)
	c.nums = append(c.nums, 0)
	copy(c.ts[i+1:], c.ts[i:])
	copy(c.nums[i+1:], c.nums[i:])
	c.ts[i], c.nums[i] = ts, num
}

// removeRange deletes samples in [from, to] and returns how many.
func (c *chunk) removeRange(from, to int64) int {
	i, _ := c.search(from)
	j := i
	for j < len(c.ts) && c.ts[j] <= to {
		j++
	}
	if j == i {
		return 0
	}
	c.ts = append(c.ts[:i], c.ts[j:]...)
	c.nums = append(c.nums[:i], c.nums[j:]...)
	return j - i
}

func (c *chunk) cols() blockCols { return blockCols{ts: c.ts, nums: c.nums, strs: c.strs} }

// Series value (s | id | 0x00): version u8 (=1) | value type u8 | createSeq uvarint.
const seriesVersion = 1

func encodeSeries(t ValueType, createSeq uint64) []byte {
	b := []byte{seriesVersion, byte(t)}
	return binary.AppendUvarint(b, createSeq)
}

func decodeSeries(v []byte) (ValueType, uint64, error) {
	if len(v) < 3 || v[0] != seriesVersion || !ValueType(v[1]).valid() {
		return 0, 0, errors.New("bad series value")
	}
	seq, n := binary.Uvarint(v[2:])
	if n <= 0 || n != len(v)-2 {
		return 0, 0, errors.New("bad series value")
	}
	return ValueType(v[1]), seq, nil
}

// Stats value (s | id | 0x01): version u8 (=1) | nWrites uvarint | lastTs
// varint | avgSamplePeriod f64 LE | count uvarint | firstTs varint |
// blkMin varint | blkMax varint.
const statsVersion = 1

func encodeStats(st Stats, blkMin, blkMax int64) []byte {
	b := make([]byte, 0, 48)
	b = append(b, statsVersion)
	b = binary.AppendUvarint(b, st.NWrites)
	b = binary.AppendVarint(b, st.LastTs)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(st.AvgSamplePeriod))
	b = binary.AppendUvarint(b, st.Count)
	b = binary.AppendVarint(b, st.FirstTs)
	b = binary.AppendVarint(b, blkMin)
	return binary.AppendVarint(b, blkMax)
}

func decodeStats(v []byte) (st Stats, blkMin, blkMax int64, err error) {
	st, blkMin, blkMax, err = decodeStats1(v)
	if err != nil {
		return Stats{}, math.MaxInt64, math.MinInt64, err
	}
	return st, blkMin, blkMax, nil
}

func decodeStats1(v []byte) (st Stats, blkMin, blkMax int64, err error) {
	if len(v) < 1 || v[0] != statsVersion {
		return st, 0, 0, errors.New("bad stats version")
	}
	p := v[1:]
	var n int
	if st.NWrites, n = binary.Uvarint(p); n <= 0 {
		return st, 0, 0, errBlockShort
	}
	p = p[n:]
	if st.LastTs, n = binary.Varint(p); n <= 0 {
		return st, 0, 0, errBlockShort
	}
	p = p[n:]
	if len(p) < 8 {
		return st, 0, 0, errBlockShort
	}
	st.AvgSamplePeriod = math.Float64frombits(binary.LittleEndian.Uint64(p))
	p = p[8:]
	if st.Count, n = binary.Uvarint(p); n <= 0 {
		return st, 0, 0, errBlockShort
	}
	p = p[n:]
	if st.FirstTs, n = binary.Varint(p); n <= 0 {
		return st, 0, 0, errBlockShort
	}
	p = p[n:]
	if blkMin, n = binary.Varint(p); n <= 0 {
		return st, 0, 0, errBlockShort
	}
	p = p[n:]
	if blkMax, n = binary.Varint(p); n <= 0 || n != len(p) {
		return st, 0, 0, errBlockShort
	}
	return st, blkMin, blkMax, nil
}

// seriesTable maps ids to series: a slice for the dense ids of DESIGN.md §3,
// a map beyond.
type seriesTable struct {
	mu     sync.RWMutex
	dense  []*series
	sparse map[uint32]*series
}

const denseLimit = 1 << 24

func (t *seriesTable) getLocked(id uint32) *series {
	if id < uint32(len(t.dense)) {
		return t.dense[id]
	}
	if id >= denseLimit {
		return t.sparse[id]
	}
	return nil
}

func (t *seriesTable) get(id uint32) *series {
	t.mu.RLock()
	s := t.getLocked(id)
	t.mu.RUnlock()
	return s
}

// putLocked inserts s unless the id is taken; it returns the series in the table.
func (t *seriesTable) putLocked(s *series) *series {
	if old := t.getLocked(s.id); old != nil {
		return old
	}
	if s.id >= denseLimit {
		if t.sparse == nil {
			t.sparse = make(map[uint32]*series)
		}
		t.sparse[s.id] = s
		return s
	}
	if int(s.id) >= len(t.dense) {
		n := max(int(s.id)+1, 2*len(t.dense), 1024)
		n = min(n, denseLimit)
		d := make([]*series, n)
		copy(d, t.dense)
		t.dense = d
	}
	t.dense[s.id] = s
	return s
}

func (t *seriesTable) removeLocked(id uint32) {
	if id < uint32(len(t.dense)) {
		t.dense[id] = nil
	} else {
		delete(t.sparse, id)
	}
}

// forEachLocked calls fn for every series in id order (dense ids first, then
// the sparse map in no particular order).
func (t *seriesTable) forEachLocked(fn func(*series)) {
	for _, s := range t.dense {
		if s != nil {
			fn(s)
		}
	}
	for _, s := range t.sparse {
		fn(s)
	}
}

// CreateSeries writes the series of object id with value type t into the
// caller's batch b, so the api layer commits it with the catalog object:
// nothing changes in memory, and a batch that is never committed leaves no
// trace (the series table fills lazily from Pebble on first use). b may be
// indexed or not. It fails with ErrSeriesExists when id already has a series.
func (db *DB) CreateSeries(b *pebble.Batch, id uint32, t ValueType) error {
	if !t.valid() {
		return fmt.Errorf("tsdb: cannot create series %d: invalid value type %d", id, t)
	}
	if db.closed.Load() {
		return ErrClosed
	}
	if s := db.tab.get(id); s != nil {
		return fmt.Errorf("%w: object %d", ErrSeriesExists, id)
	}
	_, c, err := db.pdb.Get(seriesKey(id, seriesKindType))
	if err == nil {
		c.Close()
		return fmt.Errorf("%w: object %d", ErrSeriesExists, id)
	}
	if !errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("tsdb: cannot read series %d: %w", id, err)
	}
	db.dirtyMem.Store(true) // the caller commits b
	return b.Set(seriesKey(id, seriesKindType), encodeSeries(t, db.seq.Load()), nil)
}

// CreateSeriesNow creates a series in its own batch, committed with Sync
// (tests and tools; the api layer uses CreateSeries).
func (db *DB) CreateSeriesNow(id uint32, t ValueType) error {
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := db.CreateSeries(b, id, t); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("tsdb: cannot create series %d: %w", id, err)
	}
	return nil
}

// loadSeries reads series id from Pebble (nil when there is none).
func (db *DB) loadSeries(id uint32) (*series, error) {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: seriesPrefix(id), UpperBound: seriesPrefixEnd(id)})
	if err != nil {
		return nil, fmt.Errorf("tsdb: cannot read series %d: %w", id, err)
	}
	defer it.Close()
	return loadSeriesAt(it, id)
}

// loadSeriesAt reads series id with it, an iterator over (at least) its
// keys: one seek for the type, stats and reads keys, which sort together.
func loadSeriesAt(it *pebble.Iterator, id uint32) (*series, error) {
	pfx := seriesPrefix(id)
	var s *series
	for ok := it.SeekGE(pfx); ok && bytes.HasPrefix(it.Key(), pfx); ok = it.Next() {
		k := it.Key()
		if len(k) != 6 {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, fmt.Errorf("tsdb: cannot read series %d: %w", id, err)
		}
		switch k[5] {
		case seriesKindType:
			t, cs, derr := decodeSeries(v)
			if derr != nil {
				return nil, &CorruptionError{What: "series", Key: seriesKey(id, seriesKindType), Err: derr}
			}
			s = newSeries(id, t, cs)
		case seriesKindStats:
			if s == nil {
				return nil, nil
			}
			st, bmin, bmax, derr := decodeStats(v)
			if derr != nil {
				return nil, &CorruptionError{What: "stats", Key: seriesKey(id, seriesKindStats), Err: derr}
			}
			s.st, s.blkMin, s.blkMax = st, bmin, bmax
		case seriesKindReads:
			if s == nil {
				return nil, nil
			}
			if r, n := binary.Uvarint(v); n > 0 {
				s.reads.Store(r)
			}
		}
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("tsdb: cannot read series %d: %w", id, err)
	}
	return s, nil
}

// publish puts a loaded series in the table and returns the one there (a
// concurrent load may have won).
func (db *DB) publish(s *series) *series {
	// Read before publishing: once in the table, s belongs to its stripe
	// lock (an Append may already be counting into it).
	count := int64(s.st.Count)
	db.tab.mu.Lock()
	s2 := db.tab.putLocked(s)
	db.tab.mu.Unlock()
	if s2 == s {
		db.totalSamples.Add(count)
	}
	return s2
}

// loadMissing fills the nil entries of sers (the series of ids) from
// Pebble with one iterator, in id order: a batch naming thousands of series
// not used since Open paid three point lookups each (the first requests
// after objects were created: 40–70 ms, bench/RESULTS.md `## ingest`).
// Entries of unknown series stay nil.
func (db *DB) loadMissing(ids []uint32, sers []*series, scratch []uint32) ([]uint32, error) {
	miss := scratch[:0]
	for i, s := range sers {
		if s == nil {
			miss = append(miss, ids[i])
		}
	}
	slices.Sort(miss)
	miss = slices.Compact(miss)
	// One loader at a time: concurrent first requests name the same series,
	// and each would load all of them (the work ×connections, at start).
	db.loadMu.Lock()
	defer db.loadMu.Unlock()
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: seriesPrefix(miss[0]), UpperBound: seriesPrefixEnd(miss[len(miss)-1])})
	if err != nil {
		return miss, fmt.Errorf("tsdb: cannot read series: %w", err)
	}
	defer it.Close()
	loaded := make(map[uint32]*series, len(miss))
	for _, id := range miss {
		if s := db.tab.get(id); s != nil {
			loaded[id] = s
			continue
		}
		s, err := loadSeriesAt(it, id)
		if err != nil {
			return miss, err
		}
		if s != nil {
			loaded[id] = db.publish(s)
		}
	}
	for i, s := range sers {
		if s == nil {
			sers[i] = loaded[ids[i]]
		}
	}
	return miss, nil
}

// series returns the series of id, loading it from Pebble on first use.
func (db *DB) series(id uint32) (*series, error) {
	if s := db.tab.get(id); s != nil {
		return s, nil
	}
	s, err := db.loadSeries(id)
	if err != nil || s == nil {
		return nil, err
	}
	return db.publish(s), nil
}

// loadAllSeries fills the table at Open (one scan of the 's' prefix).
func (db *DB) loadAllSeries() error {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixSeries}, UpperBound: []byte{prefixSeries + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	var cur *series
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != 6 {
			continue
		}
		id := binary.BigEndian.Uint32(k[1:])
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		switch k[5] {
		case seriesKindType:
			t, cs, derr := decodeSeries(v)
			if derr != nil {
				return &CorruptionError{What: "series", Key: append([]byte(nil), k...), Err: derr}
			}
			cur = newSeries(id, t, cs)
			db.tab.putLocked(cur)
		case seriesKindStats:
			if cur == nil || cur.id != id {
				continue // stats without a series: left by nothing we write; ignore
			}
			st, bmin, bmax, derr := decodeStats(v)
			if derr != nil {
				return &CorruptionError{What: "stats", Key: append([]byte(nil), k...), Err: derr}
			}
			cur.st, cur.blkMin, cur.blkMax = st, bmin, bmax
			db.totalSamples.Add(int64(st.Count))
		case seriesKindReads:
			if cur != nil && cur.id == id {
				if r, n := binary.Uvarint(v); n > 0 {
					cur.reads.Store(r)
				}
			}
		}
	}
	return it.Error()
}

// SeriesType returns the value type of id's series, or ErrUnknownSeries.
func (db *DB) SeriesType(id uint32) (ValueType, error) {
	s, err := db.series(id)
	if err != nil {
		return 0, err
	}
	if s == nil {
		return 0, fmt.Errorf("%w: object %d", ErrUnknownSeries, id)
	}
	return s.typ, nil
}

// Stats returns the statistics of id's series.
func (db *DB) Stats(id uint32) (Stats, error) {
	s, err := db.series(id)
	if err != nil {
		return Stats{}, err
	}
	if s == nil {
		return Stats{}, fmt.Errorf("%w: object %d", ErrUnknownSeries, id)
	}
	db.lockOne(id)
	st, deleted := s.st, s.deleted
	db.unlockOne(id)
	if deleted {
		return Stats{}, fmt.Errorf("%w: object %d", ErrUnknownSeries, id)
	}
	st.NReads = s.reads.Load()
	return st, nil
}

// AddReads adds n to the read counter of id (persisted with the next flush
// and at Close: a crash may lose the reads since, API.md §4 allows it).
func (db *DB) AddReads(id uint32, n uint64) error {
	s, err := db.series(id)
	if err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("%w: object %d", ErrUnknownSeries, id)
	}
	s.reads.Add(n)
	s.readsDirty.Store(true)
	return nil
}

// ForEachSeries calls fn for every series in id order (ids ≥ 2^24 last) until
// it returns false. The table is read-locked during the walk: fn must not
// call back into the DB for long.
func (db *DB) ForEachSeries(fn func(id uint32, t ValueType) bool) {
	type it struct {
		id uint32
		t  ValueType
	}
	db.tab.mu.RLock()
	list := make([]it, 0, 1024)
	db.tab.forEachLocked(func(s *series) { list = append(list, it{s.id, s.typ}) })
	db.tab.mu.RUnlock()
	for _, x := range list {
		if !fn(x.id, x.t) {
			return
		}
	}
}
