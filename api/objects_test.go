package api_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsgate/tsgate/tsdb"
)

type objJSON struct {
	ID           uint32   `json:"id"`
	Name         string   `json:"name"`
	Description  *string  `json:"description"`
	Disabled     bool     `json:"disabled"`
	CreationDate string   `json:"creationdate"`
	Tags         []string `json:"tags"`
	Unit         struct {
		Symbol, Name, Type string
	} `json:"unit"`
	Owner struct {
		ID   uint32
		Name string
	} `json:"owner"`
}

// createObject creates an object owned by user group owner as c.
func (c *client) createObject(name string, owner uint32, unit string) uint32 {
	c.nd.t.Helper()
	var o objJSON
	c.want("PUT", "/objects", fmt.Sprintf(`{"name":%q,"owner":%d,"unitSymbol":%q}`, name, owner, unit), 200, "").json(c.nd.t, &o)
	return o.ID
}

// createObjectGroup creates an object group owned by owner and returns its id.
func (c *client) createObjectGroup(name string, owner uint32, objects ...uint32) uint32 {
	c.nd.t.Helper()
	var g struct{ ID uint32 }
	c.want("PUT", "/objectGroups", fmt.Sprintf(`{"name":%q,"owner":%d}`, name, owner), 200, "").json(c.nd.t, &g)
	for _, o := range objects {
		c.want("PUT", fmt.Sprintf("/objectGroups/%d/objects/%d", g.ID, o), "", 200, "")
	}
	return g.ID
}

func (c *client) canRead(oid uint32) bool {
	c.nd.t.Helper()
	r := c.do("GET", fmt.Sprintf("/objects/%d", oid), "")
	if r.code != 200 && r.code != 404 {
		c.nd.t.Fatalf("GET /objects/%d = %d %s", oid, r.code, r.body)
	}
	return r.code == 200
}

func (c *client) canEdit(oid uint32) bool {
	c.nd.t.Helper()
	r := c.do("POST", fmt.Sprintf("/objects/%d", oid), `{}`)
	if r.code != 200 && r.code != 404 && r.code != 403 {
		c.nd.t.Fatalf("POST /objects/%d = %d %s", oid, r.code, r.body)
	}
	return r.code == 200
}

// TestConceptsExampleU1toU4 rebuilds the permission graph of the BBData concepts document
// through the API: UG1 (admin U1) owns O1; UG3 (admin U3, member U4) owns O2–O4 and shares
// object group {O2, O3} with UG2 (members U1, U2).
func TestConceptsExampleU1toU4(t *testing.T) {
	nd := startNode(t)
	u1, u2, u3, u4 := nd.createUser("u1"), nd.createUser("u2"), nd.createUser("u3"), nd.createUser("u4")
	ug1 := u1.createGroup("UG1")
	ug2 := nd.admin.createGroup("UG2")
	ug3 := u3.createGroup("UG3")
	nd.admin.want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", ug2, u1.user), "", 200, "")
	nd.admin.want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", ug2, u2.user), "", 200, "")
	u3.want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", ug3, u4.user), "", 200, "")
	o1 := u1.createObject("O1", ug1, "V")
	o2, o3, o4 := u3.createObject("O2", ug3, "V"), u3.createObject("O3", ug3, "V"), u3.createObject("O4", ug3, "V")
	og := u3.createObjectGroup("OG23", ug3, o2, o3)
	u3.want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", og, ug2), "", 200, "")
	u3.want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", og, ug2), "", 304, "")

	type rights struct{ read, edit []uint32 }
	all := []uint32{o1, o2, o3, o4}
	for _, c := range []struct {
		name string
		c    *client
		r    rights
	}{
		{"U1", u1, rights{read: []uint32{o1, o2, o3}, edit: []uint32{o1}}},
		{"U2", u2, rights{read: []uint32{o2, o3}}},
		{"U3", u3, rights{read: []uint32{o2, o3, o4}, edit: []uint32{o2, o3, o4}}},
		{"U4", u4, rights{read: []uint32{o2, o3, o4}}},
	} {
		for _, o := range all {
			wantRead, wantEdit := contains(c.r.read, o), contains(c.r.edit, o)
			if got := c.c.canRead(o); got != wantRead {
				t.Errorf("%s read O%d = %v, want %v", c.name, o, got, wantRead)
			}
			if got := c.c.canEdit(o); got != wantEdit {
				t.Errorf("%s edit O%d = %v, want %v", c.name, o, got, wantEdit)
			}
		}
		var list []objJSON
		c.c.want("GET", "/objects", "", 200, "").json(t, &list)
		if len(list) != len(c.r.read) {
			t.Errorf("%s lists %d objects, want %d", c.name, len(list), len(c.r.read))
		}
		c.c.want("GET", "/objects?writable=true", "", 200, "").json(t, &list)
		if len(list) != len(c.r.edit) {
			t.Errorf("%s lists %d writable objects, want %d", c.name, len(list), len(c.r.edit))
		}
	}
	// Revoking the share removes U2's access on the very next request.
	u3.want("DELETE", fmt.Sprintf("/objectGroups/%d/userGroups/%d", og, ug2), "", 200, "")
	if u2.canRead(o2) {
		t.Errorf("U2 still reads O2 after the share was revoked")
	}
}

func contains(s []uint32, v uint32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestObjectLifecycleAndValidation(t *testing.T) {
	nd := startNode(t)
	regular := nd.createUser("regular_user")
	ug := regular.createGroup("regular")
	// Validation before ownership before unit (bbdata-v2.md §2.6).
	r := regular.want("PUT", "/objects", `{"owner":-1}`, 400, "WrongParamsException")
	if !strings.Contains(string(r.body), "name") || !strings.Contains(string(r.body), "unitSymbol") {
		t.Errorf("validation details = %s", r.body)
	}
	regular.want("PUT", "/objects", `{"name":"x","owner":1,"unitSymbol":"V"}`, 404, "ItemNotFoundException")
	regular.want("PUT", "/objects", fmt.Sprintf(`{"name":"x","owner":%d,"unitSymbol":"parsec"}`, ug), 400, "WrongParamsException")
	regular.want("PUT", "/objects", fmt.Sprintf(`{"name":"%s","owner":%d,"unitSymbol":"V"}`, strings.Repeat("n", 61), ug), 400, "WrongParamsException")
	regular.want("PUT", "/objects", fmt.Sprintf(`{"name":"x","owner":%d,"unitSymbol":"V","tags":[{}]}`, ug), 400, "HttpMessageNotReadableException")
	regular.want("PUT", "/objects", `{"name":`, 400, "HttpMessageNotReadableException")

	var o objJSON
	regular.want("PUT", "/objects", fmt.Sprintf(`{"name":"volts box 1","owner":%d,"unitSymbol":"V","tags":["a","b"]}`, ug), 200, "").json(t, &o)
	if o.Unit.Type != "float" || o.Unit.Symbol != "V" || o.Owner.ID != ug || o.Owner.Name != "regular" || o.Disabled || len(o.Tags) != 2 || o.Description != nil {
		t.Fatalf("created object = %+v", o)
	}
	created := o.CreationDate
	// Update keeps creationdate (the original's bug is not reproduced).
	regular.want("POST", fmt.Sprintf("/objects/%d", o.ID), `{"name":"renamed","description":"d"}`, 200, "").json(t, &o)
	if o.Name != "renamed" || o.Description == nil || *o.Description != "d" || o.CreationDate != created {
		t.Fatalf("updated object = %+v (created %s)", o, created)
	}
	// Tags: 200 when something changed, 304 otherwise, 400 without the parameter.
	regular.want("PUT", fmt.Sprintf("/objects/%d/tags?tags=c,a", o.ID), "", 200, "")
	regular.want("PUT", fmt.Sprintf("/objects/%d/tags?tags=c", o.ID), "", 304, "")
	regular.want("DELETE", fmt.Sprintf("/objects/%d/tags?tags=zzz", o.ID), "", 304, "")
	regular.want("DELETE", fmt.Sprintf("/objects/%d/tags?tags=a", o.ID), "", 200, "")
	regular.want("PUT", fmt.Sprintf("/objects/%d/tags", o.ID), "", 400, "MissingServletRequestParameterException")
	var tagged []objJSON
	regular.want("GET", "/objects?tags=c,zzz", "", 200, "").json(t, &tagged)
	if len(tagged) != 1 {
		t.Errorf("tag search = %+v", tagged)
	}
	regular.want("GET", "/objects?search=NAMED", "", 200, "").json(t, &tagged)
	if len(tagged) != 1 {
		t.Errorf("name search = %+v", tagged)
	}
	// Bulk: all or nothing, one owner.
	regular.want("PUT", "/objects/bulk", `[]`, 400, "WrongParamsException")
	regular.want("PUT", "/objects/bulk", fmt.Sprintf(`[{"name":"a","owner":%d,"unitSymbol":"V"},{"name":"b","owner":1,"unitSymbol":"V"}]`, ug), 400, "WrongParamsException")
	r = regular.want("PUT", "/objects/bulk", fmt.Sprintf(`[{"name":"a","owner":%d,"unitSymbol":"V"},{"owner":%d,"unitSymbol":"V"}]`, ug, ug), 400, "WrongParamsException")
	if !strings.Contains(string(r.body), "[1].name") {
		t.Errorf("bulk validation keys = %s", r.body)
	}
	var bulk []objJSON
	regular.want("PUT", "/objects/bulk", fmt.Sprintf(`[{"name":"a","owner":%d,"unitSymbol":"h"},{"name":"b","owner":%d,"unitSymbol":"Here"}]`, ug, ug), 200, "").json(t, &bulk)
	if len(bulk) != 2 || bulk[0].Unit.Type != "int" || bulk[1].Unit.Type != "bool" || bulk[1].ID != bulk[0].ID+1 {
		t.Fatalf("bulk = %+v", bulk)
	}
	// Enable/disable: 200 on change, 304 otherwise.
	regular.want("POST", fmt.Sprintf("/objects/%d/enable", o.ID), "", 304, "")
	regular.want("POST", fmt.Sprintf("/objects/%d/disable", o.ID), "", 200, "")
	regular.want("POST", fmt.Sprintf("/objects/%d/disable", o.ID), "", 304, "")
	regular.want("GET", fmt.Sprintf("/objects/%d", o.ID), "", 200, "").json(t, &o)
	if !o.Disabled {
		t.Errorf("object not disabled")
	}
	// Owner-group admins may still edit a disabled object's metadata (API.md §4).
	regular.want("POST", fmt.Sprintf("/objects/%d", o.ID), `{"description":"still editable"}`, 200, "")
	// Others get 404 for everything.
	other := nd.createUser("no_rights_user")
	other.want("GET", fmt.Sprintf("/objects/%d", o.ID), "", 404, "ItemNotFoundException")
	other.want("DELETE", fmt.Sprintf("/objects/%d", o.ID), "", 404, "ItemNotFoundException")
	other.want("GET", "/objects/abc", "", 400, "MethodArgumentTypeMismatchException")
	// Delete: refused while the object has values, then allowed.
	b := &tsdb.Batch{}
	b.AddInt(bulk[0].ID, time.Now().Add(-time.Hour).UnixMilli(), 7)
	if err := nd.n.DB.Append(context.Background(), b, tsdb.Reject); err != nil {
		t.Fatal(err)
	}
	r = regular.want("DELETE", fmt.Sprintf("/objects/%d", bulk[0].ID), "", 403, "ForbiddenException")
	if !strings.Contains(string(r.body), "has values") {
		t.Errorf("delete with values = %s", r.body)
	}
	regular.want("DELETE", fmt.Sprintf("/objects/%d", bulk[1].ID), "", 200, "")
	regular.want("GET", fmt.Sprintf("/objects/%d", bulk[1].ID), "", 404, "ItemNotFoundException")
}

func TestTokens(t *testing.T) {
	nd := startNode(t)
	regular := nd.createUser("regular_user")
	ug := regular.createGroup("regular")
	oid := regular.createObject("volts", ug, "V")
	var tok struct {
		ID          uint32  `json:"id"`
		ObjectID    uint32  `json:"objectId"`
		Token       string  `json:"token"`
		Description *string `json:"description"`
	}
	regular.want("PUT", fmt.Sprintf("/objects/%d/tokens", oid), "", 200, "").json(t, &tok)
	if len(tok.Token) != 32 || tok.ObjectID != oid || tok.Description != nil {
		t.Fatalf("new token = %+v", tok)
	}
	secret := tok.Token
	if !nd.n.ACL.CheckTokenString(oid, secret) {
		t.Fatalf("the new token does not authorize writes")
	}
	// Later reads are masked.
	regular.want("GET", fmt.Sprintf("/objects/%d/tokens/%d", oid, tok.ID), "", 200, "").json(t, &tok)
	if tok.Token != secret[:4]+"…" {
		t.Errorf("read token = %q, want masked", tok.Token)
	}
	regular.want("POST", fmt.Sprintf("/objects/%d/tokens/%d", oid, tok.ID), `{"description":"gateway"}`, 200, "").json(t, &tok)
	if tok.Description == nil || *tok.Description != "gateway" {
		t.Errorf("described token = %+v", tok)
	}
	regular.want("GET", fmt.Sprintf("/objects/%d/tokens/9999", oid), "", 404, "ItemNotFoundException")
	// Read-only keys may not even list tokens (write-scope GET).
	var ro struct{ Secret string }
	regular.want("PUT", "/apikeys", "", 200, "").json(t, &ro)
	(&client{nd: nd, user: regular.user, secret: ro.Secret}).want("GET", fmt.Sprintf("/objects/%d/tokens", oid), "", 403, "ForbiddenException")
	// Bulk tokens: all or nothing.
	regular.want("PUT", "/objects/bulk/tokens", `[]`, 400, "WrongParamsException")
	r := regular.want("PUT", "/objects/bulk/tokens", `[{"objectId":-1}]`, 400, "WrongParamsException")
	if !strings.Contains(string(r.body), "positive") {
		t.Errorf("negative id body = %s", r.body)
	}
	regular.want("PUT", "/objects/bulk/tokens", fmt.Sprintf(`[{"objectId":%d},{"objectId":424242}]`, oid), 404, "ItemNotFoundException")
	var list []struct{ ID uint32 }
	regular.want("GET", fmt.Sprintf("/objects/%d/tokens", oid), "", 200, "").json(t, &list)
	if len(list) != 1 {
		t.Fatalf("a failed bulk created tokens: %+v", list)
	}
	regular.want("PUT", "/objects/bulk/tokens", fmt.Sprintf(`[{"objectId":%d},{"objectId":%d,"description":"x"}]`, oid, oid), 200, "")
	// Delete: 200 then 304, and the token stops at once.
	regular.want("DELETE", fmt.Sprintf("/objects/%d/tokens/%d", oid, tok.ID), "", 200, "")
	regular.want("DELETE", fmt.Sprintf("/objects/%d/tokens/%d", oid, tok.ID), "", 304, "")
	if nd.n.ACL.CheckTokenString(oid, secret) {
		t.Errorf("deleted token still works")
	}
	// Disable deletes every token; no new ones while disabled.
	regular.want("POST", fmt.Sprintf("/objects/%d/disable", oid), "", 200, "")
	regular.want("GET", fmt.Sprintf("/objects/%d/tokens", oid), "", 200, "").json(t, &list)
	if len(list) != 0 {
		t.Errorf("tokens after disable = %+v", list)
	}
	regular.want("PUT", fmt.Sprintf("/objects/%d/tokens", oid), "", 400, "WrongParamsException")
}

func TestComments(t *testing.T) {
	nd := startNode(t)
	regular := nd.createUser("regular_user")
	ug := regular.createGroup("regular")
	oid := regular.createObject("volts", ug, "V")
	var c struct {
		ID       uint32 `json:"id"`
		ObjectID uint32 `json:"objectId"`
		From     string `json:"from"`
		To       string `json:"to"`
		Comment  string `json:"comment"`
	}
	regular.want("PUT", fmt.Sprintf("/objects/%d/comments", oid), `{"from":"2019-01-01T10:00","to":"2020-01-01T10:00","comment":"comment on one full year"}`, 200, "").json(t, &c)
	if c.From != "2019-01-01T10:00:00.000Z" || c.To != "2020-01-01T10:00:00.000Z" || c.ObjectID != oid {
		t.Fatalf("comment = %+v", c)
	}
	regular.want("PUT", fmt.Sprintf("/objects/%d/comments", oid), `{"from":"2019-12-31T20:00","to":"2020-01-01T02:00","comment":"happy new year !"}`, 200, "")
	regular.want("PUT", fmt.Sprintf("/objects/%d/comments", oid), `{"from":"2020-01-01","to":"2019-01-01","comment":"x"}`, 400, "WrongParamsException")
	regular.want("PUT", fmt.Sprintf("/objects/%d/comments", oid), `{"from":"2019-01-01","to":"2020-01-01","comment":"  "}`, 400, "WrongParamsException")
	regular.want("PUT", fmt.Sprintf("/objects/%d/comments", oid), `{"from":"nope","to":"2020-01-01","comment":"x"}`, 400, "HttpMessageNotReadableException")
	var list []struct{ ID uint32 }
	regular.want("GET", fmt.Sprintf("/objects/%d/comments", oid), "", 200, "").json(t, &list)
	if len(list) != 2 {
		t.Errorf("comments = %+v", list)
	}
	regular.want("GET", fmt.Sprintf("/objects/%d/comments?forDate=2019-06-01", oid), "", 200, "").json(t, &list)
	if len(list) != 1 {
		t.Errorf("comments at 2019-06-01 = %+v", list)
	}
	regular.want("GET", fmt.Sprintf("/objects/%d/comments/%d", oid, c.ID), "", 200, "")
	regular.want("DELETE", fmt.Sprintf("/objects/%d/comments/%d", oid, c.ID), "", 200, "")
	regular.want("DELETE", fmt.Sprintf("/objects/%d/comments/%d", oid, c.ID), "", 304, "")
	regular.want("GET", fmt.Sprintf("/objects/%d/comments/%d", oid, c.ID), "", 404, "ItemNotFoundException")
}

func TestObjectGroupsFixture(t *testing.T) {
	nd := startNode(t)
	regular := nd.createUser("regular_user")
	noRights := nd.createUser("no_rights_user")
	gRegular := regular.createGroup("regular")
	gOther := nd.admin.createGroup("other")
	nd.admin.want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", gOther, regular.user), "", 200, "")
	o1, o2 := regular.createObject("volts box 1", gRegular, "V"), regular.createObject("volts box 2", gRegular, "V")
	o6 := nd.admin.createObject("owned by other", gOther, "V")
	misc := regular.createObjectGroup("regular_misc", gRegular, o1, o2)
	otherObjs := nd.admin.createObjectGroup("other_objects", gOther, o6)
	nd.admin.want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", otherObjs, gRegular), "", 200, "")

	var g struct {
		ID      uint32
		Objects *[]objJSON `json:"objects"`
	}
	regular.want("GET", fmt.Sprintf("/objectGroups/%d", misc), "", 200, "").json(t, &g)
	if g.Objects != nil {
		t.Errorf("objects key present without withObjects")
	}
	regular.want("GET", fmt.Sprintf("/objectGroups/%d?withObjects=true", misc), "", 200, "").json(t, &g)
	if g.Objects == nil || len(*g.Objects) != 2 {
		t.Errorf("withObjects = %+v", g.Objects)
	}
	var gs []struct{ ID uint32 }
	regular.want("GET", "/objectGroups", "", 200, "").json(t, &gs)
	if len(gs) != 2 {
		t.Errorf("regular's object groups = %+v", gs)
	}
	regular.want("GET", "/objectGroups?writable=true", "", 200, "").json(t, &gs)
	if len(gs) != 1 {
		t.Errorf("regular's writable object groups = %+v", gs)
	}
	noRights.want("GET", "/objectGroups", "", 200, "").json(t, &gs)
	if len(gs) != 0 {
		t.Errorf("no_rights_user's object groups = %+v", gs)
	}
	// Read through the share; no write.
	if !regular.canRead(o6) || regular.canEdit(o6) {
		t.Errorf("regular on o6: want read, no edit")
	}
	// Sharing needs group write access: readable-but-not-writable gets 404 on the list, 403 on delete.
	regular.want("GET", fmt.Sprintf("/objectGroups/%d/userGroups", otherObjs), "", 404, "ItemNotFoundException")
	regular.want("DELETE", fmt.Sprintf("/objectGroups/%d", otherObjs), "", 403, "ForbiddenException")
	noRights.want("DELETE", fmt.Sprintf("/objectGroups/%d", otherObjs), "", 304, "")
	// A member of a group is 304 when added again; an object the caller cannot manage is 404.
	regular.want("PUT", fmt.Sprintf("/objectGroups/%d/objects/%d", misc, o1), "", 304, "")
	regular.want("PUT", fmt.Sprintf("/objectGroups/%d/objects/%d", misc, o6), "", 404, "ItemNotFoundException")
	regular.want("DELETE", fmt.Sprintf("/objectGroups/%d/objects/%d", misc, o2), "", 200, "")
	regular.want("DELETE", fmt.Sprintf("/objectGroups/%d/objects/%d", misc, o2), "", 304, "")
	// Validation and ownership.
	regular.want("PUT", "/objectGroups", `{"name":"ab","owner":1}`, 400, "WrongParamsException")
	regular.want("PUT", "/objectGroups", `{"name":"abc","owner":-1}`, 404, "ItemNotFoundException")
	regular.want("PUT", "/objectGroups", fmt.Sprintf(`{"name":"regular_misc","owner":%d}`, gRegular), 400, "DuplicateFieldException")
	// Windows on shares are stored and listed.
	nd.admin.want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", otherObjs, gRegular), `{"from":"2020-01-01","to":"2019-01-01"}`, 400, "WrongParamsException")
	nd.admin.want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", otherObjs, gRegular), `{"from":"2020-01-01","to":"2030-01-01"}`, 200, "")
	var shares []struct {
		ID   uint32
		From *string
		To   *string
	}
	nd.admin.want("GET", fmt.Sprintf("/objectGroups/%d/userGroups", otherObjs), "", 200, "").json(t, &shares)
	if len(shares) != 1 || shares[0].From == nil || *shares[0].From != "2020-01-01T00:00:00.000Z" || *shares[0].To != "2030-01-01T00:00:00.000Z" {
		t.Errorf("shares = %+v", shares)
	}
	nd.admin.want("DELETE", fmt.Sprintf("/objectGroups/%d/userGroups/%d", otherObjs, gRegular), "", 200, "")
	nd.admin.want("DELETE", fmt.Sprintf("/objectGroups/%d/userGroups/%d", otherObjs, gRegular), "", 304, "")
	// A share is what lets a group outside the owner read: share with a group of no_rights_user.
	viewers := nd.admin.createGroup("viewers")
	nd.admin.want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", viewers, noRights.user), "", 200, "")
	if noRights.canRead(o6) {
		t.Fatalf("no_rights_user reads o6 before any share")
	}
	nd.admin.want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", otherObjs, viewers), "", 200, "")
	if !noRights.canRead(o6) || noRights.canEdit(o6) {
		t.Fatalf("through the share no_rights_user must read o6, not edit it")
	}
	nd.admin.want("DELETE", fmt.Sprintf("/objectGroups/%d/userGroups/%d", otherObjs, viewers), "", 200, "")
	if noRights.canRead(o6) {
		t.Errorf("no_rights_user still reads o6 after unsharing")
	}
}

// TestRevocationUnderConcurrentRequests removes a member while another goroutine keeps
// reading with the member's key: once the removal is acknowledged, no later read succeeds.
func TestRevocationUnderConcurrentRequests(t *testing.T) {
	nd := startNode(t)
	owner := nd.createUser("owner")
	reader := nd.createUser("reader")
	ug := owner.createGroup("team")
	oid := owner.createObject("o", ug, "V")
	owner.want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", ug, reader.user), "", 200, "")
	if !reader.canRead(oid) {
		t.Fatal("member cannot read")
	}
	var revokedAt time.Time
	var mu sync.Mutex
	stop := make(chan struct{})
	running := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	var leaks []time.Time
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 2000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				ok := reader.do("GET", fmt.Sprintf("/objects/%d", oid), "").code == 200
				once.Do(func() { close(running) })
				mu.Lock()
				if ok && !revokedAt.IsZero() && start.After(revokedAt) {
					leaks = append(leaks, start)
				}
				mu.Unlock()
			}
		}()
	}
	<-running // the readers are under way before the revocation
	owner.want("DELETE", fmt.Sprintf("/userGroups/%d/users/%d", ug, reader.user), "", 200, "")
	mu.Lock()
	revokedAt = time.Now()
	mu.Unlock()
	// Let the readers go on for a bounded number of requests after the revocation.
	for i := 0; i < 50; i++ {
		if reader.do("GET", fmt.Sprintf("/objects/%d", oid), "").code == 200 {
			t.Fatalf("read after revocation succeeded")
		}
	}
	close(stop)
	wg.Wait()
	if len(leaks) > 0 {
		t.Fatalf("%d reads started after the revocation was acknowledged still succeeded", len(leaks))
	}
}
