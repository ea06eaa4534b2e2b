package ingest

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tsgate/tsgate/api"
)

// Measure is one element of a BBData measure body (bbdata-v2.md §3.1) after
// parsing and bean validation (§3.2 steps 1–2).
//
// The byte slices are views into the request body or into the parser's
// scratch buffer: they stay valid until the parser's next Parse or Reset, and
// the handler must copy whatever it keeps past the request (fasthttp reuses the
// body). Converting them with string(m.Token) inside a map index does not
// allocate.
type Measure struct {
	ObjectID int64 // ≥ 0 after validation; may exceed uint32 (then no object matches: 404)
	Token    []byte
	// Timestamp in Unix ms, ≥ 2016-01-01. When the measure had none (absent or
	// null) it is the request's "now" and HasTimestamp is false: the future-skew
	// check of step 3a applies only to given timestamps.
	Timestamp    int64
	HasTimestamp bool
	// Value is the text to check against the object's type (step 3d): the
	// contents of a JSON string, verbatim after unescaping, or the compact
	// re-serialization of any other JSON value (12 → "12", [1, 2, false] →
	// "[1,2,false]", {"a": 1} → `{"a":1}`; numbers keep their literal text).
	Value []byte
	// ValueIsString tells whether value was a JSON string (informational).
	ValueIsString bool
	Comment       []byte // nil when absent or null
	HasComment    bool
}

// SyntaxError is step 1's failure (bbdata-v2.md §3.2): malformed JSON, a
// body of the wrong shape, a wrong JSON type for a field, or a bad timestamp.
// The handler answers 400 HttpMessageNotReadableException with Error() as
// details.
type SyntaxError struct {
	Offset int    // byte offset in the body where the problem was seen
	Msg    string // what was wrong (no request data beyond a short excerpt)
}

func (e *SyntaxError) Error() string {
	return "JSON parse error: " + e.Msg + " (at offset " + strconv.Itoa(e.Offset) + ")"
}

// FieldError is one bean-validation failure: Field is a path such as
// "_values[0].objectId" (array bodies) or "objectId" (single-object body).
type FieldError struct {
	Field   string
	Message string
}

// ValidationError is step 2's failure: the validation errors of all elements,
// in body order. The handler answers 400 WrongParamsException with Details()
// as the details object.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	s := "validation failed:"
	for _, f := range e.Fields {
		s += " " + f.Field + ": " + f.Message + ";"
	}
	return s
}

// Details returns the {"<field path>": "<message>"} object of the error body
// (bbdata-v2.md §0.3: one message per field, the last wins).
func (e *ValidationError) Details() map[string]string {
	m := make(map[string]string, len(e.Fields))
	for _, f := range e.Fields {
		m[f.Field] = f.Message
	}
	return m
}

// ErrTooManyMeasures is returned when a body holds more measures than
// MeasuresParser.MaxMeasures: 413 PayloadTooLargeException (API.md §3.1).
var ErrTooManyMeasures = errors.New("ingest: too many measures in one request")

// Validation messages (bbdata-v2.md §0.3, §3.2).
const (
	msgNotNull       = "must not be null"
	msgNotEmpty      = "must not be empty"
	msgPositive      = "objectId must be positive."
	msgTokenSize     = "wrong size: should be 32 chars long."
	msgCommentLong   = "too long. Maximum set to 1024."
	msgArrayNotEmpty = "array body must contain at least one item."
)

const (
	tokenLen      = 32
	maxCommentLen = 1024
	maxJSONDepth  = 1000 // Jackson's default nesting limit
)

// MeasuresParser parses BBData measure bodies without allocating per measure.
// One parser serves one request at a time; take it from GetMeasuresParser and
// give it back with PutMeasuresParser when the handler no longer needs the
// measures. The zero value is ready to use.
//
// Handler sketch for POST /objects/values:
//
//	p := ingest.GetMeasuresParser()
//	defer ingest.PutMeasuresParser(p)
//	p.MaxMeasures = opts.MaxMeasures
//	ms, err := p.ParseArray(body, nowMs)
//	// *SyntaxError → 400 HttpMessageNotReadableException; *ValidationError → 400
//	// WrongParamsException (Details()); ErrTooManyMeasures → 413; then steps 3a–f per measure.
type MeasuresParser struct {
	// MaxMeasures bounds the measures of one body (0 = unlimited).
	MaxMeasures int

	measures []Measure
	scratch  []byte
	fields   []FieldError
	b        []byte
	now      int64
	single   bool
	depth    int
}

var measuresParserPool sync.Pool

// GetMeasuresParser returns a parser from the pool (MaxMeasures reset to 0).
func GetMeasuresParser() *MeasuresParser {
	if p, ok := measuresParserPool.Get().(*MeasuresParser); ok {
		return p
	}
	return &MeasuresParser{}
}

// PutMeasuresParser resets p and returns it to the pool; p and every Measure
// it returned must not be used afterwards. Parsers grown by an unusually large
// body are dropped rather than pooled.
func PutMeasuresParser(p *MeasuresParser) {
	if cap(p.scratch) > 16<<20 || cap(p.measures) > 1<<20 {
		return
	}
	p.Reset()
	measuresParserPool.Put(p)
}

// Reset forgets the last body (keeping the buffers) and sets MaxMeasures to 0.
func (p *MeasuresParser) Reset() {
	clear(p.measures)
	p.measures = p.measures[:0]
	p.scratch = p.scratch[:0]
	p.fields = p.fields[:0]
	p.b = nil
	p.MaxMeasures = 0
}

// ParseArray parses the body of POST /objects/values and /input/measures/bulk:
// a JSON array of measures. now (Unix ms, one per request) is the timestamp of
// measures without one. It returns a *SyntaxError (step 1), a
// *ValidationError covering every element (step 2; also for "[]"), or
// ErrTooManyMeasures. The returned slice is owned by p.
func (p *MeasuresParser) ParseArray(body []byte, now int64) ([]Measure, error) {
	p.begin(body, now, false)
	i := p.ws(skipBOM(body, 0))
	if i >= len(body) {
		return nil, p.synErr(i, "Required request body is missing")
	}
	if body[i] != '[' {
		return nil, p.synErr(i, "cannot deserialize a list of measures from "+tokenName(body[i])+": expected '['")
	}
	i = p.ws(i + 1)
	if i < len(body) && body[i] == ']' {
		i++
		p.fields = append(p.fields, FieldError{"_values", msgArrayNotEmpty})
	} else {
		for {
			if p.MaxMeasures > 0 && len(p.measures) >= p.MaxMeasures {
				return nil, ErrTooManyMeasures
			}
			var err error
			i, err = p.measure(i, len(p.measures))
			if err != nil {
				return nil, err
			}
			i = p.ws(i)
			if i >= len(body) {
				return nil, p.synErr(i, "unexpected end of input: expected ',' or ']'")
			}
			if body[i] == ']' {
				i++
				break
			}
			if body[i] != ',' {
				return nil, p.synErr(i, "unexpected "+charName(body[i])+": expected ',' or ']'")
			}
			i = p.ws(i + 1)
		}
	}
	if err := p.end(i); err != nil {
		return nil, err
	}
	return p.measures, nil
}

// ParseObject parses the body of the deprecated POST /input/measures: one
// measure object. Field paths in a ValidationError have no "_values[i]."
// prefix. The returned pointer is owned by p.
func (p *MeasuresParser) ParseObject(body []byte, now int64) (*Measure, error) {
	p.begin(body, now, true)
	i := p.ws(skipBOM(body, 0))
	if i >= len(body) {
		return nil, p.synErr(i, "Required request body is missing")
	}
	i, err := p.measure(i, 0)
	if err != nil {
		return nil, err
	}
	if err := p.end(i); err != nil {
		return nil, err
	}
	return &p.measures[0], nil
}

func (p *MeasuresParser) begin(body []byte, now int64, single bool) {
	// no clear(p.measures) here: every slot is overwritten by measure(), and
	// Reset (at PutMeasuresParser) drops the references for the GC.
	p.measures = p.measures[:0]
	p.scratch = p.scratch[:0]
	p.fields = p.fields[:0]
	p.b = body
	p.now = now
	p.single = single
	p.depth = 0
}

func (p *MeasuresParser) end(i int) error {
	i = p.ws(i)
	if i < len(p.b) {
		return p.synErr(i, "unexpected "+charName(p.b[i])+" after the end of the body")
	}
	if len(p.fields) > 0 {
		return &ValidationError{Fields: append([]FieldError(nil), p.fields...)}
	}
	return nil
}

func skipBOM(b []byte, i int) int {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return 3
	}
	return i
}

func (p *MeasuresParser) synErr(i int, msg string) error {
	return &SyntaxError{Offset: i, Msg: msg}
}

// ws skips JSON whitespace.
func (p *MeasuresParser) ws(i int) int {
	b := p.b
	for i < len(b) && b[i] <= ' ' {
		if c := b[i]; c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			break
		}
		i++
	}
	return i
}

func charName(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "character '" + string(rune(c)) + "'"
	}
	return "byte 0x" + strconv.FormatUint(uint64(c), 16)
}

func tokenName(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if c == '-' || isDigit(c) {
		return "a number"
	}
	return charName(c)
}

func isDigit(c byte) bool { return c-'0' <= 9 }

// Little-endian words of the keys of a measure, for knownKey.
var (
	kwObjectID  = binary.LittleEndian.Uint64([]byte("objectId"))
	kwComment   = binary.LittleEndian.Uint64([]byte("comment\""))
	kwTimestam  = binary.LittleEndian.Uint64([]byte("timestam"))
	kwToken     = binary.LittleEndian.Uint64([]byte("token\"\x00\x00"))
	kwValue     = binary.LittleEndian.Uint64([]byte("value\"\x00\x00"))
	keyObjectID = []byte("objectId")
	keyToken    = []byte("token")
	keyTime     = []byte("timestamp")
	keyValue    = []byte("value")
	keyComment  = []byte("comment")
)

// knownKey recognises the five keys of a measure written plainly at i (the
// opening quote) with one or two word compares instead of a string scan
// (the key scans were ~20 % of BenchmarkMeasuresJSON). It returns nil when
// the key is anything else; the caller then scans it.
func knownKey(b []byte, i int) ([]byte, int) {
	if len(b)-i < 12 {
		return nil, 0
	}
	w := binary.LittleEndian.Uint64(b[i+1:])
	switch {
	case w == kwObjectID && b[i+9] == '"':
		return keyObjectID, i + 10
	case w&0xFFFFFFFFFFFF == kwToken:
		return keyToken, i + 7
	case w&0xFFFFFFFFFFFF == kwValue:
		return keyValue, i + 7
	case w == kwTimestam && b[i+9] == 'p' && b[i+10] == '"':
		return keyTime, i + 11
	case w == kwComment:
		return keyComment, i + 9
	}
	return nil, 0
}

// field presence states of one measure
const (
	fAbsent = iota
	fNull
	fSet
)

// measure parses one measure object at i (the element index n names its
// fields in validation errors).
func (p *MeasuresParser) measure(i, n int) (int, error) {
	b := p.b
	if i >= len(b) {
		return i, p.synErr(i, "unexpected end of input: expected a measure object")
	}
	if b[i] != '{' {
		return i, p.synErr(i, "cannot deserialize a measure from "+tokenName(b[i]))
	}
	p.measures = append(p.measures, Measure{})
	m := &p.measures[len(p.measures)-1]
	var idState, tokState, valState int
	var tokLen int
	var commentLen int
	i = p.ws(i + 1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				if i >= len(b) {
					return i, p.synErr(i, "unexpected end of input: expected a field name")
				}
				return i, p.synErr(i, "unexpected "+charName(b[i])+": expected '\"' to start a field name")
			}
			key, e := knownKey(b, i)
			if key == nil {
				var err error
				key, _, e, err = p.str(i)
				if err != nil {
					return e, err
				}
			}
			i = p.ws(e)
			if i >= len(b) || b[i] != ':' {
				return i, p.synErr(i, "expected ':' after a field name")
			}
			i = p.ws(i + 1)
			if i >= len(b) {
				return i, p.synErr(i, "unexpected end of input: expected a value")
			}
			var err error
			switch string(key) {
			case "objectId":
				i, idState, err = p.objectID(i, m)
			case "token":
				var st int
				var s []byte
				s, st, tokLen, i, err = p.text(i, "token")
				tokState = st
				m.Token = s
			case "timestamp":
				i, err = p.timestamp(i, m)
			case "value":
				i, valState, err = p.value(i, m)
			case "comment":
				var st int
				var s []byte
				s, st, commentLen, i, err = p.text(i, "comment")
				m.Comment, m.HasComment = s, st == fSet
			default:
				i, err = p.skip(i)
			}
			if err != nil {
				return i, err
			}
			i = p.ws(i)
			if i >= len(b) {
				return i, p.synErr(i, "unexpected end of input: expected ',' or '}'")
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return i, p.synErr(i, "unexpected "+charName(b[i])+": expected ',' or '}'")
			}
			i = p.ws(i + 1)
		}
	}
	if !m.HasTimestamp {
		m.Timestamp = p.now
	}
	// bean validation (step 2), in field order
	if idState != fSet {
		p.fieldErr(n, "objectId", msgNotNull)
	} else if m.ObjectID < 0 {
		p.fieldErr(n, "objectId", msgPositive)
	}
	if tokState != fSet {
		p.fieldErr(n, "token", msgNotNull)
	} else if tokLen != tokenLen {
		p.fieldErr(n, "token", msgTokenSize)
	}
	if valState != fSet {
		p.fieldErr(n, "value", msgNotNull)
	} else if len(m.Value) == 0 {
		p.fieldErr(n, "value", msgNotEmpty)
	}
	if m.HasComment && commentLen > maxCommentLen {
		p.fieldErr(n, "comment", msgCommentLong)
	}
	return i, nil
}

func (p *MeasuresParser) fieldErr(n int, field, msg string) {
	if !p.single {
		field = "_values[" + strconv.Itoa(n) + "]." + field
	}
	p.fields = append(p.fields, FieldError{field, msg})
}

// objectID reads a JSON integer, or a string holding one (Jackson's scalar
// coercion: bbchecker sends "objectId": "42"; blanks around it are trimmed,
// "" and "null" mean null). Fractions, exponents, booleans, arrays and
// objects are step-1 errors.
func (p *MeasuresParser) objectID(i int, m *Measure) (int, int, error) {
	b := p.b
	switch c := b[i]; {
	case c == 'n':
		e, err := p.literal(i, "null")
		return e, fNull, err
	case c == '-' || isDigit(c):
		// fast path: 1..18 plain digits ending the number
		j := i
		var v int64
		for j < len(b) && j-i < 18 && isDigit(b[j]) {
			v = v*10 + int64(b[j]-'0')
			j++
		}
		if j > i && j < len(b) && !isDigit(b[j]) && b[j] != '.' && b[j]|0x20 != 'e' && (b[i] != '0' || j == i+1) {
			m.ObjectID = v
			return j, fSet, nil
		}
		e, isInt, err := p.number(i)
		if err != nil {
			return e, 0, err
		}
		if !isInt {
			return i, 0, p.synErr(i, "objectId must be an integer, not "+string(b[i:e]))
		}
		v, ok := parseLong(b[i:e])
		if !ok {
			return i, 0, p.synErr(i, "objectId "+string(b[i:e])+" out of range of long")
		}
		m.ObjectID = v
		return e, fSet, nil
	case c == '"':
		s, _, e, err := p.str(i)
		if err != nil {
			return e, 0, err
		}
		for len(s) > 0 && s[0] <= ' ' {
			s = s[1:]
		}
		for len(s) > 0 && s[len(s)-1] <= ' ' {
			s = s[:len(s)-1]
		}
		if len(s) == 0 || string(s) == "null" {
			return e, fNull, nil
		}
		v, ok := parseLong(s)
		if !ok {
			return i, 0, p.synErr(i, "cannot deserialize objectId from String \""+excerpt(s)+"\": not a valid long value")
		}
		m.ObjectID = v
		return e, fSet, nil
	default:
		return i, 0, p.synErr(i, "cannot deserialize objectId from "+tokenName(c))
	}
}

func excerpt(s []byte) string {
	if len(s) > 40 {
		return string(s[:40]) + "…"
	}
	return string(s)
}

// parseLong is Java's Long.parseLong grammar: [+-]digits, 64-bit range.
func parseLong(s []byte) (int64, bool) {
	v, err := api.ParseValueInt(s)
	return v, err == nil
}

// text reads a String field (token, comment): a JSON string, or a scalar
// coerced to its text as Jackson does (123 → "123"); arrays and objects are
// step-1 errors. It returns the value, its state and its length in UTF-16
// units (Java chars, what @Size counts).
func (p *MeasuresParser) text(i int, name string) ([]byte, int, int, int, error) {
	b := p.b
	switch c := b[i]; {
	case c == '"':
		s, n16, e, err := p.str(i)
		return s, fSet, n16, e, err
	case c == 'n':
		e, err := p.literal(i, "null")
		return nil, fNull, 0, e, err
	case c == 't':
		e, err := p.literal(i, "true")
		return b[i:e], fSet, e - i, e, err
	case c == 'f':
		e, err := p.literal(i, "false")
		return b[i:e], fSet, e - i, e, err
	case c == '-' || isDigit(c):
		e, _, err := p.number(i)
		return b[i:e], fSet, e - i, e, err
	default:
		return nil, 0, 0, i, p.synErr(i, "cannot deserialize "+name+" (a String) from "+tokenName(c))
	}
}

// timestamp: absent or null ⇒ now; a string (or a scalar's text, so epoch
// numbers fail) parsed by api.ParseDateTime; failures are step-1 errors.
func (p *MeasuresParser) timestamp(i int, m *Measure) (int, error) {
	b := p.b
	var s []byte
	var e int
	switch c := b[i]; {
	case c == '"':
		// the output form yyyy-MM-ddTHH:mm:ss.SSSZ: ParseDateTime checks every
		// byte of it, so no string scan is needed
		if len(b)-i >= 26 && b[i+25] == '"' {
			if ms, err := api.ParseDateTime(b[i+1 : i+25]); err == nil {
				m.Timestamp, m.HasTimestamp = ms, true
				return i + 26, nil
			}
		}
		var err error
		s, _, e, err = p.str(i)
		if err != nil {
			return e, err
		}
	case c == 'n':
		e, err := p.literal(i, "null")
		m.HasTimestamp = false
		return e, err
	case c == 't' || c == 'f' || c == '-' || isDigit(c):
		var err error
		s, _, _, e, err = p.text(i, "timestamp")
		if err != nil {
			return e, err
		}
	default:
		return i, p.synErr(i, "cannot deserialize timestamp from "+tokenName(c))
	}
	ms, err := api.ParseDateTime(s)
	if err != nil {
		return i, p.synErr(i, "cannot deserialize timestamp: "+err.Error())
	}
	m.Timestamp, m.HasTimestamp = ms, true
	return e, nil
}

// value: a string verbatim; null ⇒ "must not be null" (step 2); anything
// else re-serialized compactly into scratch.
func (p *MeasuresParser) value(i int, m *Measure) (int, int, error) {
	b := p.b
	switch b[i] {
	case '"':
		s, _, e, err := p.str(i)
		m.Value, m.ValueIsString = s, true
		return e, fSet, err
	case 'n':
		e, err := p.literal(i, "null")
		m.Value, m.ValueIsString = nil, false
		return e, fNull, err
	case 't', 'f', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// scalars: their literal text is their compact form; no copy needed
		e, err := p.skip(i)
		m.Value, m.ValueIsString = b[i:e], false
		return e, fSet, err
	}
	start := len(p.scratch)
	e, err := p.compact(i)
	if err != nil {
		return e, 0, err
	}
	m.Value, m.ValueIsString = p.scratch[start:len(p.scratch):len(p.scratch)], false
	return e, fSet, nil
}

func (p *MeasuresParser) literal(i int, lit string) (int, error) {
	b := p.b
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), nil
	}
	return i, p.synErr(i, "unrecognized token: expected '"+lit+"'")
}

// number validates a JSON number at i and returns its end and whether it is
// an integer (no fraction, no exponent).
func (p *MeasuresParser) number(i int) (int, bool, error) {
	b := p.b
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	if j >= len(b) || !isDigit(b[j]) {
		return j, false, p.synErr(j, "invalid number: expected a digit")
	}
	if b[j] == '0' {
		j++
		if j < len(b) && isDigit(b[j]) {
			return j, false, p.synErr(j, "invalid number: leading zeroes not allowed")
		}
	} else {
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	isInt := true
	if j < len(b) && b[j] == '.' {
		isInt = false
		j++
		k := j
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if j == k {
			return j, false, p.synErr(j, "invalid number: expected a digit after the decimal point")
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		isInt = false
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := j
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if j == k {
			return j, false, p.synErr(j, "invalid number: expected a digit in the exponent")
		}
	}
	return j, isInt, nil
}

// strPlain[c] is true for bytes that stand for themselves inside a JSON
// string and need no further check (printable ASCII but '"' and '\\').
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads the JSON string starting at the quote at i. It returns its
// contents — a view into the body when it has no escape, else unescaped into
// scratch — its length in UTF-16 units, and the index after the closing quote.
// Invalid UTF-8 and raw control characters are errors (as in Jackson).
func (p *MeasuresParser) str(i int) ([]byte, int, int, error) {
	b := p.b
	j := i + 1
	// Eight bytes at a time (SWAR): the strings are most of a measure's bytes
	// and a byte-by-byte loop was 36 % of BenchmarkMeasuresJSON.
	for len(b)-j >= 8 {
		m := strSpecial(binary.LittleEndian.Uint64(b[j:]))
		if m != 0 {
			j += bits.TrailingZeros64(m) >> 3
			if b[j] == '"' {
				return b[i+1 : j], j - i - 1, j + 1, nil
			}
			return p.strSlow(i, j)
		}
		j += 8
	}
	for j < len(b) && strPlain[b[j]] {
		j++
	}
	if j < len(b) && b[j] == '"' {
		return b[i+1 : j], j - i - 1, j + 1, nil
	}
	return p.strSlow(i, j)
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// strSpecial flags (bit 7 of each byte) the bytes of v that are '"', '\\',
// control characters or non-ASCII; the lowest flag is always exact.
func strSpecial(v uint64) uint64 {
	q := v ^ (lsb * '"')
	bs := v ^ (lsb * '\\')
	return ((v-lsb*0x20)|(q-lsb)|(bs-lsb)) & ^v & msb | v&msb
}

func (p *MeasuresParser) strSlow(i, j int) ([]byte, int, int, error) {
	b := p.b
	start := i + 1
	n16 := j - start
	escaped := false
	sc := len(p.scratch)
	for {
		if j >= len(b) {
			return nil, 0, j, p.synErr(j, "unexpected end of input in a string")
		}
		c := b[j]
		switch {
		case c == '"':
			if !escaped {
				return b[start:j], n16, j + 1, nil
			}
			s := p.scratch[sc:len(p.scratch):len(p.scratch)]
			return s, n16, j + 1, nil
		case c == '\\':
			if !escaped {
				escaped = true
				p.scratch = append(p.scratch, b[start:j]...)
			}
			if j+1 >= len(b) {
				return nil, 0, j, p.synErr(j, "unexpected end of input in an escape sequence")
			}
			switch e := b[j+1]; e {
			case '"', '\\', '/':
				p.scratch = append(p.scratch, e)
			case 'b':
				p.scratch = append(p.scratch, '\b')
			case 'f':
				p.scratch = append(p.scratch, '\f')
			case 'n':
				p.scratch = append(p.scratch, '\n')
			case 'r':
				p.scratch = append(p.scratch, '\r')
			case 't':
				p.scratch = append(p.scratch, '\t')
			case 'u':
				r, ok := hex4(b, j+2)
				if !ok {
					return nil, 0, j, p.synErr(j, "invalid \\u escape: expected 4 hex digits")
				}
				j += 6
				if utf16.IsSurrogate(r) {
					// a high surrogate followed by a low one forms one rune
					if r < 0xDC00 && j+1 < len(b) && b[j] == '\\' && b[j+1] == 'u' {
						if r2, ok := hex4(b, j+2); ok && r2 >= 0xDC00 && r2 < 0xE000 {
							p.scratch = utf8.AppendRune(p.scratch, utf16.DecodeRune(r, r2))
							n16 += 2
							j += 6
							continue
						}
					}
					r = utf8.RuneError // a lone surrogate (Java keeps it; UTF-8 cannot)
				}
				p.scratch = utf8.AppendRune(p.scratch, r)
				n16++
				continue
			default:
				return nil, 0, j, p.synErr(j, "unrecognized character escape "+charName(e))
			}
			n16++
			j += 2
		case c < 0x20:
			return nil, 0, j, p.synErr(j, "illegal unquoted control character "+charName(c)+" in a string: it must be escaped")
		case c < 0x80:
			if escaped {
				p.scratch = append(p.scratch, c)
			}
			n16++
			j++
		default:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size <= 1 {
				return nil, 0, j, p.synErr(j, "invalid UTF-8 byte 0x"+strconv.FormatUint(uint64(c), 16)+" in a string")
			}
			if escaped {
				p.scratch = append(p.scratch, b[j:j+size]...)
			}
			if r >= 0x10000 {
				n16 += 2
			} else {
				n16++
			}
			j += size
		}
	}
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case isDigit(c):
			r = r<<4 | rune(c-'0')
		case 'a' <= c|0x20 && c|0x20 <= 'f':
			r = r<<4 | rune(c|0x20-'a'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// skip validates and skips any JSON value at i.
func (p *MeasuresParser) skip(i int) (int, error) {
	b := p.b
	if i >= len(b) {
		return i, p.synErr(i, "unexpected end of input: expected a value")
	}
	switch c := b[i]; c {
	case '"':
		_, _, e, err := p.str(i)
		return e, err
	case 't':
		return p.literal(i, "true")
	case 'f':
		return p.literal(i, "false")
	case 'n':
		return p.literal(i, "null")
	case '[', '{':
		// validate through compact (into scratch, then dropped)
		n := len(p.scratch)
		e, err := p.compact(i)
		p.scratch = p.scratch[:n]
		return e, err
	default:
		if c == '-' || isDigit(c) {
			e, _, err := p.number(i)
			return e, err
		}
		return i, p.synErr(i, "unexpected "+charName(c)+": expected a JSON value")
	}
}

// compact appends the compact JSON form of the value at i to scratch:
// no insignificant whitespace, strings re-escaped as Jackson writes them,
// numbers verbatim.
func (p *MeasuresParser) compact(i int) (int, error) {
	b := p.b
	if i >= len(b) {
		return i, p.synErr(i, "unexpected end of input: expected a value")
	}
	switch c := b[i]; c {
	case '"':
		n := len(p.scratch)
		s, _, e, err := p.str(i)
		if err != nil {
			return e, err
		}
		// s may live in scratch at n: re-escape from a stable copy
		if len(s) > 0 && n < len(p.scratch) {
			tmp := append([]byte(nil), s...)
			p.scratch = p.scratch[:n]
			s = tmp
		}
		p.scratch = appendJSONString(p.scratch, s)
		return e, nil
	case '[', '{':
		p.depth++
		if p.depth > maxJSONDepth {
			return i, p.synErr(i, "nesting depth exceeds "+strconv.Itoa(maxJSONDepth))
		}
		defer func() { p.depth-- }()
		closer := byte(']')
		if c == '{' {
			closer = '}'
		}
		p.scratch = append(p.scratch, c)
		i = p.ws(i + 1)
		if i < len(b) && b[i] == closer {
			p.scratch = append(p.scratch, closer)
			return i + 1, nil
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return i, p.synErr(i, "expected '\"' to start a field name")
				}
				e, err := p.compact(i)
				if err != nil {
					return e, err
				}
				i = p.ws(e)
				if i >= len(b) || b[i] != ':' {
					return i, p.synErr(i, "expected ':' after a field name")
				}
				p.scratch = append(p.scratch, ':')
				i = p.ws(i + 1)
			}
			e, err := p.compact(i)
			if err != nil {
				return e, err
			}
			i = p.ws(e)
			if i >= len(b) {
				return i, p.synErr(i, "unexpected end of input: expected ',' or '"+string(closer)+"'")
			}
			if b[i] == closer {
				p.scratch = append(p.scratch, closer)
				return i + 1, nil
			}
			if b[i] != ',' {
				return i, p.synErr(i, "unexpected "+charName(b[i])+": expected ',' or '"+string(closer)+"'")
			}
			p.scratch = append(p.scratch, ',')
			i = p.ws(i + 1)
		}
	default:
		e, err := p.skip(i)
		if err != nil {
			return e, err
		}
		p.scratch = append(p.scratch, b[i:e]...)
		return e, nil
	}
}

const hexDigits = "0123456789ABCDEF"

// appendJSONString appends s quoted the way Jackson writes strings: '"' and
// '\\' escaped, control characters as \b \t \n \f \r or \u00XX, everything
// else (including '/' and non-ASCII) as is.
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c >= 0x20:
			dst = append(dst, c)
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return append(dst, '"')
}
