package query_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tsgate/tsgate/query"
	"github.com/tsgate/tsgate/server/servertest"
	"github.com/tsgate/tsgate/tsdb"
)

// TestParallelRollupsMatchSequential: a rollup /query over many objects, formatted by worker
// goroutines chunk by chunk, is byte for byte what the sequential path writes — JSON and CSV,
// full rows and means only, objects without rows among them (the JSON commas), rows both
// flushed (stored) and in the head.
func TestParallelRollupsMatchSequential(t *testing.T) {
	nd := servertest.Start(t)
	g := nd.Admin.CreateGroup("par")
	ids := createObjects(t, nd.Admin, g, 70)
	start := benchStart
	var b tsdb.Batch
	add := func(from, to int) {
		b.Reset()
		for p := from; p < to; p++ {
			for k, id := range ids {
				if k%7 == 3 || (k < 5 && p%2 == 0) {
					continue // no data at all for some objects, sparse for others
				}
				b.AddFloat(id, start+int64(p)*600_000, float64((p*31+k*17)%1000)/10)
			}
		}
		if err := nd.N.Rollups.Append(context.Background(), &b, tsdb.Reject); err != nil {
			t.Fatal(err)
		}
	}
	add(0, 300)
	if err := nd.N.DB.Flush(); err != nil {
		t.Fatal(err)
	}
	add(300, 500) // in the head
	fetch := func(accept, body string) string {
		t.Helper()
		req, _ := http.NewRequest("POST", nd.URL+"/query", strings.NewReader(body))
		req.Header.Set("bbuser", fmt.Sprint(nd.Admin.User))
		req.Header.Set("bbtoken", nd.Admin.Secret)
		req.Header.Set("Accept", accept)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%d %v %s", res.StatusCode, err, out)
		}
		return string(out)
	}
	for _, body := range []string{
		`{"granularity":"hours","from":"2025-01-01","to":"2025-01-05"}`,
		`{"granularity":"quarters","fields":["mean"],"from":"2025-01-01","to":"2025-01-04"}`,
		`{"granularity":"days","fields":["mean","count","std"],"from":"2025-01-01","to":"2025-01-05"}`,
	} {
		for _, accept := range []string{"application/json", "text/csv"} {
			par := fetch(accept, body)
			restore := query.SetParallelMinTarget(1 << 30)
			seq := fetch(accept, body)
			restore()
			if par != seq {
				t.Fatalf("%s %s: parallel (%d bytes) differs from sequential (%d bytes)\nparallel:   %.300s\nsequential: %.300s", accept, body, len(par), len(seq), par, seq)
			}
			if len(seq) < 1000 {
				t.Fatalf("%s %s: only %d bytes", accept, body, len(seq))
			}
		}
	}
}
