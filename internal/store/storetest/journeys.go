package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

func testCreate(t *testing.T, newStore Factory) {
	t.Run("create_then_get_returns_the_same_journey", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		j := newJourney(t, k, now())
		first := started(j)

		got, created, err := s.CreateJourney(t.Context(), j, first, "r-1")
		require.NoError(t, err)
		require.True(t, created)
		require.NotEmpty(t, got.GetEtag())
		requireProtoEqual(t, saved(j, got.GetEtag(), 1, store.DefaultTTL), got)
		requireProtoEqual(t, got, get(t, s, k))
		requireProtosEqual(t, named(k, 1, first), timeline(t, s, k))
	})

	t.Run("the_store_keeps_copies_and_returns_copies", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		j := newJourney(t, k, now())
		first := started(j)
		jBefore, firstBefore := proto.CloneOf(j), proto.CloneOf(first)

		got, _, err := s.CreateJourney(t.Context(), j, first, "")
		require.NoError(t, err)
		requireProtoEqual(t, jBefore, j, "create changed the journey it was given")
		requireProtoEqual(t, firstBefore, first, "create changed the touchpoint it was given")
		gotBefore := proto.CloneOf(got)

		// Change everything the caller holds: what it passed in and what it
		// got back, down to nested answers.
		for _, m := range []*handoffv1.Journey{j, got, get(t, s, k)} {
			m.Step = "mutated"
			m.Etag = "mutated"
			m.Data.Fields["vehicle"].GetStructValue().Fields["plate"] = structpb.NewStringValue("mutated")
		}
		first.Step = "mutated"
		listed, _, err := s.ListJourneys(t.Context(), k.Customer, store.ListJourneysQuery{Limit: 10})
		require.NoError(t, err)
		require.Len(t, listed, 1)
		listed[0].Step = "mutated"
		timeline(t, s, k)[0].Step = "mutated"

		requireProtoEqual(t, gotBefore, get(t, s, k))
		requireProtosEqual(t, named(k, 1, firstBefore), timeline(t, s, k))
	})

	t.Run("create_of_an_existing_name_fails_and_writes_nothing", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		before := snap(t, s, k)

		again := newJourney(t, k, now().Add(time.Second))
		again.Step = "driver"
		_, created, err := s.CreateJourney(t.Context(), again, started(again), "r-2")
		require.ErrorIs(t, err, store.ErrAlreadyExists)
		require.False(t, created)
		requireUnchanged(t, s, k, before)

		// The failed create did not keep its request id either.
		other := newJourney(t, key("c-1", "j-2"), now())
		got, created, err := s.CreateJourney(t.Context(), other, started(other), "r-2")
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, other.GetName(), got.GetName())
	})

	// A retried create must answer like the first one did, whatever the
	// retry names, and must not add a journey or a touchpoint.
	for _, tc := range []struct {
		name    string
		journey string
	}{
		{"create_retried_with_the_same_request_id_returns_the_first_journey", "j-1"},
		{"create_with_a_used_request_id_and_another_journey_id_returns_the_first_journey", "j-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, Options{})
			k := key("c-1", "j-1")
			j := newJourney(t, k, now())
			first, created, err := s.CreateJourney(t.Context(), j, started(j), "r-1")
			require.NoError(t, err)
			require.True(t, created)
			before := snap(t, s, k)

			retry := newJourney(t, key("c-1", tc.journey), now().Add(time.Second))
			retry.Step = "driver"
			got, created, err := s.CreateJourney(t.Context(), retry, started(retry), "r-1")
			require.NoError(t, err)
			require.False(t, created)
			requireProtoEqual(t, first, got)
			requireUnchanged(t, s, k, before)
			listed, _, err := s.ListJourneys(t.Context(), "c-1", store.ListJourneysQuery{Limit: 10})
			require.NoError(t, err)
			require.Equal(t, []string{"j-1"}, ids(t, listed))
		})
	}

	t.Run("create_with_a_used_request_id_returns_the_journey_as_it_is_now", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		j := newJourney(t, k, now())
		first, _, err := s.CreateJourney(t.Context(), j, started(j), "r-1")
		require.NoError(t, err)
		first.Step = "driver"
		updated := update(t, s, first)

		got, created, err := s.CreateJourney(t.Context(), j, started(j), "r-1")
		require.NoError(t, err)
		require.False(t, created)
		requireProtoEqual(t, updated, got)
	})

	t.Run("a_request_id_of_one_customer_does_not_count_for_another", func(t *testing.T) {
		s := newStore(t, Options{})
		j1 := newJourney(t, key("c-1", "j-1"), now())
		_, created, err := s.CreateJourney(t.Context(), j1, started(j1), "r-1")
		require.NoError(t, err)
		require.True(t, created)

		j2 := newJourney(t, key("c-2", "j-1"), now())
		j2.Step = "driver"
		got, created, err := s.CreateJourney(t.Context(), j2, started(j2), "r-1")
		require.NoError(t, err)
		require.True(t, created)
		requireProtoEqual(t, saved(j2, got.GetEtag(), 1, store.DefaultTTL), got)
		require.Equal(t, "vehicle", get(t, s, key("c-1", "j-1")).GetStep())
	})
}

// testMissing asks every read and write about journeys that are not there,
// next to one that is, which none of them may touch.
func testMissing(t *testing.T, newStore Factory) {
	ops := []struct {
		name string
		call func(t *testing.T, s store.Store, k store.JourneyKey) error
	}{
		{"get", func(t *testing.T, s store.Store, k store.JourneyKey) error {
			_, err := s.GetJourney(t.Context(), k)
			return err
		}},
		{"update", func(t *testing.T, s store.Store, k store.JourneyKey) error {
			// At the revision and etag a real journey has, so only absence
			// can fail it.
			j := get(t, s, key("c-1", "j-1"))
			j.Name = k.Name()
			_, err := s.UpdateJourney(t.Context(), store.Update{Journey: j, ContentChanged: true, Touchpoints: []*handoffv1.Touchpoint{started(j)}})
			return err
		}},
		{"save", func(t *testing.T, s store.Store, k store.JourneyKey) error {
			_, err := s.SaveJourney(t.Context(), saveOf(k, answer(t, "n", 1)))
			return err
		}},
		{"changes_since", func(t *testing.T, s store.Store, k store.JourneyKey) error {
			_, _, err := s.ChangesSince(t.Context(), k, 0)
			return err
		}},
		{"list_touchpoints", func(t *testing.T, s store.Store, k store.JourneyKey) error {
			_, _, err := s.ListTouchpoints(t.Context(), k, 0, 10)
			return err
		}},
	}
	keys := []struct {
		name string
		key  store.JourneyKey
	}{
		{"an_unknown_journey_id", key("c-1", "j-2")},
		{"a_journey_id_of_another_customer", key("c-2", "j-1")},
		{"an_unknown_customer", key("c-9", "j-9")},
	}
	for _, op := range ops {
		for _, k := range keys {
			t.Run(op.name+"_of_"+k.name+"_gives_not_found", func(t *testing.T) {
				s := newStore(t, Options{})
				existing := key("c-1", "j-1")
				create(t, s, newJourney(t, existing, now()))
				before := snap(t, s, existing)

				require.ErrorIs(t, op.call(t, s, k.key), store.ErrNotFound)
				_, err := s.GetJourney(t.Context(), k.key)
				require.ErrorIs(t, err, store.ErrNotFound, "the call created the journey")
				requireUnchanged(t, s, existing, before)
			})
		}
	}
}

func testUpdate(t *testing.T, newStore Factory) {
	t.Run("update_at_the_revision_and_etag_read_replaces_every_field_but_the_answers_and_appends_touchpoints_in_order", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		j := newJourney(t, k, now().Add(-time.Minute))
		first := started(j)
		created, _, err := s.CreateJourney(t.Context(), j, first, "")
		require.NoError(t, err)

		next := proto.CloneOf(created)
		next.Step = "driver"
		next.Channel = handoffv1.Channel_CHANNEL_PHONE
		next.Assignee = "alice"
		next.AssigneeDisplayName = "Alice"
		next.AssigneeChannel = handoffv1.Channel_CHANNEL_PHONE
		next.ClaimExpireTime = timestamppb.New(now().Add(time.Minute))
		next.UpdateTime = timestamppb.New(now())
		// Answers change only through saves (and their per-answer
		// etags); an update leaves them as they are.
		setData(t, next, "driver", map[string]any{"age": 42})
		saves := []*handoffv1.Touchpoint{
			newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, "vehicle", now()),
			newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_CLAIMED, "driver", now()),
		}
		// Names the caller sets are not the store's to keep.
		saves[0].Name = "bogus"

		got := update(t, s, next, saves...)
		require.NotEmpty(t, got.GetEtag())
		require.NotEqual(t, created.GetEtag(), got.GetEtag())
		want := proto.CloneOf(next)
		want.Data = created.GetData()
		stored := get(t, s, k)
		requireProtoEqual(t, saved(want, got.GetEtag(), 2, store.DefaultTTL), stored)
		// What the update returns is the journey passed in, as written: its
		// answers are the caller's to read (see store.Store.UpdateJourney).
		got.Data = stored.GetData()
		requireProtoEqual(t, stored, got)
		requireProtosEqual(t, append(named(k, 1, first), named(k, 2, saves...)...), timeline(t, s, k))
	})

	t.Run("update_with_no_answers_keeps_the_answers", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		created := create(t, s, newJourney(t, k, now()))
		next := proto.CloneOf(created)
		next.Data = nil
		touch(t, s, next)
		requireProtoEqual(t, created.GetData(), get(t, s, k).GetData())
	})

	t.Run("update_without_touchpoints_keeps_the_timeline", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		j := create(t, s, newJourney(t, k, now()))
		before := timeline(t, s, k)

		j.Step = "driver"
		got := update(t, s, j)
		require.NotEqual(t, j.GetEtag(), got.GetEtag())
		require.Equal(t, "driver", get(t, s, k).GetStep())
		requireProtosEqual(t, before, timeline(t, s, k))
	})

	t.Run("every_change_of_content_gives_a_new_etag_and_retires_the_old_one", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		j := create(t, s, newJourney(t, k, now()))
		etags := []string{j.GetEtag()}
		for i := range 5 {
			j.Step = fmt.Sprintf("s-%d", i+1)
			j = update(t, s, j)
			require.NotContains(t, etags, j.GetEtag())
			etags = append(etags, j.GetEtag())
		}
		for _, old := range etags[:len(etags)-1] {
			stale := proto.CloneOf(j)
			stale.Etag = old
			_, err := s.UpdateJourney(t.Context(), store.Update{Journey: stale, ContentChanged: true})
			require.ErrorIs(t, err, store.ErrConflict, "etag %q was replaced", old)
		}
	})

	// Each case starts from a journey at revision 3: created (1), its
	// content changed (2, new etag), touched without a content change (3,
	// same etag). A stale revision or a stale etag is enough to fail.
	t.Run("update_at_a_stale_revision_or_etag_fails_and_changes_nothing", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			// at sets the revision and etag the update claims to have read,
			// given the journey as created and as it is now.
			at func(j, created, current *handoffv1.Journey)
		}{
			{"an_etag_replaced_by_a_later_update", func(j, created, _ *handoffv1.Journey) { j.Etag = created.GetEtag() }},
			{"a_made_up_etag", func(j, _, _ *handoffv1.Journey) { j.Etag = "not-an-etag" }},
			{"an_empty_etag", func(j, _, _ *handoffv1.Journey) { j.Etag = "" }},
			{"a_revision_replaced_by_a_touch_that_kept_the_etag", func(j, _, current *handoffv1.Journey) { j.Revision = current.GetRevision() - 1 }},
			{"the_first_revision", func(j, created, _ *handoffv1.Journey) { j.Revision = created.GetRevision() }},
			{"revision_0", func(j, _, _ *handoffv1.Journey) { j.Revision = 0 }},
			{"a_revision_not_reached_yet", func(j, _, current *handoffv1.Journey) { j.Revision = current.GetRevision() + 1 }},
			{"the_revision_and_etag_of_creation", func(j, created, _ *handoffv1.Journey) {
				j.Revision, j.Etag = created.GetRevision(), created.GetEtag()
			}},
		} {
			for _, contentChanged := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s_content_changed_%t", tc.name, contentChanged), func(t *testing.T) {
					s := newStore(t, Options{})
					k := key("c-1", "j-1")
					created := create(t, s, newJourney(t, k, now()))
					next := proto.CloneOf(created)
					next.Step = "driver"
					current := touch(t, s, update(t, s, next))
					before := snap(t, s, k)

					j := proto.CloneOf(current)
					j.Step = "payment"
					tc.at(j, created, current)
					_, err := s.UpdateJourney(t.Context(), store.Update{
						Journey: j, ContentChanged: contentChanged, Touchpoints: []*handoffv1.Touchpoint{started(j)},
					})
					require.ErrorIs(t, err, store.ErrConflict)
					requireUnchanged(t, s, k, before)
				})
			}
		}
	})
}
