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
	r.HandleE(Route{Method: "GET", Path: "/tenants", Access: Read, Scope: "read:auth", Summary: "tenants (a tenant admin sees its own)"}, h.listTenants)
	r.HandleE(Route{Method: "PUT", Path: "/tenants", Access: Write, Scope: "manage:auth", JSONBody: true, Summary: "create a tenant (superusers)"}, h.createTenant)
	r.HandleE(Route{Method: "GET", Path: "/tenants/{name}", Access: Read, Scope: "read:auth", Summary: "one tenant"}, h.getTenant)
	r.HandleE(Route{Method: "POST", Path: "/tenants/{name}", Access: Write, Scope: "manage:auth", JSONBody: true, Summary: "update a tenant's retention (superusers)"}, h.updateTenant)
	r.HandleE(Route{Method: "DELETE", Path: "/tenants/{name}", Access: Write, Scope: "manage:auth", Summary: "delete an empty tenant (superusers)"}, h.deleteTenant)
	r.HandleE(Route{Method: "PUT", Path: "/tenants/{name}/admins/{principalId}", Access: Write, Scope: "manage:auth", Summary: "name a tenant admin"}, h.addTenantAdmin)
	r.HandleE(Route{Method: "DELETE", Path: "/tenants/{name}/admins/{principalId}", Access: Write, Scope: "manage:auth", Summary: "remove a tenant admin (superusers)"}, h.removeTenantAdmin)
	r.HandleE(Route{Method: "GET", Path: "/clients", Access: Read, Scope: "read:auth", Summary: "clients of the caller's tenant"}, h.listClients)
	r.HandleE(Route{Method: "PUT", Path: "/clients", Access: Write, Scope: "manage:auth", JSONBody: true, Summary: "create a client (tenant admins); secret shown once"}, h.createClient)
	r.HandleE(Route{Method: "DELETE", Path: "/clients/{id}", Access: Write, Scope: "manage:auth", Summary: "delete a client"}, h.deleteClient)
	r.HandleE(Route{Method: "POST", Path: "/clients/{id}/secret", Access: Write, Scope: "manage:auth", Summary: "rotate a client's secret"}, h.rotateClient)
	r.HandleE(Route{Method: "GET", Path: "/users/{userId}/objects", Access: Read, Scope: "read:auth", Summary: "objects a restricted principal is linked to"}, h.links)
	r.HandleE(Route{Method: "PUT", Path: "/users/{userId}/objects/{objectId}", Access: Write, Scope: "manage:auth", Summary: "link a principal to an object (makes it restricted)"}, h.link)
	r.HandleE(Route{Method: "DELETE", Path: "/users/{userId}/objects/{objectId}", Access: Write, Scope: "manage:auth", Summary: "unlink a principal from an object"}, h.unlink)
	r.HandleE(Route{Method: "POST", Path: "/objects/{id}/public", Access: Write, Scope: "manage:meta", JSONBody: true, Summary: "set an object's public read and public fields"}, h.setPublic)
	r.HandleE(Route{Method: "GET", Path: "/public/objects", Access: Public, Summary: "public objects, public fields only"}, h.publicObjects)
	r.HandleE(Route{Method: "GET", Path: "/public/objects/{id}", Access: Public, Summary: "one public object, public fields only"}, h.publicObject)
	r.HandleE(Route{Method: "GET", Path: "/explain", Access: Read, Scope: "read:auth", Summary: "why a principal may or may not read, write or manage an object"}, h.explain)
	r.HandleE(Route{Method: "GET", Path: "/audit", Access: Read, Scope: "read:auth", Summary: "authorization changes and denied requests, newest first"}, h.audit)
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

func (h *extensions) listTenants(ctx *fasthttp.RequestCtx) error {
	ts := h.acl.Tenants(CallerIdentity(ctx).Principal.ID)
	out := make([]tenantJSON, 0, len(ts))
	for _, t := range ts {
		if h.acl.IsSuperuser(CallerIdentity(ctx).Principal.ID) || h.acl.IsTenantAdmin(CallerIdentity(ctx).Principal.ID, t.ID) {
			out = append(out, h.tenantJSON(t))
		}
	}
	WriteJSON(ctx, out)
	return nil
}

type tenantBody struct {
	Name      *string `json:"name"`
	Retention *string `json:"retention"`
}

func (h *extensions) createTenant(ctx *fasthttp.RequestCtx) error {
	var body tenantBody
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	if body.Name == nil {
		return Validation(map[string]string{"name": "must not be null"})
	}
	ret := ""
	if body.Retention != nil {
		ret = *body.Retention
	}
	t, err := h.acl.CreateTenant(CallerIdentity(ctx).Principal.ID, *body.Name, ret)
	if err != nil {
		return FromDomain(err, "tenant")
	}
	WriteJSON(ctx, h.tenantJSON(t))
	return nil
}

func (h *extensions) getTenant(ctx *fasthttp.RequestCtx) error {
	t, err := h.visibleTenant(ctx)
	if err != nil {
		return err
	}
	WriteJSON(ctx, h.tenantJSON(t))
	return nil
}

func (h *extensions) updateTenant(ctx *fasthttp.RequestCtx) error {
	t, err := h.visibleTenant(ctx)
	if err != nil {
		return err
	}
	var body tenantBody
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	ret := t.Retention
	if body.Retention != nil {
		ret = *body.Retention
	}
	t, err = h.acl.UpdateTenant(CallerIdentity(ctx).Principal.ID, t.ID, ret)
	if err != nil && !errors.Is(err, acl.ErrUnchanged) {
		return FromDomain(err, "tenant")
	}
	t, _ = h.acl.Tenant(t.ID)
	WriteJSON(ctx, h.tenantJSON(t))
	return nil
}

func (h *extensions) deleteTenant(ctx *fasthttp.RequestCtx) error {
	t, err := h.visibleTenant(ctx)
	if err != nil {
		return err
	}
	Modified(ctx, h.acl.DeleteTenant(CallerIdentity(ctx).Principal.ID, t.ID), "tenant")
	return nil
}

func (h *extensions) addTenantAdmin(ctx *fasthttp.RequestCtx) error { return h.tenantAdmin(ctx, true) }
func (h *extensions) removeTenantAdmin(ctx *fasthttp.RequestCtx) error {
	return h.tenantAdmin(ctx, false)
}

func (h *extensions) tenantAdmin(ctx *fasthttp.RequestCtx, add bool) error {
	t, err := h.visibleTenant(ctx)
	if err != nil {
		return err
	}
	pid, err := IDParam(ctx, "principalId")
	if err != nil {
		return err
	}
	actor := CallerIdentity(ctx).Principal.ID
	if add {
		Modified(ctx, h.acl.AddTenantAdmin(actor, t.ID, pid), "principal")
	} else {
		Modified(ctx, h.acl.RemoveTenantAdmin(actor, t.ID, pid), "principal")
	}
	return nil
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

func (h *extensions) listClients(ctx *fasthttp.RequestCtx) error {
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
	return nil
}

func (h *extensions) createClient(ctx *fasthttp.RequestCtx) error {
	var body struct {
		Name   *string   `json:"name"`
		Scopes *[]string `json:"scopes"`
	}
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	if body.Name == nil || strings.TrimSpace(*body.Name) == "" {
		return Validation(map[string]string{"name": "must not be blank"})
	}
	var scopes []acl.Scope
	if body.Scopes != nil {
		var err error
		if scopes, err = acl.ParseScopes(strings.Join(*body.Scopes, ",")); err != nil {
			return WrongParams("%s", strings.TrimPrefix(err.Error(), "catalog: invalid input: "))
		}
	}
	tenant, err := tenantParam(ctx, h.acl)
	if err != nil {
		return err
	}
	p, secret, err := h.acl.CreateClient(CallerIdentity(ctx).Principal.ID, tenant, *body.Name, scopes)
	if err != nil {
		return FromDomain(err, "client")
	}
	WriteJSON(ctx, toClientJSON(&p, secret))
	return nil
}

func (h *extensions) deleteClient(ctx *fasthttp.RequestCtx) error {
	id, err := IDParam(ctx, "id")
	if err != nil {
		return err
	}
	err = h.acl.DeleteClient(CallerIdentity(ctx).Principal.ID, id)
	Removed(ctx, err, "client")
	return nil
}

func (h *extensions) rotateClient(ctx *fasthttp.RequestCtx) error {
	id, err := IDParam(ctx, "id")
	if err != nil {
		return err
	}
	secret, err := h.acl.RotateClientSecret(CallerIdentity(ctx).Principal.ID, id)
	if err != nil {
		return FromDomain(err, "client")
	}
	p, err := h.acl.Principal(id)
	if err != nil {
		return FromDomain(err, "client")
	}
	WriteJSON(ctx, toClientJSON(&p, secret))
	return nil
}

func (h *extensions) links(ctx *fasthttp.RequestCtx) error {
	uid, err := IDParam(ctx, "userId")
	if err != nil {
		return err
	}
	ids, err := h.acl.Links(CallerIdentity(ctx).Principal.ID, uid)
	if err != nil {
		return FromDomain(err, "user")
	}
	enc, err := h.objs.requestEncoder(ctx)
	if err != nil {
		return err
	}
	out := make([]objectJSON, 0, len(ids))
	for _, id := range ids {
		if o, err := h.cat.Object(id); err == nil {
			out = append(out, enc.encode(&o))
		}
	}
	WriteJSON(ctx, out)
	return nil
}

func (h *extensions) link(ctx *fasthttp.RequestCtx) error   { return h.setLink(ctx, true) }
func (h *extensions) unlink(ctx *fasthttp.RequestCtx) error { return h.setLink(ctx, false) }

func (h *extensions) setLink(ctx *fasthttp.RequestCtx, on bool) error {
	uid, oid, err := twoIDs(ctx, "userId", "objectId")
	if err != nil {
		return err
	}
	actor := CallerIdentity(ctx).Principal.ID
	if on {
		Modified(ctx, h.acl.Link(actor, uid, oid), "object")
	} else {
		Modified(ctx, h.acl.Unlink(actor, uid, oid), "object")
	}
	return nil
}

func (h *extensions) setPublic(ctx *fasthttp.RequestCtx) error {
	o, id, err := h.objs.manageable(ctx)
	if err != nil {
		return err
	}
	var body struct {
		Public *bool    `json:"public"`
		Fields []string `json:"fields"`
	}
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	if body.Public == nil {
		return Validation(map[string]string{"public": "must not be null"})
	}
	for _, f := range body.Fields {
		if !publicFieldNames[f] {
			return WrongParams("field '%s' cannot be public: want name, description, unit, tags or values", f)
		}
	}
	Modified(ctx, h.acl.SetPublic(id.Principal.ID, o.ID, *body.Public, body.Fields), "object")
	return nil
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

func (h *extensions) publicObjects(ctx *fasthttp.RequestCtx) error {
	page, size, err := pageParams(ctx)
	if err != nil {
		return err
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
	return nil
}

func (h *extensions) publicObject(ctx *fasthttp.RequestCtx) error {
	id, err := IDParam(ctx, "id")
	if err != nil {
		return err
	}
	o, err := h.cat.Object(id)
	if err != nil || !o.Public {
		return NotFound("object")
	}
	WriteJSON(ctx, h.publicJSON(&o))
	return nil
}

func (h *extensions) explain(ctx *fasthttp.RequestCtx) error {
	args := ctx.QueryArgs()
	for _, p := range []string{"principal", "object", "verb"} {
		if !args.Has(p) {
			return Errorf(fasthttp.StatusBadRequest, ExcMissingParam, "Required parameter '%s' is not present", p)
		}
	}
	pid, err := uintQuery(ctx, "principal")
	if err != nil {
		return err
	}
	oid, err := uintQuery(ctx, "object")
	if err != nil {
		return err
	}
	x, err := h.acl.Explain(CallerIdentity(ctx).Principal.ID, pid, oid, string(args.Peek("verb")))
	if err != nil {
		return FromDomain(err, "object")
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
	return nil
}

func (h *extensions) audit(ctx *fasthttp.RequestCtx) error {
	c := CallerIdentity(ctx)
	q := acl.AuditQuery{Size: 100}
	if !h.acl.IsSuperuser(c.Principal.ID) {
		if !h.acl.IsTenantAdmin(c.Principal.ID, c.Principal.Tenant) {
			return Forbidden("only superusers and tenant admins read the audit log")
		}
		q.Tenant = c.Principal.Tenant
	}
	args := ctx.QueryArgs()
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if args.Has(name) {
			ms, err := ParseDateTime(args.Peek(name))
			if err != nil {
				return Errorf(fasthttp.StatusBadRequest, ExcTypeMismatch, "%s: %v", name, err)
			}
			*dst = time.UnixMilli(ms).UTC()
		}
	}
	if args.Has("principal") {
		pid, err := uintQuery(ctx, "principal")
		if err != nil {
			return err
		}
		q.Principal = pid
	}
	page, size, err := pageParams(ctx)
	if err != nil {
		return err
	}
	if args.Has("size") {
		if size > 1000 {
			return WrongParams("size must be at most 1000")
		}
		q.Size = size
	}
	q.Page = page
	es, err := h.acl.Audit(q)
	if err != nil {
		return err
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
	return nil
}
