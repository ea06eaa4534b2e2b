package acl

import (
	"fmt"
	"regexp"
	"slices"
)

var tenantNameRe = regexp.MustCompile(`^[a-z0-9-]{3,45}$`)

func (a *ACL) stageTenant(tx *txn, actor uint32, name, retention string) *Tenant {
	t := &Tenant{ID: tx.nextID("tenant"), Name: name, Retention: retention, Created: tx.now.UTC()}
	tx.set(key(kindTenant, t.ID), t)
	tx.do(func() { a.putTenantLocked(t) })
	for _, act := range []string{"read", "write", "manage"} {
		tx.addRule(pRule(roleTAdmin, domT(t.ID), "*", act, "tadmin", "", ""))
	}
	tx.auditf(t.ID, actor, "tenant.create", AuditTarget{Tenant: t.ID})
	return t
}

// CreateTenant creates a tenant (superusers only; PUT /tenants).
func (a *ACL) CreateTenant(actor uint32, name, retention string) (Tenant, error) {
	if !tenantNameRe.MatchString(name) {
		return Tenant{}, invalidField("name", "must be 3..45 characters of [a-z0-9-]")
	}
	var out Tenant
	err := a.write(func(tx *txn) error {
		if actor != 0 && !a.isSuperLocked(actor) {
			return forbidden("only superusers create tenants")
		}
		if _, ok := a.mu.tenantName[name]; ok {
			return fmt.Errorf("acl: value '%s' already exists: %w", name, ErrDuplicate)
		}
		t := a.stageTenant(tx, actor, name, retention)
		out = *t
		return nil
	})
	return out, err
}

// Tenant returns tenant id, or ErrNotFound.
func (a *ACL) Tenant(id uint32) (Tenant, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	t, ok := a.mu.tenants[id]
	if !ok {
		return Tenant{}, fmt.Errorf("acl: tenant %d: %w", id, ErrNotFound)
	}
	return *t, nil
}

// TenantByName returns the tenant called name, or ErrNotFound.
func (a *ACL) TenantByName(name string) (Tenant, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	id, ok := a.mu.tenantName[name]
	if !ok {
		return Tenant{}, fmt.Errorf("acl: tenant %q: %w", name, ErrNotFound)
	}
	return *a.mu.tenants[id], nil
}

// Tenants returns the tenants actor may see (superusers: all; others: their own),
// in id order. actor 0 = all.
func (a *ACL) Tenants(actor uint32) []Tenant {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []Tenant
	for _, t := range a.mu.tenants {
		if actor == 0 || a.isSuperLocked(actor) || a.tenantOfLocked(actor) == t.ID {
			out = append(out, *t)
		}
	}
	slices.SortFunc(out, func(x, y Tenant) int { return int(x.ID) - int(y.ID) })
	return out
}

// TenantAdmins returns the admin principals of tenant id, ascending.
func (a *ACL) TenantAdmins(id uint32) []uint32 {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []uint32
	for p := range a.mu.tadmins[id] {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// UpdateTenant changes a tenant's retention (superusers only).
func (a *ACL) UpdateTenant(actor, id uint32, retention string) (Tenant, error) {
	var out Tenant
	err := a.write(func(tx *txn) error {
		if actor != 0 && !a.isSuperLocked(actor) {
			return forbidden("only superusers update tenants")
		}
		t, ok := a.mu.tenants[id]
		if !ok {
			return fmt.Errorf("acl: tenant %d: %w", id, ErrNotFound)
		}
		if t.Retention == retention {
			out = *t
			return ErrUnchanged
		}
		n := *t
		n.Retention = retention
		tx.set(key(kindTenant, id), &n)
		tx.do(func() { a.putTenantLocked(&n) })
		tx.auditf(id, actor, "tenant.update", AuditTarget{Tenant: id})
		out = n
		return nil
	})
	return out, err
}

// DeleteTenant deletes an empty tenant (superusers only). master → ErrForbidden;
// a tenant holding principals, groups or objects → *ValidationError.
func (a *ACL) DeleteTenant(actor, id uint32) error {
	return a.write(func(tx *txn) error {
		if actor != 0 && !a.isSuperLocked(actor) {
			return forbidden("only superusers delete tenants")
		}
		t, ok := a.mu.tenants[id]
		if !ok {
			return fmt.Errorf("acl: tenant %d: %w", id, ErrNotFound)
		}
		if id == MasterTenant {
			return forbidden("tenant master cannot be deleted")
		}
		empty := true
		for _, p := range a.mu.principals {
			empty = empty && p.Tenant != id
		}
		for _, g := range a.mu.groups {
			empty = empty && g.Tenant != id
		}
		if !empty {
			return catalogInvalid("tenant %s is not empty", t.Name)
		}
		tx.del(key(kindTenant, id))
		for _, act := range []string{"read", "write", "manage"} {
			tx.removeRule(pRule(roleTAdmin, domT(id), "*", act, "tadmin", "", ""))
		}
		tx.do(func() {
			delete(a.mu.tenantName, t.Name)
			delete(a.mu.tenants, id)
			delete(a.mu.tadmins, id)
		})
		tx.dirty = true
		tx.auditf(id, actor, "tenant.delete", AuditTarget{Tenant: id})
		return nil
	})
}

// AddTenantAdmin names principal pid an admin of tenant tid: superusers or that
// tenant's admins. pid must be a principal of that tenant (else ErrNotFound) and
// not restricted (ErrForbidden). Already admin → ErrUnchanged.
func (a *ACL) AddTenantAdmin(actor, tid, pid uint32) error {
	return a.write(func(tx *txn) error {
		if _, ok := a.mu.tenants[tid]; !ok {
			return fmt.Errorf("acl: tenant %d: %w", tid, ErrNotFound)
		}
		if actor != 0 && !a.isAdminOfTenantLocked(actor, tid) {
			if a.tenantOfLocked(actor) != tid {
				return fmt.Errorf("acl: tenant %d: %w", tid, ErrNotFound)
			}
			return forbidden("only superusers and the tenant's admins name tenant admins")
		}
		p, ok := a.mu.principals[pid]
		if !ok || p.Tenant != tid {
			return fmt.Errorf("acl: principal %d: %w", pid, ErrNotFound)
		}
		if a.isRestrictedLocked(pid) {
			return forbidden("a restricted principal cannot be a tenant admin")
		}
		if a.isTenantAdminLocked(pid, tid) {
			return ErrUnchanged
		}
		tx.set(key(kindTAdmin, tid, pid), struct{}{})
		tx.addRule(rule{"g", subP(pid), roleTAdmin, domT(tid)})
		tx.do(func() { a.setTenantAdminLocked(tid, pid, true) })
		tx.dirty = true
		tx.auditf(tid, actor, "tenant.admin.add", AuditTarget{Tenant: tid, Principal: pid})
		return nil
	})
}

// RemoveTenantAdmin removes a tenant admin: superusers only (API.md §4).
func (a *ACL) RemoveTenantAdmin(actor, tid, pid uint32) error {
	return a.write(func(tx *txn) error {
		if _, ok := a.mu.tenants[tid]; !ok {
			return fmt.Errorf("acl: tenant %d: %w", tid, ErrNotFound)
		}
		if actor != 0 && !a.isSuperLocked(actor) {
			if a.tenantOfLocked(actor) != tid {
				return fmt.Errorf("acl: tenant %d: %w", tid, ErrNotFound)
			}
			return forbidden("only superusers remove tenant admins")
		}
		if !a.isTenantAdminLocked(pid, tid) {
			return ErrUnchanged
		}
		tx.del(key(kindTAdmin, tid, pid))
		tx.removeRule(rule{"g", subP(pid), roleTAdmin, domT(tid)})
		tx.do(func() { a.setTenantAdminLocked(tid, pid, false) })
		tx.dirty = true
		tx.auditf(tid, actor, "tenant.admin.remove", AuditTarget{Tenant: tid, Principal: pid})
		return nil
	})
}
