// Package app wires handoffd together: it builds the store, the journey
// service, the gRPC server and the HTTP server from a Config, serves until
// told to stop, and shuts down in order so in-flight calls finish.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"

	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/insight"
	"github.com/journeyhandoff/handoff/internal/server"
	"github.com/journeyhandoff/handoff/internal/service"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/tracing"
	"github.com/journeyhandoff/handoff/internal/watch"
	"github.com/journeyhandoff/handoff/web"
)

// App is a running handoffd: both listeners are bound when New returns.
type App struct {
	cfg            config.Config
	log            *slog.Logger
	store          store.Store
	hub            *watch.Hub
	svc            *service.Service
	types          *service.Types
	identityKeys   *service.IdentityKeys
	grpc           *server.GRPC
	http           *http.Server
	gateway        *grpc.ClientConn
	tls            *server.TLS // nil: both listeners are plaintext
	grpcLis        net.Listener
	httpLis        net.Listener
	debug          *http.Server // nil without --debug-addr
	debugLis       net.Listener
	stopBackground context.CancelFunc
	// stopKeyRefresh ends the JWKS refresh, last, since calls still being
	// served during shutdown may need a key.
	stopKeyRefresh context.CancelFunc
	hubDone        chan struct{}
	traces         *tracing.Tracing
	reg            *prometheus.Registry
	// ev is nil while events are off.
	ev *eventWorkers
	// insight is nil while insight is off; insightDone closes once its
	// last counts are written.
	insight     *insight.Recorder
	insightDone chan struct{}
}

// New builds everything and binds both ports; nothing is served until Run.
// Dev-mode tokens, when no tokens file is given, are printed to banner.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, banner io.Writer) (_ *App, err error) {
	// Every line logged with a call's context names its request and trace.
	log = slog.New(server.WithCallIDs(log.Handler()))
	a := &App{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.closeAll()
		}
	}()
	if a.traces, err = tracing.Start(ctx, cfg.OTLPEndpoint, version()); err != nil {
		return nil, fmt.Errorf("--otlp-endpoint: %w", err)
	}
	if a.traces.Enabled {
		log.Info("exporting traces over OTLP")
	}
	if cfg.TLSCertFile != "" {
		if a.tls, err = server.LoadTLS(cfg.TLSCertFile, cfg.TLSKeyFile); err != nil {
			return nil, fmt.Errorf("--tls-cert-file, --tls-key-file: %w", err)
		}
		log.Info("both listeners serve TLS", "names", a.tls.Names(), "not_after", a.tls.NotAfter())
	}
	a.types = service.NewTypes()
	var writes *store.WriteOptions
	if cfg.Insight.On {
		a.insight = insight.NewRecorder(a.types.Steps, cfg.Insight.Retention, log)
		writes = &store.WriteOptions{Observe: a.insight.Observe, Steps: a.types.Steps}
	}
	if a.store, err = openStore(cfg, log, a.traces, a.types.TTL, a.eventOptions(), writes); err != nil {
		return nil, err
	}
	if err := a.loadEvents(); err != nil {
		return nil, err
	}
	// The keys outlive New's ctx (main's signal context): calls in flight at
	// SIGTERM still check tokens; closeAll ends the refresh.
	keyCtx, stopKeyRefresh := context.WithCancel(context.WithoutCancel(ctx))
	a.stopKeyRefresh = stopKeyRefresh
	authn, err := authenticator(keyCtx, cfg, log, banner)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	a.reg = reg
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if a.insight != nil {
		reg.MustRegister(a.insight.Collectors()...)
	}
	a.hub = watch.NewHub(a.store, watch.DefaultBuffer)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "handoff_watches_open", Help: "Watch streams this instance is serving (gRPC, NDJSON and SSE alike).",
	}, func() float64 { return float64(a.hub.Count()) }))
	if a.identityKeys, err = a.loadIdentityKeys(); err != nil {
		return nil, err
	}
	a.svc = service.New(a.store, a.hub, service.Options{Limits: cfg.Limits, Logger: log, Types: a.types, IdentityKeys: a.identityKeys, Now: cfg.Now})
	if err := a.startJourneyTypes(ctx); err != nil {
		return nil, err
	}
	if a.grpc, err = server.NewGRPCServer(a.svc, server.GRPCOptions{
		Logger: log, Authenticator: authn, Registerer: reg, Limits: cfg.RequestLimits,
		TrustedProxy: cfg.TrustedProxies.Contains, Tracing: a.traces,
		JourneyTypes: a.svc.TypesAPI(), Identities: a.svc.IdentitiesAPI(), Responses: a.svc.MaskSensitiveUnary,
	}); err != nil {
		return nil, err
	}
	if a.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		return nil, fmt.Errorf("--grpc-addr %s: %w", cfg.GRPCAddr, err)
	}
	if a.tls != nil {
		a.grpcLis = a.tls.GRPCListener(a.grpcLis)
	}
	if a.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("--http-addr %s: %w", cfg.HTTPAddr, err)
	}
	// The gateway dials the address actually bound, so port 0 works in tests.
	api, conn, err := server.NewGateway(ctx, a.grpcLis.Addr().String(), cfg.MaxMessageBytes, a.tls, a.traces)
	if err != nil {
		return nil, err
	}
	a.gateway = conn
	// gRPC and HTTP listen on separate ports rather than sharing one through
	// cmux: each server keeps its own timeouts, limits and shutdown, and a
	// proxy in front can treat HTTP/2 gRPC and HTTP/1.1 REST differently.
	a.http = &http.Server{
		Handler: server.NewHTTPHandler(server.HTTPOptions{
			API: server.WithServerSentEvents(api, conn), Ready: a.store.Ping, Gatherer: reg, Limits: cfg.RequestLimits,
			Authenticator: authn, TrustedProxy: cfg.TrustedProxies.Contains,
			Web: web.Handler(), CORSAllowedOrigins: cfg.CORSAllowedOrigins, Tracing: a.traces,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       server.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		// Failed TLS handshakes and the like, in our JSON logs rather than
		// as bare lines on stderr.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if a.tls != nil {
		a.http.TLSConfig = a.tls.HTTPConfig()
	}
	if cfg.DebugAddr != "" {
		if a.debugLis, err = net.Listen("tcp", cfg.DebugAddr); err != nil {
			return nil, fmt.Errorf("--debug-addr %s: %w", cfg.DebugAddr, err)
		}
		// No write timeout: a CPU profile or trace streams for its seconds.
		a.debug = &http.Server{Handler: server.NewDebugHandler(), ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	}
	return a, nil
}

// DebugAddr is the bound --debug-addr address, or "" without one.
func (a *App) DebugAddr() string {
	if a.debugLis == nil {
		return ""
	}
	return a.debugLis.Addr().String()
}

// OpenWatches is the number of watch streams being served.
func (a *App) OpenWatches() int { return a.hub.Count() }

// GRPCAddr is the bound gRPC address.
func (a *App) GRPCAddr() string { return a.grpcLis.Addr().String() }

// HTTPAddr is the bound HTTP address.
func (a *App) HTTPAddr() string { return a.httpLis.Addr().String() }

// Run serves until ctx ends, then shuts down: health NOT_SERVING first, so
// load balancers stop sending; then HTTP (in-flight REST calls finish, and
// they still need gRPC); then gRPC, gracefully within the shutdown timeout
// and forcibly after it; then the webhook deliverers and the reminders;
// then the store.
func (a *App) Run(ctx context.Context) error {
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	a.stopBackground = stopBackground
	go server.WatchReadiness(bg, a.grpc.Health, a.store.Ping, time.Second)
	go a.svc.ReleaseLapsedClaims(bg, time.Second)
	go a.types.KeepRefreshing(bg, typesRefresh)
	a.startEvents(bg)
	a.insightDone = make(chan struct{})
	go func() {
		defer close(a.insightDone)
		if a.insight != nil {
			a.insight.Run(bg, a.store, a.cfg.Insight.Flush, a.cfg.ShutdownTimeout)
		}
	}()
	go a.reloadOnHangup(bg)
	a.hubDone = make(chan struct{})
	go func() {
		defer close(a.hubDone)
		// The subscription retries by itself; it ends only with bg.
		_ = a.hub.Run(bg)
	}()

	errc := make(chan error, 2)
	go func() { errc <- a.grpc.Serve(a.grpcLis) }()
	go func() {
		serve := a.http.Serve
		if a.tls != nil {
			// The certificate is in TLSConfig already.
			serve = func(l net.Listener) error { return a.http.ServeTLS(l, "", "") }
		}
		if err := serve(a.httpLis); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	if a.debug != nil {
		go func() { _ = a.debug.Serve(a.debugLis) }()
		a.log.Info("serving pprof profiles", "debug_addr", a.DebugAddr())
	}
	a.log.Info("handoffd serving", "grpc_addr", a.GRPCAddr(), "http_addr", a.HTTPAddr(), "tls", a.tls != nil)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
		a.log.Error("a listener failed; shutting down", "error", serveErr)
	}
	return errors.Join(serveErr, a.shutdown())
}

func (a *App) shutdown() error {
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout.String())
	a.grpc.Health.Shutdown() // every service NOT_SERVING
	// Open watches would keep GracefulStop waiting forever: end them with a
	// status that tells clients to reconnect (to another instance).
	a.hub.Shutdown()

	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if err := a.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("HTTP shutdown: %w", err))
	}
	// GracefulStop waits for every open stream; past the deadline we stop.
	stopped := make(chan struct{})
	go func() { a.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-ctx.Done():
		a.log.Warn("in-flight gRPC calls did not finish in time; stopping them")
		a.grpc.Stop()
		<-stopped
	}
	a.stopBackground()
	<-a.hubDone
	<-a.insightDone // its last counts, before the store closes
	// Before the store closes: what was delivered is recorded, leases
	// are released so another instance takes over at once.
	a.stopEvents()
	a.closeAll()
	a.log.Info("stopped")
	return errors.Join(errs...)
}

func (a *App) closeAll() {
	if a.stopKeyRefresh != nil {
		a.stopKeyRefresh()
	}
	if a.gateway != nil {
		_ = a.gateway.Close()
	}
	if a.debug != nil {
		// Profiles are not calls to finish: a running one is cut off.
		_ = a.debug.Close()
	}
	for _, l := range []net.Listener{a.grpcLis, a.httpLis, a.debugLis} {
		if l != nil {
			_ = l.Close()
		}
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			a.log.Warn("closing the store", "error", err)
		}
	}
	if a.traces != nil {
		// The last spans, those of the shutdown included, go out now.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.traces.Shutdown(ctx); err != nil {
			a.log.Warn("exporting the last traces", "error", err)
		}
	}
}
