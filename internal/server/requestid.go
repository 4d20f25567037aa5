package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/journeyhandoff/handoff/internal/auth"
)

// RequestIDHeader carries the request id in both directions; through the
// gateway it is the X-Request-Id HTTP header.
const RequestIDHeader = "x-request-id"

type callKey struct{}

// call is what the log line of a call says about it. The request id is known
// first; the principal only once auth has run, further in, so the holder is
// shared and filled in later.
type call struct {
	requestID string
	principal atomic.Pointer[auth.Principal]
}

// RequestID returns the id of the call ctx belongs to.
func RequestID(ctx context.Context) string {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		return c.requestID
	}
	return ""
}

// callPrincipal returns who made the call, once auth has said.
func callPrincipal(ctx context.Context) (auth.Principal, bool) {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		if p := c.principal.Load(); p != nil {
			return *p, true
		}
	}
	return auth.Principal{}, false
}

// notePrincipal runs right after auth and tells the call's log line who it is.
func notePrincipal(ctx context.Context) {
	c, ok := ctx.Value(callKey{}).(*call)
	p, found := auth.PrincipalFrom(ctx)
	if ok && found {
		c.principal.Store(&p)
	}
}

func notePrincipalUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	notePrincipal(ctx)
	return handler(ctx, req)
}

func notePrincipalStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	notePrincipal(ss.Context())
	return handler(srv, ss)
}

// withRequestID takes the caller's id when it sent a sane one, so a website
// can follow its call through our logs, and makes one otherwise.
func withRequestID(ctx context.Context) context.Context {
	id := ""
	if v := metadata.ValueFromIncomingContext(ctx, RequestIDHeader); len(v) > 0 && saneRequestID(v[0]) {
		id = v[0]
	}
	if id == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs(RequestIDHeader, id))
	return context.WithValue(ctx, callKey{}, &call{requestID: id})
}

func saneRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func requestIDUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	return handler(withRequestID(ctx), req)
}

func requestIDStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &contextStream{ServerStream: ss, ctx: withRequestID(ss.Context())})
}

// contextStream lets a stream interceptor hand a richer context down.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }
