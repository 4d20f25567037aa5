package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
)

// middlewareLog is the call log handoffd wrote before callLog: the
// go-grpc-middleware logging interceptor, logging finished calls with the
// principal added. callLog must write the same line.
func middlewareLog(log *slog.Logger) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	logger := logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		if p, ok := callPrincipal(ctx); ok {
			fields = append(fields, "principal", p.ID, "role", p.Role.String())
		}
		log.Log(ctx, slog.Level(lvl), msg, fields...)
	})
	opt := logging.WithLogOnEvents(logging.FinishCall)
	return logging.UnaryServerInterceptor(logger, opt), logging.StreamServerInterceptor(logger, opt)
}

// oneLine is the one JSON line written to b, with the fields whose values
// are times taken apart: their presence is checked, not their values.
func oneLine(t *testing.T, b *bytes.Buffer) (fields map[string]any, timed []string) {
	t.Helper()
	lines := bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n"))
	require.Len(t, lines, 1, "one line per call")
	require.NoError(t, json.Unmarshal(lines[0], &fields))
	for _, k := range []string{"time", "grpc.start_time", "grpc.time_ms", "grpc.request.deadline"} {
		if _, ok := fields[k]; ok {
			timed = append(timed, k)
			delete(fields, k)
		}
	}
	return fields, timed
}

type testStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s testStream) Context() context.Context { return s.ctx }

func TestCallLogWritesTheLineTheMiddlewareWrote(t *testing.T) {
	agent := auth.Principal{ID: "ravi", Role: handoffv1.Role_ROLE_AGENT}
	tests := []struct {
		name      string
		principal *auth.Principal
		deadline  bool
		stream    *grpc.StreamServerInfo
		err       error
	}{
		{name: "a call that succeeds, with who made it", principal: &agent},
		{name: "a call refused before anyone was known", err: status.Error(codes.Unauthenticated, "no token")},
		{name: "a call that found nothing, logged at info", principal: &agent, err: status.Error(codes.NotFound, "journey customers/c-42/journeys/q not found")},
		{name: "a call refused for a conflict, logged as a warning", principal: &agent, err: status.Error(codes.Aborted, "the journey changed")},
		{name: "a call that failed inside, logged as an error with its message", principal: &agent, err: errors.New("boom")},
		{name: "a call with a deadline", principal: &agent, deadline: true},
		{name: "a watch, a server stream", principal: &agent, stream: &grpc.StreamServerInfo{FullMethod: "/handoff.v1.JourneyService/WatchJourney", IsServerStream: true}},
		{name: "a client stream", stream: &grpc.StreamServerInfo{FullMethod: "/x.v1.S/Upload", IsClientStream: true}},
		{name: "a bidirectional stream that failed", stream: &grpc.StreamServerInfo{FullMethod: "/x.v1.S/Chat", IsClientStream: true, IsServerStream: true}, err: status.Error(codes.Unavailable, "gone")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}})
			if tt.deadline {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Minute)
				defer cancel()
			}
			ctx = withRequestID(ctx)
			if tt.principal != nil {
				notePrincipal(auth.WithPrincipal(ctx, *tt.principal))
			}
			// logged is the line the interceptors log writes for this call.
			logged := func(log func(*slog.Logger) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor)) (map[string]any, []string) {
				var b bytes.Buffer
				unary, stream := log(slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})))
				if tt.stream != nil {
					err := stream(nil, testStream{ctx: ctx}, tt.stream, func(any, grpc.ServerStream) error { return tt.err })
					require.Equal(t, tt.err, err)
				} else {
					info := &grpc.UnaryServerInfo{FullMethod: "/handoff.v1.JourneyService/UpdateJourney"}
					reply, err := unary(ctx, "request", info, func(context.Context, any) (any, error) { return "reply", tt.err })
					require.Equal(t, tt.err, err)
					require.Equal(t, "reply", reply)
				}
				return oneLine(t, &b)
			}
			want, wantTimed := logged(middlewareLog)
			got, gotTimed := logged(func(l *slog.Logger) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
				c := callLog{l}
				return c.unary, c.stream
			})
			require.Equal(t, want, got)
			require.Equal(t, wantTimed, gotTimed)
		})
	}
}

// BenchmarkCallLog is what one finished call's line costs, written to
// io.Discard. Run it with:
//
//	go test ./internal/server -run '^$' -bench CallLog -benchmem
func BenchmarkCallLog(b *testing.B) {
	l := callLog{log: slog.New(WithCallIDs(slog.NewJSONHandler(io.Discard, nil)))}
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50051}})
	info := &grpc.UnaryServerInfo{FullMethod: "/handoff.v1.JourneyService/UpdateJourney"}
	ok := func(context.Context, any) (any, error) { return nil, nil }
	b.ReportAllocs()
	for range b.N {
		_, _ = l.unary(ctx, nil, info, ok)
	}
}
