package api

import (
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/acl"

	"github.com/tsgate/tsgate/catalog"
)

// catalogRoutes serves the unit table (the object routes join it with the api issue).
type catalogRoutes struct {
	cat *catalog.Catalog
	acl *acl.ACL
}

func (h *catalogRoutes) register(r *Router) {
	r.HandleE(Route{Method: "GET", Path: "/units", Access: Public, Summary: "the unit table"}, h.units)
	r.HandleE(Route{Method: "POST", Path: "/units", Access: Write, Scope: "manage:meta", JSONBody: true, Summary: "add a unit (superusers; units are global)"}, h.createUnit)
}

type unitJSON struct {
	Symbol string `json:"symbol"`
	Name   string `json:"name"`
	Type   string `json:"type"`
}

func (h *catalogRoutes) units(ctx *fasthttp.RequestCtx) error {
	us := h.cat.Units()
	out := make([]unitJSON, len(us))
	for i, u := range us {
		out[i] = unitJSON{Symbol: u.Symbol, Name: u.Name, Type: u.Type.String()}
	}
	WriteJSON(ctx, out)
	return nil
}

func (h *catalogRoutes) createUnit(ctx *fasthttp.RequestCtx) error {
	var body struct {
		Symbol *string `json:"symbol"`
		Name   *string `json:"name"`
		Type   *string `json:"type"`
	}
	if err := DecodeJSON(ctx, &body, true); err != nil {
		return err
	}
	fields := map[string]string{}
	check := func(field string, v *string, max int) {
		switch {
		case v == nil:
			fields[field] = "must not be null"
		case *v == "":
			fields[field] = "must not be empty"
		case len([]rune(*v)) > max:
			fields[field] = fmt.Sprintf("size must be between 1 and %d", max)
		}
	}
	check("symbol", body.Symbol, 10)
	check("name", body.Name, 20)
	check("type", body.Type, 45)
	if len(fields) > 0 {
		return Validation(fields)
	}
	if !h.acl.IsSuperuser(CallerIdentity(ctx).Principal.ID) {
		return Forbidden("only superusers create units (units are global)")
	}
	t, err := catalog.ParseType(*body.Type)
	if err != nil {
		return WrongParams("type '%s' does not exist. Allowed types: %v", *body.Type, Types)
	}
	u, err := h.cat.CreateUnit(catalog.Unit{Symbol: *body.Symbol, Name: *body.Name, Type: t})
	if err != nil {
		return FromDomain(err, "unit")
	}
	WriteJSON(ctx, unitJSON{Symbol: u.Symbol, Name: u.Name, Type: u.Type.String()})
	return nil
}
