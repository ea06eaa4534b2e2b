package acl

import "github.com/tsgate/tsgate/catalog"

// CreateUnit adds a unit (POST /units): superusers only (units are global, so
// tenant admins cannot, API.md §4). Audited as unit.create.
func (a *ACL) CreateUnit(actor uint32, u catalog.Unit) (catalog.Unit, error) {
	if actor != 0 && !a.IsSuperuser(actor) {
		return catalog.Unit{}, forbidden("only superusers create units")
	}
	out, err := a.cat.CreateUnit(u)
	if err != nil {
		return out, err
	}
	return out, a.auditNow(AuditEntry{Time: a.now().UTC(), Tenant: MasterTenant, Actor: actor, Action: "unit.create"})
}
