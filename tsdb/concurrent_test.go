package tsdb

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
)

// TestConcurrentRejectOneWins: appenders racing to write the same (object,
// timestamp) under Reject — exactly one succeeds per timestamp, with
// flushes running meanwhile.
func TestConcurrentRejectOneWins(t *testing.T) {
	raceRejectOneWins(t, Options{HeadBytes: 16 << 10, MaxBlockSamples: 64}, 8, 200, 4)
}

// raceRejectOneWins has workers append, under Reject, the same rounds of
// timestamps to objects 1..objects (even workers ascending, odd ones
// descending, so some take the fast path and some the slow one) and checks
// that each timestamp was accepted exactly once and the stats count it once.
func raceRejectOneWins(t *testing.T, opts Options, objects uint32, rounds, workers int) {
	t.Helper()
	db := openTest(t, t.TempDir(), opts)
	defer db.Close()
	for id := uint32(1); id <= objects; id++ {
		mustCreate(t, db, id, Int)
	}
	wins := make([][]int, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var b Batch
			for r := 0; r < rounds; r++ {
				b.Reset()
				// Same timestamps from every worker; ts ordered differently
				// so some take the fast path and some the slow one.
				ts := int64(r)
				if w%2 == 1 {
					ts = int64(rounds - 1 - r)
				}
				for id := uint32(1); id <= objects; id++ {
					b.AddInt(id, ts, int64(w))
				}
				err := db.Append(context.Background(), &b, Reject)
				switch {
				case err == nil:
					wins[w] = append(wins[w], int(ts))
				case errors.Is(err, ErrDuplicate):
				default:
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	seen := map[int]int{}
	for w := range wins {
		for _, ts := range wins[w] {
			seen[ts]++
		}
	}
	for ts := 0; ts < rounds; ts++ {
		if seen[ts] != 1 {
			t.Fatalf("timestamp %d was accepted %d times", ts, seen[ts])
		}
	}
	for id := uint32(1); id <= objects; id++ {
		st, _ := db.Stats(id)
		if st.Count != uint64(rounds) || st.NWrites != uint64(rounds) {
			t.Fatalf("object %d stats %+v", id, st)
		}
	}
}

// TestConcurrentReadersWriters runs scans, flushes and compactions against
// appends (meant for -race).
func TestConcurrentReadersWriters(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{HeadBytes: 8 << 10, MaxBlockSamples: 32})
	defer db.Close()
	for id := uint32(1); id <= 4; id++ {
		mustCreate(t, db, id, Float)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var b Batch
			for i := 0; i < 300; i++ {
				b.Reset()
				for id := uint32(1); id <= 4; id++ {
					b.AddFloat(id, int64(i*2+w), float64(i))
				}
				if err := db.Append(ctx, &b, Overwrite); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			for id := uint32(1); id <= 4; id++ {
				it, err := db.Scan(id, 0, 1000)
				if err != nil {
					t.Error(err)
					return
				}
				prev := int64(-1)
				for it.Next() {
					if it.Timestamp() <= prev {
						t.Errorf("scan out of order: %d after %d", it.Timestamp(), prev)
					}
					prev = it.Timestamp()
				}
				if err := it.Close(); err != nil {
					t.Error(err)
				}
			}
			_ = db.Compact(ctx)
		}
	}()
	// Writers finish, then stop the reader.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		st, _ := db.Stats(1)
		if st.NWrites == 600 {
			break
		}
		select {
		case <-done:
			t.Fatal("reader stopped early")
		default:
		}
		runtime.Gosched()
	}
	cancel()
	<-done
	for id := uint32(1); id <= 4; id++ {
		ts, _ := scanAll(t, db, id, 0, 1000)
		if len(ts) != 600 {
			t.Fatalf("object %d has %d samples", id, len(ts))
		}
	}
}

// TestConcurrentLargeBatchesRejectOneWins: the same as
// TestConcurrentRejectOneWins with batches of 2048 objects, which span every
// lock stripe (Append takes db.big exclusively) and load their series lazily
// while other appenders already write to them.
func TestConcurrentLargeBatchesRejectOneWins(t *testing.T) {
	raceRejectOneWins(t, Options{HeadBytes: 256 << 10, MaxBlockSamples: 256}, 2048, 24, 4)
}

// TestConcurrentLargeBatchesOverwriteReplay: large overwriting batches from
// several appenders, each repeating timestamps inside its batch; what the
// head holds must be what a replay of the WAL rebuilds (head order = WAL
// order), and the last value within a batch must win. A head apply that
// reordered samples (e.g. one split by object across goroutines carelessly)
// fails it.
func TestConcurrentLargeBatchesOverwriteReplay(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, Options{HeadBytes: 1 << 30})
	const objects, rounds, workers = 1024, 40, 4
	for id := uint32(1); id <= objects; id++ {
		mustCreate(t, db, id, Int)
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var b Batch
			for r := 0; r < rounds; r++ {
				b.Reset()
				for id := uint32(1); id <= objects; id++ {
					ts := int64((r + int(id)) % 7)
					b.AddInt(id, ts, int64(-1)) // overwritten later in the batch
					b.AddInt(id, ts, int64(w*1000+r))
				}
				if err := db.Append(context.Background(), &b, Overwrite); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	snapshot := func(db *DB) map[[2]int64]int64 {
		t.Helper()
		out := map[[2]int64]int64{}
		for id := uint32(1); id <= objects; id++ {
			it, err := db.Scan(id, MinTimestamp, MaxTimestamp)
			if err != nil {
				t.Fatal(err)
			}
			for it.Next() {
				out[[2]int64{int64(id), it.Timestamp()}] = it.Value().Int()
			}
			if err := it.Close(); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	before := snapshot(db)
	for k, v := range before {
		if v < 0 {
			t.Fatalf("%v holds the value overwritten later in its batch", k)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir, Options{HeadBytes: 1 << 30})
	defer db.Close()
	after := snapshot(db)
	if len(after) != len(before) {
		t.Fatalf("replay has %d samples, head had %d", len(after), len(before))
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("%v: head had %d, replay gives %d", k, v, after[k])
		}
	}
}
