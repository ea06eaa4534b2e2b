package acl

import (
	"regexp"
	"testing"
	"time"

	"github.com/tsgate/tsgate/catalog"
)

func TestBootstrapCreatesMasterAdminAndSuperGroup(t *testing.T) {
	e := newEnv(t)
	a := e.acl
	tn := must[Tenant](t)(a.Tenant(MasterTenant))
	if tn.Name != "master" {
		t.Fatalf("tenant 1 = %+v", tn)
	}
	p := must[Principal](t)(a.Principal(AdminUser))
	if p.Name != "admin" || p.Kind != KindUser || p.Tenant != MasterTenant || p.Hash != nil {
		t.Fatalf("admin = %+v", p)
	}
	g := must[UserGroup](t)(a.Group(0, SuperGroup))
	if g.Name != "SUPERADMIN" {
		t.Fatalf("group 1 = %+v", g)
	}
	m := must[[]Member](t)(a.Members(0, SuperGroup))
	if len(m) != 1 || m[0] != (Member{AdminUser, true}) {
		t.Fatalf("members of group 1 = %+v", m)
	}
	if u, err := e.cat.Unit("°C"); err != nil || u.Type != catalog.TypeFloat {
		t.Fatalf("unit °C = %+v, %v", u, err)
	}
	// restart: nothing created twice
	e.reopen(t)
	gen, err := e.acl.Bootstrap("otherpw")
	if err != nil || gen != "" {
		t.Fatalf("second Bootstrap = %q, %v", gen, err)
	}
	if n := len(e.acl.Principals(0, 0)); n != 1 {
		t.Fatalf("%d principals after restart", n)
	}
	if n := len(e.acl.Tenants(0)); n != 1 {
		t.Fatalf("%d tenants after restart", n)
	}
	if _, err := e.acl.Login("admin", "adminpw"); err != nil {
		t.Fatalf("login with the first password after restart: %v", err)
	}
	if len(e.cat.Units()) != len(catalog.DefaultUnits) {
		t.Fatalf("%d units after restart", len(e.cat.Units()))
	}
}

func TestBootstrapRandomPassword(t *testing.T) {
	e := &env{dir: t.TempDir(), clk: newClock()}
	e.open(t)
	defer e.close(t)
	gen, err := e.acl.Bootstrap("")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(gen) {
		t.Fatalf("generated password %q", gen)
	}
	if _, err := e.acl.Login("ADMIN", gen); err != nil {
		t.Fatal(err)
	}
}

func TestLoginAuthenticateLogout(t *testing.T) {
	e := newEnv(t)
	a := e.acl
	_, err := a.Login("admin", "wrong")
	wantErr(t, err, ErrWrongCredentials)
	_, err = a.Login("nobody", "adminpw")
	wantErr(t, err, ErrWrongCredentials)
	k := must[Apikey](t)(a.Login("Admin", "adminpw"))
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(k.Secret) || k.ReadOnly || !k.Login ||
		*k.Description != "auto_login" || !k.Expires.Equal(e.clk.Now().Add(13*time.Hour)) || k.Scopes != nil {
		t.Fatalf("login key %+v", k)
	}
	got, p, err := a.Authenticate(AdminUser, k.Secret)
	if err != nil || got.ID != k.ID || p.ID != AdminUser || got.Secret != "" {
		t.Fatalf("Authenticate = %+v %+v %v", got, p, err)
	}
	if _, _, err := a.Authenticate(2, k.Secret); err == nil {
		t.Fatal("key accepted for another principal")
	}
	if got, _, err := a.AuthenticateBearer(k.Secret); err != nil || got.ID != k.ID {
		t.Fatalf("AuthenticateBearer = %v", err)
	}
	_, _, err = a.AuthenticateBearer("0123456789abcdef0123456789abcdef")
	wantErr(t, err, ErrBadApikey)
	// survives restart (stored hashed)
	e.reopen(t)
	a = e.acl
	if _, _, err := a.Authenticate(AdminUser, k.Secret); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(13 * time.Hour)
	_, _, err = a.Authenticate(AdminUser, k.Secret)
	wantErr(t, err, ErrExpired)
	e.clk.Add(-time.Hour)
	ok(t, a.DeleteApikey(AdminUser, k.ID, true))
	_, _, err = a.Authenticate(AdminUser, k.Secret)
	wantErr(t, err, ErrBadApikey)
	wantErr(t, a.DeleteApikey(AdminUser, k.ID, true), ErrUnchanged)
}

func TestResetPassword(t *testing.T) {
	e := newEnv(t)
	ok(t, e.acl.ResetPassword("admin", "newpassword"))
	e.reopen(t)
	_, err := e.acl.Login("admin", "adminpw")
	wantErr(t, err, ErrWrongCredentials)
	must[Apikey](t)(e.acl.Login("admin", "newpassword"))
	wantErr(t, e.acl.ResetPassword("ghost", "newpassword"), ErrNotFound)
}
