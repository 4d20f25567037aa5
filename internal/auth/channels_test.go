package auth

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// TestChannelRules_matrix writes channelRules out a second time, by hand. A
// new channel or a new role fails here until someone decides who may state
// it.
func TestChannelRules_matrix(t *testing.T) {
	const (
		web      = handoffv1.Channel_CHANNEL_WEB
		app      = handoffv1.Channel_CHANNEL_APP
		phone    = handoffv1.Channel_CHANNEL_PHONE
		chat     = handoffv1.Channel_CHANNEL_CHAT
		social   = handoffv1.Channel_CHANNEL_SOCIAL
		email    = handoffv1.Channel_CHANNEL_EMAIL
		inPerson = handoffv1.Channel_CHANNEL_IN_PERSON
	)
	every := []handoffv1.Channel{web, app, phone, chat, social, email, inPerson}
	tests := []struct {
		name       string
		role       handoffv1.Role
		want       []handoffv1.Channel
		def        handoffv1.Channel
		freeDetail bool
	}{
		{"a_customer_states_only_web_or_app_and_labelled_detail", handoffv1.Role_ROLE_CUSTOMER, []handoffv1.Channel{web, app}, web, false},
		{"a_service_states_any_channel_and_labelled_detail", handoffv1.Role_ROLE_SERVICE, every, web, false},
		{"an_agent_states_any_channel_and_free_detail", handoffv1.Role_ROLE_AGENT, every, phone, true},
		{"an_admin_states_any_channel_and_free_detail", handoffv1.Role_ROLE_ADMIN, every, phone, true},
		{"an_unspecified_role_states_nothing", handoffv1.Role_ROLE_UNSPECIFIED, nil, 0, false},
		{"handoff_itself_states_nothing", handoffv1.Role_ROLE_SYSTEM, nil, 0, false},
		{"an_analyst_touches_no_journey_and_states_nothing", handoffv1.Role_ROLE_ANALYST, nil, 0, false},
	}
	require.Len(t, allRoles(), len(tests), "a role was added: decide here and in channels.go which channels it may state")
	require.Len(t, handoffv1.Channel_name, len(every)+1, "a channel was added: decide here and in channels.go who may state it")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule, ok := ChannelRuleOf(tt.role)
			require.Equal(t, tt.want != nil, ok)
			require.Equal(t, tt.def, rule.Default)
			require.Equal(t, tt.freeDetail, rule.FreeDetail)
			for n := range handoffv1.Channel_name {
				ch := handoffv1.Channel(n)
				require.Equal(t, slices.Contains(tt.want, ch), rule.Allows(ch), ch.String())
			}
		})
	}
}
