package server

import (
	"context"
	"log/slog"

	"google.golang.org/grpc"

	"github.com/journeyhandoff/handoff/internal/apierr"
)

// errorMappingUnary and errorMappingStream are the last interceptors: what
// a handler returns becomes the status the client sees (apierr.Status).

func errorMappingUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		return resp, apierr.Status(ctx, log, err)
	}
}

func errorMappingStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return apierr.Status(ss.Context(), log, handler(srv, ss))
	}
}
