package auth

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// journeyServiceMethods lists every RPC of JourneyService and JourneyTypeService as a full method
// name, unary and streaming alike, straight from the generated descriptor.
func journeyServiceMethods() []string {
	var methods []string
	for _, desc := range []grpc.ServiceDesc{handoffv1.JourneyService_ServiceDesc, handoffv1.JourneyTypeService_ServiceDesc, handoffv1.IdentityService_ServiceDesc} {
		for _, m := range desc.Methods {
			methods = append(methods, "/"+desc.ServiceName+"/"+m.MethodName)
		}
		for _, s := range desc.Streams {
			methods = append(methods, "/"+desc.ServiceName+"/"+s.StreamName)
		}
	}
	return methods
}

// allRoles is every value of the Role enum, ROLE_UNSPECIFIED included, so a
// new role also has to be decided on.
func allRoles() []handoffv1.Role {
	var roles []handoffv1.Role
	for n := range handoffv1.Role_name {
		roles = append(roles, handoffv1.Role(n))
	}
	slices.Sort(roles)
	return roles
}

// TestAllowed_matrix writes the matrix out a second time, by hand. A new RPC
// or a new role fails here until someone decides who may call what.
func TestAllowed_matrix(t *testing.T) {
	const (
		C = handoffv1.Role_ROLE_CUSTOMER
		G = handoffv1.Role_ROLE_AGENT
		S = handoffv1.Role_ROLE_SERVICE
		A = handoffv1.Role_ROLE_ADMIN
		N = handoffv1.Role_ROLE_ANALYST
	)
	expected := map[string][]handoffv1.Role{
		"CreateJourney":   {C, G, S, A},
		"GetJourney":      {C, G, S, A},
		"ListJourneys":    {C, G, S, A},
		"UpdateJourney":   {C, G, S, A},
		"CompleteJourney": {C, G, S, A},
		"AbandonJourney":  {C, G, S, A},
		"ListTouchpoints": {C, G, S, A},
		"HandoffJourney":  {C, S, A},
		"RedeemHandoff":   {G, A},
		"ClaimJourney":    {G, A},
		"ReleaseJourney":  {G, A},
		"TransferJourney": {G, A},
		"DeleteCustomer":  {A},
		"WatchJourney":    {C, G, S, A},
		"RevealAnswer":    {G, A},

		"GetJourneyType":    {C, G, S, A},
		"ListJourneyTypes":  {C, G, S, A},
		"CreateJourneyType": {A},
		"UpdateJourneyType": {A},

		"GetJourneyTypeInsight": {N, A},

		"CreateIdentityLink":   {C, S, A},
		"ListIdentityLinks":    {C, S, A},
		"DeleteIdentityLink":   {C, S, A},
		"CreateIdentityLookup": {G, A},
		"VerifyIdentityLookup": {G, A},
	}
	// ROLE_SYSTEM is handoff itself: it never calls the API, so it has no
	// row above and every call is denied. An analyst reads insight only.
	require.Len(t, allRoles(), 7, "a role was added: decide its rights here and in permissions.go")

	methods := journeyServiceMethods()
	require.Len(t, methods, len(expected), "the expected table lists a method the service does not have")
	for _, full := range methods {
		_, short := splitMethod(full)
		t.Run(short, func(t *testing.T) {
			want, ok := expected[short]
			require.True(t, ok, "%s is new: decide who may call it in permissions.go and write it down here", short)
			for _, role := range allRoles() {
				t.Run(role.String(), func(t *testing.T) {
					require.Equal(t, slices.Contains(want, role), Allowed(role, full))
				})
			}
		})
	}
}

func TestAllowed_matrix_has_no_stale_methods(t *testing.T) {
	methods := journeyServiceMethods()
	for full := range permissions {
		require.Contains(t, methods, full, "permissions lists a method the services no longer have")
	}
}

func TestAllowed_denies_by_default(t *testing.T) {
	tests := []struct {
		name       string
		fullMethod string
	}{
		{"unknown_method_of_the_service", "/handoff.v1.JourneyService/DeleteEverything"},
		{"unknown_service", "/other.v1.Other/GetJourney"},
		{"short_name_instead_of_full_name", "GetJourney"},
		{"empty_name", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, role := range allRoles() {
				require.False(t, Allowed(role, tt.fullMethod), role.String())
			}
		})
	}
}
