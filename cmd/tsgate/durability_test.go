package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tsgate/tsgate/tsdb"
)

var killCycles = flag.Int("kill-cycles", 10, "SIGKILL cycles of TestAckedWritesSurviveSIGKILL")

// post sends a JSON or text body with optional credentials and returns the status and body.
func post(t *testing.T, url, ctype, body string, hdr map[string]string) (int, []byte) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

func mustJSON(t *testing.T, code int, b []byte, v any) {
	t.Helper()
	if code != 200 {
		t.Fatalf("status %d: %s", code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}

// TestAckedWritesSurviveSIGKILL: concurrent writers (JSON with tokens, line protocol with an
// apikey) record every measure of every 2xx; the server is SIGKILLed at a random moment; the
// store, reopened, holds every acknowledged measure. Repeated -kill-cycles times.
func TestAckedWritesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		*killCycles = 3
	}
	data := filepath.Join(t.TempDir(), "data")
	// Set up objects, a token and a writable key once.
	p := startServe(t, data)
	base := "http://" + p.addr
	var login struct {
		UserID uint32 `json:"userId"`
		Secret string `json:"secret"`
	}
	code, b := post(t, base+"/login", "application/json", `{"username":"admin","password":"test-password"}`, nil)
	mustJSON(t, code, b, &login)
	auth := map[string]string{"bbuser": fmt.Sprint(login.UserID), "bbtoken": login.Secret}
	req := func(method, path, body string) (int, []byte) {
		r, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		for k, v := range auth {
			r.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return resp.StatusCode, buf.Bytes()
	}
	var ug struct{ ID uint32 }
	code, b = req("PUT", "/userGroups", `{"name":"writers"}`)
	mustJSON(t, code, b, &ug)
	var objs []struct{ ID uint32 }
	code, b = req("PUT", "/objects/bulk", fmt.Sprintf(`[{"name":"j","owner":%d,"unitSymbol":"V"},{"name":"l","owner":%d,"unitSymbol":"h"}]`, ug.ID, ug.ID))
	mustJSON(t, code, b, &objs)
	var toks []struct{ Token string }
	code, b = req("PUT", "/objects/bulk/tokens", fmt.Sprintf(`[{"objectId":%d}]`, objs[0].ID))
	mustJSON(t, code, b, &toks)
	var key struct{ Secret string }
	code, b = req("PUT", "/apikeys?writable=true", "")
	mustJSON(t, code, b, &key)
	jsonObj, lineObj := objs[0].ID, objs[1].ID
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done

	acked := map[uint32]map[int64]bool{jsonObj: {}, lineObj: {}}
	var mu sync.Mutex
	seq := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("kill-moment seed %d, %d cycles", seed, *killCycles)
	for cycle := 0; cycle < *killCycles; cycle++ {
		p := startServe(t, data)
		base := "http://" + p.addr
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			start := seq + int64(cycle)*10_000_000 + int64(w)*1_000_000
			go func(w int, ts int64) {
				defer wg.Done()
				for n := 0; n < 10_000; n++ {
					select {
					case <-stop:
						return
					default:
					}
					var sb strings.Builder
					batch := make([]int64, 50)
					for i := range batch {
						batch[i] = ts
						ts++
					}
					var code int
					obj := jsonObj
					if w%2 == 0 {
						sb.WriteString("[")
						for i, x := range batch {
							if i > 0 {
								sb.WriteString(",")
							}
							fmt.Fprintf(&sb, `{"objectId":%d,"token":%q,"timestamp":%q,"value":"%d.5"}`, jsonObj, toks[0].Token,
								time.UnixMilli(x).UTC().Format("2006-01-02T15:04:05.000Z"), i)
						}
						sb.WriteString("]")
						code, _ = post(t, base+"/objects/values?response=count", "application/json", sb.String(), nil)
					} else {
						obj = lineObj
						for i, x := range batch {
							fmt.Fprintf(&sb, "m,object=%d value=%di %d\n", lineObj, i, x)
						}
						code, _ = post(t, base+"/write?precision=ms", "text/plain", sb.String(), map[string]string{"Authorization": "Bearer " + key.Secret})
					}
					if code == 0 {
						return // the server is gone
					}
					if code/100 == 2 {
						mu.Lock()
						for _, x := range batch {
							acked[obj][x] = true
						}
						mu.Unlock()
					}
				}
			}(w, start)
		}
		time.Sleep(time.Duration(50+rng.Intn(300)) * time.Millisecond) // a random kill moment, not synchronization
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		close(stop)
		wg.Wait()

		db, err := tsdb.Open(data, tsdb.Options{})
		if err != nil {
			t.Fatalf("cycle %d: reopen: %v", cycle, err)
		}
		missing := 0
		for obj, tss := range acked {
			stored := map[int64]bool{}
			it, err := db.Scan(obj, tsdb.MinTimestamp, tsdb.MaxTimestamp)
			if err != nil {
				t.Fatal(err)
			}
			for it.Next() {
				stored[it.Timestamp()] = true
			}
			if err := it.Err(); err != nil {
				t.Fatalf("cycle %d: scan: %v", cycle, err)
			}
			it.Close()
			for ts := range tss {
				if !stored[ts] {
					missing++
				}
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if missing > 0 {
			t.Fatalf("cycle %d: %d acknowledged measures lost", cycle, missing)
		}
		t.Logf("cycle %d: %d+%d acknowledged measures all present", cycle, len(acked[jsonObj]), len(acked[lineObj]))
	}
	if len(acked[jsonObj]) == 0 || len(acked[lineObj]) == 0 {
		t.Fatalf("no write was acknowledged: the test proved nothing")
	}
}
