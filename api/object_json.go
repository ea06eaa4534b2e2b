package api

import (
	"bytes"
	"encoding/json"

	"github.com/tsgate/tsgate/acl"
	"github.com/tsgate/tsgate/catalog"
)

// objectFields are the Object JSON fields in output order (bbdata-v2.md §2.1, plus tsgate's
// `public` for those the matrix lets read it). Which of them a caller sees is decided by the
// field-level matrix acl.Fields for the caller's role on the object — one table, not handler
// code (DESIGN.md §6).
var objectFields = [...]string{"id", "name", "description", "unit", "disabled", "creationdate", "owner", "tags", "public"}

// objectFieldsByRole is, per matrix role, which of objectFields it reads — worked out once from
// acl.Fields (a table fixed at build time) rather than by a table scan per field of every
// object encoded.
var objectFieldsByRole = func() map[acl.Role][len(objectFields)]bool {
	m := map[acl.Role][len(objectFields)]bool{}
	for _, role := range acl.Roles {
		var vis [len(objectFields)]bool
		for i, f := range objectFields {
			vis[i] = acl.CanReadField("object", f, role)
		}
		m[role] = vis
	}
	return m
}()

// publicState is the `public` field: the flag and the fields anonymous readers see.
type publicState struct {
	Public bool     `json:"public"`
	Fields []string `json:"fields"`
}

// MarshalJSON writes the fields the role may read, in objectFields order. A zero role (internal
// use) writes the BBData fields.
func (j objectJSON) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	vis := objectFieldsByRole[j.role]
	for i, f := range objectFields {
		if j.role == "" {
			if f == "public" {
				continue
			}
		} else if !vis[i] {
			continue
		}
		var v any
		switch f {
		case "id":
			v = j.ID
		case "name":
			v = j.Name
		case "description":
			v = j.Description
		case "unit":
			v = j.Unit
		case "disabled":
			v = j.Disabled
		case "creationdate":
			v = j.CreationDate
		case "owner":
			v = j.Owner
		case "tags":
			v = j.Tags
		case "public":
			v = j.Public
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			b.WriteByte(',')
		}
		b.Write(AppendJSONString(nil, f))
		b.WriteByte(':')
		b.Write(enc)
		n++
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// objectEncoder renders objects for one caller: it works out the caller's role on each object
// (superuser, tenant admin, owner-group admin, restricted, owner-group member, shared) once per
// request and lets the matrix pick the fields.
type objectEncoder struct {
	h          *objects
	id         *Identity
	kv         *acl.KeyView
	super      bool
	restricted bool
	groups     map[uint32]bool
}

func (h *objects) encoder(id *Identity, kv *acl.KeyView) *objectEncoder {
	e := &objectEncoder{h: h, id: id, kv: kv, super: h.acl.IsSuperuser(id.Principal.ID), restricted: h.acl.IsRestricted(id.Principal.ID)}
	return e
}

// role is the caller's column of the field matrix for o.
func (e *objectEncoder) role(o *catalog.Object) acl.Role {
	pid := e.id.Principal.ID
	switch {
	case e.super:
		return acl.RoleSuper
	case e.h.acl.IsTenantAdmin(pid, o.Tenant):
		return acl.RoleTenant
	case e.kv != nil && e.kv.CanManage(o.ID):
		return acl.RoleOwnerAdmin
	case e.restricted:
		return acl.RoleRestricted
	}
	if e.groups == nil {
		e.groups = map[uint32]bool{}
		for _, mg := range e.h.acl.GroupsOf(pid) {
			e.groups[mg.Group.ID] = true
		}
	}
	if e.groups[o.Owner] {
		return acl.RoleOwnerMem
	}
	return acl.RoleShared
}

// encode renders o for the caller.
func (e *objectEncoder) encode(o *catalog.Object) objectJSON {
	j := e.h.toJSON(o)
	j.role = e.role(o)
	fields := o.PublicFields
	if fields == nil {
		fields = []string{}
	}
	j.Public = &publicState{Public: o.Public, Fields: fields}
	return j
}
