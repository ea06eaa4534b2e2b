package acl

import "strings"

// Role is a party type of the field-level matrix.
type Role string

const (
	RoleSuper      Role = "SU"  // superuser
	RoleTenant     Role = "TA"  // tenant admin (own tenant)
	RoleOwnerAdmin Role = "UGA" // admin of the owner user group
	RoleOwnerMem   Role = "UGM" // member of the owner user group
	RoleShared     Role = "SH"  // member of a group the object group is shared with
	RoleRestricted Role = "RP"  // restricted principal, on a linked object
	RoleSelf       Role = "ME"  // the principal the record is (users, apikeys, clients)
	RolePublic     Role = "PUB" // anonymous, on a public object
)

// Roles in the matrix's column order.
var Roles = []Role{RoleSuper, RoleTenant, RoleOwnerAdmin, RoleOwnerMem, RoleShared, RoleRestricted, RoleSelf, RolePublic}

// FieldRule gives, for one field of a resource, each role's access: letters of
// C (create), R (read), U (update), D (delete); "" = none. Footnote marks follow:
// "*" only when listed in the object's public fields, "¹" clipped/as-of for
// time-bounded shares, "²" the secret only in the response that creates it.
type FieldRule struct {
	Resource, Field string
	Access          map[Role]string
}

func fr(res, field string, su, ta, uga, ugm, sh, rp, me, pub string) FieldRule {
	return FieldRule{res, field, map[Role]string{RoleSuper: su, RoleTenant: ta, RoleOwnerAdmin: uga, RoleOwnerMem: ugm,
		RoleShared: sh, RoleRestricted: rp, RoleSelf: me, RolePublic: pub}}
}

// Fields is the field-level authorization matrix (bbdata-v2.md §2, API.md §3.3–§4).
// The JSON encoders of the api layer apply it; docs/authorization.md shows it.
var Fields = []FieldRule{
	//  resource      field           SU      TA      UGA     UGM   SH    RP    ME     PUB
	fr("object", "id", "R", "R", "R", "R", "R", "R", "", "R"),
	fr("object", "name", "CRU", "CRU", "CRU", "R", "R¹", "R", "", "R*"),
	fr("object", "description", "CRU", "CRU", "CRU", "R", "R¹", "R", "", "R*"),
	fr("object", "unit", "CR", "CR", "CR", "R", "R¹", "R", "", "R*"),
	fr("object", "tags", "CRU", "CRU", "CRU", "R", "R¹", "R", "", "R*"),
	fr("object", "disabled", "RU", "RU", "RU", "R", "R¹", "R", "", ""),
	fr("object", "creationdate", "R", "R", "R", "R", "R", "R", "", ""),
	fr("object", "owner", "CR", "CR", "CR", "R", "R", "R", "", ""),
	fr("object", "public", "RU", "RU", "RU", "", "", "", "", ""),
	fr("object", "values", "CRD", "CRD", "CRD", "R", "R¹", "CR", "", "R*"),
	fr("object", "comments", "CRD", "CRD", "CRD", "CRD", "R¹", "R", "", ""),
	fr("object", "objectGroups", "R", "R", "R", "R", "R¹", "", "", ""),
	fr("object", "(object)", "CD", "CD", "CD", "", "", "", "", ""),
	fr("token", "id, objectId, description", "CRUD", "CRUD", "CRUD", "", "", "", "", ""),
	fr("token", "token", "C²R", "C²R", "C²R", "", "", "", "", ""),
	fr("objectGroup", "id, name, description", "CRU", "CRU", "CRU", "R", "R", "", "", ""),
	fr("objectGroup", "owner", "CR", "CR", "CR", "R", "R", "", "", ""),
	fr("objectGroup", "objects", "CRD", "CRD", "CRD", "R", "R¹", "", "", ""),
	fr("objectGroup", "userGroups (shares, windows)", "CRUD", "CRUD", "CRUD", "", "", "", "", ""),
	fr("userGroup", "id, name", "CRD", "CRD", "CRD", "R", "R", "", "R", ""),
	fr("userGroup", "members, admin flag", "CRUD", "CRUD", "CRUD", "R", "", "", "R", ""),
	fr("user", "id, name, creationdate", "CRD", "CRD", "R", "R", "R", "", "R", ""),
	fr("user", "email", "C", "C", "", "", "", "", "C", ""),
	fr("user", "password", "CU", "CU", "", "", "", "", "CU", ""),
	fr("user", "objects (restricted links)", "CRD", "CRD", "", "", "", "", "R", ""),
	fr("apikey", "id, readOnly, expirationDate, description, scopes", "", "", "", "", "", "", "CRUD", ""),
	fr("apikey", "secret", "", "", "", "", "", "", "C²R", ""),
	fr("client", "id, clientId, name, creationdate, scopes", "CRD", "CRD", "", "", "", "", "R", ""),
	fr("client", "secret", "C²U", "C²U", "", "", "", "", "", ""),
	fr("tenant", "name", "CRD", "R", "", "", "", "", "", ""),
	fr("tenant", "retention", "CRU", "R", "", "", "", "", "", ""),
	fr("tenant", "admins", "CRD", "CR", "", "", "", "", "", ""),
	fr("unit", "symbol, name, type", "CR", "R", "R", "R", "R", "R", "R", "R"),
}

// FieldAccess returns role's access letters (with marks) for resource.field; a
// field listed in a combined row ("id, objectId, description") matches too.
func FieldAccess(resource, field string, role Role) string {
	for _, f := range Fields {
		if f.Resource != resource {
			continue
		}
		for _, name := range strings.Split(f.Field, ",") {
			if strings.TrimSpace(name) == field {
				return f.Access[role]
			}
		}
	}
	return ""
}

// CanReadField reports whether role may read resource.field (marks ignored: "R*"
// still needs the field listed as public, "R¹" the as-of rules).
func CanReadField(resource, field string, role Role) bool {
	return strings.Contains(FieldAccess(resource, field, role), "R")
}
