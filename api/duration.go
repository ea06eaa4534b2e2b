package api

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrDurationSyntax is wrapped by every ParseDuration failure.
var ErrDurationSyntax = errors.New("malformed duration")

// DurationYear is the length of the duration grammar's "y" unit: 365 days (durations
// are fixed lengths; retention cuts at UTC day boundaries anyway).
const DurationYear = 365 * 24 * time.Hour

var durationUnits = [...]struct {
	c byte
	d time.Duration
}{{'y', DurationYear}, {'d', 24 * time.Hour}, {'h', time.Hour}, {'m', time.Minute}, {'s', time.Second}}

// ParseDuration parses the one duration grammar tsgate shares between the
// apikey expirationDate (bbdata-v2.md §1.3), --retention and --audit-retention
// (API.md §4):
//
//	duration = part { sep part } ;  part = digits unit ;  unit = y|d|h|m|s ;  sep = { '-' | ' ' }
//
// Units appear at most once and in that order (y, d, h, m, s); at least one is
// required; y is 365 days. Examples: "1d", "3h", "1d-2h", "1d-2m-3s", "1d 2h",
// "10y", "90d". Leading and trailing spaces are ignored; there is no sign (a
// leading '-' is an error, never a negative duration). Errors wrap
// ErrDurationSyntax and say what was wrong.
func ParseDuration(s string) (time.Duration, error) {
	in := s
	s = strings.Trim(s, " ")
	if s == "" {
		return 0, durationErr(in, "empty")
	}
	var total time.Duration
	next := 0 // index into durationUnits of the smallest unit still allowed
	i := 0
	for {
		j := i
		var n uint64
		for j < len(s) && isDigit(s[j]) {
			if n > math.MaxInt64/10 {
				return 0, durationErr(in, "number too large")
			}
			n = n*10 + uint64(s[j]-'0')
			j++
		}
		if j == i {
			return 0, durationErr(in, "expected a number at \""+s[i:]+"\"")
		}
		if j == len(s) {
			return 0, durationErr(in, "missing unit (y, d, h, m or s) after \""+s[i:j]+"\"")
		}
		u := next
		for u < len(durationUnits) && durationUnits[u].c != s[j] {
			u++
		}
		if u == len(durationUnits) {
			return 0, durationErr(in, "unexpected \""+s[j:]+"\": units are y, d, h, m, s, each once, in that order")
		}
		if n > uint64(math.MaxInt64/durationUnits[u].d) {
			return 0, durationErr(in, "too long")
		}
		part := time.Duration(n) * durationUnits[u].d
		if total > math.MaxInt64-part {
			return 0, durationErr(in, "too long")
		}
		total += part
		next = u + 1
		i = j + 1
		if i == len(s) {
			return total, nil
		}
		for i < len(s) && (s[i] == '-' || s[i] == ' ') {
			i++
		}
	}
}

// FormatDuration renders d (whole seconds; a fraction is dropped) in the
// grammar of ParseDuration with the largest units first and no separators:
// 90d, 1d2h, 10y, 1h30m, 0s. ParseDuration(FormatDuration(d)) == d.Truncate(time.Second)
// for every d ≥ 0. Negative durations render as "0s".
func FormatDuration(d time.Duration) string {
	var buf [48]byte
	b := buf[:0]
	if d < time.Second {
		return "0s"
	}
	for _, u := range durationUnits {
		if n := d / u.d; n > 0 {
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, u.c)
			d -= n * u.d
		}
	}
	return string(b)
}

func durationErr(in, why string) error {
	return &durationError{in: in, why: why}
}

type durationError struct{ in, why string }

func (e *durationError) Error() string {
	return "malformed duration \"" + e.in + "\": " + e.why
}
func (e *durationError) Unwrap() error { return ErrDurationSyntax }

// ParseExpirationDate interprets the expirationDate of PUT /apikeys (query
// parameter) and POST /apikeys/{id} (body field), bbdata-v2.md §1.3:
//
//   - the literal "null" → no expiration (ok = false, err = nil);
//   - a duration (ParseDuration) → nowMs + duration;
//   - otherwise an ISO date-time (ParseDateTime) after every 'Z' has been
//     removed, so "2070-01-04Z" means 2070-01-04T00:00:00.000Z.
//
// An absent parameter or field is the caller's business (absent ≠ "null" for
// POST). Any other input → an error the handler answers with 400
// WrongParamsException (API.md §2; the original answered 500).
func ParseExpirationDate(s string, nowMs int64) (ms int64, ok bool, err error) {
	if s == "null" {
		return 0, false, nil
	}
	if t := strings.Trim(s, " "); t != "" && strings.IndexAny(t[len(t)-1:], "ydhms") == 0 {
		d, err := ParseDuration(t)
		if err != nil {
			return 0, false, expirationErr(s, err)
		}
		ms := nowMs + d.Milliseconds()
		if ms < nowMs { // overflow
			return 0, false, expirationErr(s, errors.New("too far in the future"))
		}
		return ms, true, nil
	}
	ms, err = ParseDateTime(strings.ReplaceAll(s, "Z", ""))
	if err != nil {
		return 0, false, expirationErr(s, err)
	}
	return ms, true, nil
}

func expirationErr(s string, err error) error {
	return &ExpirationDateError{Input: s, Err: err}
}

// ExpirationDateError is the error of ParseExpirationDate; it wraps the
// *DateTimeError or duration error that caused it.
type ExpirationDateError struct {
	Input string
	Err   error
}

func (e *ExpirationDateError) Error() string {
	return "expirationDate \"" + e.Input + "\" is neither a date-time nor a duration like 1d-2h (" + e.Err.Error() + ")"
}

func (e *ExpirationDateError) Unwrap() error { return e.Err }
