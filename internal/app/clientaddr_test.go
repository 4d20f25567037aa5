package app_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
)

// TestTheAddressRedeemLimitCountsTheAddressTheRulesBelieve guesses codes
// from this test's one address (loopback) while claiming, in headers and
// metadata, to be a new address each time. A claim only a trusted proxy may
// make counts only from one; anything else is charged to the real address.
// Bob guesses up to the limit and Alice once more, so the principal limit
// (which may not be below the address limit) never refuses.
func TestTheAddressRedeemLimitCountsTheAddressTheRulesBelieve(t *testing.T) {
	const limit = 3
	tests := []struct {
		name    string
		trusted string // --trusted-proxies
		rest    bool   // else gRPC
		claim   func(i int) []string
		// ownBudgets: each claimed address has its own budget, so the guess
		// after the limit still gets NOT_FOUND; else RESOURCE_EXHAUSTED.
		ownBudgets bool
	}{
		{name: "a_grpc_caller_cannot_pick_its_address_with_x_forwarded_for",
			claim: func(i int) []string { return []string{"x-forwarded-for", fmt.Sprintf("203.0.113.%d", i)} }},
		{name: "a_grpc_caller_cannot_pick_its_address_with_the_gateway_s_metadata",
			claim: func(i int) []string {
				return []string{"handoff-gateway-key", "guessed", "handoff-client-address", fmt.Sprintf("203.0.113.%d", i)}
			}},
		{name: "a_rest_caller_cannot_pick_its_address_with_x_forwarded_for", rest: true,
			claim: func(i int) []string { return []string{"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)} }},
		{name: "a_rest_caller_cannot_send_the_gateway_s_metadata", rest: true,
			claim: func(i int) []string {
				return []string{"Grpc-Metadata-Handoff-Gateway-Key", "guessed", "Grpc-Metadata-Handoff-Client-Address", fmt.Sprintf("203.0.113.%d", i)}
			}},
		{name: "a_trusted_proxy_s_x_forwarded_for_is_believed_over_grpc", trusted: "127.0.0.1", ownBudgets: true,
			claim: func(i int) []string { return []string{"x-forwarded-for", fmt.Sprintf("203.0.113.%d", i)} }},
		{name: "a_trusted_proxy_s_x_forwarded_for_is_believed_over_rest", trusted: "127.0.0.0/8", rest: true, ownBudgets: true,
			claim: func(i int) []string { return []string{"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)} }},
		{name: "behind_a_trusted_proxy_an_entry_left_of_the_client_is_not_believed", trusted: "127.0.0.1",
			claim: func(i int) []string { return []string{"x-forwarded-for", fmt.Sprintf("198.51.100.%d, 203.0.113.1", i)} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, redisStore, func(c *config.Config) {
				c.AddressRedeemFailures, c.RedeemFailures = limit, limit
				require.NoError(t, c.TrustedProxies.Set(tt.trusted))
			})
			guess := func(token string, i int) codes.Code {
				code := fmt.Sprintf("ZZZZ-Z%03d", i)
				if !tt.rest {
					_, err := h.api.RedeemHandoff(as(t, token, tt.claim(i)...), &handoffv1.RedeemHandoffRequest{Code: code})
					return status.Code(err)
				}
				httpStatus, body := h.rest(t, http.MethodPost, "/v1/handoffs/"+code+":redeem", token, "{}", tt.claim(i)...)
				require.NotEqual(t, http.StatusOK, httpStatus, "%v", body)
				return codes.Code(body["code"].(float64))
			}
			for i := range limit {
				require.Equal(t, codes.NotFound, guess(bobToken, i), "guess %d is within the limits", i)
			}
			want := codes.ResourceExhausted
			if tt.ownBudgets {
				want = codes.NotFound
			}
			require.Equal(t, want, guess(aliceToken, limit))
		})
	}
}
