package redis_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

// A journey the release before insight wrote has none of ech, fx, cst and
// rsm (docs/insight.md): its first write after the upgrade reports it as
// not counted (so insight does not take it out of an expiry forecast it
// was never in) and marks it counted from then on.
func TestInsight_aJourneyWrittenBeforeInsightIsCountedFromItsNextWrite(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(t *testing.T, s store.Store, k store.JourneyKey)
	}{
		{"by_a_save", func(t *testing.T, s store.Store, k store.JourneyKey) {
			v, _ := structpb.NewValue(1)
			at := time.Now().UTC().Truncate(time.Microsecond)
			_, err := s.SaveJourney(t.Context(), store.Save{
				Key: k, Answers: []store.AnswerChange{{Path: "n", Value: v}}, Channel: handoffv1.Channel_CHANNEL_WEB, UpdateTime: at,
				Type: "car-insurance-quote", TypeVersion: 1, Limits: store.AnswerLimits{Answers: 100, Bytes: 1 << 16},
				Touchpoint: &handoffv1.Touchpoint{Time: timestamppb.New(at), Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, Actor: &handoffv1.Actor{Id: "c-1", Role: handoffv1.Role_ROLE_CUSTOMER}},
			})
			require.NoError(t, err)
		}},
		{"by_an_update", func(t *testing.T, s store.Store, k store.JourneyKey) {
			j, err := s.GetJourney(t.Context(), k)
			require.NoError(t, err)
			j.UpdateTime = timestamppb.Now()
			_, err = s.UpdateJourney(t.Context(), store.Update{Journey: j, Touchpoints: []*handoffv1.Touchpoint{{Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_VIEWED}}})
			require.NoError(t, err)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []store.Written
			s, _ := newStore(t, storetest.Options{Writes: &store.WriteOptions{Observe: func(w store.Written) {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, w)
			}}})
			k := store.JourneyKey{Customer: "c-1", Journey: "j-1"}
			at := time.Now().UTC().Truncate(time.Microsecond)
			_, _, err := s.CreateJourney(t.Context(), &handoffv1.Journey{
				Name: k.Name(), JourneyType: "car-insurance-quote", JourneyTypeVersion: 1, State: handoffv1.JourneyState_JOURNEY_STATE_ACTIVE,
				Step: "vehicle", Channel: handoffv1.Channel_CHANNEL_WEB, CreateTime: timestamppb.New(at), UpdateTime: timestamppb.New(at),
			}, nil, "")
			require.NoError(t, err)
			hash := s.KeysOf(k).Journey
			require.NoError(t, client.HDel(t.Context(), hash, "ech", "fx", "cst", "rsm").Err(), "as the release before wrote it")

			tc.write(t, s, k)
			mu.Lock()
			last := seen[len(seen)-1]
			mu.Unlock()
			require.False(t, last.Counted)
			require.Equal(t, handoffv1.Channel_CHANNEL_UNSPECIFIED, last.Entry)
			require.Equal(t, "0", client.HGet(t.Context(), hash, "ech").Val(), "counted from now on")

			tc.write(t, s, k)
			mu.Lock()
			require.True(t, seen[len(seen)-1].Counted)
			mu.Unlock()
		})
	}
}
