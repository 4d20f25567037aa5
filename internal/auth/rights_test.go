package auth

import (
	"testing"

	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// TestRightsOf_matrix writes the rights out a second time, by hand: a
// change to the table, or a new role, fails here until someone decides.
func TestRightsOf_matrix(t *testing.T) {
	want := map[handoffv1.Role]Rights{
		handoffv1.Role_ROLE_UNSPECIFIED: {},
		handoffv1.Role_ROLE_CUSTOMER:    {SeesSensitiveAnswers: true},
		handoffv1.Role_ROLE_SERVICE:     {EveryCustomer: true, SeesStaffNotes: true},
		handoffv1.Role_ROLE_AGENT:       {EveryCustomer: true, Audited: true, Staff: true, SeesStaffNotes: true, OwnCasesOnly: true},
		handoffv1.Role_ROLE_ADMIN:       {EveryCustomer: true, Audited: true, Staff: true, SeesStaffNotes: true, OverridesHolder: true},
		handoffv1.Role_ROLE_SYSTEM:      {Staff: true},
		handoffv1.Role_ROLE_ANALYST:     {},
	}
	for _, role := range allRoles() {
		t.Run(role.String(), func(t *testing.T) {
			w, decided := want[role]
			require.True(t, decided, "nobody decided the rights of %s", role)
			require.Equal(t, w, RightsOf(role))
		})
	}
}
