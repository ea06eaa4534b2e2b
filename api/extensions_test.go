package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tsgate/tsgate/server/servertest"
)

// tenantWorld: tenant A (master, via admin) and tenant B (acme) with a tenant admin, each with
// a user group, an object with a token and a comment, an object group, an apikey and a client.
type tenantWorld struct {
	nd          *servertest.Node
	bAdmin      *servertest.Client
	ids         map[string]uint32 // A's ids by route parameter
	aClientName string
}

func newTenantWorld(t *testing.T) *tenantWorld {
	nd := servertest.Start(t)
	a := nd.Admin
	a.Want("PUT", "/tenants", `{"name":"acme"}`, 200, "")
	a.Want("PUT", "/tenants", `{"name":"acme"}`, 400, "DuplicateFieldException")
	a.Want("PUT", "/tenants", `{"name":"X"}`, 400, "WrongParamsException")
	var bUser struct{ ID uint32 }
	a.Want("PUT", "/users?tenant=acme", `{"name":"bob","password":"secret1","email":"bob@acme.test"}`, 200, "").JSON(t, &bUser)
	a.Want("PUT", fmt.Sprintf("/tenants/acme/admins/%d", bUser.ID), "", 200, "")
	a.Want("PUT", fmt.Sprintf("/tenants/acme/admins/%d", bUser.ID), "", 304, "")
	a.Want("PUT", "/users?tenant=nowhere", `{"name":"x","password":"secret1","email":"x@x.test"}`, 404, "ItemNotFoundException")
	b := nd.Login("bob", "secret1")
	b.CreateGroup("acme-team")

	ug := a.CreateGroup("a-team")
	oid := a.CreateObject("a-object", ug, "V")
	tid, _ := a.CreateToken(oid)
	var cm struct{ ID uint32 }
	a.Want("PUT", fmt.Sprintf("/objects/%d/comments", oid), `{"from":"2020-01-01","to":"2020-02-01","comment":"c"}`, 200, "").JSON(t, &cm)
	og := a.CreateObjectGroup("a-group", ug, oid)
	var k struct{ ID uint32 }
	a.Want("PUT", "/apikeys", "", 200, "").JSON(t, &k)
	var cl struct {
		ID       uint32
		ClientID string `json:"clientId"`
	}
	a.Want("PUT", "/clients", `{"name":"a-program"}`, 200, "").JSON(t, &cl)
	return &tenantWorld{nd: nd, bAdmin: b, aClientName: cl.ClientID, ids: map[string]uint32{
		"userGroupId": ug, "objectId": oid, "tokenId": tid, "commentId": cm.ID, "objectGroup": og,
		"apikeyId": k.ID, "userId": 1, "principalId": 1, "client": cl.ID,
	}}
}

// fill replaces a route's parameters with A's ids (foreign=true) or with ids that exist nowhere.
func (w *tenantWorld) fill(path string, foreign bool) string {
	out := []string{}
	for _, seg := range strings.Split(path, "/") {
		if !strings.HasPrefix(seg, "{") {
			out = append(out, seg)
			continue
		}
		name := strings.Trim(seg, "{}")
		if name == "name" {
			if foreign {
				out = append(out, "master")
			} else {
				out = append(out, "no-such-tenant")
			}
			continue
		}
		key := name
		if name == "id" {
			switch {
			case strings.HasPrefix(path, "/objectGroups"):
				key = "objectGroup"
			case strings.HasPrefix(path, "/clients"):
				key = "client"
			default:
				key = "objectId"
			}
		}
		id := uint32(900000 + len(out))
		if foreign {
			id = w.ids[key]
		}
		out = append(out, fmt.Sprint(id))
	}
	return strings.Join(out, "/")
}

// TestCrossTenantIdsAnswerAsNonexistent: for every route with an id, tenant B's admin gets
// exactly the same status and exception for tenant A's ids as for ids that exist nowhere.
func TestOBJ_ALL003_CrossTenantIdsAnswerAsNonexistent(t *testing.T) {
	w := newTenantWorld(t)
	checked := 0
	for _, r := range w.nd.N.API.Router().Routes() {
		if !strings.Contains(r.Path, "{") || r.Access == 0 || strings.HasPrefix(r.Path, "/apikeys") {
			continue // public routes; apikeys are per principal (another's key id is not found either way)
		}
		body := ""
		if r.JSONBody {
			body = `{}`
		}
		foreign := w.bAdmin.Do(r.Method, w.fill(r.Path, true), body)
		missing := w.bAdmin.Do(r.Method, w.fill(r.Path, false), body)
		if foreign.Code != missing.Code || foreign.Exception() != missing.Exception() {
			t.Errorf("%s %s: foreign ids → %d %s, nonexistent → %d %s", r.Method, r.Path,
				foreign.Code, foreign.Body, missing.Code, missing.Body)
		}
		checked++
	}
	if checked < 30 {
		t.Fatalf("only %d routes checked", checked)
	}
	// Listings never show the other tenant's things.
	for _, path := range []string{"/users", "/userGroups", "/objects", "/objectGroups", "/clients", "/tenants"} {
		r := w.bAdmin.Want("GET", path, "", 200, "")
		for _, leak := range []string{"a-team", "a-object", "a-group", "\"admin\"", w.aClientName, "master"} {
			if strings.Contains(string(r.Body), leak) {
				t.Errorf("GET %s shows tenant A's %s: %s", path, leak, r.Body)
			}
		}
	}
}

// TestRestrictedPrincipalRoutes (API-RP001): a principal with a link reads its linked objects
// only and gets 403 on every changing route but its own apikeys and value writes — checked by
// enumerating the router.
func TestOBJ_RP001_OBJ_RP002_OBJ_RP003_LNK_TA001_RestrictedPrincipalRoutes(t *testing.T) {
	nd := servertest.Start(t)
	a := nd.Admin
	ug := a.CreateGroup("team")
	o1, o2 := a.CreateObject("linked", ug, "V"), a.CreateObject("other", ug, "V")
	r := nd.CreateUser("restricted")
	a.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", ug, r.User), "", 200, "")
	if !canRead(r, o2) {
		t.Fatal("member cannot read before being restricted")
	}
	a.Want("PUT", fmt.Sprintf("/users/%d/objects/%d", r.User, o1), "", 200, "")
	a.Want("PUT", fmt.Sprintf("/users/%d/objects/%d", r.User, o1), "", 304, "")
	a.Want("PUT", fmt.Sprintf("/users/%d/objects/%d", 1, o1), "", 403, "ForbiddenException") // never a superuser
	if !canRead(r, o1) || canRead(r, o2) {
		t.Fatalf("restricted reads: linked %v, other %v; want true, false", canRead(r, o1), canRead(r, o2))
	}
	var linked []struct{ ID uint32 }
	a.Want("GET", fmt.Sprintf("/users/%d/objects", r.User), "", 200, "").JSON(t, &linked)
	if len(linked) != 1 || linked[0].ID != o1 {
		t.Errorf("links = %+v", linked)
	}
	checked := 0
	for _, rt := range nd.N.API.Router().Routes() {
		if rt.Method == "GET" || rt.Method == "HEAD" || rt.Access == 0 || rt.RestrictedOK {
			continue
		}
		path := strings.NewReplacer("{id}", fmt.Sprint(o1), "{objectId}", fmt.Sprint(o1), "{userGroupId}", fmt.Sprint(ug),
			"{userId}", fmt.Sprint(r.User), "{name}", "master", "{principalId}", fmt.Sprint(r.User), "{tokenId}", "1",
			"{commentId}", "1").Replace(rt.Path)
		body := ""
		if rt.JSONBody {
			body = `{}`
		}
		if res := r.Do(rt.Method, path, body); res.Code != 403 {
			t.Errorf("restricted %s %s = %d %s, want 403", rt.Method, rt.Path, res.Code, res.Body)
		}
		checked++
	}
	if checked < 30 {
		t.Fatalf("only %d routes checked", checked)
	}
	// Its own apikeys still work, and a writable one writes values of the linked object only
	// (OBJ-RP002).
	r.Want("PUT", "/apikeys", "", 200, "")
	w := r.CreateApikey("writable=true")
	line := func(oid uint32) int {
		return w.Send("POST", "/write?precision=s", "text/plain", []byte(fmt.Sprintf("m,object=%d value=1 1700000000", oid)), nil).Code
	}
	if c1, c2 := line(o1), line(o2); c1 != 204 || c2 != 403 {
		t.Errorf("restricted writes: linked %d, other %d; want 204, 403", c1, c2)
	}
	// Unlinking makes it a plain member again.
	a.Want("DELETE", fmt.Sprintf("/users/%d/objects/%d", r.User, o1), "", 200, "")
	if !canRead(r, o2) {
		t.Errorf("after the last unlink the principal should read through its group again")
	}
}

// TestPublicObjects (API-PUB001): public objects and only their public fields, without credentials.
func TestOBJ_PUB001_PublicObjects(t *testing.T) {
	nd := servertest.Start(t)
	a := nd.Admin
	ug := a.CreateGroup("team")
	oid := a.CreateObject("street light", ug, "lx")
	a.Want("PUT", fmt.Sprintf("/objects/%d/tags?tags=city", oid), "", 200, "")
	anon := nd.Anon()
	anon.Want("GET", fmt.Sprintf("/public/objects/%d", oid), "", 404, "ItemNotFoundException")
	a.Want("POST", fmt.Sprintf("/objects/%d/public", oid), `{"public":true,"fields":["name","unit"]}`, 200, "")
	a.Want("POST", fmt.Sprintf("/objects/%d/public", oid), `{"public":true,"fields":["name","unit"]}`, 304, "")
	a.Want("POST", fmt.Sprintf("/objects/%d/public", oid), `{"public":true,"fields":["owner"]}`, 400, "WrongParamsException")
	var o map[string]any
	anon.Want("GET", fmt.Sprintf("/public/objects/%d", oid), "", 200, "").JSON(t, &o)
	if o["name"] != "street light" || o["unit"] == nil || o["id"] == nil {
		t.Errorf("public object = %v", o)
	}
	for _, hidden := range []string{"tags", "description", "owner", "disabled"} {
		if _, ok := o[hidden]; ok {
			t.Errorf("public object shows %s: %v", hidden, o)
		}
	}
	var list []map[string]any
	anon.Want("GET", "/public/objects", "", 200, "").JSON(t, &list)
	if len(list) != 1 {
		t.Errorf("public list = %v", list)
	}
	// Public read adds nothing to authenticated routes.
	stranger := nd.CreateUser("stranger")
	stranger.Want("GET", fmt.Sprintf("/objects/%d", oid), "", 404, "ItemNotFoundException")
	a.Want("POST", fmt.Sprintf("/objects/%d/public", oid), `{"public":false}`, 200, "")
	anon.Want("GET", fmt.Sprintf("/public/objects/%d", oid), "", 404, "ItemNotFoundException")
}

func TestAUD_TA001_ExplainAndAudit(t *testing.T) {
	nd := servertest.Start(t)
	a := nd.Admin
	ug := a.CreateGroup("team")
	oid := a.CreateObject("o", ug, "V")
	u := nd.CreateUser("member")
	a.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", ug, u.User), "", 200, "")
	var x struct {
		Allowed bool
		By      []string
		Reason  string
	}
	a.Want("GET", fmt.Sprintf("/explain?principal=%d&object=%d&verb=read", u.User, oid), "", 200, "").JSON(t, &x)
	if !x.Allowed || len(x.By) == 0 {
		t.Errorf("explain read = %+v", x)
	}
	a.Want("GET", fmt.Sprintf("/explain?principal=%d&object=%d&verb=manage", u.User, oid), "", 200, "").JSON(t, &x)
	if x.Allowed || x.Reason == "" {
		t.Errorf("explain manage = %+v", x)
	}
	a.Want("GET", fmt.Sprintf("/explain?principal=%d&object=%d&verb=fly", u.User, oid), "", 400, "WrongParamsException")
	a.Want("GET", fmt.Sprintf("/explain?principal=%d&object=%d", u.User, oid), "", 400, "MissingServletRequestParameterException")
	u.Want("GET", fmt.Sprintf("/explain?principal=%d&object=%d&verb=read", u.User, oid), "", 403, "ForbiddenException")
	// Denied requests and changes are audited, newest first: a 403, and a 404 that hid an
	// existing object from a stranger (a missing one is not recorded).
	u.Want("DELETE", fmt.Sprintf("/userGroups/%d/users/%d", ug, 1), "", 403, "ForbiddenException")
	stranger := nd.CreateUser("stranger")
	stranger.Want("GET", fmt.Sprintf("/objects/%d", oid), "", 404, "ItemNotFoundException")
	stranger.Want("GET", "/objects/999999/stats", "", 404, "ItemNotFoundException")
	a.Want("DELETE", fmt.Sprintf("/userGroups/%d/users/%d", ug, u.User), "", 200, "")
	var es []struct {
		Action string
		Actor  uint32
		Status int
		Target map[string]any
	}
	a.Want("GET", "/audit", "", 200, "").JSON(t, &es)
	if len(es) < 3 || es[0].Action != "member.remove" {
		t.Fatalf("audit = %+v", es)
	}
	seen := map[string]bool{}
	deniedRoutes := map[string]bool{}
	for _, e := range es {
		seen[e.Action] = true
		if e.Action == "denied" && e.Actor != stranger.User {
			if e.Actor != u.User || e.Status != 403 {
				t.Errorf("denied entry = %+v", e)
			}
			deniedRoutes[fmt.Sprint(e.Target["route"])] = true
		}
	}
	var hidden []int
	var strangerEntries int
	for _, e := range es {
		if e.Actor == stranger.User && e.Action == "denied" {
			strangerEntries++
			hidden = append(hidden, e.Status)
		}
	}
	if strangerEntries != 1 || hidden[0] != 404 {
		t.Errorf("stranger's audited denials = %v, want exactly the 404 on the existing object", hidden)
	}
	if !deniedRoutes["/userGroups/{userGroupId}/users/{userId}"] || !deniedRoutes["/explain"] {
		t.Errorf("denied routes recorded = %v", deniedRoutes)
	}
	for _, want := range []string{"member.add", "member.remove", "denied", "object.create"} {
		if !seen[want] {
			t.Errorf("audit lacks %s: %+v", want, es)
		}
	}
	a.Want("GET", fmt.Sprintf("/audit?principal=%d", u.User), "", 200, "").JSON(t, &es)
	for _, e := range es {
		if e.Actor != u.User {
			t.Errorf("principal filter let %+v through", e)
		}
	}
	a.Want("GET", "/audit?size=5000", "", 400, "WrongParamsException")
	u.Want("GET", "/audit", "", 403, "ForbiddenException")
}
