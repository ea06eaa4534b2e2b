package ingest

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// lp renders a Sample for comparisons.
type lp struct {
	Line  int
	Obj   uint32
	TS    int64
	HasTS bool
	Kind  LineValueKind
	V     string // value as text
}

func renderLP(p *LineParser, s *Sample) lp {
	r := lp{int(s.Line), s.Object, s.Timestamp, s.HasTimestamp, s.Kind, ""}
	switch s.Kind {
	case LineFloat:
		r.V = fmt.Sprint(s.Float)
		if f, err := strconv.ParseFloat(string(p.Text(s)), 64); err != nil || f != s.Float {
			r.V = "text " + string(p.Text(s)) + " disagrees"
		}
	case LineInt:
		r.V = fmt.Sprint(s.Int)
	case LineBool:
		r.V = fmt.Sprint(s.Bool)
	case LineString:
		r.V = string(p.Text(s))
	}
	return r
}

func parseLP(body string, prec Precision) ([]lp, error) {
	p := GetLineParser()
	defer PutLineParser(p)
	ss, err := p.Parse([]byte(body), prec, testNow)
	if err != nil {
		return nil, err
	}
	out := make([]lp, len(ss))
	for i := range ss {
		out[i] = renderLP(p, &ss[i])
	}
	// the general parser alone gives the same samples
	slow := &LineParser{noFast: true}
	ss0, err := slow.Parse([]byte(body), prec, testNow)
	if err != nil || len(ss0) != len(ss) {
		return nil, fmt.Errorf("general parser: %d samples, %v", len(ss0), err)
	}
	for i := range ss0 {
		if g := renderLP(slow, &ss0[i]); g != out[i] {
			return nil, fmt.Errorf("general parser: sample %d %+v, fast path %+v", i, g, out[i])
		}
	}
	return out, nil
}

func TestLineProtocol(t *testing.T) {
	f := func(body string, prec Precision, want ...lp) {
		t.Helper()
		got, err := parseLP(body, prec)
		if err != nil {
			t.Errorf("Parse(%q): %v", body, err)
			return
		}
		if (len(got) != 0 || len(want) != 0) && !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q)\n got %+v\nwant %+v", body, got, want)
		}
	}
	const ts = 1767225600123 // 2026-01-01T00:00:00.123Z
	F, I, B, S := LineFloat, LineInt, LineBool, LineString
	ns := PrecisionNs
	// API.md §3.2 shape, every value type
	f("m,object=1 value=21.37 1767225600123456789", ns, lp{1, 1, ts, true, F, "21.37"})
	f("m,object=1 value=5i 1767225600123456789", ns, lp{1, 1, ts, true, I, "5"})
	f("m,object=1 value=-5i", ns, lp{1, 1, testNow, false, I, "-5"})
	f(`m,object=1 value="hello, world" 1767225600123456789`, ns, lp{1, 1, ts, true, S, "hello, world"})
	for _, s := range []string{"t", "T", "true", "True", "TRUE"} {
		f("m,object=1 value="+s, ns, lp{1, 1, testNow, false, B, "true"})
	}
	for _, s := range []string{"f", "F", "false", "False", "FALSE"} {
		f("m,object=1 value="+s, ns, lp{1, 1, testNow, false, B, "false"})
	}
	// numbers
	for in, want := range map[string]string{"1": "1", "-1.5": "-1.5", "1e3": "1000", "1.5E-3": "0.0015", ".5": "0.5", "1.": "1",
		"-0": "-0", "12345678901234567890": "1.2345678901234567e+19", "0.1": "0.1", "9007199254740993": "9.007199254740992e+15",
		"1e308": "1e+308", "4.9e-324": "5e-324"} {
		f("m,object=1 value="+in, ns, lp{1, 1, testNow, false, F, want})
	}
	f("m,object=1 value=9223372036854775807i", ns, lp{1, 1, testNow, false, I, "9223372036854775807"})
	f("m,object=1 value=-9223372036854775808i", ns, lp{1, 1, testNow, false, I, "-9223372036854775808"})
	// precisions, truncated to ms
	f("m,object=1 value=1 1767225600123999999", ns, lp{1, 1, ts, true, F, "1"})
	f("m,object=1 value=1 1767225600123999", PrecisionUs, lp{1, 1, ts, true, F, "1"})
	f("m,object=1 value=1 1767225600123", PrecisionMs, lp{1, 1, ts, true, F, "1"})
	f("m,object=1 value=1 1767225600", PrecisionS, lp{1, 1, 1767225600000, true, F, "1"})
	f("m,object=1 value=1 29453760", PrecisionM, lp{1, 1, 1767225600000, true, F, "1"})
	f("m,object=1 value=1 490896", PrecisionH, lp{1, 1, 1767225600000, true, F, "1"})
	f("m,object=1 value=1 -1", ns, lp{1, 1, -1, true, F, "1"}) // floor, not toward zero
	// other tags and fields ignored; tag order free; escaping
	f(`cpu\,x\ y,host=a\ b,object=42,region=us\=w value=1,other="x \" y",n=2i,b=t 1767225600123000000`, ns, lp{1, 42, ts, true, F, "1"})
	f(`m,a=1,object=7 other=1,value=2`, ns, lp{1, 7, testNow, false, F, "2"})
	f(`m,object=7 value=1,value=2`, ns, lp{1, 7, testNow, false, F, "2"}) // last wins
	f(`m=x,object=7 value=1`, ns, lp{1, 7, testNow, false, F, "1"})       // '=' in a measurement
	f(`m,object=7,tag\,with\,commas=v\ v value=1`, ns, lp{1, 7, testNow, false, F, "1"})
	f(`m,object=7 field\ key=1,value=3`, ns, lp{1, 7, testNow, false, F, "3"})
	f(`m,object=7 value="a\"b\\c\d"`, ns, lp{1, 7, testNow, false, S, `a"b\c\d`})
	f(`m,object=7 value="with,comma and space=eq"`, ns, lp{1, 7, testNow, false, S, "with,comma and space=eq"})
	f(`m,object=7 value=""`, ns, lp{1, 7, testNow, false, S, ""})
	f("m,object=7 value=\"two\nlines\" 1767225600123000000\nm,object=8 value=1", ns,
		lp{1, 7, ts, true, S, "two\nlines"}, lp{3, 8, testNow, false, F, "1"})
	f(`m,object=0007 value=1`, ns, lp{1, 7, testNow, false, F, "1"})
	f(`m,object=4294967295 value=1`, ns, lp{1, 4294967295, testNow, false, F, "1"})
	// whitespace, blank lines, comments, CRLF
	f("  \t m,object=1 value=1\n\n# comment,object=2 value=2\n   # indented comment\r\n\r\nm,object=3 value=3 1767225600123000000  \r\nm,object=4 value=4\r\n", ns,
		lp{1, 1, testNow, false, F, "1"}, lp{6, 3, ts, true, F, "3"}, lp{7, 4, testNow, false, F, "4"})
	f("m,object=1 value=1  1767225600123000000", ns, lp{1, 1, ts, true, F, "1"})
	f("m,object=1  value=1", ns, lp{1, 1, testNow, false, F, "1"})
	f("m,object=1 value=1 ", ns, lp{1, 1, testNow, false, F, "1"})
	f("", ns)
	f("\n\n# only comments\n", ns)
}

func TestLineProtocolErrors(t *testing.T) {
	f := func(body, want string) {
		t.Helper()
		_, err := parseLP(body, PrecisionNs)
		var le *LineError
		if !errors.As(err, &le) {
			t.Errorf("Parse(%q): %v, want a LineError", body, err)
			return
		}
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse(%q): %q, want prefix %q", body, err, want)
		}
	}
	f("m value=1", "line 1: missing object tag")
	f("m,host=a value=1", "line 1: missing object tag")
	f("m,Object=1 value=1", "line 1: missing object tag")
	f("m,object=1", "line 1: missing fields")
	f("m,object=1 ", "line 1: missing field key")
	f("m,object=1 other=1", "line 1: missing value field")
	f("m,object=1 value=", "line 1: missing field value")
	f("m,object=1 value", "line 1: missing field value")
	f("m,object=1 =1", "line 1: missing field key")
	f("m,object=1 value=1,", "line 1: missing field key")
	f("m,object=x value=1", "line 1: invalid object tag")
	f("m,object=-1 value=1", "line 1: invalid object tag")
	f("m,object=4294967296 value=1", "line 1: invalid object tag")
	f("m,object=1.0 value=1", "line 1: invalid object tag")
	f(`m,object=1\ 2 value=1`, "line 1: invalid object tag")
	f("m,object=1,object=2 value=1", "line 1: duplicate object tag")
	f("m,object= value=1", "line 1: missing tag value")
	f("m,object value=1", "line 1: missing tag value")
	f("m,=1,object=1 value=1", "line 1: missing tag key")
	f("m,object=1=2 value=1", "line 1: invalid tag format")
	f(",object=1 value=1", "line 1: missing measurement")
	f(" ,object=1 value=1", "line 1: missing measurement")
	f("m,object=1 value=abc", "line 1: invalid number")
	f("m,object=1 value=tru", "line 1: invalid boolean")
	f("m,object=1 value=yes", "line 1: invalid number")
	f("m,object=1 value=NaN", "line 1: invalid number")
	f("m,object=1 value=Inf", "line 1: invalid number")
	f("m,object=1 value=+1", "line 1: invalid number")
	f("m,object=1 value=1.5i", "line 1: invalid integer")
	f("m,object=1 value=1e3i", "line 1: invalid integer")
	f("m,object=1 value=5u", "line 1: invalid number")
	f("m,object=1 value=1x", "line 1: invalid number")
	f("m,object=1 value=1e", "line 1: invalid number")
	f("m,object=1 value=-", "line 1: invalid number")
	f("m,object=1 value=.", "line 1: invalid number")
	f("m,object=1 value=1..2", "line 1: invalid number")
	f("m,object=1 value=0x10", "line 1: invalid number")
	f("m,object=1 value=9223372036854775808i", "line 1: integer out of range")
	f("m,object=1 value=1e400", "line 1: number out of range")
	f(`m,object=1 value="abc`, "line 1: unterminated string")
	f(`m,object=1 value="abc\"`, "line 1: unterminated string")
	f(`m,object=1 value="a"b`, "line 1: invalid field value after a string")
	f("m,object=1 value=1 abc", "line 1: invalid timestamp")
	f("m,object=1 value=1 1.5", "line 1: invalid timestamp")
	f("m,object=1 value=1 12a", "line 1: invalid timestamp")
	f("m,object=1 value=1 99999999999999999999", "line 1: invalid timestamp")
	f("m,object=1 value=1 1 2", "line 1: unexpected \"2\"")
	f("m,object=1 value=1\rx", "line 1: unexpected")
	f("m,object=1 value=1\nm,object=2 value=x", "line 2: invalid number")
	f("# c\n\nm,object=1 value=1\r\n\r\nbad", "line 5: missing fields")
}

func TestLineProtocolPrecision(t *testing.T) {
	for _, c := range []struct {
		v1   bool
		name string
		want Precision
		ok   bool
	}{
		{true, "", PrecisionNs, true}, {true, "n", PrecisionNs, true}, {true, "ns", PrecisionNs, true},
		{true, "u", PrecisionUs, true}, {true, "us", PrecisionUs, true}, {true, "ms", PrecisionMs, true},
		{true, "s", PrecisionS, true}, {true, "m", PrecisionM, true}, {true, "h", PrecisionH, true},
		{true, "x", 0, false}, {true, "NS", 0, false},
		{false, "", PrecisionNs, true}, {false, "ns", PrecisionNs, true}, {false, "us", PrecisionUs, true},
		{false, "ms", PrecisionMs, true}, {false, "s", PrecisionS, true},
		{false, "n", 0, false}, {false, "u", 0, false}, {false, "m", 0, false}, {false, "h", 0, false},
	} {
		parse := ParsePrecisionV2
		if c.v1 {
			parse = ParsePrecisionV1
		}
		got, err := parse(c.name)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("v1=%v %q: %v, %v", c.v1, c.name, got, err)
		}
	}
	// out of range after scaling
	if _, err := parseLP("m,object=1 value=1 9223372036854775", PrecisionH); err == nil {
		t.Error("hour timestamp overflow accepted")
	}
	if _, err := parseLP("m,object=1 value=1 -9223372036854776", PrecisionS); err == nil {
		t.Error("second timestamp underflow accepted")
	}
}

func TestLineProtocolMaxSamples(t *testing.T) {
	body := buildLineBody(10)
	p := GetLineParser()
	defer PutLineParser(p)
	p.MaxSamples = 10
	if _, err := p.Parse(body, PrecisionNs, testNow); err != nil {
		t.Fatal(err)
	}
	p.MaxSamples = 9
	if _, err := p.Parse(body, PrecisionNs, testNow); !errors.Is(err, ErrTooManyMeasures) {
		t.Fatalf("got %v, want ErrTooManyMeasures", err)
	}
}

// TestLineProtocolCorpus: every body of testdata/lineproto/malformed fails
// with a *LineError naming its line.
func TestLineProtocolCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "lineproto", "malformed", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Errorf("%d malformed line-protocol bodies, want ≥ 50", len(files))
	}
	for _, fn := range files {
		body, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		p := GetLineParser()
		_, err = p.Parse(body, PrecisionNs, testNow)
		PutLineParser(p)
		var le *LineError
		if !errors.As(err, &le) {
			t.Errorf("%s: %v, want a LineError", fn, err)
		}
	}
}

func TestLineProtocolNoAlloc(t *testing.T) {
	body := buildLineBody(5000)
	body = append(body, "m,object=1 value=\"esc\\\"aped\" 1767225600123000000\nm,object=2 value=12345678901234567890\n# c\n"...)
	p := GetLineParser()
	defer PutLineParser(p)
	if _, err := p.Parse(body, PrecisionNs, testNow); err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(20, func() {
		if _, err := p.Parse(body, PrecisionNs, testNow); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per body, want 0", n)
	}
}

// FuzzLineProtocol: never panic; whatever is accepted is well-formed: every
// sample has an object tag value, its value's text re-parses to the same
// value, and rendering the samples back to line protocol parses to the same
// samples.
func FuzzLineProtocol(f *testing.F) {
	f.Add([]byte("m,object=1 value=21.37 1767225600123456789\n"))
	f.Add([]byte("cpu\\,x,host=a\\ b,object=42 value=\"a \\\"q\\\" b\",n=2i 1767225600123000000\r\n# c\n"))
	f.Add([]byte("m,object=7 value=t\nm,object=8 value=-5i\n"))
	f.Add(buildLineBody(3))
	if files, _ := filepath.Glob(filepath.Join("testdata", "lineproto", "malformed", "*.txt")); len(files) > 0 {
		for _, fn := range files {
			if b, err := os.ReadFile(fn); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p := GetLineParser()
		defer PutLineParser(p)
		ss, err := p.Parse(body, PrecisionMs, testNow)
		// the straight-line fast path and the general parser agree exactly
		slow := &LineParser{noFast: true}
		ss0, err0 := slow.Parse(body, PrecisionMs, testNow)
		if fmt.Sprint(err) != fmt.Sprint(err0) || len(ss) != len(ss0) {
			t.Fatalf("%q: fast path %d samples, %v; general %d samples, %v", body, len(ss), err, len(ss0), err0)
		}
		for i := range ss {
			if a, b := renderLP(p, &ss[i]), renderLP(slow, &ss0[i]); a != b || ss[i].Int != ss0[i].Int ||
				string(p.Text(&ss[i])) != string(slow.Text(&ss0[i])) {
				t.Fatalf("%q: sample %d fast %+v, general %+v", body, i, a, b)
			}
		}
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.Line < 1 {
				t.Fatalf("%q: bad error %v", body, err)
			}
			return
		}
		var out []byte
		for i := range ss {
			s := &ss[i]
			out = fmt.Appendf(out, "m,object=%d value=", s.Object)
			switch s.Kind {
			case LineFloat:
				if math.IsInf(s.Float, 0) || math.IsNaN(s.Float) {
					t.Fatalf("%q: non-finite float %v", body, s.Float)
				}
				out = strconv.AppendFloat(out, s.Float, 'g', -1, 64)
			case LineInt:
				out = fmt.Appendf(out, "%di", s.Int)
			case LineBool:
				out = fmt.Appendf(out, "%v", s.Bool)
			case LineString:
				out = append(out, '"')
				out = append(out, strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(string(p.Text(s)))...)
				out = append(out, '"')
			default:
				t.Fatalf("%q: sample without a value kind", body)
			}
			if s.HasTimestamp {
				out = fmt.Appendf(out, " %d", s.Timestamp)
			}
			out = append(out, '\n')
		}
		want := make([]lp, len(ss))
		for i := range ss {
			want[i] = renderLP(p, &ss[i])
			want[i].Line = 0
		}
		p2 := GetLineParser()
		defer PutLineParser(p2)
		ss2, err := p2.Parse(out, PrecisionMs, testNow)
		if err != nil {
			t.Fatalf("%q → %q: %v", body, out, err)
		}
		if len(ss2) != len(ss) {
			t.Fatalf("%q → %q: %d samples, want %d", body, out, len(ss2), len(ss))
		}
		for i := range ss2 {
			g := renderLP(p2, &ss2[i])
			g.Line = 0
			if g != want[i] {
				t.Fatalf("%q → %q: sample %d %+v, want %+v", body, out, i, g, want[i])
			}
		}
	})
}

// buildLineBody builds a line-protocol body of n samples from the standard
// dataset, nanosecond timestamps (the Influx default).
func buildLineBody(n int) []byte {
	var b []byte
	for _, s := range datasetSamples(n) {
		b = fmt.Appendf(b, "env,object=%d value=%s %d000000\n", s.ID, s.Text, s.TS)
	}
	return b
}
