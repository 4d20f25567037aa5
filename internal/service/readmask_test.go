package service

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

func TestAReadMaskKeepsTheNameAndOnlyTheFieldsItAsksFor(t *testing.T) {
	data, err := structpb.NewStruct(map[string]any{"vehicle": map[string]any{"plate": "AB-123-C"}})
	require.NoError(t, err)
	update := timestamppb.New(time.Unix(1700000000, 0))
	journey := func() *handoffv1.Journey {
		return &handoffv1.Journey{
			Name: "customers/c-1/journeys/quote", JourneyType: "car-insurance-quote", Step: "driver",
			Data: data, Etag: "12", Revision: 3, UpdateTime: update,
			ExpireTime: timestamppb.New(time.Unix(1700003600, 0)), Channel: handoffv1.Channel_CHANNEL_WEB,
		}
	}
	for _, tc := range []struct {
		name  string
		paths []string
		want  *handoffv1.Journey
	}{
		{
			name:  "no_mask_keeps_the_whole_journey",
			paths: nil,
			want:  journey(),
		},
		{
			name:  "a_page_save_s_mask_keeps_the_etag_and_revision",
			paths: []string{"etag", "revision"},
			want:  &handoffv1.Journey{Name: "customers/c-1/journeys/quote", Etag: "12", Revision: 3},
		},
		{
			name:  "json_names_ask_for_the_same_fields",
			paths: []string{"updateTime", "data"},
			want:  &handoffv1.Journey{Name: "customers/c-1/journeys/quote", UpdateTime: update, Data: data},
		},
		{
			name:  "an_asked_field_the_journey_lacks_stays_unset",
			paths: []string{"assignee", "claim_expire_time", "step"},
			want:  &handoffv1.Journey{Name: "customers/c-1/journeys/quote", Step: "driver"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := readMaskOf(tc.paths)
			require.NoError(t, err)
			got := m.apply(journey())
			require.True(t, proto.Equal(tc.want, got), "got %v", got)
			require.Nil(t, got.GetClaimExpireTime(), "an unset message field stays nil")
		})
	}
}
