package query

import (
	"bytes"
	"io"
	"math"
	"strconv"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/tsdb"
)

// format is the representation of a value response (bbdata-v2.md §4.1).
type format uint8

const (
	formatJSON format = iota
	formatCSV
)

// negotiate applies bbdata-v2.md §4.1: an Accept header that allows none of
// application/json, text/csv, text/plain and application/csv is 406; the format is CSV when
// the raw Accept header (else the Content-Type header) contains "text" or "csv", else JSON.
func negotiate(ctx *fasthttp.RequestCtx) (format, error) {
	accept := ctx.Request.Header.Peek(fasthttp.HeaderAccept)
	if len(bytes.TrimSpace(accept)) > 0 && !acceptable(accept) {
		return 0, api.Errorf(fasthttp.StatusNotAcceptable, api.ExcNotAcceptable,
			"Could not find acceptable representation (producible: application/json, text/csv, text/plain, application/csv)")
	}
	choice := accept
	if len(choice) == 0 {
		choice = ctx.Request.Header.ContentType()
	}
	if bytes.Contains(choice, []byte("text")) || bytes.Contains(choice, []byte("csv")) {
		return formatCSV, nil
	}
	return formatJSON, nil
}

// acceptable reports whether some media range of an Accept header matches a producible type.
func acceptable(accept []byte) bool {
	for len(accept) > 0 {
		var r []byte
		if i := bytes.IndexByte(accept, ','); i >= 0 {
			r, accept = accept[:i], accept[i+1:]
		} else {
			r, accept = accept, nil
		}
		if i := bytes.IndexByte(r, ';'); i >= 0 {
			r = r[:i]
		}
		r = bytes.ToLower(bytes.TrimSpace(r))
		switch string(r) {
		case "", "*", "*/*", "application/*", "text/*", "application/json", "text/csv", "text/plain", "application/csv":
			return true
		}
	}
	return false
}

func (f format) contentType() string {
	if f == formatCSV {
		return "text/csv"
	}
	return "application/json"
}

// body is a streamed response body: fasthttp pulls it with WriteTo after the handler returns,
// so rows are produced while the connection accepts them, into one bounded buffer. A write
// error (the client went away) stops the producer, which closes its iterators.
type body struct {
	produce func(o *out) error
	onDone  func(o *out)
}

// SupportsBodyWriteTo lets fasthttp frame WriteTo's output as chunks directly.
func (b *body) SupportsBodyWriteTo() bool { return true }

// Read is never used by fasthttp when WriteTo is supported; it exists for io.Reader.
func (b *body) Read(p []byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// WriteTo implements io.WriterTo.
func (b *body) WriteTo(w io.Writer) (int64, error) {
	o := getOut(w)
	err := b.produce(o)
	if err == nil {
		err = o.flush()
	}
	if b.onDone != nil {
		b.onDone(o)
	}
	n := o.n
	putOut(o)
	return n, err
}

// stream answers 200 with a streamed body of type f.
func stream(ctx *fasthttp.RequestCtx, f format, b *body) {
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType(f.contentType())
	ctx.Response.SetBodyStream(b, -1)
}

// flushAt is the buffer fill that triggers a write to the connection.
const flushAt = 64 << 10

// out buffers a response's bytes and writes them in ~64 KiB chunks.
type out struct {
	w    io.Writer
	buf  []byte
	n    int64
	err  error
	rows int64
	dt   dtCache
}

var outPool = make(chan *out, 16)

func getOut(w io.Writer) *out {
	select {
	case o := <-outPool:
		o.w = w
		return o
	default:
		return &out{w: w, buf: make([]byte, 0, flushAt+4096)}
	}
}

func putOut(o *out) {
	o.w, o.buf, o.n, o.err, o.rows = nil, o.buf[:0], 0, nil, 0
	select {
	case outPool <- o:
	default:
	}
}

// maybeFlush writes the buffer when it is full; false once a write failed.
func (o *out) maybeFlush() bool {
	if len(o.buf) >= flushAt {
		return o.flush() == nil
	}
	return o.err == nil
}

func (o *out) flush() error {
	if o.err != nil {
		return o.err
	}
	if len(o.buf) > 0 {
		n, err := o.w.Write(o.buf)
		o.n += int64(n)
		o.buf = o.buf[:0]
		o.err = err
	}
	return o.err
}

// dtCache prints timestamps, reusing the date part while it stays on one UTC day.
type dtCache struct {
	day    int64
	prefix [11]byte // yyyy-MM-ddT
	ok     bool
}

const msPerDay = 86_400_000

// appendDateTime appends ms in BBData's output form (api.AppendDateTime).
func (c *dtCache) appendDateTime(dst []byte, ms int64) []byte {
	if ms < 0 || ms >= 253402300800000 {
		return api.AppendDateTime(dst, ms)
	}
	day := ms / msPerDay
	if !c.ok || day != c.day {
		var tmp [32]byte
		t := api.AppendDateTime(tmp[:0], day*msPerDay)
		if len(t) != 24 {
			return api.AppendDateTime(dst, ms)
		}
		copy(c.prefix[:], t[:11])
		c.day, c.ok = day, true
	}
	rem := ms - day*msPerDay
	h := rem / 3600000
	mi := rem / 60000 % 60
	s := rem / 1000 % 60
	f := rem % 1000
	dst = append(dst, c.prefix[:]...)
	return append(dst,
		byte('0'+h/10), byte('0'+h%10), ':',
		byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10), '.',
		byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10), 'Z')
}

// appendValue appends the iterator's current value in canonical text (bbdata-v2.md §3.3,
// API.md §2). In JSON (quoted) the value is a JSON string literal, quotes included.
func appendValue(dst []byte, it *tsdb.Iterator, quoted bool) []byte {
	if quoted {
		if it.Type() == tsdb.String {
			b := it.Bytes()
			return api.AppendJSONString(dst, unsafe.String(unsafe.SliceData(b), len(b)))
		}
		dst = append(dst, '"')
		dst = appendValue(dst, it, false)
		return append(dst, '"')
	}
	switch it.Type() {
	case tsdb.Float:
		if m, e, ok := it.Decimal(); ok {
			return appendDecimalCanonical(dst, m, e, it.Float())
		}
		return api.AppendValueFloat(dst, it.Float())
	case tsdb.Int:
		return strconv.AppendInt(dst, it.Int(), 10)
	case tsdb.Bool:
		return api.AppendValueBool(dst, it.Bool())
	}
	return append(dst, it.Bytes()...)
}

// appendDecimalCanonical prints m × 10^e as Java's Double.toString would print the float it
// denotes: plain with at least one decimal when 1e-3 ≤ |v| < 1e7, scientific otherwise (via
// api.AppendValueFloat). It reads the stored decimal digits: no shortest-float search.
func appendDecimalCanonical(dst []byte, m int64, e int16, f float64) []byte {
	if m == 0 {
		return append(dst, '0', '.', '0')
	}
	am := m
	if am < 0 {
		am = -am
	}
	nd := 1
	for p := int64(10); nd < 19 && am >= p; p *= 10 {
		nd++
	}
	if mag := nd + int(e); mag <= -3 || mag > 7 {
		return api.AppendValueFloat(dst, f)
	}
	n := len(dst)
	dst = tsdb.AppendDecimal(dst, m, e)
	if bytes.IndexByte(dst[n:], '.') < 0 {
		dst = append(dst, '.', '0')
	}
	return dst
}

// round5 rounds to 5 decimals (mean and std, API.md §4).
func round5(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) >= 1e15 {
		return x
	}
	return math.Round(x*1e5) / 1e5
}

// round12 rounds to 12 significant digits (sums of float objects, API.md §4).
func round12(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	var buf [32]byte
	f, _ := strconv.ParseFloat(string(strconv.AppendFloat(buf[:0], x, 'e', 11, 64)), 64)
	return f
}
