package api

import (
	"errors"
	"math/rand"
	"testing"
	"time"
)

func TestParseDateTime(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		ms, err := ParseDateTime(in)
		if err != nil {
			t.Errorf("ParseDateTime(%q): %v", in, err)
			return
		}
		if got := string(AppendDateTime(nil, ms)); got != want {
			t.Errorf("ParseDateTime(%q) = %s, want %s", in, got, want)
		}
		// the []byte instantiation agrees
		if ms2, err := ParseDateTime([]byte(in)); err != nil || ms2 != ms {
			t.Errorf("ParseDateTime([]byte(%q)) = %d, %v; want %d", in, ms2, err, ms)
		}
	}
	// bbdata-v2.md §0.2 examples
	f("2020-03-21T08:14:00.123", "2020-03-21T08:14:00.123Z")
	f("2020-03-21T10:00+02:00", "2020-03-21T08:00:00.000Z")
	f("2020-3-1T1:00", "2020-03-01T01:00:00.000Z")
	f("2020-03-21T08", "2020-03-21T08:00:00.000Z")
	f("2020-03-21", "2020-03-21T00:00:00.000Z")
	f("2020-03", "2020-03-01T00:00:00.000Z")
	f("2020", "2020-01-01T00:00:00.000Z")
	f("2020-10-01T12:34:56.789012", "2020-10-01T12:34:56.789Z") // Python utcnow().isoformat(), bbchecker
	// output form and fast path
	f("2019-01-01T09:00:00.000Z", "2019-01-01T09:00:00.000Z")
	f("2026-01-01T00:00:00.399Z", "2026-01-01T00:00:00.399Z")
	f("2020-02-29T23:59:59.999Z", "2020-02-29T23:59:59.999Z")
	f("2016-01-01T00:00:00.000Z", "2016-01-01T00:00:00.000Z")
	// apikey tests (bbdata-v2.md §1.3)
	f("2070-01-04", "2070-01-04T00:00:00.000Z")
	f("2070-01-04T10:00", "2070-01-04T10:00:00.000Z")
	// case-insensitive T, W, Z
	f("2020-03-21t08:14:00.123z", "2020-03-21T08:14:00.123Z")
	f("2020-w10", "2020-03-02T00:00:00.000Z")
	// fractions: of second (. or ,), truncated; of minute; of hour
	f("2020-03-21T08:14:00,5", "2020-03-21T08:14:00.500Z")
	f("2020-03-21T08:14:00.1", "2020-03-21T08:14:00.100Z")
	f("2020-03-21T08:14:00.9999", "2020-03-21T08:14:00.999Z")
	f("2020-03-21T08:14:00.123456789", "2020-03-21T08:14:00.123Z")
	f("2020-03-21T08:14.5", "2020-03-21T08:14:30.000Z")
	f("2020-03-21T08.5", "2020-03-21T08:30:00.000Z")
	f("2020-03-21T08,25Z", "2020-03-21T08:15:00.000Z")
	f("2020-03-21T08.123456789", "2020-03-21T08:07:24.443Z") // Joda's digit-by-digit scaling, not exact 24.4444
	// offsets
	f("2020-03-21T10:00Z", "2020-03-21T10:00:00.000Z")
	f("2020-03-21T10:00+02", "2020-03-21T08:00:00.000Z")
	f("2020-03-21T10:00-0130", "2020-03-21T11:30:00.000Z")
	f("2020-03-21T10+02", "2020-03-21T08:00:00.000Z")
	f("2020-03-21T00:30:00.000+01:00", "2020-03-20T23:30:00.000Z")
	f("2020-03-21T10:00:00.5-23:59", "2020-03-22T09:59:00.500Z")
	// 'T' with no time, or with only an offset
	f("2020-03-21T", "2020-03-21T00:00:00.000Z")
	f("2020-03-21TZ", "2020-03-21T00:00:00.000Z")
	f("2020-03-21T+01:00", "2020-03-20T23:00:00.000Z")
	// one-digit fields
	f("2020-1-2T3:4:5.6", "2020-01-02T03:04:05.600Z")
	// ordinal and week dates
	f("2020-045", "2020-02-14T00:00:00.000Z")
	f("2020-366", "2020-12-31T00:00:00.000Z")
	f("2020-1T10", "2020-01-01T10:00:00.000Z") // ties go to the year-month form
	f("2020-04T10", "2020-04-01T10:00:00.000Z")
	f("2020-045T10:00Z", "2020-02-14T10:00:00.000Z")
	f("2020-W10", "2020-03-02T00:00:00.000Z")
	f("2020-W10-3", "2020-03-04T00:00:00.000Z")
	f("2020-W1-1T12", "2019-12-30T12:00:00.000Z")
	f("2020-W53-7", "2021-01-03T00:00:00.000Z")
	f("2016-W01-5", "2016-01-08T00:00:00.000Z")
	f("2026-W53", "2026-12-28T00:00:00.000Z")
	// years: sign, many digits
	f("+2020-03-21", "2020-03-21T00:00:00.000Z")
	f("020200", "20200-01-01T00:00:00.000Z")
	f("292278993-12-31T23:59:59.999Z", "292278993-12-31T23:59:59.999Z")
	f("20200101", "20200101-01-01T00:00:00.000Z") // Joda reads a 9-digit max year
}

func TestParseDateTimeErrors(t *testing.T) {
	f := func(in string, want error) {
		t.Helper()
		ms, err := ParseDateTime(in)
		if err == nil {
			t.Errorf("ParseDateTime(%q) = %s, want error %v", in, AppendDateTime(nil, ms), want)
			return
		}
		var de *DateTimeError
		if !errors.As(err, &de) || !errors.Is(err, want) {
			t.Errorf("ParseDateTime(%q) error %v, want %v", in, err, want)
		}
		if de != nil && de.Input != in {
			t.Errorf("ParseDateTime(%q): error input %q", in, de.Input)
		}
	}
	syntax, early := ErrDateTimeSyntax, ErrDateTimeTooEarly
	f("", syntax)
	f("null", syntax)
	f("2020-03-21 08:14:00", syntax) // space separator
	f(" 2020-03-21", syntax)
	f("2020-03-21 ", syntax)
	f("1601546400000", syntax) // epoch millis
	f("2020-03-21T08:14:00.123Zx", syntax)
	f("2020-03-21T08:14:00.1234567890", syntax) // 10 fraction digits
	f("2020-03-21Z", syntax)                    // offset needs the T
	f("2020-03-21+01:00", syntax)
	f("2020-13", syntax)
	f("2020-00-01", syntax)
	f("2020-02-30", syntax)
	f("2019-02-29", syntax)
	f("2019-366", syntax)
	f("2020-000", syntax)
	f("2021-W53", syntax)
	f("2020-W54", syntax)
	f("2020-W10-8", syntax)
	f("2020-W10-0", syntax)
	f("2020-W", syntax)
	f("2020-", syntax)
	f("2020-03-", syntax)
	f("2020-03-21T24:00", syntax)
	f("2020-03-21T23:60", syntax)
	f("2020-03-21T23:59:60", syntax)
	f("2020-03-21T10:", syntax)
	f("2020-03-21T10:00:", syntax)
	f("2020-03-21T10:00:00.", syntax)
	f("2020-03-21T10:00:00.Z", syntax)
	f("2020-03-21T10:00+2", syntax)
	f("2020-03-21T10:00+02:", syntax)
	f("2020-03-21T10:00+02:3", syntax)
	f("2020-03-21T10:00+021", syntax)
	f("2020-03-21T10:00+24", syntax)
	f("2020-03-21T10:00+02:60", syntax)
	f("2020-03-21T10:00+02:00:00", syntax)
	f("2020-03-21TT", syntax)
	f("2020-03-21T1000", syntax)
	f("T", syntax)
	f("Tx", syntax)
	f("2020--01", syntax)
	f("-", syntax)
	f("+", syntax)
	f("abc", syntax)
	f("2020-03-21T08:14:00.123Z\n", syntax)
	f("2020-03-21T08:14:00.123\x00", syntax)
	f("１２", syntax) // non-ASCII digits
	// well-formed but before 2016 (bbdata-v2.md §0.2)
	f("20", early)
	f("10-01-12T01:00", early)
	f("2015-12-31T23:59:59.999Z", early)
	f("2016-01-01T00:30+01:00", early)
	f("T10:00", early)
	f("t10:00:00.000Z", early)
	f("-2020-01-01", early)
	f("1970-01-01T00:00:00.000Z", early)
	f("0000-01-01T00:00:00.000Z", early)
	// beyond Joda's years
	f("292278994", ErrDateTimeRange)
	f("999999999-01-01", ErrDateTimeRange)
}

// TestParseDateTimeAgainstTime compares random instants in the output form,
// the fast path and a few other shapes with the standard library.
func TestParseDateTimeAgainstTime(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	lo := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	hi := time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	layouts := []string{
		"2006-01-02T15:04:05.000Z",
		"2006-01-02T15:04:05.000000",
		"2006-01-02T15:04:05-07:00",
		"2006-01-02T15:04-0700",
		"2006-01-02T15:04:05.0Z07:00",
		"2006-01-02",
	}
	for i := 0; i < 20000; i++ {
		ms := lo + rng.Int63n(hi-lo)
		tm := time.UnixMilli(ms).UTC()
		if got := string(AppendDateTime(nil, ms)); got != tm.Format("2006-01-02T15:04:05.000Z") {
			t.Fatalf("AppendDateTime(%d) = %s, want %s", ms, got, tm.Format(time.RFC3339Nano))
		}
		zone := time.FixedZone("", (rng.Intn(47)-23)*3600+rng.Intn(2)*1800)
		tz := tm.In(zone)
		for _, layout := range layouts {
			s := tz.Format(layout)
			want, err := time.Parse(layout, s)
			if err != nil {
				t.Fatal(err)
			}
			if layout == "2006-01-02T15:04:05.000000" || layout == "2006-01-02" {
				want = time.Date(want.Year(), want.Month(), want.Day(), want.Hour(), want.Minute(), want.Second(), want.Nanosecond(), time.UTC)
			}
			got, err := ParseDateTime(s)
			if want.UnixMilli() < MinDateTimeMillis {
				continue
			}
			if err != nil || got != want.Truncate(time.Millisecond).UnixMilli() {
				t.Fatalf("ParseDateTime(%q) = %d, %v; want %d", s, got, err, want.UnixMilli())
			}
		}
	}
}

func TestAppendDateTime(t *testing.T) {
	f := func(ms int64, want string) {
		t.Helper()
		if got := string(AppendDateTime([]byte("x"), ms)); got != "x"+want {
			t.Errorf("AppendDateTime(%d) = %s, want x%s", ms, got, want)
		}
	}
	f(0, "1970-01-01T00:00:00.000Z")
	f(-1, "1969-12-31T23:59:59.999Z")
	f(MinDateTimeMillis, "2016-01-01T00:00:00.000Z")
	f(1601553296789, "2020-10-01T11:54:56.789Z")
	f(253402300799999, "9999-12-31T23:59:59.999Z")
	f(253402300800000, "10000-01-01T00:00:00.000Z")
	f(-62167219200000, "0000-01-01T00:00:00.000Z")
	f(-62167219200001, "-0001-12-31T23:59:59.999Z")
}

func TestDateTimeNoAlloc(t *testing.T) {
	buf := make([]byte, 0, 64)
	in := []byte("2020-10-01T12:34:56.789Z")
	slow := "2020-10-01T12:34:56.789012+02:00"
	n := testing.AllocsPerRun(100, func() {
		ms, err := ParseDateTime(in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseDateTime(slow); err != nil {
			t.Fatal(err)
		}
		buf = AppendDateTime(buf[:0], ms)
	})
	if n != 0 {
		t.Fatalf("%v allocations per run, want 0", n)
	}
}

func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{
		"2020-03-21T08:14:00.123Z", "2020-03-21T10:00+02:00", "2020-3-1T1:00", "2020-03-21T08", "2020-W10-3",
		"2020-045", "2020-10-01T12:34:56.789012", "T10:00", "2020-10-01T12:34:56,1z", "2020-10-01T12:34:56.123456789-01:30", "20", "2020-03-21T08.5", "+2020-01-01T00:00:00,1z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseDateTime(s)
		if err != nil {
			var de *DateTimeError
			if !errors.As(err, &de) {
				t.Fatalf("ParseDateTime(%q): untyped error %v", s, err)
			}
			return
		}
		if ms < MinDateTimeMillis {
			t.Fatalf("ParseDateTime(%q) = %d, before the minimum", s, ms)
		}
		// canonical text round-trips exactly
		out := AppendDateTime(nil, ms)
		ms2, err := ParseDateTime(out)
		if err != nil || ms2 != ms {
			t.Fatalf("ParseDateTime(%q) = %d; %s reparsed as %d, %v", s, ms, out, ms2, err)
		}
		// the fast paths agree with the general parser
		if cms, ok := parseDateTimeCommon(s); ok {
			sms, err := parseDateTimeSlow(s)
			if err != nil || sms != cms {
				t.Fatalf("%q: common %d, slow %d %v", s, cms, sms, err)
			}
		}
	})
}

func BenchmarkParseDateTime(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"fixed", "2026-01-01T00:13:00.123Z"},
		{"micros", "2020-10-01T12:34:56.789012"},
		{"offset", "2020-03-21T10:00+02:00"},
	} {
		in := []byte(bc.in)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := ParseDateTime(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("time.Parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := time.Parse(time.RFC3339Nano, "2026-01-01T00:13:00.123Z"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAppendDateTime(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 32)
	ms := int64(1767226380123)
	for b.Loop() {
		buf = AppendDateTime(buf[:0], ms)
	}
}
