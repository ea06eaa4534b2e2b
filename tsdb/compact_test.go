package tsdb

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// TestBackgroundMerges: flushes of late data leave overlapping blocks, and
// many small flushes leave small blocks; the background pass merges both
// without losing or reordering anything, and Compact leaves ⌈n/max⌉ blocks.
func TestBackgroundMerges(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{MaxBlockSamples: 64})
	defer db.Close()
	mustCreate(t, db, 1, Int)
	ctx := context.Background()
	var b Batch
	want := 0
	for round := 0; round < 16; round++ {
		b.Reset()
		for i := 0; i < 5; i++ { // 5 < 64/4: a small block each flush
			b.AddInt(1, int64(round*100+i), int64(round))
			want++
		}
		if round%4 == 3 { // late data inside earlier blocks
			b.AddInt(1, int64((round-2)*100+50), -1)
			want++
		}
		if err := db.Append(ctx, &b, Reject); err != nil {
			t.Fatal(err)
		}
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for db.blocks.Load() > 4 {
		if time.Now().After(deadline) {
			t.Fatalf("background merges left %d blocks", db.blocks.Load())
		}
		runtime.Gosched()
	}
	ts, _ := scanAll(t, db, 1, MinTimestamp, MaxTimestamp)
	if len(ts) != want {
		t.Fatalf("%d samples after merges, want %d", len(ts), want)
	}
	if err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.countBlocks(1); n != int64((want+63)/64) || db.blocks.Load() != n {
		t.Fatalf("after Compact: %d blocks (gauge %d), want %d", n, db.blocks.Load(), (want+63)/64)
	}
}

// TestMergesKeepWALInMemtable: background block merges are ingested as
// sstables, not committed through the memtable, so the flushes after them
// do not have to flush the memtable first — and with it every WAL record
// appended since the previous flush, which then went to L0 and through
// compactions (≈ 6.5 B a sample under load).
func TestMergesKeepWALInMemtable(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{MaxBlockSamples: 64})
	defer db.Close()
	mustCreate(t, db, 1, Int)
	flushSmallBlock(t, db, 0) // flushes the memtable holding the series' creation
	memFlushes := db.pdb.Metrics().Flush.Count
	deadline := time.Now().Add(20 * time.Second)
	for round := 1; round < 40; round++ {
		flushSmallBlock(t, db, round)
		// Let the merges every 8th small flush queues run before the next
		// flush.
		for db.merging.Load() {
			if time.Now().After(deadline) {
				t.Fatal("background merges did not run")
			}
			runtime.Gosched()
		}
	}
	for db.blocks.Load() > 8 { // merged: 40 flushes left 40 blocks
		if time.Now().After(deadline) {
			t.Fatalf("background merges left %d blocks", db.blocks.Load())
		}
		runtime.Gosched()
	}
	if n := db.pdb.Metrics().Flush.Count - memFlushes; n != 0 {
		t.Fatalf("%d memtable flushes during 39 flushes and their merges, want 0", n)
	}
	if ts, _ := scanAll(t, db, 1, MinTimestamp, MaxTimestamp); len(ts) != 40*5 {
		t.Fatalf("%d samples, want %d", len(ts), 40*5)
	}
}

// TestMergeOverPendingMerge: a merge of an object whose earlier merge is
// still pending (not ingested) lists the blocks after that merge, so the
// blocks the pending merge wrote do not survive beside the new ones.
func TestMergeOverPendingMerge(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{MaxBlockSamples: 64})
	defer db.Close()
	mustCreate(t, db, 1, Int)
	for round := 0; round < 5; round++ { // five small blocks: no background merge yet
		flushSmallBlock(t, db, round)
	}
	if did, err := db.compactSeries(1, MinTimestamp, MaxTimestamp, false); err != nil || !did {
		t.Fatalf("small blocks not merged: %v %v", did, err)
	}
	if did, err := db.compactSeries(1, MinTimestamp, MaxTimestamp, true); err != nil {
		t.Fatal(did, err)
	}
	db.flushMu.Lock()
	err := db.ingestMergesLocked()
	db.flushMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := db.countBlocks(1); n != 1 || db.blocks.Load() != 1 {
		t.Fatalf("%d blocks (gauge %d) after two merges of 25 samples, want 1", n, db.blocks.Load())
	}
	if ts, _ := scanAll(t, db, 1, MinTimestamp, MaxTimestamp); len(ts) != 25 {
		t.Fatalf("%d samples, want 25", len(ts))
	}
}

// flushSmallBlock appends 5 samples of int series 1 at round·100 + i and
// flushes them: a small block (under MaxBlockSamples/4 for 64) a call.
func flushSmallBlock(t *testing.T, db *DB, round int) {
	t.Helper()
	var b Batch
	for i := 0; i < 5; i++ {
		b.AddInt(1, int64(round*100+i), int64(round))
	}
	if err := db.Append(context.Background(), &b, Reject); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestLargeStringsSplit: string blocks are cut at maxStringBlockBytes.
func TestLargeStringsSplit(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{})
	defer db.Close()
	mustCreate(t, db, 1, String)
	var b Batch
	big := make([]byte, MaxStringLen)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	for i := 0; i < 100; i++ {
		big[0] = byte(i)
		b.AddString(1, int64(i), big)
	}
	if err := db.Append(context.Background(), &b, Reject); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.countBlocks(1); n < 2 {
		t.Fatalf("6.4 MB of strings in %d block(s)", n)
	}
	_, vs := scanAll(t, db, 1, 0, 99)
	if len(vs) != 100 || vs[42].str[0] != 42 || len(vs[99].str) != MaxStringLen {
		t.Fatalf("read back %d values", len(vs))
	}
}
