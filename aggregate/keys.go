package aggregate

import (
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"
)

// Keys under the 'r' prefix (docs/format/aggregate.md):
//
//	r v                                     keyspace format version
//	r g                                     raw-data generation the rows reflect (tsdb.DB.RawGeneration)
//	r q epoch(BE u32) id(BE u32) start(BE u64) gen(BE u64)  quarter group: quarters of 6 hours (UTC)
//	r h epoch id start gen                  hour group: hours of one UTC day
//	r d epoch id start gen                  day group: one UTC day's row
//
// The epoch (start / epochSpan) comes before the object: a flush's groups of
// in-order data fall in the newest epochs, whose sstables (one a part,
// TablePart) Pebble places straight in the bottom level when the epoch is
// new; with the object first every flush's table overlapped the whole
// rollup history and each compaction of it rewrote that history
// (decision 0016). Reads seek once per populated epoch of an object.
//
// A group may be in several fragments (gen: the raw-data generation that
// wrote it): a flush writes the rows of its new samples as a new fragment
// instead of reading and rewriting the stored group; readers merge the rows
// of equal windows (Chan). Fragments of one group hold disjoint samples.
const (
	prefix       = 'r'
	kindVersion  = 'v'
	kindGen      = 'g'
	formatVer    = 4 // 4: epochs in group keys; 3: columnar groups (groupcol.go) besides row-by-row ones
	epochKeysVer = 4 // the first version with epochs in group keys
	rowGroupsVer = 2 // the last version whose groups are all row by row
	groupVer     = 1
	groupKeyLen  = 2 + 4 + 4 + 8 + 8
	oldKeyLen    = 2 + 4 + 8 + 8 // group keys before epochKeysVer
	partLen      = 2 + 4         // prefix, kind, epoch: a flush's table part (TablePart)
)

var (
	versionKey = []byte{prefix, kindVersion}
	genKey     = []byte{prefix, kindGen}
	keyspaceLo = []byte{prefix}
	keyspaceHi = []byte{prefix + 1}
)

// kind is the key byte of a resolution's groups.
func (r Resolution) kind() byte {
	switch r {
	case Quarters:
		return 'q'
	case Hours:
		return 'h'
	}
	return 'd'
}

// resOfKind is the resolution whose groups have key byte k.
func resOfKind(k byte) (Resolution, bool) {
	switch k {
	case 'q':
		return Quarters, true
	case 'h':
		return Hours, true
	case 'd':
		return Days, true
	}
	return 0, false
}

// groupSpan is the time one group of res covers; it divides a UTC day, so
// a day's rows are whole groups. Small groups keep what a flush rewrites
// small: the group holding the previous flush's last window is read and
// written again.
func (r Resolution) groupSpan() int64 {
	if r == Quarters {
		return 6 * hourMs
	}
	return dayMs
}

// epochSpan is the time one epoch of res covers, a multiple of groupSpan.
// Shorter epochs keep what a compaction rewrites small (it rewrites the
// epochs a flush overlaps); longer ones keep reads of many objects over long
// ranges to few seeks (one per object and epoch): quarters, the bulk of the
// bytes, get one group an epoch; a month of hourly rows of 1000 objects is
// ≈ 5000 seeks with weeks.
func (r Resolution) epochSpan() int64 {
	switch r {
	case Quarters:
		return 6 * hourMs
	case Hours:
		return 7 * dayMs
	}
	return 64 * dayMs
}

// epochOf is the epoch of the group starting at start (≥ 0).
func (r Resolution) epochOf(start int64) uint32 { return uint32(start / r.epochSpan()) }

// epochStart is the first millisecond of epoch e.
func (r Resolution) epochStart(e uint32) int64 { return int64(e) * r.epochSpan() }

// slots is the number of rows of a group of res.
func (r Resolution) slots() int { return int(r.groupSpan() / r.Millis()) }

// groupStart is the start of the group of res holding the window of ts.
func (r Resolution) groupStart(ts int64) int64 { return floorTo(ts, r.groupSpan()) }

// appendEpochKey appends the key (res, e, id, start, gen); start need not
// lie in epoch e (range bounds).
func appendEpochKey(dst []byte, res Resolution, e, id uint32, start int64, gen uint64) []byte {
	dst = append(dst, prefix, res.kind())
	dst = binary.BigEndian.AppendUint32(dst, e)
	dst = binary.BigEndian.AppendUint32(dst, id)
	dst = binary.BigEndian.AppendUint64(dst, uint64(start))
	return binary.BigEndian.AppendUint64(dst, gen)
}

func appendGroupKey(dst []byte, res Resolution, id uint32, start int64, gen uint64) []byte {
	return appendEpochKey(dst, res, res.epochOf(start), id, start, gen)
}

// groupKey is a fragment's key; gen 0 bounds every fragment of start from
// below.
func groupKey(res Resolution, id uint32, start int64, gen uint64) []byte {
	return appendGroupKey(make([]byte, 0, groupKeyLen), res, id, start, gen)
}

// parseGroupKey reads a group fragment's key.
func parseGroupKey(k []byte) (e, id uint32, start int64, gen uint64, ok bool) {
	if len(k) != groupKeyLen || k[0] != prefix {
		return 0, 0, 0, 0, false
	}
	return binary.BigEndian.Uint32(k[2:]), binary.BigEndian.Uint32(k[6:]), int64(binary.BigEndian.Uint64(k[10:])), binary.BigEndian.Uint64(k[18:]), true
}

// TablePart implements tsdb.TablePartitioner: a flush writes one sstable
// per resolution and epoch of its groups.
func (r *Rollups) TablePart(key []byte) int {
	if len(key) >= partLen && key[0] == prefix {
		if _, ok := resOfKind(key[1]); ok {
			return partLen
		}
	}
	if len(key) >= 2 && key[0] == prefix {
		return 2
	}
	return 1
}

// maxDirectEpochs is the most epochs a range deletion covers one by one
// without looking which of them hold groups.
const maxDirectEpochs = 8

// deleteGroups deletes in pb every group fragment of id at res whose start
// is in [from, to): one range deletion per epoch of the span that may hold
// some (all of them for short spans, else the populated ones, found with
// one seek each).
func (r *Rollups) deleteGroups(pb *pebble.Batch, res Resolution, id uint32, from, to int64) error {
	from, to = max(from, 0), min(to, maxStart+1)
	if from >= to {
		return nil
	}
	e0, e1 := res.epochOf(from), res.epochOf(to-1)
	del := func(e uint32) error {
		lo := appendEpochKey(nil, res, e, id, max(from, res.epochStart(e)), 0)
		hi := appendEpochKey(nil, res, e, id, min(to, res.epochStart(e)+res.epochSpan()), 0)
		return pb.DeleteRange(lo, hi, nil)
	}
	if e1-e0 < maxDirectEpochs {
		for e := uint64(e0); e <= uint64(e1); e++ {
			if err := del(uint32(e)); err != nil {
				return err
			}
		}
		return nil
	}
	it, err := r.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefix, res.kind()}, UpperBound: []byte{prefix, res.kind() + 1}})
	if err != nil {
		return err
	}
	err = objectEpochs(it, res, id, e0, e1, del)
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	return err
}

// objectEpochs calls fn with each epoch in [e0, e1] where it holds a group
// of id at res (it: an iterator over res's keys), ascending, with one seek
// per epoch at most: a seek that lands in a later epoch skips the epochs
// between, which hold no group at all.
func objectEpochs(it *pebble.Iterator, res Resolution, id uint32, e0, e1 uint32, fn func(e uint32) error) error {
	var key []byte
	for e := uint64(e0); e <= uint64(e1); {
		key = appendEpochKey(key[:0], res, uint32(e), id, 0, 0)
		if !it.SeekGE(key) {
			return it.Error()
		}
		k := it.Key()
		if len(k) < partLen+4 || k[0] != prefix || k[1] != res.kind() {
			return it.Error()
		}
		ke, kid := uint64(binary.BigEndian.Uint32(k[2:])), binary.BigEndian.Uint32(k[6:])
		if ke > uint64(e1) {
			return nil
		}
		switch {
		case ke > e && kid < id:
			e = ke // the epochs between hold nothing; seek id in ke
		case kid == id:
			if err := fn(uint32(ke)); err != nil {
				return err
			}
			e = ke + 1
		default:
			e = ke + 1
		}
	}
	return nil
}

var allResolutions = [...]Resolution{Quarters, Hours, Days}
