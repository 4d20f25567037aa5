package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
)

// TestJWT_through_the_interceptor runs JWTs through the gRPC interceptor as
// a server would, alone and chained with a tokens file.
func TestJWT_through_the_interceptor(t *testing.T) {
	k := keys()
	jwtAuth := newJWKSAuth(t, newJWKSServer(t, k.rsa1), testJWTConfig())
	agent := signWith(t, jwa.RS256(), k.rsa1, goodClaims())
	customer := signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("sub", "c-42", "role", "customer", "name", nil))
	expired := signWith(t, jwa.RS256(), k.rsa1, goodClaims().with("exp", time.Now().Add(-time.Hour).Unix()))
	forged := signWith(t, jwa.RS256(), k.mallory, goodClaims())
	alice := &auth.Principal{ID: "alice", Role: handoffv1.Role_ROLE_AGENT, DisplayName: "Alice"}
	both := auth.FirstOf(testTokens(t), jwtAuth)

	tests := []interceptorCase{
		{name: "agent_jwt", auth: jwtAuth, method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"Bearer " + agent}, want: alice},
		{name: "customer_jwt", auth: jwtAuth, method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"Bearer " + customer}, want: &auth.Principal{ID: "c-42", Role: handoffv1.Role_ROLE_CUSTOMER}},
		{name: "customer_jwt_may_not_claim", auth: jwtAuth, method: handoffv1.JourneyService_ClaimJourney_FullMethodName,
			header: []string{"Bearer " + customer}, wantCode: codes.PermissionDenied, wantMessage: "role customer may not call ClaimJourney"},
		{name: "expired_jwt", auth: jwtAuth, method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"Bearer " + expired}, wantCode: codes.Unauthenticated, wantMessage: badTokenMessage},
		{name: "forged_jwt", auth: jwtAuth, method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"Bearer " + forged}, wantCode: codes.Unauthenticated, wantMessage: badTokenMessage},
		{name: "static_token_without_a_tokens_file", auth: jwtAuth, method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"Bearer alice-secret"}, wantCode: codes.Unauthenticated, wantMessage: badTokenMessage},
		{name: "chain_takes_a_jwt", auth: both, method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"Bearer " + agent}, want: alice},
		{name: "chain_takes_a_static_token", auth: both, method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"Bearer alice-secret"}, want: &auth.Principal{ID: "alice", Role: handoffv1.Role_ROLE_AGENT}},
		{name: "chain_refuses_a_forged_jwt", auth: both, method: handoffv1.JourneyService_GetJourney_FullMethodName,
			header: []string{"Bearer " + forged}, wantCode: codes.Unauthenticated, wantMessage: badTokenMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var called bool
			var seen *auth.Principal
			handler := func(ctx context.Context, _ any) (any, error) {
				called = true
				if p, ok := auth.PrincipalFrom(ctx); ok {
					seen = &p
				}
				return "response", nil
			}
			_, err := auth.UnaryServerInterceptor(tt.auth)(
				incoming(t.Context(), tt.header), "request",
				&grpc.UnaryServerInfo{FullMethod: tt.method}, handler)
			checkOutcome(t, tt, called, seen, err)
			if err != nil {
				token := strings.TrimPrefix(tt.header[0], "Bearer ")
				require.NotContains(t, status.Convert(err).Message(), token)
			}
		})
	}
}
