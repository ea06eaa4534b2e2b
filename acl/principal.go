package acl

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// ErrBusy: too many password hashes are running (API.md §4: 429 on /login).
var ErrBusy = errors.New("too many concurrent logins")

// hashPassword returns the bcrypt hash of pw at the configured cost.
func (a *ACL) hashPassword(pw string) ([]byte, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), a.cost)
	if err != nil {
		return nil, fmt.Errorf("acl: cannot hash a password: %w", err)
	}
	return h, nil
}

// dummyHash equalizes the time of a login for an unknown name.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("tsgate-dummy-password"), bcrypt.MinCost)

// checkPassword compares in constant time (bcrypt does).
func checkPassword(hash []byte, pw string) bool {
	if len(hash) == 0 {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil
}

var emailRe = regexp.MustCompile(`^[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}$`)

func validateUser(name, password, email string) error {
	f := map[string]string{}
	if name == "" {
		f["name"] = "must not be empty"
	} else if n := len([]rune(name)); n > 45 {
		f["name"] = "size must be between 1 and 45"
	}
	if password == "" {
		f["password"] = "must not be null"
	} else if n := len([]rune(password)); n < 5 || n > 45 {
		f["password"] = "size must be between 5 and 45"
	}
	if email == "" {
		f["email"] = "must not be empty"
	} else if _, err := mail.ParseAddress(email); err != nil || len(email) > 45 || !emailRe.MatchString(email) {
		f["email"] = "Invalid email"
	}
	if len(f) > 0 {
		return &ValidationError{Fields: f}
	}
	return nil
}

// Principal returns principal id (without its hash), or ErrNotFound.
func (a *ACL) Principal(id uint32) (Principal, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	p, ok := a.mu.principals[id]
	if !ok {
		return Principal{}, fmt.Errorf("acl: principal %d: %w", id, ErrNotFound)
	}
	return p.public(), nil
}

// PrincipalByName finds a principal by login name (case-insensitive).
func (a *ACL) PrincipalByName(name string) (Principal, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	id, ok := a.mu.loginName[strings.ToLower(name)]
	if !ok {
		return Principal{}, fmt.Errorf("acl: principal %q: %w", name, ErrNotFound)
	}
	return a.mu.principals[id].public(), nil
}

// Principals returns the principals of tenant (0 = all) of kind (0 = both), id order.
func (a *ACL) Principals(tenant uint32, kind PrincipalKind) []Principal {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []Principal
	for _, p := range a.mu.principals {
		if (tenant == 0 || p.Tenant == tenant) && (kind == 0 || p.Kind == kind) {
			out = append(out, p.public())
		}
	}
	slices.SortFunc(out, func(x, y Principal) int { return int(x.ID) - int(y.ID) })
	return out
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Tenant   uint32
	Name     string
	Password string
	Email    string
	// Group, when not 0, is joined in the same transaction (PUT
	// /users?userGroupId=&admin=): the rules of AddMember apply and a failure
	// creates nothing.
	Group      uint32
	GroupAdmin bool
}

// CreateUser creates a user (PUT /users). actor is the calling principal (0 =
// system). The caller's key scope is the api layer's business; here: a restricted
// actor → ErrForbidden; a tenant other than the actor's needs a superuser (else
// ErrNotFound, the tenant being invisible). Names are unique across tenants.
func (a *ACL) CreateUser(actor uint32, n NewUser) (Principal, error) {
	if err := validateUser(n.Name, n.Password, n.Email); err != nil {
		return Principal{}, err
	}
	hash, err := a.hashPassword(n.Password)
	if err != nil {
		return Principal{}, err
	}
	var out Principal
	err = a.write(func(tx *txn) error {
		if err := a.checkCreateInTenant(actor, n.Tenant); err != nil {
			return err
		}
		var g *UserGroup
		if n.Group != 0 {
			var err error
			if g, err = a.checkGroupAdmin(actor, n.Group); err != nil {
				return err
			}
			if g.Tenant != n.Tenant {
				return fmt.Errorf("acl: user group %d: %w", n.Group, ErrNotFound)
			}
		}
		p, err := a.stagePrincipal(tx, actor, &Principal{Kind: KindUser, Tenant: n.Tenant, Name: n.Name, Email: n.Email, Hash: hash})
		if err != nil {
			return err
		}
		if g != nil {
			a.stageMember(tx, actor, g, p.ID, n.GroupAdmin, false)
		}
		out = p
		return nil
	})
	return out, err
}

func (a *ACL) checkCreateInTenant(actor, tenant uint32) error {
	if _, ok := a.mu.tenants[tenant]; !ok {
		return fmt.Errorf("acl: tenant %d: %w", tenant, ErrNotFound)
	}
	if actor == 0 {
		return nil
	}
	if a.isRestrictedLocked(actor) {
		return forbidden("restricted principals cannot create anything but their apikeys")
	}
	if a.tenantOfLocked(actor) != tenant && !a.isSuperLocked(actor) {
		return fmt.Errorf("acl: tenant %d: %w", tenant, ErrNotFound)
	}
	return nil
}

func (a *ACL) stagePrincipal(tx *txn, actor uint32, p *Principal) (Principal, error) {
	if _, taken := a.mu.loginName[strings.ToLower(p.Name)]; taken {
		return Principal{}, fmt.Errorf("acl: value '%s' already exists: %w", p.Name, ErrDuplicate)
	}
	p.ID = tx.nextID("principal")
	p.Created = tx.now.UTC()
	tx.set(key(kindPrinc, p.ID), p)
	tx.do(func() { a.putPrincipalLocked(p) })
	action := "user.create"
	if p.Kind == KindClient {
		action = "client.create"
	}
	tx.auditf(p.Tenant, actor, action, AuditTarget{Principal: p.ID})
	return p.public(), nil
}

// ResetPassword sets a user's password (tsgate admin reset-password, on a stopped
// server's store). Unknown name → ErrNotFound.
func (a *ACL) ResetPassword(userName, newPassword string) error {
	if n := len([]rune(newPassword)); n < 5 || n > 45 {
		return invalidField("password", "size must be between 5 and 45")
	}
	hash, err := a.hashPassword(newPassword)
	if err != nil {
		return err
	}
	return a.write(func(tx *txn) error {
		id, ok := a.mu.loginName[strings.ToLower(userName)]
		if !ok || a.mu.principals[id].Kind != KindUser {
			return fmt.Errorf("acl: user %q: %w", userName, ErrNotFound)
		}
		return a.stagePassword(tx, 0, id, hash)
	})
}

func (a *ACL) stagePassword(tx *txn, actor, id uint32, hash []byte) error {
	old := a.mu.principals[id]
	n := *old
	n.Hash = hash
	tx.set(key(kindPrinc, id), &n)
	tx.do(func() { a.putPrincipalLocked(&n) })
	tx.auditf(n.Tenant, actor, "password.change", AuditTarget{Principal: id})
	return nil
}

// ChangePassword changes one's own password (POST /me/password) and revokes the
// user's other login keys (keep: the key of the request, may be 0).
func (a *ACL) ChangePassword(userID uint32, oldPw, newPw string, keep uint32) error {
	if n := len([]rune(newPw)); n < 5 || n > 45 {
		return invalidField("new", "size must be between 5 and 45")
	}
	a.mu.RLock()
	p, ok := a.mu.principals[userID]
	var hash []byte
	if ok {
		hash = p.Hash
	}
	a.mu.RUnlock()
	if !ok || p.Kind != KindUser {
		return fmt.Errorf("acl: user %d: %w", userID, ErrNotFound)
	}
	if !checkPassword(hash, oldPw) {
		return ErrWrongCredentials
	}
	nh, err := a.hashPassword(newPw)
	if err != nil {
		return err
	}
	return a.write(func(tx *txn) error {
		if err := a.stagePassword(tx, userID, userID, nh); err != nil {
			return err
		}
		for _, kid := range a.mu.keysOf[userID] {
			if r := a.mu.keys[kid]; r.Login && kid != keep {
				tx.del(key(kindKey, kid))
				tx.do(func() { a.deleteKeyLocked(kid) })
			}
		}
		tx.dirty = true
		return nil
	})
}

// Login checks a user's name (case-insensitive; else the email if exactly one user
// has it) and password, and creates a /login key: writable, "auto_login", expiring
// after LoginKeyTTL, scopes null. At MaxKeysPerPrincipal unexpired keys the oldest
// login key is deleted instead of failing. Wrong name or password →
// ErrWrongCredentials.
func (a *ACL) Login(name, password string) (Apikey, error) {
	a.mu.RLock()
	var p *Principal
	if id, ok := a.mu.loginName[strings.ToLower(name)]; ok && a.mu.principals[id].Kind == KindUser {
		p = a.mu.principals[id]
	} else {
		for _, q := range a.mu.principals {
			if q.Kind == KindUser && q.Email != "" && strings.EqualFold(q.Email, name) {
				if p != nil {
					p = nil
					break
				}
				p = q
			}
		}
	}
	a.mu.RUnlock()
	return a.login(p, password)
}

// LoginClient is Login for clients: clientId and secret. The key carries the
// client's scopes (nil when the client has none).
func (a *ACL) LoginClient(clientID, secret string) (Apikey, error) {
	a.mu.RLock()
	var p *Principal
	if id, ok := a.mu.loginName[strings.ToLower(clientID)]; ok && a.mu.principals[id].Kind == KindClient {
		p = a.mu.principals[id]
	}
	a.mu.RUnlock()
	return a.login(p, secret)
}

func (a *ACL) login(p *Principal, password string) (Apikey, error) {
	select {
	case a.hashers <- struct{}{}:
		defer func() { <-a.hashers }()
	default:
		return Apikey{}, ErrBusy
	}
	var hash []byte
	if p != nil {
		hash = p.Hash
	}
	if !checkPassword(hash, password) {
		return Apikey{}, ErrWrongCredentials
	}
	var out Apikey
	err := a.write(func(tx *txn) error {
		cur, ok := a.mu.principals[p.ID]
		if !ok {
			return ErrWrongCredentials
		}
		if a.unexpiredKeysLocked(p.ID, tx.now) >= MaxKeysPerPrincipal {
			var oldest *keyRec
			for _, id := range a.mu.keysOf[p.ID] {
				if r := a.mu.keys[id]; r.Login && (oldest == nil || r.ID < oldest.ID) {
					oldest = r
				}
			}
			if oldest != nil {
				oid := oldest.ID
				tx.del(key(kindKey, oid))
				tx.do(func() { a.deleteKeyLocked(oid) })
			}
		}
		desc := "auto_login"
		k := Apikey{Expires: tx.now.Add(a.ttl).UTC(), Description: &desc, Login: true}
		if cur.Kind == KindClient && cur.Scopes != nil {
			k.Scopes = slices.Clone(cur.Scopes)
		}
		out = a.stageKey(tx, cur, k, cur.ID)
		return nil
	})
	return out, err
}

// Bootstrap prepares an empty store (API.md §1): tenant master, user admin (id 1)
// with adminPassword (or, when empty, a random one returned so the caller logs it
// once), user group 1 SUPERADMIN with admin as admin member. On a store already
// bootstrapped it creates nothing and returns "". The catalog's unit table is
// created by catalog.Open.
func (a *ACL) Bootstrap(adminPassword string) (generated string, err error) {
	a.mu.RLock()
	done := len(a.mu.principals) > 0 || len(a.mu.tenants) > 0
	a.mu.RUnlock()
	if done {
		return "", nil
	}
	pw := adminPassword
	if pw == "" {
		pw = newSecret()
		generated = pw
	} else if n := len([]rune(pw)); n < 5 || n > 72 {
		return "", invalidField("password", "size must be between 5 and 72")
	}
	hash, err := a.hashPassword(pw)
	if err != nil {
		return "", err
	}
	err = a.write(func(tx *txn) error {
		if len(a.mu.principals) > 0 || len(a.mu.tenants) > 0 {
			generated = ""
			return nil
		}
		t := a.stageTenant(tx, 0, "master", "")
		if t.ID != MasterTenant {
			return fmt.Errorf("acl: BUG: master tenant got id %d", t.ID)
		}
		p, err := a.stagePrincipal(tx, 0, &Principal{Kind: KindUser, Tenant: t.ID, Name: "admin", Email: "admin@localhost.localdomain", Hash: hash})
		if err != nil {
			return err
		}
		if p.ID != AdminUser {
			return fmt.Errorf("acl: BUG: admin got id %d", p.ID)
		}
		g := a.stageGroup(tx, 0, t.ID, "SUPERADMIN")
		if g.ID != SuperGroup {
			return fmt.Errorf("acl: BUG: SUPERADMIN got id %d", g.ID)
		}
		a.stageMember(tx, 0, g, p.ID, true, false)
		for _, act := range Verbs {
			tx.addRule(pRule(roleUG(SuperGroup, true), "*", "*", act, "super", "", ""))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return generated, nil
}

// touch keeps time imported when building without tests.
var _ = time.Now
