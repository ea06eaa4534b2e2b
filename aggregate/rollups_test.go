package aggregate

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/tsgate/tsgate/tsdb"
)

func ms(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

// TestBBDataFixtureHours reproduces bbdata-v2.md §4.4's hour rows 09:00 and
// 10:00 from the fixture's raw values (mean and std as float64; rounding to
// 5 decimals is the query layer's).
func TestBBDataFixtureHours(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	if err := db.CreateSeriesNow(1, tsdb.Float); err != nil {
		t.Fatal(err)
	}
	r := openRollups(t, db, Options{})
	defer r.Close()
	var b tsdb.Batch
	for _, s := range []struct {
		at string
		v  float64
	}{
		{"09:00", 227}, {"09:15", 390}, {"09:30", 481}, {"09:45", 286},
		{"10:00", 254}, {"10:15", 456}, {"10:30", 15}, {"10:45", 370},
	} {
		b.AddFloat(1, ms("2019-01-01T"+s.at+":00Z"), s.v)
	}
	if err := r.Append(context.Background(), &b, tsdb.Reject); err != nil {
		t.Fatal(err)
	}
	var hours, quarters []Row
	collect := func(dst *[]Row) func(*Row) error {
		return func(row *Row) error { *dst = append(*dst, *row); return nil }
	}
	from, to := ms("2019-01-01T09:00:00Z"), ms("2019-01-01T10:00:00Z")
	if err := r.ObjectRows(context.Background(), 1, Hours, from, to, collect(&hours)); err != nil {
		t.Fatal(err)
	}
	if err := r.ObjectRows(context.Background(), 1, Quarters, from, to, collect(&quarters)); err != nil {
		t.Fatal(err)
	}
	if len(hours) != 2 || len(quarters) != 5 {
		t.Fatalf("%d hour rows, %d quarter rows; want 2 and 5", len(hours), len(quarters))
	}
	round5 := func(x float64) float64 { return math.Round(x*1e5) / 1e5 }
	for i, want := range []struct {
		start                     string
		last, min, max, sum, mean float64
		count                     uint64
		std                       float64
		lastAt                    string
	}{
		{"09:00", 286, 227, 481, 1384, 346, 4, 97.36786, "09:45"},
		{"10:00", 370, 15, 456, 1095, 273.75, 4, 165.69607, "10:45"},
	} {
		h := hours[i]
		if h.Start != ms("2019-01-01T"+want.start+":00Z") || h.Last != want.last || h.LastTs != ms("2019-01-01T"+want.lastAt+":00Z") ||
			h.Min != want.min || h.Max != want.max || h.Sum != want.sum || h.Count != want.count {
			t.Errorf("hour %s: %+v", want.start, h)
		}
		if math.Abs(h.Mean-want.mean) > 1e-12 || round5(h.Std()) != want.std {
			t.Errorf("hour %s: mean %v std %v, want %v and %v", want.start, h.Mean, h.Std(), want.mean, want.std)
		}
	}
	for i, q := range quarters {
		if q.Count != 1 || q.Std() != 0 {
			t.Errorf("quarter %d: %+v", i, q)
		}
	}
}

func TestParseResolution(t *testing.T) {
	f := func(s string, want Resolution, minutes int) {
		t.Helper()
		got, err := ParseResolution(s)
		if err != nil || got != want || got.Minutes() != minutes {
			t.Errorf("ParseResolution(%q) = %v, %v (minutes %d)", s, got, err, got.Minutes())
		}
	}
	f("quarters", Quarters, 15)
	f(" Hours ", Hours, 60)
	f("DAYS", Days, 1440)
	if _, err := ParseResolution("weeks"); err == nil {
		t.Error("weeks accepted")
	}
}

func TestRowMergeMatchesAdd(t *testing.T) {
	vals := []float64{1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4, 1e9 + 5, 1e9 + 7}
	var all, a, b Row
	for i, v := range vals {
		all.Add(int64(i), v)
		if i%2 == 0 {
			a.Add(int64(i), v)
		} else {
			b.Add(int64(i), v)
		}
	}
	a.Merge(&b)
	if err := rowsEqual(&a, &all, 1e9+7); err != nil {
		t.Fatal(err)
	}
}
