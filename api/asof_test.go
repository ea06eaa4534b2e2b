package api_test

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/tsgate/tsgate/server/servertest"
)

func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// TestAsOfMetadataThroughWindowedShares (OBJ-SH002): a member who reaches an object only through
// a share whose window has ended sees its metadata as of the window's end; the owner sees the
// present; a future window grants nothing; leaving the shared group puts the object out of
// reach; an untimed share lifts the clip; a window's start takes effect at its instant.
func TestOBJ_SH002_OBJ_SH003_AsOfMetadataThroughWindowedShares(t *testing.T) {
	nd := servertest.Start(t)
	owner := nd.CreateUser("owner")
	viewer := nd.CreateUser("viewer")
	later := nd.CreateUser("later")
	ug := owner.CreateGroup("owners")
	oid := owner.CreateObject("before", ug, "V")
	og := owner.CreateObjectGroup("shared-og", ug, oid)
	viewers := nd.Admin.CreateGroup("viewers")
	nd.Admin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", viewers, viewer.User), "", 200, "")
	futures := nd.Admin.CreateGroup("futures")
	nd.Admin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", futures, later.User), "", 200, "")

	end := time.Now().Add(1500 * time.Millisecond)
	owner.Want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", og, viewers),
		fmt.Sprintf(`{"from":%q,"to":%q}`, iso(time.Now().Add(-time.Hour)), iso(end)), 200, "")
	// A window that starts when the first one ends: nothing before, access at its instant,
	// without any policy change in between.
	owner.Want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", og, futures),
		fmt.Sprintf(`{"from":%q}`, iso(end)), 200, "")
	later.Want("GET", fmt.Sprintf("/objects/%d", oid), "", 404, "ItemNotFoundException") // not begun yet

	var o struct {
		Name string
		Tags []string
	}
	viewer.Want("GET", fmt.Sprintf("/objects/%d", oid), "", 200, "").JSON(t, &o)
	if o.Name != "before" {
		t.Fatalf("inside the window the viewer sees %q", o.Name)
	}
	time.Sleep(time.Until(end) + 200*time.Millisecond) // let the window end (a wall-clock boundary)
	later.Want("GET", fmt.Sprintf("/objects/%d", oid), "", 200, "")
	owner.Want("POST", fmt.Sprintf("/objects/%d", oid), `{"name":"after"}`, 200, "")
	owner.Want("PUT", fmt.Sprintf("/objects/%d/tags?tags=new", oid), "", 200, "")

	viewer.Want("GET", fmt.Sprintf("/objects/%d", oid), "", 200, "").JSON(t, &o)
	if o.Name != "before" || len(o.Tags) != 0 {
		t.Fatalf("after the window the viewer sees %+v, want the metadata as of the window's end", o)
	}
	owner.Want("GET", fmt.Sprintf("/objects/%d", oid), "", 200, "").JSON(t, &o)
	if o.Name != "after" || len(o.Tags) != 1 {
		t.Fatalf("the owner sees %+v, want the present", o)
	}
	// Out of the shared group: out of reach.
	owner.Want("DELETE", fmt.Sprintf("/objectGroups/%d/objects/%d", og, oid), "", 200, "")
	viewer.Want("GET", fmt.Sprintf("/objects/%d", oid), "", 404, "ItemNotFoundException")
	owner.Want("PUT", fmt.Sprintf("/objectGroups/%d/objects/%d", og, oid), "", 200, "")
	// An untimed share lifts the clip.
	owner.Want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", og, viewers), "", 200, "")
	viewer.Want("GET", fmt.Sprintf("/objects/%d", oid), "", 200, "").JSON(t, &o)
	if o.Name != "after" {
		t.Fatalf("with an untimed share the viewer sees %q", o.Name)
	}
}

// TestExplainAgreesWithAccess: for random (principal, object, verb) triples of a small world,
// /explain's answer equals what the principal actually gets: metadata reads (read), value
// writes with a writable key (write), changing the object (manage).
func TestExplainAgreesWithAccess(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	nd := servertest.Start(t)
	var users []*servertest.Client
	for i := 0; i < 5; i++ {
		users = append(users, nd.CreateUser(fmt.Sprintf("user%d", i)))
	}
	var groups, objects []uint32
	for i := 0; i < 3; i++ {
		g := nd.Admin.CreateGroup(fmt.Sprintf("group%d", i))
		groups = append(groups, g)
		for _, u := range users {
			switch rng.Intn(3) {
			case 1:
				nd.Admin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", g, u.User), "", 200, "")
			case 2:
				nd.Admin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d?admin=true", g, u.User), "", 200, "")
			}
		}
		for j := 0; j < 2; j++ {
			objects = append(objects, nd.Admin.CreateObject(fmt.Sprintf("o%d-%d", i, j), g, "V"))
		}
	}
	og := nd.Admin.CreateObjectGroup("mixed", groups[0], objects[0], objects[2])
	nd.Admin.Want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", og, groups[1]), "", 200, "")
	writers := make([]*servertest.Client, len(users))
	for i, u := range users {
		writers[i] = u.CreateApikey("writable=true")
	}
	for n := 0; n < 60; n++ {
		i := rng.Intn(len(users))
		u, oid := users[i], objects[rng.Intn(len(objects))]
		verb := []string{"read", "write", "manage"}[rng.Intn(3)]
		var x struct{ Allowed bool }
		nd.Admin.Want("GET", fmt.Sprintf("/explain?principal=%d&object=%d&verb=%s", u.User, oid, verb), "", 200, "").JSON(t, &x)
		var got bool
		switch verb {
		case "read":
			got = u.Do("GET", fmt.Sprintf("/objects/%d", oid), "").Code == 200
		case "write":
			ts := time.Now().Add(-time.Duration(n+1) * time.Minute).UnixMilli()
			r := writers[i].Send("POST", "/write?precision=ms", "text/plain", []byte(fmt.Sprintf("m,object=%d value=1 %d", oid, ts)), nil)
			got = r.Code == 204
		case "manage":
			got = u.Do("POST", fmt.Sprintf("/objects/%d", oid), `{}`).Code == 200
		}
		if got != x.Allowed {
			t.Errorf("user %d %s object %d: explain says %v, access says %v", u.User, verb, oid, x.Allowed, got)
		}
	}
}
