package api_test

import (
	"context"
	"fmt"
	"github.com/tsgate/tsgate/server/servertest"
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

func canRead(c *servertest.Client, oid uint32) bool {
	c.Nd.T.Helper()
	r := c.Do("GET", fmt.Sprintf("/objects/%d", oid), "")
	if r.Code != 200 && r.Code != 404 {
		c.Nd.T.Fatalf("GET /objects/%d = %d %s", oid, r.Code, r.Body)
	}
	return r.Code == 200
}

func canEdit(c *servertest.Client, oid uint32) bool {
	c.Nd.T.Helper()
	r := c.Do("POST", fmt.Sprintf("/objects/%d", oid), `{}`)
	if r.Code != 200 && r.Code != 404 && r.Code != 403 {
		c.Nd.T.Fatalf("POST /objects/%d = %d %s", oid, r.Code, r.Body)
	}
	return r.Code == 200
}

// TestConceptsExampleU1toU4 rebuilds the permission graph of the BBData concepts document
// through the API: UG1 (admin U1) owns O1; UG3 (admin U3, member U4) owns O2–O4 and shares
// object group {O2, O3} with UG2 (members U1, U2).
func TestConceptsExampleU1toU4(t *testing.T) {
	nd := servertest.Start(t)
	u1, u2, u3, u4 := nd.CreateUser("u1"), nd.CreateUser("u2"), nd.CreateUser("u3"), nd.CreateUser("u4")
	ug1 := u1.CreateGroup("UG1")
	ug2 := nd.Admin.CreateGroup("UG2")
	ug3 := u3.CreateGroup("UG3")
	nd.Admin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", ug2, u1.User), "", 200, "")
	nd.Admin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", ug2, u2.User), "", 200, "")
	u3.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", ug3, u4.User), "", 200, "")
	o1 := u1.CreateObject("O1", ug1, "V")
	o2, o3, o4 := u3.CreateObject("O2", ug3, "V"), u3.CreateObject("O3", ug3, "V"), u3.CreateObject("O4", ug3, "V")
	og := u3.CreateObjectGroup("OG23", ug3, o2, o3)
	u3.Want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", og, ug2), "", 200, "")
	u3.Want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", og, ug2), "", 304, "")

	type rights struct{ read, edit []uint32 }
	all := []uint32{o1, o2, o3, o4}
	for _, c := range []struct {
		name string
		c    *servertest.Client
		r    rights
	}{
		{"U1", u1, rights{read: []uint32{o1, o2, o3}, edit: []uint32{o1}}},
		{"U2", u2, rights{read: []uint32{o2, o3}}},
		{"U3", u3, rights{read: []uint32{o2, o3, o4}, edit: []uint32{o2, o3, o4}}},
		{"U4", u4, rights{read: []uint32{o2, o3, o4}}},
	} {
		for _, o := range all {
			wantRead, wantEdit := contains(c.r.read, o), contains(c.r.edit, o)
			if got := canRead(c.c, o); got != wantRead {
				t.Errorf("%s read O%d = %v, want %v", c.name, o, got, wantRead)
			}
			if got := canEdit(c.c, o); got != wantEdit {
				t.Errorf("%s edit O%d = %v, want %v", c.name, o, got, wantEdit)
			}
		}
		var list []objJSON
		c.c.Want("GET", "/objects", "", 200, "").JSON(t, &list)
		if len(list) != len(c.r.read) {
			t.Errorf("%s lists %d objects, want %d", c.name, len(list), len(c.r.read))
		}
		c.c.Want("GET", "/objects?writable=true", "", 200, "").JSON(t, &list)
		if len(list) != len(c.r.edit) {
			t.Errorf("%s lists %d writable objects, want %d", c.name, len(list), len(c.r.edit))
		}
	}
	// Revoking the share removes U2's access on the very next request.
	u3.Want("DELETE", fmt.Sprintf("/objectGroups/%d/userGroups/%d", og, ug2), "", 200, "")
	if canRead(u2, o2) {
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
	nd := servertest.Start(t)
	regular := nd.CreateUser("regular_user")
	ug := regular.CreateGroup("regular")
	// Validation before ownership before unit (bbdata-v2.md §2.6).
	r := regular.Want("PUT", "/objects", `{"owner":-1}`, 400, "WrongParamsException")
	if !strings.Contains(string(r.Body), "name") || !strings.Contains(string(r.Body), "unitSymbol") {
		t.Errorf("validation details = %s", r.Body)
	}
	regular.Want("PUT", "/objects", `{"name":"x","owner":1,"unitSymbol":"V"}`, 404, "ItemNotFoundException")
	regular.Want("PUT", "/objects", fmt.Sprintf(`{"name":"x","owner":%d,"unitSymbol":"parsec"}`, ug), 400, "WrongParamsException")
	regular.Want("PUT", "/objects", fmt.Sprintf(`{"name":"%s","owner":%d,"unitSymbol":"V"}`, strings.Repeat("n", 61), ug), 400, "WrongParamsException")
	regular.Want("PUT", "/objects", fmt.Sprintf(`{"name":"x","owner":%d,"unitSymbol":"V","tags":[{}]}`, ug), 400, "HttpMessageNotReadableException")
	regular.Want("PUT", "/objects", `{"name":`, 400, "HttpMessageNotReadableException")

	var o objJSON
	regular.Want("PUT", "/objects", fmt.Sprintf(`{"name":"volts box 1","owner":%d,"unitSymbol":"V","tags":["a","b"]}`, ug), 200, "").JSON(t, &o)
	if o.Unit.Type != "float" || o.Unit.Symbol != "V" || o.Owner.ID != ug || o.Owner.Name != "regular" || o.Disabled || len(o.Tags) != 2 || o.Description != nil {
		t.Fatalf("created object = %+v", o)
	}
	created := o.CreationDate
	// Update keeps creationdate (the original's bug is not reproduced).
	regular.Want("POST", fmt.Sprintf("/objects/%d", o.ID), `{"name":"renamed","description":"d"}`, 200, "").JSON(t, &o)
	if o.Name != "renamed" || o.Description == nil || *o.Description != "d" || o.CreationDate != created {
		t.Fatalf("updated object = %+v (created %s)", o, created)
	}
	// Tags: 200 when something changed, 304 otherwise, 400 without the parameter.
	regular.Want("PUT", fmt.Sprintf("/objects/%d/tags?tags=c,a", o.ID), "", 200, "")
	regular.Want("PUT", fmt.Sprintf("/objects/%d/tags?tags=c", o.ID), "", 304, "")
	regular.Want("DELETE", fmt.Sprintf("/objects/%d/tags?tags=zzz", o.ID), "", 304, "")
	regular.Want("DELETE", fmt.Sprintf("/objects/%d/tags?tags=a", o.ID), "", 200, "")
	regular.Want("PUT", fmt.Sprintf("/objects/%d/tags", o.ID), "", 400, "MissingServletRequestParameterException")
	var tagged []objJSON
	regular.Want("GET", "/objects?tags=c,zzz", "", 200, "").JSON(t, &tagged)
	if len(tagged) != 1 {
		t.Errorf("tag search = %+v", tagged)
	}
	regular.Want("GET", "/objects?search=NAMED", "", 200, "").JSON(t, &tagged)
	if len(tagged) != 1 {
		t.Errorf("name search = %+v", tagged)
	}
	// Bulk: all or nothing, one owner.
	regular.Want("PUT", "/objects/bulk", `[]`, 400, "WrongParamsException")
	regular.Want("PUT", "/objects/bulk", fmt.Sprintf(`[{"name":"a","owner":%d,"unitSymbol":"V"},{"name":"b","owner":1,"unitSymbol":"V"}]`, ug), 400, "WrongParamsException")
	r = regular.Want("PUT", "/objects/bulk", fmt.Sprintf(`[{"name":"a","owner":%d,"unitSymbol":"V"},{"owner":%d,"unitSymbol":"V"}]`, ug, ug), 400, "WrongParamsException")
	if !strings.Contains(string(r.Body), "[1].name") {
		t.Errorf("bulk validation keys = %s", r.Body)
	}
	var bulk []objJSON
	regular.Want("PUT", "/objects/bulk", fmt.Sprintf(`[{"name":"a","owner":%d,"unitSymbol":"h"},{"name":"b","owner":%d,"unitSymbol":"Here"}]`, ug, ug), 200, "").JSON(t, &bulk)
	if len(bulk) != 2 || bulk[0].Unit.Type != "int" || bulk[1].Unit.Type != "bool" || bulk[1].ID != bulk[0].ID+1 {
		t.Fatalf("bulk = %+v", bulk)
	}
	// Enable/disable: 200 on change, 304 otherwise.
	regular.Want("POST", fmt.Sprintf("/objects/%d/enable", o.ID), "", 304, "")
	regular.Want("POST", fmt.Sprintf("/objects/%d/disable", o.ID), "", 200, "")
	regular.Want("POST", fmt.Sprintf("/objects/%d/disable", o.ID), "", 304, "")
	regular.Want("GET", fmt.Sprintf("/objects/%d", o.ID), "", 200, "").JSON(t, &o)
	if !o.Disabled {
		t.Errorf("object not disabled")
	}
	// Owner-group admins may still edit a disabled object's metadata (API.md §4).
	regular.Want("POST", fmt.Sprintf("/objects/%d", o.ID), `{"description":"still editable"}`, 200, "")
	// Others get 404 for everything.
	other := nd.CreateUser("no_rights_user")
	other.Want("GET", fmt.Sprintf("/objects/%d", o.ID), "", 404, "ItemNotFoundException")
	other.Want("DELETE", fmt.Sprintf("/objects/%d", o.ID), "", 404, "ItemNotFoundException")
	other.Want("GET", "/objects/abc", "", 400, "MethodArgumentTypeMismatchException")
	// Delete: refused while the object has values, then allowed.
	b := &tsdb.Batch{}
	b.AddInt(bulk[0].ID, time.Now().Add(-time.Hour).UnixMilli(), 7)
	if err := nd.N.DB.Append(context.Background(), b, tsdb.Reject); err != nil {
		t.Fatal(err)
	}
	r = regular.Want("DELETE", fmt.Sprintf("/objects/%d", bulk[0].ID), "", 403, "ForbiddenException")
	if !strings.Contains(string(r.Body), "has values") {
		t.Errorf("delete with values = %s", r.Body)
	}
	regular.Want("DELETE", fmt.Sprintf("/objects/%d", bulk[1].ID), "", 200, "")
	regular.Want("GET", fmt.Sprintf("/objects/%d", bulk[1].ID), "", 404, "ItemNotFoundException")
}

func TestTOK_UGA001_Tokens(t *testing.T) {
	nd := servertest.Start(t)
	regular := nd.CreateUser("regular_user")
	ug := regular.CreateGroup("regular")
	oid := regular.CreateObject("volts", ug, "V")
	var tok struct {
		ID          uint32  `json:"id"`
		ObjectID    uint32  `json:"objectId"`
		Token       string  `json:"token"`
		Description *string `json:"description"`
	}
	regular.Want("PUT", fmt.Sprintf("/objects/%d/tokens", oid), "", 200, "").JSON(t, &tok)
	if len(tok.Token) != 32 || tok.ObjectID != oid || tok.Description != nil {
		t.Fatalf("new token = %+v", tok)
	}
	secret := tok.Token
	if !nd.N.ACL.CheckTokenString(oid, secret) {
		t.Fatalf("the new token does not authorize writes")
	}
	// Later reads are masked.
	regular.Want("GET", fmt.Sprintf("/objects/%d/tokens/%d", oid, tok.ID), "", 200, "").JSON(t, &tok)
	if tok.Token != secret[:4]+"…" {
		t.Errorf("read token = %q, want masked", tok.Token)
	}
	regular.Want("POST", fmt.Sprintf("/objects/%d/tokens/%d", oid, tok.ID), `{"description":"gateway"}`, 200, "").JSON(t, &tok)
	if tok.Description == nil || *tok.Description != "gateway" {
		t.Errorf("described token = %+v", tok)
	}
	regular.Want("GET", fmt.Sprintf("/objects/%d/tokens/9999", oid), "", 404, "ItemNotFoundException")
	// Read-only keys may not even list tokens (write-scope GET).
	var ro struct{ Secret string }
	regular.Want("PUT", "/apikeys", "", 200, "").JSON(t, &ro)
	(&servertest.Client{Nd: nd, User: regular.User, Secret: ro.Secret}).Want("GET", fmt.Sprintf("/objects/%d/tokens", oid), "", 403, "ForbiddenException")
	// Bulk tokens: all or nothing.
	regular.Want("PUT", "/objects/bulk/tokens", `[]`, 400, "WrongParamsException")
	r := regular.Want("PUT", "/objects/bulk/tokens", `[{"objectId":-1}]`, 400, "WrongParamsException")
	if !strings.Contains(string(r.Body), "positive") {
		t.Errorf("negative id body = %s", r.Body)
	}
	regular.Want("PUT", "/objects/bulk/tokens", fmt.Sprintf(`[{"objectId":%d},{"objectId":424242}]`, oid), 404, "ItemNotFoundException")
	var list []struct{ ID uint32 }
	regular.Want("GET", fmt.Sprintf("/objects/%d/tokens", oid), "", 200, "").JSON(t, &list)
	if len(list) != 1 {
		t.Fatalf("a failed bulk created tokens: %+v", list)
	}
	regular.Want("PUT", "/objects/bulk/tokens", fmt.Sprintf(`[{"objectId":%d},{"objectId":%d,"description":"x"}]`, oid, oid), 200, "")
	// Delete: 200 then 304, and the token stops at once.
	regular.Want("DELETE", fmt.Sprintf("/objects/%d/tokens/%d", oid, tok.ID), "", 200, "")
	regular.Want("DELETE", fmt.Sprintf("/objects/%d/tokens/%d", oid, tok.ID), "", 304, "")
	if nd.N.ACL.CheckTokenString(oid, secret) {
		t.Errorf("deleted token still works")
	}
	// Disable deletes every token; no new ones while disabled.
	regular.Want("POST", fmt.Sprintf("/objects/%d/disable", oid), "", 200, "")
	regular.Want("GET", fmt.Sprintf("/objects/%d/tokens", oid), "", 200, "").JSON(t, &list)
	if len(list) != 0 {
		t.Errorf("tokens after disable = %+v", list)
	}
	regular.Want("PUT", fmt.Sprintf("/objects/%d/tokens", oid), "", 400, "WrongParamsException")
}

func TestComments(t *testing.T) {
	nd := servertest.Start(t)
	regular := nd.CreateUser("regular_user")
	ug := regular.CreateGroup("regular")
	oid := regular.CreateObject("volts", ug, "V")
	var c struct {
		ID       uint32 `json:"id"`
		ObjectID uint32 `json:"objectId"`
		From     string `json:"from"`
		To       string `json:"to"`
		Comment  string `json:"comment"`
	}
	regular.Want("PUT", fmt.Sprintf("/objects/%d/comments", oid), `{"from":"2019-01-01T10:00","to":"2020-01-01T10:00","comment":"comment on one full year"}`, 200, "").JSON(t, &c)
	if c.From != "2019-01-01T10:00:00.000Z" || c.To != "2020-01-01T10:00:00.000Z" || c.ObjectID != oid {
		t.Fatalf("comment = %+v", c)
	}
	regular.Want("PUT", fmt.Sprintf("/objects/%d/comments", oid), `{"from":"2019-12-31T20:00","to":"2020-01-01T02:00","comment":"happy new year !"}`, 200, "")
	regular.Want("PUT", fmt.Sprintf("/objects/%d/comments", oid), `{"from":"2020-01-01","to":"2019-01-01","comment":"x"}`, 400, "WrongParamsException")
	regular.Want("PUT", fmt.Sprintf("/objects/%d/comments", oid), `{"from":"2019-01-01","to":"2020-01-01","comment":"  "}`, 400, "WrongParamsException")
	regular.Want("PUT", fmt.Sprintf("/objects/%d/comments", oid), `{"from":"nope","to":"2020-01-01","comment":"x"}`, 400, "HttpMessageNotReadableException")
	var list []struct{ ID uint32 }
	regular.Want("GET", fmt.Sprintf("/objects/%d/comments", oid), "", 200, "").JSON(t, &list)
	if len(list) != 2 {
		t.Errorf("comments = %+v", list)
	}
	regular.Want("GET", fmt.Sprintf("/objects/%d/comments?forDate=2019-06-01", oid), "", 200, "").JSON(t, &list)
	if len(list) != 1 {
		t.Errorf("comments at 2019-06-01 = %+v", list)
	}
	regular.Want("GET", fmt.Sprintf("/objects/%d/comments/%d", oid, c.ID), "", 200, "")
	regular.Want("DELETE", fmt.Sprintf("/objects/%d/comments/%d", oid, c.ID), "", 200, "")
	regular.Want("DELETE", fmt.Sprintf("/objects/%d/comments/%d", oid, c.ID), "", 304, "")
	regular.Want("GET", fmt.Sprintf("/objects/%d/comments/%d", oid, c.ID), "", 404, "ItemNotFoundException")
}

func TestObjectGroupsFixture(t *testing.T) {
	nd := servertest.Start(t)
	regular := nd.CreateUser("regular_user")
	noRights := nd.CreateUser("no_rights_user")
	gRegular := regular.CreateGroup("regular")
	gOther := nd.Admin.CreateGroup("other")
	nd.Admin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", gOther, regular.User), "", 200, "")
	o1, o2 := regular.CreateObject("volts box 1", gRegular, "V"), regular.CreateObject("volts box 2", gRegular, "V")
	o6 := nd.Admin.CreateObject("owned by other", gOther, "V")
	misc := regular.CreateObjectGroup("regular_misc", gRegular, o1, o2)
	otherObjs := nd.Admin.CreateObjectGroup("other_objects", gOther, o6)
	nd.Admin.Want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", otherObjs, gRegular), "", 200, "")

	var g struct {
		ID      uint32
		Objects *[]objJSON `json:"objects"`
	}
	regular.Want("GET", fmt.Sprintf("/objectGroups/%d", misc), "", 200, "").JSON(t, &g)
	if g.Objects != nil {
		t.Errorf("objects key present without withObjects")
	}
	regular.Want("GET", fmt.Sprintf("/objectGroups/%d?withObjects=true", misc), "", 200, "").JSON(t, &g)
	if g.Objects == nil || len(*g.Objects) != 2 {
		t.Errorf("withObjects = %+v", g.Objects)
	}
	var gs []struct{ ID uint32 }
	regular.Want("GET", "/objectGroups", "", 200, "").JSON(t, &gs)
	if len(gs) != 2 {
		t.Errorf("regular's object groups = %+v", gs)
	}
	regular.Want("GET", "/objectGroups?writable=true", "", 200, "").JSON(t, &gs)
	if len(gs) != 1 {
		t.Errorf("regular's writable object groups = %+v", gs)
	}
	noRights.Want("GET", "/objectGroups", "", 200, "").JSON(t, &gs)
	if len(gs) != 0 {
		t.Errorf("no_rights_user's object groups = %+v", gs)
	}
	// Read through the share; no write.
	if !canRead(regular, o6) || canEdit(regular, o6) {
		t.Errorf("regular on o6: want read, no edit")
	}
	// Sharing needs group write access: readable-but-not-writable gets 404 on the list, 403 on delete.
	regular.Want("GET", fmt.Sprintf("/objectGroups/%d/userGroups", otherObjs), "", 404, "ItemNotFoundException")
	regular.Want("DELETE", fmt.Sprintf("/objectGroups/%d", otherObjs), "", 403, "ForbiddenException")
	noRights.Want("DELETE", fmt.Sprintf("/objectGroups/%d", otherObjs), "", 304, "")
	// A member of a group is 304 when added again; an object the caller cannot manage is 404.
	regular.Want("PUT", fmt.Sprintf("/objectGroups/%d/objects/%d", misc, o1), "", 304, "")
	regular.Want("PUT", fmt.Sprintf("/objectGroups/%d/objects/%d", misc, o6), "", 404, "ItemNotFoundException")
	regular.Want("DELETE", fmt.Sprintf("/objectGroups/%d/objects/%d", misc, o2), "", 200, "")
	regular.Want("DELETE", fmt.Sprintf("/objectGroups/%d/objects/%d", misc, o2), "", 304, "")
	// Validation and ownership.
	regular.Want("PUT", "/objectGroups", `{"name":"ab","owner":1}`, 400, "WrongParamsException")
	regular.Want("PUT", "/objectGroups", `{"name":"abc","owner":-1}`, 404, "ItemNotFoundException")
	regular.Want("PUT", "/objectGroups", fmt.Sprintf(`{"name":"regular_misc","owner":%d}`, gRegular), 400, "DuplicateFieldException")
	// Windows on shares are stored and listed.
	nd.Admin.Want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", otherObjs, gRegular), `{"from":"2020-01-01","to":"2019-01-01"}`, 400, "WrongParamsException")
	nd.Admin.Want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", otherObjs, gRegular), `{"from":"2020-01-01","to":"2030-01-01"}`, 200, "")
	var shares []struct {
		ID   uint32
		From *string
		To   *string
	}
	nd.Admin.Want("GET", fmt.Sprintf("/objectGroups/%d/userGroups", otherObjs), "", 200, "").JSON(t, &shares)
	if len(shares) != 1 || shares[0].From == nil || *shares[0].From != "2020-01-01T00:00:00.000Z" || *shares[0].To != "2030-01-01T00:00:00.000Z" {
		t.Errorf("shares = %+v", shares)
	}
	nd.Admin.Want("DELETE", fmt.Sprintf("/objectGroups/%d/userGroups/%d", otherObjs, gRegular), "", 200, "")
	nd.Admin.Want("DELETE", fmt.Sprintf("/objectGroups/%d/userGroups/%d", otherObjs, gRegular), "", 304, "")
	// A share is what lets a group outside the owner read: share with a group of no_rights_user.
	viewers := nd.Admin.CreateGroup("viewers")
	nd.Admin.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", viewers, noRights.User), "", 200, "")
	if canRead(noRights, o6) {
		t.Fatalf("no_rights_user reads o6 before any share")
	}
	nd.Admin.Want("PUT", fmt.Sprintf("/objectGroups/%d/userGroups/%d", otherObjs, viewers), "", 200, "")
	if !canRead(noRights, o6) || canEdit(noRights, o6) {
		t.Fatalf("through the share no_rights_user must read o6, not edit it")
	}
	nd.Admin.Want("DELETE", fmt.Sprintf("/objectGroups/%d/userGroups/%d", otherObjs, viewers), "", 200, "")
	if canRead(noRights, o6) {
		t.Errorf("no_rights_user still reads o6 after unsharing")
	}
}

// TestRevocationUnderConcurrentRequests removes a member while another goroutine keeps
// reading with the member's key: once the removal is acknowledged, no later read succeeds.
func TestACL_ALL001_RevocationUnderConcurrentRequests(t *testing.T) {
	nd := servertest.Start(t)
	owner := nd.CreateUser("owner")
	reader := nd.CreateUser("reader")
	ug := owner.CreateGroup("team")
	oid := owner.CreateObject("o", ug, "V")
	owner.Want("PUT", fmt.Sprintf("/userGroups/%d/users/%d", ug, reader.User), "", 200, "")
	if !canRead(reader, oid) {
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
				ok := reader.Do("GET", fmt.Sprintf("/objects/%d", oid), "").Code == 200
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
	owner.Want("DELETE", fmt.Sprintf("/userGroups/%d/users/%d", ug, reader.User), "", 200, "")
	mu.Lock()
	revokedAt = time.Now()
	mu.Unlock()
	// Let the readers go on for a bounded number of requests after the revocation.
	for i := 0; i < 50; i++ {
		if reader.Do("GET", fmt.Sprintf("/objects/%d", oid), "").Code == 200 {
			t.Fatalf("read after revocation succeeded")
		}
	}
	close(stop)
	wg.Wait()
	if len(leaks) > 0 {
		t.Fatalf("%d reads started after the revocation was acknowledged still succeeded", len(leaks))
	}
}
