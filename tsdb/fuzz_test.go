package tsdb

import (
	"math"
	"testing"
)

func seedBlocks() [][]byte {
	sc := getCodecScratch()
	defer putCodecScratch(sc)
	var out [][]byte
	ts := []int64{1000, 61000, 121300, 181399, 241000, 301200, 361000, 421100, 481000}
	fl := make([]uint64, len(ts))
	ints := make([]uint64, len(ts))
	var strs chunk
	for i := range ts {
		fl[i] = math.Float64bits(float64(i) * 1.25)
		ints[i] = uint64(int64(i) - 4)
		strs.put(ts[i], 0, []byte("héllo"[:i%6]), true)
	}
	out = append(out,
		appendBlock(nil, Float, ts, fl, nil, sc),
		appendBlock(nil, Int, ts, ints, nil, sc),
		appendBlock(nil, Bool, ts, ints, nil, sc),
		appendBlock(nil, String, strs.ts, strs.nums, strs.strs, sc),
		appendBlock(nil, Float, ts[:1], []uint64{math.Float64bits(math.NaN())}, nil, sc),
		appendBlock(nil, Float, []int64{0, 5, 9, 100000}, []uint64{0, math.Float64bits(math.Inf(1)), 1, 2}, nil, sc),
	)
	return out
}

// FuzzDecodeBlock: damaged blocks give an error, never a panic; valid ones
// re-encode to something that decodes to the same columns.
func FuzzDecodeBlock(f *testing.F) {
	for _, b := range seedBlocks() {
		f.Add(b, b[1])
	}
	f.Add([]byte{}, byte(1))
	f.Add([]byte{1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 2, 0, 0, 0, 0}, byte(1))
	f.Fuzz(func(t *testing.T, data []byte, typ byte) {
		vt := ValueType(1 + typ%4)
		sc := getCodecScratch()
		defer putCodecScratch(sc)
		var c blockCols
		if err := decodeBlock(&c, data, vt, sc); err != nil {
			return
		}
		enc := appendBlock(nil, vt, c.ts, c.nums, c.strs, sc)
		var c2 blockCols
		if err := decodeBlock(&c2, enc, vt, sc); err != nil {
			t.Fatalf("re-encoded block does not decode: %v", err)
		}
		if len(c2.ts) != len(c.ts) {
			t.Fatalf("re-encoded block has %d samples, want %d", len(c2.ts), len(c.ts))
		}
		for i := range c.ts {
			if c.ts[i] != c2.ts[i] || !c.value(vt, i).Equal(c2.value(vt, i)) {
				t.Fatalf("sample %d differs after re-encoding", i)
			}
		}
	})
}

// FuzzDecodeBlockUnchecked skips the checksum so the fuzzer reaches the
// codecs themselves (a checksum only guards against random damage).
func FuzzDecodeBlockUnchecked(f *testing.F) {
	for _, b := range seedBlocks() {
		f.Add(b[:len(b)-4], b[1])
	}
	f.Fuzz(func(t *testing.T, body []byte, typ byte) {
		vt := ValueType(1 + typ%4)
		data := append(append([]byte(nil), body...), 0, 0, 0, 0)
		fixCRC(data)
		sc := getCodecScratch()
		defer putCodecScratch(sc)
		var c blockCols
		_ = decodeBlock(&c, data, vt, sc)
	})
}

func fixCRC(data []byte) {
	if len(data) < 4 {
		return
	}
	n := len(data) - 4
	crc := crc32c(data[:n])
	data[n], data[n+1], data[n+2], data[n+3] = byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24)
}

func seedRecords() [][]byte {
	var b Batch
	b.AddFloat(1, 1767225600369, 18.68)
	b.AddInt(2, 1767225600387, -5)
	b.AddBool(3, 1767225600141, true)
	b.AddBool(3, 1767225600142, false)
	b.AddString(4, 1767225600000, []byte("✓ ok"))
	b.AddString(4, 1767225600001, nil)
	return [][]byte{
		appendWALSamples(nil, &b),
		appendWALDeleteRange(nil, walDeleteRange{id: 7, from: 1, to: 99, count: 3, firstTs: 100}),
	}
}

// FuzzDecodeWALRecord: damaged records give an error, never a panic; valid
// ones re-encode identically.
func FuzzDecodeWALRecord(f *testing.F) {
	for _, r := range seedRecords() {
		f.Add(r, false)
		f.Add(r[:len(r)-4], true)
	}
	f.Fuzz(func(t *testing.T, data []byte, fix bool) {
		if fix {
			data = append(append([]byte(nil), data...), 0, 0, 0, 0)
			fixCRC(data)
		}
		var b Batch
		kind, d, err := decodeWALRecord(data, &b)
		if err != nil {
			return
		}
		var again []byte
		switch kind {
		case walKindSamples:
			again = appendWALSamples(nil, &b)
		case walKindDeleteRange:
			again = appendWALDeleteRange(nil, d)
		}
		var b2 Batch
		if _, _, err := decodeWALRecord(again, &b2); err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if b2.Len() != b.Len() {
			t.Fatalf("re-encoded record has %d samples, want %d", b2.Len(), b.Len())
		}
	})
}
