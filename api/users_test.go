package api_test

import (
	"fmt"
	"github.com/tsgate/tsgate/server/servertest"
	"strings"
	"testing"
)

func TestAuthenticationCheckOrder(t *testing.T) {
	nd := servertest.Start(t)
	anon := nd.Anon()
	anon.Want("GET", "/me", "", 401, "UnauthorizedException")
	(&servertest.Client{Nd: nd, Hdr: map[string]string{"bbuser": "abc", "bbtoken": "x"}}).Want("GET", "/me", "", 403, "BadApikeyException")
	(&servertest.Client{Nd: nd, Hdr: map[string]string{"bbuser": "1", "bbtoken": "nope"}}).Want("GET", "/me", "", 403, "BadApikeyException")
	(&servertest.Client{Nd: nd, Hdr: map[string]string{"Authorization": "Basic !!notbase64"}}).Want("GET", "/me", "", 403, "BadApikeyException")
	r := (&servertest.Client{Nd: nd, Hdr: map[string]string{"Authorization": "Bearer nope"}}).Want("GET", "/me", "", 403, "BadApikeyException")
	if !strings.Contains(string(r.Body), "bad apikey") {
		t.Errorf("bad bearer body = %s", r.Body)
	}
	// Every credential form works with a good key.
	a := nd.Admin
	for _, hdr := range []map[string]string{
		{"bbuser": "1", "bbtoken": a.Secret},
		{"Authorization": "Bearer " + a.Secret},
		{"Authorization": "Token " + a.Secret},
		{"Authorization": "Basic " + servertest.Basic("1:"+a.Secret)},
	} {
		(&servertest.Client{Nd: nd, Hdr: hdr}).Want("GET", "/me", "", 200, "")
	}
	// A read-only key on a write route: 403 read-only, before the body is even parsed.
	r = a.Want("PUT", "/apikeys?writable=false", "", 200, "")
	var ro struct {
		Secret string `json:"secret"`
	}
	r.JSON(t, &ro)
	roc := &servertest.Client{Nd: nd, User: 1, Secret: ro.Secret}
	roc.Want("GET", "/me", "", 200, "")
	r = roc.Want("PUT", "/userGroups", `{not json`, 403, "ForbiddenException")
	if !strings.Contains(string(r.Body), "read-only") {
		t.Errorf("read-only body = %s", r.Body)
	}
}

func TestLoginLogoutAndApikeys(t *testing.T) {
	nd := servertest.Start(t)
	nd.Anon().Want("POST", "/login", `{"username":"admin","password":"wrong"}`, 403, "ForbiddenException")
	nd.Anon().Want("POST", "/login", `{"username":"admin"}`, 400, "WrongParamsException")
	nd.Anon().Want("POST", "/login", `{"username":`, 400, "HttpMessageNotReadableException")
	// Case-insensitive user name.
	c := nd.Login("ADMIN", "admin-pw")
	var me struct {
		ID   uint32 `json:"id"`
		Name string `json:"name"`
	}
	c.Want("GET", "/me", "", 200, "").JSON(t, &me)
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
	c.Want("GET", "/apikeys", "", 200, "").JSON(t, &keys)
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
		c.Want("PUT", "/apikeys?writable=true&expirationDate="+in, "", 200, "").JSON(t, &k)
		if k.Expiration != check {
			t.Errorf("expirationDate=%s → %s, want %s", in, k.Expiration, check)
		}
	}
	c.Want("PUT", "/apikeys?expirationDate=tomorrow", "", 400, "WrongParamsException")
	// Update, then delete: 200 then 304.
	var k struct {
		ID       uint32 `json:"id"`
		ReadOnly bool   `json:"readOnly"`
	}
	c.Want("PUT", "/apikeys?writable=true", `{"description":"mine"}`, 200, "").JSON(t, &k)
	c.Want("POST", fmt.Sprintf("/apikeys/%d", k.ID), `{"readOnly":true,"expirationDate":"null"}`, 200, "").JSON(t, &k)
	if !k.ReadOnly {
		t.Errorf("update did not set readOnly")
	}
	c.Want("DELETE", fmt.Sprintf("/apikeys/%d", k.ID), "", 200, "")
	c.Want("DELETE", fmt.Sprintf("/apikeys/%d", k.ID), "", 304, "")
	c.Want("POST", "/apikeys/999999", `{}`, 404, "ItemNotFoundException")
	// Logout revokes the key at once.
	c.Want("POST", "/logout", "", 200, "")
	c.Want("GET", "/me", "", 403, "BadApikeyException")
}

func TestLoginFailuresAreRateLimited(t *testing.T) {
	nd := servertest.Start(t)
	for i := 0; i < 10; i++ {
		nd.Anon().Want("POST", "/login", `{"username":"admin","password":"wrong"}`, 403, "ForbiddenException")
	}
	r := nd.Anon().Want("POST", "/login", `{"username":"admin","password":"admin-pw"}`, 429, "TooManyRequestsException")
	if r.Hdr.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	// Another name from the same address is not limited.
	nd.Anon().Want("POST", "/login", `{"username":"someone","password":"x"}`, 403, "ForbiddenException")
}

// TestFixtureScenario rebuilds the original's test fixture users and groups (bbdata-v2.md §5.1)
// through the API and checks the rights on users and user groups it implies.
func TestFixtureScenario(t *testing.T) {
	nd := servertest.Start(t)
	regular := nd.CreateUser("regular_user")
	noRights := nd.CreateUser("no_rights_user")
	gRegular := regular.CreateGroup("regular")
	gOther := nd.Admin.CreateGroup("other")
	nd.Admin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", gOther, regular.User), "", 200, "")
	nd.Admin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", gOther, regular.User), "", 304, "")

	// Everyone lists users and user groups.
	var us []struct{ Name string }
	noRights.Want("GET", "/users", "", 200, "").JSON(t, &us)
	if len(us) != 3 {
		t.Errorf("users = %+v", us)
	}
	var gs []struct{ ID uint32 }
	noRights.Want("GET", "/userGroups", "", 200, "").JSON(t, &gs)
	if len(gs) != 3 {
		t.Errorf("userGroups = %+v", gs)
	}
	noRights.Want("GET", fmt.Sprintf("/userGroups/%d", gRegular), "", 200, "")
	noRights.Want("GET", "/userGroups/9999", "", 404, "ItemNotFoundException")
	// Members are visible to members and superusers only.
	noRights.Want("GET", fmt.Sprintf("/userGroups/%d/users", gRegular), "", 404, "ItemNotFoundException")
	regular.Want("GET", fmt.Sprintf("/userGroups/%d/users", gOther), "", 200, "")
	// A plain member may not manage the group: 403; a non-member: 404.
	regular.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", gOther, noRights.User), "", 403, "ForbiddenException")
	noRights.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", gRegular, noRights.User), "", 404, "ItemNotFoundException")
	// The admin of a group adds and flips members; the flip is visible at once.
	regular.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", gRegular, noRights.User), "", 200, "")
	var m struct{ Admin bool }
	regular.Want("GET", fmt.Sprintf("/userGroups/%d/users/%d", gRegular, noRights.User), "", 200, "").JSON(t, &m)
	if m.Admin {
		t.Errorf("new member is admin")
	}
	regular.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d?admin=true", gRegular, noRights.User), "", 200, "")
	noRights.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", gRegular, 1), "", 200, "")
	regular.Want("DELETE", fmt.Sprintf("/userGroups/%d/users/%d", gRegular, 1), "", 200, "")
	regular.Want("DELETE", fmt.Sprintf("/userGroups/%d/users/%d", gRegular, 1), "", 304, "")
	// /me/userGroups and its admin filter.
	var mine []struct {
		ID    uint32
		Admin bool
	}
	regular.Want("GET", "/me/userGroups", "", 200, "").JSON(t, &mine)
	if len(mine) != 2 {
		t.Errorf("regular's groups = %+v", mine)
	}
	regular.Want("GET", "/me/userGroups?admin=true", "", 200, "").JSON(t, &mine)
	if len(mine) != 1 || mine[0].ID != gRegular {
		t.Errorf("regular's admin groups = %+v", mine)
	}
	nd.Admin.Want("GET", "/me/userGroups?admin=true", "", 200, "").JSON(t, &mine)
	if len(mine) != 3 {
		t.Errorf("superuser's groups = %+v, want all", mine)
	}
	// Group 1 cannot be deleted; a plain member cannot delete; a missing group is 304.
	nd.Admin.Want("DELETE", "/userGroups/1", "", 403, "ForbiddenException")
	regular.Want("DELETE", fmt.Sprintf("/userGroups/%d", gOther), "", 403, "ForbiddenException")
	regular.Want("DELETE", "/userGroups/9999", "", 304, "")
	nd.Admin.Want("DELETE", fmt.Sprintf("/userGroups/%d", gOther), "", 200, "")
}

func TestUserValidationAndDuplicates(t *testing.T) {
	nd := servertest.Start(t)
	a := nd.Admin
	r := a.Want("PUT", "/users", `{"name":"","password":"abc","email":"bad"}`, 400, "WrongParamsException")
	for _, f := range []string{"name", "password", "email"} {
		if !strings.Contains(string(r.Body), f) {
			t.Errorf("validation body %s lacks %s", r.Body, f)
		}
	}
	a.Want("PUT", "/users", `{"name":"bob","password":"secret1","email":"bob@example.com"}`, 200, "")
	a.Want("PUT", "/users", `{"name":"BOB","password":"secret1","email":"bob2@example.com"}`, 400, "DuplicateFieldException")
	a.Want("PUT", "/users", `{"name":1}`, 400, "HttpMessageNotReadableException")
	a.Want("GET", "/users/abc", "", 400, "MethodArgumentTypeMismatchException")
	a.Want("GET", "/users/424242", "", 404, "ItemNotFoundException")
	// With a group the caller does not administer, nothing is created.
	bob := nd.Login("bob", "secret1")
	g := a.CreateGroup("admins-only")
	bob.Want("PUT", fmt.Sprintf("/users?userGroupId=%d", g), `{"name":"carol","password":"secret1","email":"c@example.com"}`, 404, "ItemNotFoundException")
	a.Want("GET", "/users", "", 200, "")
	if strings.Contains(string(a.Do("GET", "/users", "").Body), "carol") {
		t.Errorf("carol was created although the membership was refused")
	}
}

func TestDeleteUserAndUnits(t *testing.T) {
	nd := servertest.Start(t)
	bob := nd.CreateUser("bob")
	var u struct{ ID uint32 }
	nd.Admin.Want("PUT", "/users", `{"name":"carol","password":"secret1","email":"c@example.com"}`, 200, "").JSON(t, &u)
	// Not a superuser: 403 before anything else, even for a missing user.
	bob.Want("DELETE", fmt.Sprintf("/users/%d", u.ID), "", 403, "ForbiddenException")
	bob.Want("DELETE", "/users/424242", "", 403, "ForbiddenException")
	nd.Admin.Want("DELETE", "/users/1", "", 403, "ForbiddenException")
	nd.Admin.Want("DELETE", fmt.Sprintf("/users/%d", u.ID), "", 200, "")
	nd.Admin.Want("DELETE", fmt.Sprintf("/users/%d", u.ID), "", 304, "")
	nd.Anon().Want("POST", "/login", `{"username":"carol","password":"secret1"}`, 403, "ForbiddenException")

	nd.Admin.Want("POST", "/units", `{"symbol":"","name":"x"}`, 400, "WrongParamsException")
	bob.Want("POST", "/units", `{"symbol":"mm","name":"millimetre","type":"float"}`, 403, "ForbiddenException")
	nd.Admin.Want("POST", "/units", `{"symbol":"mm","name":"millimetre","type":"complex"}`, 400, "WrongParamsException")
	r := nd.Admin.Want("POST", "/units", `{"symbol":"mm","name":"millimetre","type":"float"}`, 200, "")
	if string(r.Body) != `{"symbol":"mm","name":"millimetre","type":"float"}` {
		t.Errorf("created unit = %s", r.Body)
	}
	nd.Admin.Want("POST", "/units", `{"symbol":"mm","name":"other","type":"float"}`, 400, "DuplicateFieldException")
	var units []struct{ Symbol, Name, Type string }
	nd.Anon().Want("GET", "/units", "", 200, "").JSON(t, &units)
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

func TestKEY_ANY002_RouteScopes(t *testing.T) {
	nd := servertest.Start(t)
	var k struct{ Secret string }
	nd.Admin.Want("PUT", "/apikeys?writable=true&scopes=read:data", "", 200, "").JSON(t, &k)
	c := &servertest.Client{Nd: nd, User: 1, Secret: k.Secret}
	r := c.Want("GET", "/objects", "", 403, "ForbiddenException")
	if !strings.Contains(string(r.Body), "read:meta") {
		t.Errorf("missing-scope body = %s", r.Body)
	}
	c.Want("GET", "/me", "", 200, "") // /me needs no scope
	nd.Admin.Want("PUT", "/apikeys?scopes=", "", 400, "WrongParamsException")
	nd.Admin.Want("PUT", "/apikeys?scopes=fly:data", "", 400, "WrongParamsException")
}
