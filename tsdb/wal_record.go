package tsdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// WAL record format (docs/format/tsdb.md §WAL record). Key w | seq(BE u64).
//
//	version u8 (=1) | kind u8 | body | crc32c(LE u32) of everything before
//
// kind 1 (samples): count uvarint, then per sample
//
//	tag uvarint = id<<3 | t (t: 1 float, 2 int, 3 bool false, 4 string, 5 bool true, 6 decimal float)
//	ts  zigzag varint, delta from the previous sample's ts (0 before the first)
//	value: float 8 bytes LE (IEEE bits); decimal float zigzag varint mantissa m + u8 k
//	(value = m / 10^k exactly, FloatToDecimal); int zigzag varint; bool none;
//	string uvarint len + bytes
//
// kind 2 (delete range): id uvarint, from varint, to varint, count uvarint,
// firstTs varint — the series' Count and FirstTs right after the deletion
// (absolute, so a replay that counted against later block states converges).
const (
	walVersion         = 1
	walKindSamples     = 1
	walKindDeleteRange = 2
)

const (
	walTagFloat     = 1
	walTagInt       = 2
	walTagBoolFalse = 3
	walTagString    = 4
	walTagBoolTrue  = 5
	walTagDecimal   = 6
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// appendWALSamples encodes the samples of b as a WAL record.
func appendWALSamples(dst []byte, b *Batch) []byte {
	dst = append(dst, walVersion, walKindSamples)
	start := len(dst) - 2
	dst = binary.AppendUvarint(dst, uint64(len(b.ids)))
	var prev int64
	for i, id := range b.ids {
		t := b.types[i]
		v := b.nums[i]
		tag := uint64(t)
		var m int64
		var e int16
		switch t {
		case Bool:
			if v != 0 {
				tag = walTagBoolTrue
			}
		case Float:
			// Sensor values have a few decimals: 2–4 bytes instead of 8
			// (less to write and fsync, and to hold in Pebble's memtable).
			var ok bool
			if m, e, ok = FloatToDecimal(math.Float64frombits(v)); ok {
				tag = walTagDecimal
			}
		}
		dst = binary.AppendUvarint(dst, uint64(id)<<3|tag)
		ts := b.ts[i]
		dst = binary.AppendVarint(dst, ts-prev)
		prev = ts
		switch {
		case tag == walTagDecimal:
			dst = binary.AppendVarint(dst, m)
			dst = append(dst, byte(-e))
		case t == Float:
			dst = binary.LittleEndian.AppendUint64(dst, v)
		case t == Int:
			dst = binary.AppendVarint(dst, int64(v))
		case t == String:
			n := strLen(v)
			dst = binary.AppendUvarint(dst, uint64(n))
			dst = append(dst, b.strs[strOff(v):strOff(v)+n]...)
		}
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], crcTable))
}

type walDeleteRange struct {
	id       uint32
	from, to int64
	count    uint64
	firstTs  int64
}

func appendWALDeleteRange(dst []byte, d walDeleteRange) []byte {
	start := len(dst)
	dst = append(dst, walVersion, walKindDeleteRange)
	dst = binary.AppendUvarint(dst, uint64(d.id))
	dst = binary.AppendVarint(dst, d.from)
	dst = binary.AppendVarint(dst, d.to)
	dst = binary.AppendUvarint(dst, d.count)
	dst = binary.AppendVarint(dst, d.firstTs)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], crcTable))
}

var errWALShort = errors.New("record truncated")

// decodeWALRecord decodes rec. For a samples record it resets b and fills
// it; for a delete-range record it returns it in d. Damaged input gives an
// error, never a panic.
func decodeWALRecord(rec []byte, b *Batch) (kind byte, d walDeleteRange, err error) {
	if len(rec) < 6 {
		return 0, d, errWALShort
	}
	body := rec[:len(rec)-4]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(rec[len(rec)-4:]) {
		return 0, d, errors.New("checksum mismatch")
	}
	if body[0] != walVersion {
		return 0, d, fmt.Errorf("unknown WAL record version %d", body[0])
	}
	kind = body[1]
	p := body[2:]
	switch kind {
	case walKindDeleteRange:
		var n int
		var u uint64
		if u, n = binary.Uvarint(p); n <= 0 || u > math.MaxUint32 {
			return 0, d, errWALShort
		}
		d.id, p = uint32(u), p[n:]
		if d.from, n = binary.Varint(p); n <= 0 {
			return 0, d, errWALShort
		}
		p = p[n:]
		if d.to, n = binary.Varint(p); n <= 0 {
			return 0, d, errWALShort
		}
		p = p[n:]
		if d.count, n = binary.Uvarint(p); n <= 0 {
			return 0, d, errWALShort
		}
		p = p[n:]
		if d.firstTs, n = binary.Varint(p); n <= 0 {
			return 0, d, errWALShort
		}
		if n != len(p) {
			return 0, d, errors.New("trailing bytes in delete-range record")
		}
		return kind, d, nil
	case walKindSamples:
	default:
		return 0, d, fmt.Errorf("unknown WAL record kind %d", kind)
	}
	b.Reset()
	cnt, n := binary.Uvarint(p)
	if n <= 0 || cnt > uint64(len(p)) { // every sample takes ≥ 2 bytes
		return 0, d, errWALShort
	}
	p = p[n:]
	var prev int64
	for i := uint64(0); i < cnt; i++ {
		tag, n := binary.Uvarint(p)
		if n <= 0 || tag>>3 > math.MaxUint32 {
			return 0, d, errWALShort
		}
		p = p[n:]
		delta, n := binary.Varint(p)
		if n <= 0 {
			return 0, d, errWALShort
		}
		p = p[n:]
		ts := prev + delta
		prev = ts
		id := uint32(tag >> 3)
		switch tag & 7 {
		case walTagFloat:
			if len(p) < 8 {
				return 0, d, errWALShort
			}
			b.add(id, ts, Float, binary.LittleEndian.Uint64(p))
			p = p[8:]
		case walTagDecimal:
			m, n := binary.Varint(p)
			if n <= 0 || n >= len(p) || m <= -maxDecimalMant || m >= maxDecimalMant || p[n] > 15 {
				return 0, d, errWALShort
			}
			b.add(id, ts, Float, math.Float64bits(DecimalToFloat(m, -int16(p[n]))))
			p = p[n+1:]
		case walTagInt:
			v, n := binary.Varint(p)
			if n <= 0 {
				return 0, d, errWALShort
			}
			p = p[n:]
			b.add(id, ts, Int, uint64(v))
		case walTagBoolFalse:
			b.add(id, ts, Bool, 0)
		case walTagBoolTrue:
			b.add(id, ts, Bool, 1)
		case walTagString:
			l, n := binary.Uvarint(p)
			if n <= 0 || l > MaxStringLen || l > uint64(len(p)-n) {
				return 0, d, errWALShort
			}
			p = p[n:]
			b.AddString(id, ts, p[:l])
			p = p[l:]
		default:
			return 0, d, fmt.Errorf("unknown value tag %d", tag&7)
		}
	}
	if len(p) != 0 {
		return 0, d, errors.New("trailing bytes in samples record")
	}
	return kind, d, nil
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, crcTable) }
