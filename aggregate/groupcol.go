package aggregate

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// Columnar group (version 2, docs/format/aggregate.md): the rows of a group
// whose values are all decimals at one exponent, column by column — a
// column of counts, one of first-timestamp offsets, … — each column stored
// as one value when all are equal, else bit-packed at the width of its
// largest value (values themselves, or deltas from the previous row).
// Neighbouring windows of a series look alike (counts equal, offsets and
// values close), so a sensor's quarter row takes ≈ 11 bytes where the
// row-by-row form (version 1) takes ≈ 25; the variance is the exact integer
// D = n·Σm² − (Σm)² instead of an 8-byte float.
const groupVerCol = 2

// Column modes (the writer picks one per column: colModes).
const (
	colConst       = iota // one zigzag varint: every row's value
	colPacked             // width w (byte), then the n values (≥ 0) in w bits each, little-endian
	colPackedDelta        // width w (byte), then n zigzag deltas (value − previous, the first from 0) in w bits each
)

// minColRows is the fewest rows a columnar group holds: below, the columns'
// fixed cost (a mode byte each, the bitmap) outweighs what they save, and
// row-by-row groups decode faster (a flush's day fragment is one or two rows).
const minColRows = 3

// colN is the columns of a columnar group.
const colN = 9

// groupCols is the column scratch of one group (slots ≤ 32).
type groupCols [colN][32]int64

// appendGroupCol appends g (changed, not empty) in the columnar form; ok is
// false (dst unchanged) when a row has no exact moments or a value does not
// fit, and then the group is written row by row.
func appendGroupCol(dst []byte, g *group, c *groupCols) ([]byte, bool) {
	if len(g.rows) > len(c[0]) {
		return dst, false
	}
	var e uint8
	rows := 0
	for i := range g.rows {
		r := &g.rows[i]
		if r.Count > 0 {
			if r.de == 0 {
				return dst, false
			}
			e = max(e, r.de)
			rows++
		}
	}
	if rows < minColRows {
		return dst, false
	}
	e-- // exponent
	n := 0
	var bitmap [4]byte
	for i := range g.rows {
		r := &g.rows[i]
		if r.Count == 0 {
			continue
		}
		s, q, ok := scaleMoments(r.ms, r.mq, int(e+1-r.de))
		if !ok || r.Count >= 1<<32 {
			return dst, false
		}
		d, ok := momD(r.Count, s, q)
		if !ok {
			return dst, false
		}
		_, ms, ok := rowDecimalsAt(r, int(e))
		if !ok || ms[0] > maxMomMant || ms[0] < -maxMomMant || ms[1] > maxMomMant || ms[1] < -maxMomMant {
			return dst, false
		}
		below := s - int64(r.Count)*ms[0] // Σ(m − min) ≥ 0; |min| ≤ 2^31, n < 2^32: no overflow
		if below < 0 {
			return dst, false
		}
		bitmap[i/8] |= 1 << (i % 8)
		c[0][n] = int64(r.Count)
		c[1][n] = r.FirstTs - r.Start
		c[2][n] = r.LastTs - r.FirstTs
		c[3][n] = ms[0]
		c[4][n] = ms[1] - ms[0]
		c[5][n] = ms[2] - ms[0]
		c[6][n] = ms[3] - ms[0]
		c[7][n] = below
		c[8][n] = int64(d)
		n++
	}
	dst = append(dst, groupVerCol, e)
	dst = append(dst, bitmap[:(len(g.rows)+7)/8]...)
	var u [32]uint64
	for k := range c {
		dst = appendCol(dst, c[k][:n], colModes[k], &u)
	}
	return dst, true
}

// colModes is each column's mode when its values differ: plain for values
// that are small themselves (offsets, spreads, D), deltas for those that
// follow the previous window (the span between first and last sample, the
// minimum).
var colModes = [colN]byte{colPacked, colPacked, colPackedDelta, colPackedDelta, colPacked, colPacked, colPacked, colPacked, colPacked}

// appendCol appends one column: one value when all are equal, else in mode
// (a packed column with a negative value is written as deltas instead).
func appendCol(dst []byte, vals []int64, mode byte, scratch *[32]uint64) []byte {
	u := scratch[:len(vals)]
	v0 := vals[0]
	var diff, all uint64
	if mode == colPacked {
		neg := int64(0)
		for i, v := range vals {
			u[i] = uint64(v)
			all |= u[i]
			diff |= uint64(v ^ v0)
			neg |= v
		}
		if diff == 0 {
			return binary.AppendVarint(append(dst, colConst), v0)
		}
		if neg >= 0 {
			w := uint(bits.Len64(all))
			return appendPacked(append(dst, colPacked, byte(w)), u, w)
		}
		mode, all = colPackedDelta, 0
	}
	prev := int64(0)
	for i, v := range vals {
		d := v - prev
		prev = v
		u[i] = uint64(d<<1) ^ uint64(d>>63) // zigzag
		all |= u[i]
		diff |= uint64(v ^ v0)
	}
	if diff == 0 {
		return binary.AppendVarint(append(dst, colConst), v0)
	}
	w := uint(bits.Len64(all))
	return appendPacked(append(dst, mode, byte(w)), u, w)
}

// appendPacked appends vals (each < 2^w) in w bits each, little-endian:
// ⌈len(vals)·w / 8⌉ bytes.
func appendPacked(dst []byte, vals []uint64, w uint) []byte {
	var acc uint64
	var nb uint // bits held in acc
	for _, v := range vals {
		acc |= v << nb
		if nb+w < 64 {
			nb += w
			continue
		}
		dst = binary.LittleEndian.AppendUint64(dst, acc)
		used := 64 - nb // bits of v that went out with acc
		acc = 0
		if used < w {
			acc = v >> used
		}
		nb = nb + w - 64
	}
	for ; nb > 0; nb -= min(nb, 8) {
		dst = append(dst, byte(acc))
		acc >>= 8
	}
	return dst
}

// readPacked reads len(dst) values of w bits (appendPacked) from p and
// returns the rest.
func readPacked(p []byte, dst []uint64, w uint) ([]byte, error) {
	if w > 64 {
		return nil, errBadGroup
	}
	need := (len(dst)*int(w) + 7) / 8
	if len(p) < need {
		return nil, errBadGroup
	}
	q, rest := p[:need], p[need:]
	mask := ^uint64(0)
	if w < 64 {
		mask = 1<<w - 1
	}
	var acc uint64
	var nb uint // bits held in acc
	for i := range dst {
		if nb >= w {
			dst[i] = acc & mask
			if w < 64 {
				acc >>= w
			} else {
				acc = 0
			}
			nb -= w
			continue
		}
		var next uint64
		k := min(8, len(q))
		for j := 0; j < k; j++ {
			next |= uint64(q[j]) << (8 * j)
		}
		q = q[k:]
		dst[i] = (acc | next<<nb) & mask
		used := w - nb // bits of next taken
		acc = 0
		if used < 64 {
			acc = next >> used
		}
		nb = uint(8*k) - used
	}
	return rest, nil
}

// readCol reads one column of n values into dst (u: scratch).
func readCol(p []byte, dst []int64, u *[32]uint64) ([]byte, error) {
	if len(p) < 1 {
		return nil, errBadGroup
	}
	mode := p[0]
	p = p[1:]
	if mode == colConst {
		v, k := varint(p)
		if k <= 0 {
			return nil, errBadGroup
		}
		for i := range dst {
			dst[i] = v
		}
		return p[k:], nil
	}
	if (mode != colPacked && mode != colPackedDelta) || len(p) < 1 {
		return nil, errBadGroup
	}
	p, err := readPacked(p[1:], u[:len(dst)], uint(p[0]))
	if err != nil {
		return nil, err
	}
	prev := int64(0)
	for i, x := range u[:len(dst)] {
		if mode == colPacked {
			if x > math.MaxInt64 {
				return nil, errBadGroup
			}
			dst[i] = int64(x)
			continue
		}
		prev += int64(x>>1) ^ -int64(x&1) // zigzag
		dst[i] = prev
	}
	return p, nil
}

// walkGroupCol is walkGroup for a columnar group (v[0] == groupVerCol).
func walkGroupCol(res Resolution, start int64, v []byte, statsOnly bool, row *Row, fn func(*Row) error) error {
	slots := res.slots()
	nb := (slots + 7) / 8
	if len(v) < 2+nb || v[1] > 15 || slots > 32 {
		return errBadGroup
	}
	e := int(v[1])
	bitmap := v[2 : 2+nb]
	n := 0
	for i, b := range bitmap {
		if i == nb-1 && slots%8 != 0 && b>>(slots%8) != 0 {
			return errBadGroup
		}
		n += bits.OnesCount8(b)
	}
	if n == 0 {
		return errBadGroup
	}
	var c groupCols
	var u [32]uint64
	p := v[2+nb:]
	for k := range c {
		var err error
		if p, err = readCol(p, c[k][:n], &u); err != nil {
			return err
		}
	}
	if len(p) != 0 {
		return errBadGroup
	}
	step := res.Millis()
	j := 0
	for i := 0; i < slots; i++ {
		if bitmap[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		count, ft, span, m0 := c[0][j], c[1][j], c[2][j], c[3][j]
		dmax, dfirst, dlast, below, d := c[4][j], c[5][j], c[6][j], c[7][j], c[8][j]
		j++
		if count < 1 || count >= 1<<32 || ft < 0 || span < 0 || ft >= step || span >= step-ft ||
			m0 > maxMomMant || m0 < -maxMomMant || dmax < 0 || dmax > 2*maxMomMant ||
			dfirst < 0 || dfirst > dmax || dlast < 0 || dlast > dmax || below < 0 || d < 0 {
			return errBadGroup
		}
		if count == 1 && (span != 0 || dmax != 0 || below != 0 || d != 0) {
			return errBadGroup
		}
		if hi, lo := bits.Mul64(uint64(count), uint64(dmax)); hi != 0 || uint64(below) > lo {
			return errBadGroup // Σ(m − min) ≤ n·(max − min)
		}
		s, ok := addInt64(below, count*m0) // |count·m0| < 2^63
		if !ok {
			return errBadGroup
		}
		ws := start + int64(i)*step
		*row = Row{Start: ws, Count: uint64(count), FirstTs: ws + ft, LastTs: ws + ft + span}
		row.Sum = decFloat(s, e)
		row.Mean = row.Sum / float64(count)
		row.M2 = momM2(uint64(d), uint64(count), e)
		if count == 1 || !statsOnly {
			row.Min = decFloat(m0, e)
		}
		if count == 1 {
			row.Max, row.First, row.Last, row.Mean = row.Min, row.Min, row.Min, row.Min
		} else if !statsOnly {
			row.Max = decFloat(m0+dmax, e)
			row.First = decFloat(m0+dfirst, e)
			row.Last = decFloat(m0+dlast, e)
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return nil
}
