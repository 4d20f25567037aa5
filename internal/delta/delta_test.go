package delta_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/delta"
)

const name = "customers/c-1/journeys/j-1"

var (
	at    = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	later = at.Add(time.Minute)
)

func data(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	require.NoError(t, err)
	return s
}

// held is a journey at revision 7 with answers, held by alice: every kind
// of field a change can name is set.
func held(t *testing.T) *handoffv1.Journey {
	return &handoffv1.Journey{
		Name:                name,
		JourneyType:         "car-insurance-quote",
		State:               handoffv1.JourneyState_JOURNEY_STATE_ACTIVE,
		Step:                "vehicle",
		Data:                data(t, map[string]any{"vehicle": map[string]any{"plate": "AB-123", "year": 2019.0}, "cover": "full"}),
		Channel:             handoffv1.Channel_CHANNEL_WEB,
		Etag:                "4",
		CreateTime:          timestamppb.New(at),
		UpdateTime:          timestamppb.New(at),
		ExpireTime:          timestamppb.New(at.Add(time.Hour)),
		Revision:            7,
		Assignee:            "alice",
		AssigneeDisplayName: "Alice",
		AssigneeChannel:     handoffv1.Channel_CHANNEL_PHONE,
		ClaimExpireTime:     timestamppb.New(at.Add(5 * time.Minute)),
	}
}

// change is a delta to revision 8 naming paths, with values from j
// (whose name it sets).
func change(j *handoffv1.Journey, paths ...string) *handoffv1.JourneyChange {
	j.Name = name
	return &handoffv1.JourneyChange{Revision: 8, Journey: j, ChangedPaths: paths}
}

func TestApply(t *testing.T) {
	tests := []struct {
		name string
		// before is the journey the change applies to; nil for none.
		before func(t *testing.T) *handoffv1.Journey
		change func(t *testing.T) *handoffv1.JourneyChange
		// want is the journey after, given before.
		want func(t *testing.T, before *handoffv1.Journey) *handoffv1.Journey
	}{
		{
			name:   "a_snapshot_replaces_the_journey_whole",
			before: held,
			change: func(t *testing.T) *handoffv1.JourneyChange {
				j := &handoffv1.Journey{Name: name, Step: "driver", Revision: 8, Etag: "5"}
				// A mask on a snapshot means nothing: the journey is whole.
				c := change(j, "state")
				c.Snapshot = true
				return c
			},
			want: func(*testing.T, *handoffv1.Journey) *handoffv1.Journey {
				return &handoffv1.Journey{Name: name, Step: "driver", Revision: 8, Etag: "5"}
			},
		},
		{
			name:   "a_string_field_named_takes_the_value_the_change_holds",
			before: held,
			change: func(*testing.T) *handoffv1.JourneyChange {
				return change(&handoffv1.Journey{Step: "driver", Etag: "5"}, "step", "etag")
			},
			want: func(_ *testing.T, j *handoffv1.Journey) *handoffv1.Journey {
				j.Step, j.Etag, j.Revision = "driver", "5", 8
				return j
			},
		},
		{
			name:   "an_enum_field_named_takes_the_value_the_change_holds",
			before: held,
			change: func(*testing.T) *handoffv1.JourneyChange {
				return change(&handoffv1.Journey{State: handoffv1.JourneyState_JOURNEY_STATE_COMPLETED, Channel: handoffv1.Channel_CHANNEL_CHAT}, "state", "channel")
			},
			want: func(_ *testing.T, j *handoffv1.Journey) *handoffv1.Journey {
				j.State, j.Channel, j.Revision = handoffv1.JourneyState_JOURNEY_STATE_COMPLETED, handoffv1.Channel_CHANNEL_CHAT, 8
				return j
			},
		},
		{
			name:   "a_time_named_takes_the_value_the_change_holds",
			before: held,
			change: func(*testing.T) *handoffv1.JourneyChange {
				return change(&handoffv1.Journey{UpdateTime: timestamppb.New(later), ExpireTime: timestamppb.New(later.Add(time.Hour))}, "update_time", "expire_time")
			},
			want: func(_ *testing.T, j *handoffv1.Journey) *handoffv1.Journey {
				j.UpdateTime, j.ExpireTime, j.Revision = timestamppb.New(later), timestamppb.New(later.Add(time.Hour)), 8
				return j
			},
		},
		{
			name:   "fields_the_change_holds_but_does_not_name_are_ignored",
			before: held,
			change: func(*testing.T) *handoffv1.JourneyChange {
				return change(&handoffv1.Journey{Step: "driver", Etag: "5"}, "etag")
			},
			want: func(_ *testing.T, j *handoffv1.Journey) *handoffv1.Journey {
				j.Etag, j.Revision = "5", 8
				return j
			},
		},
		{
			name:   "a_cleared_holder_is_named_and_absent",
			before: held,
			change: func(*testing.T) *handoffv1.JourneyChange {
				return change(&handoffv1.Journey{}, "assignee", "assignee_display_name", "assignee_channel", "claim_expire_time")
			},
			want: func(_ *testing.T, j *handoffv1.Journey) *handoffv1.Journey {
				j.Assignee, j.AssigneeDisplayName, j.AssigneeChannel, j.ClaimExpireTime, j.Revision = "", "", 0, nil, 8
				return j
			},
		},
		{
			name:   "no_paths_move_only_the_revision",
			before: held,
			change: func(*testing.T) *handoffv1.JourneyChange { return change(&handoffv1.Journey{Step: "driver"}) },
			want: func(_ *testing.T, j *handoffv1.Journey) *handoffv1.Journey {
				j.Revision = 8
				return j
			},
		},
		{
			name:   "data_replaces_every_answer",
			before: held,
			change: func(t *testing.T) *handoffv1.JourneyChange {
				return change(&handoffv1.Journey{Data: data(t, map[string]any{"driver": map[string]any{"age": 42.0}})}, "data")
			},
			want: func(t *testing.T, j *handoffv1.Journey) *handoffv1.Journey {
				j.Data, j.Revision = data(t, map[string]any{"driver": map[string]any{"age": 42.0}}), 8
				return j
			},
		},
		{
			name:   "an_answer_path_sets_that_answer_and_keeps_its_siblings",
			before: held,
			change: func(t *testing.T) *handoffv1.JourneyChange {
				return change(&handoffv1.Journey{Data: data(t, map[string]any{"vehicle": map[string]any{"plate": "XY-987"}})}, "data.vehicle.plate")
			},
			want: func(t *testing.T, j *handoffv1.Journey) *handoffv1.Journey {
				j.Data, j.Revision = data(t, map[string]any{"vehicle": map[string]any{"plate": "XY-987", "year": 2019.0}, "cover": "full"}), 8
				return j
			},
		},
		{
			name:   "an_answer_path_naming_an_object_replaces_everything_under_it",
			before: held,
			change: func(t *testing.T) *handoffv1.JourneyChange {
				return change(&handoffv1.Journey{Data: data(t, map[string]any{"vehicle": map[string]any{"make": "Volvo"}})}, "data.vehicle")
			},
			want: func(t *testing.T, j *handoffv1.Journey) *handoffv1.Journey {
				j.Data, j.Revision = data(t, map[string]any{"vehicle": map[string]any{"make": "Volvo"}, "cover": "full"}), 8
				return j
			},
		},
		{
			name:   "an_answer_path_under_a_leaf_replaces_the_leaf_with_an_object",
			before: held,
			change: func(t *testing.T) *handoffv1.JourneyChange {
				return change(&handoffv1.Journey{Data: data(t, map[string]any{"cover": map[string]any{"level": "basic"}})}, "data.cover.level")
			},
			want: func(t *testing.T, j *handoffv1.Journey) *handoffv1.Journey {
				j.Data, j.Revision = data(t, map[string]any{"vehicle": map[string]any{"plate": "AB-123", "year": 2019.0}, "cover": map[string]any{"level": "basic"}}), 8
				return j
			},
		},
		{
			name:   "an_answer_path_named_but_absent_removes_the_answer",
			before: held,
			change: func(t *testing.T) *handoffv1.JourneyChange {
				return change(&handoffv1.Journey{Data: data(t, map[string]any{})}, "data.vehicle.plate")
			},
			want: func(t *testing.T, j *handoffv1.Journey) *handoffv1.Journey {
				j.Data, j.Revision = data(t, map[string]any{"vehicle": map[string]any{"year": 2019.0}, "cover": "full"}), 8
				return j
			},
		},
		{
			name:   "removing_the_last_answer_under_an_object_leaves_the_empty_object",
			before: held,
			change: func(t *testing.T) *handoffv1.JourneyChange {
				return change(&handoffv1.Journey{}, "data.vehicle.plate", "data.vehicle.year")
			},
			want: func(t *testing.T, j *handoffv1.Journey) *handoffv1.Journey {
				j.Data, j.Revision = data(t, map[string]any{"vehicle": map[string]any{}, "cover": "full"}), 8
				return j
			},
		},
		{
			name:   "data_replaced_then_one_answer_set_holds_both",
			before: held,
			change: func(t *testing.T) *handoffv1.JourneyChange {
				// A change names data and an answer when a save replaced
				// every answer and then set one: journey.data holds all
				// answers after the save, the one set among them.
				return change(&handoffv1.Journey{Data: data(t, map[string]any{"driver": map[string]any{"age": 42.0}, "cover": "basic"})}, "data", "data.cover")
			},
			want: func(t *testing.T, j *handoffv1.Journey) *handoffv1.Journey {
				j.Data, j.Revision = data(t, map[string]any{"driver": map[string]any{"age": 42.0}, "cover": "basic"}), 8
				return j
			},
		},
		{
			name: "an_answer_path_on_a_journey_without_answers_starts_them",
			before: func(t *testing.T) *handoffv1.Journey {
				j := held(t)
				j.Data = nil
				return j
			},
			change: func(t *testing.T) *handoffv1.JourneyChange {
				return change(&handoffv1.Journey{Data: data(t, map[string]any{"cover": "basic"})}, "data.cover")
			},
			want: func(t *testing.T, j *handoffv1.Journey) *handoffv1.Journey {
				j.Data, j.Revision = data(t, map[string]any{"cover": "basic"}), 8
				return j
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.before(t)
			c := tt.change(t)
			beforeCopy, changeCopy := proto.CloneOf(before), proto.CloneOf(c)

			got, err := delta.Apply(before, c)
			require.NoError(t, err)
			requireProtoEqual(t, tt.want(t, proto.CloneOf(before)), got)
			requireProtoEqual(t, beforeCopy, before, "Apply modified the journey it was given")
			requireProtoEqual(t, changeCopy, c, "Apply modified the change")

			// The result shares nothing with the change: a caller may keep
			// changing it while the change is handed to others.
			if got.Data != nil {
				got.Data.Fields["mutated"] = structpb.NewBoolValue(true)
			}
			if got.UpdateTime != nil {
				got.UpdateTime.Seconds++
			}
			requireProtoEqual(t, changeCopy, c, "the result shares messages with the change")
			requireProtoEqual(t, beforeCopy, before, "the result shares messages with the journey it was given")
		})
	}
}

func TestApplyRefuses(t *testing.T) {
	tests := []struct {
		name string
		path string
	}{
		{"a_path_that_names_no_field", "vehicle_plate"},
		{"a_nested_path_other_than_data", "assignee.id"},
		{"an_empty_path", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := held(t)
			beforeCopy := proto.CloneOf(before)
			_, err := delta.Apply(before, change(&handoffv1.Journey{Step: "driver"}, "step", tt.path))
			require.ErrorContains(t, err, "unknown field")
			requireProtoEqual(t, beforeCopy, before, "a refused change modified the journey")
		})
	}
}

func requireProtoEqual(t *testing.T, want, got proto.Message, msg ...string) {
	t.Helper()
	if !proto.Equal(want, got) {
		require.Failf(t, "messages differ", "want:\n%s\ngot:\n%s\n%v", prototext.Format(want), prototext.Format(got), msg)
	}
}
