package query_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tsgate/tsgate/acl"
	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/catalog"
	"github.com/tsgate/tsgate/query"
	"github.com/tsgate/tsgate/server/servertest"
	"github.com/tsgate/tsgate/tsdb"
)

func TestQueryMulti(t *testing.T) {
	f := newFixture(t)
	c := f.owner
	other := f.outsider.CreateGroup("other")
	hidden := f.outsider.CreateObject("owned by other", other, "V")
	var b tsdb.Batch
	b.AddFloat(hidden, ms(t, "2019-01-01T09:00"), 1)
	if err := f.nd.N.Rollups.Append(context.Background(), &b, tsdb.Reject); err != nil {
		t.Fatal(err)
	}
	c.Want("PUT", fmt.Sprintf("/objects/%d/tags?tags=a,b", f.volts), "", 200, "")
	c.Want("PUT", fmt.Sprintf("/objects/%d/tags?tags=b", f.hours), "", 200, "")

	// raw, ids: the hidden one is absent exactly as a nonexistent one
	body := fmt.Sprintf(`{"objects":[%d,%d,%d,9999],"from":"2019-01-01T09:00","to":"2019-01-01T09:15"}`, f.hours, hidden, f.volts)
	r := c.Want("POST", "/query", body, 200, "")
	want := fmt.Sprintf(`[{"objectId":%[1]d,"timestamp":"2019-01-01T09:00:00.000Z","value":"227.0","comment":null},{"objectId":%[1]d,"timestamp":"2019-01-01T09:15:00.000Z","value":"390.0","comment":null},`+
		`{"objectId":%[2]d,"timestamp":"2019-01-01T09:00:00.000Z","value":"227","comment":null},{"objectId":%[2]d,"timestamp":"2019-01-01T09:15:00.000Z","value":"390","comment":null}]`, f.volts, f.hours)
	if string(r.Body) != want {
		t.Fatalf("raw:\n got %s\nwant %s", r.Body, want)
	}
	var rows []rawJSON
	r.JSON(t, &rows)
	if len(rows) != 4 || rows[0].ObjectID != f.volts || rows[2].ObjectID != f.hours || rows[3].Value != "390" {
		t.Fatalf("raw: %s", r.Body)
	}
	// GET form, CSV, limit
	r = c.Send("GET", fmt.Sprintf("/query?objects=%d,%d&from=2019-01-01T09:00&to=2019-01-01T10:00&limit=3", f.volts, f.hours), "", nil, map[string]string{"Accept": "text/csv"})
	if r.Code != 200 || strings.Count(string(r.Body), "\n") != 4 || !strings.HasPrefix(string(r.Body), "objectId,timestamp,value,comment\n") {
		t.Fatalf("csv limit: %d %q", r.Code, r.Body)
	}
	// tags (any) ∩ objects
	c.Want("POST", "/query", `{"tags":["b"],"from":"2019-01-01T09:00","to":"2019-01-01T09:00"}`, 200, "").JSON(t, &rows)
	if len(rows) != 2 {
		t.Fatalf("tags: %+v", rows)
	}
	c.Want("POST", "/query", fmt.Sprintf(`{"tags":["a"],"objects":[%d],"from":"2019-01-01T09:00","to":"2019-01-01T09:00"}`, f.hours), 200, "").JSON(t, &rows)
	if len(rows) != 0 {
		t.Fatalf("tags∩objects: %+v", rows)
	}
	// object group: readable selects its members; unreadable or missing selects nothing
	og := c.CreateObjectGroup("regular_misc", f.group, f.volts, f.text)
	c.Want("POST", "/query", fmt.Sprintf(`{"objectGroup":%d,"from":"2019-01-01T09:00","to":"2019-01-01T09:00"}`, og), 200, "").JSON(t, &rows)
	if len(rows) != 2 || rows[0].ObjectID != f.volts || rows[1].ObjectID != f.text {
		t.Fatalf("group: %+v", rows)
	}
	if r := f.outsider.Want("POST", "/query", fmt.Sprintf(`{"objectGroup":%d,"from":"2019-01-01"}`, og), 200, ""); string(r.Body) != "[]" {
		t.Fatalf("foreign group: %s", r.Body)
	}
	if r := c.Want("POST", "/query", `{"objectGroup":777,"from":"2019-01-01"}`, 200, ""); string(r.Body) != "[]" {
		t.Fatalf("missing group: %s", r.Body)
	}
	// rollups: non-numeric skipped, fields
	r = c.Want("POST", "/query", `{"granularity":"hours","fields":["mean","count"],"from":"2019-01-01T09:00","to":"2019-01-01T10:00"}`, 200, "")
	wantAgg := fmt.Sprintf(`[{"objectId":%[1]d,"timestamp":"2019-01-01T09:00:00.000Z","mean":346.0,"count":4},{"objectId":%[1]d,"timestamp":"2019-01-01T10:00:00.000Z","mean":273.75,"count":4},`+
		`{"objectId":%[2]d,"timestamp":"2019-01-01T09:00:00.000Z","mean":346.0,"count":4},{"objectId":%[2]d,"timestamp":"2019-01-01T10:00:00.000Z","mean":273.75,"count":4}]`, f.volts, f.hours)
	if string(r.Body) != wantAgg {
		t.Fatalf("fields:\n got %s\nwant %s", r.Body, wantAgg)
	}
	r = c.Send("GET", fmt.Sprintf("/query?objects=%d&granularity=days&fields=mean,max&from=2019-01-01", f.volts), "", nil, map[string]string{"Accept": "text/csv"})
	if want := fmt.Sprintf("objectId,timestamp,max,mean\n%d,2019-01-01T00:00:00.000Z,481.0,309.875\n", f.volts); string(r.Body) != want {
		t.Fatalf("csv fields %q", r.Body)
	}
	// errors
	c.Want("POST", "/query", `{"to":"2019-01-01"}`, 400, api.ExcWrongParams)
	c.Want("POST", "/query", `{"from":"2019-01-01","granularity":"weeks"}`, 400, api.ExcWrongParams)
	c.Want("POST", "/query", `{"from":"2019-01-01","fields":["median"]}`, 400, api.ExcWrongParams)
	c.Want("POST", "/query", `{"from":"nope"}`, 400, api.ExcNotReadable)
	c.Want("POST", "/query", `{"from":`, 400, api.ExcNotReadable)
	c.Want("GET", "/query", "", 400, api.ExcMissingParam)
	c.Want("GET", "/query?from=2019-01-01&objects=x", "", 400, api.ExcTypeMismatch)
	if r := c.Send("POST", "/query", "application/json", []byte(`{"from":"2019-01-01"}`), map[string]string{"Accept": "application/xml"}); r.Code != 406 {
		t.Fatalf("406: %d", r.Code)
	}
	f.nd.Anon().Want("POST", "/query", `{"from":"2019-01-01"}`, 401, "")
	// read-only key and a key narrowed to one object
	ro := c.CreateApikey("writable=false")
	ro.Want("POST", "/query", `{"from":"2019-01-01T09:00","to":"2019-01-01T09:00"}`, 200, "").JSON(t, &rows)
	if len(rows) != 4 {
		t.Fatalf("ro: %+v", rows)
	}
	narrow := c.CreateApikey(fmt.Sprintf("writable=false&scopes=read:data:object/%d", f.here))
	narrow.Want("POST", "/query", `{"from":"2019-01-01T09:00","to":"2019-01-01T09:00"}`, 200, "").JSON(t, &rows)
	if len(rows) != 1 || rows[0].ObjectID != f.here {
		t.Fatalf("narrowed: %+v", rows)
	}
}

func TestQueryInflux(t *testing.T) {
	f := newFixture(t)
	c := f.owner
	r := c.Want("GET", "/query?q=SHOW+DATABASES", "", 200, "")
	if want := `{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["tsgate"]]}]}]}`; string(r.Body) != want {
		t.Fatalf("%s", r.Body)
	}
	r = c.Send("POST", "/query", "application/x-www-form-urlencoded", []byte(`q=CREATE+DATABASE+"telegraf"`), nil)
	if r.Code != 200 || string(r.Body) != `{"results":[{"statement_id":0}]}` {
		t.Fatalf("%d %s", r.Code, r.Body)
	}
	r = c.Send("POST", fmt.Sprintf("/query?u=%d&p=%s&q=show+retention+policies+on+x;create+database+y", c.User, c.Secret), "", nil, map[string]string{"bbtoken": "", "bbuser": ""})
	if r.Code != 200 || string(r.Body) != `{"results":[{"statement_id":0},{"statement_id":1}]}` {
		t.Fatalf("%d %s", r.Code, r.Body)
	}
	c.Want("GET", "/query?q=SELECT+*+FROM+cpu", "", 400, api.ExcWrongParams)
}

func TestPublicValues(t *testing.T) {
	f := newFixture(t)
	anon := f.nd.Anon()
	path := fmt.Sprintf("/public/objects/%d/values?from=2019-01-01T09:00&to=2019-01-01T09:15", f.volts)
	anon.Want("GET", path, "", 404, api.ExcItemNotFound)
	f.owner.Want("POST", fmt.Sprintf("/objects/%d/public", f.volts), `{"public":true,"fields":["name"]}`, 200, "")
	anon.Want("GET", path, "", 404, api.ExcItemNotFound)
	f.owner.Want("POST", fmt.Sprintf("/objects/%d/public", f.volts), `{"public":true,"fields":["name","values"]}`, 200, "")
	var rows []rawJSON
	anon.Want("GET", path, "", 200, "").JSON(t, &rows)
	if len(rows) != 2 {
		t.Fatalf("%+v", rows)
	}
	anon.Want("GET", fmt.Sprintf("/public/objects/%d/values/latest", f.volts), "", 200, "").JSON(t, &rows)
	if len(rows) != 1 || rows[0].Timestamp != "2019-01-01T10:45:00.000Z" {
		t.Fatalf("%+v", rows)
	}
	r := anon.Want("GET", fmt.Sprintf("/public/objects/%d/values/aggregated?from=2019-01-01T10:00&to=2019-01-01T10:00", f.volts), "", 200, "")
	if !strings.Contains(string(r.Body), `"std":165.69607`) {
		t.Fatalf("%s", r.Body)
	}
	anon.Want("GET", fmt.Sprintf("/public/objects/%d/values?from=2019-01-01", f.hours), "", 404, api.ExcItemNotFound)
	anon.Want("GET", fmt.Sprintf("/public/objects/%d/values", f.volts), "", 400, api.ExcMissingParam)
	// public read adds nothing to authenticated routes
	f.outsider.Want("GET", fmt.Sprintf("/objects/%d/values?from=2019-01-01", f.volts), "", 404, api.ExcItemNotFound)
}

// TestTimeBoundedShare: an outsider reaching an object only through a windowed share gets
// every value endpoint clipped to the window (API.md §3.5).
func TestTimeBoundedShare(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UTC()
	t0 := now.Truncate(time.Hour).Add(-2 * time.Hour).UnixMilli()
	obj := f.owner.CreateObject("windowed", f.group, "V")
	var b tsdb.Batch
	for i := range 16 { // t0 … t0+3h45, every 15 min (some in the future: written directly)
		b.AddFloat(obj, t0+int64(i)*15*60_000, float64(i))
	}
	if err := f.nd.N.Rollups.Append(context.Background(), &b, tsdb.Reject); err != nil {
		t.Fatal(err)
	}
	og := f.owner.CreateObjectGroup("shared", f.group, obj)
	ug := f.outsider.CreateGroup("readers")
	from, to := t0+30*60_000, t0+(3*60+30)*60_000 // [t0+30m, t0+3h30m): ends after now
	dt := func(ms int64) string { return string(api.AppendDateTime(nil, ms)) }
	f.owner.Want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", og, ug), fmt.Sprintf(`{"from":%q,"to":%q}`, dt(from), dt(to)), 200, "")
	c := f.outsider
	var rows []rawJSON
	end := dt(t0 + 5*3600_000)
	c.Want("GET", fmt.Sprintf("/objects/%d/values?from=%s&to=%s", obj, dt(t0-time.Hour.Milliseconds()), end), "", 200, "").JSON(t, &rows)
	if len(rows) != 12 || rows[0].Timestamp != dt(from) || rows[11].Timestamp != dt(to-15*60_000) {
		t.Fatalf("values: %d %+v", len(rows), rows)
	}
	c.Want("GET", fmt.Sprintf("/objects/%d/values/latest?before=%s", obj, dt(t0+5*3600_000)), "", 200, "").JSON(t, &rows)
	if len(rows) != 1 || rows[0].Timestamp != dt(to-15*60_000) {
		t.Fatalf("latest: %+v", rows)
	}
	if r := c.Want("GET", fmt.Sprintf("/objects/%d/values/latest?before=%s", obj, dt(t0+20*60_000)), "", 200, ""); string(r.Body) != "[]" {
		t.Fatalf("latest before the window: %s", r.Body)
	}
	var agg []aggJSON
	c.Want("GET", fmt.Sprintf("/objects/%d/values/aggregated?from=%s&to=%s", obj, dt(t0), dt(t0+4*3600_000)), "", 200, "").JSON(t, &agg)
	counts := ""
	for _, r := range agg {
		counts += string(r["count"]) + ","
	}
	if counts != "2,4,4,2," || string(agg[0]["min"]) != "2.0" || string(agg[3]["max"]) != "13.0" {
		t.Fatalf("aggregated: %s %v", counts, agg)
	}
	var st struct {
		NReads, NWrites, Count int
		LastTs, FirstTs        string
		AvgSamplePeriod        float64
	}
	c.Want("GET", fmt.Sprintf("/objects/%d/stats", obj), "", 200, "").JSON(t, &st)
	if st.Count != 12 || st.NWrites != 12 || st.NReads != 0 || st.FirstTs != dt(from) || st.LastTs != dt(to-15*60_000) || st.AvgSamplePeriod != 900000 {
		t.Fatalf("stats: %+v", st)
	}
	c.Want("POST", "/query", fmt.Sprintf(`{"from":%q,"to":%q}`, dt(t0-3600_000), end), 200, "").JSON(t, &rows)
	if len(rows) != 12 {
		t.Fatalf("query: %d", len(rows))
	}
	// the owner sees everything
	f.owner.Want("GET", fmt.Sprintf("/objects/%d/values?from=%s&to=%s", obj, dt(t0-time.Hour.Milliseconds()), end), "", 200, "").JSON(t, &rows)
	if len(rows) != 16 {
		t.Fatalf("owner: %d", len(rows))
	}
}

// startNode serves a node whose query endpoints use opts (the node's own Config has no query
// options): the same wiring as server.Open.
func startNode(t testing.TB, opts query.Options) (*servertest.Node, *tsdb.DB) {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Open(db.Pebble(), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := acl.Open(db.Pebble(), cat, acl.Options{HashCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Bootstrap("admin-pw"); err != nil {
		t.Fatal(err)
	}
	s := api.New(api.Options{})
	deps := api.Deps{ACL: a, Catalog: cat, DB: db}
	api.Mount(s, deps)
	query.Mount(s, deps, opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = s.Serve(ln); close(done) }()
	t.Cleanup(func() {
		_ = s.Shutdown(context.Background())
		<-done
		_ = a.Close()
		_ = db.Close()
	})
	nd := &servertest.Node{T: t, URL: "http://" + ln.Addr().String()}
	nd.Admin = nd.Login("admin", "admin-pw")
	return nd, db
}

func TestMaxQueryPoints(t *testing.T) {
	nd, db := startNode(t, query.Options{MaxQueryPoints: 10})
	c := nd.Admin
	g := c.CreateGroup("ggg")
	o1, o2 := c.CreateObject("aaa", g, "V"), c.CreateObject("bbb", g, "V")
	var b tsdb.Batch
	base := ms(t, "2020-01-01")
	for i := range 8 {
		b.AddFloat(o1, base+int64(i)*60_000, float64(i))
		b.AddFloat(o2, base+int64(i)*60_000, float64(i))
	}
	if err := db.Append(context.Background(), &b, tsdb.Reject); err != nil {
		t.Fatal(err)
	}
	c.Want("GET", fmt.Sprintf("/objects/%d/values?from=2020-01-01", o1), "", 200, "")
	c.Want("POST", "/query", `{"from":"2020-01-01T00:00","to":"2020-01-01T00:04"}`, 200, "")                 // 10 rows
	c.Want("POST", "/query", `{"from":"2020-01-01T00:00","to":"2020-01-01T00:05"}`, 400, api.ExcWrongParams) // 12
	c.Want("POST", "/query", `{"from":"2020-01-01","limit":10}`, 200, "")
	c.Want("POST", "/query", `{"from":"2020-01-01","granularity":"quarters"}`, 200, "") // 2 rows
	c.Want("GET", fmt.Sprintf("/objects/%d/values/aggregated?from=2019-01-01&granularity=quarters", o1), "", 200, "")
	// rows counted, not windows: 16 minute rows would not fit
	r := c.Want("POST", "/query", `{"from":"2020-01-01"}`, 400, api.ExcWrongParams)
	if !strings.Contains(string(r.Body), "10") {
		t.Fatalf("%s", r.Body)
	}
}
