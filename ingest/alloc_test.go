package ingest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/server/servertest"
)

// allocsPerRequest runs the real handler tree in-process (no network) on fresh bodies of n
// measures and returns the heap allocations of one request.
func allocsPerRequest(t *testing.T, nd *servertest.Node, path string, hdr map[string]string, body func(run, n int) string, n int) float64 {
	t.Helper()
	const runs = 20
	bodies := make([][]byte, runs+1)
	for i := range bodies {
		bodies[i] = []byte(body(i, n))
	}
	h := nd.N.API.Handler()
	var ctx fasthttp.RequestCtx
	run := 0
	allocs := testing.AllocsPerRun(runs, func() {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI(path)
		ctx.Request.Header.SetContentType("application/json")
		for k, v := range hdr {
			ctx.Request.Header.Set(k, v)
		}
		ctx.Request.SetBodyRaw(bodies[run])
		run++
		h(&ctx)
		if ctx.Response.StatusCode()/100 != 2 {
			t.Fatalf("%s = %d %s", path, ctx.Response.StatusCode(), ctx.Response.Body())
		}
	})
	return allocs
}

// TestNoPerMeasureAllocation: a request's heap allocations do not grow with its measures (the
// parsers, the token checks, the batch and the WAL record reuse pooled memory). A tenfold
// body may cost a few more allocations (pools warming, maps growing once), not ten times more.
func TestNoPerMeasureAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (sync.Pool drops items on purpose)")
	}
	w := newWorld(t)
	oid, tok := w.object("V")
	rw := w.owner.CreateApikey("writable=true")
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	jsonBody := func(run, n int) string {
		var sb strings.Builder
		sb.WriteString("[")
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteString(",")
			}
			ts := time.UnixMilli(base + int64(run*n+i)*1000 + int64(n)*10_000_000).UTC().Format("2006-01-02T15:04:05.000Z")
			fmt.Fprintf(&sb, `{"objectId":%d,"token":%q,"timestamp":%q,"value":"%d.25"}`, oid, tok, ts, i)
		}
		sb.WriteString("]")
		return sb.String()
	}
	lineBody := func(run, n int) string {
		var sb strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&sb, "m,object=%d value=%d.25 %d\n", oid, i, base+int64(run*n+i)*1000+int64(n)*20_000_000)
		}
		return sb.String()
	}
	lineHdr := map[string]string{"Authorization": "Bearer " + rw.Secret}
	for _, c := range []struct {
		name, path string
		hdr        map[string]string
		body       func(run, n int) string
	}{
		{"json", "/objects/values?response=count", nil, jsonBody},
		{"line", "/write?precision=ms", lineHdr, lineBody},
	} {
		small := allocsPerRequest(t, w.nd, c.path, c.hdr, c.body, 200)
		large := allocsPerRequest(t, w.nd, c.path, c.hdr, c.body, 2000)
		t.Logf("%s: %.0f allocations for 200 measures, %.0f for 2000", c.name, small, large)
		if large > small+20 {
			t.Errorf("%s: allocations grow with measures: %.0f for 200, %.0f for 2000", c.name, small, large)
		}
	}
}
