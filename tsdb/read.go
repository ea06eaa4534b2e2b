package tsdb

import (
	"context"
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// Sample is one read sample (Latest, First, Last).
type Sample struct {
	TS    int64
	Value Value
}

// Latest returns the sample of id with the greatest timestamp ≤ before
// (bbdata-v2.md §4.3); ok is false when there is none.
func (db *DB) Latest(id uint32, before int64) (smp Sample, ok bool, err error) {
	s, err := db.series(id)
	if err != nil {
		return Sample{}, false, err
	}
	if s == nil {
		return Sample{}, false, fmt.Errorf("%w: object %d", ErrUnknownSeries, id)
	}
	if before < MinTimestamp {
		return Sample{}, false, nil
	}
	before = min(before, MaxTimestamp)
	// Candidate from the head (under the lock), then from the blocks' keys:
	// the greatest maxTs ≤ before wins outright; a block spanning before is
	// decoded.
	best := int64(math.MinInt64)
	db.lockOne(id)
	for _, c := range []*chunk{&s.head, s.frozen} {
		if c == nil {
			continue
		}
		i, found := c.search(before)
		if found {
			best = max(best, before)
		} else if i > 0 {
			best = max(best, c.ts[i-1])
		}
	}
	var pit *pebble.Iterator
	pit, err = db.pdb.NewIter(&pebble.IterOptions{LowerBound: blockPrefix(id), UpperBound: blockSeekKey(id, before+1)})
	db.unlockOne(id)
	if err != nil {
		return Sample{}, false, err
	}
	sc := getCodecScratch()
	var cols blockCols
	for pit.Last(); pit.Valid(); pit.Prev() {
		k, ok := parseBlockKey(pit.Key())
		if !ok || k.maxTs <= best {
			continue
		}
		if k.maxTs <= before {
			best = k.maxTs
			continue
		}
		v, verr := pit.ValueAndErr()
		if verr != nil {
			err = verr
			break
		}
		if derr := decodeBlock(&cols, v, s.typ, sc); derr != nil {
			err = &CorruptionError{What: "block", Key: append([]byte(nil), pit.Key()...), Err: derr}
			break
		}
		i := searchInt64s(cols.ts, before+1)
		if i > 0 {
			best = max(best, cols.ts[i-1])
		}
	}
	putCodecScratch(sc)
	if cerr := pit.Close(); err == nil {
		err = cerr
	}
	if err != nil || best == math.MinInt64 {
		return Sample{}, false, err
	}
	return db.sampleAt(id, best)
}

// sampleAt reads the winning value at exactly ts.
func (db *DB) sampleAt(id uint32, ts int64) (Sample, bool, error) {
	it, err := db.Scan(id, ts, ts)
	if err != nil {
		return Sample{}, false, err
	}
	defer it.Close()
	if it.Next() {
		return Sample{TS: it.Timestamp(), Value: it.Value()}, true, nil
	}
	return Sample{}, false, it.Err()
}

// First returns id's earliest sample.
func (db *DB) First(id uint32) (Sample, bool, error) {
	it, err := db.Scan(id, MinTimestamp, MaxTimestamp)
	if err != nil {
		return Sample{}, false, err
	}
	defer it.Close()
	if it.Next() {
		return Sample{TS: it.Timestamp(), Value: it.Value()}, true, nil
	}
	return Sample{}, false, it.Err()
}

// Last returns id's latest sample.
func (db *DB) Last(id uint32) (Sample, bool, error) { return db.Latest(id, MaxTimestamp) }

// Count returns the number of distinct samples of id (O(1), from the stats).
func (db *DB) Count(id uint32) (uint64, error) {
	st, err := db.Stats(id)
	return st.Count, err
}

// ScanMany scans the series of ids (ascending; unknown ids are skipped) with
// from ≤ ts ≤ to, calling fn with an iterator for each, in id order. The
// iterator is closed when fn returns. It stops at fn's first error or when
// ctx is done.
func (db *DB) ScanMany(ctx context.Context, ids []uint32, from, to int64, fn func(id uint32, it *Iterator) error) error {
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		it, err := db.Scan(id, from, to)
		if err != nil {
			if isUnknown(err) {
				continue
			}
			return err
		}
		err = fn(id, it)
		cerr := it.Close()
		if err != nil {
			return err
		}
		if cerr != nil {
			return cerr
		}
	}
	return nil
}
