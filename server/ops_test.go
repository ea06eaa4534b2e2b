package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tsgate/tsgate/server"
	"github.com/tsgate/tsgate/server/servertest"
	"github.com/tsgate/tsgate/tsdb"
)

// TestBackupUnderLoad: writers keep writing while a backup is taken; every write acknowledged
// before the backup request was sent is in the backup, which opens as a store.
func TestBackupUnderLoad(t *testing.T) {
	nd := servertest.Start(t)
	ug := nd.Admin.CreateGroup("writers")
	oid := nd.Admin.CreateObject("o", ug, "V")
	key := nd.Admin.CreateApikey("writable=true")

	var mu sync.Mutex
	acked := map[int64]time.Time{} // timestamp → when its ack arrived
	var worst atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	base := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for n := 0; n < 100_000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				ts := base + int64(w)*10_000_000 + int64(n)
				start := time.Now()
				r := key.Send("POST", "/write?precision=ms", "text/plain", []byte(fmt.Sprintf("m,object=%d value=%d %d", oid, n, ts)), nil)
				if r.Code != 204 {
					t.Errorf("write = %d %s", r.Code, r.Body)
					return
				}
				if d := time.Since(start).Nanoseconds(); d > worst.Load() {
					worst.Store(d)
				}
				mu.Lock()
				acked[ts] = time.Now()
				mu.Unlock()
			}
		}(w)
	}
	for { // let the writers get going (bounded: at most 10 s)
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 {
			break
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-time.After(10 * time.Second):
			t.Fatal("writers made no progress")
		}
	}
	sent := time.Now()
	var res struct{ Path string }
	nd.Admin.Want("POST", "/admin/backup", `{"path":"b1"}`, 200, "").JSON(t, &res)
	took := time.Since(sent)
	close(stop)
	wg.Wait()
	t.Logf("backup took %s; worst write wait during the run %s", took, time.Duration(worst.Load()))

	db, err := tsdb.Open(res.Path, tsdb.Options{})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer db.Close()
	if rep, err := db.Check(context.Background(), nil); err != nil || len(rep.Problems) > 0 {
		t.Fatalf("the backup does not pass the store check: %v %v", err, rep.Problems)
	}
	stored := map[int64]bool{}
	it, err := db.Scan(oid, tsdb.MinTimestamp, tsdb.MaxTimestamp)
	if err != nil {
		t.Fatal(err)
	}
	for it.Next() {
		stored[it.Timestamp()] = true
	}
	it.Close()
	before, after := 0, 0
	for ts, at := range acked {
		if at.Before(sent) {
			before++
			if !stored[ts] {
				t.Fatalf("write at %d acknowledged before the backup request is missing from it", ts)
			}
		} else {
			after++
		}
	}
	if before == 0 {
		t.Fatal("no write was acknowledged before the backup: the test proved nothing")
	}
	t.Logf("acks before the backup %d (all present), after %d", before, after)
	// Paths outside the backup directory, existing ones, and non-superusers are refused.
	nd.Admin.Want("POST", "/admin/backup", `{"path":"../escape"}`, 400, "WrongParamsException")
	nd.Admin.Want("POST", "/admin/backup", `{"path":"/etc/x"}`, 400, "WrongParamsException")
	nd.Admin.Want("POST", "/admin/backup", `{"path":"b1"}`, 400, "WrongParamsException")
	u := nd.CreateUser("plain")
	u.Want("POST", "/admin/backup", `{"path":"b2"}`, 403, "ForbiddenException")
	nd.Admin.Want("POST", "/admin/compact", "", 200, "")
}

// TestDiskGuard: below the free-space reserve every changing request gets 503 before anything
// is written; reads go on; writes resume when space returns.
func TestDiskGuard(t *testing.T) {
	var free atomic.Uint64
	free.Store(10 << 30)
	n, err := server.Open(server.Config{DataDir: t.TempDir(), AdminPassword: "admin-pw", PasswordCost: 4,
		MinFreeDisk: 1 << 30, FreeSpace: func(string) (uint64, error) { return free.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = n.Serve(ln) }()
	defer n.Close()
	url := "http://" + ln.Addr().String()
	_, _, b := do(t, "POST", url+"/login", `{"username":"admin","password":"admin-pw"}`, map[string]string{"Content-Type": "application/json"})
	var k struct{ Secret string }
	_ = json.Unmarshal(b, &k)
	auth := map[string]string{"Authorization": "Bearer " + k.Secret, "Content-Type": "application/json"}
	if code, _, b := do(t, "PUT", url+"/userGroups", `{"name":"grp1"}`, auth); code != 200 {
		t.Fatalf("write with space = %d %s", code, b)
	}
	free.Store(100 << 20)
	code, hdr, b := do(t, "PUT", url+"/userGroups", `{"name":"grp2"}`, auth)
	if code != 503 || !strings.Contains(string(b), "ServiceUnavailableException") || hdr.Get("Retry-After") == "" {
		t.Fatalf("write on a full disk = %d %s", code, b)
	}
	if code, _, _ := do(t, "GET", url+"/userGroups", "", auth); code != 200 {
		t.Fatalf("read on a full disk = %d", code)
	}
	free.Store(10 << 30)
	if code, _, b := do(t, "PUT", url+"/userGroups", `{"name":"grp2"}`, auth); code != 200 {
		t.Fatalf("write after space returned = %d %s (was the refused one half-applied?)", code, b)
	}
}
