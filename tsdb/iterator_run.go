package tsdb

import "math"

// Run is a stretch of consecutive samples of an Iterator, in timestamp
// order, all read from one decoded block or head copy: NextRun's unit. Its
// slices alias the iterator's memory and are valid until the next call of
// Next, NextRun or Close.
type Run struct {
	typ  ValueType
	ts   []int64
	nums []uint64 // nil when lazy
	mant []int64  // decimal floats: the mantissas, × 10^exp
	strs []byte
	exp  int16
	dec  bool
	lazy bool
}

// Len returns the number of samples in the run.
func (r *Run) Len() int { return len(r.ts) }

// Type returns the series' value type.
func (r *Run) Type() ValueType { return r.typ }

// Timestamps returns the run's timestamps (ms since the epoch, ascending).
func (r *Run) Timestamps() []int64 { return r.ts }

// Decimals returns the run's float values as mant[i] × 10^exp, the form
// decimal blocks keep (see Iterator.Decimal); ok is false when the run has
// no common decimal form (not a Float series, a head copy, or a block of raw
// IEEE floats): use Float(i) and FloatToDecimal then.
func (r *Run) Decimals() (mant []int64, exp int16, ok bool) {
	if !r.dec {
		return nil, 0, false
	}
	return r.mant, r.exp, true
}

func (r *Run) num(i int) uint64 {
	if r.lazy {
		return math.Float64bits(DecimalToFloat(r.mant[i], r.exp))
	}
	return r.nums[i]
}

// Float returns sample i's value of a Float series.
func (r *Run) Float(i int) float64 { return math.Float64frombits(r.num(i)) }

// Int returns sample i's value of an Int series.
func (r *Run) Int(i int) int64 { return int64(r.nums[i]) }

// Bool returns sample i's value of a Bool series.
func (r *Run) Bool(i int) bool { return r.nums[i] != 0 }

// Bytes returns sample i's value of a String series (aliases the run's memory).
func (r *Run) Bytes(i int) []byte {
	ref := r.nums[i]
	return r.strs[strOff(ref) : strOff(ref)+strLen(ref)]
}

// NextRun advances past the current sample or run to the next run: the
// samples Next would return one by one from here, as long as they come from
// one source (block or head copy) and no other source holds a sample among
// them — typically a whole block. It returns false where Next would.
// Sample accessors (Timestamp, Float, …) then refer to the run's first
// sample. Blocks an iterator loads after its first NextRun keep decimal
// floats undecoded to float64 until asked for (Run.Float, Iterator.Float).
func (it *Iterator) NextRun() bool {
	it.lazy = true
	if !it.Next() {
		it.run = Run{}
		return false
	}
	best := it.cur
	ts := best.cols.ts
	start := it.ci
	end := start + 1
	if best != it.done && end < len(ts) {
		// Samples of best strictly before every other source's next sample and
		// before a block not yet loaded are not contested: take them at once.
		limit := it.to
		for _, s := range it.srcs {
			if s != best && s.cols.ts[s.i] <= limit {
				limit = s.cols.ts[s.i] - 1
			}
		}
		if it.pending && it.pkey.minTs <= limit {
			limit = it.pkey.minTs - 1
		}
		end = searchAfter(ts, end, limit)
		best.i = end
		if end == len(ts) {
			for k, s := range it.srcs {
				if s == best {
					n := len(it.srcs)
					copy(it.srcs[k:], it.srcs[k+1:])
					it.srcs[n-1] = nil
					it.srcs = it.srcs[:n-1]
					break
				}
			}
			it.done = best
		}
	}
	c := &best.cols
	it.run = Run{typ: it.typ, ts: ts[start:end], strs: c.strs, exp: c.exp, dec: c.dec, lazy: c.lazy}
	if !c.lazy {
		it.run.nums = c.nums[start:end]
	}
	if c.dec {
		it.run.mant = c.mant[start:end]
	}
	return true
}

// Run returns the current run (after NextRun returned true).
func (it *Iterator) Run() *Run { return &it.run }

// searchAfter returns the first index ≥ lo of sorted a whose value exceeds x.
func searchAfter(a []int64, lo int, x int64) int {
	hi := len(a)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a[m] <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
