package app_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
)

// fieldViolations digs google.rpc.BadRequest field names out of a REST error.
func fieldViolations(t *testing.T, body map[string]any) []string {
	t.Helper()
	var fields []string
	details, _ := body["details"].([]any)
	for _, d := range details {
		d := d.(map[string]any)
		if d["@type"] != "type.googleapis.com/google.rpc.BadRequest" {
			continue
		}
		for _, v := range d["fieldViolations"].([]any) {
			v := v.(map[string]any)
			require.Regexp(t, `^[A-Z][A-Z0-9_]*$`, v["reason"], "every violation has a reason a client can branch on: %v", v)
			require.NotContains(t, v, "localizedMessage", "no empty localized message: %v", v)
			fields = append(fields, v["field"].(string))
		}
	}
	return fields
}

// statusFieldViolations digs google.rpc.BadRequest field names out of a
// gRPC status.
func statusFieldViolations(st *status.Status) []string {
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

func TestBadInputIsRefusedWithFieldViolationsAndWritesNothing(t *testing.T) {
	h := start(t, redisStore)
	j := newJourney(t, h, "c-42")
	name := j.GetName()
	before := timeline(t, h, name)
	big := strings.Repeat("x", 70<<10)
	manyKeys := map[string]any{}
	for i := range 1001 { // one over the default limit, well under 64 KiB
		manyKeys[fmt.Sprintf("k%d", i)] = i
	}

	tests := []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"an_unknown_mask_path", "PATCH", "/v1/" + name + "?updateMask=colour", map[string]any{"step": "driver"}, "update_mask"},
		{"a_mask_path_with_an_empty_key", "PATCH", "/v1/" + name + "?updateMask=data..plate", map[string]any{"step": "driver"}, "update_mask"},
		{"answers_over_the_64_KiB_limit", "PATCH", "/v1/" + name, map[string]any{"data": map[string]any{"notes": big}}, "journey.data"},
		{"answers_with_1001_keys", "PATCH", "/v1/" + name + "?updateMask=data", map[string]any{"data": manyKeys}, "journey.data"},
		{"an_answer_key_with_a_dot", "PATCH", "/v1/" + name, map[string]any{"data": map[string]any{"a.b": 5}}, "journey.data"},
		{"answers_nested_40_levels_deep", "PATCH", "/v1/" + name + "?updateMask=data", `{"data":` + strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 41), "journey.data"},
		{"a_body_nested_5000_levels_deep", "PATCH", "/v1/" + name, `{"data":` + strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5001), "body"},
		{"invalid_utf8_in_json", "PATCH", "/v1/" + name + "?updateMask=step", "{\"step\": \"driv\xffer\"}", "body"},
		{"a_wrong_type_field_in_json", "PATCH", "/v1/" + name, `{"step": 5}`, "step"},
		{"an_unknown_json_field", "PATCH", "/v1/" + name + "?updateMask=step", `{"step": "driver", "colour": "red"}`, "colour"},
		{"malformed_json", "PATCH", "/v1/" + name + "?updateMask=step", `{"step": `, "body"},
		{"two_json_objects", "PATCH", "/v1/" + name, `{"data":{"a":1}}{"data":{"b":2}}`, "body"},
		{"a_json_object_then_garbage", "PATCH", "/v1/" + name + "?updateMask=step", `{"step": "driver"} garbage`, "body"},
		{"a_json_object_then_a_stray_brace", "PATCH", "/v1/" + name + "?updateMask=step", `{"step": "driver"}}`, "body"},
		{"a_malformed_page_token", "GET", "/v1/customers/c-42/journeys?pageToken=not-a-token", nil, "page_token"},
		{"a_negative_page_size", "GET", "/v1/customers/c-42/journeys?pageSize=-1", nil, "page_size"},
		{"a_non_numeric_page_size", "GET", "/v1/customers/c-42/journeys?pageSize=ten", nil, "page_size"},
		{"a_customer_id_with_a_brace", "POST", "/v1/customers/c%7B42%7D/journeys", map[string]any{"journeyType": "car-insurance-quote"}, "parent"},
		{"a_create_without_journey_type", "POST", "/v1/customers/c-42/journeys", map[string]any{"step": "vehicle"}, "journey"},
		{"an_invalid_journey_id", "POST", "/v1/customers/c-42/journeys?journeyId=Bad_Id", map[string]any{"journeyType": "car-insurance-quote"}, "journey_id"},
		{"an_unknown_channel_header", "PATCH", "/v1/" + name + "?updateMask=step", map[string]any{"step": "driver"}, "x-handoff-channel"},
		{"an_etag_and_answers_for_an_unknown_channel", "PATCH", "/v1/" + name + "?channel=FAX", map[string]any{"step": "driver"}, "channel"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"_is_invalid_argument", func(t *testing.T) {
			headers := []string{}
			if strings.Contains(tt.name, "channel_header") {
				headers = []string{"X-Handoff-Channel", "fax"}
			}
			status, body := h.rest(t, tt.method, tt.path, websiteToken, tt.body, headers...)
			require.Equal(t, http.StatusBadRequest, status, "%v", body)
			require.Equal(t, float64(codes.InvalidArgument), body["code"], "%v", body)
			require.Contains(t, fieldViolations(t, body), tt.field, "%v", body)
		})
	}
	tooLarge := []struct{ name, body string }{
		{"a_body_over_the_256_KiB_limit", `{"step":"` + strings.Repeat("x", 300<<10) + `"}`},
		{"a_10_MB_body", `{"step":"` + strings.Repeat("x", 10<<20) + `"}`},
	}
	for _, tt := range tooLarge {
		t.Run(tt.name+"_is_content_too_large_on_the_body", func(t *testing.T) {
			status, body := h.rest(t, "PATCH", "/v1/"+name, websiteToken, tt.body)
			require.Equal(t, http.StatusRequestEntityTooLarge, status, "%v", body)
			require.Equal(t, float64(codes.InvalidArgument), body["code"], "%v", body)
			require.Contains(t, fieldViolations(t, body), "body", "%v", body)
		})
	}

	t.Run("a_missing_customer_over_grpc_is_invalid_argument_on_parent", func(t *testing.T) {
		_, err := h.api.CreateJourney(as(t, websiteToken), &handoffv1.CreateJourneyRequest{Journey: &handoffv1.Journey{JourneyType: "x"}})
		st := requireCode(t, err, codes.InvalidArgument)
		require.Contains(t, statusFieldViolations(st), "parent")
	})

	t.Run("nothing_was_written", func(t *testing.T) {
		after, err := h.api.GetJourney(as(t, websiteToken), &handoffv1.GetJourneyRequest{Name: name})
		require.NoError(t, err)
		require.True(t, proto.Equal(j, after), "the journey changed:\n%v\n%v", j, after)
		require.Len(t, timeline(t, h, name), len(before))
		list, err := h.api.ListJourneys(as(t, websiteToken), &handoffv1.ListJourneysRequest{Parent: "customers/c-42"})
		require.NoError(t, err)
		require.Len(t, list.GetJourneys(), 1)
	})

	t.Run("a_json_object_then_whitespace_is_saved", func(t *testing.T) {
		status, body := h.rest(t, "PATCH", "/v1/"+name, websiteToken, "{\"data\": {\"a\": 1}} \r\n\t\n")
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.Equal(t, float64(1), body["data"].(map[string]any)["a"], "%v", body)
	})
}

func TestTheDataLimitIsConfigurable(t *testing.T) {
	h := start(t, memoryStore, func(c *config.Config) { c.MaxDataBytes = 1000 })
	j := newJourney(t, h, "c-42")
	status, body := h.rest(t, "PATCH", "/v1/"+j.GetName(), websiteToken, map[string]any{"data": map[string]any{"notes": strings.Repeat("x", 1200)}})
	require.Equal(t, http.StatusBadRequest, status, "%v", body)
	require.Contains(t, fieldViolations(t, body), "journey.data")
	status, body = h.rest(t, "PATCH", "/v1/"+j.GetName(), websiteToken, map[string]any{"data": map[string]any{"notes": strings.Repeat("x", 800)}})
	require.Equal(t, http.StatusOK, status, "%v", body)
}

func TestAPageLargerThanTheMaximumGetsTheMaximum(t *testing.T) {
	h := start(t, memoryStore, func(c *config.Config) { c.MaxPageSize = 3 })
	for range 5 {
		newJourney(t, h, "c-42")
	}
	var listed []string
	var token string
	for {
		resp, err := h.api.ListJourneys(as(t, websiteToken), &handoffv1.ListJourneysRequest{Parent: "customers/c-42", PageSize: 100, PageToken: token})
		require.NoError(t, err)
		require.LessOrEqual(t, len(resp.GetJourneys()), 3, "a page holds at most --max-page-size journeys")
		for _, j := range resp.GetJourneys() {
			listed = append(listed, j.GetName())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	require.Len(t, listed, 5, "the pages together list every journey once")
	for range 4 { // each agent read adds a VIEWED entry to the timeline
		_, err := h.api.GetJourney(as(t, aliceToken), &handoffv1.GetJourneyRequest{Name: listed[0]})
		require.NoError(t, err)
	}
	tps, err := h.api.ListTouchpoints(as(t, adminToken), &handoffv1.ListTouchpointsRequest{Parent: listed[0], PageSize: 100})
	require.NoError(t, err)
	require.Len(t, tps.GetTouchpoints(), 3, "the timeline is paged by the same maximum")
	require.NotEmpty(t, tps.GetNextPageToken())
}

func TestNumbersThatJSONCannotCarryAreRefused(t *testing.T) {
	h := start(t, memoryStore)
	j := newJourney(t, h, "c-42")
	for _, n := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			_, err := h.api.UpdateJourney(as(t, websiteToken), &handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{
				Name: j.GetName(), Data: &structpb.Struct{Fields: map[string]*structpb.Value{"premium": structpb.NewNumberValue(n)}},
			}})
			requireCode(t, err, codes.InvalidArgument)
		})
	}
	status, body := h.rest(t, "GET", "/v1/"+j.GetName(), websiteToken, nil)
	require.Equal(t, http.StatusOK, status, "%v", body)
}

func TestHostileRequestsLeaveTheServerUp(t *testing.T) {
	h := start(t, memoryStore)
	j := newJourney(t, h, "c-42")
	t.Run("a_100_KiB_header_is_refused", func(t *testing.T) {
		status, _ := h.rest(t, "GET", "/v1/"+j.GetName(), websiteToken, nil, "X-Padding", strings.Repeat("x", 100<<10))
		require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, status)
	})
	t.Run("a_put_on_a_journey_is_method_not_allowed", func(t *testing.T) {
		status, body := h.rest(t, "PUT", "/v1/"+j.GetName(), websiteToken, map[string]any{"step": "driver"})
		require.Equal(t, http.StatusMethodNotAllowed, status, "%v", body)
		require.Equal(t, float64(codes.Unimplemented), body["code"], "%v", body)
		require.Contains(t, body["message"], "PUT is not a method of", "%v", body)
	})
	t.Run("an_unknown_path_is_not_found", func(t *testing.T) {
		status, _ := h.rest(t, "GET", "/v1/nothing/here", websiteToken, nil)
		require.Equal(t, http.StatusNotFound, status)
	})
	t.Run("the_server_still_answers", func(t *testing.T) {
		status, body := h.rest(t, "GET", "/v1/"+j.GetName(), websiteToken, nil)
		require.Equal(t, http.StatusOK, status, "%v", body)
	})
}

// requireAnswerRefused checks that err refuses the answer at path (quoted,
// as the refusal names it) on journey.data, without echoing any answer.
func requireAnswerRefused(t *testing.T, err error, path string, answers ...string) {
	t.Helper()
	st := requireCode(t, err, codes.InvalidArgument)
	var descriptions []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == "journey.data" {
					descriptions = append(descriptions, v.GetDescription())
				}
			}
		}
	}
	require.Len(t, descriptions, 1, "%v", st)
	require.Contains(t, descriptions[0], strconv.Quote(path))
	for _, a := range answers {
		require.NotContains(t, descriptions[0], a, "a refusal names the answer, never its value")
		require.NotContains(t, st.Message(), a, "a refusal names the answer, never its value")
	}
}

// A google.protobuf.Value with no kind set is what `value {}` decodes to
// over gRPC. protojson cannot write one: stored, it made every REST read of
// its journey, and of the customer's whole list, answer 500.
func TestAnswersWithoutAValueAreRefusedOverGRPC(t *testing.T) {
	h := start(t, redisStore)
	j := newJourney(t, h, "c-42")
	before := websiteTimeline(t, h, j.GetName())
	none, red := &structpb.Value{}, structpb.NewStringValue("red")
	list := func(vs ...*structpb.Value) *structpb.Value {
		return structpb.NewListValue(&structpb.ListValue{Values: vs})
	}
	object := func(k string, v *structpb.Value) *structpb.Value {
		return structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{k: v}})
	}
	answers := []struct {
		name, key string
		value     *structpb.Value
		path      string
	}{
		{"an_answer_without_a_value", "colour", none, "colour"},
		{"an_answer_without_a_value_in_an_object", "vehicle", object("colour", none), "vehicle.colour"},
		{"a_list_item_without_a_value", "colours", list(red, none), "colours[1]"},
		{"a_list_item_without_a_value_in_an_object", "vehicle", object("colours", list(red, none)), "vehicle.colours[1]"},
		{"a_list_item_without_a_value_in_a_list_in_an_object", "vehicle", object("owners", list(list(red), list(red, red, none))), "vehicle.owners[1][2]"},
	}
	// Every caller that may save answers, on every way a save names them.
	saves := []struct {
		name, token string
		mask        func(key string) []string
	}{
		{"a_website_save", websiteToken, func(string) []string { return nil }},
		{"an_agent_save_naming_the_answer", aliceToken, func(k string) []string { return []string{"data." + k} }},
		{"a_customer_save_replacing_every_answer", c42Token, func(string) []string { return []string{"data"} }},
	}
	for _, a := range answers {
		data := &structpb.Struct{Fields: map[string]*structpb.Value{a.key: a.value, "plate": structpb.NewStringValue("AB-123-C")}}
		t.Run("a_customer_create_with_"+a.name+"_is_invalid_argument", func(t *testing.T) {
			_, err := h.api.CreateJourney(as(t, c42Token), &handoffv1.CreateJourneyRequest{
				Parent: "customers/c-42", JourneyId: "refused",
				Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote", Data: data},
			})
			requireAnswerRefused(t, err, a.path, "red", "AB-123-C")
		})
		for _, s := range saves {
			t.Run(s.name+"_with_"+a.name+"_is_invalid_argument", func(t *testing.T) {
				req := &handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{Name: j.GetName(), Data: data}}
				if m := s.mask(a.key); m != nil {
					req.UpdateMask = &fieldmaskpb.FieldMask{Paths: m}
				}
				_, err := h.api.UpdateJourney(as(t, s.token), req)
				requireAnswerRefused(t, err, a.path, "red", "AB-123-C")
			})
		}
	}

	t.Run("nothing_was_written_and_every_read_answers", func(t *testing.T) {
		after, err := h.api.GetJourney(as(t, websiteToken), &handoffv1.GetJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		require.True(t, proto.Equal(j, after), "the journey changed:\n%v\n%v", j, after)
		require.Len(t, websiteTimeline(t, h, j.GetName()), len(before))
		_, err = h.api.GetJourney(as(t, websiteToken), &handoffv1.GetJourneyRequest{Name: "customers/c-42/journeys/refused"})
		requireCode(t, err, codes.NotFound)
		status, body := h.rest(t, "GET", "/v1/"+j.GetName(), c42Token, nil)
		require.Equal(t, http.StatusOK, status, "%v", body)
		status, body = h.rest(t, "GET", "/v1/customers/c-42/journeys", c42Token, nil)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.Len(t, body["journeys"], 1)
	})
}

// JSON cannot spell a Value without a kind: its nearest spellings are
// ordinary answers (null, an empty object, an empty list), saved and read
// back as sent.
func TestJSONsNearestSpellingsOfNoValueAreOrdinaryAnswers(t *testing.T) {
	h := start(t, redisStore)
	spellings := []struct{ name, json string }{
		{"null", "null"},
		{"an_empty_object", "{}"},
		{"an_empty_list", "[]"},
	}
	places := []struct {
		name   string
		answer func(v string) string
	}{
		{"as_an_answer", func(v string) string { return `{"colour": ` + v + `}` }},
		{"in_an_object", func(v string) string { return `{"vehicle": {"colour": ` + v + `}}` }},
		{"in_a_list", func(v string) string { return `{"colours": ["red", ` + v + `]}` }},
		{"in_a_list_in_an_object", func(v string) string { return `{"vehicle": {"colours": ["red", ` + v + `]}}` }},
	}
	for _, sp := range spellings {
		for _, pl := range places {
			data := pl.answer(sp.json)
			var want map[string]any
			require.NoError(t, json.Unmarshal([]byte(data), &want))
			readBack := func(t *testing.T, name string) {
				t.Helper()
				status, got := h.rest(t, "GET", "/v1/"+name, c42Token, nil)
				require.Equal(t, http.StatusOK, status, "%v", got)
				require.Equal(t, want, got["data"])
			}
			t.Run(sp.name+"_"+pl.name+"_is_created_and_read_back", func(t *testing.T) {
				status, j := h.rest(t, "POST", "/v1/customers/c-42/journeys", websiteToken,
					`{"journeyType": "car-insurance-quote", "data": `+data+`}`)
				require.Equal(t, http.StatusOK, status, "%v", j)
				require.Equal(t, want, j["data"])
				readBack(t, j["name"].(string))
			})
			t.Run(sp.name+"_"+pl.name+"_is_saved_and_read_back", func(t *testing.T) {
				status, j := h.rest(t, "POST", "/v1/customers/c-42/journeys", websiteToken, `{"journeyType": "car-insurance-quote"}`)
				require.Equal(t, http.StatusOK, status, "%v", j)
				status, j = h.rest(t, "PATCH", "/v1/"+j["name"].(string), c42Token, `{"data": `+data+`}`)
				require.Equal(t, http.StatusOK, status, "%v", j)
				require.Equal(t, want, j["data"])
				readBack(t, j["name"].(string))
			})
		}
	}
	t.Run("over_grpc_the_same_answers_are_accepted_too", func(t *testing.T) {
		data, err := structpb.NewStruct(map[string]any{"colour": nil, "vehicle": map[string]any{}, "colours": []any{"red", nil, []any{}, map[string]any{}}})
		require.NoError(t, err)
		j, err := h.api.CreateJourney(as(t, websiteToken), &handoffv1.CreateJourneyRequest{
			Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote", Data: data},
		})
		require.NoError(t, err)
		require.True(t, proto.Equal(data, j.GetData()))
		status, got := h.rest(t, "GET", "/v1/"+j.GetName(), c42Token, nil)
		require.Equal(t, http.StatusOK, status, "%v", got)
		require.Equal(t, data.AsMap(), got["data"])
	})
}
