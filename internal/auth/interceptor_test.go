package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
)

const badTokenMessage = "missing or invalid bearer token: send Authorization: Bearer <token>"

func testTokens(t *testing.T) *auth.Tokens {
	t.Helper()
	tokens, err := auth.NewTokens([]auth.TokenEntry{
		{Token: "alice-secret", Principal: "alice", Role: handoffv1.Role_ROLE_AGENT},
		{Token: "c42-secret", Principal: "c-42", Role: handoffv1.Role_ROLE_CUSTOMER},
	})
	require.NoError(t, err)
	return tokens
}

// failingAuthenticator stands for an authenticator that cannot reach what
// it checks tokens against.
type failingAuthenticator struct{}

func (failingAuthenticator) Authenticate(context.Context, string) (auth.Principal, error) {
	return auth.Principal{}, errors.New("key server down")
}

type interceptorCase struct {
	name        string
	auth        auth.Authenticator // testTokens when nil
	method      string
	header      []string // values of the authorization metadata; none when nil
	wantCode    codes.Code
	wantMessage string
	want        *auth.Principal // principal the handler sees; nil: handler sees none
}

func interceptorCases() []interceptorCase {
	alice := &auth.Principal{ID: "alice", Role: handoffv1.Role_ROLE_AGENT}
	return []interceptorCase{
		{name: "no_header", method: handoffv1.JourneyService_GetJourney_FullMethodName,
			wantCode: codes.Unauthenticated, wantMessage: badTokenMessage},
		{name: "wrong_scheme", method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"Basic alice-secret"}, wantCode: codes.Unauthenticated, wantMessage: badTokenMessage},
		{name: "scheme_without_token", method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"Bearer "}, wantCode: codes.Unauthenticated, wantMessage: badTokenMessage},
		{name: "token_without_scheme", method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"alice-secret"}, wantCode: codes.Unauthenticated, wantMessage: badTokenMessage},
		{name: "bad_token", method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"Bearer mallory-secret"}, wantCode: codes.Unauthenticated, wantMessage: badTokenMessage},
		{name: "two_authorization_values", method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"Bearer alice-secret", "Bearer c42-secret"}, wantCode: codes.Unauthenticated, wantMessage: badTokenMessage},
		{name: "authenticator_failure_is_unavailable", auth: failingAuthenticator{}, method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"Bearer alice-secret"}, wantCode: codes.Unavailable, wantMessage: "could not check the bearer token; try again"},
		{name: "allowed", method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"Bearer alice-secret"}, want: alice},
		{name: "scheme_in_lower_case", method: handoffv1.JourneyService_ClaimJourney_FullMethodName,
			header: []string{"bearer alice-secret"}, want: alice},
		{name: "scheme_in_upper_case", method: handoffv1.JourneyService_ClaimJourney_FullMethodName,
			header: []string{"BEARER alice-secret"}, want: alice},
		{name: "denied_for_the_role", method: handoffv1.JourneyService_HandoffJourney_FullMethodName,
			header: []string{"Bearer alice-secret"}, wantCode: codes.PermissionDenied, wantMessage: "role agent may not call HandoffJourney"},
		{name: "customer_may_not_claim", method: handoffv1.JourneyService_ClaimJourney_FullMethodName,
			header: []string{"Bearer c42-secret"}, wantCode: codes.PermissionDenied, wantMessage: "role customer may not call ClaimJourney"},
		{name: "method_not_in_the_matrix", method: "/handoff.v1.JourneyService/DeleteEverything",
			header: []string{"Bearer alice-secret"}, wantCode: codes.PermissionDenied, wantMessage: "role agent may not call DeleteEverything"},
		{name: "health_without_token", method: healthpb.Health_Check_FullMethodName},
		{name: "health_with_bad_token", method: healthpb.Health_Check_FullMethodName, header: []string{"Bearer mallory-secret"}},
		{name: "reflection_without_token", method: reflectionpb.ServerReflection_ServerReflectionInfo_FullMethodName},
		{name: "old_reflection_without_token", method: "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"},
	}
}

// incoming builds the context a server sees for a call with these
// authorization values.
func incoming(ctx context.Context, header []string) context.Context {
	md := metadata.MD{}
	for _, v := range header {
		md.Append("authorization", v)
	}
	return metadata.NewIncomingContext(ctx, md)
}

// checkOutcome compares one intercepted call with what the case expects.
func checkOutcome(t *testing.T, tt interceptorCase, called bool, seen *auth.Principal, err error) {
	t.Helper()
	if tt.wantCode != codes.OK {
		require.Equal(t, tt.wantCode, status.Code(err), "error: %v", err)
		require.Equal(t, tt.wantMessage, status.Convert(err).Message())
		require.NotContains(t, err.Error(), "secret", "the status must not echo the token")
		require.False(t, called, "the handler must not run")
		return
	}
	require.NoError(t, err)
	require.True(t, called, "the handler must run")
	require.Equal(t, tt.want, seen)
}

func TestUnaryServerInterceptor(t *testing.T) {
	for _, tt := range interceptorCases() {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.auth
			if a == nil {
				a = testTokens(t)
			}
			var called bool
			var seen *auth.Principal
			handler := func(ctx context.Context, req any) (any, error) {
				called = true
				if p, ok := auth.PrincipalFrom(ctx); ok {
					seen = &p
				}
				return "response", nil
			}

			resp, err := auth.UnaryServerInterceptor(a)(
				incoming(t.Context(), tt.header), "request",
				&grpc.UnaryServerInfo{FullMethod: tt.method}, handler)

			checkOutcome(t, tt, called, seen, err)
			if err == nil {
				require.Equal(t, "response", resp)
			}
		})
	}
}

// fakeStream is the one part of a grpc.ServerStream the interceptor uses.
type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s fakeStream) Context() context.Context { return s.ctx }

func TestStreamServerInterceptor(t *testing.T) {
	for _, tt := range interceptorCases() {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.auth
			if a == nil {
				a = testTokens(t)
			}
			var called bool
			var seen *auth.Principal
			handler := func(srv any, ss grpc.ServerStream) error {
				called = true
				if p, ok := auth.PrincipalFrom(ss.Context()); ok {
					seen = &p
				}
				return nil
			}

			err := auth.StreamServerInterceptor(a)(
				nil, fakeStream{ctx: incoming(t.Context(), tt.header)},
				&grpc.StreamServerInfo{FullMethod: tt.method}, handler)

			checkOutcome(t, tt, called, seen, err)
		})
	}
}
