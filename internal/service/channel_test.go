package service

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/store/memory"
	"github.com/journeyhandoff/handoff/internal/watch"
)

// TestChannelOfEveryRole saves progress as each role, stating a channel and
// a detail in the request or the headers, and checks what the timeline and
// the journey record, or that the save is refused and nothing is written.
func TestChannelOfEveryRole(t *testing.T) {
	const (
		customer = handoffv1.Role_ROLE_CUSTOMER
		service  = handoffv1.Role_ROLE_SERVICE
		agent    = handoffv1.Role_ROLE_AGENT
		admin    = handoffv1.Role_ROLE_ADMIN

		web      = handoffv1.Channel_CHANNEL_WEB
		app      = handoffv1.Channel_CHANNEL_APP
		phone    = handoffv1.Channel_CHANNEL_PHONE
		chat     = handoffv1.Channel_CHANNEL_CHAT
		social   = handoffv1.Channel_CHANNEL_SOCIAL
		email    = handoffv1.Channel_CHANNEL_EMAIL
		inPerson = handoffv1.Channel_CHANNEL_IN_PERSON
	)
	tests := []struct {
		name string
		role handoffv1.Role
		// field and fieldDetail go in the request; header and headerDetail
		// in x-handoff-channel and x-handoff-channel-detail.
		field              handoffv1.Channel
		fieldDetail        string
		header             string
		headerDetail       string
		wantCode           codes.Code
		wantViolation      string // the field violation of an INVALID_ARGUMENT
		wantChannel        handoffv1.Channel
		wantDetail         string
		wantMessageContain string
	}{
		{name: "a_customer_stating_nothing_is_recorded_on_web", role: customer, wantChannel: web},
		{name: "a_customer_stating_web_is_recorded_on_web", role: customer, field: web, wantChannel: web},
		{name: "a_customer_stating_app_in_the_header_is_recorded_on_app", role: customer, header: "app", wantChannel: app},
		{name: "a_customer_claiming_phone_in_the_header_is_refused", role: customer, header: "phone", headerDetail: "agent-1", wantCode: codes.PermissionDenied, wantMessageContain: "x-handoff-channel: a customer may state only web or app, not phone"},
		{name: "a_customer_claiming_chat_in_the_header_is_refused", role: customer, header: "CHANNEL_CHAT", wantCode: codes.PermissionDenied},
		{name: "a_customer_claiming_social_in_the_header_is_refused", role: customer, header: "social", wantCode: codes.PermissionDenied},
		{name: "a_customer_claiming_email_in_the_field_is_refused", role: customer, field: email, wantCode: codes.PermissionDenied, wantMessageContain: "channel: a customer may state only web or app, not email"},
		{name: "a_customer_claiming_in_person_in_the_field_is_refused", role: customer, field: inPerson, fieldDetail: "branch-12", wantCode: codes.PermissionDenied},
		{name: "a_customer_claiming_phone_in_the_field_is_refused_whatever_the_header_says", role: customer, field: phone, header: "web", wantCode: codes.PermissionDenied},
		{name: "a_customer_stating_web_in_the_field_is_not_refused_for_a_header_it_overrides", role: customer, field: web, header: "phone", wantChannel: web},
		{name: "a_customer_naming_a_source_in_the_header_is_recorded_labelled", role: customer, header: "app", headerDetail: "whatsapp", wantChannel: app, wantDetail: "customer: whatsapp"},
		{name: "a_customer_naming_a_source_in_the_field_is_recorded_labelled", role: customer, fieldDetail: "ios-app.v2_1", wantChannel: web, wantDetail: "customer: ios-app.v2_1"},
		{name: "a_customer_source_of_32_characters_is_recorded", role: customer, headerDetail: strings.Repeat("s", 32), wantChannel: web, wantDetail: "customer: " + strings.Repeat("s", 32)},
		{name: "a_customer_source_of_33_characters_is_refused", role: customer, headerDetail: strings.Repeat("s", 33), wantCode: codes.InvalidArgument, wantViolation: ChannelDetailHeader},
		{name: "a_customer_sentence_in_the_header_is_refused", role: customer, headerDetail: "agent-1 verified caller", wantCode: codes.InvalidArgument, wantViolation: ChannelDetailHeader},
		{name: "a_customer_sentence_in_the_field_is_refused", role: customer, fieldDetail: "branch-12-id-checked by staff", wantCode: codes.InvalidArgument, wantViolation: "channel_detail"},
		{name: "a_customer_detail_posing_as_a_label_is_refused", role: customer, fieldDetail: "agent:alice", wantCode: codes.InvalidArgument, wantViolation: "channel_detail"},
		{name: "a_customer_field_detail_wins_over_a_header_that_would_be_refused", role: customer, fieldDetail: "whatsapp", headerDetail: "agent-1 verified caller", wantChannel: web, wantDetail: "customer: whatsapp"},

		{name: "a_website_stating_nothing_is_recorded_on_web", role: service, wantChannel: web},
		{name: "a_voice_response_backend_saves_on_phone_with_its_source_labelled", role: service, header: "phone", headerDetail: "ivr-main", wantChannel: phone, wantDetail: "service: ivr-main"},
		{name: "a_chatbot_saves_on_chat_in_the_field", role: service, field: chat, fieldDetail: "bot", wantChannel: chat, wantDetail: "service: bot"},
		{name: "a_service_stating_in_person_is_recorded_on_in_person", role: service, field: inPerson, wantChannel: inPerson},
		{name: "a_service_sentence_is_refused", role: service, header: "phone", headerDetail: "agent-1 verified caller", wantCode: codes.InvalidArgument, wantViolation: ChannelDetailHeader},

		{name: "an_agent_stating_nothing_is_recorded_on_phone", role: agent, wantChannel: phone},
		{name: "an_agent_in_the_shop_is_recorded_with_their_words", role: agent, field: inPerson, fieldDetail: "branch-12, id checked", wantChannel: inPerson, wantDetail: "branch-12, id checked"},
		{name: "an_agent_on_the_social_desk_states_it_in_the_header", role: agent, header: "social", headerDetail: "agent-1 verified caller", wantChannel: social, wantDetail: "agent-1 verified caller"},
		{name: "an_agent_on_the_web_is_recorded_on_web", role: agent, header: "web", wantChannel: web},
		{name: "an_agent_detail_of_64_characters_in_the_header_is_recorded", role: agent, headerDetail: strings.Repeat("é", 64), wantChannel: phone, wantDetail: strings.Repeat("é", 64)},
		{name: "an_agent_detail_of_65_characters_in_the_header_is_refused_not_dropped", role: agent, headerDetail: strings.Repeat("x", 65), wantCode: codes.InvalidArgument, wantViolation: ChannelDetailHeader},
		{name: "an_agent_detail_that_is_not_utf8_is_refused", role: agent, headerDetail: "caller\xff", wantCode: codes.InvalidArgument, wantViolation: ChannelDetailHeader},
		{name: "an_admin_states_email_with_their_words", role: admin, field: email, fieldDetail: "escalation from complaints", wantChannel: email, wantDetail: "escalation from complaints"},
		{name: "an_unknown_header_channel_is_refused_for_staff_too", role: agent, header: "fax", wantCode: codes.InvalidArgument, wantViolation: ChannelHeader},
	}
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	svc := New(st, watch.NewHub(st, 0), Options{})
	website := auth.WithPrincipal(t.Context(), auth.Principal{ID: "shop-website", Role: service})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := svc.CreateJourney(website, &handoffv1.CreateJourneyRequest{Parent: "customers/c-1", Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote", Step: "vehicle"}})
			require.NoError(t, err)
			before := timelineOf(t, svc, website, j.GetName())

			var md []string
			if tt.header != "" {
				md = append(md, ChannelHeader, tt.header)
			}
			if tt.headerDetail != "" {
				md = append(md, ChannelDetailHeader, tt.headerDetail)
			}
			// The customer is c-1 herself; staff and services reach every customer.
			caller := auth.Principal{ID: "c-1", Role: tt.role}
			if tt.role != customer {
				caller.ID = "alice"
			}
			ctx := auth.WithPrincipal(metadata.NewIncomingContext(t.Context(), metadata.Pairs(md...)), caller)
			saved, err := svc.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{
				Journey:       &handoffv1.Journey{Name: j.GetName(), Step: "driver"},
				Channel:       tt.field,
				ChannelDetail: tt.fieldDetail,
			})

			if tt.wantCode != codes.OK {
				st, _ := status.FromError(err)
				require.Equal(t, tt.wantCode, st.Code(), "err: %v", err)
				require.Contains(t, st.Message(), tt.wantMessageContain)
				if tt.wantViolation != "" {
					require.Equal(t, []string{tt.wantViolation}, violations(st))
				}
				after, err := svc.GetJourney(website, &handoffv1.GetJourneyRequest{Name: j.GetName()})
				require.NoError(t, err)
				require.Equal(t, j.GetRevision(), after.GetRevision(), "a refused save changed the journey")
				require.Equal(t, web, after.GetChannel())
				require.Len(t, timelineOf(t, svc, website, j.GetName()), len(before), "a refused save wrote a touchpoint")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantChannel, saved.GetChannel())
			require.Equal(t, tt.wantDetail, saved.GetChannelDetail())
			tl := timelineOf(t, svc, website, j.GetName())
			require.Len(t, tl, len(before)+1)
			last := tl[len(tl)-1]
			require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, last.GetKind())
			require.Equal(t, tt.role, last.GetActor().GetRole())
			require.Equal(t, tt.wantChannel, last.GetChannel())
			require.Equal(t, tt.wantDetail, last.GetChannelDetail())
		})
	}
}

func timelineOf(t *testing.T, svc *Service, ctx context.Context, name string) []*handoffv1.Touchpoint {
	t.Helper()
	resp, err := svc.ListTouchpoints(ctx, &handoffv1.ListTouchpointsRequest{Parent: name})
	require.NoError(t, err)
	return resp.GetTouchpoints()
}

func violations(st *status.Status) []string {
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}
