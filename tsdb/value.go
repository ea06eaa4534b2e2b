package tsdb

import (
	"fmt"
	"math"
	"time"
)

// ValueType is the fixed type of a series' values.
type ValueType uint8

// Value types. The numbers are part of the on-disk format.
const (
	Float  ValueType = 1 // float64; NaN and ±Inf are stored (one canonical NaN)
	Int    ValueType = 2 // int64
	Bool   ValueType = 3
	String ValueType = 4 // UTF-8 or not, ≤ MaxStringLen bytes, may be empty
)

func (t ValueType) String() string {
	switch t {
	case Float:
		return "float"
	case Int:
		return "int"
	case Bool:
		return "bool"
	case String:
		return "string"
	}
	return fmt.Sprintf("ValueType(%d)", uint8(t))
}

func (t ValueType) valid() bool { return t >= Float && t <= String }

// Supported timestamp range in ms since the Unix epoch (inclusive):
// 1970-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z. The HTTP layer
// enforces its own, narrower rules (API.md §4).
const (
	MinTimestamp int64 = 0
	MaxTimestamp int64 = 253402300799999
)

// MaxStringLen is the largest string value in bytes (API.md §4: 64 KiB).
const MaxStringLen = 64 << 10

// canonicalNaN is the one NaN the store keeps: NaN payloads are not preserved.
var canonicalNaN = math.Float64bits(math.NaN())

// strRef packs a string's offset and length into a uint64 (offset << 20 | len).
func strRef(off, n int) uint64 { return uint64(off)<<20 | uint64(n) }

func strOff(r uint64) int { return int(r >> 20) }
func strLen(r uint64) int { return int(r & (1<<20 - 1)) }

// Batch is a reusable, columnar list of samples for Append. Adding a sample
// allocates nothing once the batch has grown to its working size; Reset keeps
// the capacity. A Batch is not safe for concurrent use and must not be
// modified while Append runs on it.
type Batch struct {
	ids   []uint32
	ts    []int64
	types []ValueType
	nums  []uint64 // float bits, int64, 0/1, or strRef into strs
	strs  []byte
}

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() {
	b.ids, b.ts, b.types, b.nums, b.strs = b.ids[:0], b.ts[:0], b.types[:0], b.nums[:0], b.strs[:0]
}

// Len returns the number of samples.
func (b *Batch) Len() int { return len(b.ids) }

func (b *Batch) add(id uint32, ts int64, t ValueType, v uint64) {
	b.ids = append(b.ids, id)
	b.ts = append(b.ts, ts)
	b.types = append(b.types, t)
	b.nums = append(b.nums, v)
}

// AddFloat adds a float sample. NaN payloads are canonicalised.
func (b *Batch) AddFloat(id uint32, ts int64, v float64) {
	u := math.Float64bits(v)
	if v != v {
		u = canonicalNaN
	}
	b.add(id, ts, Float, u)
}

// AddInt adds an int sample.
func (b *Batch) AddInt(id uint32, ts int64, v int64) { b.add(id, ts, Int, uint64(v)) }

// AddBool adds a bool sample.
func (b *Batch) AddBool(id uint32, ts int64, v bool) {
	var u uint64
	if v {
		u = 1
	}
	b.add(id, ts, Bool, u)
}

// AddString adds a string sample; v is copied. A value longer than
// MaxStringLen makes Append fail with ErrValueTooLarge.
func (b *Batch) AddString(id uint32, ts int64, v []byte) {
	off := len(b.strs)
	n := len(v)
	if n > MaxStringLen {
		n = MaxStringLen + 1 // remembered as too long; the bytes are not kept
		v = nil
	}
	b.strs = append(b.strs, v...)
	b.add(id, ts, String, strRef(off, n))
}

// Sample returns the i-th sample (for tests and tools; the string aliases the batch).
func (b *Batch) Sample(i int) (id uint32, ts int64, v Value) {
	v = Value{Type: b.types[i], num: b.nums[i]}
	if v.Type == String {
		r := b.nums[i]
		if strLen(r) <= MaxStringLen {
			v.str = b.strs[strOff(r) : strOff(r)+strLen(r)]
		}
		v.num = 0
	}
	return b.ids[i], b.ts[i], v
}

// Value is one typed value (for tests, tools and the slow paths; the hot
// paths use Batch and Iterator accessors).
type Value struct {
	Type ValueType
	num  uint64
	str  []byte
}

// FloatValue builds a Float Value (NaN payloads canonicalised).
func FloatValue(f float64) Value {
	u := math.Float64bits(f)
	if f != f {
		u = canonicalNaN
	}
	return Value{Type: Float, num: u}
}

// IntValue builds an Int Value.
func IntValue(i int64) Value { return Value{Type: Int, num: uint64(i)} }

// BoolValue builds a Bool Value.
func BoolValue(b bool) Value {
	if b {
		return Value{Type: Bool, num: 1}
	}
	return Value{Type: Bool}
}

// StringValue builds a String Value.
func StringValue(s string) Value { return Value{Type: String, str: []byte(s)} }

// Float returns the value of a Float Value.
func (v Value) Float() float64 { return math.Float64frombits(v.num) }

// Int returns the value of an Int Value.
func (v Value) Int() int64 { return int64(v.num) }

// Bool returns the value of a Bool Value.
func (v Value) Bool() bool { return v.num != 0 }

// Str returns the value of a String Value.
func (v Value) Str() string { return string(v.str) }

// Equal reports whether two values are identical (NaN equals NaN, -0 ≠ +0).
func (v Value) Equal(w Value) bool {
	if v.Type != w.Type {
		return false
	}
	if v.Type == String {
		return string(v.str) == string(w.str)
	}
	return v.num == w.num
}

func (v Value) String() string {
	switch v.Type {
	case Float:
		return fmt.Sprint(v.Float())
	case Int:
		return fmt.Sprint(v.Int())
	case Bool:
		return fmt.Sprint(v.Bool())
	case String:
		return fmt.Sprintf("%q", v.str)
	}
	return "invalid"
}

// AddValue adds a sample with a Value.
func (b *Batch) AddValue(id uint32, ts int64, v Value) {
	switch v.Type {
	case String:
		b.AddString(id, ts, v.str)
	case Float:
		b.AddFloat(id, ts, v.Float())
	default:
		b.add(id, ts, v.Type, v.num)
	}
}

func fmtTs(ts int64) string { return time.UnixMilli(ts).UTC().Format("2006-01-02T15:04:05.000Z") }
