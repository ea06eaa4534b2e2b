package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tsgate/tsgate/acl"
	"github.com/tsgate/tsgate/server"
)

// startNode opens a node on dir and serves it on a random loopback port.
func startNode(t *testing.T, dir, password string) (*server.Node, string) {
	t.Helper()
	n, err := server.Open(server.Config{DataDir: dir, AdminPassword: password, PasswordCost: 4})
	if err != nil {
		t.Fatalf("open node: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = n.Serve(ln); close(done) }()
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
		<-done
	})
	return n, "http://" + ln.Addr().String()
}

func do(t *testing.T, method, url, body string, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// errorBody checks that b is the JSON error body with the given exception.
func errorBody(t *testing.T, b []byte, exception string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("error body is not JSON: %q", b)
	}
	if m["exception"] != exception {
		t.Fatalf("exception = %v, want %q (body %s)", m["exception"], exception, b)
	}
	if _, ok := m["details"]; !ok {
		t.Fatalf("error body has no details: %s", b)
	}
	return m
}

func TestAboutHealthMetrics(t *testing.T) {
	_, url := startNode(t, t.TempDir(), "secret-pw")
	code, hdr, b := do(t, "GET", url+"/about", "", nil)
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /about = %d %s", code, hdr.Get("Content-Type"))
	}
	var about map[string]any
	if err := json.Unmarshal(b, &about); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"build", "git", "instance-name", "repo-url", "server-time"} {
		if _, ok := about[k]; !ok {
			t.Errorf("/about lacks %q: %s", k, b)
		}
	}
	if build, _ := about["build"].(map[string]any); build["name"] != "tsgate" || build["version"] == "" {
		t.Errorf("/about build = %v", about["build"])
	}
	if code, _, b := do(t, "GET", url+"/health", "", nil); code != 200 || string(b) != `{"status":"ok"}` {
		t.Errorf("GET /health = %d %s", code, b)
	}
	code, _, b = do(t, "GET", url+"/metrics", "", nil)
	if code != 200 || !strings.Contains(string(b), "tsgate_http_requests_total{") || !strings.Contains(string(b), "process_resident_memory_bytes") {
		t.Errorf("GET /metrics = %d, missing tsgate/process metrics:\n%.500s", code, b)
	}
	if code, _, b := do(t, "GET", url+"/types", "", nil); code != 200 || string(b) != `["bool","float","int","string"]` {
		t.Errorf("GET /types = %d %s", code, b)
	}
}

func TestErrorBodies(t *testing.T) {
	_, url := startNode(t, t.TempDir(), "secret-pw")
	code, _, b := do(t, "GET", url+"/no/such/route", "", nil)
	if code != 404 {
		t.Fatalf("unknown route = %d", code)
	}
	errorBody(t, b, "Not Found")

	code, _, b = do(t, "DELETE", url+"/about", "", nil)
	if code != 405 {
		t.Fatalf("wrong method = %d", code)
	}
	errorBody(t, b, "HttpRequestMethodNotSupportedException")

	// Oversized headers are answered by the same error writer.
	code, _, b = do(t, "GET", url+"/about", "", map[string]string{"X-Big": strings.Repeat("a", 64<<10)})
	if code != 431 {
		t.Fatalf("oversized header = %d %s", code, b)
	}
	errorBody(t, b, "RequestHeaderFieldsTooLargeException")
}

func TestCORSAndOptions(t *testing.T) {
	_, url := startNode(t, t.TempDir(), "secret-pw")
	// OPTIONS is never authenticated, on any path.
	code, hdr, _ := do(t, "OPTIONS", url+"/objects/1/values", "", map[string]string{"Origin": "http://example.test"})
	if code != 200 {
		t.Fatalf("OPTIONS = %d", code)
	}
	if hdr.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(hdr.Get("Access-Control-Allow-Headers"), "bbtoken") {
		t.Errorf("CORS headers = %v", hdr)
	}
	_, hdr, _ = do(t, "GET", url+"/about", "", nil)
	if hdr.Get("Access-Control-Allow-Origin") != "*" || hdr.Get("Access-Control-Expose-Headers") != "Retry-After" {
		t.Errorf("CORS headers on GET = %v", hdr)
	}
}

func TestBootstrapOnceAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	n, err := server.Open(server.Config{DataDir: dir, PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	pw := n.GeneratedPassword
	if len(pw) < 16 {
		t.Fatalf("generated admin password %q is too short", pw)
	}
	if _, err := n.ACL.Login("admin", pw); err != nil {
		t.Fatalf("admin cannot log in with the generated password: %v", err)
	}
	if got := countSuperusers(t, n); got != 1 {
		t.Fatalf("superusers after bootstrap = %d, want 1", got)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	// Restart (with a password given this time): nothing is created again, the old password
	// still works, the given one is ignored.
	n, err = server.Open(server.Config{DataDir: dir, AdminPassword: "another-one", PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.GeneratedPassword != "" {
		t.Fatalf("restart generated a password again")
	}
	if got := countSuperusers(t, n); got != 1 {
		t.Fatalf("superusers after restart = %d, want 1", got)
	}
	if _, err := n.ACL.Login("admin", pw); err != nil {
		t.Fatalf("admin password changed by restart: %v", err)
	}
	if _, err := n.ACL.Login("admin", "another-one"); err == nil {
		t.Fatalf("restart replaced the admin password")
	}
}

// countSuperusers counts the admin members of user group 1 and the users in the store.
func countSuperusers(t *testing.T, n *server.Node) int {
	t.Helper()
	members, err := n.ACL.Members(0, acl.SuperGroup)
	if err != nil {
		t.Fatal(err)
	}
	supers := 0
	for _, m := range members {
		if m.Admin {
			supers++
		}
	}
	if users := n.ACL.Principals(acl.MasterTenant, acl.KindUser); len(users) != 1 || users[0].Name != "admin" || users[0].ID != acl.AdminUser {
		t.Fatalf("users after bootstrap = %+v, want exactly admin (id 1)", users)
	}
	return supers
}

// TestDashboardUsesRealMetricNames: every metric docs/deploy/grafana-dashboard.json queries is
// exposed by a node's /metrics.
func TestDashboardUsesRealMetricNames(t *testing.T) {
	_, url := startNode(t, t.TempDir(), "secret-pw")
	// Histograms appear once observed: one (rejected) write request.
	do(t, "POST", url+"/objects/values", "[]", map[string]string{"Content-Type": "application/json"})
	_, _, exposed := do(t, "GET", url+"/metrics", "", nil)
	dash, err := os.ReadFile("../docs/deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`\b(?:tsgate|process)_[a-z0-9_]+`).FindAllString(string(dash), -1)
	if len(names) < 10 {
		t.Fatalf("only %d metric names found in the dashboard", len(names))
	}
	for _, name := range names {
		base := strings.TrimSuffix(name, "_bucket")
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(base) + `(_bucket)?[{ ]`).Match(exposed) {
			t.Errorf("dashboard metric %s is not exposed by /metrics", name)
		}
	}
}

// TestMaxQueryPointsIsWired: the node passes Config.MaxQueryPoints to the read endpoints.
func TestMaxQueryPointsIsWired(t *testing.T) {
	n, err := server.Open(server.Config{DataDir: t.TempDir(), AdminPassword: "secret-pw", PasswordCost: 4, MinFreeDisk: -1, MaxQueryPoints: 2})
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
	_, _, b := do(t, "POST", url+"/login", `{"username":"admin","password":"secret-pw"}`, map[string]string{"Content-Type": "application/json"})
	var k struct{ Secret string }
	_ = json.Unmarshal(b, &k)
	auth := map[string]string{"Authorization": "Bearer " + k.Secret, "Content-Type": "application/json"}
	_, _, b = do(t, "PUT", url+"/userGroups", `{"name":"team"}`, auth)
	var g struct{ ID uint32 }
	_ = json.Unmarshal(b, &g)
	_, _, b = do(t, "PUT", url+"/objects", fmt.Sprintf(`{"name":"o","owner":%d,"unitSymbol":"V"}`, g.ID), auth)
	var o struct{ ID uint32 }
	_ = json.Unmarshal(b, &o)
	lines := fmt.Sprintf("m,object=%d value=1 1600000000000\nm,object=%d value=2 1600000001000\nm,object=%d value=3 1600000002000", o.ID, o.ID, o.ID)
	if code, _, b := do(t, "POST", url+"/write?precision=ms", lines, map[string]string{"Authorization": auth["Authorization"]}); code != 204 {
		t.Fatalf("write = %d %s", code, b)
	}
	code, _, b := do(t, "GET", fmt.Sprintf("%s/objects/%d/values?from=2020-01-01", url, o.ID), "", auth)
	if code != 400 || !strings.Contains(string(b), "WrongParamsException") {
		t.Fatalf("3 rows with a cap of 2 = %d %s", code, b)
	}
}
