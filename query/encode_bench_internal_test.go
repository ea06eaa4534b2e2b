package query

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/tsdb"
)

// BenchmarkEncodeYear is the server's side of BenchmarkYearRaw without sockets: scan one
// object's year at 1/min (525 600 samples from 2025-01-01) and encode it into io.Discard.
func BenchmarkEncodeYear(b *testing.B) {
	db, err := tsdb.Open(b.TempDir(), tsdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateSeriesNow(1, tsdb.Float); err != nil {
		b.Fatal(err)
	}
	const n = 525_600
	r := rand.New(rand.NewPCG(42, 0))
	v := 20.0
	var batch tsdb.Batch
	for p := range n {
		v += r.NormFloat64() * 0.05
		batch.AddFloat(1, 1735689600000+int64(p)*60_000, math.Round(v*100)/100)
	}
	if err := db.Append(context.Background(), &batch, tsdb.Overwrite); err != nil {
		b.Fatal(err)
	}
	if err := db.Compact(context.Background()); err != nil {
		b.Fatal(err)
	}
	h := &Handler{db: db}
	t := target{id: 1, typ: tsdb.Float}
	spans := []span{{1735689600000, 1767225600000}}
	for _, f := range []struct {
		name string
		f    format
	}{{"csv", formatCSV}, {"json", formatJSON}} {
		b.Run(f.name, func(b *testing.B) {
			var bytes int64
			var ru0 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			for b.Loop() {
				o := getOut(io.Discard)
				e := &encoder{f: f.f}
				e.begin(o)
				e.object(1)
				if err := h.writeRaw(o, e, &t, spans, 0); err != nil {
					b.Fatal(err)
				}
				e.end(o)
				_ = o.flush()
				bytes = o.n
				putOut(o)
			}
			var ru1 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
			b.SetBytes(bytes)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/sample")
			b.ReportMetric(float64(cpu)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

// BenchmarkTsText: the timestamp text of a year at 1/min (tsText.put + store)
// beside api.AppendDateTime per sample.
func BenchmarkTsText(b *testing.B) {
	const start = 1735689600000
	var dst [64]byte
	b.Run("incremental", func(b *testing.B) {
		var tt tsText
		ms := int64(start)
		for b.Loop() {
			tt.put(ms)
			tt.store(dst[:])
			ms += 60_000
		}
	})
	b.Run("AppendDateTime", func(b *testing.B) {
		ms := int64(start)
		for b.Loop() {
			api.AppendDateTime(dst[:0], ms)
			ms += 60_000
		}
	})
}

// BenchmarkDecimalFixed: a 2-decimal temperature printed from its mantissa (putDecimalFixed)
// beside appendDecimalCanonical.
func BenchmarkDecimalFixed(b *testing.B) {
	var dst [64]byte
	mants := make([]int64, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range mants {
		mants[i] = 1500 + r.Int64N(1000)
	}
	b.Run("fixed", func(b *testing.B) {
		i := 0
		for b.Loop() {
			putDecimalFixed(dst[:], mants[i&4095], 2)
			i++
		}
	})
	b.Run("canonical", func(b *testing.B) {
		i := 0
		for b.Loop() {
			appendDecimalCanonical(dst[:0], mants[i&4095], -2)
			i++
		}
	})
}
