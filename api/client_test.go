package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/tsgate/tsgate/server"
)

// node is a real tsgate node served on a random loopback port, with a logged-in admin.
type node struct {
	t     *testing.T
	n     *server.Node
	url   string
	admin *client
}

func startNode(t *testing.T) *node {
	t.Helper()
	n, err := server.Open(server.Config{DataDir: t.TempDir(), AdminPassword: "admin-pw", PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = n.Serve(ln); close(done) }()
	t.Cleanup(func() { _ = n.Close(); <-done })
	nd := &node{t: t, n: n, url: "http://" + ln.Addr().String()}
	nd.admin = nd.login("admin", "admin-pw")
	return nd
}

// client sends requests with one principal's credentials (bbuser + bbtoken).
type client struct {
	nd     *node
	user   uint32
	secret string
	hdr    map[string]string
}

type resp struct {
	code int
	body []byte
	hdr  http.Header
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
}

func (r resp) exception() string {
	var m struct {
		Exception string `json:"exception"`
	}
	_ = json.Unmarshal(r.body, &m)
	return m.Exception
}

func (nd *node) login(name, password string) *client {
	nd.t.Helper()
	r := nd.anon().do("POST", "/login", fmt.Sprintf(`{"username":%q,"password":%q}`, name, password))
	if r.code != 200 {
		nd.t.Fatalf("login %s = %d %s", name, r.code, r.body)
	}
	var k struct {
		UserID uint32 `json:"userId"`
		Secret string `json:"secret"`
	}
	r.json(nd.t, &k)
	return &client{nd: nd, user: k.UserID, secret: k.Secret}
}

func (nd *node) anon() *client { return &client{nd: nd} }

func (c *client) do(method, path, body string) resp {
	c.nd.t.Helper()
	req, err := http.NewRequest(method, c.nd.url+path, strings.NewReader(body))
	if err != nil {
		c.nd.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.secret != "" {
		req.Header.Set("bbuser", fmt.Sprint(c.user))
		req.Header.Set("bbtoken", c.secret)
	}
	for k, v := range c.hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.nd.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{code: res.StatusCode, body: b, hdr: res.Header}
}

// want checks the status (and, for errors, the exception name).
func (c *client) want(method, path, body string, code int, exception string) resp {
	c.nd.t.Helper()
	r := c.do(method, path, body)
	if r.code != code || (exception != "" && r.exception() != exception) {
		c.nd.t.Fatalf("%s %s %s = %d %s; want %d %s", method, path, body, r.code, r.body, code, exception)
	}
	return r
}

// createUser makes a user through the API and logs it in.
func (nd *node) createUser(name string) *client {
	nd.t.Helper()
	nd.admin.want("PUT", "/users", fmt.Sprintf(`{"name":%q,"password":"testtest","email":"%s@example.com"}`, name, name), 200, "")
	return nd.login(name, "testtest")
}

// createGroup makes a user group as c and returns its id.
func (c *client) createGroup(name string) uint32 {
	c.nd.t.Helper()
	r := c.want("PUT", "/userGroups", fmt.Sprintf(`{"name":%q}`, name), 200, "")
	var g struct{ ID uint32 }
	r.json(c.nd.t, &g)
	return g.ID
}

func basic(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
