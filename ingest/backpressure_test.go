package ingest_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/ingest"
	"github.com/tsgate/tsgate/server"
	"github.com/tsgate/tsgate/server/servertest"
	"github.com/tsgate/tsgate/tsdb"
)

// bpWorld is a node with a tiny head budget (every append leaves the head over twice its
// budget, so the next one must wait for a flush) and objects writable by token and apikey.
type bpWorld struct {
	w    *world
	ids  []uint32
	toks []string
	key  string
}

func newBPWorld(t *testing.T, wait time.Duration, objects int) *bpWorld {
	nd := servertest.StartWith(t, func(c *server.Config) {
		c.HeadBytes = 1
		c.BackpressureWait = wait
	})
	owner := nd.CreateUser("owner")
	w := &world{t: t, nd: nd, owner: owner, ug: owner.CreateGroup("owners")}
	bw := &bpWorld{w: w, key: owner.CreateApikey("writable=true").Secret}
	for range objects {
		id, tok := w.object("V")
		bw.ids, bw.toks = append(bw.ids, id), append(bw.toks, tok)
	}
	return bw
}

// bpBatch is one request's samples: object index o, timestamps base+0 … base+n-1 ms.
type bpBatch struct {
	o    int
	base int64
	n    int
	json bool
}

func (bw *bpWorld) send(b bpBatch) servertest.Resp {
	var sb strings.Builder
	id := bw.ids[b.o]
	if b.json {
		sb.WriteByte('[')
		for i := range b.n {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(m(id, bw.toks[b.o], string(api.AppendDateTime(nil, b.base+int64(i))), strconv.Itoa(i)))
		}
		sb.WriteByte(']')
		return bw.w.nd.Anon().Send("POST", "/objects/values?response=count", "application/json", []byte(sb.String()), nil)
	}
	for i := range b.n {
		fmt.Fprintf(&sb, "m,object=%d value=%d %d\n", id, i, b.base+int64(i))
	}
	return bw.w.nd.Anon().Send("POST", "/write?precision=ms", "text/plain", []byte(sb.String()),
		map[string]string{"Authorization": "Bearer " + bw.key})
}

// want returns the timestamps each object should hold after batches were acknowledged.
func (bw *bpWorld) want(acked []bpBatch) map[uint32][]string {
	out := map[uint32][]string{}
	for _, b := range acked {
		for i := range b.n {
			out[bw.ids[b.o]] = append(out[bw.ids[b.o]], fmt.Sprintf("%d=%d", b.base+int64(i), i))
		}
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// checkStored fails unless every object holds exactly the samples of the acknowledged
// batches: nothing of a 2xx'd batch is lost, nothing of a refused one is stored.
func (bw *bpWorld) checkStored(acked []bpBatch) {
	bw.w.t.Helper()
	want := bw.want(acked)
	for _, id := range bw.ids {
		got := bw.w.stored(id)
		slices.Sort(got)
		if !slices.Equal(got, want[id]) {
			bw.w.t.Fatalf("object %d stores %d samples, want the %d of its acknowledged batches\n got %.300v\nwant %.300v",
				id, len(got), len(want[id]), got, want[id])
		}
	}
}

// TestBackpressure429: with the head over twice its budget and a wait shorter than a flush,
// writes (line protocol and JSON) are refused with 429 TooManyRequestsException and a
// Retry-After header instead of queueing; a refused batch stores nothing and every
// acknowledged one is readable, before and after the flushes catch up.
func TestBackpressure429(t *testing.T) {
	const writers, perBatch = 4, 50
	bw := newBPWorld(t, time.Microsecond, writers)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	var (
		mu       sync.Mutex
		acked    []bpBatch
		refused  int
		requests int
	)
	// Each writer posts batches of its own object until 429s and 2xxs were both seen (a
	// 429 needs a request to arrive while a flush runs: certain within a few hundred).
	var wg sync.WaitGroup
	for wr := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 500; k++ {
				mu.Lock()
				done := refused >= 3 && len(acked) >= 3 && requests >= 40
				requests++
				mu.Unlock()
				if done {
					return
				}
				b := bpBatch{o: wr, base: base + int64(k)*1000, n: perBatch, json: k%2 == 1}
				r := bw.send(b)
				mu.Lock()
				switch {
				case r.Code/100 == 2:
					acked = append(acked, b)
				case r.Code == 429:
					refused++
					if r.Exception() != api.ExcTooManyRequests || r.Hdr.Get("Retry-After") == "" {
						t.Errorf("429 without TooManyRequestsException and Retry-After: %v %s", r.Hdr, r.Body)
					}
				default:
					t.Errorf("status %d %s", r.Code, r.Body)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("%d requests: %d acknowledged, %d refused with 429", requests, len(acked), refused)
	if refused == 0 {
		t.Fatalf("no 429 in %d requests with a 1-byte head budget and a 1 µs wait", requests)
	}
	if len(acked) == 0 {
		t.Fatalf("every request refused: the head never drained")
	}
	bw.checkStored(acked)
	// After the flushes, the acknowledged samples are in blocks and still all there.
	if err := bw.w.nd.N.DB.Flush(); err != nil {
		t.Fatal(err)
	}
	bw.checkStored(acked)
}

// TestBackpressureWaitsForFlush: with the default kind of wait (long enough for a flush),
// writers over a full head are slowed down, not refused: every request succeeds once a
// flush makes room, and every measure is readable.
func TestBackpressureWaitsForFlush(t *testing.T) {
	const writers, rounds, perBatch = 4, 15, 50
	bw := newBPWorld(t, 30*time.Second, writers)
	flushes0 := bw.w.nd.N.Metrics.GetOrCreateCounter("tsgate_tsdb_flushes_total").Get()
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	var mu sync.Mutex
	var acked []bpBatch
	var wg sync.WaitGroup
	for wr := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range rounds {
				b := bpBatch{o: wr, base: base + int64(k)*1000, n: perBatch, json: k%2 == 0}
				if r := bw.send(b); r.Code/100 != 2 {
					t.Errorf("writer %d round %d: %d %s", wr, k, r.Code, r.Body)
					continue
				}
				mu.Lock()
				acked = append(acked, b)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if flushes := bw.w.nd.N.Metrics.GetOrCreateCounter("tsgate_tsdb_flushes_total").Get() - flushes0; flushes < rounds {
		t.Errorf("%d flushes for %d requests over a 1-byte head: backpressure not exercised", flushes, writers*rounds)
	}
	bw.checkStored(acked)
}

// stuckAppender never finds head room: it waits for its context, as tsdb's waitHeadRoom
// does when no flush completes.
type stuckAppender struct{}

func (stuckAppender) Append(ctx context.Context, _ *tsdb.Batch, _ tsdb.Duplicates) error {
	<-ctx.Done()
	return fmt.Errorf("tsdb: head is full (1 bytes), waiting for a flush: %w", ctx.Err())
}

// TestBackpressureBoundedWait: a write never blocks longer than BackpressureWait however long
// the store stays full; it is answered 429 with Retry-After on both write paths.
func TestBackpressureBoundedWait(t *testing.T) {
	w := newWorld(t)
	oid, tok := w.object("V")
	key := w.owner.CreateApikey("writable=true")
	s := api.New(api.Options{})
	deps := api.Deps{ACL: w.nd.N.ACL, Catalog: w.nd.N.Catalog, DB: w.nd.N.DB}
	api.Mount(s, deps)
	const wait = 50 * time.Millisecond
	ingest.Mount(s, deps, ingest.Options{Appender: stuckAppender{}, BackpressureWait: wait})
	h := s.Handler()
	for _, c := range []struct {
		path, ctype, body string
		hdr               [2]string
	}{
		{"/objects/values?response=count", "application/json", "[" + m(oid, tok, "2024-01-01T00:00:00Z", "1") + "]", [2]string{}},
		{"/objects/values", "application/json", "[" + m(oid, tok, "2024-01-01T00:00:00Z", "1") + "]", [2]string{}},
		{"/write?precision=ms", "text/plain", fmt.Sprintf("m,object=%d value=1 1704067200000\n", oid), [2]string{"Authorization", "Bearer " + key.Secret}},
		{"/api/v2/write?precision=ms", "", fmt.Sprintf("m,object=%d value=1 1704067200000\n", oid), [2]string{"Authorization", "Token " + key.Secret}},
	} {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI(c.path)
		if c.ctype != "" {
			ctx.Request.Header.SetContentType(c.ctype)
		}
		if c.hdr[0] != "" {
			ctx.Request.Header.Set(c.hdr[0], c.hdr[1])
		}
		ctx.Request.SetBodyString(c.body)
		start := time.Now()
		h(&ctx)
		took := time.Since(start)
		r := servertest.Resp{Code: ctx.Response.StatusCode(), Body: ctx.Response.Body()}
		if r.Code != 429 || r.Exception() != api.ExcTooManyRequests || string(ctx.Response.Header.Peek("Retry-After")) == "" {
			t.Errorf("%s: %d %s (Retry-After %q), want 429 TooManyRequestsException with Retry-After",
				c.path, r.Code, r.Body, ctx.Response.Header.Peek("Retry-After"))
		}
		if took < wait || took > wait+5*time.Second {
			t.Errorf("%s: answered after %v, want just after the %v wait", c.path, took, wait)
		}
	}
}
