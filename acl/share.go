package acl

import (
	"fmt"
	"slices"
	"strconv"
)

func msString(t int64) string { return strconv.FormatInt(t, 10) }

// shareRule is the Casbin rule of a share: members of ug read og's objects; the
// window bounds travel as Unix milliseconds ("" = open).
func shareRule(tenant, og, ug uint32, w Window) rule {
	from, to := "", ""
	if !w.From.IsZero() {
		from = msString(w.From.UnixMilli())
	}
	if !w.To.IsZero() {
		to = msString(w.To.UnixMilli())
	}
	return pRule(roleUG(ug, false), domT(tenant), grpOG(og), "read", "share", from, to)
}

// ShareGroup shares object group og with user group ug (PUT
// /objectGroups/{id}/userGroups/{ugid}); w nil or untimed = untimed. The object
// group must be manageable by actor (else ErrNotFound), ug of the same tenant
// (else ErrNotFound); from ≥ to → *ValidationError. Same share → ErrUnchanged;
// a new share is audited share.add, a changed window share.window.
func (a *ACL) ShareGroup(actor, og, ug uint32, w *Window) error {
	var win Window
	if w != nil {
		win = Window{From: w.From.UTC(), To: w.To.UTC()}
		if !win.From.IsZero() && !win.To.IsZero() && !win.From.Before(win.To) {
			return invalidField("from", "from must be before to")
		}
	}
	return a.write(func(tx *txn) error {
		g, err := a.cat.Group(og)
		if err != nil || !a.canManageGroupLocked(actor, &g) {
			return fmt.Errorf("acl: object group %d: %w", og, ErrNotFound)
		}
		if actor != 0 && a.isRestrictedLocked(actor) {
			return forbidden("restricted principals cannot share")
		}
		u, ok := a.mu.groups[ug]
		if !ok || u.Tenant != g.Tenant {
			return fmt.Errorf("acl: user group %d: %w", ug, ErrNotFound)
		}
		old, existed := a.mu.shares[og][ug]
		if existed && old.From.Equal(win.From) && old.To.Equal(win.To) {
			return ErrUnchanged
		}
		action := "share.add"
		if existed {
			action = "share.window"
			tx.removeRule(shareRule(g.Tenant, og, ug, old))
		}
		tx.addRule(shareRule(g.Tenant, og, ug, win))
		tx.set(key(kindShare, og, ug), win)
		tx.do(func() { a.setShareLocked(og, ug, win, true) })
		tx.dirty = true
		tx.auditf(g.Tenant, actor, action, AuditTarget{ObjectGroup: og, UserGroup: ug})
		return nil
	})
}

// UnshareGroup removes a share; absent → ErrUnchanged.
func (a *ACL) UnshareGroup(actor, og, ug uint32) error {
	return a.write(func(tx *txn) error {
		g, err := a.cat.Group(og)
		if err != nil || !a.canManageGroupLocked(actor, &g) {
			return fmt.Errorf("acl: object group %d: %w", og, ErrNotFound)
		}
		if actor != 0 && a.isRestrictedLocked(actor) {
			return forbidden("restricted principals cannot share")
		}
		if _, ok := a.mu.groups[ug]; !ok {
			return fmt.Errorf("acl: user group %d: %w", ug, ErrNotFound)
		}
		old, existed := a.mu.shares[og][ug]
		if !existed {
			return ErrUnchanged
		}
		tx.removeRule(shareRule(g.Tenant, og, ug, old))
		tx.del(key(kindShare, og, ug))
		tx.do(func() { a.setShareLocked(og, ug, Window{}, false) })
		tx.dirty = true
		tx.auditf(g.Tenant, actor, "share.remove", AuditTarget{ObjectGroup: og, UserGroup: ug})
		return nil
	})
}

// Shares lists object group og's shares (GET /objectGroups/{id}/userGroups):
// the group must be manageable by actor, else ErrNotFound.
func (a *ACL) Shares(actor, og uint32) ([]Share, error) {
	g, err := a.cat.Group(og)
	a.mu.RLock()
	defer a.mu.RUnlock()
	if err != nil || !a.canManageGroupLocked(actor, &g) {
		return nil, fmt.Errorf("acl: object group %d: %w", og, ErrNotFound)
	}
	out := make([]Share, 0, len(a.mu.shares[og]))
	for ug, w := range a.mu.shares[og] {
		out = append(out, Share{ObjectGroup: og, UserGroup: ug, Window: w})
	}
	slices.SortFunc(out, func(x, y Share) int { return int(x.UserGroup) - int(y.UserGroup) })
	return out, nil
}
