package server

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// callLog writes one line per finished call: its method, status, timing
// and who made it, never its payload, which holds personal data. The
// request and trace ids and the client's address come from the logger's
// handler (see WithCallIDs), as on every other line logged for the call.
//
// It writes the line go-grpc-middleware's logging interceptor wrote, with
// the same field names and levels, by hand: that interceptor built its
// fields as lists of `any` three times per call and cost 10% of handoffd's
// CPU under saves; this costs 6–9%, a third of it the write of the line
// (docs/benchmarks.md).
type callLog struct{ log *slog.Logger }

func (l callLog) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	l.finished(ctx, info.FullMethod, "unary", start, err)
	return resp, err
}

func (l callLog) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	err := handler(srv, ss)
	kind := "bidi_stream"
	switch {
	case !info.IsClientStream:
		kind = "server_stream"
	case !info.IsServerStream:
		kind = "client_stream"
	}
	l.finished(ss.Context(), info.FullMethod, kind, start, err)
	return err
}

// finished logs the call to fullMethod of the given kind, started at
// start, that ended with err.
func (l callLog) finished(ctx context.Context, fullMethod, kind string, start time.Time, err error) {
	code := status.Code(err)
	level := slog.Level(logging.DefaultServerCodeToLevel(code))
	if !l.log.Enabled(ctx, level) {
		return
	}
	service, method, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	attrs := make([]slog.Attr, 0, 14)
	attrs = append(attrs,
		slog.String("protocol", "grpc"),
		slog.String("grpc.component", "server"),
		slog.String("grpc.service", service),
		slog.String("grpc.method", method),
		slog.String("grpc.method_type", kind),
	)
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		attrs = append(attrs, slog.String("peer.address", p.Addr.String()))
	}
	attrs = append(attrs, slog.String("grpc.start_time", start.Format(time.RFC3339)))
	if d, ok := ctx.Deadline(); ok {
		attrs = append(attrs, slog.String("grpc.request.deadline", d.Format(time.RFC3339)))
	}
	attrs = append(attrs, slog.String("grpc.code", code.String()))
	if err != nil {
		attrs = append(attrs, slog.String("grpc.error", err.Error()))
	}
	// Milliseconds to the microsecond, as a string, as the middleware wrote it.
	ms := float32(time.Since(start).Microseconds()) / 1000
	attrs = append(attrs, slog.String("grpc.time_ms", strconv.FormatFloat(float64(ms), 'f', -1, 32)))
	if p, ok := callPrincipal(ctx); ok {
		attrs = append(attrs, slog.String("principal", p.ID), slog.String("role", p.Role.String()))
	}
	// The record is made here rather than by Logger.LogAttrs, which takes
	// the caller's PC for a source the handler never writes
	// (runtime.Callers, 1.1% of handoffd under saves).
	r := slog.NewRecord(time.Now(), level, "finished call", 0)
	r.AddAttrs(attrs...)
	_ = l.log.Handler().Handle(ctx, r)
}
