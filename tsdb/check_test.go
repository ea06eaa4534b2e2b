package tsdb

import (
	"context"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// TestCheckFindsAFlippedByte: Check passes a healthy store and names the object and time range
// of a block with one flipped byte.
func TestCheckFindsAFlippedByte(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range []uint32{1, 2} {
		if err := db.CreateSeriesNow(id, Float); err != nil {
			t.Fatal(err)
		}
	}
	var b Batch
	for i := int64(0); i < 1000; i++ {
		b.AddFloat(1, 1_700_000_000_000+i*60_000, float64(i)/4)
		b.AddFloat(2, 1_700_000_000_000+i*60_000, float64(i)*3)
	}
	if err := db.Append(context.Background(), &b, Reject); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	r, err := db.Check(context.Background(), nil)
	if err != nil || len(r.Problems) != 0 || r.Samples != 2000 || r.Series != 2 || r.Blocks == 0 {
		t.Fatalf("healthy store: %+v, %v", r, err)
	}
	// Flip one byte in the middle of object 2's first block.
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: blockPrefix(2), UpperBound: blockPrefixEnd(2)})
	if err != nil {
		t.Fatal(err)
	}
	if !it.First() {
		t.Fatal("no block of object 2")
	}
	key := append([]byte(nil), it.Key()...)
	val := append([]byte(nil), it.Value()...)
	it.Close()
	val[len(val)/2] ^= 0x40
	if err := db.pdb.Set(key, val, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	r, err = db.Check(context.Background(), nil)
	if err != nil || len(r.Problems) != 1 {
		t.Fatalf("damaged store: %+v, %v", r, err)
	}
	if p := r.Problems[0]; !strings.Contains(p, "object 2") || !strings.Contains(p, "2023-11-14T22:13:20.000Z") {
		t.Fatalf("problem %q does not name object 2 and its time range", p)
	}
}

// FuzzCheck: whatever bytes a block holds, Check reports them (or passes them) and never panics.
func FuzzCheck(f *testing.F) {
	db, err := Open(f.TempDir(), Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	if err := db.CreateSeriesNow(7, Float); err != nil {
		f.Fatal(err)
	}
	sc := getCodecScratch()
	good := appendBlock(nil, Float, []int64{1_700_000_000_000, 1_700_000_060_000}, []uint64{1, 2}, nil, sc)
	putCodecScratch(sc)
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	key := appendBlockKey(nil, 7, 1_700_000_000_000, 1_700_000_060_000, 1)
	f.Fuzz(func(t *testing.T, v []byte) {
		if err := db.pdb.Set(key, v, pebble.NoSync); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Check(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	})
}
