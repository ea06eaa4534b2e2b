package aggregate

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/tsgate/tsgate/tsdb"
)

// fillDirect appends random samples straight to tsdb (bypassing rollups)
// and returns the model.
func fillDirect(t *testing.T, db *tsdb.DB, ids []uint32, seed int64) model {
	t.Helper()
	rnd := rand.New(rand.NewSource(seed))
	m := model{}
	base := ms("2026-04-01T00:00:00Z")
	var b tsdb.Batch
	for k := 0; k < 20; k++ {
		b.Reset()
		for range 50 {
			id := ids[rnd.Intn(len(ids))]
			ts := base + rnd.Int63n(4*dayMs)
			v := float64(rnd.Intn(10000)) / 10
			b.AddFloat(id, ts, v)
			m.put(id, ts, v)
		}
		if err := db.Append(context.Background(), &b, tsdb.Overwrite); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// TestOpenComputesNewKeyspace: a store with data but no rollup keyspace
// (rollups added to an existing store) gets every row at Open.
func TestOpenComputesNewKeyspace(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	ids := []uint32{1, 2, 3}
	createSeries(t, db, len(ids)) // ids are 1…n
	if err := db.CreateSeriesNow(4, tsdb.String); err != nil {
		t.Fatal(err)
	}
	m := fillDirect(t, db, ids, 1)
	r := openRollups(t, db, Options{})
	checkRows(t, r, m, ids, "after Open")
	// Strings have no rows and are no error.
	if err := r.Rows(context.Background(), []uint32{4, 99}, Hours, 0, tsdb.MaxTimestamp, func(uint32, *Row) error {
		t.Fatal("row for a string or unknown object")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	db.Close()
}

// TestRebuild: rows damaged or missing (samples appended behind the rollups'
// back, a record overwritten with garbage, a stray record) are all
// recomputed, with progress reported.
func TestRebuild(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	ids := []uint32{1, 2, 3, 4}
	createSeries(t, db, len(ids)) // ids are 1…n
	r := openRollups(t, db, Options{})
	defer r.Close()
	m := fillDirect(t, db, ids, 2)
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	pdb := db.Pebble()
	if err := pdb.Set(groupKey(Hours, 2, ms("2026-04-02T00:00:00Z"), 99), []byte{groupVer, 0xff}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	var stray group
	stray.reset(Days, Days.groupStart(ms("2026-04-02T00:00:00Z")))
	stray.rows[0].Add(stray.rows[0].Start, 1)
	if err := pdb.Set(groupKey(Days, 77, stray.start, 1), appendGroup(nil, &stray, nil), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := r.Rows(context.Background(), []uint32{2}, Hours, 0, tsdb.MaxTimestamp, func(uint32, *Row) error { return nil }); err == nil {
		t.Fatal("damaged group read without an error")
	}
	var calls []int
	if err := r.Rebuild(context.Background(), func(done, total int) {
		if total != len(ids) {
			t.Errorf("total %d", total)
		}
		calls = append(calls, done)
	}); err != nil {
		t.Fatal(err)
	}
	if len(calls) != len(ids) || calls[len(calls)-1] != len(ids) {
		t.Errorf("progress %v", calls)
	}
	checkRows(t, r, m, ids, "after Rebuild")
	it, _ := pdb.NewIter(&pebble.IterOptions{LowerBound: keyspaceLo, UpperBound: keyspaceHi})
	for it.First(); it.Valid(); it.Next() {
		if _, id, _, _, ok := parseGroupKey(it.Key()); ok && id == 77 {
			t.Error("rows of an object without a series survived Rebuild")
		}
	}
	it.Close()
}

// TestCorruptRecord: a damaged record is reported by Rows as a
// *CorruptionError naming the object and window.
func TestCorruptRecord(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	if err := db.CreateSeriesNow(1, tsdb.Float); err != nil {
		t.Fatal(err)
	}
	r := openRollups(t, db, Options{})
	defer r.Close()
	var b tsdb.Batch
	b.AddFloat(1, ms("2026-04-02T10:00:00Z"), 1)
	if err := r.Append(context.Background(), &b, tsdb.Reject); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Pebble().Set(groupKey(Days, 1, Days.groupStart(ms("2026-04-02T00:00:00Z")), 1), []byte{9, 1}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	err := r.Rows(context.Background(), []uint32{1}, Days, 0, tsdb.MaxTimestamp, func(uint32, *Row) error { return nil })
	var ce *CorruptionError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "object 1, group of days from 2026-04-02T00:00:00.000Z") {
		t.Fatalf("err %v", err)
	}
}

func TestMetricsRegistered(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	r := openRollups(t, db, Options{})
	var buf bytes.Buffer
	r.Metrics().WritePrometheus(&buf)
	for _, name := range []string{"tsgate_rollup_bytes", "tsgate_rollup_groups_written_total", "tsgate_rollup_group_bytes_written_total", `tsgate_rollup_recomputes_total{kind="day"}`, `tsgate_rollup_recomputes_total{kind="window"}`, "tsgate_rollup_rebuilds_total"} {
		if !strings.Contains(buf.String(), name) {
			t.Errorf("%s missing from\n%s", name, buf.String())
		}
	}
	r.Close()
	buf.Reset()
	r.Metrics().WritePrometheus(&buf)
	if strings.Contains(buf.String(), "tsgate_rollup_bytes") {
		t.Error("metrics still registered after Close")
	}
}

// TestOpenUpgradesInPlace: a store written at rollup format 2 (row-by-row
// groups only, keys without epoch) or 3 (columnar groups, keys without
// epoch) opens without a rebuild: its keys are rewritten with their epoch,
// its groups are read as they are, and it is marked with the current
// format; the rows stay equal to a recomputation, with flushes after the
// upgrade writing columnar groups beside the old ones.
func TestOpenUpgradesInPlace(t *testing.T) {
	for _, ver := range []byte{rowGroupsVer, epochKeysVer - 1} {
		t.Run(fmt.Sprintf("version %d", ver), func(t *testing.T) { testOpenUpgrades(t, ver) })
	}
}

// oldGroupKey is a group key as versions before epochKeysVer wrote it.
func oldGroupKey(res Resolution, id uint32, start int64, gen uint64) []byte {
	k := []byte{prefix, res.kind()}
	k = binary.BigEndian.AppendUint32(k, id)
	k = binary.BigEndian.AppendUint64(k, uint64(start))
	return binary.BigEndian.AppendUint64(k, gen)
}

func testOpenUpgrades(t *testing.T, ver byte) {
	dir := t.TempDir()
	db := openDB(t, dir)
	ids := []uint32{1, 2, 3}
	createSeries(t, db, len(ids)) // ids are 1…n
	r := openRollups(t, db, Options{})
	m := model{}
	base := ms("2026-04-01T00:00:00Z")
	// appendFlush appends samples [from, to) of every series, 20 minutes
	// apart (values k%mod / div), through r and flushes: 300 samples span
	// four days, many quarter epochs.
	appendFlush := func(r *Rollups, db *tsdb.DB, from, to, mod int, div float64) {
		var b tsdb.Batch
		for _, id := range ids {
			for k := from; k < to; k++ {
				ts, v := base+int64(k)*20*60_000, float64(k%mod)/div
				b.AddFloat(id, ts, v)
				m.put(id, ts, v)
			}
		}
		if err := r.Append(context.Background(), &b, tsdb.Reject); err != nil {
			t.Fatal(err)
		}
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	appendFlush(r, db, 0, 200, 37, 4)
	// Rewrite the groups as that version wrote them (keys without epoch;
	// row by row for version 2), and mark the keyspace.
	pdb := db.Pebble()
	it, err := pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{prefix, 'd'}, UpperBound: []byte{prefix, 'r'}})
	if err != nil {
		t.Fatal(err)
	}
	pb := pdb.NewBatch()
	rewritten, columnar := 0, 0
	for it.First(); it.Valid(); it.Next() {
		_, id, start, gen, ok := parseGroupKey(it.Key())
		if !ok {
			continue
		}
		if it.Value()[0] == groupVerCol {
			columnar++
		}
		res, _ := resOfKind(it.Key()[1])
		v := append([]byte(nil), it.Value()...)
		if ver == rowGroupsVer {
			var g group
			g.reset(res, start)
			var row Row
			if err := walkGroup(res, start, v, false, &row, func(r *Row) error { g.set(r); return nil }); err != nil {
				t.Fatal(err)
			}
			v = appendRowGroup(nil, &g)
		}
		if err := pb.Delete(append([]byte(nil), it.Key()...), nil); err != nil {
			t.Fatal(err)
		}
		if err := pb.Set(oldGroupKey(res, id, start, gen), v, nil); err != nil {
			t.Fatal(err)
		}
		rewritten++
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if columnar == 0 || columnar < rewritten/2 { // day fragments of one or two rows stay row by row
		t.Fatalf("%d groups flushed, %d columnar", rewritten, columnar)
	}
	if err := pb.Set(versionKey, []byte{ver}, nil); err != nil {
		t.Fatal(err)
	}
	if err := pb.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	r.Close()
	db.Close()

	db = openDB(t, dir)
	defer db.Close()
	r = openRollups(t, db, Options{})
	defer r.Close()
	if n := r.m.rebuilds.Get(); n != 0 {
		t.Fatalf("%d rebuilds at Open of a version %d store", n, ver)
	}
	if v, _, err := r.readMarkers(); err != nil || v != formatVer {
		t.Fatalf("version %d (%v), want %d", v, err, formatVer)
	}
	keys, old := 0, 0
	it, err = db.Pebble().NewIter(&pebble.IterOptions{LowerBound: []byte{prefix, 'd'}, UpperBound: []byte{prefix, 'r'}})
	if err != nil {
		t.Fatal(err)
	}
	for it.First(); it.Valid(); it.Next() {
		switch len(it.Key()) {
		case groupKeyLen:
			keys++
		case oldKeyLen:
			old++
		}
	}
	it.Close()
	if keys != rewritten || old != 0 {
		t.Fatalf("after the upgrade: %d group keys (want %d), %d without epoch", keys, rewritten, old)
	}
	checkRows(t, r, m, ids, fmt.Sprintf("version %d groups", ver))
	appendFlush(r, db, 200, 300, 41, 8)
	checkRows(t, r, m, ids, fmt.Sprintf("version %d and columnar groups", ver))
}
