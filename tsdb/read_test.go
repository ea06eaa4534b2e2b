package tsdb

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func TestReadsPersistAndScanMany(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, Options{})
	for id := uint32(1); id <= 5; id++ {
		mustCreate(t, db, id, Int)
	}
	var b Batch
	for id := uint32(1); id <= 5; id++ {
		if id == 3 {
			continue // no data
		}
		for ts := int64(0); ts < 10; ts++ {
			b.AddInt(id, ts*1000, int64(id)*100+ts)
		}
	}
	if err := db.Append(context.Background(), &b, Reject); err != nil {
		t.Fatal(err)
	}
	if err := db.AddReads(2, 3); err != nil {
		t.Fatal(err)
	}
	if err := db.AddReads(99, 1); !errors.Is(err, ErrUnknownSeries) {
		t.Fatalf("AddReads(99) = %v", err)
	}
	db.Close()
	db = openTest(t, dir, Options{})
	defer db.Close()
	st, err := db.Stats(2)
	if err != nil || st.NReads != 3 || st.Count != 10 {
		t.Fatalf("Stats(2) after reopen = %+v, %v", st, err)
	}
	var got []uint32
	counts := map[uint32]int{}
	err = db.ScanMany(context.Background(), []uint32{1, 2, 3, 4, 5, 77}, 2000, 4000, func(id uint32, it *Iterator) error {
		got = append(got, id)
		for it.Next() {
			if it.Int() != int64(id)*100+it.Timestamp()/1000 {
				t.Errorf("object %d at %d = %d", id, it.Timestamp(), it.Int())
			}
			counts[id]++
		}
		return nil
	})
	if err != nil || len(got) != 5 || got[0] != 1 || got[4] != 5 || counts[1] != 3 || counts[3] != 0 {
		t.Fatalf("ScanMany = %v %v %v", got, counts, err)
	}
	if f, ok, err := db.First(4); err != nil || !ok || f.TS != 0 || f.Value.Int() != 400 {
		t.Fatalf("First(4) = %+v %v %v", f, ok, err)
	}
	if l, ok, err := db.Last(4); err != nil || !ok || l.TS != 9000 {
		t.Fatalf("Last(4) = %+v %v %v", l, ok, err)
	}
	if _, ok, err := db.Last(3); err != nil || ok {
		t.Fatalf("Last(3) = %v %v", ok, err)
	}
	if n, err := db.Count(5); err != nil || n != 10 {
		t.Fatalf("Count(5) = %d %v", n, err)
	}
	var buf bytes.Buffer
	db.Metrics().WritePrometheus(&buf)
	for _, name := range []string{"tsgate_tsdb_samples 40", "tsgate_tsdb_blocks_bytes", "tsgate_wal_bytes", "tsgate_head_samples 40",
		"tsgate_tsdb_head_bytes", "tsgate_tsdb_blocks", "tsgate_tsdb_flushes_total", "tsgate_tsdb_compactions_total"} {
		if !bytes.Contains(buf.Bytes(), []byte(name)) {
			t.Errorf("metrics lack %q:\n%s", name, buf.String())
		}
	}
}

func TestCreateSeriesInCallerBatch(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{})
	defer db.Close()
	pb := db.Pebble().NewBatch()
	if err := db.CreateSeries(pb, 7, String); err != nil {
		t.Fatal(err)
	}
	pb.Close() // never committed: no trace
	if _, err := db.SeriesType(7); !errors.Is(err, ErrUnknownSeries) {
		t.Fatalf("uncommitted series is visible: %v", err)
	}
	pb = db.Pebble().NewBatch()
	if err := db.CreateSeries(pb, 7, String); err != nil {
		t.Fatal(err)
	}
	if err := pb.Set([]byte("c-catalog-object-7"), []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if err := pb.Commit(nil); err != nil {
		t.Fatal(err)
	}
	if typ, err := db.SeriesType(7); err != nil || typ != String {
		t.Fatalf("SeriesType(7) = %v %v", typ, err)
	}
	if err := db.CreateSeriesNow(7, Int); !errors.Is(err, ErrSeriesExists) {
		t.Fatalf("second CreateSeries = %v", err)
	}
}
