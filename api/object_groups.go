package api

import (
	"fmt"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/acl"
	"github.com/tsgate/tsgate/catalog"
)

// objectGroupJSON is the ObjectGroup shape; "objects" only with withObjects=true.
type objectGroupJSON struct {
	ID          uint32        `json:"id"`
	Name        string        `json:"name"`
	Description *string       `json:"description"`
	Owner       userGroupJSON `json:"owner"`
	Objects     *[]objectJSON `json:"objects,omitempty"`
}

// shareJSON lists one share of an object group with its window (API.md §4).
type shareJSON struct {
	ID   uint32   `json:"id"`
	Name string   `json:"name"`
	From JSONTime `json:"from"`
	To   JSONTime `json:"to"`
}

func (h *objects) registerGroups(r *Router) {
	r.HandleE(Route{Method: "GET", Path: "/objectGroups", Access: Read, Scope: "read:meta", Summary: "object groups the caller may read"}, h.listGroups)
	r.HandleE(Route{Method: "PUT", Path: "/objectGroups", Access: Write, Scope: "manage:meta", JSONBody: true, Summary: "create an object group"}, h.createGroup)
	r.HandleE(Route{Method: "GET", Path: "/objectGroups/{id}", Access: Read, Scope: "read:meta", Summary: "one object group"}, h.getGroup)
	r.HandleE(Route{Method: "POST", Path: "/objectGroups/{id}", Access: Write, Scope: "manage:meta", JSONBody: true, Summary: "rename or describe an object group"}, h.updateGroup)
	r.HandleE(Route{Method: "DELETE", Path: "/objectGroups/{id}", Access: Write, Scope: "manage:meta", Summary: "delete an object group"}, h.deleteGroup)
	r.HandleE(Route{Method: "GET", Path: "/objectGroups/{id}/objects", Access: Read, Scope: "read:meta", Summary: "the group's objects"}, h.groupObjects)
	r.HandleE(Route{Method: "PUT", Path: "/objectGroups/{id}/objects/{objectId}", Access: Write, Scope: "manage:meta", Summary: "add an object to the group"}, h.addToGroup)
	r.HandleE(Route{Method: "DELETE", Path: "/objectGroups/{id}/objects/{objectId}", Access: Write, Scope: "manage:meta", Summary: "remove an object from the group"}, h.removeFromGroup)
	r.HandleE(Route{Method: "GET", Path: "/objectGroups/{id}/userGroups", Access: Read, Scope: "read:meta", Summary: "user groups the group is shared with, with windows"}, h.shares)
	r.HandleE(Route{Method: "PUT", Path: "/objectGroups/{id}/userGroups/{userGroupId}", Access: Write, Scope: "manage:meta", JSONBody: true, Summary: "share the group (optionally within a window)"}, h.share)
	r.HandleE(Route{Method: "DELETE", Path: "/objectGroups/{id}/userGroups/{userGroupId}", Access: Write, Scope: "manage:meta", Summary: "stop sharing the group"}, h.unshare)
}

func (h *objects) withObjects(ctx *fasthttp.RequestCtx, kv *acl.KeyView, g *catalog.ObjectGroup, j *objectGroupJSON) {
	objs := []objectJSON{}
	enc := h.encoder(CallerIdentity(ctx), kv)
	for _, oid := range h.cat.Members(g.ID) {
		if o, err := h.cat.Object(oid); err == nil {
			objs = append(objs, enc.encode(&o))
		}
	}
	j.Objects = &objs
}

func (h *objects) listGroups(ctx *fasthttp.RequestCtx) error {
	writable, err := BoolParam(ctx, "writable", false)
	if err != nil {
		return err
	}
	with, err := BoolParam(ctx, "withObjects", false)
	if err != nil {
		return err
	}
	kv, err := h.keyView(ctx)
	if err != nil {
		return err
	}
	pid := CallerIdentity(ctx).Principal.ID
	out := []objectGroupJSON{}
	for _, g := range h.cat.Groups() {
		if !h.acl.CanReadGroup(pid, g.ID) || (writable && !h.acl.CanManageGroup(pid, g.ID)) {
			continue
		}
		j := h.groupJSON(&g)
		if with {
			h.withObjects(ctx, kv, &g, &j)
		}
		out = append(out, j)
	}
	WriteJSON(ctx, out)
	return nil
}

func (h *objects) createGroup(ctx *fasthttp.RequestCtx) error {
	var body struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
		Owner       *int64  `json:"owner"`
	}
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	fields := map[string]string{}
	if body.Name == nil {
		fields["name"] = "must not be null"
	} else if n := len([]rune(*body.Name)); n < catalog.MinGroupName || n > catalog.MaxGroupName {
		fields["name"] = fmt.Sprintf("size must be between %d and %d", catalog.MinGroupName, catalog.MaxGroupName)
	}
	if body.Owner == nil {
		fields["owner"] = "must not be null"
	}
	if body.Description != nil && len([]rune(*body.Description)) > catalog.MaxDescription {
		fields["description"] = fmt.Sprintf("size must be between 0 and %d", catalog.MaxDescription)
	}
	if len(fields) > 0 {
		return Validation(fields)
	}
	id := CallerIdentity(ctx)
	if !keyManagesMeta(h.acl, id.Key) {
		return Forbidden("this apikey may not create object groups")
	}
	owner := uint32(0)
	if *body.Owner > 0 && *body.Owner <= int64(^uint32(0)) {
		owner = uint32(*body.Owner)
	}
	g, err := h.acl.CreateObjectGroup(id.Principal.ID, catalog.NewGroup{Name: *body.Name, Description: body.Description, Owner: owner})
	if err != nil {
		return FromDomain(err, "userGroup")
	}
	WriteJSON(ctx, h.groupJSON(&g))
	return nil
}

// readableGroup parses {id} and returns the group if the caller may read it, else 404.
func (h *objects) readableGroup(ctx *fasthttp.RequestCtx) (catalog.ObjectGroup, error) {
	gid, err := IDParam(ctx, "id")
	if err != nil {
		return catalog.ObjectGroup{}, err
	}
	g, err := h.cat.Group(gid)
	if err != nil || !h.acl.CanReadGroup(CallerIdentity(ctx).Principal.ID, gid) {
		return catalog.ObjectGroup{}, NotFound("objectGroup")
	}
	return g, nil
}

func (h *objects) getGroup(ctx *fasthttp.RequestCtx) error {
	g, err := h.readableGroup(ctx)
	if err != nil {
		return err
	}
	with, err := BoolParam(ctx, "withObjects", false)
	if err != nil {
		return err
	}
	j := h.groupJSON(&g)
	if with {
		kv, err := h.keyView(ctx)
		if err != nil {
			return err
		}
		h.withObjects(ctx, kv, &g, &j)
	}
	WriteJSON(ctx, j)
	return nil
}

func (h *objects) updateGroup(ctx *fasthttp.RequestCtx) error {
	gid, err := IDParam(ctx, "id")
	if err != nil {
		return err
	}
	id := CallerIdentity(ctx)
	if !h.acl.CanManageGroup(id.Principal.ID, gid) || !keyManagesMeta(h.acl, id.Key) {
		return NotFound("objectGroup")
	}
	var body struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
	}
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	fields := map[string]string{}
	if body.Name != nil {
		if n := len([]rune(*body.Name)); n < catalog.MinGroupName || n > catalog.MaxGroupName {
			fields["name"] = fmt.Sprintf("size must be between %d and %d", catalog.MinGroupName, catalog.MaxGroupName)
		}
	}
	if body.Description != nil && len([]rune(*body.Description)) > catalog.MaxDescription {
		fields["description"] = fmt.Sprintf("size must be between 0 and %d", catalog.MaxDescription)
	}
	if len(fields) > 0 {
		return Validation(fields)
	}
	if h.acl.IsRestricted(id.Principal.ID) {
		return Forbidden("restricted principals cannot change object groups")
	}
	g, err := h.cat.UpdateGroup(gid, body.Name, body.Description)
	if err != nil && err != catalog.ErrUnchanged {
		return FromDomain(err, "objectGroup")
	}
	g, _ = h.cat.Group(gid)
	WriteJSON(ctx, h.groupJSON(&g))
	return nil
}

func (h *objects) deleteGroup(ctx *fasthttp.RequestCtx) error {
	gid, err := IDParam(ctx, "id")
	if err != nil {
		return err
	}
	Modified(ctx, h.acl.DeleteObjectGroup(CallerIdentity(ctx).Principal.ID, gid), "objectGroup")
	return nil
}

func (h *objects) groupObjects(ctx *fasthttp.RequestCtx) error {
	g, err := h.readableGroup(ctx)
	if err != nil {
		return err
	}
	kv, err := h.keyView(ctx)
	if err != nil {
		return err
	}
	j := h.groupJSON(&g)
	h.withObjects(ctx, kv, &g, &j)
	WriteJSON(ctx, *j.Objects)
	return nil
}

func (h *objects) addToGroup(ctx *fasthttp.RequestCtx) error      { return h.groupMember(ctx, true) }
func (h *objects) removeFromGroup(ctx *fasthttp.RequestCtx) error { return h.groupMember(ctx, false) }

func (h *objects) groupMember(ctx *fasthttp.RequestCtx, add bool) error {
	gid, oid, err := twoIDs(ctx, "id", "objectId")
	if err != nil {
		return err
	}
	id := CallerIdentity(ctx)
	if add {
		kv, err := h.keyView(ctx)
		if err != nil {
			return err
		}
		if h.acl.CanManageGroup(id.Principal.ID, gid) && !kv.CanManage(oid) {
			return NotFound("object")
		}
		Modified(ctx, h.acl.AddToObjectGroup(id.Principal.ID, gid, oid), "objectGroup")
		return nil
	}
	Modified(ctx, h.acl.RemoveFromObjectGroup(id.Principal.ID, gid, oid), "objectGroup")
	return nil
}

func (h *objects) shares(ctx *fasthttp.RequestCtx) error {
	gid, err := IDParam(ctx, "id")
	if err != nil {
		return err
	}
	ss, err := h.acl.Shares(CallerIdentity(ctx).Principal.ID, gid)
	if err != nil {
		return FromDomain(err, "objectGroup")
	}
	out := make([]shareJSON, 0, len(ss))
	for _, s := range ss {
		j := shareJSON{ID: s.UserGroup}
		if ug, err := h.acl.Group(0, s.UserGroup); err == nil {
			j.Name = ug.Name
		}
		if !s.From.IsZero() {
			j.From = JSONTime{MS: s.From.UnixMilli(), Set: true}
		}
		if !s.To.IsZero() {
			j.To = JSONTime{MS: s.To.UnixMilli(), Set: true}
		}
		out = append(out, j)
	}
	WriteJSON(ctx, out)
	return nil
}

func (h *objects) share(ctx *fasthttp.RequestCtx) error {
	gid, ugid, err := twoIDs(ctx, "id", "userGroupId")
	if err != nil {
		return err
	}
	var body struct {
		From JSONTime `json:"from"`
		To   JSONTime `json:"to"`
	}
	if err := DecodeJSON(ctx, &body, false); err != nil {
		return err
	}
	var w *acl.Window
	if body.From.Set || body.To.Set {
		w = &acl.Window{}
		if body.From.Set {
			w.From = time.UnixMilli(body.From.MS).UTC()
		}
		if body.To.Set {
			w.To = time.UnixMilli(body.To.MS).UTC()
		}
		if body.From.Set && body.To.Set && body.From.MS >= body.To.MS {
			return WrongParams("the window's from must be before its to")
		}
	}
	Modified(ctx, h.acl.ShareGroup(CallerIdentity(ctx).Principal.ID, gid, ugid, w), "objectGroup")
	return nil
}

func (h *objects) unshare(ctx *fasthttp.RequestCtx) error {
	gid, ugid, err := twoIDs(ctx, "id", "userGroupId")
	if err != nil {
		return err
	}
	Modified(ctx, h.acl.UnshareGroup(CallerIdentity(ctx).Principal.ID, gid, ugid), "objectGroup")
	return nil
}
