package tsdb

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/cockroachdb/pebble/v2"

	"github.com/tsgate/tsgate/bench/dataset"
)

var (
	benchObjects       = flag.Int("tsdb.objects", dataset.StandardObjects, "objects of the standard dataset in BenchmarkBytesPerSample")
	benchPoints        = flag.Int("tsdb.points", dataset.StandardPoints, "points per object in BenchmarkBytesPerSample")
	benchAppenders     = flag.Int("tsdb.appenders", 4, "concurrent appenders of BenchmarkAppend")
	benchDir           = flag.String("tsdb.benchdir", "", "directory for benchmark stores (default: a temp dir)")
	benchReplaySamples = flag.Int("tsdb.replay.samples", 5_000_000, "head samples of BenchmarkReplay")
)

func benchTempDir(b *testing.B) string {
	if *benchDir != "" {
		d, err := os.MkdirTemp(*benchDir, "tsdb-bench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	return b.TempDir()
}

// standardBatches cuts the first n samples of the standard dataset into
// batches of size per (time-major, as ingest would receive them).
func standardBatches(objects, points, per int) []*Batch {
	g := dataset.New(dataset.Config{Objects: objects, Points: points})
	var out []*Batch
	cur := &Batch{}
	for s, ok := g.Next(); ok; s, ok = g.Next() {
		cur.AddFloat(s.ID, s.TS, s.Value)
		if cur.Len() == per {
			out = append(out, cur)
			cur = &Batch{}
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur)
	}
	return out
}

// BenchmarkAppend: durable appends (pebble.Sync, group commit) of batches of
// 5000 samples of the standard dataset from 4 concurrent appenders. One op =
// one batch. Flushes of the head run in the background and are included.
func BenchmarkAppend(b *testing.B) {
	const per = 5000
	appenders := *benchAppenders
	const objects = dataset.StandardObjects
	points := 1200 // 12 M samples, 2400 distinct batches; later rounds shift time
	batches := standardBatches(objects, points, per)
	db, err := Open(benchTempDir(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	createSeriesBulk(b, db, objects, Float)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	t0 := time.Now()
	cpu0 := cpuTime()
	var wg sync.WaitGroup
	for w := 0; w < appenders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine Batch
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				src := batches[i%len(batches)]
				round := int64(i / len(batches))
				mine.setShifted(src, round*int64(points)*60000)
				if err := db.Append(context.Background(), &mine, Reject); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := db.Flush(); err != nil { // the flush work the appends caused
		b.Fatal(err)
	}
	el := time.Since(t0)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	// CPU time per sample is what a busy shared machine does not distort:
	// 2 idle cores give at most 2e9 / cpu-ns-per-sample samples/s.
	b.ReportMetric(float64(cpu.Nanoseconds())/(float64(b.N)*per), "cpu-ns/sample")
	b.ReportMetric(float64(b.N)*per/el.Seconds(), "samples/s")
	b.ReportMetric(float64(el.Nanoseconds())/(float64(b.N)*per), "ns/sample")
	b.ReportMetric(float64(db.m.flushes.Get()), "flushes")
}

// BenchmarkScanYear scans one object's year at one sample a minute (525 600
// samples from 2025-01-01, compacted blocks). One op = the whole year.
func BenchmarkScanYear(b *testing.B) {
	db, err := Open(benchTempDir(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateSeriesNow(1, Float); err != nil {
		b.Fatal(err)
	}
	g := dataset.New(dataset.Config{Objects: 1, Points: 365 * 24 * 60, Start: dataset.YearStart})
	var bt Batch
	for s, ok := g.Next(); ok; s, ok = g.Next() {
		bt.AddFloat(1, s.TS, s.Value)
		if bt.Len() == 5000 {
			if err := db.Append(context.Background(), &bt, Reject); err != nil {
				b.Fatal(err)
			}
			bt.Reset()
		}
	}
	if err := db.Append(context.Background(), &bt, Reject); err != nil {
		b.Fatal(err)
	}
	if err := db.Compact(context.Background()); err != nil {
		b.Fatal(err)
	}
	from := dataset.YearStart.UnixMilli()
	to := from + 365*24*3600*1000 - 1
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	var sum float64
	for i := 0; i < b.N; i++ {
		it, err := db.Scan(1, from, to)
		if err != nil {
			b.Fatal(err)
		}
		n = 0
		for it.Next() {
			sum += it.Float()
			n++
		}
		if err := it.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n != 525600 {
		b.Fatalf("scanned %d samples, want 525600", n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/scan")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/sample")
}

// BenchmarkBytesPerSample ingests the standard dataset (scaled by
// -tsdb.objects / -tsdb.points), compacts, and reports
// tsgate_tsdb_blocks_bytes / tsgate_tsdb_samples, with the WAL and the data
// directory's total beside it. Run with -benchtime=1x.
func BenchmarkBytesPerSample(b *testing.B) {
	for i := 0; i < b.N; i++ {
		dir := benchTempDir(b)
		db, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		objects, points := *benchObjects, *benchPoints
		createSeriesBulk(b, db, objects, Float)
		g := dataset.New(dataset.Config{Objects: objects, Points: points})
		var bt Batch
		t0 := time.Now()
		for s, ok := g.Next(); ok; s, ok = g.Next() {
			bt.AddFloat(s.ID, s.TS, s.Value)
			if bt.Len() == 5000 {
				if err := db.Append(context.Background(), &bt, Reject); err != nil {
					b.Fatal(err)
				}
				bt.Reset()
			}
		}
		if bt.Len() > 0 {
			if err := db.Append(context.Background(), &bt, Reject); err != nil {
				b.Fatal(err)
			}
		}
		ingest := time.Since(t0)
		t1 := time.Now()
		if err := db.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
		compact := time.Since(t1)
		blocksBytes, _ := db.pdb.EstimateDiskUsage(blockStart, blockEnd)
		walBytes, _ := db.pdb.EstimateDiskUsage(walStart, walEnd)
		samples := db.totalSamples.Load()
		var raw int64
		sc := getCodecScratch()
		it, _ := db.pdb.NewIter(nil)
		for it.SeekGE(blockStart); it.Valid() && it.Key()[0] == prefixBlock; it.Next() {
			raw += int64(len(it.Key()) + len(it.Value()))
		}
		it.Close()
		putCodecScratch(sc)
		db.Close()
		total := dirSize(dir)
		if testing.Verbose() {
			logDirFiles(b, dir)
		}
		b.ReportMetric(float64(blocksBytes)/float64(samples), "B/sample")
		b.ReportMetric(float64(raw)/float64(samples), "raw-B/sample")
		b.ReportMetric(float64(total)/float64(samples), "dir-B/sample")
		b.ReportMetric(float64(walBytes), "wal-bytes")
		b.ReportMetric(float64(samples), "samples")
		b.ReportMetric(float64(samples)/ingest.Seconds(), "ingest-samples/s")
		b.ReportMetric(compact.Seconds(), "compact-s")
	}
}

func logDirFiles(b *testing.B, dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Size() > 1<<20 {
			b.Logf("%12d %s", info.Size(), e.Name())
		}
	}
}

// createSeriesBulk creates series 1..n in batches of 10 000 (one fsync each).
func createSeriesBulk(tb testing.TB, db *DB, n int, t ValueType) {
	tb.Helper()
	for lo := 1; lo <= n; lo += 10000 {
		pb := db.Pebble().NewBatch()
		for id := lo; id < lo+10000 && id <= n; id++ {
			if err := db.CreateSeries(pb, uint32(id), t); err != nil {
				tb.Fatal(err)
			}
		}
		if err := pb.Commit(pebble.Sync); err != nil {
			tb.Fatal(err)
		}
		pb.Close()
	}
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// BenchmarkHeadPerObject appends a few samples to each of 100 k objects and
// reports head bytes per active object and the process RSS.
func BenchmarkHeadPerObject(b *testing.B) {
	const objects = 100_000
	for i := 0; i < b.N; i++ {
		db, err := Open(benchTempDir(b), Options{})
		if err != nil {
			b.Fatal(err)
		}
		createSeriesBulk(b, db, objects, Float)
		batches := standardBatches(objects, 10, 5000)
		for _, bt := range batches {
			if err := db.Append(context.Background(), bt, Reject); err != nil {
				b.Fatal(err)
			}
		}
		var heap int64
		db.tab.mu.RLock()
		db.tab.forEachLocked(func(s *series) { heap += s.head.bytes() + int64(unsafe.Sizeof(*s)) + 8 })
		db.tab.mu.RUnlock()
		b.ReportMetric(float64(db.headBytes.Load())/objects, "head-B/object")
		b.ReportMetric(float64(heap)/objects, "heap-B/object")
		b.ReportMetric(float64(rssBytes())/(1<<20), "RSS-MiB")
		db.Close()
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkReplay measures Open's WAL replay of a head of -tsdb.replay.samples
// samples of the standard dataset (no flush before Close).
func BenchmarkReplay(b *testing.B) {
	dir := benchTempDir(b)
	n := *benchReplaySamples
	objects := dataset.StandardObjects
	db, err := Open(dir, Options{HeadBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	createSeriesBulk(b, db, objects, Float)
	for _, bt := range standardBatches(objects, n/objects, 5000) {
		if err := db.Append(context.Background(), bt, Reject); err != nil {
			b.Fatal(err)
		}
	}
	headBytes := db.headBytes.Load()
	db.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		db, err := Open(dir, Options{HeadBytes: 1 << 40})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if db.headSamples.Load() != int64(n) {
			b.Fatalf("replayed %d samples, want %d", db.headSamples.Load(), n)
		}
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)/(b.Elapsed().Seconds()/float64(b.N)), "samples/s")
	b.ReportMetric(float64(headBytes)/(1<<20), "head-MiB")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*float64(DefaultHeadBytes)/float64(headBytes), "s-per-default-head")
}

// setShifted makes b a copy of src (numeric samples) with every timestamp
// moved by dt: the benchmarks replay their batches round after round.
func (b *Batch) setShifted(src *Batch, dt int64) {
	b.Reset()
	b.ids = append(b.ids, src.ids...)
	b.types = append(b.types, src.types...)
	b.nums = append(b.nums, src.nums...)
	for _, ts := range src.ts {
		b.ts = append(b.ts, ts+dt)
	}
}
