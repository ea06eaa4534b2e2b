package tsdb

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/encoding"
)

// appendFloatsRef is the straightforward encoder appendFloats must match
// byte for byte: FloatToDecimal on every value, then every mantissa scaled
// to the smallest exponent.
func appendFloatsRef(dst []byte, nums []uint64) []byte {
	mant := make([]int64, 0, len(nums))
	exps := make([]int16, 0, len(nums))
	minExp := int16(0)
	ok := true
	for _, u := range nums {
		m, e, good := FloatToDecimal(math.Float64frombits(u))
		if !good {
			ok = false
			break
		}
		mant, exps = append(mant, m), append(exps, e)
		minExp = min(minExp, e)
	}
	for i := 0; ok && i < len(exps); i++ {
		if d := exps[i] - minExp; d > 0 {
			m := mant[i] * pow10i[d]
			if m/pow10i[d] != mant[i] || m >= 1<<53 || m <= -(1<<53) {
				ok = false
			}
			mant[i] = m
		}
	}
	if ok {
		enc, mt, first := encoding.MarshalValues(nil, mant, 64)
		dst = append(dst, valCodecDecimal)
		dst = binary.AppendVarint(dst, int64(minExp))
		dst = append(dst, byte(mt))
		dst = binary.AppendVarint(dst, first)
		dst = binary.AppendUvarint(dst, uint64(len(enc)))
		return append(dst, enc...)
	}
	raw := make([]byte, 0, 8*len(nums))
	for _, u := range nums {
		raw = binary.LittleEndian.AppendUint64(raw, u)
	}
	enc := encoding.CompressZSTDLevel(nil, raw, 3)
	dst = append(dst, valCodecRawF64)
	dst = binary.AppendUvarint(dst, uint64(len(enc)))
	return append(dst, enc...)
}

// TestAppendFloatsMatchesReference: the scale-guessing encoder writes exactly
// what FloatToDecimal per value would, for decimal sensor values with mixed
// digit counts, large integers near the 10^15 and 2^53 limits, and the
// values that force raw floats (NaN, ±Inf, −0, 17-digit values).
func TestAppendFloatsMatchesReference(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	specials := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), pointOne + 0.2,
		1e15, 1e15 - 1, 999999999999999, 1 << 53, 1<<53 - 1, 1e14, 123456.789, 1e-15, 5e-16, 0.5, -2.5, 1e-7}
	sc := getCodecScratch()
	defer putCodecScratch(sc)
	for iter := 0; iter < 3000; iter++ {
		n := 1 + r.Intn(300)
		nums := make([]uint64, n)
		digits := r.Intn(6)
		for i := range nums {
			var f float64
			switch p := r.Intn(100); {
			case p < 2 && iter%3 == 0:
				f = specials[r.Intn(len(specials))]
			case p < 10:
				f = float64(r.Int63n(2e6)-1e6) / math.Pow(10, float64(r.Intn(8)))
			case p < 12 && iter%5 == 0:
				f = float64(r.Int63n(1 << 53))
			default:
				f = float64(r.Int63n(2e5)-1e5) / math.Pow(10, float64(digits))
			}
			nums[i] = math.Float64bits(f)
		}
		got := appendFloats(nil, nums, sc)
		want := appendFloatsRef(nil, nums)
		if !bytes.Equal(got, want) {
			t.Fatalf("iter %d: appendFloats differs from the reference (codec %d vs %d) for %v", iter, got[0], want[0], nums)
		}
	}
}
