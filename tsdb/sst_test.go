package tsdb

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// TestBatchSSTMatchesApply: a random batch (sets, deletes, range deletions,
// repeated keys, keys of several prefixes in any order) ingested as the
// flush writes it leaves the store exactly as applying the batch does.
func TestBatchSSTMatchesApply(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			a := openTest(t, t.TempDir(), Options{})
			defer a.Close()
			b := openTest(t, t.TempDir(), Options{})
			defer b.Close()
			key := func() []byte {
				p := []string{"xa", "xb", "y", "za"}[rng.IntN(4)]
				return fmt.Appendf(nil, "%s%03d", p, rng.IntN(60))
			}
			// The same data in both stores first, so range deletions and
			// deletes have something older to remove.
			for _, db := range []*DB{a, b} {
				r := rand.New(rand.NewPCG(seed, 99))
				for i := 0; i < 80; i++ {
					k := fmt.Appendf(nil, "%s%03d", []string{"xa", "xb", "y", "za"}[r.IntN(4)], r.IntN(60))
					if err := db.pdb.Set(k, []byte("old"), pebble.NoSync); err != nil {
						t.Fatal(err)
					}
				}
			}
			pa, pb := a.pdb.NewBatch(), b.pdb.NewBatch()
			for i := 0; i < 200; i++ {
				k, v := key(), fmt.Appendf(nil, "v%d", i)
				switch n := rng.IntN(10); {
				case n < 6:
					_ = pa.Set(k, v, nil)
					_ = pb.Set(k, v, nil)
				case n < 8:
					_ = pa.Delete(k, nil)
					_ = pb.Delete(k, nil)
				default:
					end := append(bytes.Clone(k), byte('0'+rng.IntN(10)))
					if seed%2 == 1 && rng.IntN(3) == 0 {
						// Odd seeds: ranges across key prefixes (one table);
						// even seeds: within one (a table per first byte).
						end = key()
					}
					if bytes.Compare(k, end) >= 0 {
						k, end = end, k
					}
					_ = pa.DeleteRange(k, end, nil)
					_ = pb.DeleteRange(k, end, nil)
				}
			}
			if err := pa.Commit(pebble.Sync); err != nil {
				t.Fatal(err)
			}
			paths, err := b.writeBatchSST(pb, t.TempDir(), &b.sst)
			if err != nil {
				t.Fatal(err)
			}
			if seed%2 == 0 && len(paths) < 2 {
				t.Fatalf("%d tables for keys of three first bytes", len(paths))
			}
			if len(paths) > 0 {
				if err := b.pdb.Ingest(context.Background(), paths); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := dumpRange(t, b.pdb, "x", "{"), dumpRange(t, a.pdb, "x", "{"); got != want {
				t.Fatalf("ingested:\n%s\napplied:\n%s", got, want)
			}
		})
	}
}

func dumpRange(t *testing.T, p *pebble.DB, lo, hi string) string {
	t.Helper()
	it, err := p.NewIter(&pebble.IterOptions{LowerBound: []byte(lo), UpperBound: []byte(hi)})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var sb bytes.Buffer
	for it.First(); it.Valid(); it.Next() {
		fmt.Fprintf(&sb, "%s=%s\n", it.Key(), it.Value())
	}
	return sb.String()
}

// TestReplaySkipsFlushedWAL: a crash between a flush's ingestion and the
// deletion of the WAL records it holds leaves records that replay must skip:
// replayed, they would come back as head samples (flushed again, counted
// again by the rollups as late data).
func TestReplaySkipsFlushedWAL(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, Options{})
	pb := db.Pebble().NewBatch()
	if err := db.CreateSeries(pb, 3, Float); err != nil {
		t.Fatal(err)
	}
	if err := pb.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	var b Batch
	for i := int64(0); i < 100; i++ {
		b.AddFloat(3, 1_700_000_000_000+i*60_000, float64(i))
	}
	if err := db.Append(context.Background(), &b, Reject); err != nil {
		t.Fatal(err)
	}
	type kv struct{ k, v []byte }
	var wal []kv
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: walStart, UpperBound: walEnd})
	if err != nil {
		t.Fatal(err)
	}
	for it.First(); it.Valid(); it.Next() {
		wal = append(wal, kv{bytes.Clone(it.Key()), bytes.Clone(it.Value())})
	}
	_ = it.Close()
	if len(wal) == 0 {
		t.Fatal("no WAL record before the flush")
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, r := range wal { // as if the process died before deleting them
		if err := db.pdb.Set(r.k, r.v, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir, Options{})
	defer db.Close()
	if n := db.headSamples.Load(); n != 0 {
		t.Fatalf("head after reopen holds %d samples, want 0 (flushed records replayed)", n)
	}
	if n, err := db.Count(3); err != nil || n != 100 {
		t.Fatalf("Count = %d, %v; want 100", n, err)
	}
	// New appends get sequences above the cut and survive a restart.
	b.Reset()
	b.AddFloat(3, 1_800_000_000_000, 1)
	if err := db.Append(context.Background(), &b, Reject); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir, Options{})
	defer db.Close()
	if n, err := db.Count(3); err != nil || n != 101 {
		t.Fatalf("Count after second reopen = %d, %v; want 101", n, err)
	}
}

// TestFlushIngestAvoidsMemtable: a flush's tables never overlap keys waiting
// in the memtable (Pebble would make the ingestion wait for a memtable
// flush with every append blocked behind it): after new series, a delete and
// a block compaction, the flush empties the memtable while it encodes.
func TestFlushIngestAvoidsMemtable(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{})
	defer db.Close()
	for id := uint32(1); id <= 50; id++ {
		mustCreate(t, db, id, Float)
	}
	ctx := context.Background()
	round := func(r int64) {
		var b Batch
		for id := uint32(1); id <= 50; id++ {
			for i := int64(0); i < 20; i++ {
				b.AddFloat(id, 1_700_000_000_000+(r*20+i)*60_000, float64(i))
			}
		}
		if err := db.Append(ctx, &b, Reject); err != nil {
			t.Fatal(err)
		}
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	round(0)
	round(1)
	if err := db.DeleteRange(7, 0, 1_700_000_000_000+30*60_000); err != nil {
		t.Fatal(err)
	}
	round(2)
	if err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	round(3)
	round(4)
	if n := db.m.ingestOverlaps.Get(); n != 0 {
		t.Fatalf("%d flushes overlapped the memtable", n)
	}
	if n, _ := db.Count(7); n != 100-31 {
		t.Fatalf("Count(7) = %d, want %d", n, 100-31)
	}
}
