package ingest_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsgate/tsgate/server/servertest"
	"github.com/tsgate/tsgate/tsdb"
)

// world is a node with one user group and helpers to make objects with tokens.
type world struct {
	t     *testing.T
	nd    *servertest.Node
	owner *servertest.Client
	ug    uint32
}

func newWorld(t *testing.T) *world {
	nd := servertest.Start(t)
	owner := nd.CreateUser("owner")
	return &world{t: t, nd: nd, owner: owner, ug: owner.CreateGroup("owners")}
}

// object creates an object of unit and a token for it.
func (w *world) object(unit string) (uint32, string) {
	w.t.Helper()
	oid := w.owner.CreateObject(fmt.Sprintf("o-%s-%d", unit, time.Now().UnixNano()), w.ug, unit)
	_, tok := w.owner.CreateToken(oid)
	return oid, tok
}

func (w *world) post(path, body string) servertest.Resp {
	w.t.Helper()
	return w.nd.Anon().Send("POST", path, "application/json", []byte(body), nil)
}

func (w *world) want(path, body string, code int, exception, contains string) servertest.Resp {
	w.t.Helper()
	r := w.post(path, body)
	if r.Code != code || (exception != "" && r.Exception() != exception) || !strings.Contains(string(r.Body), contains) {
		w.t.Fatalf("POST %s %.200s = %d %s; want %d %s containing %q", path, body, r.Code, r.Body, code, exception, contains)
	}
	return r
}

// stored returns object oid's stored samples as "timestamp=value" strings.
func (w *world) stored(oid uint32) []string {
	w.t.Helper()
	it, err := w.nd.N.DB.Scan(oid, tsdb.MinTimestamp, tsdb.MaxTimestamp)
	if err != nil {
		w.t.Fatal(err)
	}
	defer it.Close()
	var out []string
	for it.Next() {
		v := it.Value()
		txt := v.String()
		if v.Type == tsdb.String {
			txt = v.Str()
		}
		out = append(out, fmt.Sprintf("%d=%s", it.Timestamp(), txt))
	}
	if err := it.Err(); err != nil {
		w.t.Fatal(err)
	}
	return out
}

func m(oid uint32, tok, ts, value string) string {
	tsField := ""
	if ts != "" {
		tsField = fmt.Sprintf(`,"timestamp":%q`, ts)
	}
	return fmt.Sprintf(`{"objectId":%d,"token":%q%s,"value":%s}`, oid, tok, tsField, value)
}

func TestObjectValuesHappyPath(t *testing.T) {
	w := newWorld(t)
	oid, tok := w.object("V")
	// bbchecker's form: objectId as a string, a numeric value, 6 fraction digits, a comment.
	body := fmt.Sprintf(`[{"objectId":"%d","value":12,"token":%q,"timestamp":"2020-10-01T12:34:56.789012","comment":"bbchecker"},%s]`,
		oid, tok, m(oid, tok, "2020-10-01T12:35:00Z", `"12.20"`))
	r := w.want("/objects/values", body, 200, "", "")
	if strings.Contains(string(r.Body), "token") {
		t.Fatalf("response echoes tokens: %s", r.Body)
	}
	var items []map[string]any
	r.JSON(t, &items)
	if len(items) != 2 || items[0]["timestamp"] != "2020-10-01T12:34:56.789Z" || items[0]["value"] != "12.0" ||
		items[0]["comment"] != "bbchecker" || items[0]["unitSymbol"] != "V" || items[0]["unitName"] != "volt" ||
		items[0]["type"] != "float" || items[0]["owner"] != float64(w.ug) || items[1]["value"] != "12.2" || items[1]["comment"] != nil {
		t.Fatalf("augmented response = %s", r.Body)
	}
	if got := w.stored(oid); len(got) != 2 {
		t.Fatalf("stored = %v", got)
	}
	// response=count
	r = w.want("/objects/values?response=count", "["+m(oid, tok, "2020-10-01T13:00:00Z", `"1"`)+"]", 200, "", "")
	if string(r.Body) != `{"accepted":1}` {
		t.Fatalf("count response = %s", r.Body)
	}
	// Measures without timestamp share one "now": two of one object are duplicates.
	w.want("/objects/values", "["+m(oid, tok, "", "1")+","+m(oid, tok, "", "2")+"]", 400, "WrongParamsException", "two or more values with the same timestamp")
	w.want("/objects/values", "["+m(oid, tok, "", "1")+"]", 200, "", "")
	// Deprecated twins.
	r = w.want("/input/measures", m(oid, tok, "2020-10-01T14:00:00Z", `"3"`), 200, "", "")
	if !strings.HasPrefix(string(r.Body), "{") {
		t.Errorf("/input/measures answers %s, want one object", r.Body)
	}
	w.want("/input/measures/bulk", "["+m(oid, tok, "2020-10-01T15:00:00Z", `"4"`)+"]", 200, "", "")
}

func TestObjectValuesErrorsStoreNothing(t *testing.T) {
	w := newWorld(t)
	oid, tok := w.object("V")
	good := m(oid, tok, "2021-01-01T00:00:00Z", `"1"`)
	future := time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	cases := []struct {
		name, body, exc, contains string
		code                      int
	}{
		{"empty array", `[]`, "WrongParamsException", "at least one item", 400},
		{"malformed", `[{"objectId":`, "HttpMessageNotReadableException", "", 400},
		{"not an array", `{"a":1}`, "HttpMessageNotReadableException", "", 400},
		{"validation", `[{"objectId":-1,"token":"1"}]`, "WrongParamsException", "positive", 400},
		{"bad date", "[" + good + "," + m(oid, tok, "10-01-12T01:00", "1") + "]", "HttpMessageNotReadableException", "", 400},
		{"future", "[" + good + "," + m(oid, tok, future, "1") + "]", "WrongParamsException", "date should be in the past", 400},
		{"wrong token", "[" + good + "," + m(oid, strings.Repeat("0", 32), "2021-01-01T00:00:01Z", "1") + "]", "ItemNotFoundException", "does not exist", 404},
		{"unknown object", "[" + good + "," + m(999999, tok, "2021-01-01T00:00:01Z", "1") + "]", "ItemNotFoundException", "does not exist", 404},
		{"bad value", "[" + good + "," + m(oid, tok, "2021-01-01T00:00:01Z", `"true"`) + "]", "WrongParamsException", "does not match the unit V (float)", 400},
		{"null value", "[" + good + "," + m(oid, tok, "2021-01-01T00:00:01Z", `null`) + "]", "WrongParamsException", "", 400},
		{"duplicate in body", "[" + good + "," + good + "]", "WrongParamsException", "two or more values", 400},
	}
	for _, c := range cases {
		w.want("/objects/values", c.body, c.code, c.exc, c.contains)
		if got := w.stored(oid); len(got) != 0 {
			t.Fatalf("%s: a failed request stored %v", c.name, got)
		}
	}
	// simulate answers but stores nothing; nWrites does not move.
	w.want("/objects/values?simulate=true", "["+good+"]", 200, "", `"value":"1.0"`)
	if got := w.stored(oid); len(got) != 0 {
		t.Fatalf("simulate stored %v", got)
	}
	st, _ := w.nd.N.DB.Stats(oid)
	if st.NWrites != 0 {
		t.Fatalf("simulate counted writes: %+v", st)
	}
	// Duplicate against the store, then overwrite.
	w.want("/objects/values", "["+good+"]", 200, "", "")
	w.want("/objects/values", "["+m(oid, tok, "2021-01-02T00:00:00Z", "5")+","+good+"]", 400, "WrongParamsException", "already exists")
	if got := w.stored(oid); len(got) != 1 {
		t.Fatalf("after a rejected duplicate: %v", got)
	}
	w.want("/objects/values?duplicates=overwrite", "["+m(oid, tok, "2021-01-01T00:00:00Z", `"7"`)+","+m(oid, tok, "2021-01-01T00:00:00Z", `"8"`)+"]", 200, "", "")
	if got := w.stored(oid); len(got) != 1 || !strings.HasSuffix(got[0], "=8") {
		t.Fatalf("overwrite (last in body wins): %v", got)
	}
	w.want("/objects/values?duplicates=maybe", "["+good+"]", 400, "WrongParamsException", "duplicates")
}

func TestValueTypeMatrix(t *testing.T) {
	w := newWorld(t)
	objs := map[string][2]string{}
	for _, u := range []string{"V", "h", "Here", "char"} {
		oid, tok := w.object(u)
		objs[u] = [2]string{fmt.Sprint(oid), tok}
	}
	sec := 0
	try := func(unit, value string) (string, bool) {
		t.Helper()
		sec++
		o := objs[unit]
		body := fmt.Sprintf(`[{"objectId":%s,"token":%q,"timestamp":"2022-01-01T00:00:%02dZ","value":%s}]`, o[0], o[1], sec%60, value)
		if sec >= 60 {
			body = strings.Replace(body, "T00:00", fmt.Sprintf("T00:%02d", sec/60), 1)
		}
		r := w.post("/objects/values", body)
		if r.Code != 200 {
			return "", false
		}
		var items []struct{ Value string }
		r.JSON(t, &items)
		return items[0].Value, true
	}
	accept := func(unit, in, want string) {
		t.Helper()
		if got, ok := try(unit, in); !ok || got != want {
			t.Errorf("%s ← %s = %q %v, want %q", unit, in, got, ok, want)
		}
	}
	refuse := func(unit, in string) {
		t.Helper()
		if got, ok := try(unit, in); ok {
			t.Errorf("%s ← %s accepted as %q", unit, in, got)
		}
	}
	accept("V", `"1"`, "1.0")
	accept("V", `"12.2"`, "12.2")
	accept("V", `1e7`, "1.0E7")
	accept("V", `"0.0001"`, "1.0E-4")
	accept("V", `" 6. "`, "6.0")
	refuse("V", `"true"`)
	refuse("V", `"1.2.3"`)
	accept("h", `"1"`, "1")
	accept("h", `"+5"`, "5")
	accept("h", `"007"`, "7")
	accept("h", `"-0"`, "0")
	accept("h", `"9223372036854775807"`, "9223372036854775807")
	refuse("h", `"1.5"`)
	refuse("h", `"1."`)
	refuse("h", `1.4`)
	for in, want := range map[string]string{`"TRUE"`: "true", `"true"`: "true", `"1"`: "true", `"on"`: "true", `true`: "true",
		`"False"`: "false", `"off"`: "false", `"OFF"`: "false", `"0"`: "false", `false`: "false"} {
		accept("Here", in, want)
	}
	for _, in := range []string{`"1."`, `"2"`, `"oui"`, `"xxx"`, `1.45`} {
		refuse("Here", in)
	}
	accept("char", `"False"`, "False")
	accept("char", `"12.0"`, "12.0")
	accept("char", `"{\"json\": \"data\", \"works\": 1}"`, `{"json": "data", "works": 1}`)
	accept("char", `"  "`, "  ")
	accept("char", `true`, "true")
	accept("char", `[1, 2, false]`, "[1,2,false]")
	refuse("char", `""`)
}

func TestOBJ_ALL002_RevokedTokensAndDisabledObjects(t *testing.T) {
	w := newWorld(t)
	oid, tok := w.object("V")
	tid, tok2 := w.owner.CreateToken(oid)
	w.want("/objects/values", "["+m(oid, tok2, "2021-01-01T00:00:00Z", "1")+"]", 200, "", "")
	w.owner.Want("DELETE", fmt.Sprintf("/objects/%d/tokens/%d", oid, tid), "", 200, "")
	w.want("/objects/values", "["+m(oid, tok2, "2021-01-01T00:00:01Z", "1")+"]", 404, "ItemNotFoundException", "")
	w.want("/objects/values", "["+m(oid, tok, "2021-01-01T00:00:02Z", "1")+"]", 200, "", "")
	w.owner.Want("POST", fmt.Sprintf("/objects/%d/disable", oid), "", 200, "")
	w.want("/objects/values", "["+m(oid, tok, "2021-01-01T00:00:03Z", "1")+"]", 404, "ItemNotFoundException", "")
}

func TestConcurrentSameSampleNeverBothSucceed(t *testing.T) {
	w := newWorld(t)
	oid, tok := w.object("V")
	for round := 0; round < 20; round++ {
		body := "[" + m(oid, tok, fmt.Sprintf("2021-03-01T00:00:%02dZ", round), "1") + "]"
		var wg sync.WaitGroup
		codes := make([]int, 4)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = w.post("/objects/values", body).Code
			}()
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			if c == 200 {
				ok++
			} else if c != 400 {
				t.Fatalf("round %d: status %d", round, c)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of 4 concurrent writes of one sample succeeded", round, ok)
		}
	}
}

func TestLineProtocol(t *testing.T) {
	w := newWorld(t)
	f, _ := w.object("V")
	i, _ := w.object("h")
	b, _ := w.object("Here")
	s, _ := w.object("char")
	rw := w.owner.CreateApikey("writable=true")
	ro := w.owner.CreateApikey("writable=false")
	stranger := w.nd.CreateUser("stranger").CreateApikey("writable=true")
	send := func(c *servertest.Client, path, body string, hdr map[string]string) servertest.Resp {
		return c.Send("POST", path, "text/plain", []byte(body), hdr)
	}
	body := fmt.Sprintf("m,object=%d value=1.5 1609459200000\n"+
		"m,object=%d,site=a value=5i 1609459200000\n"+
		"m,object=%d value=12 1609459201000\n"+
		"m,object=%d value=t 1609459200000\n"+
		"m\\ x,object=%d value=\"a \\\"q\\\" b\" 1609459200000\n", f, i, i, b, s)
	if r := send(rw, "/write?precision=ms", body, nil); r.Code != 204 {
		t.Fatalf("write = %d %s", r.Code, r.Body)
	}
	if got := w.stored(i); len(got) != 2 {
		t.Fatalf("int object stored %v", got)
	}
	if got := w.stored(s); len(got) != 1 || !strings.Contains(got[0], `a "q" b`) {
		t.Fatalf("string object stored %v", got)
	}
	// Overwrite by default; reject on request.
	if r := send(rw, "/write?precision=s", fmt.Sprintf("m,object=%d value=2.5 1609459200", f), nil); r.Code != 204 {
		t.Fatalf("overwrite = %d %s", r.Code, r.Body)
	}
	if got := w.stored(f); len(got) != 1 || !strings.HasSuffix(got[0], "=2.5") {
		t.Fatalf("after overwrite %v", got)
	}
	if r := send(rw, "/write?precision=s&duplicates=reject", fmt.Sprintf("m,object=%d value=3.5 1609459200", f), nil); r.Code != 400 {
		t.Fatalf("reject = %d %s", r.Code, r.Body)
	}
	// Errors: parse (400 naming the line) before authorization (403) before types (400).
	cases := []struct {
		c          *servertest.Client
		body, path string
		code       int
		contains   string
	}{
		{rw, fmt.Sprintf("m,object=%d value=1 1609459200000\nbroken line", f), "/write?precision=ms", 400, "line 2"},
		{rw, fmt.Sprintf("m,object=%d value=1 1609459200000\nm,object=999999 value=1 1609459200000", f), "/write?precision=ms", 403, "999999"},
		{stranger, fmt.Sprintf("m,object=%d value=1 1609459200000", f), "/write?precision=ms", 403, ""},
		{ro, fmt.Sprintf("m,object=%d value=1 1609459200000", f), "/write?precision=ms", 403, "read-only"},
		{rw, fmt.Sprintf("m,object=%d value=1.5 1609459200000", i), "/write?precision=ms", 400, "line 1"},
		{rw, fmt.Sprintf("m,object=%d value=\"x\" 1609459200000", f), "/write?precision=ms", 400, "line 1"},
		{rw, fmt.Sprintf("m,object=%d value=1 1009459200000", f), "/write?precision=ms", 400, "2016"},
		{rw, fmt.Sprintf("m,object=%d value=1", f), "/write?precision=fortnights", 400, "precision"},
		{rw, fmt.Sprintf("m,object=%d value=1 1609459200000", f), "/api/v2/write?precision=h", 400, "precision"},
	}
	for _, c := range cases {
		r := send(c.c, c.path, c.body, nil)
		if r.Code != c.code || !strings.Contains(string(r.Body), c.contains) {
			t.Errorf("%q → %d %s; want %d containing %q", c.body, r.Code, r.Body, c.code, c.contains)
		}
	}
	if got := w.stored(f); len(got) != 1 {
		t.Fatalf("failed writes stored something: %v", got)
	}
	// Influx 1.x forms: ?u=&p=, Basic, gzip, no timestamp, v2 path.
	anon := w.nd.Anon()
	if r := send(anon, fmt.Sprintf("/write?db=x&rp=y&u=%d&p=%s", rw.User, rw.Secret), fmt.Sprintf("m,object=%d value=1 1609459300000000000", f), nil); r.Code != 204 {
		t.Errorf("?u=&p= = %d %s", r.Code, r.Body)
	}
	basic := map[string]string{"Authorization": "Basic " + servertest.Basic(fmt.Sprintf("%d:%s", rw.User, rw.Secret))}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	fmt.Fprintf(zw, "  \nm,object=%d value=1\n", f)
	zw.Close()
	if r := anon.Send("POST", "/write", "", gz.Bytes(), map[string]string{"Authorization": basic["Authorization"], "Content-Encoding": "gzip"}); r.Code != 204 {
		t.Errorf("gzip + Basic + no timestamp = %d %s", r.Code, r.Body)
	}
	if r := send(anon, "/api/v2/write?precision=s", fmt.Sprintf("m,object=%d value=1 1609459400", f), map[string]string{"Authorization": "Token " + rw.Secret}); r.Code != 204 {
		t.Errorf("v2 + Token = %d %s", r.Code, r.Body)
	}
	if r := send(anon, "/write", fmt.Sprintf("m,object=%d value=1", f), nil); r.Code != 401 {
		t.Errorf("no credentials = %d", r.Code)
	}
	r := anon.Do("GET", "/ping", "")
	if r.Code != 204 || r.Hdr.Get("X-Influxdb-Version") == "" {
		t.Errorf("/ping = %d %v", r.Code, r.Hdr)
	}
}

func TestBodyLimitsAndGzip(t *testing.T) {
	w := newWorld(t)
	oid, tok := w.object("V")
	var sb strings.Builder
	sb.WriteString("[")
	for k := 0; k < 3; k++ {
		if k > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(m(oid, tok, fmt.Sprintf("2021-01-01T00:00:%02dZ", k), "1"))
	}
	sb.WriteString("]")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(sb.String()))
	zw.Close()
	r := w.nd.Anon().Send("POST", "/objects/values?response=count", "application/json", gz.Bytes(), map[string]string{"Content-Encoding": "gzip"})
	if r.Code != 200 || string(r.Body) != `{"accepted":3}` {
		t.Fatalf("gzip body = %d %s", r.Code, r.Body)
	}
	r = w.nd.Anon().Send("POST", "/objects/values", "application/json", []byte("not gzip"), map[string]string{"Content-Encoding": "gzip"})
	if r.Code != 400 {
		t.Fatalf("bad gzip = %d %s", r.Code, r.Body)
	}
	r = w.nd.Anon().Send("POST", "/objects/values", "application/x-www-form-urlencoded", []byte("a=b"), nil)
	if r.Code != 415 {
		t.Fatalf("form body = %d %s", r.Code, r.Body)
	}
	var e map[string]any
	_ = json.Unmarshal(r.Body, &e)
	if e["exception"] != "HttpMediaTypeNotSupportedException" {
		t.Fatalf("415 body = %s", r.Body)
	}
}

func TestDuplicateInBodyOutOfOrder(t *testing.T) {
	w := newWorld(t)
	a, ta := w.object("V")
	b, tb := w.object("V")
	at := func(s int) string { return fmt.Sprintf("2021-05-01T00:00:%02dZ", s) }
	// Out-of-order but distinct: accepted.
	w.want("/objects/values", "["+m(a, ta, at(5), "1")+","+m(b, tb, at(5), "1")+","+m(a, ta, at(3), "1")+","+m(a, ta, at(4), "1")+"]", 200, "", "")
	// A repeat after going back in time is found.
	w.want("/objects/values", "["+m(a, ta, at(9), "1")+","+m(a, ta, at(7), "1")+","+m(b, tb, at(7), "1")+","+m(a, ta, at(7), "2")+"]", 400, "WrongParamsException", "two or more values")
	// A repeat of the latest timestamp too.
	w.want("/objects/values", "["+m(b, tb, at(20), "1")+","+m(b, tb, at(20), "2")+"]", 400, "WrongParamsException", "two or more values")
}

// TestTenantRetentionRefusesOldValues: a value older than its tenant's retention is refused with
// 400 naming the limit, nothing stored; newer values pass.
func TestTenantRetentionRefusesOldValues(t *testing.T) {
	nd := servertest.Start(t)
	a := nd.Admin
	a.Want("PUT", "/tenants", `{"name":"short","retention":"30d"}`, 200, "")
	var ug struct{ ID uint32 }
	a.Want("PUT", "/userGroups?tenant=short", `{"name":"short-team"}`, 200, "").JSON(t, &ug)
	oid := a.CreateObject("o", ug.ID, "V")
	_, tok := a.CreateToken(oid)
	old := time.Now().Add(-60 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	recent := time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	r := nd.Anon().Send("POST", "/objects/values", "application/json", []byte("["+m(oid, tok, recent, "1")+","+m(oid, tok, old, "1")+"]"), nil)
	if r.Code != 400 || !strings.Contains(string(r.Body), "retention") || !strings.Contains(string(r.Body), "30d") {
		t.Fatalf("old value = %d %s", r.Code, r.Body)
	}
	if st, _ := nd.N.DB.Stats(oid); st.Count != 0 {
		t.Fatalf("the refused batch stored %d samples", st.Count)
	}
	r = nd.Anon().Send("POST", "/objects/values", "application/json", []byte("["+m(oid, tok, recent, "1")+"]"), nil)
	if r.Code != 200 {
		t.Fatalf("recent value = %d %s", r.Code, r.Body)
	}
	key := a.CreateApikey("writable=true")
	r = key.Send("POST", "/write?precision=s", "text/plain", []byte(fmt.Sprintf("m,object=%d value=1 %d", oid, time.Now().Add(-40*24*time.Hour).Unix())), nil)
	if r.Code != 400 || !strings.Contains(string(r.Body), "retention") {
		t.Fatalf("old line = %d %s", r.Code, r.Body)
	}
}
