package server

import (
	"context"
	"time"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// Pinger reports whether the store answers.
type Pinger func(context.Context) error

// WatchReadiness keeps the gRPC health status in step with the store (SERVING
// only while it answers) until ctx ends. /readyz asks the store directly.
func WatchReadiness(ctx context.Context, hs *health.Server, ping Pinger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		pingCtx, cancel := context.WithTimeout(ctx, every)
		st := healthpb.HealthCheckResponse_SERVING
		if ping(pingCtx) != nil {
			st = healthpb.HealthCheckResponse_NOT_SERVING
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		hs.SetServingStatus("", st)
		hs.SetServingStatus(handoffv1.JourneyService_ServiceDesc.ServiceName, st)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
