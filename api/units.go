package api

import (
	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/catalog"
)

// catalogRoutes serves the unit table (the object routes join it with the api issue).
type catalogRoutes struct {
	cat *catalog.Catalog
}

func (h *catalogRoutes) register(r *Router) {
	r.Handle(Route{Method: "GET", Path: "/units", Access: Public, Summary: "the unit table"}, h.units)
}

type unitJSON struct {
	Symbol string `json:"symbol"`
	Name   string `json:"name"`
	Type   string `json:"type"`
}

func (h *catalogRoutes) units(ctx *fasthttp.RequestCtx) {
	us := h.cat.Units()
	out := make([]unitJSON, len(us))
	for i, u := range us {
		out[i] = unitJSON{Symbol: u.Symbol, Name: u.Name, Type: u.Type.String()}
	}
	WriteJSON(ctx, out)
}
