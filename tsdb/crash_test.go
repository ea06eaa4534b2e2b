package tsdb

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var crashCycles = flag.Int("tsdb.crash.cycles", 0, "kill cycles of TestCrash (0 = 20; the long mode is e.g. 500)")

const (
	crashEnvDir   = "TSDB_CRASH_CHILD_DIR"
	crashEnvCycle = "TSDB_CRASH_CHILD_CYCLE"
	crashSeries   = 20
	crashPerBatch = 50
)

// crashTs is the timestamp of sample i of batch k in cycle c; its value is
// ts/2, so every sample is checkable alone and a batch is found by ts.
func crashTs(c, k, i int) int64 { return int64((c*1_000_000+k)*crashPerBatch + i) }

// TestCrash starts a child process (this test binary) that appends batches
// and prints each acknowledged one, SIGKILLs it at a random moment, reopens
// the store and checks that every acknowledged sample is there, that every
// batch is all-or-nothing, and that the stats agree with the data.
func TestCrash(t *testing.T) {
	if dir := os.Getenv(crashEnvDir); dir != "" {
		crashChild(dir)
		return
	}
	cycles := 20
	if *crashCycles > 0 {
		cycles = *crashCycles
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	acked := map[int]bool{} // global batch number c*1e6+k
	for c := 0; c < cycles; c++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnvDir+"="+dir, crashEnvCycle+"="+strconv.Itoa(c))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		started := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			sc := bufio.NewScanner(out)
			once := sync.Once{}
			for sc.Scan() {
				line := sc.Text()
				if line == "READY" {
					once.Do(func() { close(started) })
					continue
				}
				if k, ok := strings.CutPrefix(line, "ACK "); ok {
					n, _ := strconv.Atoi(k)
					mu.Lock()
					acked[n] = true
					mu.Unlock()
				}
			}
			once.Do(func() { close(started) })
		}()
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatal("child did not start")
		}
		time.Sleep(time.Duration(r.Intn(150)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		_ = cmd.Wait()
		mu.Lock()
		crashVerify(t, dir, acked, c)
		mu.Unlock()
	}
	t.Logf("%d cycles, %d acknowledged batches", cycles, len(acked))
}

func crashChild(dir string) {
	c, _ := strconv.Atoi(os.Getenv(crashEnvCycle))
	db, err := Open(dir, Options{HeadBytes: 64 << 10, MaxBlockSamples: 256})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	for id := uint32(1); id <= crashSeries; id++ {
		if err := db.CreateSeriesNow(id, Float); err != nil && !errors.Is(err, ErrSeriesExists) {
			fmt.Fprintln(os.Stderr, "child create:", err)
			os.Exit(2)
		}
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, "READY")
	w.Flush()
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ { // concurrent appenders share fsyncs
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b Batch
			for {
				mu.Lock()
				k := next
				next++
				mu.Unlock()
				b.Reset()
				for i := 0; i < crashPerBatch; i++ {
					ts := crashTs(c, k, i)
					b.AddFloat(uint32(1+i%crashSeries), ts, float64(ts)/2)
				}
				if err := db.Append(context.Background(), &b, Reject); err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintf(w, "ACK %d\n", c*1_000_000+k)
				w.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func crashVerify(t *testing.T, dir string, acked map[int]bool, cycle int) {
	t.Helper()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("cycle %d: reopen: %v", cycle, err)
	}
	defer db.Close()
	present := map[int]int{}
	for id := uint32(1); id <= crashSeries; id++ {
		it, err := db.Scan(id, MinTimestamp, MaxTimestamp)
		if err != nil {
			if errors.Is(err, ErrUnknownSeries) && len(acked) == 0 {
				continue
			}
			t.Fatalf("cycle %d: Scan(%d): %v", cycle, id, err)
		}
		n := uint64(0)
		for it.Next() {
			ts := it.Timestamp()
			if it.Float() != float64(ts)/2 {
				t.Fatalf("cycle %d: object %d at %d = %v", cycle, id, ts, it.Float())
			}
			present[int(ts/crashPerBatch)]++
			n++
		}
		if err := it.Close(); err != nil {
			t.Fatalf("cycle %d: Scan(%d): %v", cycle, id, err)
		}
		st, err := db.Stats(id)
		if err != nil || st.Count != n || st.NWrites != n {
			t.Fatalf("cycle %d: Stats(%d) = %+v, %v; scanned %d", cycle, id, st, err, n)
		}
	}
	for k := range acked {
		if present[k] != crashPerBatch {
			t.Fatalf("cycle %d: acknowledged batch %d has %d of %d samples", cycle, k, present[k], crashPerBatch)
		}
	}
	for k, n := range present {
		if n != crashPerBatch {
			t.Fatalf("cycle %d: batch %d is torn: %d of %d samples", cycle, k, n, crashPerBatch)
		}
	}
}
