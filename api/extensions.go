package api

import (
	"errors"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/acl"
	"github.com/tsgate/tsgate/catalog"
)

// extensions serves tsgate's additions to the BBData API (API.md §3.3, §3.7): tenants and
// their admins, clients, restricted links, public objects, /explain and /audit.
type extensions struct {
	acl  *acl.ACL
	cat  *catalog.Catalog
	objs *objects
	now  func() time.Time
}

func (h *extensions) register(r *Router) {
	r.Handle(Route{Method: "GET", Path: "/tenants", Access: Read, Scope: "read:auth", Summary: "tenants (a tenant admin sees its own)"}, h.listTenants)
	r.Handle(Route{Method: "PUT", Path: "/tenants", Access: Write, Scope: "manage:auth", JSONBody: true, Summary: "create a tenant (superusers)"}, h.createTenant)
	r.Handle(Route{Method: "GET", Path: "/tenants/{name}", Access: Read, Scope: "read:auth", Summary: "one tenant"}, h.getTenant)
	r.Handle(Route{Method: "POST", Path: "/tenants/{name}", Access: Write, Scope: "manage:auth", JSONBody: true, Summary: "update a tenant's retention (superusers)"}, h.updateTenant)
	r.Handle(Route{Method: "DELETE", Path: "/tenants/{name}", Access: Write, Scope: "manage:auth", Summary: "delete an empty tenant (superusers)"}, h.deleteTenant)
	r.Handle(Route{Method: "PUT", Path: "/tenants/{name}/admins/{principalId}", Access: Write, Scope: "manage:auth", Summary: "name a tenant admin"}, h.addTenantAdmin)
	r.Handle(Route{Method: "DELETE", Path: "/tenants/{name}/admins/{principalId}", Access: Write, Scope: "manage:auth", Summary: "remove a tenant admin (superusers)"}, h.removeTenantAdmin)
	r.Handle(Route{Method: "GET", Path: "/clients", Access: Read, Scope: "read:auth", Summary: "clients of the caller's tenant"}, h.listClients)
	r.Handle(Route{Method: "PUT", Path: "/clients", Access: Write, Scope: "manage:auth", JSONBody: true, Summary: "create a client (tenant admins); secret shown once"}, h.createClient)
	r.Handle(Route{Method: "DELETE", Path: "/clients/{id}", Access: Write, Scope: "manage:auth", Summary: "delete a client"}, h.deleteClient)
	r.Handle(Route{Method: "POST", Path: "/clients/{id}/secret", Access: Write, Scope: "manage:auth", Summary: "rotate a client's secret"}, h.rotateClient)
	r.Handle(Route{Method: "GET", Path: "/users/{userId}/objects", Access: Read, Scope: "read:auth", Summary: "objects a restricted principal is linked to"}, h.links)
	r.Handle(Route{Method: "PUT", Path: "/users/{userId}/objects/{objectId}", Access: Write, Scope: "manage:auth", Summary: "link a principal to an object (makes it restricted)"}, h.link)
	r.Handle(Route{Method: "DELETE", Path: "/users/{userId}/objects/{objectId}", Access: Write, Scope: "manage:auth", Summary: "unlink a principal from an object"}, h.unlink)
	r.Handle(Route{Method: "POST", Path: "/objects/{id}/public", Access: Write, Scope: "manage:meta", JSONBody: true, Summary: "set an object's public read and public fields"}, h.setPublic)
	r.Handle(Route{Method: "GET", Path: "/public/objects", Access: Public, Summary: "public objects, public fields only"}, h.publicObjects)
	r.Handle(Route{Method: "GET", Path: "/public/objects/{id}", Access: Public, Summary: "one public object, public fields only"}, h.publicObject)
	r.Handle(Route{Method: "GET", Path: "/explain", Access: Read, Scope: "read:auth", Summary: "why a principal may or may not read, write or manage an object"}, h.explain)
	r.Handle(Route{Method: "GET", Path: "/audit", Access: Read, Scope: "read:auth", Summary: "authorization changes and denied requests, newest first"}, h.audit)
}

type tenantJSON struct {
	Name      string   `json:"name"`
	Retention *string  `json:"retention"`
	Admins    []uint32 `json:"admins"`
}

func (h *extensions) tenantJSON(t acl.Tenant) tenantJSON {
	j := tenantJSON{Name: t.Name, Admins: h.acl.TenantAdmins(t.ID)}
	if t.Retention != "" {
		r := t.Retention
		j.Retention = &r
	}
	if j.Admins == nil {
		j.Admins = []uint32{}
	}
	return j
}

// visibleTenant resolves {name} for the caller: a tenant it may not see is not found.
func (h *extensions) visibleTenant(ctx *fasthttp.RequestCtx) (acl.Tenant, error) {
	name, _ := ctx.UserValue("name").(string)
	for _, t := range h.acl.Tenants(CallerIdentity(ctx).Principal.ID) {
		if t.Name == name {
			return t, nil
		}
	}
	return acl.Tenant{}, NotFound("tenant")
}

func (h *extensions) listTenants(ctx *fasthttp.RequestCtx) {
	ts := h.acl.Tenants(CallerIdentity(ctx).Principal.ID)
	out := make([]tenantJSON, 0, len(ts))
	for _, t := range ts {
		if h.acl.IsSuperuser(CallerIdentity(ctx).Principal.ID) || h.acl.IsTenantAdmin(CallerIdentity(ctx).Principal.ID, t.ID) {
			out = append(out, h.tenantJSON(t))
		}
	}
	WriteJSON(ctx, out)
}

type tenantBody struct {
	Name      *string `json:"name"`
	Retention *string `json:"retention"`
}

func (h *extensions) createTenant(ctx *fasthttp.RequestCtx) {
	var body tenantBody
	if err := DecodeJSON(ctx, &body, true); err != nil {
		WriteError(ctx, err)
		return
	}
	if body.Name == nil {
		WriteError(ctx, Validation(map[string]string{"name": "must not be null"}))
		return
	}
	ret := ""
	if body.Retention != nil {
		ret = *body.Retention
	}
	t, err := h.acl.CreateTenant(CallerIdentity(ctx).Principal.ID, *body.Name, ret)
	if err != nil {
		WriteError(ctx, FromDomain(err, "tenant"))
		return
	}
	WriteJSON(ctx, h.tenantJSON(t))
}

func (h *extensions) getTenant(ctx *fasthttp.RequestCtx) {
	t, err := h.visibleTenant(ctx)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	WriteJSON(ctx, h.tenantJSON(t))
}

func (h *extensions) updateTenant(ctx *fasthttp.RequestCtx) {
	t, err := h.visibleTenant(ctx)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	var body tenantBody
	if err := DecodeJSON(ctx, &body, true); err != nil {
		WriteError(ctx, err)
		return
	}
	ret := t.Retention
	if body.Retention != nil {
		ret = *body.Retention
	}
	t, err = h.acl.UpdateTenant(CallerIdentity(ctx).Principal.ID, t.ID, ret)
	if err != nil && !errors.Is(err, acl.ErrUnchanged) {
		WriteError(ctx, FromDomain(err, "tenant"))
		return
	}
	t, _ = h.acl.Tenant(t.ID)
	WriteJSON(ctx, h.tenantJSON(t))
}

func (h *extensions) deleteTenant(ctx *fasthttp.RequestCtx) {
	t, err := h.visibleTenant(ctx)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	Modified(ctx, h.acl.DeleteTenant(CallerIdentity(ctx).Principal.ID, t.ID), "tenant")
}

func (h *extensions) addTenantAdmin(ctx *fasthttp.RequestCtx) { h.tenantAdmin(ctx, true) }
func (h *extensions) removeTenantAdmin(ctx *fasthttp.RequestCtx) {
	h.tenantAdmin(ctx, false)
}

func (h *extensions) tenantAdmin(ctx *fasthttp.RequestCtx, add bool) {
	t, err := h.visibleTenant(ctx)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	pid, err := IDParam(ctx, "principalId")
	if err != nil {
		WriteError(ctx, err)
		return
	}
	actor := CallerIdentity(ctx).Principal.ID
	if add {
		Modified(ctx, h.acl.AddTenantAdmin(actor, t.ID, pid), "principal")
	} else {
		Modified(ctx, h.acl.RemoveTenantAdmin(actor, t.ID, pid), "principal")
	}
}

// tenantParam resolves `?tenant=<name>` for superusers (API.md §3.3): absent → the caller's own
// tenant; an unknown name → 404; given by a non-superuser naming another tenant → 404.
func tenantParam(ctx *fasthttp.RequestCtx, a *acl.ACL) (uint32, error) {
	c := CallerIdentity(ctx)
	args := ctx.QueryArgs()
	if !args.Has("tenant") {
		return c.Principal.Tenant, nil
	}
	t, err := a.TenantByName(string(args.Peek("tenant")))
	if err != nil || (t.ID != c.Principal.Tenant && !a.IsSuperuser(c.Principal.ID)) {
		return 0, NotFound("tenant")
	}
	return t.ID, nil
}

type clientJSON struct {
	ID           uint32   `json:"id"`
	ClientID     string   `json:"clientId"`
	Name         string   `json:"name"`
	CreationDate JSONTime `json:"creationdate"`
	Scopes       []string `json:"scopes"`
	Secret       string   `json:"secret,omitempty"`
}

func toClientJSON(p *acl.Principal, secret string) clientJSON {
	j := clientJSON{ID: p.ID, ClientID: p.Name, Name: p.Label, CreationDate: JSONTime{MS: p.Created.UnixMilli(), Set: true}, Secret: secret}
	if p.Scopes != nil {
		j.Scopes = make([]string, len(p.Scopes))
		for i, s := range p.Scopes {
			j.Scopes[i] = s.String()
		}
	}
	return j
}

func (h *extensions) listClients(ctx *fasthttp.RequestCtx) {
	c := CallerIdentity(ctx)
	tenant := c.Principal.Tenant
	if h.acl.IsSuperuser(c.Principal.ID) {
		tenant = 0
	}
	ps := h.acl.Principals(tenant, acl.KindClient)
	out := make([]clientJSON, len(ps))
	for i := range ps {
		out[i] = toClientJSON(&ps[i], "")
	}
	WriteJSON(ctx, out)
}

func (h *extensions) createClient(ctx *fasthttp.RequestCtx) {
	var body struct {
		Name   *string   `json:"name"`
		Scopes *[]string `json:"scopes"`
	}
	if err := DecodeJSON(ctx, &body, true); err != nil {
		WriteError(ctx, err)
		return
	}
	if body.Name == nil || strings.TrimSpace(*body.Name) == "" {
		WriteError(ctx, Validation(map[string]string{"name": "must not be blank"}))
		return
	}
	var scopes []acl.Scope
	if body.Scopes != nil {
		var err error
		if scopes, err = acl.ParseScopes(strings.Join(*body.Scopes, ",")); err != nil {
			WriteError(ctx, WrongParams("%s", strings.TrimPrefix(err.Error(), "catalog: invalid input: ")))
			return
		}
	}
	tenant, err := tenantParam(ctx, h.acl)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	p, secret, err := h.acl.CreateClient(CallerIdentity(ctx).Principal.ID, tenant, *body.Name, scopes)
	if err != nil {
		WriteError(ctx, FromDomain(err, "client"))
		return
	}
	WriteJSON(ctx, toClientJSON(&p, secret))
}

func (h *extensions) deleteClient(ctx *fasthttp.RequestCtx) {
	id, err := IDParam(ctx, "id")
	if err != nil {
		WriteError(ctx, err)
		return
	}
	err = h.acl.DeleteClient(CallerIdentity(ctx).Principal.ID, id)
	Removed(ctx, err, "client")
}

func (h *extensions) rotateClient(ctx *fasthttp.RequestCtx) {
	id, err := IDParam(ctx, "id")
	if err != nil {
		WriteError(ctx, err)
		return
	}
	secret, err := h.acl.RotateClientSecret(CallerIdentity(ctx).Principal.ID, id)
	if err != nil {
		WriteError(ctx, FromDomain(err, "client"))
		return
	}
	p, err := h.acl.Principal(id)
	if err != nil {
		WriteError(ctx, FromDomain(err, "client"))
		return
	}
	WriteJSON(ctx, toClientJSON(&p, secret))
}

func (h *extensions) links(ctx *fasthttp.RequestCtx) {
	uid, err := IDParam(ctx, "userId")
	if err != nil {
		WriteError(ctx, err)
		return
	}
	ids, err := h.acl.Links(CallerIdentity(ctx).Principal.ID, uid)
	if err != nil {
		WriteError(ctx, FromDomain(err, "user"))
		return
	}
	enc, err := h.objs.requestEncoder(ctx)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	out := make([]objectJSON, 0, len(ids))
	for _, id := range ids {
		if o, err := h.cat.Object(id); err == nil {
			out = append(out, enc.encode(&o))
		}
	}
	WriteJSON(ctx, out)
}

func (h *extensions) link(ctx *fasthttp.RequestCtx)   { h.setLink(ctx, true) }
func (h *extensions) unlink(ctx *fasthttp.RequestCtx) { h.setLink(ctx, false) }

func (h *extensions) setLink(ctx *fasthttp.RequestCtx, on bool) {
	uid, oid, err := twoIDs(ctx, "userId", "objectId")
	if err != nil {
		WriteError(ctx, err)
		return
	}
	actor := CallerIdentity(ctx).Principal.ID
	if on {
		Modified(ctx, h.acl.Link(actor, uid, oid), "object")
	} else {
		Modified(ctx, h.acl.Unlink(actor, uid, oid), "object")
	}
}

func (h *extensions) setPublic(ctx *fasthttp.RequestCtx) {
	o, id, err := h.objs.manageable(ctx)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	var body struct {
		Public *bool    `json:"public"`
		Fields []string `json:"fields"`
	}
	if err := DecodeJSON(ctx, &body, true); err != nil {
		WriteError(ctx, err)
		return
	}
	if body.Public == nil {
		WriteError(ctx, Validation(map[string]string{"public": "must not be null"}))
		return
	}
	for _, f := range body.Fields {
		if !publicFieldNames[f] {
			WriteError(ctx, WrongParams("field '%s' cannot be public: want name, description, unit, tags or values", f))
			return
		}
	}
	Modified(ctx, h.acl.SetPublic(id.Principal.ID, o.ID, *body.Public, body.Fields), "object")
}

var publicFieldNames = map[string]bool{"name": true, "description": true, "unit": true, "tags": true, "values": true}

// publicJSON renders a public object for anonymous readers (API.md §3.3): the fields the
// field-level matrix (acl.Fields, role PUB) lets the public read, and of those only the ones
// the object lists as public; id always.
func (h *extensions) publicJSON(o *catalog.Object) map[string]any {
	full := h.objs.toJSON(o)
	values := map[string]any{"name": full.Name, "description": full.Description, "unit": full.Unit, "tags": full.Tags}
	out := map[string]any{"id": o.ID}
	for field, v := range values {
		if acl.CanReadField("object", field, acl.RolePublic) && o.PublicField(field) {
			out[field] = v
		}
	}
	return out
}

func (h *extensions) publicObjects(ctx *fasthttp.RequestCtx) {
	page, size, err := pageParams(ctx)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	var ids []uint32
	h.cat.ForEachObject(func(o *catalog.Object) bool {
		if o.Public && !o.Deleted {
			ids = append(ids, o.ID)
		}
		return true
	})
	lo, hi := page*size, page*size+size
	if lo > len(ids) {
		lo = len(ids)
	}
	if hi > len(ids) || hi < lo {
		hi = len(ids)
	}
	out := []map[string]any{}
	for _, id := range ids[lo:hi] {
		if o, err := h.cat.Object(id); err == nil && o.Public {
			out = append(out, h.publicJSON(&o))
		}
	}
	WriteJSON(ctx, out)
}

func (h *extensions) publicObject(ctx *fasthttp.RequestCtx) {
	id, err := IDParam(ctx, "id")
	if err != nil {
		WriteError(ctx, err)
		return
	}
	o, err := h.cat.Object(id)
	if err != nil || !o.Public {
		WriteError(ctx, NotFound("object"))
		return
	}
	WriteJSON(ctx, h.publicJSON(&o))
}

func (h *extensions) explain(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	for _, p := range []string{"principal", "object", "verb"} {
		if !args.Has(p) {
			WriteError(ctx, Errorf(fasthttp.StatusBadRequest, ExcMissingParam, "Required parameter '%s' is not present", p))
			return
		}
	}
	pid, err := uintQuery(ctx, "principal")
	if err != nil {
		WriteError(ctx, err)
		return
	}
	oid, err := uintQuery(ctx, "object")
	if err != nil {
		WriteError(ctx, err)
		return
	}
	x, err := h.acl.Explain(CallerIdentity(ctx).Principal.ID, pid, oid, string(args.Peek("verb")))
	if err != nil {
		WriteError(ctx, FromDomain(err, "object"))
		return
	}
	type window struct {
		From JSONTime `json:"from"`
		To   JSONTime `json:"to"`
	}
	out := struct {
		Allowed bool     `json:"allowed"`
		By      []string `json:"by"`
		Windows []window `json:"windows,omitempty"`
		Reason  string   `json:"reason"`
	}{Allowed: x.Allowed, By: x.By, Reason: x.Reason}
	for _, w := range x.Windows {
		var j window
		if !w.From.IsZero() {
			j.From = JSONTime{MS: w.From.UnixMilli(), Set: true}
		}
		if !w.To.IsZero() {
			j.To = JSONTime{MS: w.To.UnixMilli(), Set: true}
		}
		out.Windows = append(out.Windows, j)
	}
	WriteJSON(ctx, out)
}

func (h *extensions) audit(ctx *fasthttp.RequestCtx) {
	c := CallerIdentity(ctx)
	q := acl.AuditQuery{Size: 100}
	if !h.acl.IsSuperuser(c.Principal.ID) {
		if !h.acl.IsTenantAdmin(c.Principal.ID, c.Principal.Tenant) {
			WriteError(ctx, Forbidden("only superusers and tenant admins read the audit log"))
			return
		}
		q.Tenant = c.Principal.Tenant
	}
	args := ctx.QueryArgs()
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if args.Has(name) {
			ms, err := ParseDateTime(args.Peek(name))
			if err != nil {
				WriteError(ctx, Errorf(fasthttp.StatusBadRequest, ExcTypeMismatch, "%s: %v", name, err))
				return
			}
			*dst = time.UnixMilli(ms).UTC()
		}
	}
	if args.Has("principal") {
		pid, err := uintQuery(ctx, "principal")
		if err != nil {
			WriteError(ctx, err)
			return
		}
		q.Principal = pid
	}
	page, size, err := pageParams(ctx)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	if args.Has("size") {
		if size > 1000 {
			WriteError(ctx, WrongParams("size must be at most 1000"))
			return
		}
		q.Size = size
	}
	q.Page = page
	es, err := h.acl.Audit(q)
	if err != nil {
		WriteError(ctx, err)
		return
	}
	type entry struct {
		ID     uint64          `json:"id"`
		Time   JSONTime        `json:"time"`
		Tenant uint32          `json:"tenant"`
		Actor  uint32          `json:"actor"`
		Action string          `json:"action"`
		Target acl.AuditTarget `json:"target"`
		Status int             `json:"status,omitempty"`
		Count  int             `json:"count,omitempty"`
	}
	out := make([]entry, len(es))
	for i, e := range es {
		out[i] = entry{ID: e.ID, Time: JSONTime{MS: e.Time.UnixMilli(), Set: true}, Tenant: e.Tenant, Actor: e.Actor,
			Action: e.Action, Target: e.Target, Status: e.Status, Count: e.Count}
	}
	WriteJSON(ctx, out)
}
