package api

import (
	"errors"
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"
)

func canon(k ValueKind, raw string) (string, error) {
	b, err := AppendValueCanonical(nil, k, raw)
	return string(b), err
}

func TestValueCanonical(t *testing.T) {
	f := func(k ValueKind, raw, want string) {
		t.Helper()
		got, err := canon(k, raw)
		if err != nil || got != want {
			t.Errorf("%s %q → %q, %v; want %q", k, raw, got, err, want)
		}
		// []byte instantiation agrees
		if b, err := AppendValueCanonical(nil, k, []byte(raw)); err != nil || string(b) != want {
			t.Errorf("%s []byte(%q) → %q, %v; want %q", k, raw, b, err, want)
		}
	}
	// bbdata-v2.md §3.3 and API.md §2
	f(ValueFloat, "1", "1.0")
	f(ValueFloat, "1234.0", "1234.0")
	f(ValueFloat, "12.2", "12.2")
	f(ValueFloat, "1e7", "1.0E7")
	f(ValueFloat, "0.0001", "1.0E-4")
	f(ValueFloat, "6.", "6.0")
	f(ValueFloat, ".5", "0.5")
	f(ValueFloat, "1e3", "1000.0")
	f(ValueFloat, "NaN", "NaN")
	f(ValueFloat, "Infinity", "Infinity")
	f(ValueFloat, "-Infinity", "-Infinity")
	f(ValueFloat, "+Infinity", "Infinity")
	f(ValueFloat, "-NaN", "NaN")
	f(ValueFloat, "  12.5  ", "12.5")
	f(ValueFloat, "\t\n12.5\r", "12.5")
	f(ValueFloat, "1f", "1.0")
	f(ValueFloat, "1.5F", "1.5")
	f(ValueFloat, "2d", "2.0")
	f(ValueFloat, "2.25D", "2.25")
	f(ValueFloat, "+3", "3.0")
	f(ValueFloat, "-3", "-3.0")
	f(ValueFloat, "-0", "-0.0")
	f(ValueFloat, "0", "0.0")
	f(ValueFloat, "0x1.8p3", "12.0")
	f(ValueFloat, "-0X1P-2", "-0.25")
	f(ValueFloat, "0x.8p1f", "1.0")
	f(ValueFloat, "0xAp0d", "10.0")
	f(ValueFloat, "0.001", "0.001")
	f(ValueFloat, "0.00099", "9.9E-4")
	f(ValueFloat, "9999999", "9999999.0")
	f(ValueFloat, "9999999.5", "9999999.5")
	f(ValueFloat, "10000000", "1.0E7")
	f(ValueFloat, "123456789", "1.23456789E8")
	f(ValueFloat, "-1.5e-5", "-1.5E-5")
	f(ValueFloat, "1E+10", "1.0E10")
	f(ValueFloat, "227.0", "227.0")
	f(ValueFloat, "122.7", "122.7")
	f(ValueFloat, "0.1", "0.1")
	f(ValueFloat, "21.37", "21.37")
	f(ValueFloat, "1e308", "1.0E308")
	f(ValueFloat, "1.7976931348623157e308", "1.7976931348623157E308")
	f(ValueFloat, "1e400", "Infinity") // Java's overflow
	f(ValueFloat, "-1e400", "-Infinity")
	f(ValueFloat, "1e-400", "0.0")        // Java's underflow
	f(ValueFloat, "4.9e-324", "5.0E-324") // shortest digits; JDK prints 4.9E-324 (its 2-digit rule), same double
	f(ValueFloat, "1e-5", "1.0E-5")
	f(ValueFloat, "123456789012345678901234567890", "1.2345678901234568E29")
	f(ValueFloat, "0.1000000000000000055511151231257827", "0.1")
	f(ValueFloat, "00012.500", "12.5")
	f(ValueFloat, "1e0000000000000000000003", "1000.0")

	f(ValueInt, "1", "1")
	f(ValueInt, "+5", "5")
	f(ValueInt, "007", "7")
	f(ValueInt, "-0", "0")
	f(ValueInt, "-12", "-12")
	f(ValueInt, "2147483648", "2147483648") // beyond 32 bits (API.md §2)
	f(ValueInt, "9223372036854775807", "9223372036854775807")
	f(ValueInt, "-9223372036854775808", "-9223372036854775808")

	for _, s := range []string{"TRUE", "true", "1", "on", "On", "yes", "YES"} {
		f(ValueBool, s, "true")
	}
	for _, s := range []string{"False", "false", "off", "OFF", "0", "no", "NO"} {
		f(ValueBool, s, "false")
	}

	for _, s := range []string{"False", "12.0", `{"json": "data", "works": 1}`, "  ", "true", "é", strings.Repeat("x", 64<<10)} {
		f(ValueString, s, s)
	}
}

func TestValueCanonicalErrors(t *testing.T) {
	f := func(k ValueKind, raw string, want error) {
		t.Helper()
		got, err := canon(k, raw)
		if !errors.Is(err, want) {
			t.Errorf("%s %q → %q, %v; want %v", k, raw, got, err, want)
		}
	}
	syntax := ErrValueSyntax
	for _, s := range []string{"true", "1.2.3", "", " ", "abc", "1e", "e3", ".", "-", "+", "1ff", "NaNf", "nan", "inf", "infinity",
		"Infinityf", "--1", "+-1", "1 2", "1_000", "0x1.8", "0x", "0xp3", "0x1p", "0x1g3p1", "1,5", "0b1", "１", "1e+", "1.e", "\x00"} {
		f(ValueFloat, s, syntax)
	}
	for _, s := range []string{"1.5", "1.", "1.4", "", "+", "-", " 1", "1 ", "1e3", "0x10", "abc", "1_0", "١"} {
		f(ValueInt, s, syntax)
	}
	f(ValueInt, "9223372036854775808", ErrValueRange)
	f(ValueInt, "-9223372036854775809", ErrValueRange)
	f(ValueInt, "99999999999999999999999", ErrValueRange)
	for _, s := range []string{"1.", "2", "oui", "xxx", "1.45", "", " true", "true ", "t", "f", "y", "n", "truee", "falsee"} {
		f(ValueBool, s, syntax)
	}
	f(ValueString, "", ErrValueEmpty)
	f(ValueString, strings.Repeat("x", 64<<10+1), ErrValueTooLong)
	f(0, "1", syntax)
}

func TestAppendValueFloatAgainstStrconv(t *testing.T) {
	// Every float64 round-trips through its canonical text.
	for _, v := range []float64{math.MaxFloat64, math.SmallestNonzeroFloat64, 1e-3, math.Nextafter(1e-3, 0), 1e7,
		math.Nextafter(1e7, 0), math.Pi, -math.E, 1 << 53, 0.3, 2.5e-10, 6.02214076e23} {
		s := string(AppendValueFloat(nil, v))
		got, err := ParseValueFloat(s)
		if err != nil || got != v {
			t.Errorf("%v → %q → %v, %v", v, s, got, err)
		}
	}
}

func TestValueKind(t *testing.T) {
	for _, name := range []string{"float", "int", "bool", "string"} {
		k, ok := ParseValueKind(name)
		if !ok || k.String() != name {
			t.Errorf("ParseValueKind(%q) = %v, %v", name, k, ok)
		}
	}
	if _, ok := ParseValueKind("double"); ok {
		t.Error("double accepted")
	}
	if _, ok := ParseValueKind(""); ok {
		t.Error("empty accepted")
	}
}

func TestValueTextNoAlloc(t *testing.T) {
	buf := make([]byte, 0, 64)
	raws := [][]byte{[]byte("21.37"), []byte("1e-7"), []byte("0x1.8p3"), []byte("123456789012345678901234567890")}
	n := testing.AllocsPerRun(100, func() {
		for _, r := range raws {
			var err error
			buf, err = AppendValueCanonical(buf[:0], ValueFloat, r)
			if err != nil {
				t.Fatal(err)
			}
		}
		buf, _ = AppendValueCanonical(buf[:0], ValueInt, []byte("+007"))
		buf, _ = AppendValueCanonical(buf[:0], ValueBool, []byte("YES"))
		buf, _ = AppendValueCanonical(buf[:0], ValueString, []byte("text"))
		buf, _ = AppendValueCanonical(buf[:0], ValueFloat, []byte("x")) // failure path too
	})
	if n != 0 {
		t.Fatalf("%v allocations per run, want 0", n)
	}
}

func FuzzValueText(f *testing.F) {
	for _, s := range []string{"1", "12.2", "1e7", "0.0001", "6.", ".5", "NaN", "-Infinity", "0x1.8p3", " 1f ", "+5", "007",
		"TRUE", "off", "1.2.3", "9223372036854775808", "4.9e-324", "1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for k := ValueFloat; k <= ValueString; k++ {
			c, err := AppendValueCanonical(nil, k, s)
			if err != nil {
				continue
			}
			// the canonical text is accepted and is a fixed point
			c2, err := AppendValueCanonical(nil, k, c)
			if err != nil || string(c2) != string(c) {
				t.Fatalf("%s %q → %q → %q, %v", k, s, c, c2, err)
			}
		}
		// float values agree with strconv wherever Go's grammar and Java's overlap
		if f, err := ParseValueFloat(s); err == nil {
			t := strings.TrimRight(strings.TrimSpace(s), "fFdD")
			if g, err2 := strconv.ParseFloat(t, 64); err2 == nil && !math.IsNaN(g) && g != f {
				panic("ParseValueFloat(" + strconv.Quote(s) + ") disagrees with strconv")
			}
		}
		if v, err := ParseValueInt(s); err == nil {
			if g, err2 := strconv.ParseInt(s, 10, 64); err2 != nil || g != v {
				t.Fatalf("ParseValueInt(%q) = %d; strconv %d %v", s, v, g, err2)
			}
		} else if g, err2 := strconv.ParseInt(s, 10, 64); err2 == nil {
			t.Fatalf("ParseValueInt(%q) rejected what strconv reads as %d", s, g)
		}
	})
}

func BenchmarkValueCanonical(b *testing.B) {
	for _, bc := range []struct {
		name string
		k    ValueKind
		raw  string
	}{
		{"float-short", ValueFloat, "21.37"},
		{"float-int", ValueFloat, "227"},
		{"float-sci", ValueFloat, "1.5e-7"},
		{"int", ValueInt, "123456"},
		{"bool", ValueBool, "true"},
	} {
		raw := []byte(bc.raw)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 64)
			for b.Loop() {
				buf, _ = AppendValueCanonical(buf[:0], bc.k, raw)
			}
		})
	}
}

// TestAppendValueFloatFastPath compares the fixed-decimals fast path with
// strconv's shortest digits over random values of the usual shapes.
func TestAppendValueFloatFastPath(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	slow := func(f float64) string {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	for i := 0; i < 300000; i++ {
		var f float64
		switch i % 4 {
		case 0: // a decimal with 0..8 decimals
			d := rng.Intn(9)
			f, _ = strconv.ParseFloat(strconv.FormatFloat(rng.Float64()*math.Pow(10, float64(rng.Intn(10)-3)), 'f', d, 64), 64)
		case 1: // any double in range
			f = math.Float64frombits(rng.Uint64())
		case 2:
			f = rng.Float64() * 1e7
		case 3:
			f = float64(rng.Int63n(1e7)) / math.Pow(10, float64(rng.Intn(8)))
		}
		if rng.Intn(2) == 0 {
			f = -f
		}
		a := math.Abs(f)
		if math.IsNaN(f) || a < 1e-3 || a >= 1e7 {
			continue
		}
		if got, want := string(AppendValueFloat(nil, f)), slow(f); got != want {
			t.Fatalf("AppendValueFloat(%v) = %s, want %s", f, got, want)
		}
	}
}
