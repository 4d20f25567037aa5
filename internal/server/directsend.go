package server

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// A watch sends every change of its journey, and a change reaches
// thousands of watchers at once: the logging and metrics interceptors'
// per-message hooks (two clock reads and a labelled counter looked up per
// message) were a seventh of what a delivery cost. Their call-level work
// (the finish line, handled_total, the duration) stays; only the streams
// in directSendMethods send past them, counted by one counter.
var directSendMethods = map[string]bool{
	handoffv1.JourneyService_WatchJourney_FullMethodName: true,
}

type transportStreamKey struct{}

// keepTransportStream runs outermost: it keeps grpc-go's own stream in the
// context for sendDirectly, innermost, to send on.
func keepTransportStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if !directSendMethods[info.FullMethod] {
		return handler(srv, ss)
	}
	return handler(srv, &contextStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), transportStreamKey{}, ss)})
}

// sendDirectly runs innermost: the handler's stream sends on grpc-go's own
// stream and counts what it sent in sent.
func sendDirectly(sent prometheus.Counter) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		transport, ok := ss.Context().Value(transportStreamKey{}).(grpc.ServerStream)
		if !ok {
			return handler(srv, ss)
		}
		return handler(srv, &directStream{ServerStream: ss, transport: transport, sent: sent})
	}
}

// directStream is the interceptors' stream in everything but SendMsg.
type directStream struct {
	grpc.ServerStream
	transport grpc.ServerStream
	sent      prometheus.Counter
}

func (s *directStream) SendMsg(m any) error {
	if err := s.transport.SendMsg(m); err != nil {
		return err
	}
	s.sent.Inc()
	return nil
}
