package query

import (
	"math"
	"slices"

	"github.com/tsgate/tsgate/acl"
)

// span is an inclusive range of timestamps, ms.
type span struct{ from, to int64 }

// clip intersects [from, to] (inclusive) with the half-open windows ws (API.md §3.5) and
// returns the pieces, ascending and disjoint. ws == nil means not clipped; an empty non-nil
// ws grants nothing.
func clip(from, to int64, ws []acl.Window) []span {
	if from > to {
		return nil
	}
	if ws == nil {
		return []span{{from, to}}
	}
	out := make([]span, 0, len(ws))
	for _, w := range ws {
		lo, hi := windowSpan(w)
		lo, hi = max(lo, from), min(hi, to)
		if lo <= hi {
			out = append(out, span{lo, hi})
		}
	}
	slices.SortFunc(out, func(a, b span) int {
		switch {
		case a.from < b.from:
			return -1
		case a.from > b.from:
			return 1
		}
		return 0
	})
	// merge overlapping and touching pieces
	merged := out[:0]
	for _, s := range out {
		if n := len(merged); n > 0 && s.from <= merged[n-1].to+1 {
			merged[n-1].to = max(merged[n-1].to, s.to)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// windowSpan is the inclusive ms range of a window [From, To): a timestamp t (ms) is inside
// when From ≤ t and t < To, with sub-millisecond bounds rounded accordingly.
func windowSpan(w acl.Window) (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	if !w.From.IsZero() {
		ns := w.From.UnixNano()
		lo = ns / 1e6
		if ns%1e6 > 0 {
			lo++
		}
	}
	if !w.To.IsZero() {
		ns := w.To.UnixNano()
		hi = ns / 1e6
		if ns%1e6 == 0 {
			hi--
		}
	}
	return lo, hi
}
