package api_test

import (
	"strings"
	"testing"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/server/servertest"
)

// moduleOf is API.md §3.4's module of a route: data (values in and out), meta (objects, object
// groups, units, tokens, comments, shares, public flags) or auth (users, groups, apikeys,
// tenants, clients, restricted links, explain, audit).
func moduleOf(path string) string {
	switch {
	case strings.Contains(path, "/values"), strings.HasSuffix(path, "/stats"), path == "/query",
		path == "/write", path == "/api/v2/write":
		return "data"
	case strings.HasPrefix(path, "/users/{userId}/objects"):
		return "auth" // restricted links
	case strings.HasPrefix(path, "/users"), strings.HasPrefix(path, "/userGroups"), strings.HasPrefix(path, "/apikeys"),
		strings.HasPrefix(path, "/tenants"), strings.HasPrefix(path, "/clients"), strings.HasPrefix(path, "/me/"),
		path == "/explain", path == "/audit", strings.HasPrefix(path, "/admin"):
		return "auth"
	case strings.HasPrefix(path, "/objects"), strings.HasPrefix(path, "/objectGroups"), strings.HasPrefix(path, "/units"):
		return "meta"
	}
	return ""
}

// TestEveryRouteDeclaresTheScopeOfAPI34 enumerates the router: GET routes need read:<module>,
// writing values needs use:data (its write part), POST /query is a read, every other non-GET
// route manage:<module>; /login, /logout and /me need none; public routes none.
func TestKEY_ANY002_EveryRouteDeclaresTheScopeOfAPI34(t *testing.T) {
	nd := servertest.Start(t)
	for _, r := range nd.N.API.Router().Routes() {
		want := ""
		switch {
		case r.Access == api.Public, r.Path == "/logout", r.Path == "/me":
			want = ""
		case r.Path == "/write" || r.Path == "/api/v2/write":
			want = "use:data:write"
		case r.Path == "/query" || r.Method == "GET" || r.Method == "HEAD":
			want = "read:" + moduleOf(r.Path)
		default:
			want = "manage:" + moduleOf(r.Path)
		}
		if strings.HasSuffix(want, ":") {
			t.Errorf("%s %s: no module for this path", r.Method, r.Path)
			continue
		}
		if r.Scope != want {
			t.Errorf("%s %s declares scope %q, want %q", r.Method, r.Path, r.Scope, want)
		}
	}
}
