package tsdb

import (
	"math"
	"math/rand"
	"testing"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/encoding"
)

// TestTimestampCodecChoice: the encoder skips VM's codec only for residuals
// that look like independent uniform jitter, and never writes more than VM
// (plus the codec byte and header) for the shapes where VM wins.
func TestTimestampCodecChoice(t *testing.T) {
	const n = 8192
	r := rand.New(rand.NewSource(1))
	start := int64(1767225600000) // 2026-01-01
	gen := func(f func(i int) int64) []int64 {
		ts := make([]int64, n)
		for i := range ts {
			ts[i] = f(i)
		}
		return ts
	}
	sc := getCodecScratch()
	defer putCodecScratch(sc)
	f := func(name string, ts []int64, wantUniform bool, wantCodec byte) {
		t.Helper()
		_, ok, uniform := appendGridTimestamps(nil, ts, &sc.ts)
		if !ok || uniform != wantUniform {
			t.Errorf("%s: grid ok %v, uniform %v; want true, %v", name, ok, uniform, wantUniform)
		}
		enc := appendTimestamps(nil, ts, &sc.ts)
		if enc[0] != wantCodec {
			t.Errorf("%s: codec %d, want %d", name, enc[0], wantCodec)
		}
		vm, _, _ := encoding.MarshalTimestamps(nil, ts, 64)
		if len(enc) > len(vm)+16 {
			t.Errorf("%s: %d bytes, VM alone %d", name, len(enc), len(vm))
		}
		got, rest, err := decodeTimestamps(nil, enc, len(ts), &sc.ts)
		if err != nil || len(rest) != 0 || len(got) != len(ts) {
			t.Fatalf("%s: decode: %v (rest %d, %d of %d)", name, err, len(rest), len(got), len(ts))
		}
		for i := range ts {
			if got[i] != ts[i] {
				t.Fatalf("%s: ts[%d] = %d, want %d", name, i, got[i], ts[i])
			}
		}
		t.Logf("%-28s %.3f B/sample (VM %.3f)", name, float64(len(enc))/n, float64(len(vm))/n)
	}
	f("standard jitter U[0,400)", gen(func(i int) int64 { return start + int64(i)*60000 + r.Int63n(400) }), true, tsCodecGrid)
	f("wide jitter U[0,5000) at 10 s", gen(func(i int) int64 { return start + int64(i)*10000 + r.Int63n(5000) }), true, tsCodecGrid)
	f("drifting clock 60.1 s", gen(func(i int) int64 { return start + int64(i)*60100 }), false, tsCodecVM)
	f("exact with 1 % outliers", gen(func(i int) int64 {
		if r.Intn(100) == 0 {
			return start + int64(i)*60000 + 1 + r.Int63n(300)
		}
		return start + int64(i)*60000
	}), false, tsCodecVM)
	f("alternating 0/399", gen(func(i int) int64 { return start + int64(i)*60000 + int64(i%2)*399 }), false, tsCodecVM)
	f("jitter on a slow wave", gen(func(i int) int64 {
		return start + int64(i)*60000 + int64(2000+2000*math.Sin(float64(i)/200)) + r.Int63n(10)
	}), false, tsCodecVM)
}
