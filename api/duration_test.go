package api

import (
	"errors"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	f := func(in string, want time.Duration) {
		t.Helper()
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	day := 24 * time.Hour
	f("1d", day)
	f("3h", 3*time.Hour)
	f("1d-2h", 26*time.Hour)
	f("1d-2m-3s", day+2*time.Minute+3*time.Second)
	f("1d 2h", 26*time.Hour)
	f("1d2h3m4s", day+2*time.Hour+3*time.Minute+4*time.Second)
	f("1d - 2h", 26*time.Hour)
	f("1d--2h", 26*time.Hour)
	f("10y", 10*365*day)
	f("1y-1d", 366*day)
	f("90d", 90*day)
	f("400d", 400*day)
	f("0s", 0)
	f("  5m ", 5*time.Minute)
	f("007s", 7*time.Second)
	f("292y", 292*365*day)
}

func TestParseDurationErrors(t *testing.T) {
	f := func(in string) {
		t.Helper()
		got, err := ParseDuration(in)
		if err == nil || !errors.Is(err, ErrDurationSyntax) {
			t.Errorf("ParseDuration(%q) = %v, %v; want ErrDurationSyntax", in, got, err)
		}
	}
	f("")
	f("  ")
	f("d")
	f("1")
	f("1x")
	f("1D")
	f("-1d")
	f("1d-")
	f("1h1d") // order
	f("1d1d") // twice
	f("1.5h")
	f("1w")
	f("1M")
	f("1ms")
	f("null")
	f("300y")                  // past time.Duration
	f("99999999999999999999s") // past int64
	f("2070-01-04")
}

func TestParseExpirationDate(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC).UnixMilli()
	f := func(in, want string) {
		t.Helper()
		ms, ok, err := ParseExpirationDate(in, now)
		if err != nil || !ok {
			t.Errorf("ParseExpirationDate(%q) = %d, %v, %v", in, ms, ok, err)
			return
		}
		if got := string(AppendDateTime(nil, ms)); got != want {
			t.Errorf("ParseExpirationDate(%q) = %s, want %s", in, got, want)
		}
	}
	// bbdata-v2.md §1.3 test expectations
	f("2070-01-04Z", "2070-01-04T00:00:00.000Z")
	f("2070-01-04T10:00", "2070-01-04T10:00:00.000Z")
	f("1d-2h", "2026-11-24T14:00:00.000Z")
	f("2070-01-04T10:00:00.000Z", "2070-01-04T10:00:00.000Z")
	f("2070-01-04T10:00+01:00", "2070-01-04T09:00:00.000Z")
	f("3h", "2026-11-23T15:00:00.000Z")
	f("1y", "2027-11-23T12:00:00.000Z")

	if ms, ok, err := ParseExpirationDate("null", now); ms != 0 || ok || err != nil {
		t.Errorf(`ParseExpirationDate("null") = %d, %v, %v; want none`, ms, ok, err)
	}
	for _, in := range []string{"", "NULL", "tomorrow", "1d-", "-1d", "2020-13-01", "2070-01-04 10:00", "1601546400000"} {
		if _, _, err := ParseExpirationDate(in, now); err == nil {
			t.Errorf("ParseExpirationDate(%q): no error", in)
		} else {
			var ee *ExpirationDateError
			if !errors.As(err, &ee) || ee.Input != in {
				t.Errorf("ParseExpirationDate(%q): error %#v", in, err)
			}
		}
	}
	// a date before 2016 is rejected as every input date is
	if _, _, err := ParseExpirationDate("2015-01-01", now); !errors.Is(err, ErrDateTimeTooEarly) {
		t.Errorf("2015-01-01: %v", err)
	}
}

func TestFormatDuration(t *testing.T) {
	day := 24 * time.Hour
	for d, want := range map[time.Duration]string{
		0: "0s", -time.Hour: "0s", time.Second: "1s", 90 * day: "90d", 26 * time.Hour: "1d2h", 10 * DurationYear: "10y",
		DurationYear + day + time.Hour + time.Minute + time.Second + time.Millisecond: "1y1d1h1m1s", 400 * day: "1y35d",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"1d", "3h", "1d-2h", "1d-2m-3s", "10y", " 1d 2h ", "1y1d1h1m1s", "-1d", "1h1d", "99999999999999999999s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !errors.Is(err, ErrDurationSyntax) {
				t.Fatalf("ParseDuration(%q): untyped error %v", s, err)
			}
			return
		}
		if d < 0 || d%time.Second != 0 {
			t.Fatalf("ParseDuration(%q) = %v", s, d)
		}
		if d2, err := ParseDuration(FormatDuration(d)); err != nil || d2 != d {
			t.Fatalf("ParseDuration(%q) = %v; FormatDuration → %q → %v, %v", s, d, FormatDuration(d), d2, err)
		}
	})
}
