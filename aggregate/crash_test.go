package aggregate

import (
	"bufio"
	"context"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tsgate/tsgate/tsdb"
)

const (
	crashEnvDir  = "AGGREGATE_CRASH_CHILD_DIR"
	crashEnvSeed = "AGGREGATE_CRASH_CHILD_SEED"
	crashObjects = 8
)

// TestCrash starts a child process (this test binary) that appends in-order,
// late and overwriting batches through Rollups.Append, SIGKILLs it at a
// random moment, reopens the store and checks that every row equals a
// recomputation from the raw data tsdb kept.
func TestCrash(t *testing.T) {
	if dir := os.Getenv(crashEnvDir); dir != "" {
		seed, _ := strconv.ParseInt(os.Getenv(crashEnvSeed), 10, 64)
		crashChild(dir, seed)
		return
	}
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	ids := make([]uint32, crashObjects)
	for i := range ids {
		ids[i] = uint32(i + 1)
	}
	for c := 0; c < 6; c++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnvDir+"="+dir, crashEnvSeed+"="+strconv.FormatInt(seed+int64(c), 10))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if sc.Text() == "READY" {
					close(ready)
				}
			}
		}()
		select {
		case <-ready:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatal("child not ready")
		}
		time.Sleep(time.Duration(50+rnd.Intn(700)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()

		db := openDB(t, dir)
		r := openRollups(t, db, Options{})
		m := scanModel(t, db, ids)
		n := 0
		for _, s := range m {
			n += len(s)
		}
		t.Logf("cycle %d: %d samples after the kill", c, n)
		checkRows(t, r, m, ids, "after kill "+strconv.Itoa(c))
		r.abandon() // the next cycle's child recovers from this state too
		db.Close()
	}
}

func crashChild(dir string, seed int64) {
	rnd := rand.New(rand.NewSource(seed))
	db, err := tsdb.Open(dir, tsdb.Options{HeadBytes: 1 << 20})
	if err != nil {
		panic(err)
	}
	r, err := Open(db, Options{})
	if err != nil {
		panic(err)
	}
	cursor := map[uint32]int64{}
	for id := uint32(1); id <= crashObjects; id++ {
		if _, err := db.SeriesType(id); err != nil {
			if err := db.CreateSeriesNow(id, tsdb.Float); err != nil {
				panic(err)
			}
		}
		cursor[id] = ms("2026-02-01T00:00:00Z")
		if st, err := db.Stats(id); err == nil && st.NWrites > 0 {
			cursor[id] = st.LastTs
		}
	}
	os.Stdout.WriteString("READY\n")
	var b tsdb.Batch
	for {
		b.Reset()
		for range 1 + rnd.Intn(200) {
			id := uint32(1 + rnd.Intn(crashObjects))
			var ts int64
			switch rnd.Intn(10) {
			case 0: // late by days
				ts = cursor[id] - rnd.Int63n(5*dayMs)
			case 1: // overwrite around the cursor
				ts = cursor[id] - rnd.Int63n(2*hourMs)
			default:
				cursor[id] += 1 + rnd.Int63n(5*60_000)
				ts = cursor[id]
			}
			b.AddFloat(id, ts, float64(rnd.Intn(100000))/100)
		}
		if err := r.Append(context.Background(), &b, tsdb.Overwrite); err != nil {
			panic(err)
		}
	}
}
