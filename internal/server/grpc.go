package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"time"

	"buf.build/go/protovalidate"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/tracing"
)

// Connection timeouts.
const (
	// HandshakeTimeout bounds a new gRPC connection's TLS and HTTP/2
	// handshake (the HTTP listener bounds its own with ReadHeaderTimeout).
	HandshakeTimeout = 5 * time.Second
	// IdleTimeout closes a connection with no call (gRPC) or request (HTTP
	// keep-alive) for this long. An open watch is a call: never idle.
	IdleTimeout = 5 * time.Minute
)

// GRPCOptions configure NewGRPCServer.
type GRPCOptions struct {
	Logger        *slog.Logger
	Authenticator auth.Authenticator
	// Registerer receives the gRPC metrics.
	Registerer prometheus.Registerer
	// Limits bound requests; the gRPC server uses MaxMessageBytes.
	Limits RequestLimits
	// TrustedProxy reports whether a peer is a proxy whose x-forwarded-for
	// is believed (see clientaddr.Resolve); nil: nobody's.
	TrustedProxy func(netip.Addr) bool
	// Tracing, when enabled, makes a span of every call, the child of the
	// caller's (W3C traceparent).
	Tracing *tracing.Tracing
	// JourneyTypes serves the journey types; nil: not served.
	JourneyTypes handoffv1.JourneyTypeServiceServer
	// Identities serves identity links and lookups; nil: not served.
	Identities handoffv1.IdentityServiceServer
	// Responses runs innermost, around each unary handler: the service
	// masks sensitive answers in what it returns (nil: nothing).
	Responses grpc.UnaryServerInterceptor
}

// streamWorkers is how many goroutines are kept to run calls on; about as
// many as the calls a busy instance has in flight (each waits on Redis).
const streamWorkers = 128

// GRPC is the gRPC server with its health service.
type GRPC struct {
	*grpc.Server
	Health *health.Server
}

// NewGRPCServer builds the gRPC server around the journey service. The
// interceptors run in this order, outermost first: request id, client
// address, logging, metrics, recovery, auth, validation, error mapping,
// then opts.Responses (unary) or sendDirectly (streams, with
// keepTransportStream before everything).
// Logging and metrics are outside everything else so they see the status
// the client sees.
func NewGRPCServer(svc handoffv1.JourneyServiceServer, opts GRPCOptions) (*GRPC, error) {
	validator, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("building the request validator: %w", err)
	}
	metrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	if err := opts.Registerer.Register(metrics); err != nil {
		return nil, fmt.Errorf("registering gRPC metrics: %w", err)
	}
	watchChangesSent := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "handoff_watch_changes_sent_total",
		Help: "Changes and snapshots sent to watchers (gRPC, NDJSON and SSE alike); grpc_server_msg_sent_total does not count them.",
	})
	if err := opts.Registerer.Register(watchChangesSent); err != nil {
		return nil, fmt.Errorf("registering watch metrics: %w", err)
	}
	calls := callLog{opts.Logger}
	panicked := recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		opts.Logger.ErrorContext(ctx, "panic in handler", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return apierr.Internal()
	})

	var traced []grpc.ServerOption
	if opts.Tracing != nil && opts.Tracing.Enabled {
		traced = append(traced, grpc.StatsHandler(otelgrpc.NewServerHandler(
			otelgrpc.WithTracerProvider(opts.Tracing.Provider), otelgrpc.WithPropagators(opts.Tracing.Propagator))))
	}
	srv := grpc.NewServer(append(traced,
		grpc.MaxRecvMsgSize(opts.Limits.MaxMessageBytes),
		// A connection that never finishes its handshake (a port scanner, a
		// TCP probe) would otherwise hold even a forced Stop for grpc-go's
		// default 120 s, far past the shutdown timeout.
		grpc.ConnectionTimeout(HandshakeTimeout),
		// Idle connections are closed; clients reconnect on their next call.
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: IdleTimeout}),
		grpc.ForceServerCodecV2(newRequestCodec()),
		// Calls run on goroutines kept for the next call, whose stacks
		// have already grown to what decoding a request's answers needs:
		// on a fresh goroutine per call, growing the stack was 6% of a
		// save's CPU (docs/benchmarks.md). Past this many calls at once,
		// grpc-go starts a goroutine per call as before.
		grpc.NumStreamWorkers(streamWorkers),
		grpc.ChainUnaryInterceptor(
			requestIDUnary,
			clientAddressUnary(opts.TrustedProxy),
			calls.unary,
			metrics.UnaryServerInterceptor(),
			recovery.UnaryServerInterceptor(panicked),
			auth.UnaryServerInterceptor(opts.Authenticator),
			notePrincipalUnary,
			validationUnary(validator),
			errorMappingUnary(opts.Logger),
			responsesUnary(opts.Responses),
		),
		grpc.ChainStreamInterceptor(
			keepTransportStream,
			requestIDStream,
			clientAddressStream(opts.TrustedProxy),
			calls.stream,
			metrics.StreamServerInterceptor(),
			recovery.StreamServerInterceptor(panicked),
			auth.StreamServerInterceptor(opts.Authenticator),
			notePrincipalStream,
			validationStream(validator),
			errorMappingStream(opts.Logger),
			sendDirectly(watchChangesSent),
		),
	)...)
	handoffv1.RegisterJourneyServiceServer(srv, svc)
	if opts.JourneyTypes != nil {
		handoffv1.RegisterJourneyTypeServiceServer(srv, opts.JourneyTypes)
	}
	if opts.Identities != nil {
		handoffv1.RegisterIdentityServiceServer(srv, opts.Identities)
	}
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	reflection.Register(srv)
	metrics.InitializeMetrics(srv)
	return &GRPC{Server: srv, Health: hs}, nil
}

// responsesUnary is i, or a pass-through when there is none.
func responsesUnary(i grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	if i != nil {
		return i
	}
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return handler(ctx, req)
	}
}
