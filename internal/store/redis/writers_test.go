package redis_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

// TestAnswersStoredBeforeWritersWereKeptReadAndSave takes a journey whose
// answers read `<etag>:<size>:<value>`, as v2 wrote them before each
// answer named its writer (docs/layout.md, Upgrade): every answer reads,
// none names a writer, a save's per-answer etag check still compares
// them, and the answers a save writes name its touchpoint.
func TestAnswersStoredBeforeWritersWereKeptReadAndSave(t *testing.T) {
	s, prefix := newStore(t, storetest.Options{TTL: time.Hour})
	ctx := t.Context()
	key := store.JourneyKey{Customer: "c-1", Journey: "quote"}
	data, err := structpb.NewStruct(map[string]any{"vehicle": map[string]any{"plate": "AB-123", "year": 2019}})
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Microsecond)
	created, _, err := s.CreateJourney(ctx, &handoffv1.Journey{
		Name: key.Name(), JourneyType: "car-insurance-quote", State: handoffv1.JourneyState_JOURNEY_STATE_ACTIVE,
		Step: "vehicle", Data: data, CreateTime: timestamppb.New(now), UpdateTime: timestamppb.New(now),
	}, &handoffv1.Touchpoint{Time: timestamppb.New(now), Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_STARTED}, "")
	require.NoError(t, err)

	// Written as before: no writer after the etag.
	hash := prefix + "{c-1}:j:quote"
	fields, err := client.HGetAll(ctx, hash).Result()
	require.NoError(t, err)
	writer := regexp.MustCompile(`^(\d+)\.\d+:`)
	for f, v := range fields {
		if strings.HasPrefix(f, "d:") {
			require.Regexp(t, writer, v, "answer %s names no writer as written now", f)
			require.NoError(t, client.HSet(ctx, hash, f, writer.ReplaceAllString(v, "$1:")).Err())
		}
	}

	got, err := s.JourneyWithProvenance(ctx, key)
	require.NoError(t, err)
	require.Equal(t, data.AsMap(), got.GetData().AsMap())
	require.Empty(t, got.GetAnswerProvenance())

	save := func(path string, v any, ifEtag string) (*handoffv1.Journey, error) {
		value, err := structpb.NewValue(v)
		require.NoError(t, err)
		at := time.Now().UTC()
		return s.SaveJourney(ctx, store.Save{
			Key: key, IfEtag: ifEtag, Answers: []store.AnswerChange{{Path: path, Value: value}}, UpdateTime: at,
			Touchpoint:  &handoffv1.Touchpoint{Time: timestamppb.New(at), Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED},
			Limits:      store.AnswerLimits{Answers: 100, Bytes: 1 << 16},
			WantJourney: true,
		})
	}
	_, err = save("vehicle.year", 2020, created.GetEtag())
	require.NoError(t, err, "an old answer unchanged since the etag passes the check")
	full, err := s.JourneyWithProvenance(ctx, key)
	require.NoError(t, err)
	require.Equal(t, store.TouchpointName(key, 2), full.GetAnswerProvenance()["vehicle.year"].GetTouchpoint())
	require.Nil(t, full.GetAnswerProvenance()["vehicle.plate"])

	_, err = save("vehicle.year", 2021, created.GetEtag())
	require.ErrorIs(t, err, store.ErrConflict, "an answer changed since the etag is a conflict")
	_, err = save("vehicle.plate", "CD-456", created.GetEtag())
	require.NoError(t, err, "an old-format sibling unchanged since the etag is no conflict")
}
