package aggregate

import (
	"encoding/binary"
)

// Keys under the 'r' prefix (docs/format/aggregate.md):
//
//	r v                       keyspace format version
//	r g                       raw-data generation the rows reflect (tsdb.DB.RawGeneration)
//	r q id(BE u32) start(BE u64) gen(BE u64)  quarter group: quarters of 6 hours (UTC)
//	r h id(BE u32) start(BE u64) gen(BE u64)  hour group: hours of one UTC day
//	r d id(BE u32) start(BE u64) gen(BE u64)  day group: one UTC day's row
//
// A group may be in several fragments (gen: the raw-data generation that
// wrote it): a flush writes the rows of its new samples as a new fragment
// instead of reading and rewriting the stored group; readers merge the rows
// of equal windows (Chan). Fragments of one group hold disjoint samples.
const (
	prefix          = 'r'
	kindVersion     = 'v'
	kindGen         = 'g'
	formatVer       = 3 // 3: columnar groups (groupcol.go) besides row-by-row ones
	rowGroupsVer    = 2 // the last version whose groups are all row by row
	groupVer        = 1
	groupKeyLen     = 2 + 4 + 8 + 8
	daysPerDayGroup = 32
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

// slots is the number of rows of a group of res.
func (r Resolution) slots() int { return int(r.groupSpan() / r.Millis()) }

// groupStart is the start of the group of res holding the window of ts.
func (r Resolution) groupStart(ts int64) int64 { return floorTo(ts, r.groupSpan()) }

func appendGroupKey(dst []byte, res Resolution, id uint32, start int64, gen uint64) []byte {
	dst = append(dst, prefix, res.kind())
	dst = binary.BigEndian.AppendUint32(dst, id)
	dst = binary.BigEndian.AppendUint64(dst, uint64(start))
	return binary.BigEndian.AppendUint64(dst, gen)
}

// groupKey is a fragment's key; gen 0 bounds every fragment of start from
// below.
func groupKey(res Resolution, id uint32, start int64, gen uint64) []byte {
	return appendGroupKey(make([]byte, 0, groupKeyLen), res, id, start, gen)
}

// objectLo and objectHi bound every group of id at res.
func objectLo(res Resolution, id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefix, res.kind()}, id)
}

func objectHi(res Resolution, id uint32) []byte {
	if id == ^uint32(0) {
		return []byte{prefix, res.kind() + 1}
	}
	return objectLo(res, id+1)
}

// parseGroupKey reads a group fragment's key.
func parseGroupKey(k []byte) (id uint32, start int64, gen uint64, ok bool) {
	if len(k) != groupKeyLen || k[0] != prefix {
		return 0, 0, 0, false
	}
	return binary.BigEndian.Uint32(k[2:]), int64(binary.BigEndian.Uint64(k[6:])), binary.BigEndian.Uint64(k[14:]), true
}

var allResolutions = [...]Resolution{Quarters, Hours, Days}
