package ingest

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"sync"
	"unsafe"

	"github.com/tsgate/tsgate/api"
)

// Precision is the unit of line-protocol timestamps (?precision=).
type Precision uint8

// Timestamp precisions. The zero value is nanoseconds, Influx's default.
const (
	PrecisionNs Precision = iota
	PrecisionUs
	PrecisionMs
	PrecisionS
	PrecisionM
	PrecisionH
)

// ErrPrecision is returned for a ?precision= value the endpoint does not take.
var ErrPrecision = errors.New("ingest: unknown precision")

// ParsePrecisionV1 maps /write's precision names (Influx 1.x: n, ns, u, us,
// ms, s, m, h; empty = ns) to a Precision (API.md §3.2).
func ParsePrecisionV1(s string) (Precision, error) {
	switch s {
	case "", "n", "ns":
		return PrecisionNs, nil
	case "u", "us":
		return PrecisionUs, nil
	case "ms":
		return PrecisionMs, nil
	case "s":
		return PrecisionS, nil
	case "m":
		return PrecisionM, nil
	case "h":
		return PrecisionH, nil
	}
	return 0, ErrPrecision
}

// ParsePrecisionV2 maps /api/v2/write's precision names (ns, us, ms, s;
// empty = ns) to a Precision (API.md §3.2).
func ParsePrecisionV2(s string) (Precision, error) {
	switch s {
	case "", "ns":
		return PrecisionNs, nil
	case "us":
		return PrecisionUs, nil
	case "ms":
		return PrecisionMs, nil
	case "s":
		return PrecisionS, nil
	}
	return 0, ErrPrecision
}

// toMillis converts a timestamp in precision p to Unix ms, truncating finer
// precisions toward negative infinity (API.md §4: stored in milliseconds).
func (p Precision) toMillis(t int64) (int64, bool) {
	var mul int64
	switch p {
	case PrecisionNs:
		if t >= 0 {
			return t / 1e6, true
		}
		return floorDiv(t, 1e6), true
	case PrecisionUs:
		return floorDiv(t, 1e3), true
	case PrecisionMs:
		return t, true
	case PrecisionS:
		mul = 1000
	case PrecisionM:
		mul = 60000
	case PrecisionH:
		mul = 3600000
	}
	if t > math.MaxInt64/mul || t < math.MinInt64/mul {
		return 0, false
	}
	return t * mul, true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// LineValueKind is the Influx type of a sample's value field.
type LineValueKind uint8

// Influx field types tsgate takes for value.
const (
	LineFloat  LineValueKind = iota + 1 // 1, -1.5, 1e3, .5
	LineInt                             // 5i
	LineBool                            // t, T, true, True, TRUE, f, F, false, False, FALSE
	LineString                          // "text" (\" and \\ unescaped)
)

// Sample is one parsed line: `<measurement>,object=<id>[,…] value=<v>[,…] [<ts>]`.
// Str and Raw are views into the body or the parser's scratch buffer, valid
// until the parser's next Parse or Reset.
//
// Sample holds no pointer (its text is an offset pair that LineParser.Text
// resolves): clearing and appending samples then needs no write barrier,
// which was 15 % of BenchmarkLineProtocol.
type Sample struct {
	Line   int32  // 1-based line number in the body, for "line <n>: …" errors of later checks
	Object uint32 // the object tag
	// Timestamp in Unix ms (finer precisions truncated). Without one in the
	// line it is the request's "now" and HasTimestamp is false. Range checks
	// (≥ 2016, ≤ now + 2 s, retention) are the handler's (API.md §4).
	Timestamp int64
	Float     float64 // LineFloat
	Int       int64   // LineInt

	textOff, textLen uint32

	Kind         LineValueKind
	HasTimestamp bool
	Bool         bool // LineBool

	textInScratch bool
}

// Text returns the unescaped string of a LineString sample, or the number's
// text of a LineFloat or LineInt sample (without the i), so that an int
// object can take an integral float exactly ("value=12" → 12). It is a view
// into the body or p's scratch buffer, valid until p's next Parse or Reset.
func (p *LineParser) Text(s *Sample) []byte {
	if s.textInScratch {
		return p.scratch[s.textOff : s.textOff+s.textLen : s.textOff+s.textLen]
	}
	return p.body[s.textOff : s.textOff+s.textLen : s.textOff+s.textLen]
}

// LineError is a parse failure: the handler answers 400 WrongParamsException
// with Error() ("line <n>: …") as details (API.md §4).
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Msg }

// LineParser parses Influx line protocol bodies (API.md §3.2) without
// allocating per sample: the measurement name, tags other than object and
// fields other than value are checked for syntax and ignored. One parser
// serves one request at a time: GetLineParser / PutLineParser. The zero value
// is ready to use.
//
// Handler sketch for POST /write and /api/v2/write:
//
//	prec, err := ingest.ParsePrecisionV1(string(ctx.QueryArgs().Peek("precision"))) // 400 on error
//	p := ingest.GetLineParser()
//	defer ingest.PutLineParser(p)
//	p.MaxSamples = opts.MaxMeasures
//	samples, err := p.Parse(body, prec, nowMs) // *LineError → 400; ErrTooManyMeasures → 413
//	// then: authorize every object (403), types and ranges (400), duplicates.
type LineParser struct {
	// MaxSamples bounds the samples of one body (0 = unlimited).
	MaxSamples int

	samples []Sample
	scratch []byte
	body    []byte
	noFast  bool // tests: general path only
}

var lineParserPool sync.Pool

// GetLineParser returns a parser from the pool (MaxSamples reset to 0).
func GetLineParser() *LineParser {
	if p, ok := lineParserPool.Get().(*LineParser); ok {
		return p
	}
	return &LineParser{}
}

// PutLineParser resets p and returns it to the pool; p and the samples it
// returned must not be used afterwards.
func PutLineParser(p *LineParser) {
	if cap(p.scratch) > 16<<20 || cap(p.samples) > 1<<20 {
		return
	}
	p.Reset()
	lineParserPool.Put(p)
}

// Reset forgets the last body (keeping the buffers) and sets MaxSamples to 0.
func (p *LineParser) Reset() {
	p.samples = p.samples[:0]
	p.scratch = p.scratch[:0]
	p.body = nil
	p.MaxSamples = 0
}

// lineDelim[c] marks the bytes that end a measurement, tag or field key or
// tag value scan: ',', ' ', '=', '\\', '\t', '\r', '\n'.
var lineDelim = func() (t [256]bool) {
	for _, c := range []byte{',', ' ', '=', '\\', '\t', '\r', '\n'} {
		t[c] = true
	}
	return t
}()

// Parse parses body (precision prec for timestamps; now, Unix ms, for lines
// without one). Leading whitespace, blank lines, '#' comment lines and CRLF
// line ends are accepted. Any bad line fails the whole body with a
// *LineError; more than MaxSamples samples with ErrTooManyMeasures. The
// returned slice is owned by p.
func (p *LineParser) Parse(body []byte, prec Precision, now int64) ([]Sample, error) {
	max := p.MaxSamples
	p.Reset()
	p.MaxSamples = max
	if uint64(len(body)) > math.MaxUint32 {
		return nil, lineErr(1, "body too large")
	}
	p.body = body
	b := body
	line := 1
	i := 0
	for i < len(b) {
		// leading whitespace, blank and comment lines
		c := b[i]
		if c == ' ' || c == '\t' || c == '\r' {
			i++
			continue
		}
		if c == '\n' {
			line++
			i++
			continue
		}
		if c == '#' {
			for i < len(b) && b[i] != '\n' {
				i++
			}
			continue
		}
		if p.MaxSamples > 0 && len(p.samples) >= p.MaxSamples {
			return nil, ErrTooManyMeasures
		}
		var err error
		i, line, err = p.line(b, i, line, prec, now)
		if err != nil {
			return nil, err
		}
	}
	return p.samples, nil
}

func lineErr(line int, msg string) error { return &LineError{Line: line, Msg: msg} }

// scanKey advances over a measurement name, tag key/value or field key that
// starts at i, honouring backslash escapes, and stops at the first unescaped
// ',', ' ', '=', tab, CR or LF.
func scanKey(b []byte, i int) int {
	for i < len(b) {
		c := b[i]
		if !lineDelim[c] {
			i++
			continue
		}
		if c == '\\' && i+1 < len(b) {
			i += 2
			continue
		}
		if c == '\\' {
			i++
			continue
		}
		return i
	}
	return i
}

func isLineEnd(b []byte, i int) bool {
	return i >= len(b) || b[i] == '\n' || (b[i] == '\r' && (i+1 >= len(b) || b[i+1] == '\n'))
}

func (p *LineParser) line(b []byte, i, line int, prec Precision, now int64) (int, int, error) {
	// The sample is built in place and dropped on error: no copy of it.
	p.samples = append(p.samples, Sample{Line: int32(line)})
	s := &p.samples[len(p.samples)-1]
	if !p.noFast {
		if e, nl, ok := p.fastLine(b, i, prec, now, s); ok {
			if nl {
				line++
			}
			return e, line, nil
		}
	}
	*s = Sample{Line: int32(line)}
	i, line, err := p.lineInto(b, i, line, prec, now, s)
	if err != nil {
		p.samples = p.samples[:len(p.samples)-1]
	}
	return i, line, err
}

// fastLine parses the usual shape in one straight pass:
// `<name>,object=<digits> value=<number|bool>[ <timestamp>]` then LF, CRLF or
// the end, with no escapes, no other tag or field and single spaces. It
// reports false on anything else, and the general parser (lineInto) then
// reads the line from its start — and names the error if there is one. It
// saves ~20 % of BenchmarkLineProtocol's CPU.
func (p *LineParser) fastLine(b []byte, i int, prec Precision, now int64, s *Sample) (end int, nl, ok bool) {
	j := i
	for j < len(b) && !lineDelim[b[j]] {
		j++
	}
	if j == i || len(b)-j < 9 || b[j] != ',' || string(b[j+1:j+8]) != "object=" {
		return 0, false, false
	}
	j += 8
	v := j
	var id uint64
	for j < len(b) && j-v < 10 && isDigit(b[j]) {
		id = id*10 + uint64(b[j]-'0')
		j++
	}
	if j == v || id > math.MaxUint32 || len(b)-j < 8 || string(b[j:j+7]) != " value=" || b[j+7] == '"' {
		return 0, false, false
	}
	s.Object = uint32(id)
	j, _, err := p.fieldValue(b, j+7, 0, s, true)
	if err != nil {
		return 0, false, false
	}
	if j < len(b) && b[j] == ' ' {
		ts, e, ok := parseTimestamp(b, j+1)
		if !ok {
			return 0, false, false
		}
		ms, ok := prec.toMillis(ts)
		if !ok {
			return 0, false, false
		}
		s.Timestamp, s.HasTimestamp = ms, true
		j = e
	} else {
		s.Timestamp = now
	}
	if j < len(b) && b[j] == '\r' {
		j++
	}
	if j < len(b) {
		if b[j] != '\n' {
			return 0, false, false
		}
		return j + 1, true, true
	}
	return j, false, true
}

func (p *LineParser) lineInto(b []byte, i, line int, prec Precision, now int64, s *Sample) (int, int, error) {
	// measurement
	j := scanKey(b, i)
	if j == i {
		return 0, 0, lineErr(line, "missing measurement")
	}
	for j < len(b) && b[j] == '=' { // '=' needs no escape in a measurement name
		j = scanKey(b, j+1)
	}
	i = j
	hasObj := false
	// tags
	for i < len(b) && b[i] == ',' {
		k := i + 1
		// fast path: object=<digits> followed by ' ' or ','
		if !hasObj && len(b)-k > 8 && string(b[k:k+7]) == "object=" {
			v := k + 7
			e := v
			var id uint64
			for e < len(b) && e-v < 10 && isDigit(b[e]) {
				id = id*10 + uint64(b[e]-'0')
				e++
			}
			if e > v && e < len(b) && (b[e] == ' ' || b[e] == ',') && id <= math.MaxUint32 {
				s.Object, hasObj = uint32(id), true
				i = e
				continue
			}
		}
		e := scanKey(b, k)
		if e == k {
			return 0, 0, lineErr(line, "missing tag key")
		}
		if e >= len(b) || b[e] != '=' {
			return 0, 0, lineErr(line, "missing tag value")
		}
		v := e + 1
		ve := scanKey(b, v)
		if ve == v {
			return 0, 0, lineErr(line, "missing tag value")
		}
		if ve < len(b) && b[ve] == '=' {
			return 0, 0, lineErr(line, "invalid tag format: unescaped '=' in a tag value")
		}
		if e-k == 6 && string(b[k:e]) == "object" {
			if hasObj {
				return 0, 0, lineErr(line, "duplicate object tag")
			}
			id, ok := parseObjectID(b[v:ve])
			if !ok {
				return 0, 0, lineErr(line, "invalid object tag \""+excerpt(b[v:ve])+"\": want an object id (0…4294967295)")
			}
			s.Object, hasObj = id, true
		}
		i = ve
	}
	if i >= len(b) || (b[i] != ' ' && b[i] != '\t') {
		return 0, 0, lineErr(line, "missing fields")
	}
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	if !hasObj {
		return 0, 0, lineErr(line, "missing object tag")
	}
	hasValue := false
	// fields
	for {
		var e int
		var isValue bool
		if len(b)-i > 6 && string(b[i:i+6]) == "value=" {
			e, isValue = i+5, true
		} else {
			e = scanKey(b, i)
			if e == i {
				return 0, 0, lineErr(line, "missing field key")
			}
			if e >= len(b) || b[e] != '=' {
				return 0, 0, lineErr(line, "missing field value")
			}
			isValue = e-i == 5 && string(b[i:e]) == "value"
		}
		var err error
		i, line, err = p.fieldValue(b, e+1, line, s, isValue)
		if err != nil {
			return 0, 0, err
		}
		hasValue = hasValue || isValue
		if i < len(b) && b[i] == ',' {
			i++
			continue
		}
		break
	}
	if !hasValue {
		return 0, 0, lineErr(line, "missing value field")
	}
	// optional timestamp
	if i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if !isLineEnd(b, i) {
			ts, e, ok := parseTimestamp(b, i)
			if !ok {
				return 0, 0, lineErr(line, "invalid timestamp \""+excerpt(b[i:lineEndIdx(b, i)])+"\"")
			}
			ms, ok := prec.toMillis(ts)
			if !ok {
				return 0, 0, lineErr(line, "timestamp out of range")
			}
			s.Timestamp, s.HasTimestamp = ms, true
			i = e
			for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
				i++
			}
		}
	}
	if i < len(b) && b[i] != '\n' {
		if b[i] != '\r' || !isLineEnd(b, i) {
			return 0, 0, lineErr(line, "unexpected \""+excerpt(b[i:lineEndIdx(b, i)])+"\" at the end of the line")
		}
		i++ // '\r'
	}
	if i < len(b) {
		i++ // '\n'
		line++
	}
	if !s.HasTimestamp {
		s.Timestamp = now
	}
	return i, line, nil
}

func lineEndIdx(b []byte, i int) int {
	for j := i; j < len(b); j++ {
		if b[j] == '\n' {
			return j
		}
	}
	return len(b)
}

// parseObjectID reads 1..10 ASCII digits within uint32.
func parseObjectID(b []byte) (uint32, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		v = v*10 + uint64(d)
	}
	if v > math.MaxUint32 {
		return 0, false
	}
	return uint32(v), true
}

// parseTimestamp reads an optionally negative integer at i, which must end
// the field (space, tab, CR, LF or the end of the body).
func parseTimestamp(b []byte, i int) (int64, int, bool) {
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	st := i
	var u uint64
	// eight digits at a time (SWAR): a 19-digit ns timestamp is 2 chunks + 3
	// digits; a digit-by-digit loop cost ~3× more (BenchmarkLineProtocol).
	for len(b)-i >= 8 && i-st < 16 {
		v := binary.LittleEndian.Uint64(b[i:])
		if !all8Digits(v) {
			break
		}
		u = u*100000000 + parse8Digits(v)
		i += 8
	}
	for i < len(b) && isDigit(b[i]) && i-st < 19 {
		u = u*10 + uint64(b[i]-'0')
		i++
	}
	if i == st || (i < len(b) && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r') {
		return 0, i, false // includes a 20th digit
	}
	if u > math.MaxInt64 {
		return 0, i, false
	}
	v := int64(u)
	if neg {
		v = -v
	}
	return v, i, true
}

// all8Digits tells whether the 8 little-endian bytes of v are ASCII digits.
func all8Digits(v uint64) bool {
	return (v&0xF0F0F0F0F0F0F0F0)|(((v+0x0606060606060606)&0xF0F0F0F0F0F0F0F0)>>4) == 0x3333333333333333
}

// parse8Digits converts 8 ASCII digits (little-endian in v) to their value.
func parse8Digits(v uint64) uint64 {
	v = (v & 0x0F0F0F0F0F0F0F0F) * 2561 >> 8
	v = (v & 0x00FF00FF00FF00FF) * 6553601 >> 16
	return (v & 0x0000FFFF0000FFFF) * 42949672960001 >> 32
}

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

func fieldEnd(b []byte, i int) bool {
	return i >= len(b) || b[i] == ',' || b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'
}

// fieldValue parses the field value at i; for the value field it fills s.
func (p *LineParser) fieldValue(b []byte, i, line int, s *Sample, isValue bool) (int, int, error) {
	if i >= len(b) {
		return 0, 0, lineErr(line, "missing field value")
	}
	switch c := b[i]; {
	case c == '"':
		// string: \" and \\ are escapes, other backslashes literal; raw
		// newlines allowed (as Influx does)
		j := i + 1
		escaped := false
		nl := 0
		for j < len(b) && b[j] != '"' {
			if b[j] == '\\' && j+1 < len(b) && (b[j+1] == '"' || b[j+1] == '\\') {
				escaped = true
				j += 2
				continue
			}
			if b[j] == '\n' {
				nl++
			}
			j++
		}
		if j >= len(b) {
			return 0, 0, lineErr(line, "unterminated string field")
		}
		if isValue {
			s.Kind, s.textOff, s.textLen, s.textInScratch = LineString, uint32(i+1), uint32(j-i-1), false
			if escaped {
				st := len(p.scratch)
				for k := i + 1; k < j; k++ {
					if b[k] == '\\' && (b[k+1] == '"' || b[k+1] == '\\') {
						k++
					}
					p.scratch = append(p.scratch, b[k])
				}
				s.textOff, s.textLen, s.textInScratch = uint32(st), uint32(len(p.scratch)-st), true
			}
		}
		j++
		if !fieldEnd(b, j) {
			return 0, 0, lineErr(line, "invalid field value after a string")
		}
		return j, line + nl, nil
	case c == 't' || c == 'T' || c == 'f' || c == 'F':
		j := i
		for !fieldEnd(b, j) {
			j++
		}
		v, ok := parseLineBool(b[i:j])
		if !ok {
			return 0, 0, lineErr(line, "invalid boolean \""+excerpt(b[i:j])+"\"")
		}
		if isValue {
			s.Kind, s.Bool, s.textLen = LineBool, v, 0
		}
		return j, line, nil
	default:
		// number: -?(d+(.d*)?|.d+)([eE][+-]?d+)? then 'i' for an integer
		j := i
		neg := false
		if j < len(b) && b[j] == '-' {
			neg = true
			j++
		}
		// Digits accumulate unchecked; more than 19 of them (leading zeros
		// included) leave the exact fast path for strconv.
		var mant uint64
		st := j
		for j < len(b) && isDigit(b[j]) {
			mant = mant*10 + uint64(b[j]-'0')
			j++
		}
		digits := j - st
		frac := 0
		isInt := true
		if j < len(b) && b[j] == '.' {
			isInt = false
			j++
			fs := j
			for j < len(b) && isDigit(b[j]) {
				mant = mant*10 + uint64(b[j]-'0')
				j++
			}
			frac = j - fs
			digits += frac
		}
		exact := digits <= 19
		if digits == 0 {
			return 0, 0, lineErr(line, "invalid number \""+excerpt(b[i:fieldEndIdx(b, i)])+"\"")
		}
		exp := 0
		if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
			isInt = false
			j++
			eneg := false
			if j < len(b) && (b[j] == '+' || b[j] == '-') {
				eneg = b[j] == '-'
				j++
			}
			st := j
			for j < len(b) && isDigit(b[j]) {
				if exp < 100000 {
					exp = exp*10 + int(b[j]-'0')
				}
				j++
			}
			if j == st {
				return 0, 0, lineErr(line, "invalid number \""+excerpt(b[i:fieldEndIdx(b, i)])+"\"")
			}
			if eneg {
				exp = -exp
			}
		}
		if j < len(b) && b[j] == 'i' {
			if !isInt {
				return 0, 0, lineErr(line, "invalid integer \""+excerpt(b[i:fieldEndIdx(b, i)])+"\"")
			}
			if !fieldEnd(b, j+1) {
				return 0, 0, lineErr(line, "invalid number \""+excerpt(b[i:fieldEndIdx(b, i)])+"\"")
			}
			if isValue {
				v, err := api.ParseValueInt(b[i:j]) // same grammar here: -?digits
				if err != nil {
					return 0, 0, lineErr(line, "integer out of range \""+excerpt(b[i:j])+"\"")
				}
				s.Kind, s.Int, s.textOff, s.textLen, s.textInScratch = LineInt, v, uint32(i), uint32(j-i), false
			}
			return j + 1, line, nil
		}
		if !fieldEnd(b, j) {
			return 0, 0, lineErr(line, "invalid number \""+excerpt(b[i:fieldEndIdx(b, i)])+"\"")
		}
		if isValue {
			var f float64
			e10 := exp - frac
			if exact && mant <= 1<<53 && e10 >= -22 && e10 <= 22 {
				// Clinger's fast path: exact operands, one correctly rounded operation
				f = float64(mant)
				if e10 < 0 {
					f /= pow10[-e10]
				} else {
					f *= pow10[e10]
				}
				if neg {
					f = -f
				}
			} else {
				var err error
				f, err = strconv.ParseFloat(unsafe.String(&b[i], j-i), 64)
				if err != nil {
					return 0, 0, lineErr(line, "number out of range \""+excerpt(b[i:j])+"\"")
				}
			}
			s.Kind, s.Float, s.textOff, s.textLen, s.textInScratch = LineFloat, f, uint32(i), uint32(j-i), false
		}
		return j, line, nil
	}
}

func fieldEndIdx(b []byte, i int) int {
	for !fieldEnd(b, i) {
		i++
	}
	return i
}

func parseLineBool(b []byte) (bool, bool) {
	switch string(b) {
	case "t", "T", "true", "True", "TRUE":
		return true, true
	case "f", "F", "false", "False", "FALSE":
		return false, true
	}
	return false, false
}
