package api

import (
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"
)

// Types are the value types of BBData (`GET /types`).
var Types = []string{"bool", "float", "int", "string"}

func (s *Server) registerCore() {
	s.router.Handle(Route{Method: "GET", Path: "/about", Access: Public, Summary: "server name, version and time"}, s.about)
	s.router.Handle(Route{Method: "GET", Path: "/health", Access: Public, Summary: "200 when the store is open"}, s.health)
	s.router.Handle(Route{Method: "GET", Path: "/metrics", Access: Public, Summary: "Prometheus metrics"}, s.exposeMetrics)
	s.router.Handle(Route{Method: "GET", Path: "/types", Access: Public, Summary: "value types"}, func(ctx *fasthttp.RequestCtx) {
		b := append(ctx.Response.Body()[:0], '[')
		for i, t := range Types {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, t)
		}
		WriteJSONBody(ctx, append(b, ']'))
	})
}

// WriteJSONBody answers 200 with body as application/json.
func WriteJSONBody(ctx *fasthttp.RequestCtx, body []byte) {
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json")
	ctx.Response.SetBodyRaw(body)
}

// about answers in the original's /about shape (bbdata-v2.md §2.2), keys sorted.
func (s *Server) about(ctx *fasthttp.RequestCtx) {
	version := s.opts.Version
	if version == "" {
		version = "dev"
	}
	commit := s.opts.Commit
	if commit == "" {
		commit = "unknown"
	}
	b := ctx.Response.Body()[:0]
	b = append(b, `{"build":{"artifact":"tsgate","group":"tsgate","name":"tsgate","time":`...)
	b = appendJSONTime(b, s.started)
	b = append(b, `,"version":`...)
	b = AppendJSONString(b, version)
	b = append(b, `},"git":{"branch":"main","commit":`...)
	b = AppendJSONString(b, commit)
	b = append(b, `},"instance-name":`...)
	b = AppendJSONString(b, s.hostname)
	b = append(b, `,"repo-url":"https://github.com/tsgate/tsgate","server-time":`...)
	b = appendJSONTime(b, time.Now())
	b = append(b, '}')
	WriteJSONBody(ctx, b)
}

func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, '"')
}

func (s *Server) health(ctx *fasthttp.RequestCtx) {
	if s.opts.Healthy != nil && !s.opts.Healthy() {
		WriteError(ctx, Errorf(fasthttp.StatusServiceUnavailable, ExcServiceUnavailable, "store is not open"))
		return
	}
	WriteJSONBody(ctx, append(ctx.Response.Body()[:0], `{"status":"ok"}`...))
}

func (s *Server) exposeMetrics(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	s.metrics.WritePrometheus(ctx)
	metrics.WriteProcessMetrics(ctx)
}
