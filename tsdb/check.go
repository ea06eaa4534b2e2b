package tsdb

import (
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// CheckReport summarises Check: what was walked and every problem found.
type CheckReport struct {
	Series     int
	Blocks     int
	Samples    int64
	BlockBytes int64
	WALRecords int
	// Problems names each damaged thing: the object and time range of a block, the sequence
	// of a WAL record.
	Problems []string
}

// Check walks every block and WAL record of the store, verifies their checksums and decodes
// them (the same decoders reads use, fuzzed: damaged bytes are an error, never a panic), and
// checks that a block's samples lie in the time range its key promises, in order. It reads
// only; progress, when set, is called with the blocks done so far.
func (db *DB) Check(ctx context.Context, progress func(blocks int)) (CheckReport, error) {
	var r CheckReport
	db.ForEachSeries(func(uint32, ValueType) bool { r.Series++; return true })
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: blockStart, UpperBound: blockEnd})
	if err != nil {
		return r, err
	}
	var cols blockCols
	sc := getCodecScratch()
	defer putCodecScratch(sc)
	for it.First(); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			it.Close()
			return r, err
		}
		r.Blocks++
		if progress != nil && r.Blocks%1000 == 0 {
			progress(r.Blocks)
		}
		k := it.Key()
		parts, ok := parseBlockKey(k)
		if !ok {
			r.Problems = append(r.Problems, fmt.Sprintf("malformed block key %x", k))
			continue
		}
		where := fmt.Sprintf("block of object %d from %s to %s", parts.id, fmtCheckTs(parts.minTs), fmtCheckTs(parts.maxTs))
		typ, err := db.SeriesType(parts.id)
		if err != nil {
			r.Problems = append(r.Problems, where+": no series for it")
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: cannot read: %v", where, err))
			continue
		}
		r.BlockBytes += int64(len(k) + len(v))
		if err := decodeBlock(&cols, v, typ, sc); err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		r.Samples += int64(len(cols.ts))
		for i, ts := range cols.ts {
			if ts < parts.minTs || ts > parts.maxTs || (i > 0 && ts <= cols.ts[i-1]) {
				r.Problems = append(r.Problems, fmt.Sprintf("%s: sample %d at %s is out of order or outside the key's range", where, i, fmtCheckTs(ts)))
				break
			}
		}
	}
	if err := it.Close(); err != nil {
		return r, err
	}
	wit, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: walStart, UpperBound: walEnd})
	if err != nil {
		return r, err
	}
	defer wit.Close()
	var b Batch
	for wit.First(); wit.Valid(); wit.Next() {
		r.WALRecords++
		v, err := wit.ValueAndErr()
		if err == nil {
			b.Reset()
			_, _, err = decodeWALRecord(v, &b)
		}
		if err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("WAL record %x: %v", wit.Key(), err))
		}
	}
	return r, nil
}

func fmtCheckTs(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z") }
