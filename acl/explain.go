package acl

import (
	"fmt"
	"strings"
	"time"
)

// Explanation answers /explain (API.md §3.7).
type Explanation struct {
	Allowed bool     `json:"allowed"`
	By      []string `json:"by"`
	Windows []Window `json:"windows,omitempty"`
	Reason  string   `json:"reason"`
}

// Explain says whether principal pid may verb ("read", "write", "manage") object
// oid now, by which policy, or why not. actor must be a superuser or an admin of
// the object's tenant (else ErrForbidden); an object actor cannot see → ErrNotFound.
// Casbin (the policy of record) answers; the view's windows are added.
func (a *ACL) Explain(actor, pid, oid uint32, verb string) (Explanation, error) {
	if verb != "read" && verb != "write" && verb != "manage" {
		return Explanation{}, invalidField("verb", "must be read, write or manage")
	}
	o, err := a.cat.Object(oid)
	if err != nil {
		return Explanation{}, fmt.Errorf("acl: object %d: %w", oid, ErrNotFound)
	}
	a.mu.RLock()
	if actor != 0 && !a.isSuperLocked(actor) && a.tenantOfLocked(actor) != o.Tenant {
		a.mu.RUnlock()
		return Explanation{}, fmt.Errorf("acl: object %d: %w", oid, ErrNotFound)
	}
	if actor != 0 && !a.isAdminOfTenantLocked(actor, o.Tenant) {
		a.mu.RUnlock()
		return Explanation{}, forbidden("only superusers and tenant admins explain")
	}
	p, known := a.mu.principals[pid]
	restricted := a.isRestrictedLocked(pid)
	a.mu.RUnlock()
	if !known && pid != AnonymousPrincipal {
		return Explanation{}, fmt.Errorf("acl: principal %d: %w", pid, ErrNotFound)
	}
	e, err := a.EnforcerFor(o.Tenant)
	if err != nil {
		return Explanation{}, err
	}
	now := a.now()
	ok, rules, err := e.EnforceAt(pid, o.Tenant, oid, verb, now)
	if err != nil {
		return Explanation{}, err
	}
	x := Explanation{Allowed: ok, By: []string{}}
	if ok {
		x.By = append(x.By, grantOf(rules, verb))
		v := a.View(pid)
		x.Windows = v.Windows(oid)
		x.Reason = "granted"
		return x, nil
	}
	switch {
	case verb == "write" && o.Disabled:
		x.Reason = "OBJ-ALL002: the object is disabled"
	case pid != AnonymousPrincipal && p.Tenant != o.Tenant:
		x.Reason = "OBJ-ALL003: the principal is of another tenant"
	case restricted:
		x.Reason = "OBJ-RP001: restricted principal, not linked to this object (or manage, never granted to restricted principals)"
	default:
		x.Reason = fmt.Sprintf("OBJ-ALL001: no policy grants %s (deny by default)", verb)
	}
	return x, nil
}

// grantOf names the policy of a matched Casbin rule (sub, dom, obj, act, kind, from, to).
func grantOf(r []string, verb string) string {
	if len(r) < 5 {
		return "?"
	}
	kind := r[4]
	desc := strings.Join(r[:4], ", ")
	switch kind {
	case "super":
		return "OBJ-SU001: superuser"
	case "tadmin":
		return "OBJ-TA001: tenant admin of " + r[1]
	case "own":
		switch verb {
		case "read":
			return "OBJ-UGM001: member of owner group " + strings.TrimSuffix(strings.TrimPrefix(r[0], "ug:"), ":member")
		case "write":
			return "OBJ-UGA002: admin of owner group " + strings.TrimSuffix(strings.TrimPrefix(r[0], "ug:"), ":admin")
		}
		return "OBJ-UGA001: admin of owner group " + strings.TrimSuffix(strings.TrimPrefix(r[0], "ug:"), ":admin")
	case "share":
		g := strings.TrimSuffix(strings.TrimPrefix(r[0], "ug:"), ":member")
		if len(r) >= 7 && (r[5] != "" || r[6] != "") {
			return fmt.Sprintf("OBJ-SH002: object group %s shared with user group %s in [%s, %s)", strings.TrimPrefix(r[2], "og:"), g, msTime(r[5]), msTime(r[6]))
		}
		return fmt.Sprintf("OBJ-SH001: object group %s shared with user group %s", strings.TrimPrefix(r[2], "og:"), g)
	case "link":
		if verb == "write" {
			return "OBJ-RP002: restricted link"
		}
		return "OBJ-RP001: restricted link"
	case "public":
		return "OBJ-PUB001: public object"
	}
	return desc
}

func msTime(s string) string {
	if s == "" {
		return "∞"
	}
	var ms int64
	fmt.Sscan(s, &ms)
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}
