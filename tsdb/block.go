package tsdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"sync"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/encoding"
)

// Block value format (docs/format/tsdb.md §Block). Key b | id | minTs | maxTs | seq.
//
//	version u8 (=1) | value type u8 | count uvarint | timestamps | values | crc32c (LE u32)
//
// Value codecs:
const (
	valCodecDecimal = 1 // floats as int64 mantissas × 10^exp: exp varint, VM mt u8, first varint, len uvarint, VM bytes
	valCodecRawF64  = 2 // floats as IEEE bits: len uvarint, zstd(8 bytes LE each)
	valCodecInt     = 3 // VM mt u8, first varint, len uvarint, VM bytes
	valCodecBits    = 4 // bools: len uvarint, zstd(bitset LSB first)
	valCodecStrings = 5 // len uvarint, zstd(uvarint len + bytes, per value)
)

const (
	blockVersion = 1
	// maxBlockCount bounds a block's samples (Options.MaxBlockSamples is
	// capped to it) and the count a decoder accepts.
	maxBlockCount = 1 << 16
	// maxStringBlockBytes bounds the string bytes of a block (flushes and
	// compactions cut string blocks there), so a damaged block cannot make
	// the decoder allocate more than this.
	maxStringBlockBytes = 4 << 20
)

// blockCols are the decoded columns of a block or a head chunk. For strings
// nums holds strRef into strs. For floats from decimal blocks, mant/exp hold
// the decimal form beside the float bits in nums — or instead of them when
// lazy (decodeBlockLazy: nums is empty and num converts on demand).
type blockCols struct {
	ts   []int64
	nums []uint64
	strs []byte
	mant []int64
	exp  int16
	dec  bool
	lazy bool
}

func (c *blockCols) reset() {
	c.ts, c.nums, c.strs, c.mant, c.exp, c.dec, c.lazy = c.ts[:0], c.nums[:0], c.strs[:0], c.mant[:0], 0, false, false
}

// num returns sample i's value bits (float bits, int64, 0/1 or strRef).
func (c *blockCols) num(i int) uint64 {
	if c.lazy {
		return math.Float64bits(DecimalToFloat(c.mant[i], c.exp))
	}
	return c.nums[i]
}

func (c *blockCols) value(typ ValueType, i int) Value {
	if typ == String {
		r := c.nums[i]
		return Value{Type: String, str: c.strs[strOff(r) : strOff(r)+strLen(r)]}
	}
	return Value{Type: typ, num: c.num(i)}
}

type codecScratch struct {
	ts   tsScratch
	mant []int64
	// mantOK reports that the last appendFloats wrote decimals: mant holds
	// the values × 10^mantScale.
	mantOK    bool
	mantScale int
	raw       []byte
	enc       []byte
	ints      []int64
}

var codecPool = sync.Pool{New: func() any { return new(codecScratch) }}

func getCodecScratch() *codecScratch  { return codecPool.Get().(*codecScratch) }
func putCodecScratch(s *codecScratch) { codecPool.Put(s) }

// appendBlock encodes ts (sorted, distinct) and their values as a block.
func appendBlock(dst []byte, typ ValueType, ts []int64, nums []uint64, strs []byte, sc *codecScratch) []byte {
	start := len(dst)
	dst = append(dst, blockVersion, byte(typ))
	dst = binary.AppendUvarint(dst, uint64(len(ts)))
	dst = appendTimestamps(dst, ts, &sc.ts)
	switch typ {
	case Float:
		dst = appendFloats(dst, nums, sc)
	case Int:
		sc.ints = sc.ints[:0]
		for _, v := range nums {
			sc.ints = append(sc.ints, int64(v))
		}
		enc, mt, first := encoding.MarshalValues(sc.enc[:0], sc.ints, 64)
		sc.enc = enc
		dst = append(dst, valCodecInt, byte(mt))
		dst = binary.AppendVarint(dst, first)
		dst = binary.AppendUvarint(dst, uint64(len(enc)))
		dst = append(dst, enc...)
	case Bool:
		sc.raw = sc.raw[:0]
		for i := 0; i < len(nums); i += 8 {
			var b byte
			for j := i; j < min(i+8, len(nums)); j++ {
				if nums[j] != 0 {
					b |= 1 << uint(j-i)
				}
			}
			sc.raw = append(sc.raw, b)
		}
		dst = appendZstdSection(dst, valCodecBits, sc)
	case String:
		sc.raw = sc.raw[:0]
		for _, r := range nums {
			sc.raw = binary.AppendUvarint(sc.raw, uint64(strLen(r)))
			sc.raw = append(sc.raw, strs[strOff(r):strOff(r)+strLen(r)]...)
		}
		dst = appendZstdSection(dst, valCodecStrings, sc)
	default:
		panic(fmt.Sprintf("BUG: appendBlock of value type %d", typ))
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], crcTable))
}

func appendZstdSection(dst []byte, codec byte, sc *codecScratch) []byte {
	sc.enc = encoding.CompressZSTDLevel(sc.enc[:0], sc.raw, 3)
	dst = append(dst, codec)
	dst = binary.AppendUvarint(dst, uint64(len(sc.enc)))
	return append(dst, sc.enc...)
}

// appendFloats writes floats in decimal form when every value has a short
// exact decimal (FloatToDecimal) sharing an exponent within int64 range,
// else as raw IEEE bits.
//
// The mantissas are those of FloatToDecimal scaled to the block's smallest
// exponent, found without running FloatToDecimal on every value: a value is
// first tried at the scale of the values before it (one multiply, round and
// divide; exact and identical to the scaled shortest mantissa while
// |f·10^k| < 10^15), and only a value needing more digits — or none of the
// fast path's range — takes the shortest search and may raise the scale of
// the mantissas before it. BenchmarkEncodeBlock: the per-value search was
// ~20 % of encoding a block of the standard dataset.
func appendFloats(dst []byte, nums []uint64, sc *codecScratch) []byte {
	sc.mant = sc.mant[:0]
	k := 0 // mantissas are value × 10^k
	ok := true
	for _, u := range nums {
		f := math.Float64frombits(u)
		x := f * pow10f[k]
		if r := math.RoundToEven(x); math.Abs(x) < maxDecimalMant && r/pow10f[k] == f && u != 1<<63 {
			sc.mant = append(sc.mant, int64(r)) // -0 (u = 1<<63) is never decimal
			continue
		}
		m, e, good := FloatToDecimal(f)
		if !good {
			ok = false
			break
		}
		ki := int(-e)
		if ki > k {
			// Raise the scale of the mantissas so far.
			mul := pow10i[ki-k]
			for i, v := range sc.mant {
				w := v * mul
				if w/mul != v || w >= 1<<53 || w <= -(1<<53) {
					ok = false
					break
				}
				sc.mant[i] = w
			}
			k = ki
		} else if d := k - ki; d > 0 {
			w := m * pow10i[d]
			if w/pow10i[d] != m || w >= 1<<53 || w <= -(1<<53) {
				ok = false
			}
			m = w
		}
		if !ok {
			break
		}
		sc.mant = append(sc.mant, m)
	}
	sc.mantOK, sc.mantScale = ok, k
	if ok {
		enc, mt, first := encoding.MarshalValues(sc.enc[:0], sc.mant, 64)
		sc.enc = enc
		dst = append(dst, valCodecDecimal)
		dst = binary.AppendVarint(dst, int64(-k))
		dst = append(dst, byte(mt))
		dst = binary.AppendVarint(dst, first)
		dst = binary.AppendUvarint(dst, uint64(len(enc)))
		return append(dst, enc...)
	}
	sc.raw = sc.raw[:0]
	for _, u := range nums {
		sc.raw = binary.LittleEndian.AppendUint64(sc.raw, u)
	}
	return appendZstdSection(dst, valCodecRawF64, sc)
}

// decodeBlock decodes a block into c (reset first). typ is the series type
// the caller expects. Damaged bytes give an error, never a panic.
func decodeBlock(c *blockCols, v []byte, typ ValueType, sc *codecScratch) error {
	return decodeBlockCols(c, v, typ, sc, false)
}

// decodeBlockLazy is decodeBlock leaving the float bits of a decimal block
// uncomputed (c.lazy; c.num converts one value on demand): readers that print
// the decimal form never need them (BenchmarkEncodeYear: ~2.5 ns a sample).
func decodeBlockLazy(c *blockCols, v []byte, typ ValueType, sc *codecScratch) error {
	return decodeBlockCols(c, v, typ, sc, true)
}

func decodeBlockCols(c *blockCols, v []byte, typ ValueType, sc *codecScratch, lazy bool) error {
	c.reset()
	if len(v) < 7 {
		return errBlockShort
	}
	body := v[:len(v)-4]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(v[len(v)-4:]) {
		return errors.New("checksum mismatch")
	}
	if body[0] != blockVersion {
		return fmt.Errorf("unknown block version %d", body[0])
	}
	if ValueType(body[1]) != typ {
		return fmt.Errorf("block of type %s in a %s series", ValueType(body[1]), typ)
	}
	p := body[2:]
	cnt, k := binary.Uvarint(p)
	if k <= 0 || cnt == 0 || cnt > maxBlockCount {
		return errors.New("bad block count")
	}
	n := int(cnt)
	p = p[k:]
	var err error
	c.ts, p, err = decodeTimestamps(c.ts[:0], p, n, &sc.ts)
	if err != nil {
		return err
	}
	if len(c.ts) != n {
		return errors.New("timestamp count mismatch")
	}
	for i := 1; i < n; i++ {
		if c.ts[i] <= c.ts[i-1] {
			return errors.New("timestamps not increasing")
		}
	}
	if len(p) == 0 {
		return errBlockShort
	}
	codec := p[0]
	p = p[1:]
	switch {
	case typ == Float && codec == valCodecDecimal:
		e, k := binary.Varint(p)
		if k <= 0 || e < -22 || e > 0 {
			return errors.New("bad decimal exponent")
		}
		p = p[k:]
		var sec []byte
		var mt encoding.MarshalType
		var first int64
		if mt, first, sec, p, err = vmSection(p); err != nil {
			return err
		}
		c.mant, err = safeUnmarshalInt64s(c.mant[:0], sec, mt, first, n)
		if err != nil {
			return err
		}
		if len(c.mant) != n {
			return errors.New("value count mismatch")
		}
		c.exp, c.dec = int16(e), true
		if lazy {
			c.lazy = true
			break
		}
		for _, m := range c.mant {
			c.nums = append(c.nums, math.Float64bits(DecimalToFloat(m, c.exp)))
		}
	case typ == Float && codec == valCodecRawF64:
		if sc.raw, p, err = zstdSection(sc.raw[:0], p, 8*n); err != nil {
			return err
		}
		if len(sc.raw) != 8*n {
			return errors.New("value count mismatch")
		}
		for i := 0; i < n; i++ {
			c.nums = append(c.nums, binary.LittleEndian.Uint64(sc.raw[8*i:]))
		}
	case typ == Int && codec == valCodecInt:
		var sec []byte
		var mt encoding.MarshalType
		var first int64
		if mt, first, sec, p, err = vmSection(p); err != nil {
			return err
		}
		sc.ints, err = safeUnmarshalInt64s(sc.ints[:0], sec, mt, first, n)
		if err != nil {
			return err
		}
		if len(sc.ints) != n {
			return errors.New("value count mismatch")
		}
		for _, v := range sc.ints {
			c.nums = append(c.nums, uint64(v))
		}
	case typ == Bool && codec == valCodecBits:
		if sc.raw, p, err = zstdSection(sc.raw[:0], p, (n+7)/8); err != nil {
			return err
		}
		if len(sc.raw) != (n+7)/8 {
			return errors.New("value count mismatch")
		}
		for i := 0; i < n; i++ {
			c.nums = append(c.nums, uint64(sc.raw[i/8]>>(uint(i)%8)&1))
		}
	case typ == String && codec == valCodecStrings:
		if c.strs, p, err = zstdSection(c.strs[:0], p, maxStringBlockBytes+MaxStringLen+3*n); err != nil {
			return err
		}
		// Lengths are interleaved with the bytes; compact in place.
		src := c.strs
		w := 0
		for i := 0; i < n; i++ {
			l, k := binary.Uvarint(src)
			if k <= 0 || l > MaxStringLen || l > uint64(len(src)-k) {
				return errors.New("bad string value")
			}
			src = src[k:]
			// w ≤ offset of src within c.strs, so copy is safe (memmove).
			copy(c.strs[w:], src[:l])
			c.nums = append(c.nums, strRef(w, int(l)))
			w += int(l)
			src = src[l:]
		}
		if len(src) != 0 {
			return errors.New("trailing string bytes")
		}
		c.strs = c.strs[:w]
	default:
		return fmt.Errorf("value codec %d invalid for %s", codec, typ)
	}
	if len(p) != 0 {
		return errors.New("trailing bytes in block")
	}
	return nil
}

func vmSection(p []byte) (mt encoding.MarshalType, first int64, sec, rest []byte, err error) {
	if len(p) == 0 {
		return 0, 0, nil, p, errBlockShort
	}
	mt = encoding.MarshalType(p[0])
	if err := encoding.CheckMarshalType(mt); err != nil {
		return 0, 0, nil, p, err
	}
	p = p[1:]
	first, k := binary.Varint(p)
	if k <= 0 {
		return 0, 0, nil, p, errBlockShort
	}
	p = p[k:]
	l, k := binary.Uvarint(p)
	if k <= 0 || l > uint64(len(p)-k) {
		return 0, 0, nil, p, errBlockShort
	}
	p = p[k:]
	return mt, first, p[:l], p[l:], nil
}

func zstdSection(dst, p []byte, limit int) (out, rest []byte, err error) {
	l, k := binary.Uvarint(p)
	if k <= 0 || l > uint64(len(p)-k) {
		return dst, p, errBlockShort
	}
	p = p[k:]
	out, err = decompressZSTD(dst, p[:l], limit)
	if err != nil {
		return dst, p, err
	}
	return out, p[l:], nil
}

// decompressZSTD decompresses at most limit bytes (gozstd panics on a window
// limit below 1 KiB, so the limit passed down is at least 64 KiB and the
// length is checked here).
func decompressZSTD(dst, src []byte, limit int) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = dst, errors.New("damaged zstd section")
		}
	}()
	start := len(dst)
	out, err = encoding.DecompressZSTDLimited(dst, src, max(limit, 64<<10))
	if err != nil {
		return dst, err
	}
	if len(out)-start > limit {
		return dst, errors.New("zstd section larger than expected")
	}
	return out, nil
}
