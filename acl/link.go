package acl

import (
	"fmt"
	"slices"
)

// Restricted links (API.md §3.3): a principal with at least one link is
// restricted: it reads, and with a writable key writes values of, exactly its
// linked objects.

func (a *ACL) stageUnlink(tx *txn, actor, pid, oid, tenant uint32) {
	d := domT(tenant)
	tx.del(key(kindLink, pid, oid))
	tx.removeRule(pRule(subP(pid), d, objO(oid), "read", "link", "", ""))
	tx.removeRule(pRule(subP(pid), d, objO(oid), "write", "link", "", ""))
	if len(a.mu.links[pid]) == 1 {
		tx.removeRule(rule{"g", subP(pid), roleRestricted, d})
	}
	tx.do(func() { a.setLinkLocked(pid, oid, false) })
	tx.dirty = true
	tx.auditf(tenant, actor, "link.remove", AuditTarget{Principal: pid, Object: oid})
}

// Link links principal pid to object oid (PUT /users/{uid}/objects/{oid}): tenant
// admins and superusers only; superusers and tenant admins cannot be linked
// (ErrForbidden); principal and object of the actor's tenant (else ErrNotFound).
// Already linked → ErrUnchanged.
func (a *ACL) Link(actor, pid, oid uint32) error {
	return a.write(func(tx *txn) error {
		p, o, err := a.linkTargets(actor, pid, oid)
		if err != nil {
			return err
		}
		if a.isSuperLocked(pid) || a.isTenantAdminLocked(pid, p.Tenant) {
			return forbidden("superusers and tenant admins cannot be linked")
		}
		if _, ok := a.mu.links[pid][oid]; ok {
			return ErrUnchanged
		}
		d := domT(o.Tenant)
		if len(a.mu.links[pid]) == 0 {
			tx.addRule(rule{"g", subP(pid), roleRestricted, d})
		}
		tx.addRule(pRule(subP(pid), d, objO(oid), "read", "link", "", ""))
		tx.addRule(pRule(subP(pid), d, objO(oid), "write", "link", "", ""))
		tx.set(key(kindLink, pid, oid), struct{}{})
		tx.do(func() { a.setLinkLocked(pid, oid, true) })
		tx.dirty = true
		tx.auditf(o.Tenant, actor, "link.add", AuditTarget{Principal: pid, Object: oid})
		return nil
	})
}

// Unlink removes a link; absent → ErrUnchanged.
func (a *ACL) Unlink(actor, pid, oid uint32) error {
	return a.write(func(tx *txn) error {
		p, _, err := a.linkTargets(actor, pid, 0)
		if err != nil {
			return err
		}
		if _, ok := a.mu.links[pid][oid]; !ok {
			return ErrUnchanged
		}
		a.stageUnlink(tx, actor, pid, oid, p.Tenant)
		return nil
	})
}

func (a *ACL) linkTargets(actor, pid, oid uint32) (*Principal, *catalogObject, error) {
	p, ok := a.mu.principals[pid]
	if !ok || (actor != 0 && !a.isSuperLocked(actor) && p.Tenant != a.tenantOfLocked(actor)) {
		return nil, nil, fmt.Errorf("acl: principal %d: %w", pid, ErrNotFound)
	}
	if actor != 0 && !a.isAdminOfTenantLocked(actor, p.Tenant) {
		return nil, nil, forbidden("only tenant admins and superusers link principals to objects")
	}
	if oid == 0 {
		return p, nil, nil
	}
	o, err := a.cat.Object(oid)
	if err != nil || o.Tenant != p.Tenant {
		return nil, nil, fmt.Errorf("acl: object %d: %w", oid, ErrNotFound)
	}
	return p, &o, nil
}

// Links returns the objects principal pid is linked to, ascending (GET
// /users/{uid}/objects). A foreign principal → ErrNotFound.
func (a *ACL) Links(actor, pid uint32) ([]uint32, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	p, ok := a.mu.principals[pid]
	if !ok || (actor != 0 && !a.isSuperLocked(actor) && p.Tenant != a.tenantOfLocked(actor)) {
		return nil, fmt.Errorf("acl: principal %d: %w", pid, ErrNotFound)
	}
	var out []uint32
	for oid := range a.mu.links[pid] {
		out = append(out, oid)
	}
	slices.Sort(out)
	return out, nil
}

// IsRestricted reports whether principal pid has at least one link.
func (a *ACL) IsRestricted(pid uint32) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.isRestrictedLocked(pid)
}

// IsSuperuser reports whether pid is an admin member of user group 1.
func (a *ACL) IsSuperuser(pid uint32) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.isSuperLocked(pid)
}

// IsTenantAdmin reports whether pid is a superuser or an admin of tenant tid.
func (a *ACL) IsTenantAdmin(pid, tid uint32) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.isAdminOfTenantLocked(pid, tid)
}
