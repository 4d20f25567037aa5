package storetest

import (
	"google.golang.org/protobuf/proto"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// shortTTL is long enough to read a journey right after writing it and short
// enough to wait out; slack is how late after its expire_time a store may
// still show a journey (Redis expiry has millisecond precision).
const (
	shortTTL = 300 * time.Millisecond
	slack    = 30 * time.Millisecond
)

func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

func requireGone(t *testing.T, s store.Store, k store.JourneyKey) {
	t.Helper()
	_, err := s.GetJourney(t.Context(), k)
	require.ErrorIs(t, err, store.ErrNotFound, "the journey outlived its expire_time")
	_, _, err = s.ListTouchpoints(t.Context(), k, 0, 10)
	require.ErrorIs(t, err, store.ErrNotFound, "the timeline outlived its journey's expire_time")
}

func testExpiry(t *testing.T, newStore Factory) {
	t.Run("a_journey_and_its_timeline_are_gone_after_the_ttl", func(t *testing.T) {
		s := newStore(t, Options{TTL: shortTTL})
		k := key("c-1", "j-1")
		j := newJourney(t, k, now())
		got, _, err := s.CreateJourney(t.Context(), j, started(j), "r-1")
		require.NoError(t, err)
		requireProtoEqual(t, saved(j, got.GetEtag(), 1, shortTTL), got)
		require.Len(t, timeline(t, s, k), 1)

		sleepUntil(got.GetExpireTime().AsTime().Add(slack))
		requireGone(t, s, k)
		_, err = s.UpdateJourney(t.Context(), store.Update{Journey: got, ContentChanged: true})
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.SaveJourney(t.Context(), saveOf(k, answer(t, "n", 1)))
		require.ErrorIs(t, err, store.ErrNotFound)
		page, next, err := s.ListJourneys(t.Context(), "c-1", store.ListJourneysQuery{Limit: 10})
		require.NoError(t, err)
		require.Empty(t, page)
		require.Nil(t, next)

		// The journey a request id made is gone, so a create with that id
		// has nothing to answer with and creates.
		other := newJourney(t, key("c-1", "j-2"), now())
		_, created, err := s.CreateJourney(t.Context(), other, started(other), "r-1")
		require.NoError(t, err)
		require.True(t, created, "a request id outlived the journey it made")

		// The name is free again and the new journey starts a new timeline.
		again := newJourney(t, k, now())
		again.Step = "driver"
		first := started(again)
		made, created, err := s.CreateJourney(t.Context(), again, first, "")
		require.NoError(t, err)
		require.True(t, created)
		requireProtosEqual(t, named(k, 1, first), timeline(t, s, k))
		// And a new change log: the old journey's changes are not its own.
		require.Equal(t, int64(1), made.GetRevision())
		changes, complete := changesSince(t, s, k, 0)
		require.False(t, complete, "a create is not logged")
		require.Empty(t, changes, "nothing of the old journey's log")
		moved := proto.CloneOf(made)
		moved.Step = "cover"
		updated := update(t, s, moved)
		changes, complete = changesSince(t, s, k, 1)
		require.True(t, complete)
		requireProtosEqual(t, []*handoffv1.JourneyChange{updateChange(updated, nil)}, changes)
	})

	t.Run("an_update_moves_the_expiry_of_the_journey_and_its_timeline", func(t *testing.T) {
		s := newStore(t, Options{TTL: shortTTL})
		k := key("c-1", "j-1")
		created := create(t, s, newJourney(t, k, now()))

		sleepUntil(created.GetExpireTime().AsTime().Add(-shortTTL / 2))
		created.UpdateTime = timestamppb.New(now())
		tp := newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, "vehicle", now())
		updated := update(t, s, created, tp)
		requireProtoEqual(t, saved(created, updated.GetEtag(), 2, shortTTL), updated)
		require.True(t, updated.GetExpireTime().AsTime().After(created.GetExpireTime().AsTime()))

		// Past the first expiry both the journey and its whole timeline live on.
		sleepUntil(created.GetExpireTime().AsTime().Add(slack))
		requireProtoEqual(t, updated, get(t, s, k))
		require.Len(t, timeline(t, s, k), 2)

		sleepUntil(updated.GetExpireTime().AsTime().Add(slack))
		requireGone(t, s, k)
	})
}
