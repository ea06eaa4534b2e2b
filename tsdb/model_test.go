package tsdb

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"testing"
	"time"
)

var modelSeed = flag.Int64("tsdb.seed", 0, "seed of TestModel (0 = time-based)")
var modelDebug = flag.Bool("tsdb.debug", false, "log TestModel operations")
var modelSteps = flag.Int("tsdb.steps", 0, "steps of TestModel (0 = default)")

// modelSeries is the in-memory model of one series.
type modelSeries struct {
	typ  ValueType
	data map[int64]Value
	st   Stats
}

func (m *modelSeries) store(ts int64, v Value) {
	st := &m.st
	if n := st.NWrites; n == 0 {
		st.AvgSamplePeriod, st.LastTs = 0, ts
	} else if ts > st.LastTs {
		st.AvgSamplePeriod = (st.AvgSamplePeriod*float64(n-1) + float64(ts-st.LastTs)) / float64(n)
		st.LastTs = ts
	}
	st.NWrites++
	m.data[ts] = v
	m.fix()
}

func (m *modelSeries) fix() {
	m.st.Count = uint64(len(m.data))
	first := int64(math.MaxInt64)
	for ts := range m.data {
		first = min(first, ts)
	}
	if len(m.data) > 0 {
		m.st.FirstTs = first
	} else {
		m.st.FirstTs = 0
	}
}

func randValue(r *rand.Rand, t ValueType) Value {
	switch t {
	case Float:
		switch r.Intn(10) {
		case 0:
			return FloatValue([]float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 1e300, 5e-324, math.MaxFloat64, 0.1 + 0.2}[r.Intn(9)])
		case 1:
			return FloatValue(r.NormFloat64() * 1e6)
		default:
			return FloatValue(float64(r.Intn(100000)-50000) / 100)
		}
	case Int:
		switch r.Intn(5) {
		case 0:
			return IntValue([]int64{math.MinInt64, math.MaxInt64, 0, -1}[r.Intn(4)])
		default:
			return IntValue(r.Int63n(2000) - 1000)
		}
	case Bool:
		return BoolValue(r.Intn(2) == 0)
	default:
		return StringValue([]string{"", "a", "héllo wörld ✓", "\x00\xff", "12.5", string(make([]byte, 300))}[r.Intn(6)])
	}
}

// TestModel runs random appends (out of order, overlapping, duplicates, both
// policies), flushes, restarts, deletes and compactions against the model.
func TestModel(t *testing.T) {
	seed := *modelSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	steps := 400
	if testing.Short() {
		steps = 150
	}
	if *modelSteps > 0 {
		steps = *modelSteps
	}
	t.Logf("seed %d (rerun with -tsdb.seed=%d)", seed, seed)
	r := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	opts := Options{HeadBytes: 4 << 10, MaxBlockSamples: 16}
	db := openTest(t, dir, opts)
	defer func() { db.Close() }()
	model := map[uint32]*modelSeries{}
	types := []ValueType{Float, Int, Bool, String}
	for id := uint32(1); id <= 8; id++ {
		typ := types[int(id)%4]
		mustCreate(t, db, id, typ)
		model[id] = &modelSeries{typ: typ, data: map[int64]Value{}}
	}
	ctx := context.Background()
	var b Batch
	tsRange := int64(300)
	for step := 0; step < steps; step++ {
		op := r.Intn(100)
		if *modelDebug {
			t.Logf("step %d op %d", step, op)
		}
		switch {
		case op < 70: // append
			b.Reset()
			n := 1 + r.Intn(40)
			type smp struct {
				id uint32
				ts int64
				v  Value
			}
			var smps []smp
			base := int64(r.Intn(int(tsRange)))
			for i := 0; i < n; i++ {
				id := uint32(1 + r.Intn(8))
				var ts int64
				if r.Intn(3) == 0 {
					ts = int64(r.Intn(int(tsRange))) // anywhere: late, overlapping
				} else {
					ts = base + int64(i) // mostly in order
				}
				v := randValue(r, model[id].typ)
				smps = append(smps, smp{id, ts, v})
				b.AddValue(id, ts, v)
			}
			tsRange += int64(r.Intn(20))
			dup := Duplicates(r.Intn(2))
			if *modelDebug {
				for _, s := range smps {
					if s.id == 1 {
						_, ex := model[1].data[s.ts]
						t.Logf("  dup=%d id1 ts %d exists %v", dup, s.ts, ex)
					}
				}
			}
			err := db.Append(ctx, &b, dup)
			// Expected outcome.
			wantDup := false
			if dup == Reject {
				seen := map[idTs]bool{}
				for _, s := range smps {
					k := idTs{s.id, s.ts}
					if _, ok := model[s.id].data[s.ts]; ok || seen[k] {
						wantDup = true
						break
					}
					seen[k] = true
				}
			}
			if wantDup {
				if !errors.Is(err, ErrDuplicate) {
					t.Fatalf("step %d: Append = %v, want ErrDuplicate", step, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("step %d: Append = %v", step, err)
			}
			for _, s := range smps {
				model[s.id].store(s.ts, s.v)
			}
		case op < 77:
			if err := db.Flush(); err != nil {
				t.Fatalf("step %d: Flush: %v", step, err)
			}
		case op < 84:
			if err := db.Close(); err != nil {
				t.Fatalf("step %d: Close: %v", step, err)
			}
			db = openTest(t, dir, opts)
		case op < 89:
			id := uint32(1 + r.Intn(8))
			from := int64(r.Intn(int(tsRange)))
			to := from + int64(r.Intn(40))
			if *modelDebug {
				t.Logf("  DeleteRange(%d, %d, %d)", id, from, to)
			}
			if err := db.DeleteRange(id, from, to); err != nil {
				t.Fatalf("step %d: DeleteRange: %v", step, err)
			}
			m := model[id]
			for ts := range m.data {
				if ts >= from && ts <= to {
					delete(m.data, ts)
				}
			}
			m.fix()
		case op < 92:
			if err := db.Compact(ctx); err != nil {
				t.Fatalf("step %d: Compact: %v", step, err)
			}
		case op < 93:
			// delete and recreate an object
			id := uint32(1 + r.Intn(8))
			if err := db.DeleteObject(id); err != nil {
				t.Fatalf("step %d: DeleteObject: %v", step, err)
			}
			if _, err := db.Scan(id, 0, 10); !errors.Is(err, ErrUnknownSeries) {
				t.Fatalf("step %d: Scan of deleted = %v", step, err)
			}
			mustCreate(t, db, id, model[id].typ)
			model[id] = &modelSeries{typ: model[id].typ, data: map[int64]Value{}}
		default:
		}
		// Verify a random series and range, and every series' stats.
		id := uint32(1 + r.Intn(8))
		from := int64(r.Intn(int(tsRange)))
		to := from + int64(r.Intn(int(tsRange)))
		verifyRange(t, db, model[id], id, from, to, fmt.Sprintf("step %d", step))
		for id, m := range model {
			st, err := db.Stats(id)
			if err != nil {
				t.Fatalf("step %d: Stats(%d): %v", step, id, err)
			}
			st.NReads = 0
			if st != m.st {
				t.Fatalf("step %d: Stats(%d) = %+v, model %+v", step, id, st, m.st)
			}
		}
		before := int64(r.Intn(int(tsRange)))
		l, ok, err := db.Latest(id, before)
		var wantTs int64 = -1
		for ts := range model[id].data {
			if ts <= before && ts > wantTs {
				wantTs = ts
			}
		}
		if err != nil || ok != (wantTs >= 0) || (ok && (l.TS != wantTs || !l.Value.Equal(model[id].data[wantTs]))) {
			t.Fatalf("step %d: Latest(%d, %d) = %+v %v %v, want ts %d", step, id, before, l, ok, err, wantTs)
		}
	}
	for id, m := range model {
		verifyRange(t, db, m, id, MinTimestamp, MaxTimestamp, "final")
	}
}

func verifyRange(t *testing.T, db *DB, m *modelSeries, id uint32, from, to int64, stage string) {
	t.Helper()
	var want []int64
	for ts := range m.data {
		if ts >= from && ts <= to {
			want = append(want, ts)
		}
	}
	sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
	ts, vs := scanAll(t, db, id, from, to)
	if len(ts) != len(want) {
		t.Fatalf("%s: Scan(%d, %d, %d) gave %d samples %v, model %d %v", stage, id, from, to, len(ts), ts, len(want), want)
	}
	for i := range ts {
		if ts[i] != want[i] || !vs[i].Equal(m.data[want[i]]) {
			t.Fatalf("%s: Scan(%d) sample %d = %d %v, model %d %v", stage, id, i, ts[i], vs[i], want[i], m.data[want[i]])
		}
	}
}
