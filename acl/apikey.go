package acl

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// MaxKeysPerPrincipal bounds a principal's unexpired apikeys (API.md §4).
const MaxKeysPerPrincipal = 1000

// Apikey is a principal's key. Values handed out by the ACL are shared and
// immutable: do not modify them. Secret is set only in the value returned by the
// call that created the key (shown once); Prefix (its first 4 characters) is what
// later reads show.
type Apikey struct {
	ID          uint32    `json:"id"`
	Principal   uint32    `json:"principal"`
	Secret      string    `json:"-"`
	Prefix      string    `json:"prefix"`
	ReadOnly    bool      `json:"readOnly"`
	Expires     time.Time `json:"expires,omitzero"` // zero = never
	Description *string   `json:"description"`
	// Scopes nil = implied by ReadOnly (read:* or manage:*).
	Scopes  []Scope   `json:"scopes"`
	Created time.Time `json:"created"`
	// Login marks keys made by /login (description "auto_login").
	Login bool `json:"login,omitempty"`
}

// Expired reports whether the key is expired at t.
func (k *Apikey) Expired(t time.Time) bool { return !k.Expires.IsZero() && !t.Before(k.Expires) }

// EffectiveScopes are the key's scopes, or those its read-only flag implies.
func (k *Apikey) EffectiveScopes() []Scope {
	if k.Scopes == nil {
		return impliedScopes(k.ReadOnly)
	}
	return k.Scopes
}

type keyRec struct {
	Apikey
	Hash [32]byte `json:"hash"`
	// bound: the client's scopes at the time of the request are checked live; this
	// caches nothing.
}

func newSecret() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("BUG: acl: crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(b[:])
}

func hashSecret(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func prefixOf(s string) string {
	if len(s) < 4 {
		return s
	}
	return s[:4]
}

// AuthenticateBearer finds the key whose secret is secret (Bearer/Token forms: the
// secret alone identifies the key). One SHA-256 and a map lookup; no password
// hashing. Unknown → ErrBadApikey, expired → ErrExpired.
func (a *ACL) AuthenticateBearer(secret string) (*Apikey, Principal, error) {
	return a.authenticate(0, secret)
}

// Authenticate checks (principal id, secret) (bbuser/bbtoken and Basic forms).
func (a *ACL) Authenticate(principalID uint32, secret string) (*Apikey, Principal, error) {
	if principalID == 0 {
		return nil, Principal{}, ErrBadApikey
	}
	return a.authenticate(principalID, secret)
}

func (a *ACL) authenticate(pid uint32, secret string) (*Apikey, Principal, error) {
	h := hashSecret(secret)
	a.mu.RLock()
	r, ok := a.mu.keyByHash[h]
	var p *Principal
	if ok {
		p = a.mu.principals[r.Principal]
	}
	a.mu.RUnlock()
	if !ok || p == nil || subtle.ConstantTimeCompare(r.Hash[:], h[:]) != 1 || (pid != 0 && r.Principal != pid) {
		return nil, Principal{}, ErrBadApikey
	}
	if r.Expired(a.now()) {
		return nil, Principal{}, ErrExpired
	}
	return &r.Apikey, p.public(), nil
}

// NewApikey is the input of CreateApikey.
type NewApikey struct {
	ReadOnly    bool
	Expires     time.Time // zero = never
	Description *string
	// Scopes nil = inherit (see CreateApikey); non-nil must not be empty.
	Scopes []Scope
}

// CreateApikey creates a key for the principal of creator (PUT /apikeys). The new
// key's scopes must be ⊆ creator's effective scopes (else ErrForbidden); without
// scopes it inherits creator's, narrowed to read by ReadOnly (API.md §4). creator
// nil (system, tests) makes a key with the scopes given or implied. More than
// MaxKeysPerPrincipal unexpired keys → *ValidationError.
func (a *ACL) CreateApikey(creator *Apikey, principal uint32, n NewApikey) (Apikey, error) {
	if n.Description != nil && len([]rune(*n.Description)) > 255 {
		return Apikey{}, invalidField("description", "size must be between 0 and 255")
	}
	if n.Scopes != nil && len(n.Scopes) == 0 {
		return Apikey{}, invalidField("scopes", "must not be empty")
	}
	var out Apikey
	err := a.write(func(tx *txn) error {
		p, ok := a.mu.principals[principal]
		if !ok {
			return fmt.Errorf("acl: principal %d: %w", principal, ErrNotFound)
		}
		scopes, err := a.newKeyScopes(creator, n)
		if err != nil {
			return err
		}
		if a.unexpiredKeysLocked(principal, tx.now) >= MaxKeysPerPrincipal {
			return catalogInvalid("too many apikeys: at most %d unexpired per principal", MaxKeysPerPrincipal)
		}
		out = a.stageKey(tx, p, Apikey{ReadOnly: n.ReadOnly, Expires: n.Expires, Description: n.Description, Scopes: scopes}, creatorID(creator))
		return nil
	})
	return out, err
}

func creatorID(k *Apikey) uint32 {
	if k == nil {
		return 0
	}
	return k.Principal
}

func (a *ACL) newKeyScopes(creator *Apikey, n NewApikey) ([]Scope, error) {
	if creator == nil {
		return slices.Clone(n.Scopes), nil
	}
	if creator.ReadOnly && !n.ReadOnly {
		return nil, forbidden("a read-only key cannot create a writable key")
	}
	have := creator.EffectiveScopes()
	if n.Scopes == nil {
		if creator.Scopes == nil {
			return nil, nil // implied by the new key's own read-only flag
		}
		out := slices.Clone(have)
		if n.ReadOnly {
			for i := range out {
				out[i].Verb = VerbRead
			}
		}
		return out, nil
	}
	for _, s := range n.Scopes {
		if !scopesSubsume(have, s) {
			return nil, forbidden(fmt.Sprintf("scope %s exceeds the creating key's scopes", s))
		}
	}
	return slices.Clone(n.Scopes), nil
}

func (a *ACL) unexpiredKeysLocked(pid uint32, now time.Time) int {
	n := 0
	for _, id := range a.mu.keysOf[pid] {
		if !a.mu.keys[id].Expired(now) {
			n++
		}
	}
	return n
}

// stageKey adds a new key to tx and returns it with its secret.
func (a *ACL) stageKey(tx *txn, p *Principal, k Apikey, actor uint32) Apikey {
	secret := newSecret()
	r := &keyRec{Apikey: k, Hash: hashSecret(secret)}
	r.ID = tx.nextID("apikey")
	r.Principal = p.ID
	r.Prefix = prefixOf(secret)
	r.Created = tx.now.UTC()
	tx.set(key(kindKey, r.ID), r)
	tx.do(func() { a.putKeyLocked(r) })
	if actor == 0 {
		actor = p.ID
	}
	tx.auditf(p.Tenant, actor, "apikey.create", AuditTarget{Principal: p.ID, Apikey: r.ID})
	out := r.Apikey
	out.Secret = secret
	return out
}

// Apikeys returns principal's keys (expired ones included), in id order, without secrets.
func (a *ACL) Apikeys(principal uint32) []Apikey {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]Apikey, 0, len(a.mu.keysOf[principal]))
	for _, id := range a.mu.keysOf[principal] {
		out = append(out, a.mu.keys[id].Apikey)
	}
	slices.SortFunc(out, func(x, y Apikey) int { return int(x.ID) - int(y.ID) })
	return out
}

// Apikey returns key id if it belongs to principal, else ErrNotFound.
func (a *ACL) Apikey(principal, id uint32) (Apikey, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	r, ok := a.mu.keys[id]
	if !ok || r.Principal != principal {
		return Apikey{}, fmt.Errorf("acl: apikey %d: %w", id, ErrNotFound)
	}
	return r.Apikey, nil
}

// ApikeyUpdate changes a key; nil fields are unchanged. ClearExpiry removes the
// expiration (`"expirationDate": "null"`).
type ApikeyUpdate struct {
	ReadOnly    *bool
	Expires     *time.Time
	ClearExpiry bool
	Description *string
	Scopes      []Scope // nil = unchanged
}

// UpdateApikey changes key id of principal (POST /apikeys/{id}); creator bounds
// the new scopes like CreateApikey. Foreign or missing key → ErrNotFound.
func (a *ACL) UpdateApikey(creator *Apikey, principal, id uint32, u ApikeyUpdate) (Apikey, error) {
	if u.Description != nil && len([]rune(*u.Description)) > 255 {
		return Apikey{}, invalidField("description", "size must be between 0 and 255")
	}
	var out Apikey
	err := a.write(func(tx *txn) error {
		r, ok := a.mu.keys[id]
		if !ok || r.Principal != principal {
			return fmt.Errorf("acl: apikey %d: %w", id, ErrNotFound)
		}
		n := &keyRec{Apikey: r.Apikey, Hash: r.Hash}
		if u.ReadOnly != nil {
			if !*u.ReadOnly && creator != nil && creator.ReadOnly {
				return forbidden("a read-only key cannot make a key writable")
			}
			n.ReadOnly = *u.ReadOnly
		}
		if u.ClearExpiry {
			n.Expires = time.Time{}
		} else if u.Expires != nil {
			n.Expires = *u.Expires
		}
		if u.Description != nil {
			d := *u.Description
			n.Description = &d
		}
		if u.Scopes != nil {
			if len(u.Scopes) == 0 {
				return invalidField("scopes", "must not be empty")
			}
			if creator != nil {
				for _, s := range u.Scopes {
					if !scopesSubsume(creator.EffectiveScopes(), s) {
						return forbidden(fmt.Sprintf("scope %s exceeds the creating key's scopes", s))
					}
				}
			}
			n.Scopes = slices.Clone(u.Scopes)
		}
		tx.set(key(kindKey, id), n)
		tx.do(func() { a.putKeyLocked(n) })
		tx.dirty = true
		tx.auditf(a.tenantOfLocked(principal), creatorID(creator), "apikey.update", AuditTarget{Principal: principal, Apikey: id})
		out = n.Apikey
		return nil
	})
	return out, err
}

// DeleteApikey deletes key id of principal (DELETE /apikeys/{id}, /logout:
// action "logout" when logout is true). Missing or foreign → ErrUnchanged (304).
func (a *ACL) DeleteApikey(principal, id uint32, logout bool) error {
	return a.write(func(tx *txn) error {
		r, ok := a.mu.keys[id]
		if !ok || r.Principal != principal {
			return ErrUnchanged
		}
		tx.del(key(kindKey, id))
		tx.do(func() { a.deleteKeyLocked(id) })
		tx.dirty = true
		action := "apikey.delete"
		if logout {
			action = "logout"
		}
		tx.auditf(a.tenantOfLocked(principal), principal, action, AuditTarget{Principal: principal, Apikey: id})
		return nil
	})
}

// PurgeExpiredKeys deletes every key expired at now (the original's daily job);
// it returns how many.
func (a *ACL) PurgeExpiredKeys() (int, error) {
	n := 0
	err := a.write(func(tx *txn) error {
		for id, r := range a.mu.keys {
			if r.Expired(tx.now) {
				tx.del(key(kindKey, id))
				tx.do(func() { a.deleteKeyLocked(id) })
				n++
			}
		}
		return nil
	})
	return n, err
}
