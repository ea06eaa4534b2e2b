package api

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/acl"
)

// Access says which credentials a route needs (bbdata-v2.md §2 legend: P, R, W).
type Access uint8

const (
	// Public routes take no credentials.
	Public Access = iota
	// Read routes take any valid apikey (read-only keys included).
	Read
	// Write routes take a writable apikey; a read-only key gets 403 before any lookup.
	Write
)

// String returns "public", "read" or "write".
func (a Access) String() string {
	switch a {
	case Public:
		return "public"
	case Read:
		return "read"
	case Write:
		return "write"
	}
	return fmt.Sprintf("Access(%d)", a)
}

// Route declares one endpoint: what it needs from a caller and what it consumes. Every route
// is registered with its declaration so that authentication, scopes (API.md §3.4) and
// docs/openapi.yaml all read one table.
type Route struct {
	Method string
	Path   string // fasthttp/router pattern, e.g. /objects/{id}
	Access Access
	// Scope is the scope the route needs (`read:data`, `manage:meta`, …), "" for none.
	Scope string
	// RestrictedOK lets restricted principals call a changing route (their own apikeys, writing
	// values of linked objects); every other non-GET route answers them 403 (API.md §3.3).
	RestrictedOK bool
	// QueryCredentials allows `?u=<id>&p=<secret>` (Influx 1.x writers; API.md §4).
	QueryCredentials bool
	// JSONBody marks routes whose body, when present, must be application/json (else 415).
	JSONBody bool
	// Summary is a one-line description for docs.
	Summary string

	scope acl.Scope // Scope parsed at registration
}

// Router is the one route table of a tsgate node: api, ingest and query register into it.
type Router struct {
	r       *router.Router
	routes  []Route
	metrics *metrics.Set
	server  *Server
}

func newRouter(s *Server) *Router {
	r := router.New()
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = true
	r.HandleOPTIONS = false // OPTIONS is answered before routing (CORS, never authenticated)
	r.NotFound = func(ctx *fasthttp.RequestCtx) {
		WriteError(ctx, &Error{Status: fasthttp.StatusNotFound, Exception: ExcNotFound,
			Details: "No handler found for " + string(ctx.Method()) + " " + string(ctx.Path())})
	}
	r.MethodNotAllowed = func(ctx *fasthttp.RequestCtx) {
		WriteError(ctx, Errorf(fasthttp.StatusMethodNotAllowed, ExcMethodNotSupported,
			"Request method '%s' not supported", ctx.Method()))
	}
	return &Router{r: r, metrics: s.metrics, server: s}
}

// Handle registers h for route. It panics on a duplicate or malformed registration, which is
// a programmer error found at start-up.
func (rt *Router) Handle(route Route, h fasthttp.RequestHandler) {
	if route.Method == "" || !strings.HasPrefix(route.Path, "/") {
		panic(fmt.Sprintf("BUG: api: bad route %+v", route))
	}
	if route.Scope != "" {
		sc, err := acl.ParseScope(route.Scope)
		if err != nil || sc.Resource != "" && sc.Resource != "write" {
			panic(fmt.Sprintf("BUG: api: route %s %s declares a bad scope %q", route.Method, route.Path, route.Scope))
		}
		route.scope = sc
	}
	for _, r := range rt.routes {
		if r.Method == route.Method && r.Path == route.Path {
			panic(fmt.Sprintf("BUG: api: route %s %s registered twice", r.Method, r.Path))
		}
	}
	rt.routes = append(rt.routes, route)
	label := fmt.Sprintf(`{method=%q,route=%q}`, route.Method, route.Path)
	requests := rt.metrics.NewCounter("tsgate_http_requests_total" + label)
	duration := rt.metrics.NewHistogram("tsgate_http_request_duration_seconds" + label)
	decl := &route
	rt.r.Handle(route.Method, route.Path, func(ctx *fasthttp.RequestCtx) {
		start := time.Now()
		requests.Inc()
		ctx.SetUserValue(ctxKeyRoute, decl)
		if route.JSONBody && !jsonContentType(ctx) {
			WriteError(ctx, Errorf(fasthttp.StatusUnsupportedMediaType, ExcMediaTypeUnsupported,
				"Content type '%s' not supported", ctx.Request.Header.ContentType()))
		} else if err := rt.server.authenticate(ctx, decl); err != nil {
			WriteError(ctx, err)
		} else if err := rt.server.guardWrite(decl); err != nil {
			WriteError(ctx, err)
		} else {
			h(ctx)
		}
		if code := ctx.Response.StatusCode(); code == fasthttp.StatusUnauthorized || code == fasthttp.StatusForbidden ||
			(code == fasthttp.StatusNotFound && decl.Access != Public) {
			rt.server.recordDenied(ctx, decl, code)
		}
		duration.UpdateDuration(start)
	})
}

// HandleE registers an error-returning handler: a returned error is answered through
// WriteError, so handlers return their errors instead of writing them.
func (rt *Router) HandleE(route Route, h func(ctx *fasthttp.RequestCtx) error) {
	rt.Handle(route, func(ctx *fasthttp.RequestCtx) {
		if err := h(ctx); err != nil {
			WriteError(ctx, err)
		}
	})
}

// Routes returns the registered routes sorted by path then method.
func (rt *Router) Routes() []Route {
	out := append([]Route(nil), rt.routes...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// jsonContentType reports whether a request with a body declares a JSON content type. A
// request without a body passes (the handler decides whether a body is required).
func jsonContentType(ctx *fasthttp.RequestCtx) bool {
	if len(ctx.Request.Body()) == 0 && ctx.Request.Header.ContentLength() <= 0 {
		return true
	}
	ct := string(ctx.Request.Header.ContentType())
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.ToLower(strings.TrimSpace(ct))
	return ct == "application/json" || (strings.HasPrefix(ct, "application/") && strings.HasSuffix(ct, "+json"))
}
