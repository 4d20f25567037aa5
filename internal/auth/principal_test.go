package auth_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
)

func TestPrincipalFrom_returns_what_WithPrincipal_stored(t *testing.T) {
	_, ok := auth.PrincipalFrom(t.Context())
	require.False(t, ok)

	p := auth.Principal{ID: "alice", Role: handoffv1.Role_ROLE_AGENT}
	got, ok := auth.PrincipalFrom(auth.WithPrincipal(t.Context(), p))
	require.True(t, ok)
	require.Equal(t, p, got)
}

func TestCustomerCanAccess(t *testing.T) {
	tests := []struct {
		name     string
		p        auth.Principal
		customer string
		want     bool
	}{
		{"customer_own_id", auth.Principal{ID: "c-42", Role: handoffv1.Role_ROLE_CUSTOMER}, "c-42", true},
		{"customer_other_id", auth.Principal{ID: "c-42", Role: handoffv1.Role_ROLE_CUSTOMER}, "c-43", false},
		{"customer_id_differs_in_case", auth.Principal{ID: "c-42", Role: handoffv1.Role_ROLE_CUSTOMER}, "C-42", false},
		{"customer_with_empty_id", auth.Principal{Role: handoffv1.Role_ROLE_CUSTOMER}, "", false},
		{"agent_any_customer", auth.Principal{ID: "alice", Role: handoffv1.Role_ROLE_AGENT}, "c-42", true},
		{"service_any_customer", auth.Principal{ID: "shop-website", Role: handoffv1.Role_ROLE_SERVICE}, "c-42", true},
		{"admin_any_customer", auth.Principal{ID: "root", Role: handoffv1.Role_ROLE_ADMIN}, "c-42", true},
		{"unspecified_role_nobody", auth.Principal{ID: "c-42"}, "c-42", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, auth.CustomerCanAccess(tt.p, tt.customer))
		})
	}
}
