package aggregate

import (
	"encoding/binary"
)

// Keys under the 'r' prefix (docs/format/aggregate.md):
//
//	r v                                 keyspace format version
//	r i seq(BE u64)                     intent record (crash recovery)
//	r o id(BE u32) h hourStart(BE u64)  hour record: the hour row and its quarters
//	r o id(BE u32) d dayStart(BE u64)   day record
const (
	prefix       = 'r'
	kindVersion  = 'v'
	kindIntent   = 'i'
	kindObject   = 'o'
	recHour      = 'h'
	recDay       = 'd'
	objKeyLen    = 2 + 4 + 1 + 8
	formatVer    = 1
	recordVer    = 1
	intentVer    = 1
	objPrefixLen = 2 + 4
)

var (
	versionKey = []byte{prefix, kindVersion}
	keyspaceLo = []byte{prefix}
	keyspaceHi = []byte{prefix + 1}
	intentLo   = []byte{prefix, kindIntent}
	intentHi   = []byte{prefix, kindIntent + 1}
	objectsLo  = []byte{prefix, kindObject}
	objectsHi  = []byte{prefix, kindObject + 1}
)

func intentKey(seq uint64) []byte {
	k := make([]byte, 10)
	k[0], k[1] = prefix, kindIntent
	binary.BigEndian.PutUint64(k[2:], seq)
	return k
}

func appendRecKey(dst []byte, id uint32, kind byte, start int64) []byte {
	dst = append(dst, prefix, kindObject)
	dst = binary.BigEndian.AppendUint32(dst, id)
	dst = append(dst, kind)
	return binary.BigEndian.AppendUint64(dst, uint64(start))
}

func recKey(id uint32, kind byte, start int64) []byte {
	return appendRecKey(make([]byte, 0, objKeyLen), id, kind, start)
}

// objPrefix and objPrefixEnd bound every record of id.
func objPrefix(id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefix, kindObject}, id)
}

func objPrefixEnd(id uint32) []byte {
	if id == ^uint32(0) {
		return objectsHi
	}
	return objPrefix(id + 1)
}

// parseRecKey splits an object record key.
func parseRecKey(k []byte) (id uint32, kind byte, start int64, ok bool) {
	if len(k) != objKeyLen || k[0] != prefix || k[1] != kindObject {
		return 0, 0, 0, false
	}
	return binary.BigEndian.Uint32(k[2:]), k[6], int64(binary.BigEndian.Uint64(k[7:])), true
}
