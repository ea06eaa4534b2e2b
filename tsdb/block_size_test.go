package tsdb

import (
	"math"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/encoding"
	"github.com/tsgate/tsgate/bench/dataset"
)

// standardColumns returns per-object timestamps and float bits for a slice of
// the standard dataset.
func standardColumns(objects, points int) ([][]int64, [][]uint64) {
	g := dataset.New(dataset.Config{Objects: objects, Points: points})
	ts := make([][]int64, objects)
	vs := make([][]uint64, objects)
	for s, ok := g.Next(); ok; s, ok = g.Next() {
		ts[s.Object] = append(ts[s.Object], s.TS)
		vs[s.Object] = append(vs[s.Object], math.Float64bits(s.Value))
	}
	return ts, vs
}

// TestBlockSizeReport prints bytes/sample of each codec on the standard
// dataset (run with -v; it checks only that the chosen codec is no worse).
func TestBlockSizeReport(t *testing.T) {
	objects, points := 300, dataset.StandardPoints
	if testing.Short() {
		objects = 30
	}
	ts, vs := standardColumns(objects, points)
	for _, bs := range []int{1024, 8192, 16384} {
		var nBlock, nVMts, nGridTs, nVMvals, nSamples int
		sc := getCodecScratch()
		for o := range ts {
			for i := 0; i < len(ts[o]); i += bs {
				end := min(i+bs, len(ts[o]))
				t1, v1 := ts[o][i:end], vs[o][i:end]
				nSamples += len(t1)
				nBlock += len(appendBlock(nil, Float, t1, v1, nil, sc))
				enc, _, _ := encoding.MarshalTimestamps(nil, t1, 64)
				nVMts += len(enc)
				g, ok, _ := appendGridTimestamps(nil, t1, &sc.ts)
				if ok {
					nGridTs += len(g)
				} else {
					nGridTs += len(enc)
				}
				// VM baseline for values: VM's own lossy-free decimal conversion.
				ints, _ := decimalInts(v1)
				enc2, _, _ := encoding.MarshalValues(nil, ints, 64)
				nVMvals += len(enc2)
			}
		}
		putCodecScratch(sc)
		f := float64(nSamples)
		t.Logf("block %5d: block %.3f B/sample (ts VM %.3f, ts grid %.3f, values %.3f)",
			bs, float64(nBlock)/f, float64(nVMts)/f, float64(nGridTs)/f, float64(nVMvals)/f)
	}
}

func decimalInts(v []uint64) ([]int64, int16) {
	out := make([]int64, len(v))
	es := make([]int16, len(v))
	me := int16(0)
	for i, u := range v {
		m, e, _ := FloatToDecimal(math.Float64frombits(u))
		out[i], es[i] = m, e
		me = min(me, e)
	}
	for i := range out {
		for e := es[i]; e > me; e-- {
			out[i] *= 10
		}
	}
	return out, me
}

// BenchmarkEncodeBlock encodes float blocks of 1500 samples of the standard
// dataset, the size BenchmarkAppend's flushes write (one head per object).
func BenchmarkEncodeBlock(b *testing.B) {
	ts, vs := standardColumns(30, 1500)
	sc := getCodecScratch()
	defer putCodecScratch(sc)
	var buf []byte
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := threadCPUTime()
	for i := 0; i < b.N; i++ {
		o := i % len(ts)
		buf = appendBlock(buf[:0], Float, ts[o], vs[o], nil, sc)
	}
	// Thread CPU time: what a shared, loaded machine distorts least.
	b.ReportMetric(float64((threadCPUTime()-cpu0).Nanoseconds())/float64(b.N*1500), "cpu-ns/sample")
}

// threadCPUTime is the calling thread's CPU time (lock the goroutine to its
// thread around a measurement).
func threadCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
