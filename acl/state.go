package acl

import (
	"slices"
	"strings"
)

// In-memory state helpers; callers hold mu's write lock (or run during Open).

func (a *ACL) putTenantLocked(t *Tenant) {
	if old, ok := a.mu.tenants[t.ID]; ok {
		delete(a.mu.tenantName, old.Name)
	}
	a.mu.tenants[t.ID] = t
	a.mu.tenantName[t.Name] = t.ID
}

func (a *ACL) putPrincipalLocked(p *Principal) {
	if old, ok := a.mu.principals[p.ID]; ok {
		delete(a.mu.loginName, strings.ToLower(old.Name))
	}
	a.mu.principals[p.ID] = p
	a.mu.loginName[strings.ToLower(p.Name)] = p.ID
}

func (a *ACL) setMemberLocked(gid, pid uint32, admin, present bool) {
	if present {
		if a.mu.members[gid] == nil {
			a.mu.members[gid] = map[uint32]bool{}
		}
		if a.mu.groupsOf[pid] == nil {
			a.mu.groupsOf[pid] = map[uint32]bool{}
		}
		a.mu.members[gid][pid] = admin
		a.mu.groupsOf[pid][gid] = admin
		return
	}
	delete(a.mu.members[gid], pid)
	delete(a.mu.groupsOf[pid], gid)
	if len(a.mu.groupsOf[pid]) == 0 {
		delete(a.mu.groupsOf, pid)
	}
}

func (a *ACL) setShareLocked(og, ug uint32, w Window, present bool) {
	if present {
		if a.mu.shares[og] == nil {
			a.mu.shares[og] = map[uint32]Window{}
		}
		if a.mu.sharesTo[ug] == nil {
			a.mu.sharesTo[ug] = map[uint32]Window{}
		}
		a.mu.shares[og][ug] = w
		a.mu.sharesTo[ug][og] = w
		return
	}
	delete(a.mu.shares[og], ug)
	delete(a.mu.sharesTo[ug], og)
}

func (a *ACL) setLinkLocked(pid, oid uint32, present bool) {
	if present {
		if a.mu.links[pid] == nil {
			a.mu.links[pid] = map[uint32]struct{}{}
		}
		a.mu.links[pid][oid] = struct{}{}
		return
	}
	delete(a.mu.links[pid], oid)
	if len(a.mu.links[pid]) == 0 {
		delete(a.mu.links, pid)
	}
}

func (a *ACL) setTenantAdminLocked(tid, pid uint32, present bool) {
	if present {
		if a.mu.tadmins[tid] == nil {
			a.mu.tadmins[tid] = map[uint32]struct{}{}
		}
		a.mu.tadmins[tid][pid] = struct{}{}
		return
	}
	delete(a.mu.tadmins[tid], pid)
}

func (a *ACL) putTokenLocked(t *tokenRec) {
	if _, ok := a.mu.tokens[t.ID]; !ok {
		a.mu.tokensOf[t.Object] = append(a.mu.tokensOf[t.Object], t.ID)
	}
	a.mu.tokens[t.ID] = t
}

func (a *ACL) deleteTokenLocked(id uint32) {
	t, ok := a.mu.tokens[id]
	if !ok {
		return
	}
	delete(a.mu.tokens, id)
	a.mu.tokensOf[t.Object] = slices.DeleteFunc(slices.Clone(a.mu.tokensOf[t.Object]), func(x uint32) bool { return x == id })
	if len(a.mu.tokensOf[t.Object]) == 0 {
		delete(a.mu.tokensOf, t.Object)
	}
}

func (a *ACL) putKeyLocked(r *keyRec) {
	if old, ok := a.mu.keys[r.ID]; ok {
		delete(a.mu.keyByHash, old.Hash)
	} else {
		a.mu.keysOf[r.Principal] = append(a.mu.keysOf[r.Principal], r.ID)
	}
	a.mu.keys[r.ID] = r
	a.mu.keyByHash[r.Hash] = r
}

func (a *ACL) deleteKeyLocked(id uint32) {
	r, ok := a.mu.keys[id]
	if !ok {
		return
	}
	delete(a.mu.keys, id)
	delete(a.mu.keyByHash, r.Hash)
	a.views.mu.Lock()
	delete(a.views.keys, id)
	a.views.mu.Unlock()
	a.mu.keysOf[r.Principal] = slices.DeleteFunc(slices.Clone(a.mu.keysOf[r.Principal]), func(x uint32) bool { return x == id })
	if len(a.mu.keysOf[r.Principal]) == 0 {
		delete(a.mu.keysOf, r.Principal)
	}
}

// Role predicates (read state; callers hold mu or wmu).

func (a *ACL) isSuperLocked(pid uint32) bool { return a.mu.members[SuperGroup][pid] }

func (a *ACL) isTenantAdminLocked(pid, tid uint32) bool {
	_, ok := a.mu.tadmins[tid][pid]
	return ok
}

func (a *ACL) isRestrictedLocked(pid uint32) bool { return len(a.mu.links[pid]) > 0 }

// isAdminOfTenantLocked: superuser, or tenant admin of tid.
func (a *ACL) isAdminOfTenantLocked(pid, tid uint32) bool {
	return a.isSuperLocked(pid) || a.isTenantAdminLocked(pid, tid)
}

func (a *ACL) tenantOfLocked(pid uint32) uint32 {
	if p, ok := a.mu.principals[pid]; ok {
		return p.Tenant
	}
	return 0
}

func lower(s string) string { return strings.ToLower(s) }
