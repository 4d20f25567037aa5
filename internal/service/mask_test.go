package service

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/store/memory"
	"github.com/journeyhandoff/handoff/internal/watch"
)

func mustStruct(t testing.TB, m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	require.NoError(t, err)
	return s
}

func TestSaveWithAMask(t *testing.T) {
	stored := map[string]any{
		"vehicle": map[string]any{"plate": "AB-123-C", "make": "Volvo"},
		"driver":  map[string]any{"birthYear": 1988},
	}
	tests := []struct {
		name string
		mask []string
		req  *handoffv1.Journey
		want map[string]any
		step string
	}{
		{
			name: "a_data_path_replaces_only_that_answer",
			mask: []string{"data.vehicle.plate"},
			req:  &handoffv1.Journey{Data: mustStruct(t, map[string]any{"vehicle": map[string]any{"plate": "XY-999-Z", "make": "ignored"}})},
			want: map[string]any{"vehicle": map[string]any{"plate": "XY-999-Z", "make": "Volvo"}, "driver": map[string]any{"birthYear": 1988}},
		},
		{
			name: "a_data_path_missing_from_the_request_deletes_that_answer",
			mask: []string{"data.vehicle.make"},
			req:  &handoffv1.Journey{Data: mustStruct(t, map[string]any{})},
			want: map[string]any{"vehicle": map[string]any{"plate": "AB-123-C"}, "driver": map[string]any{"birthYear": 1988}},
		},
		{
			name: "a_data_path_creates_the_objects_on_its_way",
			mask: []string{"data.cover.extras.glass"},
			req:  &handoffv1.Journey{Data: mustStruct(t, map[string]any{"cover": map[string]any{"extras": map[string]any{"glass": true}}})},
			want: map[string]any{"vehicle": map[string]any{"plate": "AB-123-C", "make": "Volvo"}, "driver": map[string]any{"birthYear": 1988}, "cover": map[string]any{"extras": map[string]any{"glass": true}}},
		},
		{
			name: "data_replaces_every_answer",
			mask: []string{"data"},
			req:  &handoffv1.Journey{Data: mustStruct(t, map[string]any{"only": "this"})},
			want: map[string]any{"only": "this"},
		},
		{
			name: "step_leaves_the_answers_alone",
			mask: []string{"step"},
			req:  &handoffv1.Journey{Step: "cover", Data: mustStruct(t, map[string]any{"only": "this"})},
			want: stored,
			step: "cover",
		},
		{
			name: "an_empty_mask_saves_every_field_the_request_sets",
			req:  &handoffv1.Journey{Step: "cover"},
			want: stored,
			step: "cover",
		},
		{
			name: "name_and_etag_in_the_mask_are_ignored",
			mask: []string{"name", "etag", "step"},
			req:  &handoffv1.Journey{Name: "customers/x/journeys/y", Etag: "7", Step: "cover"},
			want: stored,
			step: "cover",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, err := savedThrough(t, stored, tt.mask, tt.req)
			require.NoError(t, err)
			require.True(t, proto.Equal(mustStruct(t, tt.want), cur.GetData()), "got %v", cur.GetData().AsMap())
			wantStep := tt.step
			if wantStep == "" {
				wantStep = "driver"
			}
			require.Equal(t, wantStep, cur.GetStep())
			require.Equal(t, "customers/c-42/journeys/j", cur.GetName())
		})
	}
}

// savedThrough saves req with mask through a service on the memory store,
// over a journey at step "driver" holding stored, and reads it back.
func savedThrough(t testing.TB, stored map[string]any, mask []string, req *handoffv1.Journey) (*handoffv1.Journey, error) {
	t.Helper()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	svc := New(st, watch.NewHub(st, 0), Options{})
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{ID: "shop-website", Role: handoffv1.Role_ROLE_SERVICE})
	j, err := svc.CreateJourney(ctx, &handoffv1.CreateJourneyRequest{
		Parent: "customers/c-42", JourneyId: "j",
		Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote", Step: "driver", Data: mustStruct(t, stored)},
	})
	if err != nil {
		return nil, err
	}
	req = proto.CloneOf(req)
	req.Name, req.Etag = j.GetName(), ""
	var fm *fieldmaskpb.FieldMask
	if mask != nil {
		fm = &fieldmaskpb.FieldMask{Paths: mask}
	}
	if _, err := svc.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{Journey: req, UpdateMask: fm}); err != nil {
		return nil, err
	}
	return svc.GetJourney(ctx, &handoffv1.GetJourneyRequest{Name: j.GetName()})
}

func TestSavePathsRefusesUnknownPaths(t *testing.T) {
	for _, p := range []string{"colour", "state", "assignee", "data.", "data..plate", "datax", "journey_type"} {
		t.Run(p, func(t *testing.T) {
			_, err := savePaths([]string{p}, &handoffv1.Journey{})
			require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
		})
	}
}

// FuzzSaveWithAMask saves arbitrary masks of arbitrary answers: it must
// never panic, touch anything but step and data, or leave answers that
// cannot be encoded.
func FuzzSaveWithAMask(f *testing.F) {
	f.Add(`{"vehicle":{"plate":"AB"}}`, "data.vehicle.plate")
	f.Add(`{"a":1}`, "data.a.b.c")
	f.Add(`{}`, "data")
	f.Add(`{"a":[1,2]}`, "data.a.0")
	f.Fuzz(func(t *testing.T, answers, path string) {
		req := &structpb.Struct{}
		if err := req.UnmarshalJSON([]byte(answers)); err != nil {
			return
		}
		cur, err := savedThrough(t, map[string]any{"a": map[string]any{"b": 1}}, []string{path}, &handoffv1.Journey{Data: req})
		if err != nil {
			return // refused, with a status
		}
		if cur.GetName() != "customers/c-42/journeys/j" || cur.GetState() != handoffv1.JourneyState_JOURNEY_STATE_ACTIVE {
			t.Fatalf("a save touched more than step and data: %v", cur)
		}
		if _, err := protojson.Marshal(cur); err != nil {
			t.Fatalf("answers no longer encode as JSON: %v", err)
		}
	})
}
