package tsdb

import (
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// Iterator walks one series' samples in timestamp order, merging the head,
// the frozen head and the blocks; where several hold a timestamp the newest
// write wins (head, then frozen head, then blocks by descending sequence).
//
//	it, err := db.Scan(id, from, to)
//	...
//	defer it.Close()
//	for it.Next() { use(it.Timestamp(), it.Float()) }
//	return it.Err()
//
// Accessors are valid until the next call of Next; Bytes aliases internal
// memory. Bulk readers call NextRun instead and read a Run (a block's
// timestamps and values as slices) at a time; the two may be mixed. An
// Iterator is not safe for concurrent use and holds no lock: it reads a
// Pebble snapshot plus a copy of the head taken at Scan.
type Iterator struct {
	db       *DB
	id       uint32
	typ      ValueType
	from, to int64

	pit     *pebble.Iterator
	pending bool // pit is on a block not yet loaded
	pkey    blockKeyParts

	srcs   []*iterSource
	sc     *codecScratch
	spares []*iterSource

	cur    *iterSource
	done   *iterSource // exhausted source still backing cur; recycled on Next
	ci     int
	curTs  int64
	err    error
	closed bool

	lazy bool // blocks loaded from now on keep decimal floats undecoded (NextRun)
	run  Run
}

type iterSource struct {
	cols blockCols
	i    int
	prio uint64 // higher wins on equal timestamps
}

const (
	prioHead   = math.MaxUint64
	prioFrozen = math.MaxUint64 - 1
)

// Scan returns an iterator over id's samples with from ≤ ts ≤ to (both
// inclusive, BBData semantics). Unknown ids give ErrUnknownSeries.
func (db *DB) Scan(id uint32, from, to int64) (*Iterator, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	s, err := db.series(id)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("%w: object %d", ErrUnknownSeries, id)
	}
	it := &Iterator{db: db, id: id, typ: s.typ, from: from, to: to}
	if from > to {
		it.closed = true
		return it, nil
	}
	it.sc = getCodecScratch()
	db.lockOne(id)
	if s.deleted {
		db.unlockOne(id)
		putCodecScratch(it.sc)
		return nil, fmt.Errorf("%w: object %d", ErrUnknownSeries, id)
	}
	// Head and frozen head copied (their range only) and the Pebble snapshot
	// taken under the same lock: a flush completing now is seen either as
	// frozen head or as blocks (or both; the merge deduplicates).
	it.addChunk(&s.head, prioHead)
	if s.frozen != nil {
		it.addChunk(s.frozen, prioFrozen)
	}
	err = it.openBlocks()
	db.unlockOne(id)
	if err != nil {
		it.Close()
		return nil, err
	}
	return it, nil
}

// openBlocks opens the Pebble iterator over the blocks that may hold
// [from, to] and positions it on the first.
func (it *Iterator) openBlocks() error {
	upper := blockPrefixEnd(it.id)
	if it.to < math.MaxInt64 {
		upper = blockSeekKey(it.id, it.to+1)
	}
	var err error
	it.pit, err = it.db.pdb.NewIter(&pebble.IterOptions{LowerBound: blockPrefix(it.id), UpperBound: upper})
	if err != nil {
		return fmt.Errorf("tsdb: cannot scan object %d: %w", it.id, err)
	}
	it.pending = it.pit.First()
	it.advancePending()
	return nil
}

func (it *Iterator) newSource(prio uint64) *iterSource {
	var src *iterSource
	if n := len(it.spares); n > 0 {
		src = it.spares[n-1]
		it.spares = it.spares[:n-1]
		src.cols.reset()
	} else {
		src = new(iterSource)
	}
	src.i, src.prio = 0, prio
	return src
}

func (it *Iterator) addChunk(c *chunk, prio uint64) {
	i, _ := c.search(it.from)
	j, found := c.search(it.to)
	if found {
		j++
	}
	if i >= j {
		return
	}
	src := it.newSource(prio)
	src.cols.ts = append(src.cols.ts, c.ts[i:j]...)
	src.cols.nums = append(src.cols.nums, c.nums[i:j]...)
	if it.typ == String {
		src.cols.strs = append(src.cols.strs, c.strs...)
	}
	it.srcs = append(it.srcs, src)
}

// advancePending skips block keys entirely before from.
func (it *Iterator) advancePending() {
	for it.pending {
		k, ok := parseBlockKey(it.pit.Key())
		if ok && k.maxTs >= it.from {
			it.pkey = k
			return
		}
		it.pending = it.pit.Next()
	}
}

func (it *Iterator) loadPending() bool {
	v, err := it.pit.ValueAndErr()
	if err != nil {
		it.err = err
		return false
	}
	src := it.newSource(it.pkey.seq)
	decode := decodeBlock
	if it.lazy {
		decode = decodeBlockLazy
	}
	if err := decode(&src.cols, v, it.typ, it.sc); err != nil {
		it.err = &CorruptionError{What: "block", Key: append([]byte(nil), it.pit.Key()...),
			Err: fmt.Errorf("object %d at %s: %w", it.id, fmtTs(it.pkey.minTs), err)}
		return false
	}
	src.i = searchInt64s(src.cols.ts, it.from)
	if src.i < len(src.cols.ts) {
		it.srcs = append(it.srcs, src)
	} else {
		it.spares = append(it.spares, src)
	}
	it.pending = it.pit.Next()
	it.advancePending()
	return true
}

// Next advances to the next sample.
func (it *Iterator) Next() bool {
	if it.closed || it.err != nil {
		return false
	}
	if it.done != nil {
		it.spares = append(it.spares, it.done)
		it.done = nil
	}
	for {
		// The smallest next timestamp among loaded sources.
		minTs := int64(math.MaxInt64)
		var best *iterSource
		for _, s := range it.srcs {
			if t := s.cols.ts[s.i]; t < minTs || (t == minTs && best != nil && s.prio > best.prio) {
				minTs, best = t, s
			}
		}
		// A pending block starting at or before it must be merged first.
		if it.pending && it.pkey.minTs <= minTs {
			if !it.loadPending() {
				return false
			}
			continue
		}
		if best == nil || minTs > it.to {
			return false
		}
		it.cur, it.ci, it.curTs = best, best.i, minTs
		// Consume minTs from every source (older duplicates are hidden).
		k := 0
		for _, s := range it.srcs {
			if s.cols.ts[s.i] == minTs {
				s.i++
			}
			if s.i < len(s.cols.ts) {
				it.srcs[k] = s
				k++
			} else if s != best {
				it.spares = append(it.spares, s)
			} else {
				it.done = s
			}
		}
		for i := k; i < len(it.srcs); i++ {
			it.srcs[i] = nil
		}
		it.srcs = it.srcs[:k]
		return true
	}
}

// Timestamp returns the current sample's timestamp (ms since the epoch).
func (it *Iterator) Timestamp() int64 { return it.curTs }

// Type returns the series' value type.
func (it *Iterator) Type() ValueType { return it.typ }

// Float returns the current value of a Float series.
func (it *Iterator) Float() float64 { return math.Float64frombits(it.cur.cols.num(it.ci)) }

// Int returns the current value of an Int series.
func (it *Iterator) Int() int64 { return int64(it.cur.cols.num(it.ci)) }

// Bool returns the current value of a Bool series.
func (it *Iterator) Bool() bool { return it.cur.cols.nums[it.ci] != 0 }

// Bytes returns the current value of a String series (valid until Next).
func (it *Iterator) Bytes() []byte {
	r := it.cur.cols.nums[it.ci]
	return it.cur.cols.strs[strOff(r) : strOff(r)+strLen(r)]
}

// Value returns the current value (allocates for strings).
func (it *Iterator) Value() Value {
	v := it.cur.cols.value(it.typ, it.ci)
	if it.typ == String {
		v.str = append([]byte(nil), v.str...)
	}
	return v
}

// Decimal returns the current float as m × 10^exp, the form blocks keep, so
// it prints without a shortest-float search: AppendDecimal(dst, m, exp) gives
// the shortest round-trip text. ok is false for values without a short exact
// decimal (NaN, ±Inf, -0, ≥ 1e15, > 15 digits): print Float() with strconv.
func (it *Iterator) Decimal() (m int64, exp int16, ok bool) {
	c := &it.cur.cols
	if c.dec {
		return c.mant[it.ci], c.exp, true
	}
	return FloatToDecimal(math.Float64frombits(c.num(it.ci)))
}

// Err returns the error that stopped the iteration, if any.
func (it *Iterator) Err() error { return it.err }

// Close releases the iterator's resources.
func (it *Iterator) Close() error {
	if it.pit != nil {
		if err := it.pit.Close(); err != nil && it.err == nil {
			it.err = err
		}
		it.pit = nil
	}
	if it.sc != nil {
		putCodecScratch(it.sc)
		it.sc = nil
	}
	it.srcs, it.spares, it.cur, it.done, it.closed = nil, nil, nil, nil, true
	it.run = Run{}
	return it.err
}
