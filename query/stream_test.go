package query_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/tsgate/tsgate/server/servertest"
	"github.com/tsgate/tsgate/tsdb"
)

// TestStreamFlatMemory: a 3-million-sample response (~120 MB of CSV) is streamed with flat
// memory — the heap grows by a bounded amount, not with the response — and a client that
// stops reading halfway stops the scan.
func TestStreamFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("3 M samples")
	}
	nd := servertest.Start(t)
	g := nd.Admin.CreateGroup("stream")
	id := nd.Admin.CreateObject("big", g, "°C")
	const n = 3_000_000
	var b tsdb.Batch
	for p := range n {
		b.AddFloat(id, benchStart+int64(p)*1000, float64(p%5000)/100)
		if b.Len() == 100_000 {
			if err := nd.N.Rollups.Append(context.Background(), &b, tsdb.Reject); err != nil {
				t.Fatal(err)
			}
			b.Reset()
		}
	}
	if err := nd.N.DB.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse

	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/objects/%d/values?from=2025-01-01&to=2026-01-01", nd.URL, id), nil)
	req.Header.Set("bbuser", fmt.Sprint(nd.Admin.User))
	req.Header.Set("bbtoken", nd.Admin.Secret)
	req.Header.Set("Accept", "text/csv")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReaderSize(res.Body, 1<<16)
	var lines, peak uint64
	var bytes int64
	for {
		line, err := br.ReadSlice('\n')
		bytes += int64(len(line))
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lines++
		if lines%250_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	res.Body.Close()
	if lines != n+1 {
		t.Fatalf("%d lines", lines)
	}
	growth := int64(peak) - int64(base)
	t.Logf("%d samples, %d MB streamed; heap in use %d MB before, peak %d MB during (growth %d MB)",
		n, bytes>>20, base>>20, peak>>20, growth>>20)
	if growth > 64<<20 || growth > bytes/4 {
		t.Fatalf("heap grew by %d MB for a %d MB response", growth>>20, bytes>>20)
	}

	// a client that goes away: the server stops (the next request is served at once and the
	// abort is counted)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, res.Body, 1<<20); err != nil {
		t.Fatal(err)
	}
	res.Body.Close() // closes the connection mid-body
	// the server notices at its next write: poll with requests (the node stays responsive
	// meanwhile) for up to 20 s on a loaded machine
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if nd.N.Metrics.GetOrCreateCounter("tsgate_query_streams_aborted_total").Get() > 0 {
			break
		}
		nd.Admin.Want("GET", fmt.Sprintf("/objects/%d/stats", id), "", 200, "")
	}
	if got := nd.N.Metrics.GetOrCreateCounter("tsgate_query_streams_aborted_total").Get(); got == 0 {
		t.Fatalf("the aborted stream was not noticed")
	}
}
