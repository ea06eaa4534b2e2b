package acl

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/tsgate/tsgate/catalog"
)

// Object-level decisions about one actor (a principal; 0 = the system, allowed
// everything). Callers hold mu (read) or wmu.

func (a *ACL) canManageOwnedLocked(actor, tenant, owner uint32) bool {
	if actor == 0 || a.isSuperLocked(actor) || a.isTenantAdminLocked(actor, tenant) {
		return true
	}
	if a.isRestrictedLocked(actor) || a.tenantOfLocked(actor) != tenant {
		return false
	}
	return a.mu.groupsOf[actor][owner]
}

// canManageObjectLocked: relation manage (API.md §4): superusers, tenant admins,
// admins of the owner group; never restricted principals.
func (a *ACL) canManageObjectLocked(actor uint32, o *catalog.Object) bool {
	return a.canManageOwnedLocked(actor, o.Tenant, o.Owner)
}

func (a *ACL) canManageGroupLocked(actor uint32, g *catalog.ObjectGroup) bool {
	return a.canManageOwnedLocked(actor, g.Tenant, g.Owner)
}

// canReadGroupLocked: object-group read (bbdata-v2.md §0.5): manage, or member of
// the owner group, or member of a user group with a share counting at now.
func (a *ACL) canReadGroupLocked(actor uint32, g *catalog.ObjectGroup, nowT int64) bool {
	if a.canManageGroupLocked(actor, g) {
		return true
	}
	if a.isRestrictedLocked(actor) || a.tenantOfLocked(actor) != g.Tenant {
		return false
	}
	mine := a.mu.groupsOf[actor]
	if _, ok := mine[g.Owner]; ok {
		return true
	}
	for ug, w := range a.mu.shares[g.ID] {
		if _, ok := mine[ug]; ok && (w.From.IsZero() || w.From.UnixNano() <= nowT) {
			return true
		}
	}
	return false
}

// CanManageObject reports relation manage of principal actor on object oid, by
// the principal alone (a key narrows further: KeyView.CanManage).
func (a *ACL) CanManageObject(actor, oid uint32) bool {
	o, err := a.cat.Object(oid)
	if err != nil {
		return false
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.canManageObjectLocked(actor, &o)
}

// CanManageGroup reports whether actor may change object group gid.
func (a *ACL) CanManageGroup(actor, gid uint32) bool {
	g, err := a.cat.Group(gid)
	if err != nil {
		return false
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.canManageGroupLocked(actor, &g)
}

// CanReadGroup reports whether actor may read object group gid.
func (a *ACL) CanReadGroup(actor, gid uint32) bool {
	g, err := a.cat.Group(gid)
	if err != nil {
		return false
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.canReadGroupLocked(actor, &g, a.now().UnixNano())
}

// ownerGroupFor checks that actor may create things owned by user group owner:
// admin of it (or superuser / its tenant's admin), not restricted. Else
// ErrNotFound ("UserGroup ('<id>', admin=true)"), or ErrForbidden for restricted.
func (a *ACL) ownerGroupFor(actor, owner uint32) (*UserGroup, error) {
	if actor != 0 && a.isRestrictedLocked(actor) {
		return nil, forbidden("restricted principals cannot create anything but their apikeys")
	}
	g, ok := a.visibleGroupLocked(actor, owner)
	if !ok || !a.canManageOwnedLocked(actor, g.Tenant, g.ID) {
		return nil, fmt.Errorf("acl: UserGroup ('%d', admin=true): %w", owner, ErrNotFound)
	}
	return g, nil
}

// CreateObjects creates objects owned by news[*].Owner on behalf of actor (PUT
// /objects, /objects/bulk). Order of checks as the original: validation (catalog,
// 400) → owner group admin-accessible (404) → unit (400). The tenant is the owner
// group's. hook runs in the same batch (tsdb.CreateSeries); all-or-nothing.
func (a *ACL) CreateObjects(actor uint32, news []catalog.NewObject, hook catalog.CreateHook) ([]catalog.Object, error) {
	if err := catalog.ValidateNewObjects(news); err != nil {
		return nil, err
	}
	var out []catalog.Object
	err := a.writeVia(func(tx *txn) error {
		if len(news) > 0 {
			g, err := a.ownerGroupFor(actor, news[0].Owner)
			if err != nil {
				return err
			}
			for i := range news {
				news[i].Tenant = g.Tenant
			}
		}
		return nil
	}, func(stage catalog.BatchHook) error {
		var err error
		out, err = a.cat.CreateObjects(news, func(b *pebble.Batch, created []catalog.Object) error {
			if a.wmuAudit(b, actor, created) != nil {
				return fmt.Errorf("acl: cannot stage audit")
			}
			if err := stage(b); err != nil {
				return err
			}
			if hook != nil {
				return hook(b, created)
			}
			return nil
		})
		return err
	})
	if err == nil {
		a.bumpViews()
	}
	return out, err
}

func (a *ACL) wmuAudit(b *pebble.Batch, actor uint32, created []catalog.Object) error {
	es := make([]AuditEntry, len(created))
	now := a.now().UTC()
	for i, o := range created {
		es[i] = AuditEntry{Time: now, Tenant: o.Tenant, Actor: actor, Action: "object.create", Target: AuditTarget{Object: o.ID}}
	}
	return a.audit.stage(b, es)
}

// bumpViews marks views stale after a catalog change made through acl (catalog's
// own version also moves; this keeps both counters honest for callers reading
// only ACL.Version).
func (a *ACL) bumpViews() {
	a.mu.Lock()
	a.version.Add(1)
	a.mu.Unlock()
}

// objectFor returns object oid if actor may manage it, else ErrNotFound (the
// original looks objects up "with write access").
func (a *ACL) objectFor(actor, oid uint32) (catalog.Object, error) {
	o, err := a.cat.Object(oid)
	if err != nil || !a.canManageObjectLocked(actor, &o) {
		return catalog.Object{}, fmt.Errorf("acl: object %d: %w", oid, ErrNotFound)
	}
	return o, nil
}

// SetObjectEnabled enables or disables an object (POST /objects/{id}/enable,
// /disable). Disabling deletes its tokens in the same batch and clears its write
// bits before returning. Same state → ErrUnchanged.
func (a *ACL) SetObjectEnabled(actor, oid uint32, enabled bool) error {
	return a.writeVia(func(tx *txn) error {
		o, err := a.objectFor(actor, oid)
		if err != nil {
			return err
		}
		if a.isRestrictedLocked(actor) {
			return forbidden("restricted principals cannot enable or disable objects")
		}
		action := "object.enable"
		if !enabled {
			action = "object.disable"
			a.stageDeleteTokensOf(tx, oid)
		}
		tx.dirty = true
		tx.auditf(o.Tenant, actor, action, AuditTarget{Object: oid})
		return nil
	}, func(stage catalog.BatchHook) error {
		_, err := a.cat.SetEnabled(oid, enabled, stage)
		return err
	})
}

// SetPublic sets an object's public-read flag and public fields (owner admins).
func (a *ACL) SetPublic(actor, oid uint32, public bool, fields []string) error {
	return a.writeVia(func(tx *txn) error {
		o, err := a.objectFor(actor, oid)
		if err != nil {
			return err
		}
		if actor != 0 && a.isRestrictedLocked(actor) {
			return forbidden("restricted principals cannot make objects public")
		}
		action := "public.set"
		if !public {
			action = "public.unset"
		}
		tx.dirty = true
		tx.auditf(o.Tenant, actor, action, AuditTarget{Object: oid})
		return nil
	}, func(stage catalog.BatchHook) error {
		_, err := a.cat.SetPublic(oid, public, fields, stage)
		return err
	})
}

// DeleteObject deletes an object with its tokens, links, comments and group
// memberships; hook runs in the same batch (tsdb). Whether the object has values
// (403 in the original) is the caller's check.
func (a *ACL) DeleteObject(actor, oid uint32, hook catalog.BatchHook) error {
	return a.writeVia(func(tx *txn) error {
		o, err := a.objectFor(actor, oid)
		if err != nil {
			return err
		}
		if a.isRestrictedLocked(actor) {
			return forbidden("restricted principals cannot delete objects")
		}
		a.stageDeleteTokensOf(tx, oid)
		for pid, objs := range a.mu.links {
			if _, ok := objs[oid]; ok {
				a.stageUnlink(tx, actor, pid, oid, o.Tenant)
			}
		}
		tx.dirty = true
		tx.auditf(o.Tenant, actor, "object.delete", AuditTarget{Object: oid})
		return nil
	}, func(stage catalog.BatchHook) error {
		return a.cat.DeleteObject(oid, func(b *pebble.Batch) error {
			if err := stage(b); err != nil {
				return err
			}
			if hook != nil {
				return hook(b)
			}
			return nil
		})
	})
}

// CreateObjectGroup creates an object group owned by n.Owner (PUT /objectGroups):
// actor must admin the owner group (else ErrNotFound).
func (a *ACL) CreateObjectGroup(actor uint32, n catalog.NewGroup) (catalog.ObjectGroup, error) {
	var out catalog.ObjectGroup
	err := a.writeVia(func(tx *txn) error {
		g, err := a.ownerGroupFor(actor, n.Owner)
		if err != nil {
			return err
		}
		n.Tenant = g.Tenant
		return nil
	}, func(stage catalog.BatchHook) error {
		var err error
		out, err = a.cat.CreateGroup(n, func(b *pebble.Batch) error {
			if err := stage(b); err != nil {
				return err
			}
			return nil
		})
		return err
	})
	if err == nil {
		err = a.auditNow(AuditEntry{Time: a.now().UTC(), Tenant: out.Tenant, Actor: actor, Action: "objectGroup.create",
			Target: AuditTarget{ObjectGroup: out.ID}})
	}
	return out, err
}

// DeleteObjectGroup deletes an object group and its shares. Missing or not
// readable → ErrUnchanged (304, the original); readable but not manageable →
// ErrForbidden.
func (a *ACL) DeleteObjectGroup(actor, gid uint32) error {
	return a.writeVia(func(tx *txn) error {
		g, err := a.cat.Group(gid)
		if err != nil || !a.canReadGroupLocked(actor, &g, tx.now.UnixNano()) {
			return ErrUnchanged
		}
		if !a.canManageGroupLocked(actor, &g) || (actor != 0 && a.isRestrictedLocked(actor)) {
			return forbidden("not an admin of the object group's owner")
		}
		for ug, w := range a.mu.shares[gid] {
			tx.del(key(kindShare, gid, ug))
			tx.removeRule(shareRule(g.Tenant, gid, ug, w))
			tx.do(func() { a.setShareLocked(gid, ug, Window{}, false) })
		}
		tx.dirty = true
		tx.auditf(g.Tenant, actor, "objectGroup.delete", AuditTarget{ObjectGroup: gid})
		return nil
	}, func(stage catalog.BatchHook) error {
		return a.cat.DeleteGroup(gid, stage)
	})
}

// AddToObjectGroup puts object oid in group gid (PUT /objectGroups/{id}/objects/
// {oid}): the group must be manageable (else ErrNotFound), already a member →
// ErrUnchanged, the object manageable and of the same tenant (else ErrNotFound).
func (a *ACL) AddToObjectGroup(actor, gid, oid uint32) error {
	return a.setGroupMember(actor, gid, oid, true)
}

// RemoveFromObjectGroup takes object oid out of group gid; not a member → ErrUnchanged.
func (a *ACL) RemoveFromObjectGroup(actor, gid, oid uint32) error {
	return a.setGroupMember(actor, gid, oid, false)
}

func (a *ACL) setGroupMember(actor, gid, oid uint32, add bool) error {
	return a.writeVia(func(tx *txn) error {
		g, err := a.cat.Group(gid)
		if err != nil || !a.canManageGroupLocked(actor, &g) {
			return fmt.Errorf("acl: object group %d: %w", gid, ErrNotFound)
		}
		if actor != 0 && a.isRestrictedLocked(actor) {
			return forbidden("restricted principals cannot change object groups")
		}
		if add {
			for _, m := range a.cat.Members(gid) {
				if m == oid {
					return ErrUnchanged
				}
			}
			o, err := a.objectFor(actor, oid)
			if err != nil {
				return err
			}
			if o.Tenant != g.Tenant {
				return fmt.Errorf("acl: object %d: %w", oid, ErrNotFound)
			}
		}
		tx.dirty = true
		return nil
	}, func(stage catalog.BatchHook) error {
		if add {
			return a.cat.AddMember(gid, oid, stage)
		}
		return a.cat.RemoveMember(gid, oid, stage)
	})
}
