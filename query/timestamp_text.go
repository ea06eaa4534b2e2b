package query

import (
	"encoding/binary"

	"github.com/tsgate/tsgate/api"
)

// tsTextLen is the length of a timestamp in BBData's output form, yyyy-MM-ddTHH:mm:ss.SSSZ.
const tsTextLen = 24

// maxTextMs is the first instant (year 10000) whose text is not tsTextLen long.
const maxTextMs = 253402300800000

// tsText formats timestamps incrementally: it keeps the text of the previous one as three
// little-endian words (bytes 0–7 `yyyy-MM-`, 8–15 `ddTHH:mm`, 16–23 `:ss.SSSZ`) and, as
// consecutive samples share their date and usually their hour and minute, rebuilds only what
// changed — the date once a day, hours and minutes when the minute changes, seconds when the
// second does, the milliseconds always — in 32-bit arithmetic within the day, with whole-word
// stores (byte stores into a template read back as words stall on store forwarding).
// BenchmarkEncodeYear: ~3 ns a sample against ~12 for a per-sample rewrite. The zero value
// is ready.
type tsText struct {
	w        [3]uint64 // the text
	ok       bool      // w holds the text of day + sec
	day      uint64    // ms of the start of w's day
	sec, min uint32    // second and minute of the day of w
	w2       uint64    // w[2] without its milliseconds
}

// Word layout constants: w[1] keeps bytes 8–10 (`ddT`) and 13 (`:`) of the date's text;
// w[2] is `:ss.SSSZ`.
const (
	w1DateMask = 0x0000_ff00_00ff_ffff
	w2Const    = uint64(':') | uint64('.')<<24 | uint64('Z')<<56
)

// pair16 holds "00".."99" as little-endian 16-bit words.
var pair16 = func() (p [100]uint16) {
	for i := range p {
		p[i] = uint16(digitPairs[2*i]) | uint16(digitPairs[2*i+1])<<8
	}
	return p
}()

// put makes ms the current text (api.AppendDateTime's). It returns false, the text being
// undefined, for ms outside 1970 ≤ year ≤ 9999 (texts of another length). Small enough to
// be inlined into the row loop; the rarer changes are in newDay and newSecond.
func (t *tsText) put(ms int64) bool {
	u := uint64(ms)
	if u-t.day >= msPerDay || !t.ok { // another day (before t.day, u-t.day wraps)
		if u >= maxTextMs {
			t.ok = false
			return false
		}
		t.newDay(u)
	}
	rem := uint32(u - t.day)
	sec := rem / 1000
	if sec != t.sec {
		t.newSecond(sec, rem)
	}
	ms3 := rem - sec*1000
	d := ms3 / 100
	t.w[2] = t.w2 | uint64('0'+d)<<32 | uint64(pair16[(ms3-d*100)%100])<<40
	return true
}

// newDay sets the text to 00:00:00.000 of u's day.
func (t *tsText) newDay(u uint64) {
	day := u / msPerDay * msPerDay
	var tmp [32]byte
	txt := api.AppendDateTime(tmp[:0], int64(day))
	t.w[0] = binary.LittleEndian.Uint64(txt)
	t.w[1] = binary.LittleEndian.Uint64(txt[8:])
	t.w2 = w2Const | uint64(pair16[0])<<8
	t.ok, t.day, t.sec, t.min = true, day, 0, 0
}

// newSecond sets the text's hours, minutes and seconds to the day's second sec; rem is the
// ms of the day. Minutes and hours come from rem, not from each other, so the divisions (by
// constants: multiplications) do not wait on one another; no modulo guards the table
// indexes, for the same reason (a bounds check is off the dependency chain).
func (t *tsText) newSecond(sec, rem uint32) {
	min := rem / 60_000
	if min != t.min {
		hour := rem / 3_600_000
		t.w[1] = t.w[1]&w1DateMask | uint64(pair16[hour])<<24 | uint64(pair16[min-hour*60])<<48
		t.min = min
	}
	t.w2 = w2Const | uint64(pair16[sec-min*60])<<8
	t.sec = sec
}

// store writes the current text at the start of dst (len ≥ tsTextLen).
func (t *tsText) store(dst []byte) {
	_ = dst[tsTextLen-1]
	binary.LittleEndian.PutUint64(dst, t.w[0])
	binary.LittleEndian.PutUint64(dst[8:], t.w[1])
	binary.LittleEndian.PutUint64(dst[16:], t.w[2])
}
