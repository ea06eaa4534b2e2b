package acl

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/tsgate/tsgate/catalog"
)

// Scenario helpers (system actor unless said otherwise).

var nameSeq atomic.Uint32

func (e *env) user(t *testing.T, tenant uint32) uint32 {
	t.Helper()
	n := nameSeq.Add(1)
	p := must[Principal](t)(e.acl.CreateUser(0, NewUser{Tenant: tenant, Name: fmt.Sprintf("user%d", n), Password: "password", Email: fmt.Sprintf("user%d@example.com", n)}))
	return p.ID
}

func (e *env) group(t *testing.T, tenant uint32, members ...uint32) uint32 {
	t.Helper()
	g := must[UserGroup](t)(e.acl.CreateGroup(0, tenant, fmt.Sprintf("group%d", nameSeq.Add(1))))
	for _, m := range members {
		ok(t, e.acl.AddMember(0, g.ID, m, false))
	}
	return g.ID
}

func (e *env) admin(t *testing.T, g uint32, members ...uint32) {
	t.Helper()
	for _, m := range members {
		ok(t, e.acl.AddMember(0, g, m, true))
	}
}

func (e *env) obj(t *testing.T, owner uint32) uint32 {
	t.Helper()
	os := must[[]catalog.Object](t)(e.acl.CreateObjects(0, []catalog.NewObject{{Name: fmt.Sprintf("obj%d", nameSeq.Add(1)), Owner: owner, UnitSymbol: "V"}}, nil))
	return os[0].ID
}

func (e *env) ogroup(t *testing.T, owner uint32, objs ...uint32) uint32 {
	t.Helper()
	g := must[catalog.ObjectGroup](t)(e.acl.CreateObjectGroup(0, catalog.NewGroup{Name: fmt.Sprintf("og%d", nameSeq.Add(1)), Owner: owner}))
	for _, o := range objs {
		ok(t, e.acl.AddToObjectGroup(0, g.ID, o))
	}
	return g.ID
}

func (e *env) tenant(t *testing.T) uint32 {
	t.Helper()
	return must[Tenant](t)(e.acl.CreateTenant(0, fmt.Sprintf("tenant-%d", nameSeq.Add(1)), "")).ID
}

// rights returns "rwm" letters of principal p on o (view; checked against Casbin).
func (e *env) rights(t *testing.T, p, o uint32) string {
	t.Helper()
	v := e.acl.View(p)
	out := ""
	for i, has := range []bool{v.CanRead(o), v.CanWrite(o), v.CanManage(o)} {
		if has {
			out += string("rwm"[i])
		} else {
			out += "-"
		}
	}
	enf := must[*Enforcer](t)(e.acl.Enforcer())
	obj := must[catalog.Object](t)(e.cat.Object(o))
	for i, verb := range Verbs {
		got, _, err := enf.EnforceAt(p, obj.Tenant, o, verb, e.clk.Now())
		ok(t, err)
		if got != (out[i] != '-') {
			t.Fatalf("principal %d %s object %d: view %q, Casbin %v", p, verb, o, out, got)
		}
	}
	return out
}

func wantRights(t *testing.T, e *env, p, o uint32, want string) {
	t.Helper()
	if got := e.rights(t, p, o); got != want {
		t.Errorf("principal %d on object %d: %q, want %q", p, o, got, want)
	}
}

// TestOBJ_UGA001_OBJ_UGM001_OBJ_SH001_BBDataConceptsU1toU4 is the example of the
// BBData concepts document: U1 edits O1 and reads O2, O3; U2 reads O2, O3; U3
// edits O2, O3, O4; U4 reads O2, O3, O4.
func TestOBJ_UGA001_OBJ_UGM001_OBJ_SH001_BBDataConceptsU1toU4(t *testing.T) {
	e := newEnv(t)
	u1, u2, u3, u4 := e.user(t, 1), e.user(t, 1), e.user(t, 1), e.user(t, 1)
	ug1 := e.group(t, 1)
	e.admin(t, ug1, u1)
	ug2 := e.group(t, 1, u1, u2)
	ug3 := e.group(t, 1, u4)
	e.admin(t, ug3, u3)
	o1 := e.obj(t, ug1)
	o2, o3, o4 := e.obj(t, ug3), e.obj(t, ug3), e.obj(t, ug3)
	og := e.ogroup(t, ug3, o2, o3)
	ok(t, e.acl.ShareGroup(0, og, ug2, nil))
	want := map[uint32][4]string{
		u1: {"rwm", "r--", "r--", "---"},
		u2: {"---", "r--", "r--", "---"},
		u3: {"---", "rwm", "rwm", "rwm"},
		u4: {"---", "r--", "r--", "r--"},
	}
	for u, w := range want {
		for i, o := range []uint32{o1, o2, o3, o4} {
			wantRights(t, e, u, o, w[i])
		}
	}
}

func TestOBJ_SU001_USR_SU001_SuperusersAreGroup1Admins(t *testing.T) {
	e := newEnv(t)
	t2 := e.tenant(t)
	owner := e.group(t, t2)
	o := e.obj(t, owner)
	wantRights(t, e, AdminUser, o, "rwm")
	u := e.user(t, MasterTenant)
	wantRights(t, e, u, o, "---")
	ok(t, e.acl.AddMember(0, SuperGroup, u, false))
	wantRights(t, e, u, o, "---") // a regular member of group 1 is not a superuser
	ok(t, e.acl.AddMember(AdminUser, SuperGroup, u, true))
	wantRights(t, e, u, o, "rwm")
	if !e.acl.IsSuperuser(u) {
		t.Fatal("admin member of group 1 not a superuser")
	}
	// /me/userGroups of a superuser: every group, each admin
	gs := e.acl.GroupsOf(u)
	if len(gs) != len(e.acl.Groups(0)) {
		t.Fatalf("superuser's groups %d of %d", len(gs), len(e.acl.Groups(0)))
	}
	for _, g := range gs {
		if !g.Admin {
			t.Fatalf("superuser not admin of %+v", g)
		}
	}
}

func TestOBJ_TA001_TEN_TA001_TenantAdminsRuleTheirTenantOnly(t *testing.T) {
	e := newEnv(t)
	t2, t3 := e.tenant(t), e.tenant(t)
	ta := e.user(t, t2)
	ok(t, e.acl.AddTenantAdmin(0, t2, ta))
	o2 := e.obj(t, e.group(t, t2))
	o3 := e.obj(t, e.group(t, t3))
	wantRights(t, e, ta, o2, "rwm")
	wantRights(t, e, ta, o3, "---")
	// superuser powers inside the tenant: manage memberships of any group there
	g := e.group(t, t2)
	u := e.user(t, t2)
	ok(t, e.acl.AddMember(ta, g, u, true))
	// except: group 1, tenants, removing tenant admins
	wantErr(t, e.acl.AddMember(ta, SuperGroup, u, false), ErrNotFound) // group 1 is in master: invisible
	_, err := e.acl.CreateTenant(ta, "newtenant", "")
	wantErr(t, err, ErrForbidden)
	ta2 := e.user(t, t2)
	ok(t, e.acl.AddTenantAdmin(ta, t2, ta2))
	wantErr(t, e.acl.RemoveTenantAdmin(ta, t2, ta2), ErrForbidden)
	ok(t, e.acl.RemoveTenantAdmin(AdminUser, t2, ta2))
	// a tenant admin of master still cannot touch group 1
	mta := e.user(t, MasterTenant)
	ok(t, e.acl.AddTenantAdmin(0, MasterTenant, mta))
	wantErr(t, e.acl.AddMember(mta, SuperGroup, e.user(t, MasterTenant), true), ErrForbidden)
	// tenant admins cannot delete users (superusers only)
	wantErr(t, e.acl.DeleteUser(ta, u), ErrForbidden)
}

func TestOBJ_UGA002_OBJ_ALL002_WriteOnlyEnabledAndDisableRevokesTokens(t *testing.T) {
	e := newEnv(t)
	adm, mem := e.user(t, 1), e.user(t, 1)
	g := e.group(t, 1, mem)
	e.admin(t, g, adm)
	o := e.obj(t, g)
	wantRights(t, e, adm, o, "rwm")
	wantRights(t, e, mem, o, "r--")
	tok := must[[]Token](t)(e.acl.CreateTokens(adm, []NewToken{{Object: o}}))[0]
	for _, pass := range []string{"first check (hashes)", "second check (cached)"} {
		if !e.acl.CheckTokenString(o, tok.Secret) {
			t.Fatalf("token rejected on the %s", pass)
		}
	}
	epoch := e.acl.TokenEpoch()
	ok(t, e.acl.SetObjectEnabled(adm, o, false))
	if e.acl.CheckTokenString(o, tok.Secret) {
		t.Fatal("token of a disabled object accepted")
	}
	if e.acl.TokenEpoch() == epoch {
		t.Fatal("TokenEpoch did not move when an object was disabled")
	}
	wantRights(t, e, adm, o, "r-m") // owner admins still edit a disabled object's metadata
	wantErr(t, e.acl.SetObjectEnabled(adm, o, false), ErrUnchanged)
	_, err := e.acl.CreateTokens(adm, []NewToken{{Object: o}})
	wantErr(t, err, ErrInvalid)
	ok(t, e.acl.SetObjectEnabled(adm, o, true))
	wantRights(t, e, adm, o, "rwm")
	if e.acl.CheckTokenString(o, tok.Secret) {
		t.Fatal("a disabled object's token came back")
	}
}

func TestOBJ_UGA003_CreateOnlyInGroupsOneAdmins(t *testing.T) {
	e := newEnv(t)
	adm, mem, other := e.user(t, 1), e.user(t, 1), e.user(t, 1)
	g := e.group(t, 1, mem)
	e.admin(t, g, adm)
	n := []catalog.NewObject{{Name: "x", Owner: g, UnitSymbol: "V"}}
	_, err := e.acl.CreateObjects(mem, n, nil)
	wantErr(t, err, ErrNotFound)
	_, err = e.acl.CreateObjects(other, n, nil)
	wantErr(t, err, ErrNotFound)
	objs := must[[]catalog.Object](t)(e.acl.CreateObjects(adm, n, nil))
	if objs[0].Tenant != 1 || objs[0].Owner != g {
		t.Fatalf("created %+v", objs[0])
	}
	_, err = e.acl.CreateObjectGroup(mem, catalog.NewGroup{Name: "ogx", Owner: g})
	wantErr(t, err, ErrNotFound)
	must[catalog.ObjectGroup](t)(e.acl.CreateObjectGroup(adm, catalog.NewGroup{Name: "ogx", Owner: g}))
	// order: validation before owner, owner before unit
	_, err = e.acl.CreateObjects(mem, []catalog.NewObject{{Name: "", Owner: g, UnitSymbol: "V"}}, nil)
	wantErr(t, err, ErrInvalid)
	_, err = e.acl.CreateObjects(mem, []catalog.NewObject{{Name: "y", Owner: g, UnitSymbol: "nope"}}, nil)
	wantErr(t, err, ErrNotFound)
	_, err = e.acl.CreateObjects(adm, []catalog.NewObject{{Name: "y", Owner: g, UnitSymbol: "nope"}}, nil)
	wantErr(t, err, ErrInvalid)
}

func TestOBJ_SH002_TimeBoundedSharesAsOf(t *testing.T) {
	e := newEnv(t)
	owner := e.group(t, 1)
	reader := e.user(t, 1)
	rg := e.group(t, 1, reader)
	o1 := e.obj(t, owner)
	og := e.ogroup(t, owner, o1)
	t0 := e.clk.Now()
	e.clk.Add(time.Hour)
	from, to := t0.Add(2*time.Hour), t0.Add(5*time.Hour)
	ok(t, e.acl.ShareGroup(0, og, rg, &Window{From: from, To: to}))
	wantRights(t, e, reader, o1, "---") // not begun: grants nothing yet
	if vu := e.acl.View(reader).ValidUntil(); !vu.Equal(from) {
		t.Fatalf("view valid until %v, want the window start %v", vu, from)
	}
	e.clk.Add(90 * time.Minute) // inside the window
	wantRights(t, e, reader, o1, "r--")
	v := e.acl.View(reader)
	if w := v.Windows(o1); len(w) != 1 || !w[0].From.Equal(from) || !w[0].To.Equal(to) {
		t.Fatalf("windows %+v", w)
	}
	// an object added after the window ended is not reached; one created before is
	o2 := e.obj(t, owner)
	ok(t, e.acl.AddToObjectGroup(0, og, o2))
	wantRights(t, e, reader, o2, "r--") // A_s = now: in the group now
	e.clk.Add(4 * time.Hour)            // window over: A_s = to
	o3 := e.obj(t, owner)
	ok(t, e.acl.AddToObjectGroup(0, og, o3))
	wantRights(t, e, reader, o1, "r--")
	wantRights(t, e, reader, o2, "r--")
	wantRights(t, e, reader, o3, "---") // did not exist at A_s
	if at, ok2 := e.acl.View(reader).AsOf(o1); !ok2 || !at.Equal(to) {
		t.Fatalf("as of %v %v, want %v", at, ok2, to)
	}
	// removed from the group now → not reached any more
	ok(t, e.acl.RemoveFromObjectGroup(0, og, o1))
	wantRights(t, e, reader, o1, "---")
	// as-of metadata: the version before A_s
	_, err := e.cat.UpdateObject(o2, ptr("renamed after the window"), nil)
	ok(t, err)
	asOf, _ := e.acl.View(reader).AsOf(o2)
	old := must[catalog.Object](t)(e.cat.ObjectAsOf(o2, asOf))
	if old.Name == "renamed after the window" {
		t.Fatal("as-of read shows a later version")
	}
}

func ptr[T any](v T) *T { return &v }

func TestOBJ_SH003_UntimedShareLiftsClips(t *testing.T) {
	e := newEnv(t)
	owner := e.group(t, 1)
	reader := e.user(t, 1)
	rg1, rg2 := e.group(t, 1, reader), e.group(t, 1, reader)
	o := e.obj(t, owner)
	og1, og2 := e.ogroup(t, owner, o), e.ogroup(t, owner, o)
	ok(t, e.acl.ShareGroup(0, og1, rg1, &Window{From: e.clk.Now().Add(-time.Hour), To: e.clk.Now().Add(time.Hour)}))
	if e.acl.View(reader).Windows(o) == nil {
		t.Fatal("windowed share: no windows")
	}
	ok(t, e.acl.ShareGroup(0, og2, rg2, nil))
	if w := e.acl.View(reader).Windows(o); w != nil {
		t.Fatalf("untimed share still clipped: %v", w)
	}
	ok(t, e.acl.UnshareGroup(0, og2, rg2))
	e.admin(t, owner, reader) // ownership lifts too
	if w := e.acl.View(reader).Windows(o); w != nil || !e.acl.View(reader).CanRead(o) {
		t.Fatalf("owner clipped: %v", w)
	}
}

func TestOBJ_RP001_OBJ_RP002_RestrictedLinkedObjectsOnly(t *testing.T) {
	e := newEnv(t)
	g := e.group(t, 1)
	r := e.user(t, 1)
	e.admin(t, g, r) // group rights are ignored once restricted
	o1, o2 := e.obj(t, g), e.obj(t, g)
	wantRights(t, e, r, o2, "rwm")
	ok(t, e.acl.Link(AdminUser, r, o1))
	wantRights(t, e, r, o1, "rw-")
	wantRights(t, e, r, o2, "---")
	k := must[Apikey](t)(e.acl.CreateApikey(nil, r, NewApikey{ReadOnly: true}))
	kv := must[*KeyView](t)(e.acl.KeyView(&k))
	if !kv.CanRead(o1) || kv.CanWrite(o1) {
		t.Fatal("read-only key of a restricted principal")
	}
	ok(t, e.acl.Unlink(AdminUser, r, o1))
	wantRights(t, e, r, o2, "rwm") // no link left: not restricted
}

func TestOBJ_RP003_RestrictedCannotChangeAnything(t *testing.T) {
	e := newEnv(t)
	g := e.group(t, 1)
	r := e.user(t, 1)
	e.admin(t, g, r)
	o := e.obj(t, g)
	og := e.ogroup(t, g)
	ok(t, e.acl.Link(AdminUser, r, o))
	_, err := e.acl.CreateObjects(r, []catalog.NewObject{{Name: "x", Owner: g, UnitSymbol: "V"}}, nil)
	wantErr(t, err, ErrForbidden)
	_, err = e.acl.CreateGroup(r, 1, "newgroup")
	wantErr(t, err, ErrForbidden)
	wantErr(t, e.acl.AddMember(r, g, e.user(t, 1), false), ErrForbidden)
	wantErr(t, e.acl.SetObjectEnabled(r, o, false), ErrNotFound)
	wantErr(t, e.acl.DeleteObject(r, o, nil), ErrNotFound)
	_, err = e.acl.CreateTokens(r, []NewToken{{Object: o}})
	wantErr(t, err, ErrNotFound)
	wantErr(t, e.acl.ShareGroup(r, og, g, nil), ErrNotFound)
	wantErr(t, e.acl.SetPublic(r, o, true, []string{"name"}), ErrNotFound) // cannot make it public
	wantErr(t, e.acl.AddToObjectGroup(r, og, o), ErrNotFound)
	wantErr(t, e.acl.Link(r, r, o), ErrForbidden)
	_, err = e.acl.CreateTenant(r, "mine", "")
	wantErr(t, err, ErrForbidden)
	if e.acl.View(r).CanManage(o) {
		t.Fatal("restricted principal manages")
	}
	// but manages its own apikeys
	k := must[Apikey](t)(e.acl.CreateApikey(nil, r, NewApikey{}))
	ok(t, e.acl.DeleteApikey(r, k.ID, false))
}

func TestOBJ_PUB001_AnonymousSeesPublicOnly(t *testing.T) {
	e := newEnv(t)
	g := e.group(t, 1)
	o1, o2 := e.obj(t, g), e.obj(t, g)
	ok(t, e.acl.SetPublic(0, o1, true, []string{"name", "values"}))
	v := e.acl.View(AnonymousPrincipal)
	if !v.CanRead(o1) || v.CanRead(o2) || v.CanWrite(o1) || v.CanManage(o1) {
		t.Fatal("anonymous view")
	}
	wantRights(t, e, AnonymousPrincipal, o1, "r--")
	obj := must[catalog.Object](t)(e.cat.Object(o1))
	if !obj.PublicField("name") || obj.PublicField("description") || !obj.PublicField("id") {
		t.Fatal("public fields")
	}
	if CanReadField("object", "disabled", RolePublic) || !CanReadField("object", "name", RolePublic) {
		t.Fatal("field matrix for PUB")
	}
	// public read adds nothing to authenticated principals
	u := e.user(t, 1)
	wantRights(t, e, u, o1, "---")
	wantErr(t, e.acl.SetPublic(0, o1, true, []string{"name", "values"}), ErrUnchanged)
	_, err := e.cat.SetPublic(o1, true, []string{"password"}, nil)
	wantErr(t, err, ErrInvalid)
}

func TestOBJ_ALL001_DenyByDefault(t *testing.T) {
	e := newEnv(t)
	o := e.obj(t, e.group(t, 1))
	u := e.user(t, 1)
	wantRights(t, e, u, o, "---")
	v := e.acl.View(u)
	if v.ReadCount() != 0 || v.CanRead(999) {
		t.Fatal("fresh user sees something")
	}
	x := must[Explanation](t)(e.acl.Explain(AdminUser, u, o, "read"))
	if x.Allowed || x.Reason == "" {
		t.Fatalf("explain %+v", x)
	}
}

func TestOBJ_ALL003_NothingCrossesTenants(t *testing.T) {
	e := newEnv(t)
	t2, t3 := e.tenant(t), e.tenant(t)
	u2, u3 := e.user(t, t2), e.user(t, t3)
	g2, g3 := e.group(t, t2, u2), e.group(t, t3, u3)
	o3 := e.obj(t, g3)
	og3 := e.ogroup(t, g3, o3)
	// a foreign user group cannot receive a share, a foreign principal cannot join
	wantErr(t, e.acl.ShareGroup(0, og3, g2, nil), ErrNotFound)
	wantErr(t, e.acl.AddMember(0, g3, u2, false), ErrNotFound)
	_, err := e.acl.Group(u2, g3)
	wantErr(t, err, ErrNotFound)
	wantErr(t, e.acl.AddToObjectGroup(0, e.ogroup(t, g2), o3), ErrNotFound)
	wantRights(t, e, u2, o3, "---")
	_, err = e.acl.CreateObjects(u2, []catalog.NewObject{{Name: "x", Owner: g3, UnitSymbol: "V"}}, nil)
	wantErr(t, err, ErrNotFound)
	if gs := e.acl.Groups(u2); len(gs) != 1 || gs[0].ID != g2 {
		t.Fatalf("groups listed to u2: %+v", gs)
	}
	_, err = e.acl.Explain(u2, u3, o3, "read")
	wantErr(t, err, ErrNotFound)
}

func TestOG_UGA001_OG_UGA002_ObjectGroupAdmins(t *testing.T) {
	e := newEnv(t)
	a1, a2, m := e.user(t, 1), e.user(t, 1), e.user(t, 1)
	g1, g2 := e.group(t, 1, m), e.group(t, 1)
	e.admin(t, g1, a1)
	e.admin(t, g2, a2)
	o1, o2 := e.obj(t, g1), e.obj(t, g2)
	og := must[catalog.ObjectGroup](t)(e.acl.CreateObjectGroup(a1, catalog.NewGroup{Name: "mixed", Owner: g1})).ID
	ok(t, e.acl.AddToObjectGroup(a1, og, o1))
	wantErr(t, e.acl.AddToObjectGroup(a1, og, o1), ErrUnchanged)
	wantErr(t, e.acl.AddToObjectGroup(a1, og, o2), ErrNotFound) // a1 cannot manage o2
	ok(t, e.acl.AddMember(0, g2, a1, true))                     // now a1 manages both
	ok(t, e.acl.AddToObjectGroup(a1, og, o2))                   // owners may differ
	wantErr(t, e.acl.AddToObjectGroup(m, og, o1), ErrNotFound)  // member, not admin
	ok(t, e.acl.ShareGroup(a1, og, g2, nil))
	wantErr(t, e.acl.ShareGroup(m, og, g2, nil), ErrNotFound)
	sh := must[[]Share](t)(e.acl.Shares(a1, og))
	if len(sh) != 1 || sh[0].UserGroup != g2 {
		t.Fatalf("shares %+v", sh)
	}
	_, err := e.acl.Shares(m, og)
	wantErr(t, err, ErrNotFound)
	ok(t, e.acl.RemoveFromObjectGroup(a1, og, o2))
	wantErr(t, e.acl.RemoveFromObjectGroup(a1, og, o2), ErrUnchanged)
}

func TestOG_UGM001_ObjectGroupReadAndDeleteStatuses(t *testing.T) {
	e := newEnv(t)
	adm, mem, sh, out := e.user(t, 1), e.user(t, 1), e.user(t, 1), e.user(t, 1)
	g := e.group(t, 1, mem)
	e.admin(t, g, adm)
	sg := e.group(t, 1, sh)
	og := e.ogroup(t, g)
	ok(t, e.acl.ShareGroup(0, og, sg, nil))
	for p, want := range map[uint32]bool{adm: true, mem: true, sh: true, out: false} {
		if e.acl.CanReadGroup(p, og) != want {
			t.Errorf("principal %d reads group: %v", p, !want)
		}
	}
	wantErr(t, e.acl.DeleteObjectGroup(out, og), ErrUnchanged)
	wantErr(t, e.acl.DeleteObjectGroup(mem, og), ErrForbidden)
	wantErr(t, e.acl.DeleteObjectGroup(sh, og), ErrForbidden)
	ok(t, e.acl.DeleteObjectGroup(adm, og))
	wantErr(t, e.acl.DeleteObjectGroup(adm, og), ErrUnchanged)
}

func TestOG_SH001_OneSharePerPair(t *testing.T) {
	e := newEnv(t)
	g, rg := e.group(t, 1), e.group(t, 1)
	og := e.ogroup(t, g)
	w := &Window{From: e.clk.Now(), To: e.clk.Now().Add(time.Hour)}
	ok(t, e.acl.ShareGroup(0, og, rg, w))
	wantErr(t, e.acl.ShareGroup(0, og, rg, w), ErrUnchanged)
	ok(t, e.acl.ShareGroup(0, og, rg, nil)) // replaces the window
	wantErr(t, e.acl.ShareGroup(0, og, rg, nil), ErrUnchanged)
	wantErr(t, e.acl.ShareGroup(0, og, rg, &Window{From: e.clk.Now(), To: e.clk.Now()}), ErrInvalid)
	if sh := must[[]Share](t)(e.acl.Shares(0, og)); len(sh) != 1 || sh[0].Timed() {
		t.Fatalf("shares %+v", sh)
	}
	es := must[[]AuditEntry](t)(e.acl.Audit(AuditQuery{}))
	var actions []string
	for _, x := range es {
		if x.Target.ObjectGroup == og && x.Target.UserGroup == rg {
			actions = append(actions, x.Action)
		}
	}
	if !slices.Equal(actions, []string{"share.window", "share.add"}) {
		t.Fatalf("audit %v", actions)
	}
	ok(t, e.acl.UnshareGroup(0, og, rg))
	wantErr(t, e.acl.UnshareGroup(0, og, rg), ErrUnchanged)
}

func TestUG_ANY001_UG_UGM001_UG_UGA001_Memberships(t *testing.T) {
	e := newEnv(t)
	adm, mem, out, target := e.user(t, 1), e.user(t, 1), e.user(t, 1), e.user(t, 1)
	g := e.group(t, 1, mem)
	e.admin(t, g, adm)
	if len(e.acl.Groups(out)) < 2 {
		t.Fatal("everyone lists the tenant's groups")
	}
	must[[]Member](t)(e.acl.Members(mem, g))
	_, err := e.acl.Members(out, g)
	wantErr(t, err, ErrNotFound)
	wantErr(t, e.acl.AddMember(out, g, target, false), ErrNotFound)
	wantErr(t, e.acl.AddMember(mem, g, target, false), ErrForbidden)
	ok(t, e.acl.AddMember(adm, g, target, false))
	wantErr(t, e.acl.AddMember(adm, g, target, false), ErrUnchanged)
	ok(t, e.acl.AddMember(adm, g, target, true)) // flip: takes effect at once
	o := e.obj(t, g)
	wantRights(t, e, target, o, "rwm")
	ok(t, e.acl.AddMember(adm, g, target, false))
	wantRights(t, e, target, o, "r--")
	ok(t, e.acl.RemoveMember(adm, g, target))
	wantErr(t, e.acl.RemoveMember(adm, g, target), ErrUnchanged)
	wantErr(t, e.acl.AddMember(adm, g, 999, false), ErrNotFound)
	wantErr(t, e.acl.AddMember(AdminUser, 999, target, false), ErrForeignKey)
	// a group owning objects cannot be deleted
	wantErr(t, e.acl.DeleteGroup(adm, g), ErrInvalid)
	g2 := e.group(t, 1, mem)
	wantErr(t, e.acl.DeleteGroup(mem, g2), ErrForbidden)
	ok(t, e.acl.DeleteGroup(AdminUser, g2))
	wantErr(t, e.acl.DeleteGroup(AdminUser, g2), ErrUnchanged)
}

func TestUG_SU001_USR_SU002_Group1AndAdminProtected(t *testing.T) {
	e := newEnv(t)
	wantErr(t, e.acl.DeleteGroup(AdminUser, SuperGroup), ErrForbidden)
	wantErr(t, e.acl.RemoveMember(AdminUser, SuperGroup, AdminUser), ErrForbidden)
	wantErr(t, e.acl.AddMember(AdminUser, SuperGroup, AdminUser, false), ErrForbidden)
	wantErr(t, e.acl.DeleteUser(AdminUser, AdminUser), ErrForbidden)
	su := e.user(t, 1)
	ok(t, e.acl.AddMember(AdminUser, SuperGroup, su, true))
	wantErr(t, e.acl.DeleteUser(su, AdminUser), ErrForbidden)
	// a group-1 member that is not admin cannot change group 1
	m := e.user(t, 1)
	ok(t, e.acl.AddMember(AdminUser, SuperGroup, m, false))
	wantErr(t, e.acl.AddMember(m, SuperGroup, e.user(t, 1), false), ErrForbidden)
	ok(t, e.acl.RemoveMember(su, SuperGroup, m))
}

func TestUSR_SU003_OnlySuperusersDeleteUsers(t *testing.T) {
	e := newEnv(t)
	u, v := e.user(t, 1), e.user(t, 1)
	g := e.group(t, 1, v)
	e.admin(t, g, u)
	k := must[Apikey](t)(e.acl.CreateApikey(nil, v, NewApikey{}))
	wantErr(t, e.acl.DeleteUser(u, v), ErrForbidden)
	ok(t, e.acl.DeleteUser(AdminUser, v))
	wantErr(t, e.acl.DeleteUser(AdminUser, v), ErrUnchanged)
	if _, _, err := e.acl.AuthenticateBearer(k.Secret); err == nil {
		t.Fatal("a deleted user's key works")
	}
	if ms := must[[]Member](t)(e.acl.Members(0, g)); len(ms) != 1 {
		t.Fatalf("members after delete: %+v", ms)
	}
	c, _, err := e.acl.CreateClient(0, 1, "prog", nil)
	ok(t, err)
	wantErr(t, e.acl.DeleteUser(AdminUser, c.ID), ErrNotFound)
}

func TestTEN_SU001_Tenants(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, 1)
	_, err := e.acl.CreateTenant(u, "acme", "")
	wantErr(t, err, ErrForbidden)
	_, err = e.acl.CreateTenant(AdminUser, "A", "")
	wantErr(t, err, ErrInvalid)
	tn := must[Tenant](t)(e.acl.CreateTenant(AdminUser, "acme", "90d"))
	_, err = e.acl.CreateTenant(AdminUser, "acme", "")
	wantErr(t, err, ErrDuplicate)
	wantErr(t, e.acl.DeleteTenant(AdminUser, MasterTenant), ErrForbidden)
	e.user(t, tn.ID)
	wantErr(t, e.acl.DeleteTenant(AdminUser, tn.ID), ErrInvalid)
	empty := must[Tenant](t)(e.acl.CreateTenant(AdminUser, "empty", ""))
	wantErr(t, e.acl.DeleteTenant(u, empty.ID), ErrForbidden)
	ok(t, e.acl.DeleteTenant(AdminUser, empty.ID))
	if ts := e.acl.Tenants(u); len(ts) != 1 || ts[0].ID != MasterTenant {
		t.Fatalf("tenants shown to a user: %+v", ts)
	}
	_, err = e.acl.UpdateTenant(AdminUser, tn.ID, "90d")
	wantErr(t, err, ErrUnchanged)
}

func TestTEN_TA002_NamingTenantAdmins(t *testing.T) {
	e := newEnv(t)
	t2, t3 := e.tenant(t), e.tenant(t)
	a, b := e.user(t, t2), e.user(t, t2)
	foreign := e.user(t, t3)
	wantErr(t, e.acl.AddTenantAdmin(b, t2, a), ErrForbidden)
	ok(t, e.acl.AddTenantAdmin(AdminUser, t2, a))
	wantErr(t, e.acl.AddTenantAdmin(AdminUser, t2, a), ErrUnchanged)
	ok(t, e.acl.AddTenantAdmin(a, t2, b))
	wantErr(t, e.acl.AddTenantAdmin(a, t2, foreign), ErrNotFound)
	wantErr(t, e.acl.AddTenantAdmin(a, t3, foreign), ErrNotFound)
	wantErr(t, e.acl.RemoveTenantAdmin(a, t2, b), ErrForbidden)
	ok(t, e.acl.RemoveTenantAdmin(AdminUser, t2, b))
	if got := e.acl.TenantAdmins(t2); !slices.Equal(got, []uint32{a}) {
		t.Fatalf("admins %v", got)
	}
}

func TestLNK_TA001_OnlyTenantAdminsLink(t *testing.T) {
	e := newEnv(t)
	t2 := e.tenant(t)
	ta, u, r := e.user(t, t2), e.user(t, t2), e.user(t, t2)
	ok(t, e.acl.AddTenantAdmin(0, t2, ta))
	g := e.group(t, t2)
	e.admin(t, g, u)
	o := e.obj(t, g)
	wantErr(t, e.acl.Link(u, r, o), ErrForbidden) // group admin is not enough
	ok(t, e.acl.Link(ta, r, o))
	wantErr(t, e.acl.Link(ta, r, o), ErrUnchanged)
	wantErr(t, e.acl.Link(ta, ta, o), ErrForbidden)              // never on tenant admins
	wantErr(t, e.acl.Link(AdminUser, AdminUser, o), ErrNotFound) // admin is of another tenant
	su := e.user(t, MasterTenant)
	ok(t, e.acl.AddMember(0, SuperGroup, su, true))
	mo := e.obj(t, e.group(t, MasterTenant))
	wantErr(t, e.acl.Link(AdminUser, su, mo), ErrForbidden) // never on superusers
	wantErr(t, e.acl.AddTenantAdmin(0, t2, r), ErrForbidden)
	if l := must[[]uint32](t)(e.acl.Links(ta, r)); !slices.Equal(l, []uint32{o}) {
		t.Fatalf("links %v", l)
	}
}

func TestKEY_ANY001_ReadOnlyExpiryAndLimit(t *testing.T) {
	e := newEnv(t)
	g := e.group(t, 1)
	u := e.user(t, 1)
	e.admin(t, g, u)
	o := e.obj(t, g)
	ro := must[Apikey](t)(e.acl.CreateApikey(nil, u, NewApikey{ReadOnly: true, Expires: e.clk.Now().Add(time.Hour)}))
	kv := must[*KeyView](t)(e.acl.KeyView(&ro))
	if !kv.CanRead(o) || kv.CanWrite(o) || kv.CanManage(o) {
		t.Fatal("read-only key")
	}
	wantErr(t, e.acl.RequireScope(&ro, Scope{Verb: VerbManage, Module: ModuleMeta}), ErrReadOnly)
	ok(t, e.acl.RequireScope(&ro, Scope{Verb: VerbRead, Module: ModuleData}))
	e.clk.Add(time.Hour)
	_, err := e.acl.KeyView(&ro)
	wantErr(t, err, ErrExpired)
	_, _, err = e.acl.AuthenticateBearer(ro.Secret)
	wantErr(t, err, ErrExpired)
	n, err := e.acl.PurgeExpiredKeys()
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	_, _, err = e.acl.AuthenticateBearer(ro.Secret)
	wantErr(t, err, ErrBadApikey)
}

func TestKEY_ANY001_AtMost1000UnexpiredKeys(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, 1)
	for i := 0; i < MaxKeysPerPrincipal; i++ {
		must[Apikey](t)(e.acl.CreateApikey(nil, u, NewApikey{}))
	}
	_, err := e.acl.CreateApikey(nil, u, NewApikey{})
	wantErr(t, err, ErrInvalid)
}

func TestKEY_ANY004_LoginKeysAt1000DropTheOldest(t *testing.T) {
	e := newEnv(t)
	first := must[Apikey](t)(e.acl.Login("admin", "adminpw"))
	for i := 1; i < MaxKeysPerPrincipal; i++ {
		must[Apikey](t)(e.acl.CreateApikey(nil, AdminUser, NewApikey{}))
	}
	k := must[Apikey](t)(e.acl.Login("admin", "adminpw"))
	if _, _, err := e.acl.AuthenticateBearer(first.Secret); err == nil {
		t.Fatal("oldest login key kept")
	}
	if k.Scopes != nil || !k.Login || k.Expires.Sub(e.clk.Now()) != 13*time.Hour {
		t.Fatalf("login key %+v", k)
	}
}

func TestKEY_ANY002_ScopesNarrow(t *testing.T) {
	e := newEnv(t)
	g := e.group(t, 1)
	u := e.user(t, 1)
	e.admin(t, g, u)
	o1, o2, o3 := e.obj(t, g), e.obj(t, g), e.obj(t, g)
	og := e.ogroup(t, g, o3)
	mk := func(list string) *KeyView {
		t.Helper()
		sc := must[[]Scope](t)(ParseScopes(list))
		k := must[Apikey](t)(e.acl.CreateApikey(nil, u, NewApikey{Scopes: sc}))
		return must[*KeyView](t)(e.acl.KeyView(&k))
	}
	rights := func(kv *KeyView, o uint32) string {
		s := ""
		for i, b := range []bool{kv.CanRead(o), kv.CanWrite(o), kv.CanManage(o)} {
			if b {
				s += string("rwm"[i])
			} else {
				s += "-"
			}
		}
		return s
	}
	for _, c := range []struct {
		scopes string
		want   [3]string
	}{
		{"read:data", [3]string{"r--", "r--", "r--"}},
		{"use:data", [3]string{"rw-", "rw-", "rw-"}},
		{"use:data:write", [3]string{"-w-", "-w-", "-w-"}},
		{"manage:meta", [3]string{"r-m", "r-m", "r-m"}},
		{"manage:*", [3]string{"rwm", "rwm", "rwm"}},
		{"read:auth", [3]string{"---", "---", "---"}},
		{fmt.Sprintf("read:data:object/%d", o1), [3]string{"r--", "---", "---"}},
		{fmt.Sprintf("manage:meta:objectGroup/%d", og), [3]string{"---", "---", "r-m"}},
		{fmt.Sprintf("use:data:object/%d,read:meta", o2), [3]string{"r--", "rw-", "r--"}},
	} {
		kv := mk(c.scopes)
		for i, o := range []uint32{o1, o2, o3} {
			if got := rights(kv, o); got != c.want[i] {
				t.Errorf("scopes %s on object %d: %s, want %s", c.scopes, i+1, got, c.want[i])
			}
		}
	}
	for _, bad := range []string{"", "write:data", "read", "read:values", "read:data:", "read:data:object/x", "read:*:x"} {
		_, err := ParseScopes(bad)
		wantErr(t, err, ErrInvalid)
	}
	k := must[Apikey](t)(e.acl.CreateApikey(nil, u, NewApikey{Scopes: []Scope{{VerbRead, ModuleData, ""}}}))
	var ms *MissingScopeError
	err := e.acl.RequireScope(&k, Scope{VerbRead, ModuleMeta, ""})
	if !isErr(err, ErrForbidden) || !asErr(err, &ms) || ms.Need.String() != "read:meta" {
		t.Fatalf("missing scope error %v", err)
	}
	ok(t, e.acl.RequireScope(&k, Scope{VerbRead, ModuleData, ""}))
	w := must[Apikey](t)(e.acl.CreateApikey(nil, u, NewApikey{Scopes: []Scope{{VerbUse, ModuleData, "write"}}}))
	ok(t, e.acl.RequireScope(&w, Scope{VerbUse, ModuleData, "write"}))
	wantErr(t, e.acl.RequireScope(&w, Scope{VerbRead, ModuleData, ""}), ErrForbidden)
}

func TestKEY_ANY003_KeysByKeysAreSubsets(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, 1)
	parent := must[Apikey](t)(e.acl.CreateApikey(nil, u, NewApikey{Scopes: []Scope{{VerbUse, ModuleData, ""}, {VerbRead, ModuleMeta, ""}}}))
	_, err := e.acl.CreateApikey(&parent, u, NewApikey{Scopes: []Scope{{VerbManage, ModuleMeta, ""}}})
	wantErr(t, err, ErrForbidden)
	child := must[Apikey](t)(e.acl.CreateApikey(&parent, u, NewApikey{Scopes: []Scope{{VerbRead, ModuleData, "object/3"}}}))
	if FormatScopes(child.Scopes) != "read:data:object/3" {
		t.Fatalf("child %v", child.Scopes)
	}
	inherit := must[Apikey](t)(e.acl.CreateApikey(&parent, u, NewApikey{}))
	if FormatScopes(inherit.Scopes) != "use:data,read:meta" {
		t.Fatalf("inherited %v", FormatScopes(inherit.Scopes))
	}
	ro := must[Apikey](t)(e.acl.CreateApikey(&parent, u, NewApikey{ReadOnly: true}))
	if FormatScopes(ro.Scopes) != "read:data,read:meta" {
		t.Fatalf("read-only inherited %v", FormatScopes(ro.Scopes))
	}
	login := must[Apikey](t)(e.acl.Login("admin", "adminpw"))
	byLogin := must[Apikey](t)(e.acl.CreateApikey(&login, AdminUser, NewApikey{ReadOnly: true}))
	if byLogin.Scopes != nil || FormatScopes(byLogin.EffectiveScopes()) != "read:*" {
		t.Fatalf("key by a login key: %v", byLogin.Scopes)
	}
	_, err = e.acl.CreateApikey(&ro, u, NewApikey{})
	wantErr(t, err, ErrForbidden)
	_, err = e.acl.UpdateApikey(&parent, u, child.ID, ApikeyUpdate{Scopes: []Scope{{VerbManage, ModuleAuth, ""}}})
	wantErr(t, err, ErrForbidden)
	up := must[Apikey](t)(e.acl.UpdateApikey(&parent, u, child.ID, ApikeyUpdate{Scopes: []Scope{{VerbRead, ModuleMeta, ""}}, ClearExpiry: true}))
	if FormatScopes(up.Scopes) != "read:meta" {
		t.Fatalf("updated %v", up.Scopes)
	}
	_, err = e.acl.UpdateApikey(nil, AdminUser, child.ID, ApikeyUpdate{})
	wantErr(t, err, ErrNotFound)
}

func TestKEY_CLI001_ClientScopesBoundKeys(t *testing.T) {
	e := newEnv(t)
	g := e.group(t, 1)
	o := e.obj(t, g)
	c, secret, err := e.acl.CreateClient(0, 1, "ingester", []Scope{{VerbUse, ModuleData, ""}})
	ok(t, err)
	e.admin(t, g, c.ID)
	_, err = e.acl.LoginClient(c.Name, "wrong")
	wantErr(t, err, ErrWrongCredentials)
	k := must[Apikey](t)(e.acl.LoginClient(c.Name, secret))
	kv := must[*KeyView](t)(e.acl.KeyView(&k))
	if !kv.CanRead(o) || !kv.CanWrite(o) || kv.CanManage(o) {
		t.Fatal("client key not bounded by client scopes")
	}
	// an explicit manage:* key of the client is still bounded
	k2 := must[Apikey](t)(e.acl.CreateApikey(nil, c.ID, NewApikey{Scopes: []Scope{{VerbManage, ModuleAll, ""}}}))
	kv2 := must[*KeyView](t)(e.acl.KeyView(&k2))
	if kv2.CanManage(o) {
		t.Fatal("client bound ignored")
	}
	wantErr(t, e.acl.RequireScope(&k2, Scope{VerbManage, ModuleMeta, ""}), ErrForbidden)
	// rotating the secret stops the old secret and every key
	ns := must[string](t)(e.acl.RotateClientSecret(0, c.ID))
	if _, _, err := e.acl.AuthenticateBearer(k.Secret); err == nil {
		t.Fatal("key survived a secret rotation")
	}
	_, err = e.acl.LoginClient(c.Name, secret)
	wantErr(t, err, ErrWrongCredentials)
	must[Apikey](t)(e.acl.LoginClient(c.Name, ns))
}

func TestTOK_UGA001_Tokens(t *testing.T) {
	e := newEnv(t)
	adm, mem := e.user(t, 1), e.user(t, 1)
	g := e.group(t, 1, mem)
	e.admin(t, g, adm)
	o := e.obj(t, g)
	_, err := e.acl.CreateTokens(mem, []NewToken{{Object: o}})
	wantErr(t, err, ErrNotFound)
	toks := must[[]Token](t)(e.acl.CreateTokens(adm, []NewToken{{Object: o}, {Object: o}}))
	if len(toks[0].Secret) != 32 || toks[0].Prefix != toks[0].Secret[:4] {
		t.Fatalf("token %+v", toks[0])
	}
	list := must[[]Token](t)(e.acl.Tokens(adm, o))
	if len(list) != 2 || list[0].Secret != "" {
		t.Fatalf("listed tokens %+v", list)
	}
	_, err = e.acl.Tokens(mem, o)
	wantErr(t, err, ErrNotFound)
	if !e.acl.CheckTokenString(o, toks[0].Secret) || e.acl.CheckTokenString(o+1, toks[0].Secret) || e.acl.CheckTokenString(o, "x") {
		t.Fatal("token check")
	}
	epoch := e.acl.TokenEpoch()
	ok(t, e.acl.DeleteToken(adm, o, toks[0].ID))
	if e.acl.CheckTokenString(o, toks[0].Secret) {
		t.Fatal("deleted token still works (cache not evicted)")
	}
	if e.acl.TokenEpoch() == epoch {
		t.Fatal("TokenEpoch did not move when a token was deleted")
	}
	if !e.acl.CheckTokenString(o, toks[1].Secret) {
		t.Fatal("the other token stopped")
	}
	wantErr(t, e.acl.DeleteToken(adm, o, toks[0].ID), ErrUnchanged)
	news := make([]NewToken, MaxTokensPerObject)
	for i := range news {
		news[i].Object = o
	}
	_, err = e.acl.CreateTokens(adm, news)
	wantErr(t, err, ErrInvalid)
	// survive a restart, hashed
	e.reopen(t)
	if !e.acl.CheckTokenString(o, toks[1].Secret) {
		t.Fatal("token lost on restart")
	}
	ud := must[Token](t)(e.acl.UpdateToken(AdminUser, o, toks[1].ID, ptr("meter")))
	if *ud.Description != "meter" {
		t.Fatal("description")
	}
}

func TestAUD_TA001_AuthorizationChangesAudited(t *testing.T) {
	e := newEnv(t)
	g := e.group(t, 1)
	u := e.user(t, 1)
	ok(t, e.acl.AddMember(AdminUser, g, u, true))
	o := e.obj(t, g)
	tok := must[[]Token](t)(e.acl.CreateTokens(u, []NewToken{{Object: o}}))[0]
	ok(t, e.acl.DeleteToken(u, o, tok.ID))
	ok(t, e.acl.SetObjectEnabled(u, o, false))
	ok(t, e.acl.RecordDenied(1, u, "/objects/{id}", o, 404))
	ok(t, e.acl.RecordDenied(1, u, "/objects/{id}", o, 404)) // folded: once a second
	es := must[[]AuditEntry](t)(e.acl.Audit(AuditQuery{Principal: u}))
	var actions []string
	for _, x := range es {
		actions = append(actions, x.Action)
	}
	want := []string{"denied", "object.disable", "token.delete", "token.create"}
	if !slices.Equal(actions, want) {
		t.Fatalf("audit of u: %v, want %v", actions, want)
	}
	if es[0].Count != 2 || es[0].Target.Route != "/objects/{id}" || es[0].Status != 404 {
		t.Fatalf("folded denied entry %+v", es[0])
	}
	all := must[[]AuditEntry](t)(e.acl.Audit(AuditQuery{Size: 2, Page: 1}))
	if len(all) != 2 {
		t.Fatalf("page: %d", len(all))
	}
	_, err := e.acl.Audit(AuditQuery{Size: 1001})
	wantErr(t, err, ErrInvalid)
	// survives restart, ids keep growing
	e.reopen(t)
	ok(t, e.acl.AddMember(AdminUser, g, e.user(t, 1), false))
	es2 := must[[]AuditEntry](t)(e.acl.Audit(AuditQuery{Size: 1}))
	if es2[0].Action != "member.add" || es2[0].ID <= es[0].ID {
		t.Fatalf("after restart %+v", es2[0])
	}
}

// TestACL_ALL001_RevokeVisibleBeforeReturnUnderConcurrency: readers hammer the
// view while a writer revokes; once RemoveMember has returned, no later View call
// may show the old bit.
func TestACL_ALL001_RevokeVisibleBeforeReturnUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	g := e.group(t, 1)
	u := e.user(t, 1)
	o := e.obj(t, g)
	for round := 0; round < 30; round++ {
		ok(t, e.acl.AddMember(0, g, u, false))
		if !e.acl.View(u).CanRead(o) {
			t.Fatal("grant not visible")
		}
		var revoked atomic.Bool
		var bad atomic.Int32
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for r := 0; r < 4; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					after := revoked.Load() // read before the view: a revoke acknowledged before this point must be seen
					if e.acl.View(u).CanRead(o) && after {
						bad.Add(1)
					}
				}
			}()
		}
		ok(t, e.acl.RemoveMember(0, g, u))
		revoked.Store(true)
		for i := 0; i < 1000 && e.acl.View(u).CanRead(o); i++ {
			bad.Add(1)
		}
		close(stop)
		wg.Wait()
		if bad.Load() != 0 {
			t.Fatalf("round %d: %d reads saw a revoked bit after the revoke returned", round, bad.Load())
		}
	}
}

func TestExplainNamesPolicies(t *testing.T) {
	e := newEnv(t)
	g, rg := e.group(t, 1), e.group(t, 1)
	adm, rd := e.user(t, 1), e.user(t, 1)
	e.admin(t, g, adm)
	ok(t, e.acl.AddMember(0, rg, rd, false))
	o := e.obj(t, g)
	og := e.ogroup(t, g, o)
	ok(t, e.acl.ShareGroup(0, og, rg, &Window{From: e.clk.Now().Add(-time.Hour)}))
	for _, c := range []struct {
		p     uint32
		verb  string
		allow bool
		key   string
	}{
		{adm, "manage", true, "OBJ-UGA001"},
		{adm, "write", true, "OBJ-UGA002"},
		{adm, "read", true, "OBJ-UGM001"},
		{rd, "read", true, "OBJ-SH002"},
		{rd, "write", false, "OBJ-ALL001"},
		{AdminUser, "manage", true, "OBJ-SU001"},
	} {
		x := must[Explanation](t)(e.acl.Explain(AdminUser, c.p, o, c.verb))
		text := x.Reason
		if len(x.By) > 0 {
			text = x.By[0]
		}
		if x.Allowed != c.allow || len(text) < len(c.key) || text[:len(c.key)] != c.key {
			t.Errorf("explain %d %s: %+v, want %v by %s", c.p, c.verb, x, c.allow, c.key)
		}
	}
	x := must[Explanation](t)(e.acl.Explain(AdminUser, rd, o, "read"))
	if len(x.Windows) != 1 {
		t.Fatalf("windows %+v", x)
	}
	_, err := e.acl.Explain(adm, rd, o, "read")
	wantErr(t, err, ErrForbidden)
	_, err = e.acl.Explain(AdminUser, rd, 999, "read")
	wantErr(t, err, ErrNotFound)
}

func TestPolicyPersistedWithRevision(t *testing.T) {
	e := newEnv(t)
	g := e.group(t, 1)
	u := e.user(t, 1)
	rev := e.acl.policy.Revision()
	ok(t, e.acl.AddMember(0, g, u, true))
	if e.acl.policy.Revision() != rev+1 {
		t.Fatal("revision did not move")
	}
	o := e.obj(t, g)
	e.reopen(t)
	if e.acl.policy.Revision() != rev+1 {
		t.Fatalf("revision after restart %d, want %d", e.acl.policy.Revision(), rev+1)
	}
	wantRights(t, e, u, o, "rwm") // Casbin loaded from Pebble agrees with the view
}

func TestUG_UGA001_CreateUserIntoGroupAtomically(t *testing.T) {
	e := newEnv(t)
	adm, mem := e.user(t, 1), e.user(t, 1)
	g := e.group(t, 1, mem)
	e.admin(t, g, adm)
	_, err := e.acl.CreateUser(mem, NewUser{Tenant: 1, Name: "newbie", Password: "password", Email: "newbie@example.com", Group: g})
	wantErr(t, err, ErrForbidden)
	if _, err := e.acl.PrincipalByName("newbie"); !isErr(err, ErrNotFound) {
		t.Fatal("user created although joining the group failed")
	}
	p := must[Principal](t)(e.acl.CreateUser(adm, NewUser{Tenant: 1, Name: "newbie", Password: "password", Email: "newbie@example.com", Group: g, GroupAdmin: true}))
	ms := must[[]Member](t)(e.acl.Members(adm, g))
	if !slices.Contains(ms, Member{p.ID, true}) {
		t.Fatalf("members %+v", ms)
	}
	_, err = e.acl.CreateUser(adm, NewUser{Tenant: 1, Name: "NEWBIE", Password: "password", Email: "x@example.com"})
	wantErr(t, err, ErrDuplicate)
	_, err = e.acl.CreateUser(adm, NewUser{Tenant: 1, Name: "bad", Password: "pw", Email: "nope"})
	var ve *ValidationError
	if !asErr(err, &ve) || ve.Fields["password"] == "" || ve.Fields["email"] == "" {
		t.Fatalf("validation %v", err)
	}
}

func TestTEN_TA001_UnitsAreSuperusersOnly(t *testing.T) {
	e := newEnv(t)
	t2 := e.tenant(t)
	ta := e.user(t, t2)
	ok(t, e.acl.AddTenantAdmin(0, t2, ta))
	_, err := e.acl.CreateUnit(ta, catalog.Unit{Symbol: "mm", Name: "millimeter", Type: catalog.TypeFloat})
	wantErr(t, err, ErrForbidden)
	must[catalog.Unit](t)(e.acl.CreateUnit(AdminUser, catalog.Unit{Symbol: "mm", Name: "millimeter", Type: catalog.TypeFloat}))
	es := must[[]AuditEntry](t)(e.acl.Audit(AuditQuery{Size: 1}))
	if es[0].Action != "unit.create" {
		t.Fatalf("audit %+v", es[0])
	}
}

// TestOBJ_PUB001_FieldMatrixWellFormed: every row gives every role an access made
// of C/R/U/D and the marks; secrets are never readable back in clear by anyone but
// at creation; anonymous readers see only object fields.
func TestOBJ_PUB001_FieldMatrixWellFormed(t *testing.T) {
	for _, f := range Fields {
		for _, r := range Roles {
			acc, ok := f.Access[r]
			if !ok {
				t.Errorf("%s.%s: no entry for %s", f.Resource, f.Field, r)
			}
			for _, c := range acc {
				if !strings.ContainsRune("CRUD*¹²", c) {
					t.Errorf("%s.%s %s: bad access %q", f.Resource, f.Field, r, acc)
				}
			}
			if r == RolePublic && acc != "" && f.Resource != "object" && f.Resource != "unit" {
				t.Errorf("anonymous access to %s.%s", f.Resource, f.Field)
			}
		}
	}
	for _, c := range []struct {
		res, field string
		role       Role
		want       string
	}{
		{"object", "name", RoleOwnerAdmin, "CRU"},
		{"object", "name", RolePublic, "R*"},
		{"object", "public", RoleOwnerMem, ""},
		{"token", "token", RoleOwnerAdmin, "C²R"},
		{"apikey", "secret", RoleSelf, "C²R"},
		{"user", "password", RoleOwnerMem, ""},
		{"tenant", "name", RoleTenant, "R"},
		{"object", "values", RoleRestricted, "CR"},
	} {
		if got := FieldAccess(c.res, c.field, c.role); got != c.want {
			t.Errorf("%s.%s %s = %q, want %q", c.res, c.field, c.role, got, c.want)
		}
	}
	if CanReadField("user", "email", RoleOwnerMem) || !CanReadField("object", "values", RoleShared) {
		t.Fatal("CanReadField")
	}
}

// TestOBJ_UGA003_CreateObjectsOneBatchWithHook: objects, the hook's writes (tsdb's
// series) and the audit entry commit together or not at all.
func TestOBJ_UGA003_CreateObjectsOneBatchWithHook(t *testing.T) {
	e := newEnv(t)
	g := e.group(t, 1)
	before := len(must[[]AuditEntry](t)(e.acl.Audit(AuditQuery{Size: 1000})))
	boom := fmt.Errorf("series: disk full")
	_, err := e.acl.CreateObjects(0, []catalog.NewObject{{Name: "a", Owner: g, UnitSymbol: "V"}, {Name: "b", Owner: g, UnitSymbol: "V"}},
		func(b *pebble.Batch, objs []catalog.Object) error {
			ok(t, b.Set([]byte("s-series"), []byte{1}, nil))
			return boom
		})
	wantErr(t, err, boom)
	if e.cat.MaxObjectID() != 0 || len(must[[]AuditEntry](t)(e.acl.Audit(AuditQuery{Size: 1000}))) != before {
		t.Fatal("a failed create left objects or audit entries")
	}
	objs := must[[]catalog.Object](t)(e.acl.CreateObjects(0, []catalog.NewObject{{Name: "a", Owner: g, UnitSymbol: "V"}, {Name: "b", Owner: g, UnitSymbol: "V"}},
		func(b *pebble.Batch, objs []catalog.Object) error { return b.Set([]byte("s-series"), []byte{2}, nil) }))
	if objs[0].ID != 1 || objs[1].ID != 2 {
		t.Fatalf("ids %d %d", objs[0].ID, objs[1].ID)
	}
	v, closer, err := e.db.Get([]byte("s-series"))
	ok(t, err)
	if v[0] != 2 {
		t.Fatal("hook write missing")
	}
	closer.Close()
	es := must[[]AuditEntry](t)(e.acl.Audit(AuditQuery{Size: 2}))
	if es[0].Action != "object.create" || es[1].Action != "object.create" {
		t.Fatalf("audit %+v", es)
	}
}
