package server

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/cors"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/journeyhandoff/handoff/gen/openapiv2"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/tracing"
)

// HTTPOptions configure NewHTTPHandler.
type HTTPOptions struct {
	// API is the REST gateway.
	API http.Handler
	// Ready is asked on every /readyz.
	Ready Pinger
	// Gatherer serves /metrics.
	Gatherer prometheus.Gatherer
	// Limits bound requests: body size and how long it may take to come.
	Limits RequestLimits
	// Authenticator checks the bearer token of a request with a large body
	// before the body is read.
	Authenticator auth.Authenticator
	// TrustedProxy reports whether a peer is a proxy whose X-Forwarded-For
	// is believed (see clientaddr.Resolve); nil: nobody's.
	TrustedProxy func(netip.Addr) bool
	// Web, when set, serves every other path: the console, the demo and
	// the website kit.
	Web http.Handler
	// Tracing, when enabled, makes a span of every request, the child of
	// the caller's (W3C traceparent).
	Tracing *tracing.Tracing
	// CORSAllowedOrigins are the origins whose pages may call the API from
	// another site; empty: none (no CORS headers but the kit's own, see
	// web.Handler).
	CORSAllowedOrigins []string
}

// corsHeaders are the request headers the website kit (and the console)
// send, which a preflight must allow.
var corsHeaders = []string{"Authorization", "Content-Type", "Accept", "X-Handoff-Channel", "X-Handoff-Channel-Detail", "X-Request-Id"}

// NewHTTPHandler routes the REST API under /v1/, the operator endpoints
// beside it and, when opts.Web is set, the browser pages at every other path.
func NewHTTPHandler(opts HTTPOptions) http.Handler {
	mux := http.NewServeMux()
	api := readBody(opts.API, opts.Authenticator, opts.Limits.BodyReadTimeout)
	mux.Handle("/v1/", withClientAddress(http.MaxBytesHandler(api, opts.Limits.MaxBodyBytes), opts.TrustedProxy))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := opts.Ready(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: the journey store is not answering\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapiv2.JSON)
	})
	if opts.Web != nil {
		mux.Handle("/", opts.Web)
	}
	var h http.Handler = mux
	if opts.Tracing != nil && opts.Tracing.Enabled {
		// Spans are named by method and route pattern, not by path: paths
		// name customers. otelhttp records url.path, never the query (which
		// may hold an SSE watch's access_token).
		h = otelhttp.NewHandler(h, "handoffd",
			otelhttp.WithTracerProvider(opts.Tracing.Provider), otelhttp.WithPropagators(opts.Tracing.Propagator),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + routeOf(r.URL.Path) }))
	}
	if len(opts.CORSAllowedOrigins) == 0 {
		return h
	}
	// Bearer tokens, not cookies, authenticate: credentials stay off.
	return cors.New(cors.Options{
		AllowedOrigins: opts.CORSAllowedOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete},
		AllowedHeaders: corsHeaders,
		ExposedHeaders: []string{"X-Request-Id"},
		MaxAge:         600,
	}).Handler(h)
}

// routeOf names a request's route for a span without the ids in its path.
func routeOf(path string) string {
	switch {
	case strings.HasPrefix(path, "/v1/"):
		return "/v1/…"
	case strings.HasPrefix(path, "/sdk/"), strings.HasPrefix(path, "/console"), strings.HasPrefix(path, "/demo"):
		return "/" + strings.SplitN(strings.TrimPrefix(path, "/"), "/", 2)[0]
	case path == "/healthz", path == "/readyz", path == "/metrics", path == "/openapi.json":
		return path
	}
	return "other"
}
