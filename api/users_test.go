package api_test

import (
	"fmt"
	"strings"
	"testing"
)

func TestAuthenticationCheckOrder(t *testing.T) {
	nd := startNode(t)
	anon := nd.anon()
	anon.want("GET", "/me", "", 401, "UnauthorizedException")
	(&client{nd: nd, hdr: map[string]string{"bbuser": "abc", "bbtoken": "x"}}).want("GET", "/me", "", 403, "BadApikeyException")
	(&client{nd: nd, hdr: map[string]string{"bbuser": "1", "bbtoken": "nope"}}).want("GET", "/me", "", 403, "BadApikeyException")
	(&client{nd: nd, hdr: map[string]string{"Authorization": "Basic !!notbase64"}}).want("GET", "/me", "", 403, "BadApikeyException")
	r := (&client{nd: nd, hdr: map[string]string{"Authorization": "Bearer nope"}}).want("GET", "/me", "", 403, "BadApikeyException")
	if !strings.Contains(string(r.body), "bad apikey") {
		t.Errorf("bad bearer body = %s", r.body)
	}
	// Every credential form works with a good key.
	a := nd.admin
	for _, hdr := range []map[string]string{
		{"bbuser": "1", "bbtoken": a.secret},
		{"Authorization": "Bearer " + a.secret},
		{"Authorization": "Token " + a.secret},
		{"Authorization": "Basic " + basic("1:"+a.secret)},
	} {
		(&client{nd: nd, hdr: hdr}).want("GET", "/me", "", 200, "")
	}
	// A read-only key on a write route: 403 read-only, before the body is even parsed.
	r = a.want("PUT", "/apikeys?writable=false", "", 200, "")
	var ro struct {
		Secret string `json:"secret"`
	}
	r.json(t, &ro)
	roc := &client{nd: nd, user: 1, secret: ro.Secret}
	roc.want("GET", "/me", "", 200, "")
	r = roc.want("PUT", "/userGroups", `{not json`, 403, "ForbiddenException")
	if !strings.Contains(string(r.body), "read-only") {
		t.Errorf("read-only body = %s", r.body)
	}
}

func TestLoginLogoutAndApikeys(t *testing.T) {
	nd := startNode(t)
	nd.anon().want("POST", "/login", `{"username":"admin","password":"wrong"}`, 403, "ForbiddenException")
	nd.anon().want("POST", "/login", `{"username":"admin"}`, 400, "WrongParamsException")
	nd.anon().want("POST", "/login", `{"username":`, 400, "HttpMessageNotReadableException")
	// Case-insensitive user name.
	c := nd.login("ADMIN", "admin-pw")
	var me struct {
		ID   uint32 `json:"id"`
		Name string `json:"name"`
	}
	c.want("GET", "/me", "", 200, "").json(t, &me)
	if me.ID != 1 || me.Name != "admin" {
		t.Fatalf("/me = %+v", me)
	}
	// Later reads mask the secret.
	var keys []struct {
		ID          uint32  `json:"id"`
		Secret      string  `json:"secret"`
		Description *string `json:"description"`
		ReadOnly    bool    `json:"readOnly"`
		Expiration  *string `json:"expirationDate"`
	}
	c.want("GET", "/apikeys", "", 200, "").json(t, &keys)
	if len(keys) != 2 {
		t.Fatalf("apikeys = %+v", keys)
	}
	for _, k := range keys {
		if len([]rune(k.Secret)) != 5 || !strings.HasSuffix(k.Secret, "…") || k.Description == nil || *k.Description != "auto_login" || k.Expiration == nil {
			t.Errorf("listed key = %+v: want masked secret, auto_login, an expiry", k)
		}
	}
	// Expiration forms of the original's tests.
	for in, check := range map[string]string{"2070-01-04Z": "2070-01-04T00:00:00.000Z", "2070-01-04T10:00": "2070-01-04T10:00:00.000Z"} {
		var k struct {
			Expiration string `json:"expirationDate"`
		}
		c.want("PUT", "/apikeys?writable=true&expirationDate="+in, "", 200, "").json(t, &k)
		if k.Expiration != check {
			t.Errorf("expirationDate=%s → %s, want %s", in, k.Expiration, check)
		}
	}
	c.want("PUT", "/apikeys?expirationDate=tomorrow", "", 400, "WrongParamsException")
	// Update, then delete: 200 then 304.
	var k struct {
		ID       uint32 `json:"id"`
		ReadOnly bool   `json:"readOnly"`
	}
	c.want("PUT", "/apikeys?writable=true", `{"description":"mine"}`, 200, "").json(t, &k)
	c.want("POST", fmt.Sprintf("/apikeys/%d", k.ID), `{"readOnly":true,"expirationDate":"null"}`, 200, "").json(t, &k)
	if !k.ReadOnly {
		t.Errorf("update did not set readOnly")
	}
	c.want("DELETE", fmt.Sprintf("/apikeys/%d", k.ID), "", 200, "")
	c.want("DELETE", fmt.Sprintf("/apikeys/%d", k.ID), "", 304, "")
	c.want("POST", "/apikeys/999999", `{}`, 404, "ItemNotFoundException")
	// Logout revokes the key at once.
	c.want("POST", "/logout", "", 200, "")
	c.want("GET", "/me", "", 403, "BadApikeyException")
}

func TestLoginFailuresAreRateLimited(t *testing.T) {
	nd := startNode(t)
	for i := 0; i < 10; i++ {
		nd.anon().want("POST", "/login", `{"username":"admin","password":"wrong"}`, 403, "ForbiddenException")
	}
	r := nd.anon().want("POST", "/login", `{"username":"admin","password":"admin-pw"}`, 429, "TooManyRequestsException")
	if r.hdr.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	// Another name from the same address is not limited.
	nd.anon().want("POST", "/login", `{"username":"someone","password":"x"}`, 403, "ForbiddenException")
}

// TestFixtureScenario rebuilds the original's test fixture users and groups (bbdata-v2.md §5.1)
// through the API and checks the rights on users and user groups it implies.
func TestFixtureScenario(t *testing.T) {
	nd := startNode(t)
	regular := nd.createUser("regular_user")
	noRights := nd.createUser("no_rights_user")
	gRegular := regular.createGroup("regular")
	gOther := nd.admin.createGroup("other")
	nd.admin.want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", gOther, regular.user), "", 200, "")
	nd.admin.want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", gOther, regular.user), "", 304, "")

	// Everyone lists users and user groups.
	var us []struct{ Name string }
	noRights.want("GET", "/users", "", 200, "").json(t, &us)
	if len(us) != 3 {
		t.Errorf("users = %+v", us)
	}
	var gs []struct{ ID uint32 }
	noRights.want("GET", "/userGroups", "", 200, "").json(t, &gs)
	if len(gs) != 3 {
		t.Errorf("userGroups = %+v", gs)
	}
	noRights.want("GET", fmt.Sprintf("/userGroups/%d", gRegular), "", 200, "")
	noRights.want("GET", "/userGroups/9999", "", 404, "ItemNotFoundException")
	// Members are visible to members and superusers only.
	noRights.want("GET", fmt.Sprintf("/userGroups/%d/users", gRegular), "", 404, "ItemNotFoundException")
	regular.want("GET", fmt.Sprintf("/userGroups/%d/users", gOther), "", 200, "")
	// A plain member may not manage the group: 403; a non-member: 404.
	regular.want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", gOther, noRights.user), "", 403, "ForbiddenException")
	noRights.want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", gRegular, noRights.user), "", 404, "ItemNotFoundException")
	// The admin of a group adds and flips members; the flip is visible at once.
	regular.want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", gRegular, noRights.user), "", 200, "")
	var m struct{ Admin bool }
	regular.want("GET", fmt.Sprintf("/userGroups/%d/users/%d", gRegular, noRights.user), "", 200, "").json(t, &m)
	if m.Admin {
		t.Errorf("new member is admin")
	}
	regular.want("PUT", fmt.Sprintf("/userGroups/%d/users/%d?admin=true", gRegular, noRights.user), "", 200, "")
	noRights.want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", gRegular, 1), "", 200, "")
	regular.want("DELETE", fmt.Sprintf("/userGroups/%d/users/%d", gRegular, 1), "", 200, "")
	regular.want("DELETE", fmt.Sprintf("/userGroups/%d/users/%d", gRegular, 1), "", 304, "")
	// /me/userGroups and its admin filter.
	var mine []struct {
		ID    uint32
		Admin bool
	}
	regular.want("GET", "/me/userGroups", "", 200, "").json(t, &mine)
	if len(mine) != 2 {
		t.Errorf("regular's groups = %+v", mine)
	}
	regular.want("GET", "/me/userGroups?admin=true", "", 200, "").json(t, &mine)
	if len(mine) != 1 || mine[0].ID != gRegular {
		t.Errorf("regular's admin groups = %+v", mine)
	}
	nd.admin.want("GET", "/me/userGroups?admin=true", "", 200, "").json(t, &mine)
	if len(mine) != 3 {
		t.Errorf("superuser's groups = %+v, want all", mine)
	}
	// Group 1 cannot be deleted; a plain member cannot delete; a missing group is 304.
	nd.admin.want("DELETE", "/userGroups/1", "", 403, "ForbiddenException")
	regular.want("DELETE", fmt.Sprintf("/userGroups/%d", gOther), "", 403, "ForbiddenException")
	regular.want("DELETE", "/userGroups/9999", "", 304, "")
	nd.admin.want("DELETE", fmt.Sprintf("/userGroups/%d", gOther), "", 200, "")
}

func TestUserValidationAndDuplicates(t *testing.T) {
	nd := startNode(t)
	a := nd.admin
	r := a.want("PUT", "/users", `{"name":"","password":"abc","email":"bad"}`, 400, "WrongParamsException")
	for _, f := range []string{"name", "password", "email"} {
		if !strings.Contains(string(r.body), f) {
			t.Errorf("validation body %s lacks %s", r.body, f)
		}
	}
	a.want("PUT", "/users", `{"name":"bob","password":"secret1","email":"bob@example.com"}`, 200, "")
	a.want("PUT", "/users", `{"name":"BOB","password":"secret1","email":"bob2@example.com"}`, 400, "DuplicateFieldException")
	a.want("PUT", "/users", `{"name":1}`, 400, "HttpMessageNotReadableException")
	a.want("GET", "/users/abc", "", 400, "MethodArgumentTypeMismatchException")
	a.want("GET", "/users/424242", "", 404, "ItemNotFoundException")
	// With a group the caller does not administer, nothing is created.
	bob := nd.login("bob", "secret1")
	g := a.createGroup("admins-only")
	bob.want("PUT", fmt.Sprintf("/users?userGroupId=%d", g), `{"name":"carol","password":"secret1","email":"c@example.com"}`, 404, "ItemNotFoundException")
	a.want("GET", "/users", "", 200, "")
	if strings.Contains(string(a.do("GET", "/users", "").body), "carol") {
		t.Errorf("carol was created although the membership was refused")
	}
}

func TestDeleteUserAndUnits(t *testing.T) {
	nd := startNode(t)
	bob := nd.createUser("bob")
	var u struct{ ID uint32 }
	nd.admin.want("PUT", "/users", `{"name":"carol","password":"secret1","email":"c@example.com"}`, 200, "").json(t, &u)
	// Not a superuser: 403 before anything else, even for a missing user.
	bob.want("DELETE", fmt.Sprintf("/users/%d", u.ID), "", 403, "ForbiddenException")
	bob.want("DELETE", "/users/424242", "", 403, "ForbiddenException")
	nd.admin.want("DELETE", "/users/1", "", 403, "ForbiddenException")
	nd.admin.want("DELETE", fmt.Sprintf("/users/%d", u.ID), "", 200, "")
	nd.admin.want("DELETE", fmt.Sprintf("/users/%d", u.ID), "", 304, "")
	nd.anon().want("POST", "/login", `{"username":"carol","password":"secret1"}`, 403, "ForbiddenException")

	nd.admin.want("POST", "/units", `{"symbol":"","name":"x"}`, 400, "WrongParamsException")
	bob.want("POST", "/units", `{"symbol":"mm","name":"millimetre","type":"float"}`, 403, "ForbiddenException")
	nd.admin.want("POST", "/units", `{"symbol":"mm","name":"millimetre","type":"complex"}`, 400, "WrongParamsException")
	r := nd.admin.want("POST", "/units", `{"symbol":"mm","name":"millimetre","type":"float"}`, 200, "")
	if string(r.body) != `{"symbol":"mm","name":"millimetre","type":"float"}` {
		t.Errorf("created unit = %s", r.body)
	}
	nd.admin.want("POST", "/units", `{"symbol":"mm","name":"other","type":"float"}`, 400, "DuplicateFieldException")
	var units []struct{ Symbol, Name, Type string }
	nd.anon().want("GET", "/units", "", 200, "").json(t, &units)
	seen := map[string]string{}
	for _, u := range units {
		seen[u.Symbol] = u.Type
	}
	// The original's seed units with their types, plus the new one.
	for sym, typ := range map[string]string{" ": "string", "%": "float", "°C": "float", "char": "string", "h": "int", "Here": "bool", "Hz": "float", "kW": "float", "lx": "float", "V": "float", "W": "float", "mm": "float"} {
		if seen[sym] != typ {
			t.Errorf("unit %q type = %q, want %q", sym, seen[sym], typ)
		}
	}
}

func TestRouteScopes(t *testing.T) {
	nd := startNode(t)
	var k struct{ Secret string }
	nd.admin.want("PUT", "/apikeys?writable=true&scopes=read:data", "", 200, "").json(t, &k)
	c := &client{nd: nd, user: 1, secret: k.Secret}
	r := c.want("GET", "/objects", "", 403, "ForbiddenException")
	if !strings.Contains(string(r.body), "read:meta") {
		t.Errorf("missing-scope body = %s", r.body)
	}
	c.want("GET", "/me", "", 200, "") // /me needs no scope
	nd.admin.want("PUT", "/apikeys?scopes=", "", 400, "WrongParamsException")
	nd.admin.want("PUT", "/apikeys?scopes=fly:data", "", 400, "WrongParamsException")
}
