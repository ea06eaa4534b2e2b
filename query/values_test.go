package query_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/server/servertest"
	"github.com/tsgate/tsgate/tsdb"
)

// ms parses a BBData date-time or fails the test.
func ms(t testing.TB, s string) int64 {
	t.Helper()
	v, err := api.ParseDateTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fixture is the original's test world of bbdata-v2.md §5.1 reduced to what the value
// endpoints need: a regular user owning object 1 (V, float) with the §4.4 raw values, an int,
// a bool and a string object, and an outsider.
type fixture struct {
	nd                 *servertest.Node
	owner, outsider    *servertest.Client
	group              uint32
	volts, hours, here uint32
	text               uint32
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	nd := servertest.Start(t)
	f := &fixture{nd: nd}
	f.owner = nd.CreateUser("regular_user")
	f.outsider = nd.CreateUser("no_rights_user")
	f.group = f.owner.CreateGroup("regular")
	f.volts = f.owner.CreateObject("volts box 1", f.group, "V")
	f.hours = f.owner.CreateObject("tmp box 1", f.group, "h")
	f.here = f.owner.CreateObject("tmp box 2", f.group, "Here")
	f.text = f.owner.CreateObject("some free text", f.group, "char")
	var b tsdb.Batch
	day := "2019-01-01T"
	for i, v := range []float64{227, 390, 481, 286, 254, 456, 15, 370} {
		ts := ms(t, day+"09:00") + int64(i)*15*60_000
		b.AddFloat(f.volts, ts, v)
		b.AddInt(f.hours, ts, int64(v))
		b.AddBool(f.here, ts, i%2 == 0)
		b.AddString(f.text, ts, []byte(fmt.Sprintf(`say "%d"`, i)))
	}
	if err := nd.N.Rollups.Append(context.Background(), &b, tsdb.Reject); err != nil {
		t.Fatal(err)
	}
	return f
}

type rawJSON struct {
	ObjectID  uint32  `json:"objectId"`
	Timestamp string  `json:"timestamp"`
	Value     string  `json:"value"`
	Comment   *string `json:"comment"`
}

func TestValuesFixture(t *testing.T) {
	f := newFixture(t)
	c := f.owner
	r := c.Want("GET", fmt.Sprintf("/objects/%d/values?from=2019-01-01T09:00&to=2019-01-01T10:00", f.volts), "", 200, "")
	if ct := r.Hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	var rows []rawJSON
	r.JSON(t, &rows)
	if len(rows) != 5 || rows[0].Timestamp != "2019-01-01T09:00:00.000Z" || rows[4].Timestamp != "2019-01-01T10:00:00.000Z" ||
		rows[0].Value != "227.0" || rows[0].Comment != nil || rows[0].ObjectID != f.volts {
		t.Fatalf("rows %s", r.Body)
	}
	// CSV by every variant of §4.1
	for _, hdr := range []map[string]string{
		{"Accept": "text/csv"}, {"Accept": "text/csv; charset=utf-8"}, {"Accept": "text/plain"},
		{"Accept": "application/csv"}, {"Content-Type": "text/plain"},
		{"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
	} {
		r := c.Send("GET", fmt.Sprintf("/objects/%d/values?from=2019-01-01T09:00&to=2019-01-01T09:15", f.volts), "", nil, hdr)
		want := fmt.Sprintf("objectId,timestamp,value,comment\n%d,2019-01-01T09:00:00.000Z,227.0,null\n%d,2019-01-01T09:15:00.000Z,390.0,null\n", f.volts, f.volts)
		if r.Code != 200 || string(r.Body) != want || !strings.HasPrefix(r.Hdr.Get("Content-Type"), "text/csv") {
			t.Fatalf("%v: %d %q %q", hdr, r.Code, r.Body, r.Hdr.Get("Content-Type"))
		}
	}
	for _, accept := range []string{"application/json", "*/*", "application/*"} {
		r := c.Send("GET", fmt.Sprintf("/objects/%d/values?from=2019-01-01T09:00&to=2019-01-01T09:00", f.volts), "", nil, map[string]string{"Accept": accept})
		if r.Code != 200 || !strings.HasPrefix(string(r.Body), "[{") {
			t.Fatalf("%s: %d %s", accept, r.Code, r.Body)
		}
	}
	r = c.Send("GET", fmt.Sprintf("/objects/%d/values?from=2019-01-01T09:00", f.volts), "", nil, map[string]string{"Accept": "application/xml"})
	if r.Code != 406 || r.Exception() != api.ExcNotAcceptable {
		t.Fatalf("xml: %d %s", r.Code, r.Body)
	}
	// types
	for _, tc := range []struct {
		id   uint32
		want string
	}{
		{f.hours, `"value":"227"`}, {f.here, `"value":"true"`}, {f.text, `"value":"say \"0\""`},
	} {
		r := c.Want("GET", fmt.Sprintf("/objects/%d/values?from=2019-01-01T09:00&to=2019-01-01T09:00", tc.id), "", 200, "")
		if !strings.Contains(string(r.Body), tc.want) {
			t.Fatalf("object %d: %s, want %s", tc.id, r.Body, tc.want)
		}
	}
	// bounds and errors
	path := fmt.Sprintf("/objects/%d/values", f.volts)
	if r := c.Want("GET", path+"?from=2019-01-01T10:00&to=2019-01-01T09:00", "", 200, ""); string(r.Body) != "[]" {
		t.Fatalf("from > to: %s", r.Body)
	}
	if r := c.Want("GET", path+"?from=2020-01-01", "", 200, ""); string(r.Body) != "[]" {
		t.Fatalf("empty: %s", r.Body)
	}
	c.Want("GET", path, "", 400, api.ExcMissingParam)
	c.Want("GET", path+"?from=", "", 400, api.ExcMissingParam)
	c.Want("GET", path+"?from=yesterday", "", 400, api.ExcTypeMismatch)
	c.Want("GET", path+"?from=2019-01-01&to=2019-13-01", "", 400, api.ExcTypeMismatch)
	c.Want("GET", path+"?from=1999-01-01", "", 400, api.ExcTypeMismatch)
	c.Want("GET", "/objects/abc/values?from=2019-01-01", "", 400, api.ExcTypeMismatch)
	c.Want("GET", "/objects/9999/values?from=2019-01-01", "", 404, api.ExcItemNotFound)
	f.outsider.Want("GET", path+"?from=2019-01-01", "", 404, api.ExcItemNotFound)
	f.nd.Anon().Want("GET", path+"?from=2019-01-01", "", 401, "")
	// 6-digit fraction truncated identically (bbchecker)
	r = c.Want("GET", path+"?from=2019-01-01T09:15:00.000999&to=2019-01-01T09:15:00.000123", "", 200, "")
	r.JSON(t, &rows)
	if len(rows) != 1 {
		t.Fatalf("bbchecker: %s", r.Body)
	}
}

func TestValuesKeys(t *testing.T) {
	f := newFixture(t)
	path := fmt.Sprintf("/objects/%d/values?from=2019-01-01T09:00&to=2019-01-01T09:00", f.volts)
	ro := f.owner.CreateApikey("writable=false")
	ro.Want("GET", path, "", 200, "")
	ro.Want("GET", fmt.Sprintf("/objects/%d/stats", f.volts), "", 200, "")
	expired := f.owner.CreateApikey("writable=false&expirationDate=2017-01-01T00:00")
	expired.Want("GET", path, "", 403, api.ExcBadApikey)
	noScope := f.owner.CreateApikey("writable=false&scopes=read:meta")
	noScope.Want("GET", path, "", 403, api.ExcForbidden)
	narrowed := f.owner.CreateApikey(fmt.Sprintf("writable=false&scopes=read:data:object/%d", f.hours))
	narrowed.Want("GET", path, "", 404, api.ExcItemNotFound)
	narrowed.Want("GET", fmt.Sprintf("/objects/%d/values?from=2019-01-01", f.hours), "", 200, "")
}

func TestLatest(t *testing.T) {
	f := newFixture(t)
	c := f.owner
	var rows []rawJSON
	c.Want("GET", fmt.Sprintf("/objects/%d/values/latest?before=2019-01-01T10:00", f.volts), "", 200, "").JSON(t, &rows)
	if len(rows) != 1 || rows[0].Timestamp != "2019-01-01T10:00:00.000Z" || rows[0].Value != "254.0" {
		t.Fatalf("%+v", rows)
	}
	c.Want("GET", fmt.Sprintf("/objects/%d/values/latest?before=2019-01-01T10:07", f.volts), "", 200, "").JSON(t, &rows)
	if len(rows) != 1 || rows[0].Timestamp != "2019-01-01T10:00:00.000Z" {
		t.Fatalf("%+v", rows)
	}
	c.Want("GET", fmt.Sprintf("/objects/%d/values/latest", f.volts), "", 200, "").JSON(t, &rows)
	if len(rows) != 1 || rows[0].Timestamp != "2019-01-01T10:45:00.000Z" {
		t.Fatalf("%+v", rows)
	}
	if r := c.Want("GET", fmt.Sprintf("/objects/%d/values/latest?before=2018-01-01", f.volts), "", 200, ""); string(r.Body) != "[]" {
		t.Fatalf("%s", r.Body)
	}
	r := c.Send("GET", fmt.Sprintf("/objects/%d/values/latest?before=2019-01-01T09:00", f.volts), "", nil, map[string]string{"Accept": "text/csv"})
	if want := fmt.Sprintf("objectId,timestamp,value,comment\n%d,2019-01-01T09:00:00.000Z,227.0,null\n", f.volts); string(r.Body) != want {
		t.Fatalf("%q", r.Body)
	}
	c.Want("GET", fmt.Sprintf("/objects/%d/values/latest?before=nope", f.volts), "", 400, api.ExcTypeMismatch)
	f.outsider.Want("GET", fmt.Sprintf("/objects/%d/values/latest", f.volts), "", 404, api.ExcItemNotFound)
}

type aggJSON map[string]json.RawMessage

func TestAggregatedFixture(t *testing.T) {
	f := newFixture(t)
	c := f.owner
	r := c.Want("GET", fmt.Sprintf("/objects/%d/values/aggregated?from=2019-01-01T09:00&to=2019-01-01T10:00&granularity=hours", f.volts), "", 200, "")
	want := fmt.Sprintf(`[{"objectId":%[1]d,"minutes":60,"timestamp":"2019-01-01T09:00:00.000Z","last":286.0,"lastTimestamp":"2019-01-01T09:45:00.000Z","min":227.0,"max":481.0,"sum":1384.0,"mean":346.0,"count":4,"std":97.36786},`+
		`{"objectId":%[1]d,"minutes":60,"timestamp":"2019-01-01T10:00:00.000Z","last":370.0,"lastTimestamp":"2019-01-01T10:45:00.000Z","min":15.0,"max":456.0,"sum":1095.0,"mean":273.75,"count":4,"std":165.69607}]`, f.volts)
	if string(r.Body) != want {
		t.Fatalf("got  %s\nwant %s", r.Body, want)
	}
	var rows []aggJSON
	c.Want("GET", fmt.Sprintf("/objects/%d/values/aggregated?from=2019-01-01T09:00&to=2019-01-01T10:00&granularity=%%20Quarters%%20", f.volts), "", 200, "").JSON(t, &rows)
	if len(rows) != 5 || string(rows[0]["count"]) != "1" || string(rows[0]["std"]) != "0.0" || string(rows[0]["minutes"]) != "15" {
		t.Fatalf("quarters: %v", rows)
	}
	c.Want("GET", fmt.Sprintf("/objects/%d/values/aggregated?from=2019-01-01&to=2019-01-02&granularity=days", f.volts), "", 200, "").JSON(t, &rows)
	if len(rows) != 1 || string(rows[0]["count"]) != "8" || string(rows[0]["minutes"]) != "1440" || string(rows[0]["sum"]) != "2479.0" {
		t.Fatalf("days: %v", rows)
	}
	// default granularity hours; int object prints integers
	r = c.Want("GET", fmt.Sprintf("/objects/%d/values/aggregated?from=2019-01-01T09:00&to=2019-01-01T09:00", f.hours), "", 200, "")
	if !strings.Contains(string(r.Body), `"last":286,`) || !strings.Contains(string(r.Body), `"sum":1384,`) || !strings.Contains(string(r.Body), `"mean":346.0,`) {
		t.Fatalf("int: %s", r.Body)
	}
	// CSV
	r = c.Send("GET", fmt.Sprintf("/objects/%d/values/aggregated?from=2019-01-01T10:00&to=2019-01-01T10:00", f.volts), "", nil, map[string]string{"Accept": "text/csv"})
	wantCSV := fmt.Sprintf("objectId,minutes,timestamp,last,lastTimestamp,min,max,sum,mean,std,count,comment\n%d,60,2019-01-01T10:00:00.000Z,370.0,2019-01-01T10:45:00.000Z,15.0,456.0,1095.0,273.75,165.69607,4,null\n", f.volts)
	if string(r.Body) != wantCSV {
		t.Fatalf("csv %q", r.Body)
	}
	path := fmt.Sprintf("/objects/%d/values/aggregated", f.volts)
	c.Want("GET", path+"?from=2019-01-01&granularity=minutes", "", 400, api.ExcWrongParams)
	c.Want("GET", path, "", 400, api.ExcMissingParam)
	c.Want("GET", path+"?from=x", "", 400, api.ExcTypeMismatch)
	c.Want("GET", fmt.Sprintf("/objects/%d/values/aggregated?from=2019-01-01", f.here), "", 400, api.ExcWrongParams)
	c.Want("GET", fmt.Sprintf("/objects/%d/values/aggregated?from=2019-01-01", f.text), "", 400, api.ExcWrongParams)
	f.outsider.Want("GET", path+"?from=2019-01-01", "", 404, api.ExcItemNotFound)
	if r := c.Want("GET", path+"?from=2019-01-02&to=2019-01-01", "", 200, ""); string(r.Body) != "[]" {
		t.Fatalf("%s", r.Body)
	}
	if r := c.Send("GET", path+"?from=2019-01-01", "", nil, map[string]string{"Accept": "image/png"}); r.Code != 406 {
		t.Fatalf("%d", r.Code)
	}
}

func TestStats(t *testing.T) {
	f := newFixture(t)
	c := f.owner
	empty := c.CreateObject("blueFactory sensor", f.group, "W")
	r := c.Want("GET", fmt.Sprintf("/objects/%d/stats", empty), "", 200, "")
	if want := fmt.Sprintf(`{"objectId":%d,"nReads":0,"nWrites":0,"lastTs":null,"avgSamplePeriod":0.0,"count":0,"firstTs":null}`, empty); string(r.Body) != want {
		t.Fatalf("%s", r.Body)
	}
	c.Want("GET", fmt.Sprintf("/objects/%d/values?from=2019-01-01", f.volts), "", 200, "")
	c.Want("GET", fmt.Sprintf("/objects/%d/values/latest", f.volts), "", 200, "")
	c.Want("GET", fmt.Sprintf("/objects/%d/values/aggregated?from=2030-01-01", f.volts), "", 200, "")
	r = c.Want("GET", fmt.Sprintf("/objects/%d/stats", f.volts), "", 200, "")
	var st struct {
		NReads, NWrites, Count int
		LastTs, FirstTs        *string
		AvgSamplePeriod        float64
	}
	r.JSON(t, &st)
	if st.NReads != 3 || st.NWrites != 8 || st.Count != 8 || *st.LastTs != "2019-01-01T10:45:00.000Z" ||
		*st.FirstTs != "2019-01-01T09:00:00.000Z" {
		t.Fatalf("%s", r.Body)
	}
	f.outsider.Want("GET", fmt.Sprintf("/objects/%d/stats", f.volts), "", 404, api.ExcItemNotFound)
	c.Want("GET", "/objects/12352/stats", "", 404, api.ExcItemNotFound)
}

// TestBBCheckerFlow: bbchecker's ingestion check (bbdata-v2.md §5.4) end to end — a measure
// written through POST /objects/values with a 6-digit fraction is read back by values with
// from = to = the same text; the nWrites of stats follow.
func TestBBCheckerFlow(t *testing.T) {
	f := newFixture(t)
	c := f.owner
	obj := c.CreateObject("bbchecker", f.group, "V")
	_, token := c.CreateToken(obj)
	ts := "2024-10-01T12:34:56.789012"
	f.nd.Anon().Want("POST", "/objects/values", fmt.Sprintf(`[{"objectId":"%d","value":42,"token":%q,"timestamp":%q,"comment":"bbchecker"}]`, obj, token, ts), 200, "")
	var rows []rawJSON
	c.Want("GET", fmt.Sprintf("/objects/%d/values?from=%s&to=%s", obj, ts, ts), "", 200, "").JSON(t, &rows)
	if len(rows) != 1 || rows[0].Value != "42.0" || rows[0].Timestamp != "2024-10-01T12:34:56.789Z" {
		t.Fatalf("%+v", rows)
	}
	var st struct{ NWrites, NReads, Count int }
	c.Want("GET", fmt.Sprintf("/objects/%d/stats", obj), "", 200, "").JSON(t, &st)
	if st.NWrites != 1 || st.NReads != 1 || st.Count != 1 {
		t.Fatalf("%+v", st)
	}
}
