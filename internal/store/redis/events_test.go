package redis_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/redis"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

// revisionsOf are the revisions of the journey's events, in stream order.
func revisionsOf(t *testing.T, s *redis.Store, key store.JourneyKey) []int64 {
	t.Helper()
	evs, err := s.ReadEvents(t.Context(), "", 1000, 0)
	require.NoError(t, err)
	var out []int64
	for _, ev := range evs {
		if ev.GetJourney() == key.Name() {
			out = append(out, ev.GetRevision())
		}
	}
	return out
}

func eventSave(key store.JourneyKey) store.Save {
	return store.Save{
		Key: key, UpdateTime: time.Now(), Touchpoint: touchpoint("vehicle"),
		Limits: store.AnswerLimits{Answers: 10, Bytes: 1000}, Type: "car-insurance-quote",
	}
}

// breakStream makes appends fail (the stream's key holds a string, the
// stream being set aside) until the returned func mends it.
func breakStream(t *testing.T, s *redis.Store) func() {
	t.Helper()
	ctx, aside := t.Context(), s.StreamKey()+":aside"
	n, err := client.Exists(ctx, s.StreamKey()).Result()
	require.NoError(t, err)
	if n == 1 {
		require.NoError(t, client.Rename(ctx, s.StreamKey(), aside).Err())
	}
	require.NoError(t, client.Set(ctx, s.StreamKey(), "in the way", 0).Err())
	return func() {
		t.Helper()
		require.NoError(t, client.Del(ctx, s.StreamKey()).Err())
		if n == 1 {
			require.NoError(t, client.Rename(ctx, aside, s.StreamKey()).Err())
		}
	}
}

func TestEventsOfAWriteAreAppendedOnce(t *testing.T) {
	ctx := t.Context()
	newEventStore := func(t *testing.T) *redis.Store {
		s, _ := newStore(t, storetest.Options{TTL: time.Hour, Events: &store.EventOptions{}})
		return s
	}
	key := store.JourneyKey{Customer: "c1", Journey: "j1"}

	t.Run("a_replayed_save_appends_nothing_twice", func(t *testing.T) {
		s := newEventStore(t)
		_, _, err := s.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "")
		require.NoError(t, err)
		first, second := s.SaveTwice(ctx, eventSave(key), func() {})
		require.NoError(t, first)
		require.NoError(t, second)
		require.Equal(t, []int64{1, 2}, revisionsOf(t, s, key))
	})

	t.Run("a_write_whose_events_could_not_be_appended_is_unavailable_and_its_replay_appends_them", func(t *testing.T) {
		s := newEventStore(t)
		_, _, err := s.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "")
		require.NoError(t, err)
		mend := breakStream(t, s)
		first, second := s.SaveTwice(ctx, eventSave(key), mend)
		require.ErrorIs(t, first, store.ErrUnavailable)
		require.NoError(t, second)
		require.Equal(t, []int64{1, 2}, revisionsOf(t, s, key))
	})

	t.Run("the_next_write_appends_what_a_failed_append_left_out_first", func(t *testing.T) {
		s := newEventStore(t)
		_, _, err := s.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "")
		require.NoError(t, err)
		mend := breakStream(t, s)
		_, err = s.SaveJourney(ctx, eventSave(key))
		require.ErrorIs(t, err, store.ErrUnavailable)
		mend()
		cur, err := s.GetJourney(ctx, key)
		require.NoError(t, err)
		cur.Assignee = "agent-ravi"
		_, err = s.UpdateJourney(ctx, store.Update{Journey: cur, Touchpoints: []*handoffv1.Touchpoint{touchpoint("vehicle")}})
		require.NoError(t, err)
		require.Equal(t, []int64{1, 2, 3}, revisionsOf(t, s, key))
	})

	t.Run("a_create_retried_by_its_request_id_appends_what_it_could_not", func(t *testing.T) {
		s := newEventStore(t)
		mend := breakStream(t, s)
		_, _, err := s.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "req-1")
		require.ErrorIs(t, err, store.ErrUnavailable)
		mend()
		_, created, err := s.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "req-1")
		require.NoError(t, err)
		require.False(t, created)
		_, _, err = s.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "req-1")
		require.NoError(t, err)
		require.Equal(t, []int64{1}, revisionsOf(t, s, key))
	})

	t.Run("a_journey_written_before_events_were_on_starts_at_its_next_write", func(t *testing.T) {
		// One prefix, two stores: without events, then with.
		before, prefix := newStore(t, storetest.Options{TTL: time.Hour})
		_, _, err := before.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "")
		require.NoError(t, err)
		_, err = before.SaveJourney(ctx, eventSave(key))
		require.NoError(t, err)

		after := redis.New(client, redis.WithKeyPrefix(prefix), redis.WithTTL(time.Hour), redis.WithEvents(store.EventOptions{}))
		_, err = after.SaveJourney(ctx, eventSave(key))
		require.NoError(t, err)
		require.Equal(t, []int64{3}, revisionsOf(t, after, key))
		got, err := after.GetJourney(ctx, key)
		require.NoError(t, err)
		require.Nil(t, got.GetReminderTime())
	})
}

// A reminder's record fields are read back by every read, and an update
// (which writes every other field) leaves them.
func TestAReminderSurvivesAnUpdate(t *testing.T) {
	ctx := t.Context()
	s, _ := newStore(t, storetest.Options{TTL: time.Hour, Events: &store.EventOptions{}})
	key := store.JourneyKey{Customer: "c1", Journey: "j1"}
	j, _, err := s.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "")
	require.NoError(t, err)
	at := time.Now().Truncate(time.Microsecond)
	_, err = s.RemindJourney(ctx, key, j.GetExpireTime().AsTime(), &handoffv1.Touchpoint{Time: timestamppb.New(at), Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_REMINDED})
	require.NoError(t, err)
	cur, err := s.GetJourney(ctx, key)
	require.NoError(t, err)
	cur.ReminderTime = nil // what a caller sends has no say
	cur.Assignee = "agent-ravi"
	out, err := s.UpdateJourney(ctx, store.Update{Journey: cur})
	require.NoError(t, err)
	require.True(t, out.GetReminderTime().AsTime().Equal(at))
	got, err := s.GetJourney(ctx, key)
	require.NoError(t, err)
	require.True(t, got.GetReminderTime().AsTime().Equal(at))
}

// erasedEvents counts the `customer.erased` events of customer.
func erasedEvents(t *testing.T, s *redis.Store, customer string) int {
	t.Helper()
	evs, err := s.ReadEvents(t.Context(), "", 1000, 0)
	require.NoError(t, err)
	n := 0
	for _, ev := range evs {
		if ev.GetType() == store.EventCustomerErased && ev.GetCustomer() == customer {
			n++
		}
	}
	return n
}

// requireNothingKeptOf checks that the events slot keeps nothing of the
// customer's journey.
func requireNothingKeptOf(t *testing.T, s *redis.Store, key store.JourneyKey) {
	t.Helper()
	ctx := t.Context()
	kept, err := client.HExists(ctx, s.EventsKey("journeys"), key.Name()).Result()
	require.NoError(t, err)
	require.False(t, kept, "the journeys hash keeps %s", key.Name())
	_, err = client.ZScore(ctx, s.EventsKey("due"), key.Name()).Result()
	require.ErrorIs(t, err, goredis.Nil, "the due set keeps %s", key.Name())
	n, err := client.Exists(ctx, s.EventsKey("c:"+key.Customer)).Result()
	require.NoError(t, err)
	require.Zero(t, n, "the customer's set is kept")
}

func TestErasureForgetsWhatEventsKeep(t *testing.T) {
	ctx := t.Context()
	key := store.JourneyKey{Customer: "c1", Journey: "j1"}

	t.Run("with_events_turned_off_since", func(t *testing.T) {
		on, prefix := newStore(t, storetest.Options{TTL: time.Hour, Events: &store.EventOptions{}})
		_, _, err := on.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "")
		require.NoError(t, err)

		off := redis.New(client, redis.WithKeyPrefix(prefix), redis.WithTTL(time.Hour))
		_, err = off.EraseCustomer(ctx, key.Customer)
		require.NoError(t, err)
		requireNothingKeptOf(t, on, key)
		require.Zero(t, erasedEvents(t, on, key.Customer), "customer.erased appended with events off")
	})

	t.Run("a_write_overtaken_by_the_erasure_appends_nothing_after_it", func(t *testing.T) {
		s, _ := newStore(t, storetest.Options{TTL: time.Hour, Events: &store.EventOptions{}})
		_, _, err := s.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "")
		require.NoError(t, err)
		var last string
		err = s.SaveEventsAfter(ctx, eventSave(key), func() {
			_, err := s.EraseCustomer(ctx, key.Customer)
			require.NoError(t, err)
			evs, err := s.ReadEvents(ctx, "", 1000, 0)
			require.NoError(t, err)
			last = evs[len(evs)-1].GetId()
		})
		require.NoError(t, err)
		after, err := s.ReadEvents(ctx, last, 1000, 0)
		require.NoError(t, err)
		require.Empty(t, after, "events appended after customer.erased")
		requireNothingKeptOf(t, s, key)

		// A journey created after the erasure has its events.
		_, _, err = s.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "")
		require.NoError(t, err)
		again, err := s.ReadEvents(ctx, last, 1000, 0)
		require.NoError(t, err)
		require.Len(t, again, 1)
		require.Equal(t, key.Name(), again[0].GetJourney())
	})

	t.Run("an_erasure_sent_twice_appends_customer_erased_once", func(t *testing.T) {
		s, _ := newStore(t, storetest.Options{TTL: time.Hour, Events: &store.EventOptions{}})
		_, _, err := s.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "")
		require.NoError(t, err)
		require.NoError(t, s.EraseEventsTwice(ctx, key.Customer))
		require.Equal(t, 1, erasedEvents(t, s, key.Customer))
		requireNothingKeptOf(t, s, key)
	})
}

// saveConcurrently saves each of keys n times at once, from its own
// goroutine each, and returns the errors.
func saveConcurrently(ctx context.Context, s *redis.Store, keys []store.JourneyKey, n int) []error {
	var wg sync.WaitGroup
	errs := make([]error, len(keys)*n)
	for i, k := range keys {
		for j := range n {
			wg.Go(func() { _, errs[i*n+j] = s.SaveJourney(ctx, eventSave(k)) })
		}
	}
	wg.Wait()
	return errs
}

func journeysOf(t *testing.T, s *redis.Store, n int) []store.JourneyKey {
	t.Helper()
	var keys []store.JourneyKey
	for i := range n {
		k := store.JourneyKey{Customer: "c" + strconv.Itoa(i%4), Journey: "j" + strconv.Itoa(i)}
		_, _, err := s.CreateJourney(t.Context(), newJourney(k, time.Now()), touchpoint("start"), "")
		require.NoError(t, err)
		keys = append(keys, k)
	}
	return keys
}

func TestEventAppendsOfConcurrentWritesGoTogether(t *testing.T) {
	ctx := t.Context()
	newEventStore := func(t *testing.T) *redis.Store {
		s, _ := newStore(t, storetest.Options{TTL: time.Hour, Events: &store.EventOptions{}})
		return s
	}

	t.Run("concurrent_saves_share_round_trips_and_each_appends_its_events_once_in_revision_order", func(t *testing.T) {
		s := newEventStore(t)
		keys := journeysOf(t, s, 16)
		sent0, calls0 := s.EventPipelines()
		for _, err := range saveConcurrently(ctx, s, keys, 8) {
			require.NoError(t, err)
		}
		sent, calls := s.EventPipelines()
		require.GreaterOrEqual(t, calls-calls0, int64(16*8), "one append a save at least (a gap's second call too)")
		require.Less(t, sent-sent0, calls-calls0, "every append went alone")
		for _, k := range keys {
			require.Equal(t, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}, revisionsOf(t, s, k))
		}
	})

	t.Run("appends_whose_script_redis_forgot_load_it_and_go_again", func(t *testing.T) {
		s := newEventStore(t)
		keys := journeysOf(t, s, 8)
		require.NoError(t, client.ScriptFlush(ctx).Err())
		for _, err := range saveConcurrently(ctx, s, keys, 4) {
			require.NoError(t, err)
		}
		for _, k := range keys {
			require.Equal(t, []int64{1, 2, 3, 4, 5}, revisionsOf(t, s, k))
		}
	})

	t.Run("a_batch_that_fails_answers_each_of_its_writes_unavailable_and_their_replays_append_what_was_missing", func(t *testing.T) {
		s := newEventStore(t)
		keys := journeysOf(t, s, 16)
		sent0, calls0 := s.EventPipelines()
		mend := breakStream(t, s)
		// Each save twice with the same write id, as go-redis resends a
		// script whose reply was lost: the first runs while appends
		// fail, the second once the stream is mended.
		var firsts, mended sync.WaitGroup
		firsts.Add(len(keys) * 4)
		mended.Add(1)
		results := make([][2]error, len(keys)*4)
		var wg sync.WaitGroup
		for i, k := range keys {
			for j := range 4 {
				wg.Go(func() {
					first, second := s.SaveTwice(ctx, eventSave(k), func() { firsts.Done(); mended.Wait() })
					results[i*4+j] = [2]error{first, second}
				})
			}
		}
		firsts.Wait()
		sent, calls := s.EventPipelines()
		mend()
		mended.Done()
		wg.Wait()
		require.Less(t, sent-sent0, calls-calls0, "every failed append went alone")
		for _, r := range results {
			require.ErrorIs(t, r[0], store.ErrUnavailable)
			require.NoError(t, r[1])
		}
		for _, k := range keys {
			require.Equal(t, []int64{1, 2, 3, 4, 5}, revisionsOf(t, s, k))
		}
	})
}

// A save's change record crosses back from Redis only when events are on,
// the one reader of it: without them it would be read for nothing.
func TestASaveReturnsItsChangeRecordOnlyWhenEventsAreOn(t *testing.T) {
	for _, tc := range []struct {
		name       string
		events     *store.EventOptions
		wantRecord bool
	}{
		{name: "a_store_without_events_gets_no_record_back", events: nil, wantRecord: false},
		{name: "a_store_with_events_gets_the_record_back", events: &store.EventOptions{}, wantRecord: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s, _ := newStore(t, storetest.Options{TTL: time.Hour, Events: tc.events})
			key := store.JourneyKey{Customer: "c-1", Journey: "quote"}
			_, _, err := s.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "")
			require.NoError(t, err)

			res, err := s.SaveReply(ctx, eventSave(key))
			require.NoError(t, err)
			require.Equal(t, "saved", res[0])
			require.Equal(t, tc.wantRecord, res[3] != "", "change record %q", res[3])
			if tc.wantRecord {
				require.Equal(t, byte(2), res[3][0], "the record's marker")
			}
		})
	}
}
