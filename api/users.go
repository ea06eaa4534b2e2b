package api

import (
	"errors"
	"slices"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/acl"
)

// users serves /users and /userGroups (bbdata-v2.md §2.4, §2.5).
type users struct {
	acl *acl.ACL
}

func (h *users) register(r *Router) {
	r.HandleE(Route{Method: "GET", Path: "/users", Access: Read, Scope: "read:auth", Summary: "users of the caller's tenant"}, h.list)
	r.HandleE(Route{Method: "GET", Path: "/users/{userId}", Access: Read, Scope: "read:auth", Summary: "one user"}, h.get)
	r.HandleE(Route{Method: "PUT", Path: "/users", Access: Write, Scope: "manage:auth", JSONBody: true, Summary: "create a user"}, h.create)
	r.HandleE(Route{Method: "DELETE", Path: "/users/{userId}", Access: Write, Scope: "manage:auth", Summary: "delete a user (superusers)"}, h.delete)
	r.HandleE(Route{Method: "GET", Path: "/userGroups", Access: Read, Scope: "read:auth", Summary: "user groups of the caller's tenant"}, h.listGroups)
	r.HandleE(Route{Method: "PUT", Path: "/userGroups", Access: Write, Scope: "manage:auth", JSONBody: true, Summary: "create a user group (caller becomes admin)"}, h.createGroup)
	r.HandleE(Route{Method: "GET", Path: "/userGroups/{userGroupId}", Access: Read, Scope: "read:auth", Summary: "one user group"}, h.getGroup)
	r.HandleE(Route{Method: "DELETE", Path: "/userGroups/{userGroupId}", Access: Write, Scope: "manage:auth", Summary: "delete a user group owning nothing"}, h.deleteGroup)
	r.HandleE(Route{Method: "GET", Path: "/userGroups/{userGroupId}/users", Access: Read, Scope: "read:auth", Summary: "members (members and superusers only)"}, h.members)
	r.HandleE(Route{Method: "GET", Path: "/userGroups/{userGroupId}/users/{userId}", Access: Write, Scope: "read:auth", Summary: "one membership"}, h.member)
	r.HandleE(Route{Method: "PUT", Path: "/userGroups/{userGroupId}/users/{userId}", Access: Write, Scope: "manage:auth", Summary: "add a member or change its admin flag"}, h.addMember)
	r.HandleE(Route{Method: "DELETE", Path: "/userGroups/{userGroupId}/users/{userId}", Access: Write, Scope: "manage:auth", Summary: "remove a member"}, h.removeMember)
}

type userGroupJSON struct {
	ID   uint32 `json:"id"`
	Name string `json:"name"`
}

type memberJSON struct {
	Admin        bool     `json:"admin"`
	ID           uint32   `json:"id"`
	Name         string   `json:"name"`
	CreationDate JSONTime `json:"creationdate"`
}

// visibleUser returns user uid if the caller may see it (same tenant, or a superuser); clients
// and foreign users are not found (API.md §4).
func (h *users) visibleUser(caller *Identity, uid uint32) (acl.Principal, error) {
	p, err := h.acl.Principal(uid)
	if err != nil || p.Kind != acl.KindUser || (p.Tenant != caller.Principal.Tenant && !h.acl.IsSuperuser(caller.Principal.ID)) {
		return acl.Principal{}, NotFound("user")
	}
	return p, nil
}

func (h *users) list(ctx *fasthttp.RequestCtx) error {
	c := CallerIdentity(ctx)
	tenant := c.Principal.Tenant
	if h.acl.IsSuperuser(c.Principal.ID) {
		tenant = 0
	}
	ps := h.acl.Principals(tenant, acl.KindUser)
	out := make([]userJSON, len(ps))
	for i := range ps {
		out[i] = toUserJSON(&ps[i])
	}
	WriteJSON(ctx, out)
	return nil
}

func (h *users) get(ctx *fasthttp.RequestCtx) error {
	uid, err := IDParam(ctx, "userId")
	if err != nil {
		return err
	}
	p, err := h.visibleUser(CallerIdentity(ctx), uid)
	if err != nil {
		return err
	}
	WriteJSON(ctx, toUserJSON(&p))
	return nil
}

func (h *users) create(ctx *fasthttp.RequestCtx) error {
	c := CallerIdentity(ctx)
	args := ctx.QueryArgs()
	var gid uint32
	if args.Has("userGroupId") {
		id, err := uintQuery(ctx, "userGroupId")
		if err != nil {
			return err
		}
		gid = id
	}
	admin, err := BoolParam(ctx, "admin", false)
	if err != nil {
		return err
	}
	var body struct {
		Name     *string `json:"name"`
		Password *string `json:"password"`
		Email    *string `json:"email"`
	}
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	fields := map[string]string{}
	if body.Name == nil {
		fields["name"] = "must not be null"
	}
	if body.Password == nil {
		fields["password"] = "must not be null"
	}
	if body.Email == nil {
		fields["email"] = "must not be null"
	}
	if len(fields) > 0 {
		return Validation(fields)
	}
	if gid != 0 {
		// The membership rules of PUT /userGroups/{gid}/users/{uid}, checked before anything is
		// created so that a refusal creates nothing.
		if err := h.checkGroupAdmin(c, gid); err != nil {
			return err
		}
	}
	tenant, err := tenantParam(ctx, h.acl)
	if err != nil {
		return err
	}
	p, err := h.acl.CreateUser(c.Principal.ID, acl.NewUser{Tenant: tenant, Name: *body.Name, Password: *body.Password, Email: *body.Email})
	if err != nil {
		return FromDomain(err, "user")
	}
	if gid != 0 {
		if err := h.acl.AddMember(c.Principal.ID, gid, p.ID, admin); err != nil && !errors.Is(err, acl.ErrUnchanged) {
			return FromDomain(err, "userGroup")
		}
	}
	WriteJSON(ctx, toUserJSON(&p))
	return nil
}

// checkGroupAdmin applies the caller rule of bbdata-v2.md §2.5 for membership changes:
// superusers pass; a non-member gets 404; a member that is not admin gets 403.
func (h *users) checkGroupAdmin(c *Identity, gid uint32) error {
	members, err := h.acl.Members(c.Principal.ID, gid)
	if err != nil {
		return FromDomain(err, "userGroup")
	}
	if h.acl.IsSuperuser(c.Principal.ID) || h.acl.IsTenantAdmin(c.Principal.ID, c.Principal.Tenant) {
		return nil
	}
	i := slices.IndexFunc(members, func(m acl.Member) bool { return m.Principal == c.Principal.ID })
	if i < 0 {
		return NotFound("userGroup")
	}
	if !members[i].Admin {
		return Forbidden("Access denied for user %d: not an admin of user group %d", c.Principal.ID, gid)
	}
	return nil
}

func (h *users) delete(ctx *fasthttp.RequestCtx) error {
	uid, err := IDParam(ctx, "userId")
	if err != nil {
		return err
	}
	err = h.acl.DeleteUser(CallerIdentity(ctx).Principal.ID, uid)
	Removed(ctx, err, "user")
	return nil
}

func (h *users) listGroups(ctx *fasthttp.RequestCtx) error {
	gs := h.acl.Groups(CallerIdentity(ctx).Principal.ID)
	out := make([]userGroupJSON, len(gs))
	for i, g := range gs {
		out[i] = userGroupJSON{g.ID, g.Name}
	}
	WriteJSON(ctx, out)
	return nil
}

func (h *users) createGroup(ctx *fasthttp.RequestCtx) error {
	c := CallerIdentity(ctx)
	var body struct {
		Name *string `json:"name"`
	}
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	if body.Name == nil {
		return Validation(map[string]string{"name": "must not be null"})
	}
	tenant, err := tenantParam(ctx, h.acl)
	if err != nil {
		return err
	}
	g, err := h.acl.CreateGroup(c.Principal.ID, tenant, *body.Name)
	if err != nil {
		return FromDomain(err, "userGroup")
	}
	WriteJSON(ctx, userGroupJSON{g.ID, g.Name})
	return nil
}

func (h *users) getGroup(ctx *fasthttp.RequestCtx) error {
	gid, err := IDParam(ctx, "userGroupId")
	if err != nil {
		return err
	}
	g, err := h.acl.Group(CallerIdentity(ctx).Principal.ID, gid)
	if err != nil {
		return FromDomain(err, "userGroup")
	}
	WriteJSON(ctx, userGroupJSON{g.ID, g.Name})
	return nil
}

func (h *users) deleteGroup(ctx *fasthttp.RequestCtx) error {
	gid, err := IDParam(ctx, "userGroupId")
	if err != nil {
		return err
	}
	err = h.acl.DeleteGroup(CallerIdentity(ctx).Principal.ID, gid)
	Removed(ctx, err, "userGroup")
	return nil
}

func (h *users) members(ctx *fasthttp.RequestCtx) error {
	gid, err := IDParam(ctx, "userGroupId")
	if err != nil {
		return err
	}
	ms, err := h.acl.Members(CallerIdentity(ctx).Principal.ID, gid)
	if err != nil {
		return FromDomain(err, "userGroup")
	}
	out := make([]memberJSON, 0, len(ms))
	for _, m := range ms {
		if j, ok := h.memberJSON(m); ok {
			out = append(out, j)
		}
	}
	WriteJSON(ctx, out)
	return nil
}

func (h *users) memberJSON(m acl.Member) (memberJSON, bool) {
	p, err := h.acl.Principal(m.Principal)
	if err != nil {
		return memberJSON{}, false
	}
	return memberJSON{Admin: m.Admin, ID: p.ID, Name: p.Name, CreationDate: JSONTime{MS: p.Created.UnixMilli(), Set: true}}, true
}

func (h *users) member(ctx *fasthttp.RequestCtx) error {
	gid, uid, err := twoIDs(ctx, "userGroupId", "userId")
	if err != nil {
		return err
	}
	ms, err := h.acl.Members(CallerIdentity(ctx).Principal.ID, gid)
	if err != nil {
		return FromDomain(err, "userGroup")
	}
	for _, m := range ms {
		if m.Principal == uid {
			if j, ok := h.memberJSON(m); ok {
				WriteJSON(ctx, j)
				return nil
			}
		}
	}
	return NotFound("user")
}

func (h *users) addMember(ctx *fasthttp.RequestCtx) error {
	gid, uid, err := twoIDs(ctx, "userGroupId", "userId")
	if err != nil {
		return err
	}
	admin, err := BoolParam(ctx, "admin", false)
	if err != nil {
		return err
	}
	Modified(ctx, h.acl.AddMember(CallerIdentity(ctx).Principal.ID, gid, uid, admin), "user")
	return nil
}

func (h *users) removeMember(ctx *fasthttp.RequestCtx) error {
	gid, uid, err := twoIDs(ctx, "userGroupId", "userId")
	if err != nil {
		return err
	}
	Modified(ctx, h.acl.RemoveMember(CallerIdentity(ctx).Principal.ID, gid, uid), "user")
	return nil
}

func twoIDs(ctx *fasthttp.RequestCtx, a, b string) (uint32, uint32, error) {
	x, err := IDParam(ctx, a)
	if err != nil {
		return 0, 0, err
	}
	y, err := IDParam(ctx, b)
	return x, y, err
}
