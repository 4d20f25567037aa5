package app_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// The story of the core issue: Anna fills in a car-insurance quote on the
// website, stops at the cover step, calls, and Ravi (agent alice) picks it
// up exactly where she stopped.

var displayedCode = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)

// wantTimeline is what the story must leave in the journey map.
var wantTimeline = []struct{ kind, channel, actor, role string }{
	{"TOUCHPOINT_KIND_STARTED", "CHANNEL_WEB", "shop-website", "ROLE_SERVICE"},
	{"TOUCHPOINT_KIND_PROGRESS_SAVED", "CHANNEL_WEB", "shop-website", "ROLE_SERVICE"},
	{"TOUCHPOINT_KIND_PROGRESS_SAVED", "CHANNEL_WEB", "shop-website", "ROLE_SERVICE"},
	{"TOUCHPOINT_KIND_PROGRESS_SAVED", "CHANNEL_WEB", "shop-website", "ROLE_SERVICE"},
	{"TOUCHPOINT_KIND_HANDOFF_OFFERED", "CHANNEL_WEB", "shop-website", "ROLE_SERVICE"},
	{"TOUCHPOINT_KIND_RESUMED", "CHANNEL_PHONE", "alice", "ROLE_AGENT"},
	{"TOUCHPOINT_KIND_PROGRESS_SAVED", "CHANNEL_PHONE", "alice", "ROLE_AGENT"},
}

func TestTheHandoffStoryOverREST(t *testing.T) {
	h := start(t, redisStore)
	web := []string{"X-Handoff-Channel", "web"}

	status, j := h.rest(t, "POST", "/v1/customers/c-42/journeys?requestId=anna-1", websiteToken,
		map[string]any{"journeyType": "car-insurance-quote", "step": "vehicle"}, web...)
	require.Equal(t, http.StatusOK, status, "%v", j)
	name := j["name"].(string)
	require.True(t, strings.HasPrefix(name, "customers/c-42/journeys/"), name)

	saves := []map[string]any{
		{"step": "vehicle", "data": map[string]any{"vehicle": map[string]any{"plate": "AB-123-C", "make": "Volvo", "year": 2019}}},
		{"step": "driver", "data": map[string]any{"driver": map[string]any{"birthYear": 1988, "claimsFree": 7}}},
		{"step": "cover", "data": map[string]any{"cover": map[string]any{"level": "comprehensive"}}},
	}
	for _, save := range saves {
		save["etag"] = j["etag"]
		status, j = h.rest(t, "PATCH", "/v1/"+name, websiteToken, save, web...)
		require.Equal(t, http.StatusOK, status, "%v", j)
	}

	status, offer := h.rest(t, "POST", "/v1/"+name+":handoff", websiteToken, map[string]any{}, web...)
	require.Equal(t, http.StatusOK, status, "%v", offer)
	code := offer["code"].(string)
	require.Regexp(t, displayedCode, code)
	require.NotEmpty(t, offer["expireTime"])

	// Ravi types what Anna reads out: lower case, no dash.
	typed := strings.ToLower(strings.ReplaceAll(code, "-", ""))
	status, resumed := h.rest(t, "POST", "/v1/handoffs/"+typed+":redeem", aliceToken, map[string]any{}, "X-Handoff-Channel", "phone")
	require.Equal(t, http.StatusOK, status, "%v", resumed)
	require.Equal(t, "cover", resumed["step"])
	require.Equal(t, "alice", resumed["assignee"])
	require.Equal(t, "CHANNEL_PHONE", resumed["channel"])
	data := resumed["data"].(map[string]any)
	require.Equal(t, "AB-123-C", data["vehicle"].(map[string]any)["plate"])
	require.Equal(t, float64(2019), data["vehicle"].(map[string]any)["year"])
	require.Equal(t, float64(7), data["driver"].(map[string]any)["claimsFree"])
	require.Equal(t, "comprehensive", data["cover"].(map[string]any)["level"])

	status, j = h.rest(t, "PATCH", "/v1/"+name+"?updateMask=step", aliceToken,
		map[string]any{"step": "confirm", "etag": resumed["etag"]}, "X-Handoff-Channel", "phone")
	require.Equal(t, http.StatusOK, status, "%v", j)

	status, mine := h.rest(t, "GET", "/v1/"+name, c42Token, nil)
	require.Equal(t, http.StatusOK, status, "%v", mine)
	require.Equal(t, "confirm", mine["step"])
	require.Equal(t, "comprehensive", mine["data"].(map[string]any)["cover"].(map[string]any)["level"])

	status, tl := h.rest(t, "GET", "/v1/"+name+"/touchpoints", c42Token, nil)
	require.Equal(t, http.StatusOK, status, "%v", tl)
	tps := tl["touchpoints"].([]any)
	require.Len(t, tps, len(wantTimeline))
	for i, want := range wantTimeline {
		tp := tps[i].(map[string]any)
		actor := tp["actor"].(map[string]any)
		got := [4]string{tp["kind"].(string), tp["channel"].(string), actor["id"].(string), actor["role"].(string)}
		require.Equal(t, [4]string{want.kind, want.channel, want.actor, want.role}, got, "touchpoint %d", i+1)
	}
	require.Equal(t, "confirm", tps[6].(map[string]any)["step"])
	require.Equal(t, "cover", tps[5].(map[string]any)["step"])
	requireNoAnswersLogged(t, h)
}

// requireNoAnswersLogged checks that the story's personal data (Anna's
// answers) never reached the logs, which did record every call.
func requireNoAnswersLogged(t *testing.T, h *harness) {
	t.Helper()
	logs := h.logs.String()
	require.Contains(t, logs, "UpdateJourney", "the calls were logged")
	// Only answers that cannot occur by chance in a timestamp or an id
	// (the birth year 1988 can: it once matched nanoseconds).
	for _, answer := range []string{"AB-123-C", "Volvo", "comprehensive"} {
		require.NotContains(t, logs, answer)
	}
}

func TestTheHandoffStoryOverGRPC(t *testing.T) {
	h := start(t, redisStore)
	web := as(t, websiteToken, "x-handoff-channel", "web")

	j, err := h.api.CreateJourney(web, &handoffv1.CreateJourneyRequest{
		Parent:    "customers/c-42",
		Journey:   &handoffv1.Journey{JourneyType: "car-insurance-quote", Step: "vehicle"},
		RequestId: "anna-1",
	})
	require.NoError(t, err)

	saves := []struct {
		step    string
		answers map[string]any
	}{
		{"vehicle", map[string]any{"vehicle": map[string]any{"plate": "AB-123-C", "make": "Volvo"}}},
		{"driver", map[string]any{"driver": map[string]any{"birthYear": 1988}}},
		{"cover", map[string]any{"cover": map[string]any{"level": "comprehensive"}}},
	}
	for _, s := range saves {
		data, err := structpb.NewStruct(s.answers)
		require.NoError(t, err)
		var paths []string
		for k := range s.answers {
			paths = append(paths, "data."+k)
		}
		j, err = h.api.UpdateJourney(web, &handoffv1.UpdateJourneyRequest{
			Journey:    &handoffv1.Journey{Name: j.GetName(), Step: s.step, Data: data, Etag: j.GetEtag()},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: append(paths, "step")},
		})
		require.NoError(t, err)
	}

	offer, err := h.api.HandoffJourney(web, &handoffv1.HandoffJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	require.Regexp(t, displayedCode, offer.GetCode())

	phone := as(t, aliceToken, "x-handoff-channel", "phone")
	resumed, err := h.api.RedeemHandoff(phone, &handoffv1.RedeemHandoffRequest{Code: offer.GetCode()})
	require.NoError(t, err)
	require.Equal(t, "cover", resumed.GetStep())
	require.Equal(t, "alice", resumed.GetAssignee())
	answers := resumed.GetData().AsMap()
	require.Equal(t, "AB-123-C", answers["vehicle"].(map[string]any)["plate"])
	require.Equal(t, float64(1988), answers["driver"].(map[string]any)["birthYear"])
	require.Equal(t, "comprehensive", answers["cover"].(map[string]any)["level"])

	_, err = h.api.UpdateJourney(phone, &handoffv1.UpdateJourneyRequest{
		Journey:    &handoffv1.Journey{Name: j.GetName(), Step: "confirm", Etag: resumed.GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"step"}},
	})
	require.NoError(t, err)

	mine, err := h.api.GetJourney(as(t, c42Token), &handoffv1.GetJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	require.Equal(t, "confirm", mine.GetStep())

	tl, err := h.api.ListTouchpoints(as(t, c42Token), &handoffv1.ListTouchpointsRequest{Parent: j.GetName()})
	require.NoError(t, err)
	require.Len(t, tl.GetTouchpoints(), len(wantTimeline))
	for i, want := range wantTimeline {
		tp := tl.GetTouchpoints()[i]
		got := [4]string{tp.GetKind().String(), tp.GetChannel().String(), tp.GetActor().GetId(), tp.GetActor().GetRole().String()}
		require.Equal(t, [4]string{want.kind, want.channel, want.actor, want.role}, got, "touchpoint %d", i+1)
	}
	requireNoAnswersLogged(t, h)
}
