package api

import (
	"errors"
	"math"
	"strconv"
	"unsafe"
)

// ValueKind is a BBData value type (bbdata-v2.md §3.3): the type of an
// object's unit. The zero value is invalid. tsdb keeps its own type; map by
// name (String) or by a switch.
type ValueKind uint8

// The BBData value types, named as GET /types lists them.
const (
	ValueFloat ValueKind = iota + 1
	ValueInt
	ValueBool
	ValueString
)

var valueKindNames = [...]string{ValueFloat: "float", ValueInt: "int", ValueBool: "bool", ValueString: "string"}

// String returns "float", "int", "bool" or "string" ("" for an invalid kind).
func (k ValueKind) String() string {
	if int(k) < len(valueKindNames) {
		return valueKindNames[k]
	}
	return ""
}

// ParseValueKind maps a unit type name ("float", "int", "bool", "string") to
// its ValueKind.
func ParseValueKind(name string) (ValueKind, bool) {
	for k, n := range valueKindNames {
		if n != "" && n == name {
			return ValueKind(k), true
		}
	}
	return 0, false
}

// MaxValueStringLen is the longest string value accepted, in bytes (API.md §4).
const MaxValueStringLen = 64 << 10

// Value parse errors. They carry no input so that failing is allocation-free
// too; the handler builds bbdata-v2.md §3.2 d's message
// ("objectId <id>: the value '<v>' does not match the unit <symbol> (<type>) …")
// with the text it holds.
var (
	ErrValueSyntax  = errors.New("value does not match its type")
	ErrValueRange   = errors.New("value out of range")
	ErrValueEmpty   = errors.New("value must not be empty")
	ErrValueTooLong = errors.New("string value longer than 64 KiB")
)

func b2s[T string | []byte](s T) string {
	if b, ok := any(s).([]byte); ok {
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	return string(s)
}

// isJavaSpace is String.trim's notion of whitespace: any char <= ' '.
func isJavaSpace(c byte) bool { return c <= ' ' }

var pow10tab = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// ParseValueFloat parses a float value with the grammar of Java's
// Float.parseFloat (bbdata-v2.md §3.3) into a float64 (API.md §2):
// surrounding chars <= ' ' trimmed; optional sign; "NaN" or "Infinity";
// decimal digits with an optional point (`6.`, `.5`) and exponent (`1e3`);
// hexadecimal `0x1.8p3` (binary exponent required); an optional trailing
// f, F, d or D. Out-of-range magnitudes become ±Inf or 0, as in Java.
// It does not allocate.
func ParseValueFloat[T string | []byte](s T) (float64, error) {
	i, j := 0, len(s)
	for i < j && isJavaSpace(s[i]) {
		i++
	}
	for j > i && isJavaSpace(s[j-1]) {
		j--
	}
	if i == j {
		return 0, ErrValueSyntax
	}
	t := s[i:j]
	k := 0
	neg := false
	if t[0] == '+' || t[0] == '-' {
		neg = t[0] == '-'
		k = 1
	}
	if k == len(t) {
		return 0, ErrValueSyntax
	}
	switch t[k] {
	case 'N':
		if b2s(t[k:]) == "NaN" {
			return math.NaN(), nil
		}
		return 0, ErrValueSyntax
	case 'I':
		if b2s(t[k:]) == "Infinity" {
			if neg {
				return math.Inf(-1), nil
			}
			return math.Inf(1), nil
		}
		return 0, ErrValueSyntax
	}
	end := len(t)
	if c := t[end-1]; c == 'f' || c == 'F' || c == 'd' || c == 'D' {
		end--
	}
	body := t[:end]
	if k+1 < len(body) && body[k] == '0' && (body[k+1] == 'x' || body[k+1] == 'X') {
		if !validHexFloat(body[k+2:]) {
			return 0, ErrValueSyntax
		}
		f, _ := strconv.ParseFloat(b2s(body), 64) // grammar checked; range errors give ±Inf/0 as Java
		return f, nil
	}
	// decimal: (digits+ ['.' digits*] | '.' digits+) [(e|E) [+-] digits+]
	var mant uint64
	nd, frac := 0, 0 // significant digits kept in mant; digits after the point
	exact := true
	p := k
	intDigits := 0
	for p < len(body) && isDigit(body[p]) {
		if nd < 19 {
			if mant != 0 || body[p] != '0' {
				nd++
			}
			mant = mant*10 + uint64(body[p]-'0')
		} else {
			exact = false
		}
		p++
		intDigits++
	}
	fracDigits := 0
	if p < len(body) && body[p] == '.' {
		p++
		for p < len(body) && isDigit(body[p]) {
			if nd < 19 {
				if mant != 0 || body[p] != '0' {
					nd++
				}
				mant = mant*10 + uint64(body[p]-'0')
				frac++
			} else {
				exact = false
			}
			p++
			fracDigits++
		}
	}
	if intDigits+fracDigits == 0 {
		return 0, ErrValueSyntax
	}
	exp := 0
	if p < len(body) && (body[p] == 'e' || body[p] == 'E') {
		p++
		eneg := false
		if p < len(body) && (body[p] == '+' || body[p] == '-') {
			eneg = body[p] == '-'
			p++
		}
		q := p
		for p < len(body) && isDigit(body[p]) {
			if exp < 100000 {
				exp = exp*10 + int(body[p]-'0')
			}
			p++
		}
		if p == q {
			return 0, ErrValueSyntax
		}
		if eneg {
			exp = -exp
		}
	}
	if p != len(body) {
		return 0, ErrValueSyntax
	}
	// Clinger's fast path: an exact mantissa and power of ten give a correctly
	// rounded quotient or product.
	e10 := exp - frac
	if exact && mant <= 1<<53 && e10 >= -22 && e10 <= 22 {
		f := float64(mant)
		if e10 < 0 {
			f /= pow10tab[-e10]
		} else {
			f *= pow10tab[e10]
		}
		if neg {
			f = -f
		}
		return f, nil
	}
	f, _ := strconv.ParseFloat(b2s(body), 64) // grammar checked; ±Inf / 0 on range, as Java
	return f, nil
}

func isHex(c byte) bool { return isDigit(c) || (c|0x20)-'a' < 6 }

// validHexFloat checks what follows "0x": (h+ '.'? | h* '.' h+) (p|P) [+-] d+.
func validHexFloat[T string | []byte](s T) bool {
	i, n := 0, 0
	for i < len(s) && isHex(s[i]) {
		i++
		n++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isHex(s[i]) {
			i++
			n++
		}
	}
	if n == 0 || i == len(s) || (s[i]|0x20) != 'p' {
		return false
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	q := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i > q && i == len(s)
}

// ParseValueInt parses an int value with the grammar of Java's
// Integer.parseInt (optional '+' or '-', ASCII digits only, no whitespace)
// but over int64 (API.md §2). It does not allocate.
func ParseValueInt[T string | []byte](s T) (int64, error) {
	if len(s) == 0 {
		return 0, ErrValueSyntax
	}
	i := 0
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		i = 1
		if len(s) == 1 {
			return 0, ErrValueSyntax
		}
	}
	var u uint64
	for ; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, ErrValueSyntax
		}
		if u > (1<<63)/10 {
			return 0, ErrValueRange
		}
		u = u*10 + uint64(c)
		if u > 1<<63 {
			return 0, ErrValueRange
		}
	}
	if neg {
		return int64(-u), nil // -(1<<63) wraps to MinInt64
	}
	if u > math.MaxInt64 {
		return 0, ErrValueRange
	}
	return int64(u), nil
}

// ParseValueBool accepts, case-insensitively and without trimming, true, on,
// yes, 1 and false, off, no, 0. It does not allocate.
func ParseValueBool[T string | []byte](s T) (bool, error) {
	var b [5]byte
	if len(s) == 0 || len(s) > len(b) {
		return false, ErrValueSyntax
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	switch string(b[:len(s)]) {
	case "true", "on", "yes", "1":
		return true, nil
	case "false", "off", "no", "0":
		return false, nil
	}
	return false, ErrValueSyntax
}

// CheckValueString checks a string value: non-empty and at most
// MaxValueStringLen bytes. Any content is allowed ("  " is a value).
func CheckValueString[T string | []byte](s T) error {
	if len(s) == 0 {
		return ErrValueEmpty
	}
	if len(s) > MaxValueStringLen {
		return ErrValueTooLong
	}
	return nil
}

// AppendValueFloat appends f in the canonical text of BBData floats: Java's
// Double.toString layout with the shortest digits that round-trip a float64
// — "1.0", "12.2", "1234.0", "0.001", "1.0E7", "1.0E-4", "-1.5E-5",
// "1.7976931348623157E308", "NaN", "Infinity", "-Infinity", "0.0", "-0.0".
// Plain notation when 1e-3 <= |f| < 1e7, scientific otherwise. It does not
// allocate when dst has room.
func AppendValueFloat(dst []byte, f float64) []byte {
	switch {
	case f != f:
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		// Fast path: the fewest decimals k ≤ 6 for which m = round(f·10^k)
		// gives back f as m/10^k is the shortest text (candidates 10^-k
		// apart are far wider than an ulp below 1e7, so only one can round-trip),
		// and m/10^k is what ParseValueFloat computes for that text. It saves
		// the shortest-digits search for the usual sensor values (~5× faster).
		for k := 0; k <= 6; k++ {
			m := math.Round(abs * pow10tab[k])
			if m/pow10tab[k] == abs {
				return appendFixed(dst, f < 0, uint64(m), k)
			}
		}
		n := len(dst)
		dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
		for _, c := range dst[n:] {
			if c == '.' {
				return dst
			}
		}
		return append(dst, '.', '0')
	}
	// Scientific: reshape Go's "d.ddde±XX" into Java's "d.dddEX".
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	p := 0
	for e[p] != 'e' {
		p++
	}
	dst = append(dst, e[:p]...)
	if p == 1 || (p == 2 && e[0] == '-') {
		dst = append(dst, '.', '0')
	}
	dst = append(dst, 'E')
	x := e[p+1:]
	if x[0] == '-' {
		dst = append(dst, '-')
	}
	x = x[1:]
	for len(x) > 1 && x[0] == '0' {
		x = x[1:]
	}
	return append(dst, x...)
}

// appendFixed appends ±m·10^-k with k decimals (at least one: "1.0").
func appendFixed(dst []byte, neg bool, m uint64, k int) []byte {
	if neg {
		dst = append(dst, '-')
	}
	if k == 0 {
		dst = strconv.AppendUint(dst, m, 10)
		return append(dst, '.', '0')
	}
	p := uint64(pow10tab[k])
	dst = strconv.AppendUint(dst, m/p, 10)
	dst = append(dst, '.')
	fr := m % p
	var buf [6]byte
	for i := k - 1; i >= 0; i-- {
		buf[i] = byte('0' + fr%10)
		fr /= 10
	}
	return append(dst, buf[:k]...)
}

// AppendValueInt appends the normalised decimal of v ("+5" → "5", "007" → "7").
func AppendValueInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

// AppendValueBool appends "true" or "false".
func AppendValueBool(dst []byte, v bool) []byte { return strconv.AppendBool(dst, v) }

// AppendValueCanonical parses raw as a value of kind k (bbdata-v2.md §3.3
// step d) and appends its canonical text (string values unchanged). On error
// dst is returned unchanged with one of the ErrValue… sentinels. It does not
// allocate when dst has room.
func AppendValueCanonical[T string | []byte](dst []byte, k ValueKind, raw T) ([]byte, error) {
	switch k {
	case ValueFloat:
		f, err := ParseValueFloat(raw)
		if err != nil {
			return dst, err
		}
		return AppendValueFloat(dst, f), nil
	case ValueInt:
		v, err := ParseValueInt(raw)
		if err != nil {
			return dst, err
		}
		return AppendValueInt(dst, v), nil
	case ValueBool:
		v, err := ParseValueBool(raw)
		if err != nil {
			return dst, err
		}
		return AppendValueBool(dst, v), nil
	case ValueString:
		if err := CheckValueString(raw); err != nil {
			return dst, err
		}
		return append(dst, raw...), nil
	}
	return dst, ErrValueSyntax
}
