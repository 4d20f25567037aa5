package auth

import (
	"context"
	"errors"
	"strings"

	"github.com/journeyhandoff/handoff/internal/apierr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// openServices need no token: load balancers and orchestrators probe health
// without credentials, and reflection only describes the public API.
var openServices = map[string]bool{
	"grpc.health.v1.Health":                    true,
	"grpc.reflection.v1.ServerReflection":      true,
	"grpc.reflection.v1alpha.ServerReflection": true,
}

// errBadToken is the one answer for a missing, malformed or unknown token, so
// a caller learns nothing about which it was. It never repeats the token,
// which would put a secret into client logs.
var errBadToken = apierr.Unauthenticated("missing or invalid bearer token: send Authorization: Bearer <token>")

// UnaryServerInterceptor authenticates each call with a and checks the
// permission matrix, then runs the handler with the principal in its context
// (see PrincipalFrom).
func UnaryServerInterceptor(a Authenticator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := authorize(ctx, a, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streaming calls.
func StreamServerInterceptor(a Authenticator) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := authorize(ss.Context(), a, info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &serverStream{ServerStream: ss, ctx: ctx})
	}
}

// serverStream hands the handler a context that carries the principal.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

// authorize returns ctx with the caller's principal, or the status error to
// answer with.
func authorize(ctx context.Context, a Authenticator, fullMethod string) (context.Context, error) {
	svc, method := splitMethod(fullMethod)
	if openServices[svc] {
		return ctx, nil
	}
	p, err := Authenticate(ctx, a, metadata.ValueFromIncomingContext(ctx, "authorization"))
	if err != nil {
		return nil, err
	}
	if !Allowed(p.Role, fullMethod) {
		return nil, apierr.PermissionDenied("role %s may not call %s", roleName(p.Role), method)
	}
	return WithPrincipal(ctx, p), nil
}

// Authenticate checks the bearer token in authorization, the values of the
// `authorization` metadata (grpc-gateway forwards the HTTP header under the
// same name) or of the HTTP header itself, with a. It answers as the
// interceptors do: the principal, or the status error to answer with. The
// REST server calls it too, before reading a large body.
func Authenticate(ctx context.Context, a Authenticator, authorization []string) (Principal, error) {
	token, ok := bearerToken(authorization)
	if !ok {
		return Principal{}, errBadToken
	}
	p, err := a.Authenticate(ctx, token)
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return Principal{}, errBadToken
	case err != nil:
		// The token may well be good; say so, and let the client retry.
		return Principal{}, apierr.Unavailable("could not check the bearer token; try again")
	}
	return p, nil
}

// bearerToken reads `Bearer <token>` from the authorization values. The
// scheme is case-insensitive, as HTTP says. More than one value is refused
// rather than guessing which one counts.
func bearerToken(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// splitMethod splits `/handoff.v1.JourneyService/GetJourney` into the service
// and the method name.
func splitMethod(fullMethod string) (svc, method string) {
	svc, method, _ = strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	return svc, method
}
