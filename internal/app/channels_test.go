package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// TestACustomerCannotWriteAStaffChannelIntoTheTimeline is the hardening
// finding as it was found: a customer token stating the phone (headers) or
// the shop (query parameters) got a PROGRESS_SAVED touchpoint on PHONE or
// IN_PERSON with their own words as its detail, which staff read as
// evidence, and moved the journey's channel. Every call of a customer that
// records a touch is refused now, over REST and gRPC, and writes nothing.
func TestACustomerCannotWriteAStaffChannelIntoTheTimeline(t *testing.T) {
	h := start(t, redisStore)
	j := newJourney(t, h, "c-42")
	name := j.GetName()
	before := timeline(t, h, name)
	const refusal = "a customer may state only web or app"

	rest := []struct {
		name, method, path string
		body               any
		headers            []string
	}{
		{"a_save_with_the_channel_headers", "PATCH", "/v1/" + name + "?updateMask=step", map[string]any{"step": "cover"},
			[]string{"X-Handoff-Channel", "phone", "X-Handoff-Channel-Detail", "agent-1 verified caller"}},
		{"a_save_with_the_channel_query_parameters", "PATCH", "/v1/" + name + "?updateMask=step&channel=CHANNEL_IN_PERSON&channelDetail=branch-12-id-checked", map[string]any{"step": "cover"}, nil},
		{"a_create_with_the_channel_header", "POST", "/v1/customers/c-42/journeys?journeyId=second", map[string]any{"journeyType": "car-insurance-quote"},
			[]string{"X-Handoff-Channel", "chat"}},
		{"a_handoff_with_the_channel_in_the_body", "POST", "/v1/" + name + ":handoff", map[string]any{"channel": "CHANNEL_SOCIAL"}, nil},
		{"a_completion_with_the_channel_header", "POST", "/v1/" + name + ":complete", map[string]any{}, []string{"X-Handoff-Channel", "email"}},
		{"an_abandonment_with_the_channel_header", "POST", "/v1/" + name + ":abandon", map[string]any{}, []string{"X-Handoff-Channel", "in-person"}},
	}
	for _, tt := range rest {
		t.Run("rest_"+tt.name+"_is_forbidden", func(t *testing.T) {
			status, body := h.rest(t, tt.method, tt.path, c42Token, tt.body, tt.headers...)
			require.Equal(t, http.StatusForbidden, status, "%v", body)
			require.Equal(t, float64(codes.PermissionDenied), body["code"], "%v", body)
			require.Contains(t, body["message"], refusal)
		})
	}

	phone := as(t, c42Token, "x-handoff-channel", "phone", "x-handoff-channel-detail", "agent-1 verified caller")
	grpc := []struct {
		name string
		call func() error
	}{
		{"a_save_with_the_channel_metadata", func() error {
			_, err := h.api.UpdateJourney(phone, &handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{Name: name, Step: "cover"}})
			return err
		}},
		{"a_save_with_the_channel_fields", func() error {
			_, err := h.api.UpdateJourney(as(t, c42Token), &handoffv1.UpdateJourneyRequest{
				Journey: &handoffv1.Journey{Name: name, Step: "cover"}, Channel: handoffv1.Channel_CHANNEL_IN_PERSON, ChannelDetail: "branch-12-id-checked",
			})
			return err
		}},
		{"a_create_with_the_channel_metadata", func() error {
			_, err := h.api.CreateJourney(phone, &handoffv1.CreateJourneyRequest{Parent: "customers/c-42", JourneyId: "third", Journey: &handoffv1.Journey{JourneyType: "x"}})
			return err
		}},
		{"a_handoff_with_the_channel_field", func() error {
			_, err := h.api.HandoffJourney(as(t, c42Token), &handoffv1.HandoffJourneyRequest{Name: name, Channel: handoffv1.Channel_CHANNEL_CHAT})
			return err
		}},
		{"a_completion_with_the_channel_metadata", func() error {
			_, err := h.api.CompleteJourney(phone, &handoffv1.CompleteJourneyRequest{Name: name})
			return err
		}},
	}
	for _, tt := range grpc {
		t.Run("grpc_"+tt.name+"_is_permission_denied", func(t *testing.T) {
			st := requireCode(t, tt.call(), codes.PermissionDenied)
			require.Contains(t, st.Message(), refusal)
		})
	}

	t.Run("nothing_was_written", func(t *testing.T) {
		after, err := h.api.GetJourney(as(t, websiteToken), &handoffv1.GetJourneyRequest{Name: name})
		require.NoError(t, err)
		require.True(t, proto.Equal(j, after), "the journey changed: channel %s (%q)", after.GetChannel(), after.GetChannelDetail())
		require.Equal(t, handoffv1.Channel_CHANNEL_WEB, after.GetChannel())
		require.Len(t, timeline(t, h, name), len(before))
		list, err := h.api.ListJourneys(as(t, websiteToken), &handoffv1.ListJourneysRequest{Parent: "customers/c-42"})
		require.NoError(t, err)
		require.Len(t, list.GetJourneys(), 1, "a refused create made a journey")
	})
}

// TestEachRoleStatesTheChannelsItWorksOn saves as each role over REST and
// gRPC and reads what the timeline records: customers on their own digital
// channels, services and staff anywhere, and detail from anyone who is not
// staff a short source name labelled with their role.
func TestEachRoleStatesTheChannelsItWorksOn(t *testing.T) {
	h := start(t, redisStore)
	j := newJourney(t, h, "c-42")
	name := j.GetName()

	tests := []struct {
		name  string
		token string
		grpc  bool
		// header and headerDetail are sent as x-handoff-channel and
		// x-handoff-channel-detail; channel and detail as the request's
		// fields (query parameters through REST).
		header, headerDetail string
		channel, detail      string
		wantCode             codes.Code
		wantViolation        string
		wantChannel          handoffv1.Channel
		wantDetail           string
	}{
		{name: "a_customer_in_the_app_names_its_source", token: c42Token, header: "app", headerDetail: "whatsapp",
			wantChannel: handoffv1.Channel_CHANNEL_APP, wantDetail: "customer: whatsapp"},
		{name: "a_customer_on_the_web_names_its_source_in_the_fields", token: c42Token, grpc: true, channel: "CHANNEL_WEB", detail: "ios-widget",
			wantChannel: handoffv1.Channel_CHANNEL_WEB, wantDetail: "customer: ios-widget"},
		{name: "a_customer_sentence_in_the_header_is_refused", token: c42Token, headerDetail: "agent-1 verified caller",
			wantCode: codes.InvalidArgument, wantViolation: "x-handoff-channel-detail"},
		{name: "a_customer_sentence_in_the_field_is_refused", token: c42Token, grpc: true, detail: "agent-1 verified caller",
			wantCode: codes.InvalidArgument, wantViolation: "channel_detail"},
		{name: "a_voice_response_backend_saves_on_phone", token: websiteToken, grpc: true, header: "phone", headerDetail: "ivr-main",
			wantChannel: handoffv1.Channel_CHANNEL_PHONE, wantDetail: "service: ivr-main"},
		{name: "a_chatbot_backend_saves_on_chat", token: websiteToken, channel: "CHANNEL_CHAT", detail: "bot.v2",
			wantChannel: handoffv1.Channel_CHANNEL_CHAT, wantDetail: "service: bot.v2"},
		{name: "a_service_sentence_is_refused", token: websiteToken, header: "phone", headerDetail: "agent-1 verified caller",
			wantCode: codes.InvalidArgument, wantViolation: "x-handoff-channel-detail"},
		{name: "an_agent_in_the_shop_records_their_words", token: aliceToken, channel: "CHANNEL_IN_PERSON", detail: "branch-12, id checked",
			wantChannel: handoffv1.Channel_CHANNEL_IN_PERSON, wantDetail: "branch-12, id checked"},
		{name: "an_agent_on_the_phone_records_their_words_in_the_header", token: aliceToken, grpc: true, header: "phone", headerDetail: "agent-1 verified caller",
			wantChannel: handoffv1.Channel_CHANNEL_PHONE, wantDetail: "agent-1 verified caller"},
		{name: "an_agent_detail_header_over_64_characters_is_refused_not_dropped", token: aliceToken, headerDetail: strings.Repeat("x", 65),
			wantCode: codes.InvalidArgument, wantViolation: "x-handoff-channel-detail"},
		{name: "an_admin_on_the_social_desk_records_their_words", token: adminToken, grpc: true, channel: "CHANNEL_SOCIAL", detail: "dm from @anna",
			wantChannel: handoffv1.Channel_CHANNEL_SOCIAL, wantDetail: "dm from @anna"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := timeline(t, h, name)
			var headers []string
			if tt.header != "" {
				headers = append(headers, "x-handoff-channel", tt.header)
			}
			if tt.headerDetail != "" {
				headers = append(headers, "x-handoff-channel-detail", tt.headerDetail)
			}
			var code codes.Code
			var violations []string
			if tt.grpc {
				_, err := h.api.UpdateJourney(as(t, tt.token, headers...), &handoffv1.UpdateJourneyRequest{
					Journey:       &handoffv1.Journey{Name: name, Step: "driver"},
					Channel:       handoffv1.Channel(handoffv1.Channel_value[tt.channel]),
					ChannelDetail: tt.detail,
				})
				st, _ := status.FromError(err)
				code, violations = st.Code(), statusFieldViolations(st)
			} else {
				q := url.Values{"updateMask": {"step"}}
				if tt.channel != "" {
					q.Set("channel", tt.channel)
				}
				if tt.detail != "" {
					q.Set("channelDetail", tt.detail)
				}
				status, body := h.rest(t, "PATCH", "/v1/"+name+"?"+q.Encode(), tt.token, map[string]any{"step": "driver"}, headers...)
				if status != http.StatusOK {
					code, violations = codes.Code(body["code"].(float64)), fieldViolations(t, body)
				}
			}
			require.Equal(t, tt.wantCode, code)
			tl := timeline(t, h, name)
			if tt.wantCode != codes.OK {
				require.Equal(t, []string{tt.wantViolation}, violations)
				require.Len(t, tl, len(before), "a refused save wrote a touchpoint")
				return
			}
			require.Len(t, tl, len(before)+1)
			last := tl[len(tl)-1]
			require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, last.GetKind())
			require.Equal(t, tt.wantChannel, last.GetChannel())
			require.Equal(t, tt.wantDetail, last.GetChannelDetail())
			now, err := h.api.GetJourney(as(t, websiteToken), &handoffv1.GetJourneyRequest{Name: name})
			require.NoError(t, err)
			require.Equal(t, tt.wantChannel, now.GetChannel())
			require.Equal(t, tt.wantDetail, now.GetChannelDetail())
		})
	}
}
