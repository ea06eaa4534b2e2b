package api

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/acl"
	"github.com/tsgate/tsgate/catalog"
	"github.com/tsgate/tsgate/tsdb"
)

// objects serves /objects and its tags, enable/disable, tokens and comments (bbdata-v2.md
// §2.6–§2.8). Object checks go through the caller's KeyView (the principal's compiled view
// narrowed by the key); acl re-checks the principal on every change.
type objects struct {
	acl          *acl.ACL
	cat          *catalog.Catalog
	db           *tsdb.DB
	deleteSeries func(id uint32) error
	now          func() time.Time
}

func (h *objects) register(r *Router) {
	r.HandleE(Route{Method: "GET", Path: "/objects", Access: Read, Scope: "read:meta", Summary: "objects the caller may read"}, h.list)
	r.HandleE(Route{Method: "PUT", Path: "/objects", Access: Write, Scope: "manage:meta", JSONBody: true, Summary: "create an object"}, h.create)
	r.HandleE(Route{Method: "PUT", Path: "/objects/bulk", Access: Write, Scope: "manage:meta", JSONBody: true, Summary: "create objects, all or nothing"}, h.createBulk)
	r.HandleE(Route{Method: "GET", Path: "/objects/{id}", Access: Read, Scope: "read:meta", Summary: "one object"}, h.get)
	r.HandleE(Route{Method: "POST", Path: "/objects/{id}", Access: Write, Scope: "manage:meta", JSONBody: true, Summary: "rename or describe an object"}, h.update)
	r.HandleE(Route{Method: "DELETE", Path: "/objects/{id}", Access: Write, Scope: "manage:meta", Summary: "delete an object without values"}, h.delete)
	r.HandleE(Route{Method: "GET", Path: "/objects/{id}/objectGroups", Access: Read, Scope: "read:meta", Summary: "object groups containing the object"}, h.groupsOf)
	r.HandleE(Route{Method: "PUT", Path: "/objects/{id}/tags", Access: Write, Scope: "manage:meta", Summary: "add tags"}, h.addTags)
	r.HandleE(Route{Method: "DELETE", Path: "/objects/{id}/tags", Access: Write, Scope: "manage:meta", Summary: "remove tags"}, h.removeTags)
	r.HandleE(Route{Method: "POST", Path: "/objects/{id}/enable", Access: Write, Scope: "manage:meta", Summary: "enable an object"}, h.enable)
	r.HandleE(Route{Method: "POST", Path: "/objects/{id}/disable", Access: Write, Scope: "manage:meta", Summary: "disable an object (deletes its tokens)"}, h.disable)
	r.HandleE(Route{Method: "GET", Path: "/objects/{id}/tokens", Access: Write, Scope: "read:meta", Summary: "the object's tokens, masked"}, h.tokens)
	r.HandleE(Route{Method: "PUT", Path: "/objects/{id}/tokens", Access: Write, Scope: "manage:meta", JSONBody: true, Summary: "create a token"}, h.createToken)
	r.HandleE(Route{Method: "PUT", Path: "/objects/bulk/tokens", Access: Write, Scope: "manage:meta", JSONBody: true, Summary: "create tokens, all or nothing"}, h.createTokensBulk)
	r.HandleE(Route{Method: "GET", Path: "/objects/{id}/tokens/{tokenId}", Access: Write, Scope: "read:meta", Summary: "one token, masked"}, h.token)
	r.HandleE(Route{Method: "POST", Path: "/objects/{id}/tokens/{tokenId}", Access: Write, Scope: "manage:meta", JSONBody: true, Summary: "describe a token"}, h.updateToken)
	r.HandleE(Route{Method: "DELETE", Path: "/objects/{id}/tokens/{tokenId}", Access: Write, Scope: "manage:meta", Summary: "delete a token"}, h.deleteToken)
	r.HandleE(Route{Method: "GET", Path: "/objects/{id}/comments", Access: Read, Scope: "read:meta", Summary: "comments, optionally at a date"}, h.comments)
	r.HandleE(Route{Method: "PUT", Path: "/objects/{id}/comments", Access: Write, Scope: "manage:meta", JSONBody: true, Summary: "add a comment"}, h.addComment)
	r.HandleE(Route{Method: "GET", Path: "/objects/{id}/comments/{commentId}", Access: Read, Scope: "read:meta", Summary: "one comment"}, h.comment)
	r.HandleE(Route{Method: "DELETE", Path: "/objects/{id}/comments/{commentId}", Access: Write, Scope: "manage:meta", Summary: "delete a comment"}, h.deleteComment)
}

// objectJSON is the Object shape of bbdata-v2.md §2.1.
type objectJSON struct {
	ID           uint32        `json:"id"`
	Name         string        `json:"name"`
	Description  *string       `json:"description"`
	Unit         unitJSON      `json:"unit"`
	Disabled     bool          `json:"disabled"`
	CreationDate JSONTime      `json:"creationdate"`
	Owner        userGroupJSON `json:"owner"`
	Tags         []string      `json:"tags"`
	Public       *publicState  `json:"public,omitempty"`

	role acl.Role // the caller's role on the object: which fields it sees (object_json.go)
}

func (h *objects) toJSON(o *catalog.Object) objectJSON {
	u, err := h.cat.Unit(o.Unit)
	if err != nil {
		u = catalog.Unit{Symbol: o.Unit, Type: o.Type}
	}
	owner := userGroupJSON{ID: o.Owner}
	if g, err := h.acl.Group(0, o.Owner); err == nil {
		owner.Name = g.Name
	}
	tags := o.Tags
	if tags == nil {
		tags = []string{}
	}
	return objectJSON{ID: o.ID, Name: o.Name, Description: o.Description,
		Unit:     unitJSON{Symbol: u.Symbol, Name: u.Name, Type: u.Type.String()},
		Disabled: o.Disabled, CreationDate: JSONTime{MS: o.Created.UnixMilli(), Set: true},
		Owner: owner, Tags: tags}
}

// roleOf is the caller's role on o in the field matrix ("" when the key view is gone).
func (h *objects) roleOf(ctx *fasthttp.RequestCtx, o *catalog.Object) acl.Role {
	enc, err := h.requestEncoder(ctx)
	if err != nil {
		return ""
	}
	return enc.role(o)
}

// requestEncoder is the object encoder of the request's caller.
func (h *objects) requestEncoder(ctx *fasthttp.RequestCtx) (*objectEncoder, error) {
	kv, err := h.keyView(ctx)
	if err != nil {
		return nil, err
	}
	return h.encoder(CallerIdentity(ctx), kv), nil
}

// keyView returns the caller's key view (built per request; never kept).
func (h *objects) keyView(ctx *fasthttp.RequestCtx) (*acl.KeyView, error) {
	kv, err := h.acl.KeyView(CallerIdentity(ctx).Key)
	if err != nil {
		return nil, FromDomain(err, "apikey")
	}
	return kv, nil
}

// readable returns object id when the caller may read it, else 404. The metadata is served as
// of the caller's instant when it reaches the object only through windowed shares.
func (h *objects) readable(ctx *fasthttp.RequestCtx, kv *acl.KeyView, id uint32) (catalog.Object, error) {
	if !kv.CanRead(id) {
		return catalog.Object{}, NotFound("object")
	}
	if t, ok := kv.AsOf(id); ok {
		o, err := h.cat.ObjectAsOf(id, t)
		if err != nil {
			return catalog.Object{}, NotFound("object")
		}
		return o, nil
	}
	o, err := h.cat.Object(id)
	if err != nil {
		return catalog.Object{}, NotFound("object")
	}
	return o, nil
}

// manageable parses {id} and returns the object when the caller may manage it, else 404 (the
// original looks objects up "with write access").
func (h *objects) manageable(ctx *fasthttp.RequestCtx) (catalog.Object, *Identity, error) {
	id, err := IDParam(ctx, "id")
	if err != nil {
		return catalog.Object{}, nil, err
	}
	kv, err := h.keyView(ctx)
	if err != nil {
		return catalog.Object{}, nil, err
	}
	if !kv.CanManage(id) {
		return catalog.Object{}, nil, NotFound("object")
	}
	o, err := h.cat.Object(id)
	if err != nil {
		return catalog.Object{}, nil, NotFound("object")
	}
	return o, CallerIdentity(ctx), nil
}

func (h *objects) list(ctx *fasthttp.RequestCtx) error {
	writable, err := BoolParam(ctx, "writable", false)
	if err != nil {
		return err
	}
	page, size, err := pageParams(ctx)
	if err != nil {
		return err
	}
	args := ctx.QueryArgs()
	var tags []string
	for _, v := range args.PeekMulti("tags") {
		for _, t := range strings.Split(string(v), ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	search := strings.ToLower(string(args.Peek("search")))
	kv, err := h.keyView(ctx)
	if err != nil {
		return err
	}
	var out []objectJSON
	enc := h.encoder(CallerIdentity(ctx), kv)
	kv.ForEachReadable(func(id uint32) bool {
		if writable && !kv.CanManage(id) {
			return true
		}
		o, err := h.readable(ctx, kv, id)
		if err != nil {
			return true
		}
		if search != "" && !strings.Contains(strings.ToLower(o.Name), search) {
			return true
		}
		if len(tags) > 0 && !anyTag(o.Tags, tags) {
			return true
		}
		out = append(out, enc.encode(&o))
		return true
	})
	if err := sortObjects(out, args.PeekMulti("sort")); err != nil {
		return err
	}
	lo, hi := page*size, page*size+size
	if lo > len(out) {
		lo = len(out)
	}
	if hi > len(out) || hi < lo {
		hi = len(out)
	}
	res := out[lo:hi]
	if res == nil {
		res = []objectJSON{}
	}
	WriteJSON(ctx, res)
	return nil
}

func anyTag(have, want []string) bool {
	for _, w := range want {
		for _, h := range have {
			if h == w {
				return true
			}
		}
	}
	return false
}

// sortObjects applies Spring's `sort=prop[,asc|desc]` (repeatable; first is primary).
func sortObjects(out []objectJSON, specs [][]byte) error {
	type key struct {
		prop string
		desc bool
	}
	var keys []key
	for _, s := range specs {
		parts := strings.Split(string(s), ",")
		k := key{prop: strings.TrimSpace(parts[0])}
		if len(parts) > 1 {
			switch strings.ToLower(strings.TrimSpace(parts[1])) {
			case "desc":
				k.desc = true
			case "asc", "":
			default:
				return WrongParams("sort direction %q: want asc or desc", parts[1])
			}
		}
		switch k.prop {
		case "id", "name", "creationdate", "disabled":
		default:
			return WrongParams("cannot sort objects by %q: want id, name, creationdate or disabled", k.prop)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil // already in id order
	}
	sort.SliceStable(out, func(i, j int) bool {
		for _, k := range keys {
			var c int
			a, b := &out[i], &out[j]
			switch k.prop {
			case "id":
				c = cmpU(a.ID, b.ID)
			case "name":
				c = strings.Compare(a.Name, b.Name)
			case "creationdate":
				c = cmpI(a.CreationDate.MS, b.CreationDate.MS)
			case "disabled":
				c = cmpB(a.Disabled, b.Disabled)
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	return nil
}

func cmpU(a, b uint32) int { return cmpI(int64(a), int64(b)) }
func cmpI(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
func cmpB(a, b bool) int {
	if a == b {
		return 0
	}
	if !a {
		return -1
	}
	return 1
}

// pageParams reads Spring's page (0-based) and size (default effectively unlimited).
func pageParams(ctx *fasthttp.RequestCtx) (page, size int, err error) {
	page, size = 0, 1_000_000
	args := ctx.QueryArgs()
	for name, dst := range map[string]*int{"page": &page, "size": &size} {
		if !args.Has(name) {
			continue
		}
		v, perr := strconv.Atoi(string(args.Peek(name)))
		if perr != nil {
			return 0, 0, Errorf(fasthttp.StatusBadRequest, ExcTypeMismatch,
				"Failed to convert value of type 'java.lang.String' to required type 'int'; For input string: \"%s\"", args.Peek(name))
		}
		*dst = v
	}
	if page < 0 {
		page = 0
	}
	if size < 1 {
		size = 1_000_000
	}
	return page, size, nil
}

// newObjectBody is the NewObject JSON body; pointers tell absent from empty.
type newObjectBody struct {
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	Owner       *int64    `json:"owner"`
	UnitSymbol  *string   `json:"unitSymbol"`
	Tags        *[]string `json:"tags"`
}

// validate reports bean-validation failures of one body under path prefix p ("" or
// "[3].").
func (b *newObjectBody) validate(fields map[string]string, p string) {
	if b.Name == nil {
		fields[p+"name"] = "must not be null"
	}
	if b.Owner == nil {
		fields[p+"owner"] = "must not be null"
	}
	if b.UnitSymbol == nil {
		fields[p+"unitSymbol"] = "must not be null"
	} else if *b.UnitSymbol == "" {
		fields[p+"unitSymbol"] = "must not be empty"
	}
	if b.Description != nil && len([]rune(*b.Description)) > catalog.MaxDescription {
		fields[p+"description"] = fmt.Sprintf("size must be between 0 and %d", catalog.MaxDescription)
	}
	if b.Name != nil {
		if n := len([]rune(*b.Name)); n < 1 || n > catalog.MaxObjectName {
			fields[p+"name"] = fmt.Sprintf("size must be between 1 and %d", catalog.MaxObjectName)
		}
	}
}

func (b *newObjectBody) toNew() catalog.NewObject {
	n := catalog.NewObject{Name: *b.Name, Description: b.Description, UnitSymbol: *b.UnitSymbol}
	if *b.Owner > 0 && *b.Owner <= int64(^uint32(0)) {
		n.Owner = uint32(*b.Owner)
	}
	if b.Tags != nil {
		n.Tags = *b.Tags
	}
	return n
}

func (h *objects) create(ctx *fasthttp.RequestCtx) error {
	var body newObjectBody
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	fields := map[string]string{}
	body.validate(fields, "")
	if len(fields) > 0 {
		return Validation(fields)
	}
	created, err := h.createObjects(ctx, []catalog.NewObject{body.toNew()})
	if err != nil {
		return err
	}
	enc, err := h.requestEncoder(ctx)
	if err != nil {
		return err
	}
	WriteJSON(ctx, enc.encode(&created[0]))
	return nil
}

func (h *objects) createBulk(ctx *fasthttp.RequestCtx) error {
	var bodies []newObjectBody
	if err := DecodeJSON(ctx, &bodies, true); err != nil {
		return err
	}
	if len(bodies) == 0 {
		return WrongParams("array body must contain at least one item.")
	}
	fields := map[string]string{}
	for i := range bodies {
		bodies[i].validate(fields, fmt.Sprintf("[%d].", i))
	}
	if len(fields) > 0 {
		return Validation(fields)
	}
	news := make([]catalog.NewObject, len(bodies))
	for i := range bodies {
		if *bodies[i].Owner != *bodies[0].Owner {
			return WrongParams("cannot create objects in bulk with different owners")
		}
		news[i] = bodies[i].toNew()
	}
	created, err := h.createObjects(ctx, news)
	if err != nil {
		return err
	}
	enc, err := h.requestEncoder(ctx)
	if err != nil {
		return err
	}
	out := make([]objectJSON, len(created))
	for i := range created {
		out[i] = enc.encode(&created[i])
	}
	WriteJSON(ctx, out)
	return nil
}

// createObjects creates objects and their tsdb series in one Pebble batch.
func (h *objects) createObjects(ctx *fasthttp.RequestCtx, news []catalog.NewObject) ([]catalog.Object, error) {
	id := CallerIdentity(ctx)
	if !keyManagesMeta(h.acl, id.Key) {
		return nil, Forbidden("this apikey may not create objects")
	}
	created, err := h.acl.CreateObjects(id.Principal.ID, news, func(b *pebble.Batch, objs []catalog.Object) error {
		for i := range objs {
			t, err := ValueTypeOf(objs[i].Type)
			if err != nil {
				return err
			}
			if err := h.db.CreateSeries(b, objs[i].ID, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		var ve *acl.ValidationError
		if errors.As(err, &ve) && len(ve.Fields) == 0 && strings.Contains(ve.Msg, "unit") {
			return nil, WrongParams("%s", ve.Msg)
		}
		if errors.Is(err, acl.ErrNotFound) {
			return nil, Errorf(fasthttp.StatusNotFound, ExcItemNotFound, "UserGroup ('%d', admin=true) not found.", news[0].Owner)
		}
		return nil, FromDomain(err, "object")
	}
	return created, nil
}

// keyManagesMeta reports whether the key may manage metadata at all (writable, manage:meta).
func keyManagesMeta(a *acl.ACL, k *acl.Apikey) bool {
	return a.RequireScope(k, acl.Scope{Verb: acl.VerbManage, Module: acl.ModuleMeta}) == nil
}

// ValueTypeOf maps a catalog type to the tsdb value type.
func ValueTypeOf(t catalog.Type) (tsdb.ValueType, error) {
	switch t {
	case catalog.TypeFloat:
		return tsdb.Float, nil
	case catalog.TypeInt:
		return tsdb.Int, nil
	case catalog.TypeBool:
		return tsdb.Bool, nil
	case catalog.TypeString:
		return tsdb.String, nil
	}
	return 0, fmt.Errorf("api: unknown value type %q", t)
}

func (h *objects) get(ctx *fasthttp.RequestCtx) error {
	id, err := IDParam(ctx, "id")
	if err != nil {
		return err
	}
	kv, err := h.keyView(ctx)
	if err != nil {
		return err
	}
	o, err := h.readable(ctx, kv, id)
	if err != nil {
		return err
	}
	WriteJSON(ctx, h.encoder(CallerIdentity(ctx), kv).encode(&o))
	return nil
}

func (h *objects) update(ctx *fasthttp.RequestCtx) error {
	o, _, err := h.manageable(ctx)
	if err != nil {
		return err
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
		if n := len([]rune(*body.Name)); n < 1 || n > catalog.MaxObjectName {
			fields["name"] = fmt.Sprintf("size must be between 1 and %d", catalog.MaxObjectName)
		}
	}
	if body.Description != nil && len([]rune(*body.Description)) > catalog.MaxDescription {
		fields["description"] = fmt.Sprintf("size must be between 0 and %d", catalog.MaxDescription)
	}
	if len(fields) > 0 {
		return Validation(fields)
	}
	if h.acl.IsRestricted(CallerIdentity(ctx).Principal.ID) {
		return Forbidden("restricted principals cannot change objects")
	}
	if body.Name != nil || body.Description != nil {
		if o, err = h.cat.UpdateObject(o.ID, body.Name, body.Description); err != nil && !errors.Is(err, catalog.ErrUnchanged) {
			return FromDomain(err, "object")
		}
		o, _ = h.cat.Object(o.ID)
	}
	enc, err := h.requestEncoder(ctx)
	if err != nil {
		return err
	}
	WriteJSON(ctx, enc.encode(&o))
	return nil
}

func (h *objects) delete(ctx *fasthttp.RequestCtx) error {
	o, id, err := h.manageable(ctx)
	if err != nil {
		return err
	}
	if n, err := h.db.Count(o.ID); err == nil && n > 0 {
		return Forbidden("This object has values associated to it. It cannot be deleted.")
	}
	err = h.acl.DeleteObject(id.Principal.ID, o.ID, func(b *pebble.Batch) error { return nil })
	if err != nil {
		return FromDomain(err, "object")
	}
	if err := h.deleteSeries(o.ID); err != nil {
		return err
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}

func (h *objects) groupsOf(ctx *fasthttp.RequestCtx) error {
	id, err := IDParam(ctx, "id")
	if err != nil {
		return err
	}
	kv, err := h.keyView(ctx)
	if err != nil {
		return err
	}
	if _, err := h.readable(ctx, kv, id); err != nil {
		return err
	}
	out := []objectGroupJSON{}
	for _, gid := range h.cat.GroupsOf(id) {
		if g, err := h.cat.Group(gid); err == nil {
			out = append(out, h.groupJSON(&g))
		}
	}
	WriteJSON(ctx, out)
	return nil
}

func (h *objects) groupJSON(g *catalog.ObjectGroup) objectGroupJSON {
	owner := userGroupJSON{ID: g.Owner}
	if ug, err := h.acl.Group(0, g.Owner); err == nil {
		owner.Name = ug.Name
	}
	return objectGroupJSON{ID: g.ID, Name: g.Name, Description: g.Description, Owner: owner}
}

// tagsParam reads the required `tags` parameter (comma list or repeated).
func tagsParam(ctx *fasthttp.RequestCtx) ([]string, error) {
	args := ctx.QueryArgs()
	if !args.Has("tags") {
		return nil, Errorf(fasthttp.StatusBadRequest, ExcMissingParam, "Required List parameter 'tags' is not present")
	}
	var tags []string
	for _, v := range args.PeekMulti("tags") {
		for _, t := range strings.Split(string(v), ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return tags, nil
}

func (h *objects) addTags(ctx *fasthttp.RequestCtx) error    { return h.changeTags(ctx, true) }
func (h *objects) removeTags(ctx *fasthttp.RequestCtx) error { return h.changeTags(ctx, false) }

func (h *objects) changeTags(ctx *fasthttp.RequestCtx, add bool) error {
	o, id, err := h.manageable(ctx)
	if err != nil {
		return err
	}
	tags, err := tagsParam(ctx)
	if err != nil {
		return err
	}
	if h.acl.IsRestricted(id.Principal.ID) {
		return Forbidden("restricted principals cannot change tags")
	}
	if add {
		_, err = h.cat.AddTags(o.ID, tags)
	} else {
		_, err = h.cat.RemoveTags(o.ID, tags)
	}
	Modified(ctx, err, "object")
	return nil
}

func (h *objects) enable(ctx *fasthttp.RequestCtx) error  { return h.setEnabled(ctx, true) }
func (h *objects) disable(ctx *fasthttp.RequestCtx) error { return h.setEnabled(ctx, false) }

func (h *objects) setEnabled(ctx *fasthttp.RequestCtx, enabled bool) error {
	o, id, err := h.manageable(ctx)
	if err != nil {
		return err
	}
	Modified(ctx, h.acl.SetObjectEnabled(id.Principal.ID, o.ID, enabled), "object")
	return nil
}

// tokenJSON is the Token shape; the secret is whole only when just created (API.md §2).
type tokenJSON struct {
	ID          uint32  `json:"id"`
	ObjectID    uint32  `json:"objectId"`
	Token       string  `json:"token"`
	Description *string `json:"description"`
}

// toTokenJSON renders a token for a caller of the given role on its object: the `token` field
// only where the field matrix lets the role read it, whole only in the response that creates
// it, masked (first 4 characters + "…") afterwards (API.md §2).
func toTokenJSON(t *acl.Token, role acl.Role) tokenJSON {
	j := tokenJSON{ID: t.ID, ObjectID: t.Object, Description: t.Description}
	if acl.CanReadField("token", "token", role) {
		j.Token = t.Secret
		if j.Token == "" {
			j.Token = t.Prefix + "…"
		}
	}
	return j
}

func (h *objects) tokens(ctx *fasthttp.RequestCtx) error {
	o, id, err := h.manageable(ctx)
	if err != nil {
		return err
	}
	ts, err := h.acl.Tokens(id.Principal.ID, o.ID)
	if err != nil {
		return FromDomain(err, "object")
	}
	role := h.roleOf(ctx, &o)
	out := make([]tokenJSON, len(ts))
	for i := range ts {
		out[i] = toTokenJSON(&ts[i], role)
	}
	WriteJSON(ctx, out)
	return nil
}

func (h *objects) token(ctx *fasthttp.RequestCtx) error {
	o, id, err := h.manageable(ctx)
	if err != nil {
		return err
	}
	tid, err := IDParam(ctx, "tokenId")
	if err != nil {
		return err
	}
	ts, err := h.acl.Tokens(id.Principal.ID, o.ID)
	if err != nil {
		return FromDomain(err, "object")
	}
	for i := range ts {
		if ts[i].ID == tid {
			WriteJSON(ctx, toTokenJSON(&ts[i], h.roleOf(ctx, &o)))
			return nil
		}
	}
	return NotFound("token")
}

type descriptionBody struct {
	Description *string `json:"description"`
}

func (h *objects) createToken(ctx *fasthttp.RequestCtx) error {
	o, id, err := h.manageable(ctx)
	if err != nil {
		return err
	}
	var body descriptionBody
	if err := DecodeJSON(ctx, &body, false); err != nil {
		return err
	}
	if h.acl.IsRestricted(id.Principal.ID) {
		return Forbidden("restricted principals cannot create tokens")
	}
	ts, err := h.acl.CreateTokens(id.Principal.ID, []acl.NewToken{{Object: o.ID, Description: body.Description}})
	if err != nil {
		return FromDomain(err, "object")
	}
	WriteJSON(ctx, toTokenJSON(&ts[0], h.roleOf(ctx, &o)))
	return nil
}

func (h *objects) createTokensBulk(ctx *fasthttp.RequestCtx) error {
	var bodies []struct {
		ObjectID    *int64  `json:"objectId"`
		Description *string `json:"description"`
	}
	if err := DecodeJSON(ctx, &bodies, true); err != nil {
		return err
	}
	if len(bodies) == 0 {
		return WrongParams("array body must contain at least one item.")
	}
	fields := map[string]string{}
	for i, b := range bodies {
		p := fmt.Sprintf("[%d].", i)
		if b.ObjectID == nil {
			fields[p+"objectId"] = "must not be null"
		} else if *b.ObjectID < 0 {
			fields[p+"objectId"] = "objectId must be positive."
		}
		if b.Description != nil && len([]rune(*b.Description)) > catalog.MaxDescription {
			fields[p+"description"] = fmt.Sprintf("size must be between 0 and %d", catalog.MaxDescription)
		}
	}
	if len(fields) > 0 {
		return Validation(fields)
	}
	id := CallerIdentity(ctx)
	kv, err := h.keyView(ctx)
	if err != nil {
		return err
	}
	if h.acl.IsRestricted(id.Principal.ID) {
		return Forbidden("restricted principals cannot create tokens")
	}
	news := make([]acl.NewToken, len(bodies))
	for i, b := range bodies {
		oid := uint32(0)
		if *b.ObjectID <= int64(^uint32(0)) {
			oid = uint32(*b.ObjectID)
		}
		if !kv.CanManage(oid) {
			return NotFound("object")
		}
		news[i] = acl.NewToken{Object: oid, Description: b.Description}
	}
	ts, err := h.acl.CreateTokens(id.Principal.ID, news)
	if err != nil {
		return FromDomain(err, "object")
	}
	enc := h.encoder(id, kv)
	out := make([]tokenJSON, len(ts))
	for i := range ts {
		role := acl.Role("")
		if o, err := h.cat.Object(ts[i].Object); err == nil {
			role = enc.role(&o)
		}
		out[i] = toTokenJSON(&ts[i], role)
	}
	WriteJSON(ctx, out)
	return nil
}

func (h *objects) updateToken(ctx *fasthttp.RequestCtx) error {
	o, id, err := h.manageable(ctx)
	if err != nil {
		return err
	}
	tid, err := IDParam(ctx, "tokenId")
	if err != nil {
		return err
	}
	var body descriptionBody
	if err := DecodeJSON(ctx, &body, false); err != nil {
		return err
	}
	if body.Description != nil && len([]rune(*body.Description)) > catalog.MaxDescription {
		return Validation(map[string]string{"description": fmt.Sprintf("size must be between 0 and %d", catalog.MaxDescription)})
	}
	if h.acl.IsRestricted(id.Principal.ID) {
		return Forbidden("restricted principals cannot change tokens")
	}
	t, err := h.acl.UpdateToken(id.Principal.ID, o.ID, tid, body.Description)
	if err != nil {
		return FromDomain(err, "token")
	}
	WriteJSON(ctx, toTokenJSON(&t, h.roleOf(ctx, &o)))
	return nil
}

func (h *objects) deleteToken(ctx *fasthttp.RequestCtx) error {
	o, id, err := h.manageable(ctx)
	if err != nil {
		return err
	}
	tid, err := IDParam(ctx, "tokenId")
	if err != nil {
		return err
	}
	if h.acl.IsRestricted(id.Principal.ID) {
		return Forbidden("restricted principals cannot delete tokens")
	}
	Modified(ctx, h.acl.DeleteToken(id.Principal.ID, o.ID, tid), "token")
	return nil
}

// commentJSON is the Comment shape of bbdata-v2.md §2.1.
type commentJSON struct {
	ID       uint32   `json:"id"`
	ObjectID uint32   `json:"objectId"`
	From     JSONTime `json:"from"`
	To       JSONTime `json:"to"`
	Comment  string   `json:"comment"`
}

func toCommentJSON(c *catalog.Comment) commentJSON {
	return commentJSON{ID: c.ID, ObjectID: c.ObjectID, From: JSONTime{MS: c.From.UnixMilli(), Set: true},
		To: JSONTime{MS: c.To.UnixMilli(), Set: true}, Comment: c.Text}
}

// readableParam parses {id} and returns the object if the caller may read it, else 404.
func (h *objects) readableParam(ctx *fasthttp.RequestCtx) (catalog.Object, error) {
	id, err := IDParam(ctx, "id")
	if err != nil {
		return catalog.Object{}, err
	}
	kv, err := h.keyView(ctx)
	if err != nil {
		return catalog.Object{}, err
	}
	return h.readable(ctx, kv, id)
}

func (h *objects) comments(ctx *fasthttp.RequestCtx) error {
	o, err := h.readableParam(ctx)
	if err != nil {
		return err
	}
	var at int64
	hasAt := ctx.QueryArgs().Has("forDate")
	if hasAt {
		if at, err = ParseDateTime(ctx.QueryArgs().Peek("forDate")); err != nil {
			return Errorf(fasthttp.StatusBadRequest, ExcTypeMismatch, "forDate: %v", err)
		}
	}
	out := []commentJSON{}
	for _, c := range h.cat.Comments(o.ID) {
		if hasAt && (c.From.UnixMilli() > at || c.To.UnixMilli() < at) {
			continue
		}
		out = append(out, toCommentJSON(&c))
	}
	WriteJSON(ctx, out)
	return nil
}

func (h *objects) comment(ctx *fasthttp.RequestCtx) error {
	o, err := h.readableParam(ctx)
	if err != nil {
		return err
	}
	cid, err := IDParam(ctx, "commentId")
	if err != nil {
		return err
	}
	for _, c := range h.cat.Comments(o.ID) {
		if c.ID == cid {
			WriteJSON(ctx, toCommentJSON(&c))
			return nil
		}
	}
	return NotFound("comment")
}

func (h *objects) addComment(ctx *fasthttp.RequestCtx) error {
	o, err := h.readableParam(ctx)
	if err != nil {
		return err
	}
	var body struct {
		From    JSONTime `json:"from"`
		To      JSONTime `json:"to"`
		Comment *string  `json:"comment"`
	}
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	fields := map[string]string{}
	if !body.From.Set {
		fields["from"] = "must not be null"
	}
	if !body.To.Set {
		fields["to"] = "must not be null"
	}
	if body.Comment == nil || strings.TrimSpace(*body.Comment) == "" {
		fields["comment"] = "must not be blank"
	}
	if len(fields) > 0 {
		return Validation(fields)
	}
	if body.From.MS > body.To.MS {
		return WrongParams("from must be before to")
	}
	id := CallerIdentity(ctx)
	if h.acl.IsRestricted(id.Principal.ID) {
		return Forbidden("restricted principals cannot comment")
	}
	c, err := h.cat.AddComment(o.ID, time.UnixMilli(body.From.MS), time.UnixMilli(body.To.MS), *body.Comment, id.Principal.ID)
	if err != nil {
		return FromDomain(err, "object")
	}
	WriteJSON(ctx, toCommentJSON(&c))
	return nil
}

func (h *objects) deleteComment(ctx *fasthttp.RequestCtx) error {
	o, err := h.readableParam(ctx)
	if err != nil {
		return err
	}
	cid, err := IDParam(ctx, "commentId")
	if err != nil {
		return err
	}
	if h.acl.IsRestricted(CallerIdentity(ctx).Principal.ID) {
		return Forbidden("restricted principals cannot delete comments")
	}
	err = h.cat.DeleteComment(o.ID, cid)
	Removed(ctx, err, "comment")
	return nil
}
