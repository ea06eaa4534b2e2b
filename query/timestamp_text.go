package query

import (
	"encoding/binary"

	"github.com/tsgate/tsgate/api"
)

// tsTextLen is the length of a timestamp in BBData's output form, yyyy-MM-ddTHH:mm:ss.SSSZ.
const tsTextLen = 24

// maxTextMs is the first instant (year 10000) whose text is not tsTextLen long.
const maxTextMs = 253402300800000

// tsText formats timestamps keeping the text as three little-endian words (bytes 0–7
// `yyyy-MM-`, 8–15 `ddTHH:mm`, 16–23 `:ss.SSSZ`). Consecutive samples share their date, so
// the date is formatted once a day (newDay); the time of day is assembled from three tables
// (minute of the day, second, millisecond) with two multiplications, no branch and no
// dependency between the lookups, and stored as whole words (byte stores read back as words
// would stall on store forwarding). BenchmarkTsText: ~5 ns a sample, ~6× less than
// api.AppendDateTime. The zero value is ready.
type tsText struct {
	w   [3]uint64 // the text
	ok  bool      // w[0] and w1 hold the date of day
	day uint64    // ms of the start of the text's day
	w1  uint64    // w[1] without its hours and minutes: `ddT`
}

// Text tables of the time of day, as bits of w[1] and w[2].
var (
	minuteText [24 * 60]uint64 // `HH:mm` at bytes 3–7 of w[1]
	secondText [60]uint64      // `:ss.` and `Z` of w[2]
	milliText  [1000]uint64    // `SSS` at bytes 4–6 of w[2]
)

func init() {
	pair := func(v int) uint64 { return uint64(digitPairs[2*v]) | uint64(digitPairs[2*v+1])<<8 }
	for m := range minuteText {
		minuteText[m] = pair(m/60)<<24 | uint64(':')<<40 | pair(m%60)<<48
	}
	for s := range secondText {
		secondText[s] = uint64(':') | pair(s)<<8 | uint64('.')<<24 | uint64('Z')<<56
	}
	for ms := range milliText {
		milliText[ms] = uint64('0'+ms/100)<<32 | pair(ms%100)<<40
	}
}

// put makes ms the current text (api.AppendDateTime's). It returns false, the text being
// undefined, for ms outside 1970 ≤ year ≤ 9999 (texts of another length).
func (t *tsText) put(ms int64) bool {
	rem := uint64(ms) - t.day
	if rem >= msPerDay || !t.ok { // another day (before t.day, rem wraps)
		if !t.newDay(ms) {
			return false
		}
		rem = uint64(ms) - t.day
	}
	r := uint32(rem)
	min := r / 60_000
	r -= min * 60_000
	sec := r / 1000
	t.w[1] = t.w1 | minuteText[min]
	t.w[2] = secondText[sec] | milliText[r-sec*1000]
	return true
}

// newDay sets the date to ms's day; false for ms outside 1970 ≤ year ≤ 9999.
func (t *tsText) newDay(ms int64) bool {
	if uint64(ms) >= maxTextMs {
		t.ok = false
		return false
	}
	day := uint64(ms) / msPerDay * msPerDay
	var tmp [32]byte
	txt := api.AppendDateTime(tmp[:0], int64(day))
	t.w[0] = binary.LittleEndian.Uint64(txt)
	t.w1 = binary.LittleEndian.Uint64(txt[8:]) & 0xff_ffff // `ddT`
	t.ok, t.day = true, day
	return true
}

// store writes the current text at the start of dst (len ≥ tsTextLen).
func (t *tsText) store(dst []byte) {
	_ = dst[tsTextLen-1]
	binary.LittleEndian.PutUint64(dst, t.w[0])
	binary.LittleEndian.PutUint64(dst[8:], t.w[1])
	binary.LittleEndian.PutUint64(dst[16:], t.w[2])
}
