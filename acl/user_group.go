package acl

import (
	"fmt"
	"slices"
	"strings"
)

func (a *ACL) stageGroup(tx *txn, actor, tenant uint32, name string) *UserGroup {
	g := &UserGroup{ID: tx.nextID("group"), Tenant: tenant, Name: name, Created: tx.now.UTC()}
	tx.set(key(kindGroup, g.ID), g)
	tx.do(func() { a.mu.groups[g.ID] = g })
	d := domT(tenant)
	tx.addRule(rule{"g", roleUG(g.ID, true), roleUG(g.ID, false), d})
	tx.addRule(pRule(roleUG(g.ID, false), d, ownG(g.ID), "read", "own", "", ""))
	tx.addRule(pRule(roleUG(g.ID, true), d, ownG(g.ID), "write", "own", "", ""))
	tx.addRule(pRule(roleUG(g.ID, true), d, ownG(g.ID), "manage", "own", "", ""))
	tx.auditf(tenant, actor, "userGroup.create", AuditTarget{UserGroup: g.ID})
	return g
}

// stageMember adds or updates (pid in g, admin).
func (a *ACL) stageMember(tx *txn, actor uint32, g *UserGroup, pid uint32, admin, existed bool) {
	d := domT(g.Tenant)
	if existed {
		tx.removeRule(rule{"g", subP(pid), roleUG(g.ID, !admin), d})
	}
	tx.addRule(rule{"g", subP(pid), roleUG(g.ID, admin), d})
	tx.set(key(kindMember, g.ID, pid), struct{ Admin bool }{admin})
	gid := g.ID
	tx.do(func() { a.setMemberLocked(gid, pid, admin, true) })
	tx.dirty = true
	action := "member.add"
	if existed {
		action = "member.admin"
	}
	tx.auditf(g.Tenant, actor, action, AuditTarget{UserGroup: g.ID, Principal: pid})
}

func validGroupName(name string) error {
	if n := len([]rune(name)); n < 3 || n > 45 {
		return invalidField("name", "size must be between 3 and 45")
	}
	return nil
}

// CreateGroup creates a user group in tenant; actor (if not 0) becomes its admin
// member. Names are unique per tenant (ErrDuplicate).
func (a *ACL) CreateGroup(actor, tenant uint32, name string) (UserGroup, error) {
	if err := validGroupName(name); err != nil {
		return UserGroup{}, err
	}
	var out UserGroup
	err := a.write(func(tx *txn) error {
		if err := a.checkCreateInTenant(actor, tenant); err != nil {
			return err
		}
		for _, g := range a.mu.groups {
			if g.Tenant == tenant && strings.EqualFold(g.Name, name) {
				return fmt.Errorf("acl: value '%s' already exists: %w", name, ErrDuplicate)
			}
		}
		g := a.stageGroup(tx, actor, tenant, name)
		if actor != 0 {
			a.stageMember(tx, actor, g, actor, true, false)
		}
		out = *g
		return nil
	})
	return out, err
}

// Group returns user group id if actor may see it (same tenant or superuser;
// actor 0 = system), else ErrNotFound.
func (a *ACL) Group(actor, id uint32) (UserGroup, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	g, ok := a.visibleGroupLocked(actor, id)
	if !ok {
		return UserGroup{}, fmt.Errorf("acl: user group %d: %w", id, ErrNotFound)
	}
	return *g, nil
}

func (a *ACL) visibleGroupLocked(actor, id uint32) (*UserGroup, bool) {
	g, ok := a.mu.groups[id]
	if !ok {
		return nil, false
	}
	if actor != 0 && g.Tenant != a.tenantOfLocked(actor) && !a.isSuperLocked(actor) {
		return nil, false
	}
	return g, true
}

// Groups returns the user groups actor may list (its tenant's; superusers all).
func (a *ACL) Groups(actor uint32) []UserGroup {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []UserGroup
	for id := range a.mu.groups {
		if g, ok := a.visibleGroupLocked(actor, id); ok {
			out = append(out, *g)
		}
	}
	slices.SortFunc(out, func(x, y UserGroup) int { return int(x.ID) - int(y.ID) })
	return out
}

// MemberGroup is one of a principal's memberships.
type MemberGroup struct {
	Group UserGroup
	Admin bool
}

// GroupsOf returns principal pid's memberships (GET /me/userGroups). A superuser
// gets every group with Admin true (bbdata-v2.md §2.3).
func (a *ACL) GroupsOf(pid uint32) []MemberGroup {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []MemberGroup
	if a.isSuperLocked(pid) {
		for _, g := range a.mu.groups {
			out = append(out, MemberGroup{*g, true})
		}
	} else {
		for gid, admin := range a.mu.groupsOf[pid] {
			out = append(out, MemberGroup{*a.mu.groups[gid], admin})
		}
	}
	slices.SortFunc(out, func(x, y MemberGroup) int { return int(x.Group.ID) - int(y.Group.ID) })
	return out
}

// Members returns group gid's members if actor is a member (any role), a
// superuser or the group's tenant admin; else ErrNotFound.
func (a *ACL) Members(actor, gid uint32) ([]Member, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	g, ok := a.visibleGroupLocked(actor, gid)
	if !ok {
		return nil, fmt.Errorf("acl: user group %d: %w", gid, ErrNotFound)
	}
	if actor != 0 && !a.isAdminOfTenantLocked(actor, g.Tenant) {
		if _, member := a.mu.members[gid][actor]; !member {
			return nil, fmt.Errorf("acl: user group %d: %w", gid, ErrNotFound)
		}
	}
	out := make([]Member, 0, len(a.mu.members[gid]))
	for pid, admin := range a.mu.members[gid] {
		out = append(out, Member{pid, admin})
	}
	slices.SortFunc(out, func(x, y Member) int { return int(x.Principal) - int(y.Principal) })
	return out, nil
}

// checkGroupAdmin: the membership rule of bbdata-v2.md §2.5 plus API.md §4.
// Returns the group.
func (a *ACL) checkGroupAdmin(actor, gid uint32) (*UserGroup, error) {
	g, ok := a.visibleGroupLocked(actor, gid)
	if !ok {
		if actor == 0 || a.isSuperLocked(actor) {
			return nil, fmt.Errorf("acl: user group %d: %w", gid, ErrForeignKey)
		}
		return nil, fmt.Errorf("acl: user group %d: %w", gid, ErrNotFound)
	}
	if actor == 0 || a.isSuperLocked(actor) {
		return g, nil
	}
	if a.isRestrictedLocked(actor) {
		return nil, forbidden("restricted principals cannot change memberships")
	}
	if gid == SuperGroup {
		return nil, forbidden("only superusers change the membership of group 1")
	}
	if a.isTenantAdminLocked(actor, g.Tenant) {
		return g, nil
	}
	admin, member := a.mu.members[gid][actor]
	if !member {
		return nil, fmt.Errorf("acl: user group %d: %w", gid, ErrNotFound)
	}
	if !admin {
		return nil, forbidden("not an admin of this user group")
	}
	return g, nil
}

// AddMember adds principal pid to group gid, or changes its admin flag (PUT
// /userGroups/{gid}/users/{uid}?admin=). Same state → ErrUnchanged. Demoting
// admin (id 1) in group 1 → ErrForbidden.
func (a *ACL) AddMember(actor, gid, pid uint32, admin bool) error {
	return a.write(func(tx *txn) error {
		g, err := a.checkGroupAdmin(actor, gid)
		if err != nil {
			return err
		}
		p, ok := a.mu.principals[pid]
		if !ok || p.Tenant != g.Tenant {
			return fmt.Errorf("acl: principal %d: %w", pid, ErrNotFound)
		}
		cur, existed := a.mu.members[gid][pid]
		if existed && cur == admin {
			return ErrUnchanged
		}
		if gid == SuperGroup && pid == AdminUser && !admin {
			return forbidden("admin cannot be demoted")
		}
		if gid == SuperGroup && admin && a.isRestrictedLocked(pid) {
			return forbidden("a restricted principal cannot be a superuser")
		}
		a.stageMember(tx, actor, g, pid, admin, existed)
		return nil
	})
}

// RemoveMember removes principal pid from group gid. Not a member → ErrUnchanged;
// admin (id 1) from group 1 → ErrForbidden.
func (a *ACL) RemoveMember(actor, gid, pid uint32) error {
	return a.write(func(tx *txn) error {
		g, err := a.checkGroupAdmin(actor, gid)
		if err != nil {
			return err
		}
		if gid == SuperGroup && pid == AdminUser {
			return forbidden("admin cannot be removed from group 1")
		}
		admin, ok := a.mu.members[gid][pid]
		if !ok {
			return ErrUnchanged
		}
		tx.del(key(kindMember, gid, pid))
		tx.removeRule(rule{"g", subP(pid), roleUG(gid, admin), domT(g.Tenant)})
		tx.do(func() { a.setMemberLocked(gid, pid, false, false) })
		tx.dirty = true
		tx.auditf(g.Tenant, actor, "member.remove", AuditTarget{UserGroup: gid, Principal: pid})
		return nil
	})
}

// DeleteGroup deletes user group gid with its memberships and shares. gid 1 →
// ErrForbidden; missing → ErrUnchanged; not an admin → ErrForbidden; owning objects
// or object groups → *ValidationError.
func (a *ACL) DeleteGroup(actor, gid uint32) error {
	if gid == SuperGroup {
		return forbidden("user group 1 cannot be deleted")
	}
	return a.write(func(tx *txn) error {
		g, ok := a.visibleGroupLocked(actor, gid)
		if !ok {
			return ErrUnchanged
		}
		if _, err := a.checkGroupAdmin(actor, gid); err != nil {
			if errorsIsNotFound(err) {
				return forbidden("not an admin of this user group")
			}
			return err
		}
		owns := false
		a.cat.ForEachObject(func(o *catalogObject) bool {
			owns = o.Owner == gid
			return !owns
		})
		for _, og := range a.cat.Groups() {
			owns = owns || og.Owner == gid
		}
		if owns {
			return catalogInvalid("This usergroup owns resources. It cannot be deleted. Delete or transfer its objects and object groups first.")
		}
		d := domT(g.Tenant)
		for pid, admin := range a.mu.members[gid] {
			tx.del(key(kindMember, gid, pid))
			tx.removeRule(rule{"g", subP(pid), roleUG(gid, admin), d})
		}
		for og, w := range a.mu.sharesTo[gid] {
			tx.del(key(kindShare, og, gid))
			tx.removeRule(shareRule(g.Tenant, og, gid, w))
		}
		tx.removeRule(rule{"g", roleUG(gid, true), roleUG(gid, false), d})
		tx.removeRule(pRule(roleUG(gid, false), d, ownG(gid), "read", "own", "", ""))
		tx.removeRule(pRule(roleUG(gid, true), d, ownG(gid), "write", "own", "", ""))
		tx.removeRule(pRule(roleUG(gid, true), d, ownG(gid), "manage", "own", "", ""))
		tx.del(key(kindGroup, gid))
		tx.do(func() {
			for pid := range a.mu.members[gid] {
				a.setMemberLocked(gid, pid, false, false)
			}
			for og := range a.mu.sharesTo[gid] {
				a.setShareLocked(og, gid, Window{}, false)
			}
			delete(a.mu.members, gid)
			delete(a.mu.sharesTo, gid)
			delete(a.mu.groups, gid)
		})
		tx.dirty = true
		tx.auditf(g.Tenant, actor, "userGroup.delete", AuditTarget{UserGroup: gid})
		return nil
	})
}
