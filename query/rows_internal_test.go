package query

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/tsdb"
)

// referenceRaw is the raw rows of ids in [from, to] printed sample by sample from Next with
// the plain formatters (api.AppendDateTime, api.AppendValueFloat, …): what the run-wise,
// in-place encoder must reproduce byte for byte.
func referenceRaw(t *testing.T, db *tsdb.DB, f format, ids []uint32, from, to int64, limit int) []byte {
	t.Helper()
	var b []byte
	if f == formatJSON {
		b = append(b, '[')
	} else {
		b = append(b, "objectId,timestamp,value,comment\n"...)
	}
	n := 0
	for _, id := range ids {
		it, err := db.Scan(id, from, to)
		if err != nil {
			t.Fatal(err)
		}
		for (limit <= 0 || n < limit) && it.Next() {
			var v []byte
			switch it.Type() {
			case tsdb.Float:
				v = api.AppendValueFloat(nil, it.Float())
			case tsdb.Int:
				v = strconv.AppendInt(nil, it.Int(), 10)
			case tsdb.Bool:
				v = api.AppendValueBool(nil, it.Bool())
			default:
				v = append(v, it.Bytes()...)
			}
			if f == formatJSON {
				if n > 0 {
					b = append(b, ',')
				}
				b = fmt.Appendf(b, `{"objectId":%d,"timestamp":"%s","value":`, id, api.AppendDateTime(nil, it.Timestamp()))
				if it.Type() == tsdb.String {
					b = api.AppendJSONString(b, string(v))
				} else {
					b = append(append(append(b, '"'), v...), '"')
				}
				b = append(b, `,"comment":null}`...)
			} else {
				b = fmt.Appendf(b, "%d,%s,%s,null\n", id, api.AppendDateTime(nil, it.Timestamp()), v)
			}
			n++
		}
		if err := it.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if f == formatJSON {
		b = append(b, ']')
	}
	return b
}

// encodeRaw is what values and /query stream for ids: writeRaw per object into one body.
func encodeRaw(t *testing.T, h *Handler, f format, ids []uint32, typs []tsdb.ValueType, from, to int64, limit int) []byte {
	t.Helper()
	var buf bytes.Buffer
	o := getOut(&buf)
	defer putOut(o)
	e := &encoder{f: f}
	e.begin(o)
	for i, id := range ids {
		e.object(id)
		if err := h.writeRaw(o, e, &target{id: id, typ: typs[i]}, []span{{from, to}}, int64(limit)); err != nil {
			t.Fatal(err)
		}
	}
	e.end(o)
	if err := o.flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRawRowsMatchReference: raw rows of decimal blocks of every exponent (values in and out
// of plain notation), raw-float blocks (-0, NaN, ±Inf, long fractions), head samples over
// blocks, ints, bools and strings needing JSON escapes, timestamps from 1970 to 9999
// crossing days and years, several objects in one body larger than the flush size, with and
// without a limit: byte for byte the rows printed sample by sample with the plain formatters.
func TestRawRowsMatchReference(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 4))
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{MaxBlockSamples: 500, HeadBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	typs := []tsdb.ValueType{tsdb.Float, tsdb.Float, tsdb.Float, tsdb.Int, tsdb.Bool, tsdb.String, tsdb.Float}
	ids := []uint32{1, 2, 3, 4, 5, 6, math.MaxUint32}
	for i, id := range ids {
		if err := db.CreateSeriesNow(id, typs[i]); err != nil {
			t.Fatal(err)
		}
	}
	const maxTs = 253402300799999
	starts := []int64{0, 1735689600000, 946684799000, 4107542399000, maxTs - 3000*60_000}
	value := func(id uint32, p int) tsdb.Value {
		switch id {
		case 1: // one exponent per block, 0..8 decimals
			k := p / 500 % 9
			return tsdb.FloatValue(float64(r.Int64N(2_000_000)-1_000_000) / math.Pow10(k))
		case 2: // plain-notation edges and scientific values
			return tsdb.FloatValue([]float64{1e7, 9999999.9, 0.001, 0.00099, -1e-3, 12345678, 0, 0.5, 1e-8, -2.5e9}[r.IntN(10)])
		case 3: // blocks of raw floats
			return tsdb.FloatValue([]float64{math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), r.Float64() + 0.2, 1e300, 21.5, -3}[r.IntN(8)])
		case 4:
			return tsdb.IntValue([]int64{math.MinInt64, math.MaxInt64, 0, -1, 42}[r.IntN(5)])
		case 5:
			return tsdb.BoolValue(r.IntN(2) == 0)
		case 6:
			return tsdb.StringValue([]string{"", "a,b", "quote \" and \\ and \n", "héllo ✓", "\x00\x1f"}[r.IntN(5)])
		}
		return tsdb.FloatValue(math.Round((15+10*r.Float64())*100) / 100)
	}
	ctx := context.Background()
	var b tsdb.Batch
	for i, id := range ids {
		ts := starts[i%len(starts)]
		for p := range 3000 {
			b.AddValue(id, ts, value(id, p))
			ts += []int64{1, 999, 60_000, 60_000 + r.Int64N(400), 3_600_000, 86_400_000 + 1, 31 * 86_400_000}[r.IntN(7)]
			if ts > maxTs {
				break
			}
		}
	}
	if err := db.Append(ctx, &b, tsdb.Overwrite); err != nil {
		t.Fatal(err)
	}
	if err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	// head samples over the blocks: overwrites and new timestamps
	b.Reset()
	for i, id := range ids {
		ts := starts[i%len(starts)]
		for range 300 {
			ts += r.Int64N(3 * 86_400_000)
			if ts > maxTs {
				break
			}
			b.AddValue(id, ts, value(id, 0))
		}
	}
	if err := db.Append(ctx, &b, tsdb.Overwrite); err != nil {
		t.Fatal(err)
	}
	h := &Handler{db: db}
	for _, f := range []format{formatCSV, formatJSON} {
		for _, c := range []struct {
			from, to int64
			limit    int
		}{{0, maxTs, 0}, {0, maxTs, 7777}, {1735689600000, 1767225600000, 0}, {500, 86_400_000 * 30, 3}, {5, 4, 0}} {
			want := referenceRaw(t, db, f, ids, c.from, c.to, c.limit)
			got := encodeRaw(t, h, f, ids, typs, c.from, c.to, c.limit)
			if !bytes.Equal(got, want) {
				i := 0
				for i < min(len(got), len(want)) && got[i] == want[i] {
					i++
				}
				t.Fatalf("format %d, %+v: %d bytes, reference %d; first difference at %d:\n got  %q\n want %q",
					f, c, len(got), len(want), i, got[max(0, i-80):min(len(got), i+80)], want[max(0, i-80):min(len(want), i+80)])
			}
			if f == formatJSON && !json.Valid(got) {
				t.Fatalf("%+v: invalid JSON", c)
			}
			if c.limit == 0 && c.from == 0 && len(got) < 2*flushAt {
				t.Fatalf("only %d bytes: the body does not span flushes", len(got))
			}
		}
	}
}

// TestDecimalOf: the decimal found for a float (with the previous value's exponent as first
// guess) prints as the float's canonical text, and -0, NaN, ±Inf and long fractions are
// left to the float formatter.
func TestDecimalOf(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 5))
	var e encoder
	tenth := 0.1
	for _, f := range []float64{math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), tenth + 0.2, 1e300, 5e-324, 1e15} {
		for _, k := range []int{0, 2, 8} {
			e.decK = k
			if m, k, ok := e.decimalOf(f); ok {
				t.Fatalf("decimalOf(%v) = %d, %d", f, m, k)
			}
		}
	}
	for range 300_000 {
		d := r.IntN(10)
		f := math.Round((r.Float64()-0.5)*math.Pow10(r.IntN(10))*math.Pow10(d)) / math.Pow10(d)
		if r.IntN(4) == 0 {
			e.decK = r.IntN(maxFixedDecimals + 1)
		}
		want := string(api.AppendValueFloat(nil, f))
		m, k, ok := e.decimalOf(f)
		if !ok {
			if _, de, ok := tsdb.FloatToDecimal(f); ok && -de <= maxFixedDecimals {
				t.Fatalf("decimalOf(%v) failed", f)
			}
			continue
		}
		if got := string(appendDecimalFixed(nil, m, k)); got != want {
			t.Fatalf("decimalOf(%v) = %d×10^-%d, printed %s, want %s", f, m, k, got, want)
		}
	}
}
