package reminder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/memory"
)

// A journey the store has due that the worker finds not due (its type's
// remind_before shortened since it was scheduled) is scheduled again,
// neither reminded early nor returned by DueJourneys round after round.
func TestAJourneyFoundNotDueIsScheduledAgainNotRemindedEarly(t *testing.T) {
	var before atomic.Int64
	before.Store(int64(10 * time.Second))
	remindBefore := func(string, int64) time.Duration { return time.Duration(before.Load()) }
	st := memory.New(memory.WithTTL(time.Minute), memory.WithEvents(store.EventOptions{RemindBefore: remindBefore}))
	t.Cleanup(func() { _ = st.Close() })
	now := time.Now()
	key := store.JourneyKey{Customer: "c-1", Journey: "trip"}
	_, _, err := st.CreateJourney(t.Context(), &handoffv1.Journey{
		Name: key.Name(), JourneyType: "booking", State: handoffv1.JourneyState_JOURNEY_STATE_ACTIVE, Step: "dates",
		CreateTime: timestamppb.New(now), UpdateTime: timestamppb.New(now),
	}, &handoffv1.Touchpoint{Time: timestamppb.New(now), Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_STARTED, Step: "dates"}, "")
	require.NoError(t, err)

	// 55 s on, the store has it due (expiry − 10 s); the worker, told 1 s
	// since, does not.
	before.Store(int64(time.Second))
	later := now.Add(55 * time.Second)
	due, err := st.DueJourneys(t.Context(), later, 10)
	require.NoError(t, err)
	require.Equal(t, []store.JourneyKey{key}, due)

	w := &worker{opts: Options{Events: st, Journeys: st, RemindBefore: remindBefore, Holder: "test",
		Actor: &handoffv1.Actor{Id: "handoff", Role: handoffv1.Role_ROLE_SYSTEM}, LeaseTTL: time.Second,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return later }}}
	require.NoError(t, w.round(t.Context()))

	due, err = st.DueJourneys(t.Context(), later, 10)
	require.NoError(t, err)
	require.Empty(t, due, "scheduled again by what it is")
	events, err := st.ReadEvents(t.Context(), "", 10, 0)
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, store.EventTouched, events[0].GetType(), "not reminded early")
}

// failingPostpone is a store whose PostponeDue does not answer.
type failingPostpone struct {
	store.Events
	calls atomic.Int64
}

func (f *failingPostpone) PostponeDue(context.Context, store.JourneyKey, time.Time) error {
	f.calls.Add(1)
	return store.ErrUnavailable
}

// A batch of due journeys whose handling keeps failing (their type
// version does not load) is pushed later, so the reminder of a journey
// due after them still goes out; a store that does not take the push
// ends the round.
func TestJourneysThatKeepFailingDoNotHoldBackTheOthers(t *testing.T) {
	remindBefore := func(string, int64) time.Duration { return 10 * time.Second }
	st := memory.New(memory.WithTTL(time.Minute), memory.WithEvents(store.EventOptions{RemindBefore: remindBefore}))
	t.Cleanup(func() { _ = st.Close() })
	now := time.Now()
	createAt := func(key store.JourneyKey, journeyType string, at time.Time) {
		t.Helper()
		_, _, err := st.CreateJourney(t.Context(), &handoffv1.Journey{
			Name: key.Name(), JourneyType: journeyType, JourneyTypeVersion: 1, State: handoffv1.JourneyState_JOURNEY_STATE_ACTIVE, Step: "dates",
			CreateTime: timestamppb.New(at), UpdateTime: timestamppb.New(at),
		}, &handoffv1.Touchpoint{Time: timestamppb.New(at), Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_STARTED, Step: "dates"}, "")
		require.NoError(t, err)
	}
	for i := range batch {
		createAt(store.JourneyKey{Customer: "c-1", Journey: fmt.Sprintf("broken-%03d", i)}, "unloadable", now)
	}
	ok := store.JourneyKey{Customer: "c-2", Journey: "trip"}
	createAt(ok, "booking", now.Add(time.Second))

	later := now.Add(55 * time.Second)
	opts := Options{Journeys: st, RemindBefore: remindBefore, Holder: "test",
		Actor: &handoffv1.Actor{Id: "handoff", Role: handoffv1.Role_ROLE_SYSTEM}, LeaseTTL: 10 * time.Second,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return later },
		LoadType: func(_ context.Context, journeyType string, _ int64) error {
			if journeyType == "unloadable" {
				return errors.New("does not compile")
			}
			return nil
		}}

	// A store that does not take the push: the round ends at the first.
	failing := &failingPostpone{Events: st}
	opts.Events = failing
	require.ErrorIs(t, (&worker{opts: opts}).round(t.Context()), store.ErrUnavailable)
	require.Equal(t, int64(1), failing.calls.Load())

	opts.Events = st
	require.NoError(t, (&worker{opts: opts}).round(t.Context()))
	j, err := st.GetJourney(t.Context(), ok)
	require.NoError(t, err)
	require.NotNil(t, j.GetReminderTime(), "the journey due after the failing ones was not reminded")
	due, err := st.DueJourneys(t.Context(), later, 2*batch)
	require.NoError(t, err)
	require.Empty(t, due, "the failing ones are due later")
	due, err = st.DueJourneys(t.Context(), later.Add(retryAfter), 2*batch)
	require.NoError(t, err)
	broken := 0
	for _, k := range due {
		if k.Customer == "c-1" {
			broken++
		}
	}
	require.Equal(t, batch, broken, "the failing ones are due again after retryAfter")
}
