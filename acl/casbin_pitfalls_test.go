package acl

import (
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/util"
)

// TestCasbinPitfalls records the Casbin v2.135.0 behaviours the model is built
// around (issue 6, "Known Casbin pitfalls"), so an upgrade that changes them fails
// here first.
func TestCasbinPitfalls(t *testing.T) {
	m, err := model.NewModelFromString(ModelText)
	ok(t, err)
	e, err := casbin.NewEnforcer(m)
	ok(t, err)
	var got any
	e.AddFunction("share", func(args ...any) (any, error) {
		got = args[4]
		return true, nil
	})
	_, err = e.AddNamedPolicies("p", [][]string{
		{"ug:2:member", "t:1", "og:1", "read", "share", "", ""},
		{"ug:3:member", "t:2", "og:1", "read", "share", "", ""},
	})
	ok(t, err)
	_, err = e.AddNamedGroupingPolicies("g", [][]string{{"p:5", "ug:2:member", "t:1"}, {"p:6", "ug:3:member", "t:2"}})
	ok(t, err)
	_, err = e.AddNamedGroupingPolicies("g2", [][]string{{"o:1", "og:1", "t:1"}})
	ok(t, err)
	allowed, err := e.Enforce("p:5", "t:1", "o:1", "read", int64(1234))
	ok(t, err)
	// 1. numbers reach custom functions as float64, whatever was passed
	if _, isFloat := got.(float64); !allowed || !isFloat {
		t.Fatalf("request time reached share() as %T (allowed %v)", got, allowed)
	}
	// 2. GetImplicitUsersForResource is not domain-aware: with our domains it does
	// not find p:5 (tenant 1) nor p:6 (tenant 2) — acl never uses it; views and
	// explain go through Enforce
	users, err := e.GetImplicitUsersForResource("og:1")
	ok(t, err)
	for _, u := range users {
		if len(u) > 0 && (u[0] == "p:5" || u[0] == "p:6") {
			t.Logf("GetImplicitUsersForResource finds principals through domains now: %v", users)
		}
	}
	// 3. the built-in time match only compares with the wall clock: it cannot
	// answer "as of" a request time, hence share() fed r.t
	past := time.Now().Add(-time.Hour).Format("2006-01-02 15:04:05")
	inWindow, _ := util.TimeMatchFunc("_", past)
	if inWindow {
		t.Fatal("TimeMatchFunc accepted a window that ended an hour ago")
	}
}
