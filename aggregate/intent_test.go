package aggregate

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/tsgate/tsgate/tsdb"
)

func TestIntentRoundTrip(t *testing.T) {
	f := func(rec []byte, want []string) {
		t.Helper()
		var got []string
		if err := decodeIntent(rec, func(id uint32, lo, hi int64) {
			got = append(got, fmt.Sprintf("%d:%d-%d", id, lo, hi))
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	// One group: ids 3,4,5 then 9, then 2 (a run going back).
	var b []byte
	b = appendIntentHeader(b, 100, 101, 1, 3)
	b = appendRunsFor(b, []int64{3, 4, 5, 9, 2})
	f(b, []string{"3:100-101", "4:100-101", "5:100-101", "9:100-101", "2:100-101"})

	// By day, from a batch.
	db := openDB(t, t.TempDir())
	defer db.Close()
	r := openRollups(t, db, Options{})
	defer r.Close()
	for _, id := range []uint32{1, 2, 3} {
		if err := db.CreateSeriesNow(id, tsdb.Float); err != nil {
			t.Fatal(err)
		}
		r.mu.Lock()
		r.loadLocked(id)
		r.mu.Unlock()
	}
	var bt tsdb.Batch
	bt.AddFloat(2, 5*dayMs+1, 1)
	bt.AddFloat(1, 5*dayMs+2, 1)
	bt.AddFloat(3, 1*dayMs, 1)
	bt.AddFloat(9, 1*dayMs, 1) // unknown: left out
	bt.AddFloat(2, 1*dayMs+5, 1)
	r.mu.Lock()
	rec := r.appendIntentByDayLocked(nil, &bt)
	r.mu.Unlock()
	f(rec, []string{"2:1-1", "3:1-1", "1:5-5", "2:5-5"})

	if err := decodeIntent(rec[:len(rec)-1], func(uint32, int64, int64) {}); err == nil {
		t.Error("truncated intent decoded")
	}
}

// appendRunsFor encodes ids (in order) as runs, as prepare does.
func appendRunsFor(dst []byte, ids []int64) []byte {
	prevEnd := int64(0)
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && ids[j] == ids[j-1]+1 {
			j++
		}
		dst = binary.AppendVarint(dst, ids[i]-prevEnd)
		dst = binary.AppendUvarint(dst, uint64(j-i))
		prevEnd = ids[i] + int64(j-i)
		i = j
	}
	return dst
}
