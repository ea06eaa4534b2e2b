package aggregate

import (
	"fmt"
	"strings"
)

// Resolution is a rollup window length. Windows are UTC-aligned (the epoch is
// a UTC midnight and none of the lengths exceeds a day).
type Resolution uint8

const (
	// Quarters are 15-minute windows (granularity=quarters).
	Quarters Resolution = iota + 1
	// Hours are 1-hour windows (granularity=hours).
	Hours
	// Days are UTC days (granularity=days, minutes 1440).
	Days
)

const (
	quarterMs = 15 * 60 * 1000
	hourMs    = 60 * 60 * 1000
	dayMs     = 24 * hourMs
)

// ParseResolution reads a granularity name (quarters, hours, days), trimmed
// and case-insensitive.
func ParseResolution(s string) (Resolution, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "quarters":
		return Quarters, nil
	case "hours":
		return Hours, nil
	case "days":
		return Days, nil
	}
	return 0, fmt.Errorf("aggregate: unknown resolution %q (quarters, hours or days)", s)
}

// String returns the granularity name.
func (r Resolution) String() string {
	switch r {
	case Quarters:
		return "quarters"
	case Hours:
		return "hours"
	case Days:
		return "days"
	}
	return fmt.Sprintf("Resolution(%d)", uint8(r))
}

// Minutes returns the window length in minutes (15, 60, 1440), the
// "minutes" field of BBData's aggregated rows.
func (r Resolution) Minutes() int { return int(r.Millis() / 60000) }

// Millis returns the window length in ms (0 for an invalid resolution).
func (r Resolution) Millis() int64 {
	switch r {
	case Quarters:
		return quarterMs
	case Hours:
		return hourMs
	case Days:
		return dayMs
	}
	return 0
}

// WindowStart returns the start of the window of resolution r holding ts.
func (r Resolution) WindowStart(ts int64) int64 { return floorTo(ts, r.Millis()) }

func floorTo(ts, step int64) int64 {
	m := ts % step
	if m < 0 {
		m += step
	}
	return ts - m
}

func hourStart(ts int64) int64 { return floorTo(ts, hourMs) }
func dayStart(ts int64) int64  { return floorTo(ts, dayMs) }
