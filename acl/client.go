package acl

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
)

// CreateClient creates a client principal in tenant (PUT /clients): tenant admins
// and superusers. It returns the client (Name = generated clientId `c-` + 16 hex,
// Label = label) and its 32-hex secret, shown once. scopes (may be nil) bound every
// key the client logs in with.
func (a *ACL) CreateClient(actor, tenant uint32, label string, scopes []Scope) (Principal, string, error) {
	if n := len([]rune(label)); n < 1 || n > 45 {
		return Principal{}, "", invalidField("name", "size must be between 1 and 45")
	}
	if scopes != nil && len(scopes) == 0 {
		return Principal{}, "", invalidField("scopes", "must not be empty")
	}
	secret := newSecret()
	hash, err := a.hashPassword(secret)
	if err != nil {
		return Principal{}, "", err
	}
	var out Principal
	err = a.write(func(tx *txn) error {
		if err := a.checkCreateInTenant(actor, tenant); err != nil {
			return err
		}
		if actor != 0 && !a.isAdminOfTenantLocked(actor, tenant) {
			return forbidden("only tenant admins create clients")
		}
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		p, err := a.stagePrincipal(tx, actor, &Principal{Kind: KindClient, Tenant: tenant, Name: "c-" + hex.EncodeToString(b[:]),
			Label: label, Scopes: slices.Clone(scopes), Hash: hash})
		out = p
		return err
	})
	if err != nil {
		return Principal{}, "", err
	}
	return out, secret, nil
}

// RotateClientSecret gives client id a new secret (POST /clients/{id}/secret); the
// old secret and every key of the client stop at once.
func (a *ACL) RotateClientSecret(actor, id uint32) (string, error) {
	secret := newSecret()
	hash, err := a.hashPassword(secret)
	if err != nil {
		return "", err
	}
	err = a.write(func(tx *txn) error {
		p, err := a.managedPrincipal(actor, id, KindClient)
		if err != nil {
			return err
		}
		n := *p
		n.Hash = hash
		tx.set(key(kindPrinc, id), &n)
		tx.do(func() { a.putPrincipalLocked(&n) })
		a.stageDeleteKeysOf(tx, id)
		tx.dirty = true
		tx.auditf(p.Tenant, actor, "client.secret", AuditTarget{Principal: id})
		return nil
	})
	return secret, err
}

func (a *ACL) stageDeleteKeysOf(tx *txn, pid uint32) {
	for _, kid := range a.mu.keysOf[pid] {
		tx.del(key(kindKey, kid))
	}
	tx.do(func() {
		for _, kid := range slices.Clone(a.mu.keysOf[pid]) {
			a.deleteKeyLocked(kid)
		}
	})
}

// managedPrincipal: principal id of kind, visible to actor (else ErrNotFound),
// that actor may administer: superusers; tenant admins for clients of their tenant.
func (a *ACL) managedPrincipal(actor, id uint32, kind PrincipalKind) (*Principal, error) {
	p, ok := a.mu.principals[id]
	if !ok || p.Kind != kind || (actor != 0 && !a.isSuperLocked(actor) && p.Tenant != a.tenantOfLocked(actor)) {
		return nil, fmt.Errorf("acl: %s %d: %w", kind, id, ErrNotFound)
	}
	if actor != 0 && !a.isAdminOfTenantLocked(actor, p.Tenant) {
		return nil, forbidden("only tenant admins and superusers manage clients")
	}
	return p, nil
}

// DeleteUser deletes user id (DELETE /users/{id}): superusers only (ErrForbidden,
// checked first); admin (id 1) never; a client's id → ErrNotFound; absent →
// ErrUnchanged. Its apikeys, memberships, links and tenant-admin role go with it.
func (a *ACL) DeleteUser(actor, id uint32) error {
	return a.write(func(tx *txn) error {
		if actor != 0 && !a.isSuperLocked(actor) {
			return forbidden("only superusers delete users")
		}
		if id == AdminUser {
			return forbidden("admin cannot be deleted")
		}
		p, ok := a.mu.principals[id]
		if !ok {
			return ErrUnchanged
		}
		if p.Kind != KindUser {
			return fmt.Errorf("acl: user %d: %w", id, ErrNotFound)
		}
		a.stageDeletePrincipal(tx, actor, p)
		return nil
	})
}

// DeleteClient deletes client id (DELETE /clients/{id}): tenant admins and
// superusers; a client that is a tenant admin: superusers only.
func (a *ACL) DeleteClient(actor, id uint32) error {
	return a.write(func(tx *txn) error {
		p, ok := a.mu.principals[id]
		if !ok {
			return ErrUnchanged
		}
		if _, err := a.managedPrincipal(actor, id, KindClient); err != nil {
			return err
		}
		if actor != 0 && a.isTenantAdminLocked(id, p.Tenant) && !a.isSuperLocked(actor) {
			return forbidden("only superusers delete a tenant admin")
		}
		a.stageDeletePrincipal(tx, actor, p)
		return nil
	})
}

func (a *ACL) stageDeletePrincipal(tx *txn, actor uint32, p *Principal) {
	id := p.ID
	a.stageDeleteKeysOf(tx, id)
	for gid, admin := range a.mu.groupsOf[id] {
		g := a.mu.groups[gid]
		tx.del(key(kindMember, gid, id))
		tx.removeRule(rule{"g", subP(id), roleUG(gid, admin), domT(g.Tenant)})
	}
	if links := a.mu.links[id]; len(links) > 0 {
		d := domT(p.Tenant)
		for oid := range links {
			tx.del(key(kindLink, id, oid))
			tx.removeRule(pRule(subP(id), d, objO(oid), "read", "link", "", ""))
			tx.removeRule(pRule(subP(id), d, objO(oid), "write", "link", "", ""))
		}
		tx.removeRule(rule{"g", subP(id), roleRestricted, d})
		tx.do(func() { delete(a.mu.links, id) })
	}
	if a.isTenantAdminLocked(id, p.Tenant) {
		tx.del(key(kindTAdmin, p.Tenant, id))
		tx.removeRule(rule{"g", subP(id), roleTAdmin, domT(p.Tenant)})
	}
	tx.del(key(kindPrinc, id))
	tx.do(func() {
		for gid := range a.mu.groupsOf[id] {
			a.setMemberLocked(gid, id, false, false)
		}
		a.setTenantAdminLocked(p.Tenant, id, false)
		delete(a.mu.loginName, lower(p.Name))
		delete(a.mu.principals, id)
		a.views.mu.Lock()
		delete(a.views.m, id)
		a.views.mu.Unlock()
	})
	tx.dirty = true
	action := "user.delete"
	if p.Kind == KindClient {
		action = "client.delete"
	}
	tx.auditf(p.Tenant, actor, action, AuditTarget{Principal: id})
}
