package aggregate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/tsgate/tsgate/tsdb"
)

// readScratch is one Rows call's reusable state.
type readScratch struct {
	h     tsdb.HeadSamples
	it    *pebble.Iterator
	gen   uint64
	q     []Row
	hr    []Row   // head rows at the resolution read
	hrh   []Row   // intermediate hour rows
	dirty []int64 // window starts whose stored rows head samples may replace
	lo    []byte
	hi    []byte
	stats bool // statsOnly rows (Reader)
	row   Row  // walkGroup's scratch
}

func (sc *readScratch) close() {
	if sc.it != nil {
		_ = sc.it.Close()
		sc.it = nil
	}
}

// maxStart bounds window starts.
const maxStart = tsdb.MaxTimestamp

// Rows calls fn with the rows of resolution res of each object of ids (in
// the order given; unknown and non-numeric objects have no rows) whose
// window start is in [from, to] (ms, inclusive), ascending by window start.
// Windows without a usable value have no row. Every acknowledged write is
// included: the stored rows (flushed samples) are merged with rows folded
// from the head, and a window where the head replaces stored samples is
// recomputed from raw data. row is valid only during fn; fn's error stops
// the walk and is returned.
func (r *Rollups) Rows(ctx context.Context, ids []uint32, res Resolution, from, to int64, fn func(id uint32, row *Row) error) error {
	from, to, err := r.window(res, from, to)
	if err != nil || from > to || len(ids) == 0 {
		return err
	}
	rd := r.NewReader(false)
	defer rd.Close()
	for i, id := range ids {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := r.readObject(rd.sc, id, res, from, to, fn); err != nil {
			return err
		}
	}
	return nil
}

// window checks res and r, and narrows [from, to] to the window starts it
// holds (from > to: none).
func (r *Rollups) window(res Resolution, from, to int64) (int64, int64, error) {
	if res.Millis() == 0 {
		return 0, 0, fmt.Errorf("aggregate: invalid resolution %d", res)
	}
	if r.closed.Load() {
		return 0, 0, ErrClosed
	}
	from, to = max(from, 0), min(to, maxStart)
	if ws := res.WindowStart(from); ws < from {
		from = ws + res.Millis()
	}
	return from, to, nil
}

// Reader reads the rows of object after object with one Pebble iterator
// (reopened only when a flush or delete changed the rows meanwhile), which
// opening one per object would cost ≈ 10 µs each. Not safe for concurrent
// use; Close it.
type Reader struct {
	r  *Rollups
	sc *readScratch
}

// NewReader returns a Reader. statsOnly promises that only Count, Sum, Mean,
// M2 (and Std) of its rows are used: stored rows then skip decoding min,
// max, first and last (they are zero or meaningless).
func (r *Rollups) NewReader(statsOnly bool) *Reader {
	sc, _ := r.reads.Get().(*readScratch)
	if sc == nil {
		sc = new(readScratch)
	}
	sc.stats = statsOnly
	return &Reader{r: r, sc: sc}
}

// ObjectRows is Rollups.ObjectRows through the reader.
func (rd *Reader) ObjectRows(ctx context.Context, id uint32, res Resolution, from, to int64, fn func(row *Row) error) error {
	from, to, err := rd.r.window(res, from, to)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil || from > to {
		return err
	}
	return rd.r.readObject(rd.sc, id, res, from, to, func(_ uint32, row *Row) error { return fn(row) })
}

// Close releases the reader's iterator.
func (rd *Reader) Close() {
	if rd.sc != nil {
		rd.sc.close()
		rd.r.reads.Put(rd.sc)
		rd.sc = nil
	}
}

// ObjectRows is Rows for one object.
func (r *Rollups) ObjectRows(ctx context.Context, id uint32, res Resolution, from, to int64, fn func(row *Row) error) error {
	return r.Rows(ctx, []uint32{id}, res, from, to, func(_ uint32, row *Row) error { return fn(row) })
}

// readObject emits id's rows with start in [from, to] (from on a window
// start).
func (r *Rollups) readObject(sc *readScratch, id uint32, res Resolution, from, to int64, fn func(uint32, *Row) error) error {
	step := res.Millis()
	last := res.WindowStart(to) + step - 1 // the samples of the windows
	typ, err := r.db.ReadHead(id, from, last, &sc.h, func(gen uint64) error {
		if sc.it != nil && sc.gen == gen {
			return nil
		}
		sc.close()
		var err error
		sc.it, err = r.pdb.NewIter(&pebble.IterOptions{LowerBound: keyspaceLo, UpperBound: keyspaceHi})
		sc.gen = gen
		return err
	})
	if errors.Is(err, tsdb.ErrUnknownSeries) || errors.Is(err, tsdb.ErrWrongType) {
		return nil // no rows
	}
	if err != nil {
		return fmt.Errorf("aggregate: cannot read rollups of object %d: %w", id, err)
	}
	h := &sc.h
	// Head rows, and the windows where head samples may replace stored ones.
	sc.hr, sc.dirty = sc.hr[:0], sc.dirty[:0]
	if len(h.TS) > 0 {
		sc.q = foldQuarters(sc.q[:0], typ, h.TS, h.Nums, nil, -1)
		switch res {
		case Quarters:
			sc.hr = append(sc.hr, sc.q...)
		case Hours:
			sc.hr = coarsen(sc.hr, sc.q, Hours)
		case Days:
			sc.hrh = coarsen(sc.hrh[:0], sc.q, Hours)
			sc.hr = coarsen(sc.hr, sc.hrh, Days)
		}
		for _, ts := range h.TS {
			if ts > h.StoredMax {
				break
			}
			if w := res.WindowStart(ts); len(sc.dirty) == 0 || sc.dirty[len(sc.dirty)-1] != w {
				sc.dirty = append(sc.dirty, w)
			}
		}
	}
	m := merger{r: r, id: id, res: res, hr: sc.hr, dirty: sc.dirty, fn: fn}
	// Stored rows, merged with the head's: windows up to the stored
	// maximum, epoch by epoch.
	if stored := min(to, h.StoredMax); stored >= from {
		gLo, gHi := res.groupStart(from), res.groupStart(stored)
		it := sc.it
		emit := func(row *Row) error { // one closure per object, not per key
			if row.Start < from || row.Start > to {
				return nil
			}
			return m.stored(row)
		}
		for e, e1 := uint64(res.epochOf(gLo)), uint64(res.epochOf(gHi)); e <= e1; {
			es := res.epochStart(uint32(e))
			sc.lo = appendEpochKey(sc.lo[:0], res, uint32(e), id, max(gLo, es), 0)
			sc.hi = appendEpochKey(sc.hi[:0], res, uint32(e), id, min(gHi+1, es+res.epochSpan()), 0)
			next := e + 1
			valid := it.SeekGE(sc.lo)
			for ; valid; valid = it.Next() {
				k := it.Key()
				if string(k) >= string(sc.hi) {
					// No key lies between hi and k: the epochs before k's hold
					// no group of id.
					if ke, _, _, _, ok := parseGroupKey(k); ok && k[1] == res.kind() && uint64(ke) > next {
						next = uint64(ke)
					}
					break
				}
				_, _, gs, _, ok := parseGroupKey(k)
				if !ok {
					continue
				}
				v, err := it.ValueAndErr()
				if err != nil {
					return err
				}
				err = walkGroup(res, gs, v, sc.stats, &sc.row, emit)
				if errors.Is(err, errBadGroup) || errors.Is(err, errBadRow) {
					return &CorruptionError{Key: append([]byte(nil), k...),
						Err: fmt.Errorf("object %d, group of %s from %s: %w", id, res, fmtTs(gs), err)}
				}
				if err != nil {
					return err
				}
			}
			if err := it.Error(); err != nil {
				return err
			}
			if !valid {
				break // no key after hi at all
			}
			e = next
		}
	}
	return m.rest()
}

// merger walks stored rows and head rows of one object in window order.
// Stored rows arrive ascending, except that the fragments of one group
// (keys.go) may each hold a row of the same window, one after the other:
// those are merged before use.
type merger struct {
	r       *Rollups
	id      uint32
	res     Resolution
	hr      []Row
	dirty   []int64
	fn      func(uint32, *Row) error
	row     Row
	pend    Row
	hasPend bool
}

// stored takes the next stored row.
func (m *merger) stored(row *Row) error {
	if m.hasPend {
		if m.pend.Start == row.Start {
			m.pend.Merge(row)
			return nil
		}
		if err := m.emitPend(); err != nil {
			return err
		}
	}
	m.pend, m.hasPend = *row, true
	return nil
}

// emitPend emits the head windows before the pending stored row, then the
// row merged with the head.
func (m *merger) emitPend() error {
	m.hasPend = false
	start := m.pend.Start
	if err := m.headBefore(start); err != nil {
		return err
	}
	if m.isDirty(start) {
		return m.recompute(start)
	}
	if len(m.hr) > 0 && m.hr[0].Start == start {
		m.pend.Merge(&m.hr[0])
		m.hr = m.hr[1:]
	}
	return m.fn(m.id, &m.pend)
}

// headBefore emits the head rows and dirty windows before start.
func (m *merger) headBefore(start int64) error {
	for {
		hs, ds := int64(maxStart+1), int64(maxStart+1)
		if len(m.hr) > 0 {
			hs = m.hr[0].Start
		}
		if len(m.dirty) > 0 {
			ds = m.dirty[0]
		}
		w := min(hs, ds)
		if w >= start {
			return nil
		}
		if w == ds {
			if err := m.recompute(w); err != nil {
				return err
			}
			continue
		}
		m.row = m.hr[0]
		m.hr = m.hr[1:]
		if err := m.fn(m.id, &m.row); err != nil {
			return err
		}
	}
}

func (m *merger) isDirty(start int64) bool { return len(m.dirty) > 0 && m.dirty[0] == start }

// recompute emits window start folded from raw data (head and blocks
// merged) and drops it from the head rows and dirty windows.
func (m *merger) recompute(start int64) error {
	m.dirty = m.dirty[1:]
	if len(m.hr) > 0 && m.hr[0].Start == start {
		m.hr = m.hr[1:]
	}
	it, err := m.r.db.Scan(m.id, start, start+m.res.Millis()-1)
	if errors.Is(err, tsdb.ErrUnknownSeries) {
		return nil
	}
	if err != nil {
		return err
	}
	m.row = Row{Start: start}
	typ := it.Type()
	for it.Next() {
		v := it.Float()
		if typ == tsdb.Int {
			v = float64(it.Int())
		}
		if usable(v) {
			m.row.Add(it.Timestamp(), v)
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	m.r.m.windowRecomp.Inc()
	if m.row.Count == 0 {
		return nil
	}
	return m.fn(m.id, &m.row)
}

// rest emits the pending stored row and what is left of the head.
func (m *merger) rest() error {
	if m.hasPend {
		if err := m.emitPend(); err != nil {
			return err
		}
	}
	return m.headBefore(maxStart + 1)
}

func fmtTs(ts int64) string { return time.UnixMilli(ts).UTC().Format("2006-01-02T15:04:05.000Z") }
