package storetest

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// remindBefore is the reminder lead of every journey type in these cases.
const remindBefore = 10 * time.Minute

// eventStore is a fresh store with events on (o.Events, or a reminder
// remindBefore ahead of every expiry) and its Events.
func eventStore(t *testing.T, newStore Factory, o Options) (store.Store, store.Events) {
	t.Helper()
	if o.Events == nil {
		o.Events = &store.EventOptions{RemindBefore: func(string, int64) time.Duration { return remindBefore }}
	}
	s := newStore(t, o)
	ev, ok := s.(store.Events)
	require.True(t, ok, "the store does not implement store.Events")
	return s, ev
}

// allEvents reads every event after `after`, without waiting.
func allEvents(t *testing.T, ev store.Events, after string) []*handoffv1.JourneyEvent {
	t.Helper()
	var out []*handoffv1.JourneyEvent
	for {
		page, err := ev.ReadEvents(t.Context(), after, 3, 0)
		require.NoError(t, err)
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].GetId()
	}
}

// lastEventID is the id of the newest event, "" when there is none.
func lastEventID(t *testing.T, ev store.Events) string {
	t.Helper()
	evs := allEvents(t, ev, "")
	if len(evs) == 0 {
		return ""
	}
	return evs[len(evs)-1].GetId()
}

// withoutIDs are copies of evs with their ids cleared, after checking
// that every one has an id and they increase.
func withoutIDs(t *testing.T, evs []*handoffv1.JourneyEvent) []*handoffv1.JourneyEvent {
	t.Helper()
	out := make([]*handoffv1.JourneyEvent, len(evs))
	for i, e := range evs {
		require.NotEmpty(t, e.GetId(), "event %d has no id", i)
		if i > 0 {
			require.True(t, idBefore(evs[i-1].GetId(), e.GetId()), "event ids %s then %s do not increase", evs[i-1].GetId(), e.GetId())
		}
		out[i] = proto.CloneOf(e)
		out[i].Id = ""
	}
	return out
}

// idBefore compares two stream ids, <ms>-<seq>.
func idBefore(a, b string) bool {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	if len(am) != len(bm) {
		return len(am) < len(bm)
	}
	if am != bm {
		return am < bm
	}
	if len(as) != len(bs) {
		return len(as) < len(bs)
	}
	return as < bs
}

// touched is the event a touchpoint tp (as the timeline keeps it) of
// journey j (as the write returned it) must become.
func touched(k store.JourneyKey, j *handoffv1.Journey, tp *handoffv1.Touchpoint) *handoffv1.JourneyEvent {
	clean := proto.CloneOf(tp)
	clean.Note, clean.Reason = "", ""
	kind := store.EventTouched
	if tp.GetKind() == handoffv1.TouchpointKind_TOUCHPOINT_KIND_REMINDED {
		kind = store.EventExpiring
	}
	return &handoffv1.JourneyEvent{
		Type:               kind,
		Time:               tp.GetTime(),
		Journey:            k.Name(),
		Customer:           k.Customer,
		JourneyType:        j.GetJourneyType(),
		JourneyTypeVersion: j.GetJourneyTypeVersion(),
		State:              j.GetState(),
		Step:               tp.GetStep(),
		Revision:           j.GetRevision(),
		Touchpoint:         clean,
		ExpireTime:         j.GetExpireTime(),
		ReminderTime:       j.GetReminderTime(),
	}
}

// requireNoneOf fails when an event's JSON holds one of secrets.
func requireNoneOf(t *testing.T, evs []*handoffv1.JourneyEvent, secrets ...string) {
	t.Helper()
	for _, e := range evs {
		b, err := protojson.Marshal(e)
		require.NoError(t, err)
		for _, secret := range secrets {
			require.NotContains(t, string(b), secret, "event %s gives away %q", e.GetId(), secret)
		}
	}
}

func reminded(at time.Time) *handoffv1.Touchpoint {
	return &handoffv1.Touchpoint{
		Time:    timestamppb.New(at),
		Channel: handoffv1.Channel_CHANNEL_UNSPECIFIED,
		Actor:   &handoffv1.Actor{Id: "handoffd", Role: handoffv1.Role_ROLE_SERVICE},
		Kind:    handoffv1.TouchpointKind_TOUCHPOINT_KIND_REMINDED,
	}
}

// due is DueJourneys at at that must succeed.
func due(t *testing.T, ev store.Events, at time.Time) []store.JourneyKey {
	t.Helper()
	keys, err := ev.DueJourneys(t.Context(), at, 100)
	require.NoError(t, err)
	return keys
}

func testEvents(t *testing.T, newStore Factory) {
	t.Run("every_touchpoint_of_creates_saves_and_updates_becomes_one_event_in_revision_order_without_answers_notes_or_reasons", func(t *testing.T) {
		s, ev := eventStore(t, newStore, Options{})
		k := key("c-1", "j-1")
		j := newJourney(t, k, now())
		first := started(j)
		first.Note = "note: customer sounded worried"
		created, _, err := s.CreateJourney(t.Context(), j, first, "")
		require.NoError(t, err)

		sv := saveOf(k, answer(t, "vehicle.colour", "ultramarine-secret"))
		sv.SetStep, sv.Step = true, "driver"
		sv.Touchpoint.Note = "note: called back"
		saved := save(t, s, sv)

		noTouch := saveOf(k, answer(t, "n", 7))
		noTouch.Touchpoint = nil
		untouched := save(t, s, noTouch)

		claim := get(t, s, k)
		claim.Assignee = "agent-ravi"
		claim.UpdateTime = timestamppb.New(now())
		tpClaim := newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_CLAIMED, "driver", now())
		tpClaim.Reason = "reason: escalated by the customer"
		tpNote := newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_HANDOFF_OFFERED, "driver", now())
		tpNote.Note = "note: wants a call at 5"
		claimedJ := touch(t, s, claim, tpClaim, tpNote)

		done := get(t, s, k)
		done.State = handoffv1.JourneyState_JOURNEY_STATE_COMPLETED
		done.UpdateTime = timestamppb.New(now())
		completed := update(t, s, done, newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_COMPLETED, "driver", now()))

		tl := timeline(t, s, k)
		require.Len(t, tl, 5)
		want := []*handoffv1.JourneyEvent{
			touched(k, created, tl[0]),
			touched(k, saved, tl[1]),
			touched(k, claimedJ, tl[2]),
			touched(k, claimedJ, tl[3]),
			touched(k, completed, tl[4]),
		}
		evs := allEvents(t, ev, "")
		requireProtosEqual(t, want, withoutIDs(t, evs))
		require.Equal(t, int64(3), untouched.GetRevision(), "the save without a touchpoint moved the revision, and appended no event")
		requireNoneOf(t, evs, "ultramarine-secret", "AB-123", "2019", "note:", "reason:")
	})

	t.Run("many_concurrent_saves_to_many_journeys_and_to_one_journey_append_each_event_once_in_revision_order", func(t *testing.T) {
		s, ev := eventStore(t, newStore, Options{})
		const journeys, each, onOne = 12, 8, 32
		var keys []store.JourneyKey
		for i := range journeys {
			keys = append(keys, key("c-"+strconv.Itoa(i%3), "j-"+strconv.Itoa(i)))
		}
		one := key("c-one", "j-one")
		for _, k := range append(keys, one) {
			create(t, s, newJourney(t, k, now()))
		}
		var wg sync.WaitGroup
		errs := make(chan error, journeys*each+onOne)
		for _, k := range keys {
			for n := range each {
				wg.Go(func() {
					_, err := s.SaveJourney(t.Context(), saveOf(k, store.AnswerChange{Path: "n", Value: structpb.NewNumberValue(float64(n))}))
					errs <- err
				})
			}
		}
		for n := range onOne {
			wg.Go(func() {
				_, err := s.SaveJourney(t.Context(), saveOf(one, store.AnswerChange{Path: "n", Value: structpb.NewNumberValue(float64(n))}))
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		revisions := map[string][]int64{}
		for _, e := range allEvents(t, ev, "") {
			revisions[e.GetJourney()] = append(revisions[e.GetJourney()], e.GetRevision())
		}
		upTo := func(n int64) []int64 {
			var out []int64
			for r := int64(1); r <= n; r++ {
				out = append(out, r)
			}
			return out
		}
		for _, k := range keys {
			require.Equal(t, upTo(1+each), revisions[k.Name()], "the events of %s", k.Name())
		}
		require.Equal(t, upTo(1+onOne), revisions[one.Name()], "the events of %s", one.Name())
		require.Len(t, revisions, journeys+1)
	})

	t.Run("a_journey_created_again_after_erasure_starts_its_events_over", func(t *testing.T) {
		s, ev := eventStore(t, newStore, Options{})
		k := key("c-1", "j-1")
		j := newJourney(t, k, now())
		create(t, s, j)
		save(t, s, saveOf(k, answer(t, "n", 1)))
		_, err := s.EraseCustomer(t.Context(), "c-1")
		require.NoError(t, err)
		after := lastEventID(t, ev)

		again := create(t, s, newJourney(t, k, now()))
		evs := allEvents(t, ev, after)
		requireProtosEqual(t, []*handoffv1.JourneyEvent{touched(k, again, timeline(t, s, k)[0])}, withoutIDs(t, evs))
	})

	t.Run("a_journey_created_again_after_it_expired_starts_its_events_over", func(t *testing.T) {
		s, ev := eventStore(t, newStore, Options{TTL: shortTTL})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		last := save(t, s, saveOf(k, answer(t, "n", 1)))
		sleepUntil(last.GetExpireTime().AsTime().Add(slack))
		requireGone(t, s, k)
		after := lastEventID(t, ev)

		again := create(t, s, newJourney(t, k, now()))
		evs := allEvents(t, ev, after)
		requireProtosEqual(t, []*handoffv1.JourneyEvent{touched(k, again, timeline(t, s, k)[0])}, withoutIDs(t, evs))
	})

	t.Run("a_journey_is_due_for_its_reminder_before_its_expiry_and_a_reminder_is_recorded_once", func(t *testing.T) {
		s, ev := eventStore(t, newStore, Options{TTL: time.Hour})
		k := key("c-1", "j-1")
		created := create(t, s, newJourney(t, k, now()))
		expires := created.GetExpireTime().AsTime()
		remindAt := expires.Add(-remindBefore)

		require.Empty(t, due(t, ev, remindAt.Add(-time.Millisecond)))
		require.Equal(t, []store.JourneyKey{k}, due(t, ev, remindAt))

		after := lastEventID(t, ev)
		at := now()
		got, err := ev.RemindJourney(t.Context(), k, expires, reminded(at))
		require.NoError(t, err)
		require.Equal(t, created.GetEtag(), got.GetEtag(), "a reminder moved the etag")
		require.Equal(t, created.GetRevision()+1, got.GetRevision())
		require.True(t, got.GetExpireTime().AsTime().Equal(expires), "a reminder moved the expiry")
		require.True(t, got.GetReminderTime().AsTime().Equal(at), "reminder_time is %v, want %v", got.GetReminderTime(), at)
		requireProtoEqual(t, got, get(t, s, k))

		tl := timeline(t, s, k)
		require.Len(t, tl, 2)
		require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_REMINDED, tl[1].GetKind())
		evs := allEvents(t, ev, after)
		requireProtosEqual(t, []*handoffv1.JourneyEvent{touched(k, got, tl[1])}, withoutIDs(t, evs))

		changes, complete := changesSince(t, s, k, created.GetRevision())
		require.True(t, complete)
		require.Len(t, changes, 1)
		require.Equal(t, store.RemindPaths, changes[0].GetChangedPaths())

		// Next due at its expiry, and reminded once for it.
		require.Empty(t, due(t, ev, remindAt))
		require.Equal(t, []store.JourneyKey{k}, due(t, ev, expires))
		_, err = ev.RemindJourney(t.Context(), k, expires, reminded(now()))
		require.ErrorIs(t, err, store.ErrConflict)
		require.Len(t, timeline(t, s, k), 2)

		// A touch after the reminder carries it, and schedules the next.
		sv := saveOf(k, answer(t, "n", 2))
		sv.UpdateTime = at.Add(time.Minute)
		sv.Touchpoint.Time = timestamppb.New(sv.UpdateTime)
		resumed := save(t, s, sv)
		require.True(t, resumed.GetReminderTime().AsTime().Equal(at))
		evs = allEvents(t, ev, evs[len(evs)-1].GetId())
		require.Len(t, evs, 1)
		require.True(t, evs[0].GetReminderTime().AsTime().Equal(at), "a touch after a reminder does not carry it")
		newExpiry := resumed.GetExpireTime().AsTime()
		require.Empty(t, due(t, ev, newExpiry.Add(-remindBefore-time.Millisecond)))
		require.Equal(t, []store.JourneyKey{k}, due(t, ev, newExpiry.Add(-remindBefore)))
	})

	t.Run("a_journey_touched_after_it_was_scheduled_is_not_due_until_its_new_time", func(t *testing.T) {
		s, ev := eventStore(t, newStore, Options{TTL: time.Hour})
		k := key("c-1", "j-1")
		created := create(t, s, newJourney(t, k, now()))
		sv := saveOf(k, answer(t, "n", 1))
		sv.UpdateTime = created.GetUpdateTime().AsTime().Add(20 * time.Minute)
		saved := save(t, s, sv)

		oldRemind := created.GetExpireTime().AsTime().Add(-remindBefore)
		require.Empty(t, due(t, ev, oldRemind))
		_, err := ev.RemindJourney(t.Context(), k, created.GetExpireTime().AsTime(), reminded(now()))
		require.ErrorIs(t, err, store.ErrConflict, "a reminder for an expiry the journey no longer has")
		require.Equal(t, []store.JourneyKey{k}, due(t, ev, saved.GetExpireTime().AsTime().Add(-remindBefore)))
	})

	t.Run("journeys_are_due_earliest_first_up_to_the_limit", func(t *testing.T) {
		s, ev := eventStore(t, newStore, Options{TTL: time.Hour})
		at := now()
		for i, id := range []string{"j-3", "j-1", "j-2"} {
			j := newJourney(t, key("c-1", id), at)
			j.UpdateTime = timestamppb.New(at.Add(time.Duration(i) * time.Minute))
			create(t, s, j)
		}
		keys, err := ev.DueJourneys(t.Context(), at.Add(2*time.Hour), 2)
		require.NoError(t, err)
		require.Equal(t, []store.JourneyKey{key("c-1", "j-3"), key("c-1", "j-1")}, keys)
	})

	t.Run("a_postponed_journey_is_due_at_its_new_time_and_an_unscheduled_one_stays_unscheduled", func(t *testing.T) {
		s, ev := eventStore(t, newStore, Options{TTL: time.Hour})
		k, other := key("c-1", "j-1"), key("c-1", "j-2")
		j := create(t, s, newJourney(t, k, now()))
		create(t, s, newJourney(t, other, now()))
		remindAt := j.GetExpireTime().AsTime().Add(-remindBefore)
		require.ElementsMatch(t, []store.JourneyKey{k, other}, due(t, ev, remindAt.Add(time.Second)))

		later := remindAt.Add(5 * time.Minute)
		require.NoError(t, ev.PostponeDue(t.Context(), k, later))
		require.Equal(t, []store.JourneyKey{other}, due(t, ev, later.Add(-time.Second)))
		require.Equal(t, []store.JourneyKey{other, k}, due(t, ev, later.Add(time.Second)))

		_, err := s.EraseCustomer(t.Context(), "c-1")
		require.NoError(t, err)
		require.NoError(t, ev.PostponeDue(t.Context(), k, later))
		require.Empty(t, due(t, ev, later.Add(time.Hour)), "an erased journey scheduled again")
	})

	t.Run("a_journey_that_is_not_active_is_not_reminded_and_is_due_at_its_expiry", func(t *testing.T) {
		s, ev := eventStore(t, newStore, Options{TTL: time.Hour})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		done := get(t, s, k)
		done.State = handoffv1.JourneyState_JOURNEY_STATE_COMPLETED
		done = update(t, s, done)
		expires := done.GetExpireTime().AsTime()
		require.Empty(t, due(t, ev, expires.Add(-remindBefore)))
		require.Equal(t, []store.JourneyKey{k}, due(t, ev, expires))
		before := snap(t, s, k)
		_, err := ev.RemindJourney(t.Context(), k, expires, reminded(now()))
		require.ErrorIs(t, err, store.ErrConflict)
		requireUnchanged(t, s, k, before)
	})

	t.Run("reminding_a_journey_that_is_gone_is_not_found", func(t *testing.T) {
		_, ev := eventStore(t, newStore, Options{})
		_, err := ev.RemindJourney(t.Context(), key("c-1", "j-1"), now(), reminded(now()))
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("a_journey_that_is_gone_when_its_expiry_is_due_gets_journey_expired_once", func(t *testing.T) {
		s, ev := eventStore(t, newStore, Options{TTL: shortTTL})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		sv := saveOf(k, answer(t, "n", 1))
		sv.SetStep, sv.Step = true, "driver"
		last := save(t, s, sv)

		gone, err := ev.ExpireJourney(t.Context(), k, now())
		require.NoError(t, err)
		require.False(t, gone, "a journey that exists was expired")
		after := lastEventID(t, ev)

		expires := last.GetExpireTime().AsTime()
		sleepUntil(expires.Add(slack))
		requireGone(t, s, k)
		require.Equal(t, []store.JourneyKey{k}, due(t, ev, now()))
		at := now()
		gone, err = ev.ExpireJourney(t.Context(), k, at)
		require.NoError(t, err)
		require.True(t, gone)
		evs := allEvents(t, ev, after)
		requireProtosEqual(t, []*handoffv1.JourneyEvent{{
			Type:        store.EventExpired,
			Time:        timestamppb.New(expires),
			Journey:     k.Name(),
			Customer:    k.Customer,
			JourneyType: last.GetJourneyType(),
			State:       handoffv1.JourneyState_JOURNEY_STATE_ACTIVE,
			Step:        "driver",
			Revision:    last.GetRevision(),
			ExpireTime:  last.GetExpireTime(),
		}}, withoutIDs(t, evs))

		require.Empty(t, due(t, ev, now().Add(time.Hour)), "an expired journey is still scheduled")
		gone, err = ev.ExpireJourney(t.Context(), k, now())
		require.NoError(t, err)
		require.True(t, gone)
		require.Len(t, allEvents(t, ev, after), 1, "journey.expired appended twice")
	})

	t.Run("erasing_a_customer_appends_customer_erased_and_unschedules_its_journeys", func(t *testing.T) {
		s, ev := eventStore(t, newStore, Options{TTL: time.Hour})
		for _, k := range []store.JourneyKey{key("c-1", "j-1"), key("c-1", "j-2"), key("c-2", "j-1")} {
			create(t, s, newJourney(t, k, now()))
		}
		after := lastEventID(t, ev)
		at := now()
		_, err := s.EraseCustomer(t.Context(), "c-1")
		require.NoError(t, err)

		evs := allEvents(t, ev, after)
		require.Len(t, evs, 1)
		require.Equal(t, store.EventCustomerErased, evs[0].GetType())
		require.Equal(t, "c-1", evs[0].GetCustomer())
		require.Empty(t, evs[0].GetJourney())
		require.False(t, evs[0].GetTime().AsTime().Before(at.Truncate(time.Millisecond)))
		require.Equal(t, []store.JourneyKey{key("c-2", "j-1")}, due(t, ev, now().Add(2*time.Hour)))

		// Nothing of an erased journey is told again.
		gone, err := ev.ExpireJourney(t.Context(), key("c-1", "j-1"), now())
		require.NoError(t, err)
		require.True(t, gone)
		require.Len(t, allEvents(t, ev, after), 1)
	})

	t.Run("reading_events_pages_after_an_id_and_waits_for_new_ones", func(t *testing.T) {
		s, ev := eventStore(t, newStore, Options{})
		for _, id := range []string{"j-1", "j-2", "j-3"} {
			create(t, s, newJourney(t, key("c-1", id), now()))
		}
		all := allEvents(t, ev, "")
		require.Len(t, all, 3)
		page, err := ev.ReadEvents(t.Context(), all[0].GetId(), 1, 0)
		require.NoError(t, err)
		requireProtosEqual(t, all[1:2], page)

		start := time.Now()
		page, err = ev.ReadEvents(t.Context(), all[2].GetId(), 10, 100*time.Millisecond)
		require.NoError(t, err)
		require.Empty(t, page)
		require.GreaterOrEqual(t, time.Since(start), 90*time.Millisecond, "ReadEvents did not wait")

		got := make(chan []*handoffv1.JourneyEvent, 1)
		go func() {
			page, err := ev.ReadEvents(t.Context(), all[2].GetId(), 10, 10*time.Second)
			if err != nil {
				page = nil
			}
			got <- page
		}()
		time.Sleep(50 * time.Millisecond)
		start = time.Now()
		create(t, s, newJourney(t, key("c-1", "j-4"), now()))
		select {
		case page := <-got:
			require.Len(t, page, 1)
			require.Equal(t, key("c-1", "j-4").Name(), page[0].GetJourney())
			require.Less(t, time.Since(start), 5*time.Second)
		case <-time.After(10 * time.Second):
			t.Fatal("a waiting ReadEvents did not wake for a new event")
		}
	})

	t.Run("a_cursor_never_moves_back", func(t *testing.T) {
		_, ev := eventStore(t, newStore, Options{})
		ctx := t.Context()
		cur, err := ev.EventCursor(ctx, "crm")
		require.NoError(t, err)
		require.Empty(t, cur)
		for _, step := range []struct{ set, want string }{
			{"1700000000005-0", "1700000000005-0"},
			{"1700000000003-7", "1700000000005-0"},
			{"1700000000005-0", "1700000000005-0"},
			{"1700000000005-2", "1700000000005-2"},
			{"1700000000100-0", "1700000000100-0"},
		} {
			require.NoError(t, ev.SetEventCursor(ctx, "crm", step.set))
			cur, err = ev.EventCursor(ctx, "crm")
			require.NoError(t, err)
			require.Equal(t, step.want, cur, "after setting %s", step.set)
		}
		other, err := ev.EventCursor(ctx, "ivr")
		require.NoError(t, err)
		require.Empty(t, other, "cursors of two consumers are one")
	})

	t.Run("a_lease_is_held_by_one_holder_until_it_lapses_or_is_released", func(t *testing.T) {
		_, ev := eventStore(t, newStore, Options{})
		ctx := t.Context()
		take := func(holder string, ttl time.Duration) bool {
			t.Helper()
			ok, err := ev.TakeLease(ctx, "webhook:crm", holder, ttl)
			require.NoError(t, err)
			return ok
		}
		require.True(t, take("a", 300*time.Millisecond))
		require.False(t, take("b", time.Minute), "two holders hold one lease")
		require.True(t, take("a", 300*time.Millisecond), "a holder cannot renew its lease")
		require.NoError(t, ev.ReleaseLease(ctx, "webhook:crm", "b"))
		require.False(t, take("b", time.Minute), "another holder released the lease")
		ok, err := ev.TakeLease(ctx, "reminders", "b", time.Minute)
		require.NoError(t, err)
		require.True(t, ok, "leases of two names are one")

		time.Sleep(400 * time.Millisecond)
		require.True(t, take("b", time.Minute), "a lapsed lease is still held")
		require.False(t, take("a", time.Minute))
		require.NoError(t, ev.ReleaseLease(ctx, "webhook:crm", "b"))
		require.True(t, take("a", time.Minute), "a released lease is still held")
	})

	t.Run("dead_letters_are_kept_newest_last", func(t *testing.T) {
		s, ev := eventStore(t, newStore, Options{})
		for _, id := range []string{"j-1", "j-2", "j-3"} {
			create(t, s, newJourney(t, key("c-1", id), now()))
		}
		all := allEvents(t, ev, "")
		ctx := t.Context()
		for i, e := range all {
			require.NoError(t, ev.DeadLetter(ctx, "crm", e, "status 500 after 12 attempts #"+string(rune('1'+i))))
		}
		dead, err := ev.DeadLetters(ctx, "crm", 2)
		require.NoError(t, err)
		require.Len(t, dead, 2)
		for i, d := range dead {
			requireProtoEqual(t, all[i+1], d.Event)
			require.Equal(t, "status 500 after 12 attempts #"+string(rune('2'+i)), d.Reason)
			require.False(t, d.Time.IsZero())
		}
		none, err := ev.DeadLetters(ctx, "ivr", 10)
		require.NoError(t, err)
		require.Empty(t, none)
	})

	t.Run("dead_letters_age_out_after_the_retention_with_none_added", func(t *testing.T) {
		const retention = 300 * time.Millisecond
		s, ev := eventStore(t, newStore, Options{Events: &store.EventOptions{Retention: retention}})
		create(t, s, newJourney(t, key("c-1", "j-1"), now()))
		all := allEvents(t, ev, "")
		require.NotEmpty(t, all)
		ctx := t.Context()
		require.NoError(t, ev.DeadLetter(ctx, "crm", all[0], "status 500 after 12 attempts"))
		sleepUntil(time.Now().Add(retention + slack))
		dead, err := ev.DeadLetters(ctx, "crm", 10)
		require.NoError(t, err)
		require.Empty(t, dead, "a dead letter kept past the retention")
	})
}
