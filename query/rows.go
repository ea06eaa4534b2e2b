package query

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/tsdb"
)

// encoder writes rows of one response: the JSON array or the CSV header and lines of
// bbdata-v2.md §4.2 (raw) and §4.4 (aggregated).
type encoder struct {
	f      format
	agg    bool
	fields fieldSet // aggregated rows only
	n      int64    // rows written
	prefix []byte   // per-object row prefix
	id     uint32

	// Raw rows: head is a row's start for the current object, CSV `id,`, JSON
	// `,{"objectId":id,"timestamp":"` (the comma skipped on the first row), ≤ 37 bytes, also
	// as little-endian words padded with zeros; tt holds the text of the row's timestamp.
	head      []byte
	headLen   int
	headWords [5]uint64
	tt        tsText
	decK      int // decimalOf's first guess
}

// fieldSet selects the fields of an aggregated row (objectId and timestamp always).
type fieldSet uint16

const (
	fMinutes fieldSet = 1 << iota
	fLast
	fLastTs
	fMin
	fMax
	fSum
	fMean
	fStd
	fCount
	fComment
	fAll = fMinutes | fLast | fLastTs | fMin | fMax | fSum | fMean | fStd | fCount | fComment
)

// csvOrder is the column order of bbdata-v2.md §4.4's CSV header.
var csvOrder = []struct {
	f    fieldSet
	name string
}{{fMinutes, "minutes"}, {fLast, "last"}, {fLastTs, "lastTimestamp"}, {fMin, "min"}, {fMax, "max"},
	{fSum, "sum"}, {fMean, "mean"}, {fStd, "std"}, {fCount, "count"}, {fComment, "comment"}}

// parseFields reads the "fields" of /query (API.md §4): names of aggregated row fields.
func parseFields(names []string) (fieldSet, error) {
	if len(names) == 0 {
		return fAll, nil
	}
	var fs fieldSet
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch n {
		case "objectId", "timestamp":
			continue
		}
		found := false
		for _, c := range csvOrder {
			if c.name == n && c.f != fComment {
				fs |= c.f
				found = true
			}
		}
		if !found {
			return 0, api.WrongParams("unknown field '%s': fields are among [minutes, last, lastTimestamp, min, max, sum, mean, std, count]", n)
		}
	}
	return fs, nil
}

// begin writes what precedes the rows.
func (e *encoder) begin(o *out) {
	if e.f == formatJSON {
		o.buf = append(o.buf, '[')
		return
	}
	if !e.agg {
		o.buf = append(o.buf, "objectId,timestamp,value,comment\n"...)
		return
	}
	o.buf = append(o.buf, "objectId"...)
	if e.fields&fMinutes != 0 {
		o.buf = append(o.buf, ",minutes"...)
	}
	o.buf = append(o.buf, ",timestamp"...)
	for _, c := range csvOrder[1:] {
		if e.fields&c.f != 0 {
			o.buf = append(o.buf, ',')
			o.buf = append(o.buf, c.name...)
		}
	}
	o.buf = append(o.buf, '\n')
}

// end writes what follows the rows.
func (e *encoder) end(o *out) {
	if e.f == formatJSON {
		o.buf = append(o.buf, ']')
	}
}

// object sets the object whose rows follow.
func (e *encoder) object(id uint32) {
	e.id = id
	e.prefix = e.prefix[:0]
	if e.f == formatJSON {
		e.prefix = append(e.prefix, `{"objectId":`...)
		e.prefix = strconv.AppendUint(e.prefix, uint64(id), 10)
		e.head = append(append(e.head[:0], ','), e.prefix...)
		e.head = append(e.head, `,"timestamp":"`...)
	} else {
		e.prefix = strconv.AppendUint(e.prefix, uint64(id), 10)
		e.prefix = append(e.prefix, ',')
		e.head = append(e.head[:0], e.prefix...)
	}
	e.headLen = len(e.head)
	var words [len(e.headWords) * 8]byte
	copy(words[:], e.head)
	for i := range e.headWords {
		e.headWords[i] = binary.LittleEndian.Uint64(words[8*i:])
	}
}

// rawRun appends the first cnt samples of r as raw rows, writing o's buffer to the client
// whenever it is full; false once a write failed (o.err). A row is written in place, in
// 8-byte words where it can: the object's head, the timestamp text (tsText), the float
// printed from its block mantissa and shared exponent (putDecimalFixed), the row's end.
// BenchmarkEncodeYear (scan and encode of a year, block decode included): ~15 CPU-ms, 28 ns
// a sample, where per-sample Next, appendValue, a per-day date cache and byte appends took
// 30–40 CPU-ms.
func (e *encoder) rawRun(o *out, r *tsdb.Run, cnt int) bool {
	json := e.f == formatJSON
	mant, exp, dec := r.Decimals()
	k := -int(exp)
	fast := dec && k >= 0 && k <= maxFixedDecimals
	guess := !dec && r.Type() == tsdb.Float // a head copy or a block of raw floats
	hw := &e.headWords
	// Rows start below flushAt (else the buffer is written first) and the buffer keeps at
	// least maxRawRow beyond it, so a row written in place needs no capacity check.
	b := o.buf
	if cap(b) < flushAt+maxRawRow {
		b = slices.Grow(b, flushAt+maxRawRow-len(b))
	}
	for i, ts := range r.Timestamps()[:cnt] {
		if len(b) >= flushAt {
			o.buf = b
			if o.flush() != nil {
				return false
			}
			b = o.buf
		}
		if !e.tt.put(ts) {
			b = e.rawSlow(b, r, i, ts)
			continue
		}
		var m int64
		kk := k
		switch {
		case fast:
			m = mant[i]
		case guess:
			var ok bool
			if m, kk, ok = e.decimalOf(r.Float(i)); !ok {
				b = e.rawAppend(b, r, i)
				continue
			}
		default:
			b = e.rawAppend(b, r, i)
			continue
		}
		if json && e.n == 0 {
			b = e.rawAppend(b, r, i)
			continue
		}
		n := len(b)
		w := b[n:cap(b)]
		_ = w[maxRawRow-1]
		binary.LittleEndian.PutUint64(w, hw[0])
		binary.LittleEndian.PutUint64(w[8:], hw[1])
		binary.LittleEndian.PutUint64(w[16:], hw[2])
		binary.LittleEndian.PutUint64(w[24:], hw[3])
		binary.LittleEndian.PutUint64(w[32:], hw[4])
		p := e.headLen
		e.tt.store(w[p:])
		p += tsTextLen
		if json {
			binary.LittleEndian.PutUint64(w[p:], jsonValue0)
			binary.LittleEndian.PutUint64(w[p+8:], jsonValue1)
			p += 11
		} else {
			w[p] = ','
			p++
		}
		v := putDecimalFixed(w[p:], m, kk)
		if v < 0 { // scientific notation
			b = appendDecimalFixed(b[:n+p], m, kk)
		} else {
			b = b[:n+p+v]
		}
		n = len(b)
		w = b[n:cap(b)]
		if json {
			binary.LittleEndian.PutUint64(w, jsonRowEnd0)
			binary.LittleEndian.PutUint64(w[8:], jsonRowEnd1)
			binary.LittleEndian.PutUint16(w[16:], jsonRowEnd2)
			b = b[:n+17]
		} else {
			binary.LittleEndian.PutUint64(w, csvRowEnd)
			b = b[:n+6]
		}
		e.n++
	}
	o.buf = b
	return o.err == nil
}

// decimalOf returns f as m × 10^-k with k ≤ maxFixedDecimals, for floats without a block
// decimal form (head copies, blocks of raw floats — one -0 makes a block raw). It first tries
// the k of the previous value, which a series keeps: a multiply, a rounding and a division,
// where tsdb.FloatToDecimal searches k from 0. A k larger than the shortest is fine: the
// decimal is unique below 10^15 (tsdb.FloatToDecimal), and putDecimalFixed drops trailing
// zeros. ok is false for -0, NaN, ±Inf and values needing more digits.
func (e *encoder) decimalOf(f float64) (m int64, k int, ok bool) {
	if k = e.decK; k >= 0 && k <= maxFixedDecimals {
		x := f * pow10[k]
		if r := math.Round(x); math.Abs(r) < 1e15 && r/pow10[k] == f && (f != 0 || !math.Signbit(f)) {
			return int64(r), k, true
		}
	}
	dm, de, ok := tsdb.FloatToDecimal(f)
	if !ok || -de > maxFixedDecimals {
		return 0, 0, false
	}
	e.decK = int(-de)
	return dm, e.decK, true
}

// maxRawRow bounds a raw row written in place: head words, timestamp, `","value":"`, value,
// row end words.
const maxRawRow = 40 + tsTextLen + 16 + maxFixedText + 24

// Raw row parts around a decimal value as little-endian words: JSON `","value":"` after the
// timestamp; the row's end, CSV `,null\n`, JSON `","comment":null}` (the value's closing
// quote first).
var (
	jsonValue0  = binary.LittleEndian.Uint64([]byte(`","value`))
	jsonValue1  = binary.LittleEndian.Uint64([]byte(`":"` + "\x00\x00\x00\x00\x00"))
	csvRowEnd   = binary.LittleEndian.Uint64([]byte(",null\n\x00\x00"))
	jsonRowEnd0 = binary.LittleEndian.Uint64([]byte(`","comme`))
	jsonRowEnd1 = binary.LittleEndian.Uint64([]byte(`nt":null`))
	jsonRowEnd2 = binary.LittleEndian.Uint16([]byte(`}` + "\x00"))
)

// rawAppend appends sample i of r as a raw row with appends, its timestamp being e.tt's
// current text: for values without a block decimal form and the first JSON row.
func (e *encoder) rawAppend(b []byte, r *tsdb.Run, i int) []byte {
	json := e.f == formatJSON
	if json && e.n == 0 {
		b = append(b, e.head[1:e.headLen]...) // no comma before the first row
	} else {
		b = append(b, e.head[:e.headLen]...)
	}
	var ts [tsTextLen]byte
	e.tt.store(ts[:])
	b = append(b, ts[:]...)
	if json {
		b = append(b, `","value":`...)
		b = appendRunValue(b, r, i, true)
		b = append(b, `,"comment":null}`...)
	} else {
		b = append(b, ',')
		b = appendRunValue(b, r, i, false)
		b = append(b, ",null\n"...)
	}
	e.n++
	return b
}

// rawSlow appends sample i of r at ts as a raw row without the template (timestamps
// outside tsText's years).
func (e *encoder) rawSlow(b []byte, r *tsdb.Run, i int, ts int64) []byte {
	if e.f == formatJSON {
		if e.n > 0 {
			b = append(b, ',')
		}
		b = append(b, e.prefix...)
		b = append(b, `,"timestamp":"`...)
		b = api.AppendDateTime(b, ts)
		b = append(b, `","value":`...)
		b = appendRunValue(b, r, i, true)
		b = append(b, `,"comment":null}`...)
	} else {
		b = append(b, e.prefix...)
		b = api.AppendDateTime(b, ts)
		b = append(b, ',')
		b = appendRunValue(b, r, i, false)
		b = append(b, ",null\n"...)
	}
	e.n++
	return b
}

// row appends a rollup row of granularity g; isInt selects the integer fields.
func (e *encoder) row(o *out, r *Row, g Granularity, isInt bool) {
	b := o.buf
	fs := e.fields
	if e.f == formatJSON {
		if e.n > 0 {
			b = append(b, ',')
		}
		b = append(b, e.prefix...)
		if fs&fMinutes != 0 {
			b = append(b, `,"minutes":`...)
			b = strconv.AppendInt(b, g.Minutes(), 10)
		}
		b = append(b, `,"timestamp":"`...)
		b = o.dt.appendDateTime(b, r.Start)
		b = append(b, '"')
		if fs&fLast != 0 {
			b = append(b, `,"last":`...)
			b = appendStat(b, fLast, r, isInt)
		}
		if fs&fLastTs != 0 {
			b = append(b, `,"lastTimestamp":"`...)
			b = o.dt.appendDateTime(b, r.LastTs)
			b = append(b, '"')
		}
		if fs&fMin != 0 {
			b = append(b, `,"min":`...)
			b = appendStat(b, fMin, r, isInt)
		}
		if fs&fMax != 0 {
			b = append(b, `,"max":`...)
			b = appendStat(b, fMax, r, isInt)
		}
		if fs&fSum != 0 {
			b = append(b, `,"sum":`...)
			b = appendStat(b, fSum, r, isInt)
		}
		if fs&fMean != 0 {
			b = append(b, `,"mean":`...)
			b = appendStat(b, fMean, r, isInt)
		}
		if fs&fCount != 0 {
			b = append(b, `,"count":`...)
			b = strconv.AppendUint(b, r.Count, 10)
		}
		if fs&fStd != 0 {
			if std := r.Std(); !math.IsNaN(std) {
				b = append(b, `,"std":`...)
				b = appendStat(b, fStd, r, isInt)
			}
		}
		b = append(b, '}')
	} else {
		b = append(b, e.prefix[:len(e.prefix)-1]...) // objectId without the comma
		if fs&fMinutes != 0 {
			b = append(b, ',')
			b = strconv.AppendInt(b, g.Minutes(), 10)
		}
		b = append(b, ',')
		b = o.dt.appendDateTime(b, r.Start)
		for _, c := range csvOrder[1:] {
			if fs&c.f == 0 {
				continue
			}
			b = append(b, ',')
			switch c.f {
			case fLastTs:
				b = o.dt.appendDateTime(b, r.LastTs)
			case fCount:
				b = strconv.AppendUint(b, r.Count, 10)
			case fComment:
				b = append(b, "null"...)
			default:
				b = appendStat(b, c.f, r, isInt)
			}
		}
		b = append(b, '\n')
	}
	o.buf = b
	e.n++
}

// appendStat prints one numeric field of a row by the rules of API.md §4: int objects print
// min, max, last and sum as integers (a sum past int64 as a float), float objects in the
// values' canonical text with sum rounded to 12 significant digits; mean and std rounded to
// 5 decimals.
func appendStat(b []byte, f fieldSet, r *Row, isInt bool) []byte {
	switch f {
	case fMean:
		return appendRound5(b, r.Mean)
	case fStd:
		return appendRound5(b, r.Std())
	}
	if isInt {
		switch f {
		case fLast:
			return strconv.AppendInt(b, r.IntLast, 10)
		case fMin:
			return strconv.AppendInt(b, r.IntMin, 10)
		case fMax:
			return strconv.AppendInt(b, r.IntMax, 10)
		case fSum:
			if r.IntOverflow {
				return api.AppendValueFloat(b, round12(r.Sum))
			}
			return strconv.AppendInt(b, r.IntSum, 10)
		}
	}
	switch f {
	case fLast:
		return api.AppendValueFloat(b, r.Last)
	case fMin:
		return api.AppendValueFloat(b, r.Min)
	case fMax:
		return api.AppendValueFloat(b, r.Max)
	case fSum:
		return api.AppendValueFloat(b, round12(r.Sum))
	}
	return b
}
