package bench

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tsgate/tsgate/server/servertest"
)

// TestIngestAndQueryInProcess runs both ingest formats, a paced run and the query kinds
// against an in-process node (race detector friendly; the CLI test drives the real binary).
func TestIngestAndQueryInProcess(t *testing.T) {
	nd := servertest.Start(t)
	ctx := context.Background()
	var run *IngestRun
	for _, f := range []Format{FormatLine, FormatJSON} {
		r, err := PrepareIngest(ctx, IngestOptions{URL: nd.URL, Format: f, Objects: 20, Points: 60, Batch: 100, Concurrency: 3, Password: "admin-pw"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Samples != 1200 || res.OK != 12 || res.Requests != 12 || res.Errors != nil || res.BytesSent != r.Payload().Bytes {
			t.Fatalf("%s: %+v", f, res)
		}
		// Sending the same bodies again: JSON rejects the duplicates (400), line overwrites.
		again, err := r.RunBodies(ctx, 0, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		if f == FormatJSON && (again.OK != 0 || again.Errors["400"] != 2) {
			t.Fatalf("json resend: %+v", again)
		}
		if f == FormatLine && again.OK != 2 {
			t.Fatalf("line resend: %+v", again)
		}
		run = r
	}

	paced, err := PrepareIngest(ctx, IngestOptions{URL: nd.URL, Objects: 10, Points: 40, Batch: 100, Concurrency: 2, Password: "admin-pw", Rate: 2000})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := paced.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 4 requests of 100 at 2 000 samples/s: the last is sent 150 ms after the first.
	if pr.Samples != 400 || pr.ElapsedS < 0.15 {
		t.Fatalf("paced: %+v", pr)
	}

	q, err := RunQueries(ctx, QueryOptions{URL: nd.URL, API: run.API(), IDs: run.World().IDs, Points: 60,
		Concurrency: 3, Duration: 300 * time.Millisecond, Requests: 200, Window: 10 * time.Minute, Multi: 3})
	if errors.Is(err, ErrNoQueryEndpoint) {
		t.Skipf("query endpoints not served yet: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if q.Requests == 0 || q.Requests > 200 || q.Rows == 0 || len(q.Kinds) != len(AllKinds) {
		t.Fatalf("queries: %+v", q)
	}
	for _, k := range q.Kinds {
		if k.Requests == 0 || k.Errors != nil {
			t.Errorf("kind %s: %+v", k.Kind, k)
		}
	}
}
