// Package servertest starts real tsgate nodes for black-box tests: a node on a random
// loopback port with a temporary data directory, and HTTP clients that carry one principal's
// credentials. Only tests import it.
package servertest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/tsgate/tsgate/server"
)

// Node is a real tsgate node served on a random loopback port, with a logged-in admin.
type Node struct {
	T     testing.TB
	N     *server.Node
	URL   string
	Admin *Client
}

// Start opens a node on a fresh temporary data directory (admin password "admin-pw", minimum
// hash cost), serves it on 127.0.0.1 and logs admin in. It stops when the test ends.
func Start(t testing.TB) *Node {
	t.Helper()
	return StartWith(t, nil)
}

// StartWith is Start with configure, when not nil, applied to the node's configuration
// before it opens (e.g. a tiny HeadBytes to reach backpressure).
func StartWith(t testing.TB, configure func(*server.Config)) *Node {
	t.Helper()
	cfg := server.Config{DataDir: t.TempDir(), AdminPassword: "admin-pw", PasswordCost: 4, MinFreeDisk: -1}
	if configure != nil {
		configure(&cfg)
	}
	n, err := server.Open(cfg)
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
	nd := &Node{T: t, N: n, URL: "http://" + ln.Addr().String()}
	nd.Admin = nd.Login("admin", "admin-pw")
	return nd
}

// Client sends requests with one principal's credentials (bbuser + bbtoken).
type Client struct {
	Nd     *Node
	User   uint32
	Secret string
	Hdr    map[string]string
}

// Resp is a response: status, body, headers.
type Resp struct {
	Code int
	Body []byte
	Hdr  http.Header
}

// JSON decodes the body into v or fails the test.
func (r Resp) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
}

// Exception is the error body's exception name ("" when none).
func (r Resp) Exception() string {
	var m struct {
		Exception string `json:"exception"`
	}
	_ = json.Unmarshal(r.Body, &m)
	return m.Exception
}

// Login logs a user in and returns a client with its login key.
func (nd *Node) Login(name, password string) *Client {
	nd.T.Helper()
	r := nd.Anon().Do("POST", "/login", fmt.Sprintf(`{"username":%q,"password":%q}`, name, password))
	if r.Code != 200 {
		nd.T.Fatalf("login %s = %d %s", name, r.Code, r.Body)
	}
	var k struct {
		UserID uint32 `json:"userId"`
		Secret string `json:"secret"`
	}
	r.JSON(nd.T, &k)
	return &Client{Nd: nd, User: k.UserID, Secret: k.Secret}
}

// Anon returns a client without credentials.
func (nd *Node) Anon() *Client { return &Client{Nd: nd} }

// Do sends one request (a non-empty body as application/json) and returns the response.
func (c *Client) Do(method, path, body string) Resp {
	c.Nd.T.Helper()
	ctype := ""
	if body != "" {
		ctype = "application/json"
	}
	return c.Send(method, path, ctype, []byte(body), nil)
}

// Want sends a request and checks the status (and, for errors, the exception name).
func (c *Client) Want(method, path, body string, code int, exception string) Resp {
	c.Nd.T.Helper()
	r := c.Do(method, path, body)
	if r.Code != code || (exception != "" && r.Exception() != exception) {
		c.Nd.T.Fatalf("%s %s %s = %d %s; want %d %s", method, path, body, r.Code, r.Body, code, exception)
	}
	return r
}

// CreateUser makes a user through the API and logs it in.
func (nd *Node) CreateUser(name string) *Client {
	nd.T.Helper()
	nd.Admin.Want("PUT", "/users", fmt.Sprintf(`{"name":%q,"password":"testtest","email":"%s@example.com"}`, name, name), 200, "")
	return nd.Login(name, "testtest")
}

// CreateGroup makes a user group as c and returns its id.
func (c *Client) CreateGroup(name string) uint32 {
	c.Nd.T.Helper()
	r := c.Want("PUT", "/userGroups", fmt.Sprintf(`{"name":%q}`, name), 200, "")
	var g struct{ ID uint32 }
	r.JSON(c.Nd.T, &g)
	return g.ID
}

// Basic is the base64 of an HTTP Basic credential.
func Basic(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// CreateObject creates an object owned by user group owner as c and returns its id.
func (c *Client) CreateObject(name string, owner uint32, unit string) uint32 {
	c.Nd.T.Helper()
	var o struct{ ID uint32 }
	c.Want("PUT", "/objects", fmt.Sprintf(`{"name":%q,"owner":%d,"unitSymbol":%q}`, name, owner, unit), 200, "").JSON(c.Nd.T, &o)
	return o.ID
}

// CreateObjectGroup creates an object group owned by owner with the given objects.
func (c *Client) CreateObjectGroup(name string, owner uint32, objects ...uint32) uint32 {
	c.Nd.T.Helper()
	var g struct{ ID uint32 }
	c.Want("PUT", "/objectGroups", fmt.Sprintf(`{"name":%q,"owner":%d}`, name, owner), 200, "").JSON(c.Nd.T, &g)
	for _, o := range objects {
		c.Want("PUT", fmt.Sprintf("/objectGroups/%d/objects/%d", g.ID, o), "", 200, "")
	}
	return g.ID
}

// CreateToken creates a token of object oid as c and returns its id and secret.
func (c *Client) CreateToken(oid uint32) (uint32, string) {
	c.Nd.T.Helper()
	var t struct {
		ID    uint32 `json:"id"`
		Token string `json:"token"`
	}
	c.Want("PUT", fmt.Sprintf("/objects/%d/tokens", oid), "", 200, "").JSON(c.Nd.T, &t)
	return t.ID, t.Token
}

// CreateApikey creates an apikey of c's principal with the query (e.g. "writable=true") and
// returns a client using it.
func (c *Client) CreateApikey(query string) *Client {
	c.Nd.T.Helper()
	var k struct {
		Secret string `json:"secret"`
	}
	c.Want("PUT", "/apikeys?"+query, "", 200, "").JSON(c.Nd.T, &k)
	return &Client{Nd: c.Nd, User: c.User, Secret: k.Secret}
}

// Send sends one request with a content type (none when "") and extra headers.
func (c *Client) Send(method, path, contentType string, body []byte, hdr map[string]string) Resp {
	c.Nd.T.Helper()
	req, err := http.NewRequest(method, c.Nd.URL+path, bytes.NewReader(body))
	if err != nil {
		c.Nd.T.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Secret != "" {
		req.Header.Set("bbuser", fmt.Sprint(c.User))
		req.Header.Set("bbtoken", c.Secret)
	}
	for k, v := range c.Hdr {
		req.Header.Set(k, v)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.Nd.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Resp{Code: res.StatusCode, Body: b, Hdr: res.Header}
}
