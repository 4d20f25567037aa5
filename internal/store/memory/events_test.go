package memory

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// Redis trims its stream approximately (MINID ~), so the suite cannot
// say when an event is gone; the memory store trims exactly.
func TestEventsOlderThanRetentionAreTrimmed(t *testing.T) {
	s := New(WithEvents(store.EventOptions{Retention: 50 * time.Millisecond}))
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	create := func(id string) {
		at := time.Now()
		j := &handoffv1.Journey{
			Name:       store.JourneyKey{Customer: "c-1", Journey: id}.Name(),
			State:      handoffv1.JourneyState_JOURNEY_STATE_ACTIVE,
			CreateTime: timestamppb.New(at),
			UpdateTime: timestamppb.New(at),
		}
		_, _, err := s.CreateJourney(t.Context(), j, &handoffv1.Touchpoint{Time: timestamppb.New(at)}, "")
		require.NoError(t, err)
	}
	create("j-1")
	time.Sleep(100 * time.Millisecond)
	create("j-2")
	evs, err := s.ReadEvents(t.Context(), "", 10, 0)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, store.JourneyKey{Customer: "c-1", Journey: "j-2"}.Name(), evs[0].GetJourney())
}

func TestEventsAreOffWithoutWithEvents(t *testing.T) {
	s := New()
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	_, err := s.ReadEvents(t.Context(), "", 10, 0)
	require.Error(t, err)
}
