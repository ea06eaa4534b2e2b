package api_test

import (
	"fmt"
	"testing"

	"github.com/tsgate/tsgate/server/servertest"
)

// TestProtectionsThroughHTTP walks the protections of API.md §4.
func TestUSR_SU002_UG_SU001_TEN_SU001_TEN_TA001_KEY_ANY003_ProtectionsThroughHTTP(t *testing.T) {
	nd := servertest.Start(t)
	a := nd.Admin
	a.Want("PUT", "/tenants", `{"name":"acme"}`, 200, "")
	var ta struct{ ID uint32 }
	a.Want("PUT", "/users?tenant=acme", `{"name":"tadmin","password":"secret1","email":"t@acme.test"}`, 200, "").JSON(t, &ta)
	a.Want("PUT", fmt.Sprintf("/tenants/acme/admins/%d", ta.ID), "", 200, "")
	tadmin := nd.Login("tadmin", "secret1")
	var plain struct{ ID uint32 }
	tadmin.Want("PUT", "/users", `{"name":"plain","password":"secret1","email":"p@acme.test"}`, 200, "").JSON(t, &plain)
	second := nd.CreateUser("second-super")
	a.Want("PUT", fmt.Sprintf("/userGroups/1/users/%d?admin=true", second.User), "", 200, "")

	// admin (id 1) is never deleted, demoted or removed from group 1 — not even by a superuser.
	second.Want("DELETE", "/users/1", "", 403, "ForbiddenException")
	second.Want("PUT", "/userGroups/1/users/1?admin=false", "", 403, "ForbiddenException")
	second.Want("DELETE", "/userGroups/1/users/1", "", 403, "ForbiddenException")
	// Only superusers touch group 1, delete superusers or tenant admins, remove tenant admins.
	tadmin.Want("PUT", fmt.Sprintf("/userGroups/1/users/%d", plain.ID), "", 404, "ItemNotFoundException")
	tadmin.Want("DELETE", fmt.Sprintf("/users/%d", second.User), "", 403, "ForbiddenException")
	tadmin.Want("DELETE", fmt.Sprintf("/tenants/acme/admins/%d", ta.ID), "", 403, "ForbiddenException")
	a.Want("DELETE", fmt.Sprintf("/tenants/nowhere/admins/%d", ta.ID), "", 404, "ItemNotFoundException")
	a.Want("DELETE", "/tenants/acme/admins/abc", "", 400, "MethodArgumentTypeMismatchException")
	tadmin.Want("PUT", "/tenants", `{"name":"other"}`, 403, "ForbiddenException")
	tadmin.Want("POST", "/units", `{"symbol":"zz","name":"zz","type":"float"}`, 403, "ForbiddenException")
	// Tenant admins act as superusers inside their tenant.
	ug := tadmin.CreateGroup("acme-group")
	tadmin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", ug, plain.ID), "", 200, "")
	// Links never on superusers or tenant admins.
	oid := tadmin.CreateObject("acme-object", ug, "V")
	tadmin.Want("PUT", fmt.Sprintf("/users/%d/objects/%d", ta.ID, oid), "", 403, "ForbiddenException")
	tadmin.Want("PUT", fmt.Sprintf("/users/%d/objects/%d", plain.ID, oid), "", 200, "")
	// master cannot be deleted; a non-empty tenant neither.
	a.Want("DELETE", "/tenants/master", "", 403, "ForbiddenException")
	a.Want("DELETE", "/tenants/acme", "", 400, "WrongParamsException")

	// Key scopes ⊆ the creator's; inherited (narrowed to read by writable=false) when absent.
	narrow := a.CreateApikey("writable=true&scopes=read:data,manage:auth")
	narrow.Want("PUT", "/apikeys?writable=true&scopes=manage:meta", "", 403, "ForbiddenException")
	var k struct{ Scopes []string }
	narrow.Want("PUT", "/apikeys?writable=true", "", 200, "").JSON(t, &k)
	if len(k.Scopes) != 2 {
		t.Errorf("inherited scopes = %v, want the creator's two", k.Scopes)
	}
	narrow.Want("PUT", "/apikeys", "", 200, "").JSON(t, &k)
	for _, s := range k.Scopes {
		if s[:5] != "read:" {
			t.Errorf("a read-only child key got %v", k.Scopes)
		}
	}
	var login struct{ Scopes []string }
	nd.Anon().Want("POST", "/login", `{"username":"admin","password":"admin-pw"}`, 200, "").JSON(t, &login)
	if login.Scopes != nil {
		t.Errorf("login keys carry null scopes, got %v", login.Scopes)
	}
}
