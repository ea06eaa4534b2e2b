package tsdb

import "encoding/binary"

// Key prefixes owned by tsdb (docs/format/keys.md, docs/format/tsdb.md).
const (
	prefixMeta   = 0x01
	prefixWAL    = 'w'
	prefixBlock  = 'b'
	prefixSeries = 's'
)

// Kinds of the series keys s | id(BE u32) | kind.
const (
	seriesKindType  = 0x00 // value: version, value type, creation seq
	seriesKindStats = 0x01 // value: persisted stats as of the last flush
	seriesKindReads = 0x02 // value: nReads
)

var (
	metaVersionKey = []byte{prefixMeta, 'v'}
	walStart       = []byte{prefixWAL}
	walEnd         = []byte{prefixWAL + 1}
	blockStart     = []byte{prefixBlock}
	blockEnd       = []byte{prefixBlock + 1}
)

func walKey(seq uint64) []byte {
	k := make([]byte, 9)
	k[0] = prefixWAL
	binary.BigEndian.PutUint64(k[1:], seq)
	return k
}

// tsKey maps an int64 timestamp to a big-endian uint64 that sorts like it.
func tsKey(ts int64) uint64 { return uint64(ts) ^ (1 << 63) }

func tsFromKey(u uint64) int64 { return int64(u ^ (1 << 63)) }

// blockKey is b | id | minTs | maxTs | seq: sorted by object then by the
// block's first timestamp; maxTs in the key lets readers skip a block
// without loading it; seq (the flush or compaction sequence that wrote the
// block) makes keys unique and orders overlapping blocks (newer wins).
const blockKeyLen = 1 + 4 + 8 + 8 + 8

func appendBlockKey(dst []byte, id uint32, minTs, maxTs int64, seq uint64) []byte {
	dst = append(dst, prefixBlock)
	dst = binary.BigEndian.AppendUint32(dst, id)
	dst = binary.BigEndian.AppendUint64(dst, tsKey(minTs))
	dst = binary.BigEndian.AppendUint64(dst, tsKey(maxTs))
	return binary.BigEndian.AppendUint64(dst, seq)
}

type blockKeyParts struct {
	id           uint32
	minTs, maxTs int64
	seq          uint64
}

func parseBlockKey(k []byte) (blockKeyParts, bool) {
	if len(k) != blockKeyLen || k[0] != prefixBlock {
		return blockKeyParts{}, false
	}
	return blockKeyParts{
		id:    binary.BigEndian.Uint32(k[1:]),
		minTs: tsFromKey(binary.BigEndian.Uint64(k[5:])),
		maxTs: tsFromKey(binary.BigEndian.Uint64(k[13:])),
		seq:   binary.BigEndian.Uint64(k[21:]),
	}, true
}

// blockPrefix is b | id; blockPrefixEnd is the first key after the object.
func blockPrefix(id uint32) []byte {
	k := make([]byte, 5)
	k[0] = prefixBlock
	binary.BigEndian.PutUint32(k[1:], id)
	return k
}

func blockPrefixEnd(id uint32) []byte {
	if id == ^uint32(0) {
		return []byte{prefixBlock + 1}
	}
	return blockPrefix(id + 1)
}

// blockSeekKey is the first possible block key of id with minTs ≥ ts.
func blockSeekKey(id uint32, ts int64) []byte {
	k := blockPrefix(id)
	return binary.BigEndian.AppendUint64(k, tsKey(ts))
}

func seriesKey(id uint32, kind byte) []byte {
	k := make([]byte, 6)
	k[0] = prefixSeries
	binary.BigEndian.PutUint32(k[1:], id)
	k[5] = kind
	return k
}

func seriesPrefix(id uint32) []byte {
	k := make([]byte, 5)
	k[0] = prefixSeries
	binary.BigEndian.PutUint32(k[1:], id)
	return k
}

func seriesPrefixEnd(id uint32) []byte {
	if id == ^uint32(0) {
		return []byte{prefixSeries + 1}
	}
	return seriesPrefix(id + 1)
}
