package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tsgate/tsgate/aggregate"
	"github.com/tsgate/tsgate/catalog"
	"github.com/tsgate/tsgate/server"
	"github.com/tsgate/tsgate/tsdb"
)

// TestRetentionTrimsRawAndRollups: values and rollup rows before the cut (a UTC day boundary)
// disappear, also after a restart; newer ones stay; other tenants are untouched.
func TestRetentionTrimsRawAndRollups(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	open := func() *server.Node {
		// The background pass (at Open, then hourly) runs at the test's now, not the real
		// clock, which would trim every sample of the test's past dates.
		n, err := server.Open(server.Config{DataDir: dir, AdminPassword: "admin-pw", PasswordCost: 4, MinFreeDisk: -1,
			Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n := open()
	short, err := n.ACL.CreateTenant(0, "short", "30d")
	if err != nil {
		t.Fatal(err)
	}
	gShort, err := n.ACL.CreateGroup(0, short.ID, "short-team")
	if err != nil {
		t.Fatal(err)
	}
	gMaster, err := n.ACL.CreateGroup(0, 1, "master-team")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := n.ACL.CreateObjects(0, []catalog.NewObject{{Name: "trimmed", Owner: gShort.ID, UnitSymbol: "V"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := n.ACL.CreateObjects(0, []catalog.NewObject{{Name: "kept", Owner: gMaster.ID, UnitSymbol: "V"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range append(objs, kept...) {
		if err := n.DB.CreateSeriesNow(o.ID, tsdb.Float); err != nil {
			t.Fatal(err)
		}
	}
	var b tsdb.Batch
	for d := 0; d < 60; d++ {
		ts := now.Add(-time.Duration(d) * 24 * time.Hour).UnixMilli()
		b.AddFloat(objs[0].ID, ts, float64(d))
		b.AddFloat(kept[0].ID, ts, float64(d))
	}
	if err := n.Rollups.Append(context.Background(), &b, tsdb.Reject); err != nil {
		t.Fatal(err)
	}
	trimmed, err := n.EnforceRetention(now)
	if err != nil || trimmed != 1 {
		t.Fatalf("EnforceRetention = %d, %v; want 1 object trimmed", trimmed, err)
	}
	var prom strings.Builder
	n.Metrics.WritePrometheus(&prom)
	if !strings.Contains(prom.String(), "tsgate_retention_deleted_samples_total 29") {
		t.Errorf("deleted samples not reported:\n%s", grep(prom.String(), "retention"))
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = open()
	defer n.Close()
	cut := now.Add(-30 * 24 * time.Hour).Truncate(24 * time.Hour).UnixMilli()
	check := func(id uint32, wantOldest int64, wantCount int) {
		t.Helper()
		it, err := n.DB.Scan(id, tsdb.MinTimestamp, tsdb.MaxTimestamp)
		if err != nil {
			t.Fatal(err)
		}
		count, oldest := 0, int64(-1)
		for it.Next() {
			if oldest < 0 {
				oldest = it.Timestamp()
			}
			count++
		}
		it.Close()
		if count != wantCount || (wantOldest >= 0 && oldest < wantOldest) {
			t.Errorf("object %d: %d values, oldest %d; want %d values, none before %d", id, count, oldest, wantCount, wantOldest)
		}
		rows := 0
		err = n.Rollups.ObjectRows(context.Background(), id, aggregate.Days, 0, tsdb.MaxTimestamp, func(r *aggregate.Row) error {
			if wantOldest >= 0 && r.Start < wantOldest {
				t.Errorf("object %d: day row at %d survived the cut %d", id, r.Start, wantOldest)
			}
			rows++
			return nil
		})
		if err != nil || rows != wantCount {
			t.Errorf("object %d: %d day rows (%v), want %d", id, rows, err, wantCount)
		}
	}
	check(objs[0].ID, cut, 31) // days 0..30 are on or after the cut
	check(kept[0].ID, -1, 60)
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
