package acl

import "time"

// Tenant is a realm: every principal, user group, object and object group belongs
// to exactly one. Tenant 1 is "master".
type Tenant struct {
	ID        uint32    `json:"id"`
	Name      string    `json:"name"`
	Retention string    `json:"retention,omitempty"` // "" = keep forever; else a duration like "90d"
	Created   time.Time `json:"created"`
}

// MasterTenant is the id of tenant "master", created by Bootstrap.
const MasterTenant uint32 = 1

// SuperGroup is user group 1 (SUPERADMIN): its admin members are superusers.
const SuperGroup uint32 = 1

// AdminUser is the id of the protected superuser "admin".
const AdminUser uint32 = 1

// PrincipalKind tells users from clients.
type PrincipalKind uint8

const (
	KindUser PrincipalKind = iota + 1
	KindClient
)

func (k PrincipalKind) String() string {
	switch k {
	case KindUser:
		return "user"
	case KindClient:
		return "client"
	}
	return "anonymous"
}

// Principal is a user or a client. Users and clients share one id space; Name is
// the login name (a user's name or a client's clientId), unique across tenants
// (case-insensitive).
type Principal struct {
	ID      uint32        `json:"id"`
	Kind    PrincipalKind `json:"kind"`
	Tenant  uint32        `json:"tenant"`
	Name    string        `json:"name"`
	Email   string        `json:"email,omitempty"`  // users
	Label   string        `json:"label,omitempty"`  // clients: the display name given at creation
	Scopes  []Scope       `json:"scopes,omitempty"` // clients: bound every key they log in with (nil = none)
	Created time.Time     `json:"created"`
	Hash    []byte        `json:"hash,omitempty"` // password / client secret hash; never leaves the package
}

func (p *Principal) public() Principal {
	c := *p
	c.Hash = nil
	return c
}

// UserGroup groups principals of one tenant; it owns objects and object groups.
type UserGroup struct {
	ID      uint32    `json:"id"`
	Tenant  uint32    `json:"tenant"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// Member is a principal's membership in a user group.
type Member struct {
	Principal uint32 `json:"principal"`
	Admin     bool   `json:"admin"`
}

// Window is a share's validity [From, To); a zero bound is open. Both zero = untimed.
type Window struct {
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
}

// Timed reports whether the window has a bound.
func (w Window) Timed() bool { return !w.From.IsZero() || !w.To.IsZero() }

// Contains reports whether t is in [From, To).
func (w Window) Contains(t time.Time) bool {
	return (w.From.IsZero() || !t.Before(w.From)) && (w.To.IsZero() || t.Before(w.To))
}

// Share grants a user group read access to an object group's objects.
type Share struct {
	ObjectGroup uint32 `json:"objectGroup"`
	UserGroup   uint32 `json:"userGroup"`
	Window
}
