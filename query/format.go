package query

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
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
const flushAt = 256 << 10

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
	rem := uint32(ms - day*msPerDay)
	sec := rem / 1000
	f := rem - sec*1000
	h := sec / 3600
	mi := sec / 60 % 60
	s := sec % 60
	dst = append(dst, c.prefix[:]...)
	return append(dst,
		digitPairs[h*2], digitPairs[h*2+1], ':',
		digitPairs[mi*2], digitPairs[mi*2+1], ':',
		digitPairs[s*2], digitPairs[s*2+1], '.',
		byte('0'+f/100), digitPairs[f%100*2], digitPairs[f%100*2+1], 'Z')
}

// appendRunValue appends sample i of r in canonical text (bbdata-v2.md §3.3, API.md §2). In
// JSON (quoted) the value is a JSON string literal, quotes included.
func appendRunValue(dst []byte, r *tsdb.Run, i int, quoted bool) []byte {
	if quoted {
		if r.Type() == tsdb.String {
			b := r.Bytes(i)
			return api.AppendJSONString(dst, unsafe.String(unsafe.SliceData(b), len(b)))
		}
		dst = append(dst, '"')
		dst = appendRunValue(dst, r, i, false)
		return append(dst, '"')
	}
	switch r.Type() {
	case tsdb.Float:
		if mant, e, ok := r.Decimals(); ok {
			if d, ok := appendDecimalCanonical(dst, mant[i], e); ok {
				return d
			}
		} else if m, e, ok := tsdb.FloatToDecimal(r.Float(i)); ok {
			if d, ok := appendDecimalCanonical(dst, m, e); ok {
				return d
			}
		}
		return api.AppendValueFloat(dst, r.Float(i))
	case tsdb.Int:
		return strconv.AppendInt(dst, r.Int(i), 10)
	case tsdb.Bool:
		return api.AppendValueBool(dst, r.Bool(i))
	}
	return append(dst, r.Bytes(i)...)
}

const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// appendDecimalCanonical prints m × 10^e as Java's Double.toString prints the float it
// denotes, when that is plain notation (1e-3 ≤ |v| < 1e7, at least one decimal: "1200.0",
// "21.5", "0.05"); ok is false for the scientific range, which the caller prints from the
// float. It reads the stored decimal digits: no shortest-float search (BenchmarkYearRaw:
// strconv's shortest formatting alone would cost ~25 ms of the 50 ms budget for a year).
func appendDecimalCanonical(dst []byte, m int64, e int16) ([]byte, bool) {
	if m == 0 {
		return append(dst, '0', '.', '0'), true
	}
	neg := m < 0
	u := uint64(m)
	if neg {
		u = uint64(-m)
	}
	k := -int(e) // decimals
	for k > 0 && u%10 == 0 {
		u /= 10
		k--
	}
	var buf [24]byte
	i := len(buf)
	for u >= 100 {
		q := u / 100
		r := (u - q*100) * 2
		i -= 2
		buf[i], buf[i+1] = digitPairs[r], digitPairs[r+1]
		u = q
	}
	if u >= 10 {
		i -= 2
		buf[i], buf[i+1] = digitPairs[u*2], digitPairs[u*2+1]
	} else {
		i--
		buf[i] = byte('0' + u)
	}
	d := buf[i:]
	nd := len(d)
	// |v| = 0.d × 10^mag, so 10^(mag-1) ≤ |v| < 10^mag.
	if mag := nd - k; mag <= -3 || mag >= 8 {
		return dst, false
	}
	if neg {
		dst = append(dst, '-')
	}
	switch {
	case k <= 0:
		dst = append(dst, d...)
		for ; k < 0; k++ {
			dst = append(dst, '0')
		}
		return append(dst, '.', '0'), true
	case nd > k:
		dst = append(dst, d[:nd-k]...)
		dst = append(dst, '.')
		return append(dst, d[nd-k:]...), true
	}
	dst = append(dst, '0', '.')
	for j := nd; j < k; j++ {
		dst = append(dst, '0')
	}
	return append(dst, d...), true
}

// round5 rounds to 5 decimals (mean and std, API.md §4).
func round5(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) >= 1e15 {
		return x
	}
	return math.Round(x*1e5) / 1e5
}

// round12 rounds to 12 significant digits (sums of float objects, API.md §4): the integer
// m = round(x·10^k) with 12 digits, then m/10^k, which is correctly rounded (both exact,
// k ≤ 22) and so the float that m×10^-k's text parses to; strconv beyond that range.
func round12(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	a := math.Abs(x)
	if a >= 1e-10 && a < 1e12 {
		e := int(math.Floor(math.Log10(a))) // 10^e ≤ a < 10^(e+1), give or take one
		k := 11 - e
		if k >= 0 && k <= 22 {
			t := a * pow10[k]
			if t >= 1e12-0.5 && k > 0 { // log10 was one too low
				k--
				t = a * pow10[k]
			} else if t < 1e11 && k < 22 { // one too high
				k++
				t = a * pow10[k]
			}
			m := math.Round(t)
			// near a decimal tie the product's own rounding may decide: leave it to strconv
			if fr := t - math.Floor(t); m < 1e12 && math.Abs(fr-0.5) > 1e-3 {
				r := m / pow10[k]
				if x < 0 {
					r = -r
				}
				return r
			}
		}
	}
	var buf [32]byte
	f, _ := strconv.ParseFloat(string(strconv.AppendFloat(buf[:0], x, 'e', 11, 64)), 64)
	return f
}

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// appendRound5 appends x rounded to 5 decimals in canonical text (mean and std, API.md §4),
// printing the integer round(x·10^5) as a decimal: no shortest-float search.
func appendRound5(dst []byte, x float64) []byte {
	if m := math.Round(x * 1e5); math.Abs(m) >= 100 && math.Abs(m) < 1e12 {
		// 0.001 ≤ |x| < 10^7, where the canonical text is plain decimal
		// (appendDecimalCanonical's range): integer part, then the five
		// decimals with trailing zeros dropped ("12.0" for none). The common
		// case of every mean and std; TestRounding checks it against
		// AppendValueFloat(round5(x)).
		if m < 0 {
			dst = append(dst, '-')
		}
		u := uint64(math.Abs(m))
		dst = strconv.AppendUint(dst, u/100000, 10)
		fp := u % 100000
		if fp == 0 {
			return append(dst, '.', '0')
		}
		b := [6]byte{'.'}
		for i := 5; i >= 1; i-- {
			b[i] = byte('0' + fp%10)
			fp /= 10
		}
		n := 6
		for b[n-1] == '0' {
			n--
		}
		return append(dst, b[:n]...)
	}
	if m := math.Round(x * 1e5); math.Abs(m) < 1e15 {
		if d, ok := appendDecimalCanonical(dst, int64(m), -5); ok {
			return d
		}
	}
	return api.AppendValueFloat(dst, round5(x))
}

// maxFixedDecimals is the largest block exponent -e that putDecimalFixed handles.
const maxFixedDecimals = 8

// maxFixedText bounds the bytes putDecimalFixed writes: sign, 7 integer digits, point, 8
// decimals.
const maxFixedText = 17

var pow10u = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// appendDecimalFixed appends m × 10^-k (0 ≤ k ≤ maxFixedDecimals) in canonical text: what
// putDecimalFixed writes, else (scientific range) appendDecimalCanonical or the float's text.
func appendDecimalFixed(dst []byte, m int64, k int) []byte {
	n := len(dst)
	dst = slices.Grow(dst, maxFixedText)
	if w := putDecimalFixed(dst[n:n+maxFixedText], m, k); w >= 0 {
		return dst[:n+w]
	}
	if d, ok := appendDecimalCanonical(dst, m, int16(-k)); ok {
		return d
	}
	return api.AppendValueFloat(dst, tsdb.DecimalToFloat(m, int16(-k)))
}

// Text tables of putDecimalFixed's common case, each entry the text's bytes little-endian in
// the low 32 bits and its length in the top byte: intText[v] is v < 1000 in decimal;
// fracText[fracBase[k]+f] is the fraction f of k ≤ 3 decimals with its point and without
// trailing zeros (".0" for 0, ".5", ".25").
var (
	intText  [1000]uint64
	fracText [1 + 10 + 100 + 1000]uint64
	fracBase = [4]uint64{0, 1, 11, 111}
)

func init() {
	pack := func(txt string) uint64 {
		var v uint64
		for i := len(txt) - 1; i >= 0; i-- {
			v = v<<8 | uint64(txt[i])
		}
		return v | uint64(len(txt))<<56
	}
	for v := range intText {
		intText[v] = pack(strconv.Itoa(v))
	}
	for k := 0; k <= 3; k++ {
		for f := uint64(0); f < pow10u[k]; f++ {
			txt := ".0"
			if f != 0 {
				txt = strings.TrimRight(fmt.Sprintf(".%0*d", k, f), "0")
			}
			fracText[fracBase[k]+f] = pack(txt)
		}
	}
}

// putDecimalFixed writes m × 10^-k (0 ≤ k ≤ maxFixedDecimals, a block's shared exponent) at
// the start of d (len(d) ≥ maxFixedText) as appendDecimalCanonical prints it, plain notation
// with trailing fraction zeros dropped ("21.5", "0.0", "1200.0"), and returns the length;
// -1 (nothing written that counts) when |v| is outside [1e-3, 1e7), Java's scientific range.
// Written for the per-sample loop of raw rows: divisions by constants, values below 1000
// with up to 3 decimals from two text tables, digits in place (BenchmarkDecimalFixed: 5–9 ns
// a value against 14–20 for appendDecimalCanonical, on a loaded machine).
func putDecimalFixed(d []byte, m int64, k int) int {
	_ = d[maxFixedText-1]
	if m == 0 {
		d[0], d[1], d[2] = '0', '.', '0'
		return 3
	}
	u := uint64(m)
	i := 0
	if m < 0 {
		u = uint64(-m)
		d[0] = '-'
		i = 1
	}
	var ip uint64
	switch k {
	case 0:
		ip = u
	case 1:
		ip = u / 10
	case 2:
		ip = u / 100
	case 3:
		ip = u / 1000
	case 4:
		ip = u / 10000
	case 5:
		ip = u / 100000
	case 6:
		ip = u / 1000000
	case 7:
		ip = u / 10000000
	default:
		ip = u / 100000000
	}
	frac := u - ip*pow10u[k]
	if k <= 3 && ip < 1000 { // the usual sensor value: two table lookups
		it, ft := intText[ip], fracText[fracBase[k]+frac]
		binary.LittleEndian.PutUint32(d[i:], uint32(it))
		i += int(it >> 56)
		binary.LittleEndian.PutUint32(d[i:], uint32(ft))
		return i + int(ft>>56)
	}
	if ip >= 1e7 || (ip == 0 && k >= 3 && frac < pow10u[k-3]) {
		return -1
	}
	kk := 1 // fraction digits printed
	if frac != 0 {
		kk = k
		for frac%10 == 0 {
			frac /= 10
			kk--
		}
	}
	nd := 1
	if ip >= 10 {
		nd++
		if ip >= 100 {
			nd++
			for p := uint64(1000); nd < 7 && ip >= p; p *= 10 {
				nd++
			}
		}
	}
	end := i + nd + 1 + kk
	p := end - 1
	for j := kk; j >= 2; j -= 2 { // fraction, right to left
		r := frac % 100 * 2
		d[p], d[p-1] = digitPairs[r+1], digitPairs[r]
		frac /= 100
		p -= 2
	}
	if kk&1 != 0 {
		d[p] = byte('0' + frac)
		p--
	}
	d[p] = '.'
	p--
	for j := nd; j >= 2; j -= 2 { // integer part, right to left
		r := ip % 100 * 2
		d[p], d[p-1] = digitPairs[r+1], digitPairs[r]
		ip /= 100
		p -= 2
	}
	if nd&1 != 0 {
		d[p] = byte('0' + ip)
	}
	return end
}
