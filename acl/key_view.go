package acl

import (
	"fmt"
	"time"
)

// KeyView is what one apikey may do: its principal's View narrowed by the key's
// read-only flag, expiry and scopes (and, for a client, the client's scopes).
// Cheap to build (no allocation unless a scope names objects).
type KeyView struct {
	*View
	Key *Apikey

	read, write, manage bool   // some scope grants the relation at all
	rNarrow, wNarrow    *idSet // nil: no resource narrowing
	mNarrow             *idSet
}

// CanRead: relation read through this key.
func (k *KeyView) CanRead(id uint32) bool {
	return k.read && k.View.CanRead(id) && (k.rNarrow == nil || k.rNarrow.Has(id))
}

// CanWrite: relation writeValues through this key (writable, use:data).
func (k *KeyView) CanWrite(id uint32) bool {
	return k.write && k.View.CanWrite(id) && (k.wNarrow == nil || k.wNarrow.Has(id))
}

// CanManage: relation manage through this key (writable, manage:meta).
func (k *KeyView) CanManage(id uint32) bool {
	return k.manage && k.View.CanManage(id) && (k.mNarrow == nil || k.mNarrow.Has(id))
}

// ForEachReadable calls fn for every object readable through the key.
func (k *KeyView) ForEachReadable(fn func(id uint32) bool) {
	if !k.read {
		return
	}
	if k.rNarrow != nil {
		k.rNarrow.ForEach(func(id uint32) bool { return !k.View.CanRead(id) || fn(id) })
		return
	}
	k.View.ForEachReadable(fn)
}

// KeyView returns the view of key k now: ErrExpired when it has expired. The
// result is cached per key while its principal's view and the key record are the
// same, so a request costs no allocation.
func (a *ACL) KeyView(k *Apikey) (*KeyView, error) {
	now := a.now()
	if k.Expired(now) {
		return nil, ErrExpired
	}
	v := a.viewAt(k.Principal, now)
	a.views.mu.RLock()
	kv := a.views.keys[k.ID]
	a.views.mu.RUnlock()
	if kv != nil && kv.View == v && kv.Key == k {
		return kv, nil
	}
	kv, err := a.keyViewFrom(k, v)
	if err != nil {
		return nil, err
	}
	a.views.mu.Lock()
	a.views.keys[k.ID] = kv
	a.views.mu.Unlock()
	return kv, nil
}

// KeyViewAt compiles key k's view as of t (not cached; tests).
func (a *ACL) KeyViewAt(k *Apikey, t time.Time) (*KeyView, error) { return a.keyViewAt(k, t, false) }

func (a *ACL) keyViewAt(k *Apikey, t time.Time, cached bool) (*KeyView, error) {
	if k.Expired(t) {
		return nil, ErrExpired
	}
	var v *View
	if cached {
		v = a.viewAt(k.Principal, t)
	} else {
		v = a.compileView(k.Principal, t.UnixNano())
	}
	return a.keyViewFrom(k, v)
}

func (a *ACL) keyViewFrom(k *Apikey, v *View) (*KeyView, error) {
	kv := &KeyView{View: v, Key: k}
	bound := a.clientScopes(k.Principal)
	var rn, wn, mn []*idSet
	kv.read, rn = a.relationScopes(k.EffectiveScopes(), bound, VerbRead, ModuleData, ModuleMeta, "")
	kv.write, wn = a.relationScopes(k.EffectiveScopes(), bound, VerbUse, ModuleData, "", "write")
	kv.manage, mn = a.relationScopes(k.EffectiveScopes(), bound, VerbManage, ModuleMeta, "", "")
	kv.write = kv.write && !k.ReadOnly
	kv.manage = kv.manage && !k.ReadOnly
	kv.rNarrow, kv.wNarrow, kv.mNarrow = intersect(rn), intersect(wn), intersect(mn)
	return kv, nil
}

func (a *ACL) clientScopes(pid uint32) []Scope {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if p, ok := a.mu.principals[pid]; ok && p.Kind == KindClient {
		return p.Scopes
	}
	return nil
}

// relationScopes: does some scope (of the key and, if bound != nil, of the client)
// grant verb on one of the modules; and the narrowing each scope list imposes.
func (a *ACL) relationScopes(key, bound []Scope, verb Verb, m1, m2, routePart string) (bool, []*idSet) {
	ok, n := a.narrowing(key, verb, m1, m2, routePart)
	if !ok {
		return false, nil
	}
	var out []*idSet
	if n != nil {
		out = append(out, n)
	}
	if bound != nil {
		ok, n = a.narrowing(bound, verb, m1, m2, routePart)
		if !ok {
			return false, nil
		}
		if n != nil {
			out = append(out, n)
		}
	}
	return true, out
}

// narrowing: whether some scope grants verb on module m1 or m2 for objects, and
// the objects it is narrowed to (nil: all). A scope counts when its resource is
// empty, equals routePart (use:data:write for the write relation), or names
// objects (object/42, objectGroup/7 — the group's current members).
func (a *ACL) narrowing(scopes []Scope, verb Verb, m1, m2, routePart string) (bool, *idSet) {
	granted := false
	var ids []uint32
	for _, s := range scopes {
		if s.Verb < verb || !(s.Module == ModuleAll || s.Module == m1 || (m2 != "" && s.Module == m2)) {
			continue
		}
		if s.Resource == "" || (routePart != "" && s.Resource == routePart) {
			return true, nil
		}
		kind, id, named := s.objectResource()
		if !named {
			continue
		}
		granted = true
		switch kind {
		case "object":
			ids = append(ids, id)
		case "objectGroup":
			ids = append(ids, a.cat.Members(id)...)
		}
	}
	if !granted {
		return false, nil
	}
	set := sparseOf(ids)
	return true, &set
}

func intersect(sets []*idSet) *idSet {
	switch len(sets) {
	case 0:
		return nil
	case 1:
		return sets[0]
	}
	var out []uint32
	sets[0].ForEach(func(id uint32) bool {
		for _, s := range sets[1:] {
			if !s.Has(id) {
				return true
			}
		}
		out = append(out, id)
		return true
	})
	s := sparseOf(out)
	return &s
}

// MissingScopeError names the scope a key lacks (403 ForbiddenException).
type MissingScopeError struct{ Need Scope }

func (e *MissingScopeError) Error() string {
	return fmt.Sprintf("acl: forbidden: this apikey lacks the scope %s", e.Need)
}
func (e *MissingScopeError) Is(target error) bool { return target == ErrForbidden }

// RequireScope checks a route's declared scope against key k (API.md §3.4): first
// the read-only flag (need above read on a read-only key → ErrReadOnly), then the
// key's effective scopes and its client's scopes (→ *MissingScopeError). Resource
// parts naming objects pass here and narrow the KeyView instead.
func (a *ACL) RequireScope(k *Apikey, need Scope) error {
	if need.Verb > VerbRead && k.ReadOnly {
		return ErrReadOnly
	}
	if !scopesAllow(k.EffectiveScopes(), need.Verb, need.Module, need.Resource) {
		return &MissingScopeError{Need: need}
	}
	if bound := a.clientScopes(k.Principal); bound != nil && !scopesAllow(bound, need.Verb, need.Module, need.Resource) {
		return &MissingScopeError{Need: need}
	}
	return nil
}
