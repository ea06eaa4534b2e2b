package tsdb

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"slices"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/encoding"
)

// Timestamp codecs of a block (docs/format/tsdb.md §Block).
const (
	tsCodecVM   = 1 // VM lib/encoding MarshalTimestamps (nearest delta + zstd), lossless
	tsCodecGrid = 2 // grid period G, phase, grid-index deltas (zstd) + mixed-radix residuals
)

// Timestamps of sensors are a regular grid plus jitter (DESIGN.md §8: one
// point a minute + U[0, 400) ms). The grid codec writes, for period G and
// phase a, k_i = floor((ts_i − a)/G) as zstd-compressed uvarint deltas (all
// 1s for a regular series: a few bytes per block) and the residuals
// r_i = ts_i − a − k_i·G ∈ [0, R) packed in mixed radix R (g residuals per
// ≤ 64-bit group), i.e. log2(R) bits each — the entropy of uniform jitter.
// VM's nearest-delta codes the difference of two jitters (a triangular
// distribution twice as wide) and spends ~1 bit more per sample plus zstd
// overhead. The encoder also runs VM's codec, keeping the smaller, unless the
// grid one is nearly free or its residuals look like independent uniform
// jitter (appendGridTimestamps), so irregular series never get worse than VM.

type tsScratch struct {
	deltas []int64
	mods   []int64 // ts mod G, then residuals r_i
	kd     []byte
	ks     []byte
	bins   [256]bool
}

// appendTimestamps encodes sorted, distinct timestamps.
func appendTimestamps(dst []byte, ts []int64, sc *tsScratch) []byte {
	gridStart := len(dst)
	var gridOK, uniform bool
	if len(ts) >= 8 {
		dst, gridOK, uniform = appendGridTimestamps(dst, ts, sc)
	}
	if gridOK && (uniform || len(dst)-gridStart < len(ts)/8) {
		// ≤ 1 bit per sample, or residuals that look like independent
		// uniform jitter (packed at their entropy): VM cannot do better, and
		// running it too cost ~7 % of BenchmarkAppend's CPU.
		return dst
	}
	vmStart := len(dst)
	dst = appendVMTimestamps(dst, ts, sc)
	if gridOK && len(dst)-vmStart >= vmStart-gridStart {
		return dst[:vmStart] // grid is smaller
	}
	if gridOK {
		n := copy(dst[gridStart:], dst[vmStart:])
		return dst[:gridStart+n]
	}
	return dst
}

func appendVMTimestamps(dst []byte, ts []int64, sc *tsScratch) []byte {
	enc, mt, first := encoding.MarshalTimestamps(sc.kd[:0], ts, 64)
	sc.kd = enc
	dst = append(dst, tsCodecVM, byte(mt))
	dst = binary.AppendVarint(dst, first)
	dst = binary.AppendUvarint(dst, uint64(len(enc)))
	return append(dst, enc...)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// chooseGrid guesses the grid period: the median of up to 63 sampled deltas,
// rounded to a whole second when ≥ 1 s.
func chooseGrid(ts []int64, sc *tsScratch) int64 {
	sc.deltas = sc.deltas[:0]
	step := max(1, (len(ts)-1)/63)
	for i := step; i < len(ts); i += step {
		sc.deltas = append(sc.deltas, ts[i]-ts[i-step])
	}
	slices.Sort(sc.deltas)
	m := sc.deltas[len(sc.deltas)/2] / int64(step)
	if m >= 1000 {
		m = (m + 500) / 1000 * 1000
	}
	return m
}

// gridWalk splits sorted timestamps into k·G + r (0 ≤ r < G) relative to
// base: as the timestamps increase, k usually advances by a step or two, so
// the division is needed only after a gap (a division per sample was ~5 % of
// BenchmarkAppend's CPU).
type gridWalk struct {
	g, base, k int64 // base = k·G relative to the origin
}

func newGridWalk(t0, origin, g int64) gridWalk {
	k := floorDiv(t0-origin, g)
	return gridWalk{g: g, base: origin + k*g, k: k}
}

func (w *gridWalk) next(t int64) (k, r int64) {
	d := t - w.base
	if d >= 4*w.g {
		q := d / w.g // d > 0: timestamps are sorted
		w.k += q
		w.base += q * w.g
		d -= q * w.g
	}
	for d >= w.g {
		w.k++
		w.base += w.g
		d -= w.g
	}
	return w.k, d
}

// appendGridTimestamps appends the grid encoding of ts. ok is false when ts
// does not suit it (no period, or residuals wider than 2^20). uniform reports
// residuals that look independent and uniform — a histogram of 64 buckets
// within 0.15 bit of its maximum entropy and consecutive residuals as far
// apart on average as independent ones (≥ 0.8 × R/3) — with regular grid
// indices: then the packed residuals are at their entropy and VM's delta
// coding, which exploits only dependence between neighbours, cannot win
// (a drifting clock or rare outliers over exact timestamps fail the test).
func appendGridTimestamps(dst []byte, ts []int64, sc *tsScratch) (out []byte, ok, uniform bool) {
	g := chooseGrid(ts, sc)
	if g <= 1 || g > 1<<40 {
		return dst, false, false
	}
	// ts mod G, without a division per sample.
	sc.mods = slices.Grow(sc.mods[:0], len(ts))[:len(ts)]
	mods := sc.mods
	w := newGridWalk(ts[0], 0, g)
	for i, t := range ts {
		_, mods[i] = w.next(t)
	}
	// Phase: the shortest circular arc of [0, G) covering every ts mod G,
	// found on 256 bins, then refined to the exact minimum.
	bw := (g + 255) / 256
	nb := (g + bw - 1) / bw
	clear(sc.bins[:])
	for _, m := range mods {
		sc.bins[m/bw] = true
	}
	bestLen, bestStart, run := int64(-1), int64(0), int64(0)
	for i := int64(0); i < 2*nb; i++ { // circular: two rounds
		if !sc.bins[i%nb] {
			run++
			if run > bestLen && run <= nb {
				bestLen, bestStart = run, (i+1)%nb
			}
		} else {
			run = 0
		}
	}
	shift := bestStart * bw
	if bestLen <= 0 {
		shift = 0
	}
	rmin, rmax := g, int64(-1)
	for _, m := range mods {
		r := m - shift
		if r < 0 {
			r += g
		}
		rmin = min(rmin, r)
		rmax = max(rmax, r)
	}
	phase := (shift + rmin) % g
	rng := uint64(rmax - rmin + 1)
	if rng > 1<<20 {
		return dst, false, false
	}
	// Grid indices and residuals relative to phase (residuals replace mods).
	sc.ks = sc.ks[:0]
	w = newGridWalk(ts[0], phase, g)
	k0 := w.k
	prev := k0
	var hist [64]uint32
	bucketMul := (uint64(len(hist)) << 32) / rng // r·bucketMul>>32 < 64 for r < rng
	var sumAbs uint64
	for i, t := range ts {
		k, r := w.next(t)
		if i > 0 {
			sc.ks = binary.AppendUvarint(sc.ks, uint64(k-prev))
			d := r - mods[i-1]
			if d < 0 {
				d = -d
			}
			sumAbs += uint64(d)
		}
		prev = k
		mods[i] = r
		hist[uint64(r)*bucketMul>>32]++
	}
	sc.kd = encoding.CompressZSTDLevel(sc.kd[:0], sc.ks, 3)
	dst = append(dst, tsCodecGrid)
	dst = binary.AppendUvarint(dst, uint64(g))
	dst = binary.AppendUvarint(dst, uint64(phase))
	dst = binary.AppendVarint(dst, k0)
	dst = binary.AppendUvarint(dst, rng)
	dst = binary.AppendUvarint(dst, uint64(len(sc.kd)))
	dst = append(dst, sc.kd...)
	// Residuals, mixed radix.
	per, groupBits := radixGroup(rng)
	var bw2 bitWriter
	bw2.buf = dst
	if rng > 1 {
		for i := 0; i < len(ts); i += per {
			end := min(i+per, len(ts))
			var v uint64
			for _, r := range mods[i:end] {
				v = v*rng + uint64(r)
			}
			nbits := groupBits
			if end-i < per {
				nbits = radixBits(rng, end-i)
			}
			bw2.write(v, nbits)
		}
	}
	uniform = len(sc.kd) <= len(ts)/32+32 && looksUniform(&hist, rng, sumAbs, len(ts))
	return bw2.finish(), true, uniform
}

// looksUniform is appendGridTimestamps' test of independent uniform residuals.
func looksUniform(hist *[64]uint32, rng, sumAbs uint64, n int) bool {
	if rng < 64 || n < 256 {
		return false
	}
	var h float64
	for _, c := range hist {
		if c > 0 {
			p := float64(c) / float64(n)
			h -= p * math.Log2(p)
		}
	}
	// Buckets hold ⌊64·r/R⌋: uneven by at most one residual each, which
	// costs far less than the 0.15-bit margin for R ≥ 64.
	if h < math.Log2(float64(len(hist)))-0.15 {
		return false
	}
	// E|r_i − r_{i−1}| = (R² − 1)/(3R) for independent uniform residuals.
	want := (float64(rng)*float64(rng) - 1) / (3 * float64(rng)) * float64(n-1)
	return float64(sumAbs) >= 0.8*want
}

// radixGroup returns how many residuals in [0, r) fit in 64 bits and the bits
// a full group takes.
func radixGroup(r uint64) (per, nbits int) {
	if r <= 1 {
		return 1, 0
	}
	p := uint64(1)
	for {
		hi, lo := bits.Mul64(p, r)
		if hi != 0 {
			break
		}
		p = lo
		per++
	}
	return per, bits.Len64(p - 1)
}

func radixBits(r uint64, n int) int {
	p := uint64(1)
	for i := 0; i < n; i++ {
		p *= r
	}
	return bits.Len64(p - 1)
}

type bitWriter struct {
	buf  []byte
	acc  uint64
	nacc uint
}

func (w *bitWriter) write(v uint64, n int) {
	for n > 0 {
		take := min(n, 32)
		part := v & (1<<uint(take) - 1)
		v >>= uint(take)
		n -= take
		w.acc |= part << w.nacc
		w.nacc += uint(take)
		for w.nacc >= 8 {
			w.buf = append(w.buf, byte(w.acc))
			w.acc >>= 8
			w.nacc -= 8
		}
	}
}

func (w *bitWriter) finish() []byte {
	if w.nacc > 0 {
		w.buf = append(w.buf, byte(w.acc))
	}
	return w.buf
}

type bitReader struct {
	src  []byte
	acc  uint64
	nacc uint
}

func (r *bitReader) read(n int) (uint64, bool) {
	var v uint64
	var got uint
	for n > 0 {
		take := min(n, 32)
		for r.nacc < uint(take) {
			if len(r.src) == 0 {
				return 0, false
			}
			r.acc |= uint64(r.src[0]) << r.nacc
			r.src = r.src[1:]
			r.nacc += 8
		}
		part := r.acc & (1<<uint(take) - 1)
		r.acc >>= uint(take)
		r.nacc -= uint(take)
		v |= part << got
		got += uint(take)
		n -= take
	}
	return v, true
}

var errBlockShort = errors.New("block truncated")

// decodeTimestamps decodes n timestamps from p, appending to dst. It returns
// the rest of p.
func decodeTimestamps(dst []int64, p []byte, n int, sc *tsScratch) ([]int64, []byte, error) {
	if len(p) == 0 {
		return dst, p, errBlockShort
	}
	codec := p[0]
	p = p[1:]
	switch codec {
	case tsCodecVM:
		if len(p) == 0 {
			return dst, p, errBlockShort
		}
		mt := encoding.MarshalType(p[0])
		if err := encoding.CheckMarshalType(mt); err != nil {
			return dst, p, err
		}
		p = p[1:]
		first, k := binary.Varint(p)
		if k <= 0 {
			return dst, p, errBlockShort
		}
		p = p[k:]
		l, k := binary.Uvarint(p)
		if k <= 0 || l > uint64(len(p)-k) {
			return dst, p, errBlockShort
		}
		p = p[k:]
		out, err := safeUnmarshalInt64s(dst, p[:l], mt, first, n)
		if err != nil {
			return dst, p, err
		}
		return out, p[l:], nil
	case tsCodecGrid:
		var vals [5]uint64
		var k int
		for i := range vals {
			if i == 2 { // k0 is signed
				var s int64
				s, k = binary.Varint(p)
				vals[i] = uint64(s)
			} else {
				vals[i], k = binary.Uvarint(p)
			}
			if k <= 0 {
				return dst, p, errBlockShort
			}
			p = p[k:]
		}
		g, phase, k0, rng, kdLen := int64(vals[0]), int64(vals[1]), int64(vals[2]), vals[3], vals[4]
		if g <= 1 || g > 1<<40 || phase < 0 || phase >= g || rng == 0 || rng > 1<<20 || kdLen > uint64(len(p)) {
			return dst, p, errors.New("bad grid header")
		}
		var err error
		sc.ks, err = decompressZSTD(sc.ks[:0], p[:kdLen], 10*n+16)
		if err != nil {
			return dst, p, err
		}
		p = p[kdLen:]
		start := len(dst)
		dst = slices.Grow(dst, n)[:start+n]
		out := dst[start:]
		// grid indices: deltas ≥ 0 from k0, so only the upper bound needs a check per
		// sample; one-byte deltas (all of a regular series) skip Uvarint
		kk := k0
		ks := sc.ks
		if n == 0 {
			return dst[:start], p, errors.New("empty grid section")
		}
		if kk > 1<<50 || kk < -(1<<50) {
			return dst[:start], p, errors.New("bad grid index")
		}
		out[0] = phase + kk*g
		i := 1
		if len(ks) == n-1 { // n-1 deltas in n-1 bytes: one byte each (a regular series)
			var or byte
			for j, d := range ks {
				or |= d
				kk += int64(d)
				out[j+1] = phase + kk*g
			}
			if or < 0x80 && kk <= 1<<50 { // kk only grew: its last value bounds all
				i, ks = n, nil
			} else {
				kk = k0 // damaged: the checked loop below says how
			}
		}
		for ; i < n; i++ {
			if len(ks) > 0 && ks[0] < 0x80 {
				kk += int64(ks[0])
				ks = ks[1:]
			} else {
				d, m := binary.Uvarint(ks)
				if m <= 0 || d > 1<<50 {
					return dst[:start], p, errors.New("bad grid deltas")
				}
				ks = ks[m:]
				kk += int64(d)
			}
			if kk > 1<<50 {
				return dst[:start], p, errors.New("bad grid index")
			}
			out[i] = phase + kk*g
		}
		if len(ks) != 0 {
			return dst[:start], p, errors.New("trailing grid deltas")
		}
		if rng > 1 {
			per, groupBits := radixGroup(rng)
			br := bitReader{src: p}
			for i := 0; i < n; i += per {
				end := min(i+per, n)
				nb := groupBits
				if end-i < per {
					nb = radixBits(rng, end-i)
				}
				v, ok := br.read(nb)
				if !ok {
					return dst[:start], p, errBlockShort
				}
				for j := end - 1; j >= i; j-- {
					out[j] += int64(v % rng)
					v /= rng
				}
				if v != 0 {
					return dst[:start], p, errors.New("bad residual group")
				}
			}
			p = br.src
		}
		return dst, p, nil
	}
	return dst, p, errors.New("unknown timestamp codec")
}

// safeUnmarshalInt64s wraps VM's decoder, which trusts its input in places,
// so damaged bytes become an error rather than a panic.
func safeUnmarshalInt64s(dst []int64, src []byte, mt encoding.MarshalType, first int64, n int) (out []int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = dst, errors.New("damaged VM-encoded column")
		}
	}()
	return encoding.UnmarshalValues(dst, src, mt, first, n)
}
