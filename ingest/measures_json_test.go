package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tsgate/tsgate/api"
)

const tok = "012345678901234567890123456789a1"

var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC).UnixMilli()

func tsOf(s string) int64 {
	v, err := api.ParseDateTime(s)
	if err != nil {
		panic(err)
	}
	return v
}

// got is a comparable rendering of a Measure.
type got struct {
	ID      int64
	Token   string
	TS      string
	HasTS   bool
	Value   string
	IsStr   bool
	Comment *string
}

func render(m *Measure) got {
	g := got{ID: m.ObjectID, Token: string(m.Token), TS: string(api.AppendDateTime(nil, m.Timestamp)), HasTS: m.HasTimestamp,
		Value: string(m.Value), IsStr: m.ValueIsString}
	if m.HasComment {
		c := string(m.Comment)
		g.Comment = &c
	}
	return g
}

func parseOne(t *testing.T, body string) got {
	t.Helper()
	p := GetMeasuresParser()
	defer PutMeasuresParser(p)
	ms, err := p.ParseArray([]byte(body), testNow)
	if err != nil {
		t.Fatalf("ParseArray(%s): %v", body, err)
	}
	if len(ms) != 1 {
		t.Fatalf("ParseArray(%s): %d measures", body, len(ms))
	}
	return render(&ms[0])
}

func TestMeasuresJSON(t *testing.T) {
	now := string(api.AppendDateTime(nil, testNow))
	f := func(body string, want got) {
		t.Helper()
		if g := parseOne(t, body); !reflect.DeepEqual(g, want) {
			t.Errorf("ParseArray(%s)\n got %+v\nwant %+v", body, g, want)
		}
	}
	str := func(s string) *string { return &s }
	// bbdata-v2.md §3.1 example
	f(`[{"objectId": 1, "token": "`+tok+`", "timestamp": "2020-10-01T12:00:00.000Z", "value": "12.5", "comment": "optional"}]`,
		got{1, tok, "2020-10-01T12:00:00.000Z", true, "12.5", true, str("optional")})
	// JMeter body: no timestamp ⇒ now
	f(`[{"objectId": 1, "token": "`+tok+`", "value": "1"}]`, got{1, tok, now, false, "1", true, nil})
	// bbchecker body: string objectId, numeric value, 6 fraction digits
	f(`[{"objectId": "42", "value": 317, "token": "`+tok+`", "timestamp": "2020-10-01T12:34:56.789012", "comment": "bbchecker"}]`,
		got{42, tok, "2020-10-01T12:34:56.789Z", true, "317", false, str("bbchecker")})
	// null timestamp ⇒ now; null comment ⇒ none; unknown keys of any shape ignored
	f(`[{"objectId":1,"token":"`+tok+`","timestamp":null,"value":"x","comment":null,"ack":true,"extra":{"a":[1,{"b":null}]}}]`,
		got{1, tok, now, false, "x", true, nil})
	// value re-serialization (bbdata-v2.md §3.1)
	v := func(raw, want string, isStr bool) {
		t.Helper()
		f(`[{"objectId":1,"token":"`+tok+`","value":`+raw+`}]`, got{1, tok, now, false, want, isStr, nil})
	}
	v(`12`, `12`, false)
	v(`1.5`, `1.5`, false)
	v(`-0.25e+3`, `-0.25e+3`, false) // numbers keep their literal text
	v(`true`, `true`, false)
	v(`false`, `false`, false)
	v(`[1, 2, false]`, `[1,2,false]`, false)
	v(`{"a": 1}`, `{"a":1}`, false)
	v(` { "a" : [ 1 , { } , [ ] ] , "b" : "c d" } `, `{"a":[1,{},[]],"b":"c d"}`, false)
	v(`{"json": "data", "works": 1}`, `{"json":"data","works":1}`, false)
	v(`["\u0041\/\"\\\n\t\u0001\u00e9\ud83d\ude00"]`, "[\"A/\\\"\\\\\\n\\t\\u0001é😀\"]", false)
	v(`"  "`, `  `, true)
	v(`"{\"json\": \"data\", \"works\": 1}"`, `{"json": "data", "works": 1}`, true)
	v(`"caf\u00e9 \ud83d\ude00"`, "café 😀", true)
	v(`"\ud800x"`, "\uFFFDx", true) // lone surrogate
	v(`"é😀"`, "é😀", true)
	v(`"TRUE"`, `TRUE`, true)
	// objectId coercions
	id := func(raw string, want int64) {
		t.Helper()
		f(`[{"objectId":`+raw+`,"token":"`+tok+`","value":"1"}]`, got{want, tok, now, false, "1", true, nil})
	}
	id(`0`, 0)
	id(`"7"`, 7)
	id(`" 7 "`, 7)
	id(`"+7"`, 7)
	id(`9223372036854775807`, 9223372036854775807)
	id(`4294967296`, 4294967296)
	// token given with escapes
	f(`[{"objectId":1,"token":"0123456789012345678901234567\u00389a1","value":"1"}]`, got{1, "01234567890123456789012345678" + "9a1", now, false, "1", true, nil})
	// duplicate keys: the last wins (Jackson)
	f(`[{"objectId":1,"objectId":2,"token":"x","token":"`+tok+`","value":"1","value":"2","timestamp":"2020-01-01","timestamp":null}]`,
		got{2, tok, now, false, "2", true, nil})
	// a year-like JSON number timestamp is its text, an ISO year (bbdata-v2.md §0.2)
	f(`[{"objectId":1,"token":"`+tok+`","value":"1","timestamp":2020}]`, got{1, tok, "2020-01-01T00:00:00.000Z", true, "1", true, nil})
	// BOM and surrounding whitespace
	f("\xEF\xBB\xBF \n[ {\"objectId\":1,\"token\":\""+tok+"\",\"value\":\"1\"} ]\r\n", got{1, tok, now, false, "1", true, nil})
	// a token of 32 chars in 33 bytes is valid
	f(`[{"objectId":1,"token":"`+tok[:31]+`é","value":"1"}]`, got{1, tok[:31] + "é", now, false, "1", true, nil})
	// comment exactly 1024 UTF-16 units (512 surrogate pairs)
	long := strings.Repeat("😀", 512)
	f(`[{"objectId":1,"token":"`+tok+`","value":"1","comment":"`+long+`"}]`, got{1, tok, now, false, "1", true, str(long)})
}

func TestMeasuresJSONMany(t *testing.T) {
	body := `[{"objectId":1,"token":"` + tok + `","value":"1","timestamp":"2020-01-01T00:00:00.000Z"},
	{"objectId":2,"token":"` + tok + `","value":{"a":"\n"}},
	{"objectId":"3","token":"` + tok + `","value":"esc\"aped"}]`
	p := GetMeasuresParser()
	defer PutMeasuresParser(p)
	for round := 0; round < 3; round++ { // the parser is reusable
		ms, err := p.ParseArray([]byte(body), testNow)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 3 || ms[0].ObjectID != 1 || ms[1].ObjectID != 2 || ms[2].ObjectID != 3 ||
			string(ms[1].Value) != `{"a":"\n"}` || string(ms[2].Value) != `esc"aped` || ms[0].Timestamp != tsOf("2020-01-01T00:00:00.000Z") {
			t.Fatalf("round %d: %+v", round, ms)
		}
	}
}

func TestMeasuresJSONObject(t *testing.T) {
	p := GetMeasuresParser()
	defer PutMeasuresParser(p)
	m, err := p.ParseObject([]byte(`{"objectId": 5, "token": "`+tok+`", "value": true}`), testNow)
	if err != nil || m.ObjectID != 5 || string(m.Value) != "true" || m.HasTimestamp {
		t.Fatalf("ParseObject: %+v, %v", m, err)
	}
	_, err = p.ParseObject([]byte(`{"objectId": -5, "token": "1"}`), testNow)
	var ve *ValidationError
	if !errors.As(err, &ve) || !reflect.DeepEqual(ve.Details(), map[string]string{
		"objectId": "objectId must be positive.", "token": "wrong size: should be 32 chars long.", "value": "must not be null"}) {
		t.Fatalf("ParseObject validation: %v", err)
	}
	for _, body := range []string{`[{"objectId": 5, "token": "` + tok + `", "value": 1}]`, ``, `{} {}`, `"x"`} {
		var se *SyntaxError
		if _, err := p.ParseObject([]byte(body), testNow); !errors.As(err, &se) {
			t.Errorf("ParseObject(%s): %v, want a SyntaxError", body, err)
		}
	}
}

func TestMeasuresJSONValidation(t *testing.T) {
	f := func(body string, want map[string]string) {
		t.Helper()
		p := GetMeasuresParser()
		defer PutMeasuresParser(p)
		_, err := p.ParseArray([]byte(body), testNow)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("ParseArray(%s): %v, want a ValidationError", body, err)
			return
		}
		if got := ve.Details(); !reflect.DeepEqual(got, want) {
			t.Errorf("ParseArray(%s)\n got %v\nwant %v", body, got, want)
		}
	}
	// bbdata-v2.md §3.2 step 2 example
	f(`[{"objectId": -1, "token": "1"}]`, map[string]string{
		"_values[0].objectId": "objectId must be positive.",
		"_values[0].token":    "wrong size: should be 32 chars long.",
		"_values[0].value":    "must not be null",
	})
	f(`[]`, map[string]string{"_values": "array body must contain at least one item."})
	f(` [ ] `, map[string]string{"_values": "array body must contain at least one item."})
	f(`[{}]`, map[string]string{"_values[0].objectId": "must not be null", "_values[0].token": "must not be null", "_values[0].value": "must not be null"})
	// all elements are validated, not just the first bad one
	f(`[{"objectId":1,"token":"`+tok+`","value":"1"},{"objectId":null,"token":null,"value":null},{"objectId":"","token":"`+tok+`","value":""}]`,
		map[string]string{
			"_values[1].objectId": "must not be null", "_values[1].token": "must not be null", "_values[1].value": "must not be null",
			"_values[2].objectId": "must not be null", "_values[2].value": "must not be empty",
		})
	f(`[{"objectId":"null","token":123,"value":"1"}]`, map[string]string{
		"_values[0].objectId": "must not be null", "_values[0].token": "wrong size: should be 32 chars long."})
	f(`[{"objectId":1,"token":"`+tok+`x","value":"1"}]`, map[string]string{"_values[0].token": "wrong size: should be 32 chars long."})
	f(`[{"objectId":1,"token":"`+tok+`","value":"1","comment":"`+strings.Repeat("x", 1025)+`"}]`,
		map[string]string{"_values[0].comment": "too long. Maximum set to 1024."})
	f(`[{"objectId":1,"token":"`+tok+`","value":"1","comment":"`+strings.Repeat("😀", 512)+`x"}]`,
		map[string]string{"_values[0].comment": "too long. Maximum set to 1024."})
}

func TestMeasuresJSONSyntax(t *testing.T) {
	f := func(body string) {
		t.Helper()
		p := GetMeasuresParser()
		defer PutMeasuresParser(p)
		_, err := p.ParseArray([]byte(body), testNow)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseArray(%q): %v, want a SyntaxError", body, err)
		}
	}
	m := func(fields string) string { return `[{"objectId":1,"token":"` + tok + `","value":"1",` + fields + `}]` }
	// bad timestamps (bbdata-v2.md §3.1: "", "null", "10-01-12T01:00" ⇒ 400 in step 1)
	f(m(`"timestamp":""`))
	f(m(`"timestamp":"null"`))
	f(m(`"timestamp":"10-01-12T01:00"`))
	f(m(`"timestamp":"2020-10-01 12:00:00"`))
	f(m(`"timestamp":1601546400000`))
	f(m(`"timestamp":true`))
	f(m(`"timestamp":[]`))
	f(m(`"timestamp":{}`))
	f(m(`"timestamp":"2015-12-31T23:59:59.999Z"`))
	// wrong JSON types
	f(m(`"objectId":1.5`))
	f(m(`"objectId":1e2`))
	f(m(`"objectId":true`))
	f(m(`"objectId":[1]`))
	f(m(`"objectId":{}`))
	f(m(`"objectId":"abc"`))
	f(m(`"objectId":"1.0"`))
	f(m(`"objectId":9223372036854775808`))
	f(m(`"token":[]`))
	f(m(`"token":{}`))
	f(m(`"comment":["x"]`))
	// body shape
	f(``)
	f(`   `)
	f(`{"objectId":1,"token":"` + tok + `","value":"1"}`)
	f(`[1]`)
	f(`[null]`)
	f(`["x"]`)
	f(`[[]]`)
	f(`null`)
	f(m(``) + `x`)
	f(m(``) + `[]`)
}

// TestMeasuresJSONCorpus checks every body of testdata/measures/malformed
// (≥ 50, each a *SyntaxError) and of testdata/measures/invalid (each a
// *ValidationError).
func TestMeasuresJSONCorpus(t *testing.T) {
	for dir, want := range map[string]string{"malformed": "syntax", "invalid": "validation"} {
		files, err := filepath.Glob(filepath.Join("testdata", "measures", dir, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		if dir == "malformed" && len(files) < 50 {
			t.Errorf("%d malformed bodies, want ≥ 50", len(files))
		}
		for _, fn := range files {
			body, err := os.ReadFile(fn)
			if err != nil {
				t.Fatal(err)
			}
			p := GetMeasuresParser()
			_, err = p.ParseArray(body, testNow)
			PutMeasuresParser(p)
			var se *SyntaxError
			var ve *ValidationError
			switch {
			case want == "syntax" && !errors.As(err, &se):
				t.Errorf("%s: %v, want a SyntaxError", fn, err)
			case want == "validation" && !errors.As(err, &ve):
				t.Errorf("%s: %v, want a ValidationError", fn, err)
			}
		}
	}
}

func TestMeasuresJSONMaxMeasures(t *testing.T) {
	body := buildJSONBody(10)
	p := GetMeasuresParser()
	defer PutMeasuresParser(p)
	p.MaxMeasures = 10
	if _, err := p.ParseArray(body, testNow); err != nil {
		t.Fatal(err)
	}
	p.MaxMeasures = 9
	if _, err := p.ParseArray(body, testNow); !errors.Is(err, ErrTooManyMeasures) {
		t.Fatalf("got %v, want ErrTooManyMeasures", err)
	}
}

func TestMeasuresJSONNoAlloc(t *testing.T) {
	body := buildJSONBody(5000)
	// with escapes and compacted values too
	var esc bytes.Buffer
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&esc, `,{"objectId":%d,"token":"0123456789012345678901234567\u00389a1","value":[1, {"a": "b"}],"comment":"\u00e9"}`, i)
	}
	body2 := append(append([]byte(nil), body[:len(body)-1]...), esc.Bytes()...)
	body2 = append(body2, ']')
	p := GetMeasuresParser()
	defer PutMeasuresParser(p)
	for _, b := range [][]byte{body, body2} {
		if _, err := p.ParseArray(b, testNow); err != nil { // warm the buffers
			t.Fatal(err)
		}
		n := testing.AllocsPerRun(20, func() {
			if _, err := p.ParseArray(b, testNow); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%v allocations per body of %d bytes, want 0", n, len(b))
		}
	}
}

// FuzzMeasuresJSON: never panic; accept only valid JSON (differential
// against encoding/json); agree with encoding/json on every accepted field.
func FuzzMeasuresJSON(f *testing.F) {
	f.Add([]byte(`[{"objectId": 1, "token": "` + tok + `", "timestamp": "2020-10-01T12:00:00.000Z", "value": "12.5", "comment": "c"}]`))
	f.Add([]byte(`[{"objectId": "42", "value": [1, {"a": "\u00e9\n"}], "token": "x"}]`))
	f.Add([]byte(`[{"objectId": -1, "token": "1"}]`))
	f.Add([]byte(`[]`))
	f.Add(buildJSONBody(3))
	if files, _ := filepath.Glob(filepath.Join("testdata", "measures", "*", "*.json")); len(files) > 0 {
		for _, fn := range files {
			if b, err := os.ReadFile(fn); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p := GetMeasuresParser()
		defer PutMeasuresParser(p)
		ms, err := p.ParseArray(body, testNow)
		var se *SyntaxError
		if errors.As(err, &se) {
			return
		}
		plain := bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF"))
		if !json.Valid(plain) {
			t.Fatalf("accepted invalid JSON %q (err %v)", body, err)
		}
		var raw []map[string]json.RawMessage
		if err := json.Unmarshal(plain, &raw); err != nil {
			t.Fatalf("accepted %q that encoding/json cannot read as an array of objects: %v", body, err)
		}
		if err != nil {
			return // validation error: nothing more to compare
		}
		if len(ms) != len(raw) {
			t.Fatalf("%q: %d measures, encoding/json %d", body, len(ms), len(raw))
		}
		for i, r := range raw {
			m := &ms[i]
			if v, ok := r["value"]; ok {
				var want, gotv any
				if err := json.Unmarshal(v, &want); err != nil {
					t.Fatal(err)
				}
				if s, isStr := want.(string); isStr {
					if !m.ValueIsString || s != string(m.Value) {
						t.Fatalf("%q: value %q, encoding/json %q", body, m.Value, s)
					}
				} else if err := json.Unmarshal(m.Value, &gotv); err != nil || !reflect.DeepEqual(gotv, want) {
					t.Fatalf("%q: value %s (%v), encoding/json %v", body, m.Value, err, want)
				}
			}
			if v, ok := r["token"]; ok && v[0] == '"' {
				var s string
				json.Unmarshal(v, &s)
				if s != string(m.Token) {
					t.Fatalf("%q: token %q, encoding/json %q", body, m.Token, s)
				}
			}
		}
	})
}

// buildJSONBody builds a /objects/values body of n measures from the standard
// dataset (DESIGN.md §8): the first n samples, time-major.
func buildJSONBody(n int) []byte {
	var b []byte
	b = append(b, '[')
	for i, s := range datasetSamples(n) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"objectId":`...)
		b = fmt.Appendf(b, "%d", s.ID)
		b = append(b, `,"token":"`...)
		b = fmt.Appendf(b, "%032x", uint64(s.ID)*0x9E3779B97F4A7C15)
		b = append(b, `","timestamp":"`...)
		b = api.AppendDateTime(b, s.TS)
		b = append(b, `","value":"`...)
		b = append(b, s.Text...)
		b = append(b, `"}`...)
	}
	return append(b, ']')
}

func TestStrSpecial(t *testing.T) {
	// the lowest flagged byte is exactly the first special one
	rng := uint64(time.Now().UnixNano())
	t.Logf("seed %d", rng)
	alphabet := []byte{'a', '"', '\\', 0x1f, 0x20, 0x7f, 0x80, 0xff, 0x00, 0x21, 0x23, 0x5b, 0x5d}
	for n := 0; n < 200000; n++ {
		var b [8]byte
		for k := range b {
			rng = rng*6364136223846793005 + 1442695040888963407
			if rng>>60 < 8 {
				b[k] = alphabet[(rng>>32)%uint64(len(alphabet))]
			} else {
				b[k] = byte(rng >> 40)
			}
		}
		first := 8
		for k, c := range b {
			if !strPlain[c] {
				first = k
				break
			}
		}
		m := strSpecial(binary.LittleEndian.Uint64(b[:]))
		got := 8
		if m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if got != first {
			t.Fatalf("%q: first special at %d, strSpecial says %d", b, first, got)
		}
	}
}

// TestMeasuresJSONRandomValid: random well-typed bodies written by
// encoding/json (random strings with escapes and non-ASCII, nested values,
// indentation) are accepted and read back field by field.
func TestMeasuresJSONRandomValid(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	alphabet := []rune("ab \"\\/\n\t\x01é€😀<>&\u2028")
	rstr := func(n int) string {
		r := make([]rune, n)
		for i := range r {
			r[i] = alphabet[rng.Intn(len(alphabet))]
		}
		return string(r)
	}
	var rval func(depth int) any
	rval = func(depth int) any {
		switch k := rng.Intn(7); {
		case k == 0:
			return rng.Intn(1000) - 500
		case k == 1:
			return rng.Float64() * 1e6
		case k == 2:
			return rng.Intn(2) == 0
		case k == 3 || depth > 2:
			return rstr(rng.Intn(6))
		case k == 4:
			return nil
		case k == 5:
			a := make([]any, rng.Intn(4))
			for i := range a {
				a[i] = rval(depth + 1)
			}
			return a
		default:
			m := map[string]any{}
			for i := rng.Intn(4); i > 0; i-- {
				m[rstr(rng.Intn(4))] = rval(depth + 1)
			}
			return m
		}
	}
	p := GetMeasuresParser()
	defer PutMeasuresParser(p)
	for n := 0; n < 2000; n++ {
		type in struct {
			ObjectID  any     `json:"objectId"`
			Token     string  `json:"token"`
			Timestamp *string `json:"timestamp,omitempty"`
			Value     any     `json:"value"`
			Comment   *string `json:"comment,omitempty"`
			Extra     any     `json:"extra,omitempty"`
		}
		ms := make([]in, 1+rng.Intn(4))
		for i := range ms {
			id := rng.Int63n(1 << 40)
			ms[i].ObjectID = id
			if rng.Intn(2) == 0 {
				ms[i].ObjectID = strconv.FormatInt(id, 10)
			}
			ms[i].Token = strings.Map(func(r rune) rune { // 32 UTF-16 units: no astral runes
				if r > 0xFFFF {
					return 'x'
				}
				return r
			}, rstr(32))
			if rng.Intn(2) == 0 {
				ts := string(api.AppendDateTime(nil, api.MinDateTimeMillis+rng.Int63n(1e12)))
				ms[i].Timestamp = &ts
			}
			v := rval(0)
			for v == nil || v == "" {
				v = rval(0)
			}
			ms[i].Value = v
			if rng.Intn(2) == 0 {
				c := rstr(rng.Intn(20))
				ms[i].Comment = &c
			}
			if rng.Intn(3) == 0 {
				ms[i].Extra = rval(0)
			}
		}
		var body []byte
		var err error
		if rng.Intn(2) == 0 {
			body, err = json.MarshalIndent(ms, " ", "\t")
		} else {
			body, err = json.Marshal(ms)
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.ParseArray(body, testNow)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		for i, m := range ms {
			g := &got[i]
			wantVal, _ := json.Marshal(m.Value)
			var a, b any
			json.Unmarshal(wantVal, &a)
			if s, ok := m.Value.(string); ok {
				if string(g.Value) != s {
					t.Fatalf("%s: value %q, want %q", body, g.Value, s)
				}
			} else if err := json.Unmarshal(g.Value, &b); err != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("%s: value %s, want %s", body, g.Value, wantVal)
			}
			if string(g.Token) != m.Token || fmt.Sprint(g.ObjectID) != fmt.Sprint(m.ObjectID) {
				t.Fatalf("%s: token %q id %d", body, g.Token, g.ObjectID)
			}
			if (m.Comment != nil) != g.HasComment || (m.Comment != nil && *m.Comment != string(g.Comment)) {
				t.Fatalf("%s: comment %q", body, g.Comment)
			}
			if m.Timestamp != nil && (!g.HasTimestamp || string(api.AppendDateTime(nil, g.Timestamp)) != *m.Timestamp) {
				t.Fatalf("%s: timestamp %d", body, g.Timestamp)
			}
		}
	}
}
