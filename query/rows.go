package query

import (
	"math"
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
		return
	}
	e.prefix = strconv.AppendUint(e.prefix, uint64(id), 10)
	e.prefix = append(e.prefix, ',')
}

// raw appends the iterator's current sample as a raw row.
func (e *encoder) raw(o *out, it *tsdb.Iterator) {
	b := o.buf
	if e.f == formatJSON {
		if e.n > 0 {
			b = append(b, ',')
		}
		b = append(b, e.prefix...)
		b = append(b, `,"timestamp":"`...)
		b = o.dt.appendDateTime(b, it.Timestamp())
		b = append(b, `","value":`...)
		b = appendValue(b, it, true)
		b = append(b, `,"comment":null}`...)
	} else {
		b = append(b, e.prefix...)
		b = o.dt.appendDateTime(b, it.Timestamp())
		b = append(b, ',')
		b = appendValue(b, it, false)
		b = append(b, ",null\n"...)
	}
	o.buf = b
	e.n++
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
