package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"
)

type ctxKey int

const (
	ctxKeyRoute ctxKey = iota
	ctxKeyRequestID
	ctxKeyInternalErr
	ctxKeyCaller
)

// Options configures a Server. The zero value works.
type Options struct {
	// Logger receives access errors and 5xx causes; nil discards.
	Logger *slog.Logger
	// Metrics is the set /metrics exposes (with process metrics); nil creates one.
	Metrics *metrics.Set
	// Version and Commit are shown by /about.
	Version, Commit string
	// MaxBodyBytes caps request bodies (413 beyond); 0 means 32 MiB (API.md §3.1).
	MaxBodyBytes int
	// Healthy reports whether the store is open; nil means always.
	Healthy func() bool
	// Authenticator checks credentials on non-public routes; nil refuses them all (401/403).
	Authenticator Authenticator
	// WriteGuard, when set, is asked before every changing request (not GET/HEAD); an error
	// answers it (e.g. 503 when the disk is nearly full) before anything is written.
	WriteGuard func() error
	// ReadTimeout and IdleTimeout of connections; 0 means 60 s and 120 s.
	ReadTimeout, IdleTimeout time.Duration
}

// Authenticator resolves a request's credentials for a route (bbdata-v2.md §1.1 check order).
// It returns the caller, stored in the request context for handlers, or an *Error.
type Authenticator interface {
	Authenticate(ctx *fasthttp.RequestCtx, route *Route) (any, error)
}

// Server is tsgate's HTTP server: one fasthttp server, one router, one error writer.
//
// Register routes through Router() before Serve. Shutdown stops accepting, waits for
// in-flight requests and returns; it does not close the stores (their owner does, after).
type Server struct {
	opts     Options
	log      *slog.Logger
	metrics  *metrics.Set
	router   *Router
	fs       *fasthttp.Server
	started  time.Time
	hostname string

	panics   *metrics.Counter
	errors5x *metrics.Counter
}

// New returns a Server with the core routes (/about, /health, /metrics, /types) registered.
func New(opts Options) *Server {
	s := &Server{opts: opts, log: opts.Logger, metrics: opts.Metrics, started: time.Now()}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.metrics == nil {
		s.metrics = metrics.NewSet()
	}
	if s.opts.MaxBodyBytes <= 0 {
		s.opts.MaxBodyBytes = 32 << 20
	}
	if s.opts.ReadTimeout <= 0 {
		s.opts.ReadTimeout = 60 * time.Second
	}
	if s.opts.IdleTimeout <= 0 {
		s.opts.IdleTimeout = 120 * time.Second
	}
	s.hostname, _ = os.Hostname()
	s.panics = s.metrics.NewCounter("tsgate_http_panics_total")
	s.errors5x = s.metrics.NewCounter("tsgate_http_errors_5xx_total")
	s.router = newRouter(s)
	s.fs = &fasthttp.Server{
		Handler:               s.serveHTTP,
		ErrorHandler:          s.transportError,
		Name:                  "tsgate",
		MaxRequestBodySize:    s.opts.MaxBodyBytes,
		ReadBufferSize:        16 << 10,
		ReadTimeout:           s.opts.ReadTimeout,
		IdleTimeout:           s.opts.IdleTimeout,
		NoDefaultServerHeader: false,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		Logger:                fasthttpLogger{s.log},
	}
	s.registerCore()
	return s
}

// Router returns the route table for ingest, query and the management API to register into.
func (s *Server) Router() *Router { return s.router }

// Metrics returns the metrics set exposed by /metrics.
func (s *Server) Metrics() *metrics.Set { return s.metrics }

// Handler returns the full request handler (CORS, OPTIONS, recovery, routing), for tests that
// serve it on their own listener.
func (s *Server) Handler() fasthttp.RequestHandler { return s.serveHTTP }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.fs.Serve(ln) }

// Shutdown stops accepting connections and waits for in-flight requests to finish or ctx to
// end.
func (s *Server) Shutdown(ctx context.Context) error { return s.fs.ShutdownWithContext(ctx) }

// Caller returns what the Authenticator resolved for this request (nil on public routes).
func Caller(ctx *fasthttp.RequestCtx) any { return ctx.UserValue(ctxKeyCaller) }

// MatchedRoute returns the declaration of the route serving this request, or nil.
func MatchedRoute(ctx *fasthttp.RequestCtx) *Route {
	r, _ := ctx.UserValue(ctxKeyRoute).(*Route)
	return r
}

// DeniedRecorder is implemented by an Authenticator that audits denied requests.
type DeniedRecorder interface {
	RecordDenied(ctx *fasthttp.RequestCtx, route *Route, status int)
}

func (s *Server) recordDenied(ctx *fasthttp.RequestCtx, route *Route, status int) {
	if r, ok := s.opts.Authenticator.(DeniedRecorder); ok {
		r.RecordDenied(ctx, route, status)
	}
}

func (s *Server) guardWrite(route *Route) error {
	if s.opts.WriteGuard == nil || route.Method == "GET" || route.Method == "HEAD" {
		return nil
	}
	return s.opts.WriteGuard()
}

func (s *Server) authenticate(ctx *fasthttp.RequestCtx, route *Route) error {
	if route.Access == Public {
		return nil
	}
	if s.opts.Authenticator == nil {
		return &Error{Status: fasthttp.StatusUnauthorized, Exception: ExcUnauthorized,
			Details: "This resource is protected. Missing authorization headers: bbuser=<user_id:int>, bbtoken=<token:string>"}
	}
	c, err := s.opts.Authenticator.Authenticate(ctx, route)
	if err != nil {
		return err
	}
	ctx.SetUserValue(ctxKeyCaller, c)
	return nil
}

const corsAllowHeaders = "Authorization, bbuser, bbtoken, Content-Type, Content-Encoding"

func (s *Server) serveHTTP(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Retry-After")
	if ctx.IsOptions() {
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH")
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", "3600")
		ctx.SetStatusCode(fasthttp.StatusOK)
		return
	}
	defer func() {
		if v := recover(); v != nil {
			s.panics.Inc()
			buf := make([]byte, 8<<10)
			buf = buf[:runtime.Stack(buf, false)]
			WriteError(ctx, fmt.Errorf("panic: %v\n%s", v, buf))
		}
		s.finish(ctx)
	}()
	s.router.r.Handler(ctx)
}

// finish logs what went wrong in a request once, after the response is decided.
func (s *Server) finish(ctx *fasthttp.RequestCtx) {
	if ctx.Response.StatusCode() < 500 {
		return
	}
	s.errors5x.Inc()
	if cause, ok := ctx.UserValue(ctxKeyInternalErr).(error); ok {
		s.log.Error("request failed", "request_id", requestID(ctx), "method", string(ctx.Method()),
			"path", string(ctx.Path()), "status", ctx.Response.StatusCode(), "err", cause)
	}
}

// transportError answers errors fasthttp raises before a handler runs (oversized body or
// headers, malformed requests) in the same JSON shape.
func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	ctx.Response.Header.Set("Access-Control-Allow-Origin", "*")
	var he *fasthttp.ErrSmallBuffer
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		WriteError(ctx, Errorf(fasthttp.StatusRequestEntityTooLarge, ExcPayloadTooLarge,
			"request body larger than %d bytes", s.opts.MaxBodyBytes))
	case errors.As(err, &he) || strings.Contains(err.Error(), "small read buffer"):
		drainRequest(ctx.Conn())
		WriteError(ctx, Errorf(fasthttp.StatusRequestHeaderFieldsTooLarge, ExcHeaderTooLarge,
			"request line or headers larger than %d bytes", s.fs.ReadBufferSize))
	case isTimeout(err):
		WriteError(ctx, Errorf(fasthttp.StatusRequestTimeout, ExcBadRequest, "request not received in time"))
	default:
		WriteError(ctx, Errorf(fasthttp.StatusBadRequest, ExcBadRequest, "malformed HTTP request: %v", err))
	}
}

// drainRequest reads and discards what the client is still sending of a refused request
// (at most 1 MiB, until it pauses 50 ms) before the answer and the close: closing a socket
// with unread bytes makes the kernel send a reset, which could reach the client before the
// 431 did (TestErrorBodies failed that way in 1 run in 4 under -race).
func drainRequest(c net.Conn) {
	if c == nil {
		return
	}
	var buf [16 << 10]byte
	for n := 0; n < 1<<20; {
		if err := c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
			return
		}
		k, err := c.Read(buf[:])
		n += k
		if err != nil {
			break
		}
	}
	_ = c.SetReadDeadline(time.Time{})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// requestID returns the request's id, assigning one on first use.
func requestID(ctx *fasthttp.RequestCtx) string {
	if id, ok := ctx.UserValue(ctxKeyRequestID).(string); ok {
		return id
	}
	id := fmt.Sprintf("%s%x-%x", processTag, ctx.ConnID(), ctx.ConnRequestNum())
	ctx.SetUserValue(ctxKeyRequestID, id)
	return id
}

// processTag makes request ids unique across restarts of the process.
var processTag = func() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:]) + "-"
}()

type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Debug("fasthttp: " + fmt.Sprintf(format, args...))
}
