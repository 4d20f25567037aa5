package app_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// Anna online and Ravi on the phone fill in different answers of one
// journey, each with the etag they read: both land. Only a save of an
// answer someone changed since is refused (design.md, "Conflicts per
// answer"), or any save when the caller asks for AIP-154's plain check.
func TestSavesWithAnEtagConflictOnlyOverWhatTheyWrite(t *testing.T) {
	h := start(t, redisStore)
	tests := []struct {
		name   string
		first  map[string]any // saved by the website with the etag read
		second map[string]any // then by the agent with the same etag
		query  string
		want   int
	}{
		{"different_answers_both_land", map[string]any{"data": map[string]any{"vehicle": map[string]any{"plate": "XY-987"}}},
			map[string]any{"data": map[string]any{"driver": map[string]any{"age": 42}}}, "", http.StatusOK},
		{"the_same_answer_is_refused", map[string]any{"data": map[string]any{"vehicle": map[string]any{"plate": "XY-987"}}},
			map[string]any{"data": map[string]any{"vehicle": map[string]any{"plate": "CD-456"}}}, "", http.StatusConflict},
		{"an_answer_under_one_changed_since_is_refused", map[string]any{"data": map[string]any{"vehicle": map[string]any{"plate": "XY-987"}}},
			map[string]any{"data": map[string]any{"vehicle": "none"}}, "?updateMask=data.vehicle", http.StatusConflict},
		{"the_step_after_a_step_is_refused", map[string]any{"step": "driver"}, map[string]any{"step": "cover"}, "", http.StatusConflict},
		{"the_whole_journey_check_refuses_any_change_since", map[string]any{"data": map[string]any{"vehicle": map[string]any{"plate": "XY-987"}}},
			map[string]any{"data": map[string]any{"driver": map[string]any{"age": 42}}}, "?wholeJourneyEtag=true", http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJourney(t, h, "c-42")
			path := "/v1/" + j.GetName()
			first, second := tt.first, tt.second
			first["etag"], second["etag"] = j.GetEtag(), j.GetEtag()
			status, body := h.rest(t, "PATCH", path, websiteToken, first)
			require.Equal(t, http.StatusOK, status, "%v", body)
			status, body = h.rest(t, "PATCH", path+tt.query, aliceToken, second, "X-Handoff-Channel", "phone")
			require.Equal(t, tt.want, status, "%v", body)
			if tt.want != http.StatusOK {
				require.Equal(t, codes.Aborted, codes.Code(body["code"].(float64)))
			}
		})
	}
}

func TestASaveReturnsWhatItsReadMaskNames(t *testing.T) {
	h := start(t, redisStore)
	j := newJourney(t, h, "c-42")

	t.Run("over_rest_a_website_asks_for_the_etag_alone", func(t *testing.T) {
		status, body := h.rest(t, "PATCH", "/v1/"+j.GetName()+"?readMask=etag,revision", websiteToken, map[string]any{"step": "driver"})
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.Equal(t, j.GetName(), body["name"])
		require.NotEmpty(t, body["etag"])
		require.NotEqual(t, "0", body["revision"])
		require.Empty(t, body["step"], "fields not asked for are not returned")
		require.Empty(t, body["data"])
	})
	t.Run("over_grpc_json_names_work_too", func(t *testing.T) {
		got, err := h.api.UpdateJourney(as(t, websiteToken), &handoffv1.UpdateJourneyRequest{
			Journey:  &handoffv1.Journey{Name: j.GetName(), Step: "cover"},
			ReadMask: &fieldmaskpb.FieldMask{Paths: []string{"etag", "updateTime", "step"}},
		})
		require.NoError(t, err)
		require.Equal(t, "cover", got.GetStep())
		require.NotNil(t, got.GetUpdateTime())
		require.Nil(t, got.GetData())
		require.Empty(t, got.GetJourneyType())
	})
	t.Run("without_one_the_whole_journey_comes_back", func(t *testing.T) {
		got, err := h.api.UpdateJourney(as(t, websiteToken), &handoffv1.UpdateJourneyRequest{
			Journey: &handoffv1.Journey{Name: j.GetName(), Data: &structpb.Struct{Fields: map[string]*structpb.Value{"cover": structpb.NewStringValue("full")}}},
		})
		require.NoError(t, err)
		require.Equal(t, "car-insurance-quote", got.GetJourneyType())
		require.Equal(t, "AB-123-C", got.GetData().GetFields()["vehicle"].GetStructValue().GetFields()["plate"].GetStringValue())
		require.Equal(t, "full", got.GetData().GetFields()["cover"].GetStringValue())
	})
	t.Run("a_field_the_journey_has_not_is_refused", func(t *testing.T) {
		status, body := h.rest(t, "PATCH", "/v1/"+j.GetName()+"?readMask=colour", websiteToken, map[string]any{"step": "driver"})
		require.Equal(t, http.StatusBadRequest, status, "%v", body)
		require.Contains(t, fieldViolations(t, body), "read_mask")
	})
}
