package api_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/tsgate/tsgate/acl"
	"github.com/tsgate/tsgate/server/servertest"
)

// TestObjectJSONFollowsTheFieldMatrix (OBJ-PUB001): for each role, GET /objects/{id} shows
// exactly the Object JSON fields acl.Fields lets that role read.
func TestOBJ_PUB001_ObjectJSONFollowsTheFieldMatrix(t *testing.T) {
	nd := servertest.Start(t)
	owner := nd.CreateUser("owner")
	member := nd.CreateUser("member")
	viewer := nd.CreateUser("viewer")
	ug := owner.CreateGroup("owners")
	owner.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", ug, member.User), "", 200, "")
	oid := owner.CreateObject("o", ug, "V")
	viewers := nd.Admin.CreateGroup("viewers")
	nd.Admin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", viewers, viewer.User), "", 200, "")
	og := owner.CreateObjectGroup("shared-og", ug, oid)
	owner.Want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", og, viewers), "", 200, "")

	jsonFields := []string{"id", "name", "description", "unit", "disabled", "creationdate", "owner", "tags", "public"}
	for _, c := range []struct {
		who  string
		c    *servertest.Client
		role acl.Role
	}{
		{"superuser", nd.Admin, acl.RoleSuper},
		{"owner admin", owner, acl.RoleOwnerAdmin},
		{"owner member", member, acl.RoleOwnerMem},
		{"shared", viewer, acl.RoleShared},
	} {
		var got map[string]json.RawMessage
		c.c.Want("GET", fmt.Sprintf("/objects/%d", oid), "", 200, "").JSON(t, &got)
		var want, have []string
		for _, f := range jsonFields {
			if acl.CanReadField("object", f, c.role) {
				want = append(want, f)
			}
		}
		for f := range got {
			have = append(have, f)
		}
		sort.Strings(want)
		sort.Strings(have)
		if strings.Join(want, ",") != strings.Join(have, ",") {
			t.Errorf("%s sees %v, the matrix says %v", c.who, have, want)
		}
	}
}
