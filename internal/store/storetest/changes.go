package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// history creates k and changes it until it is at revision n, taking
// turns to touch (a claim), save (answers and step, with its one
// touchpoint) and update (a change of content: the step), updates and
// touches appending 0, 1 or 2 touchpoints. It returns the changes the log
// must hold: each the delta its write makes, with its touchpoints named.
func history(t *testing.T, s store.Store, k store.JourneyKey, n int) []*handoffv1.JourneyChange {
	t.Helper()
	j := newJourney(t, k, now())
	first := started(j)
	got, _, err := s.CreateJourney(t.Context(), j, first, "")
	require.NoError(t, err)
	want := []*handoffv1.JourneyChange{createChange(got, named(k, 1, first))}
	position := 2
	for i := 2; i <= n; i++ {
		count := (i / 3) % 3
		if i%3 == 0 {
			count = 1
		}
		var tps []*handoffv1.Touchpoint
		for range count {
			tp := newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, fmt.Sprintf("s-%d", i), now())
			// Notes of up to 20 KB, so that encoded lengths take 1 to 3 bytes.
			tp.Note = strings.Repeat("n", 200*i*i)
			tps = append(tps, tp)
		}
		switch i % 3 {
		case 0:
			sv := saveOf(k, answer(t, "n", i), removal("vehicle.year"))
			sv.SetStep, sv.Step = true, fmt.Sprintf("s-%d", i)
			sv.Touchpoint = tps[0]
			got = save(t, s, sv)
			want = append(want, saveChange(got, sv, named(k, position, tps...)...))
		case 1:
			next := proto.CloneOf(got)
			next.Step = fmt.Sprintf("u-%d", i)
			got = update(t, s, next, tps...)
			want = append(want, updateChange(got, named(k, position, tps...)))
		case 2:
			next := proto.CloneOf(got)
			next.Assignee = fmt.Sprintf("agent-%d", i)
			got = touch(t, s, next, tps...)
			want = append(want, updateChange(got, named(k, position, tps...)))
		}
		position += len(tps)
	}
	return want
}

func testChangesSince(t *testing.T, newStore Factory) {
	t.Run("changes_since_a_revision_are_exactly_the_changes_after_it_in_order", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		want := history(t, s, k, 6)
		for after := int64(1); after <= 6; after++ {
			changes, complete := changesSince(t, s, k, after)
			require.True(t, complete, "after %d", after)
			requireProtosEqual(t, want[after:], changes)
		}
	})

	t.Run("a_create_is_announced_but_not_logged", func(t *testing.T) {
		// A watcher from revision 0 starts from a snapshot anyway, and the
		// whole journey would sit in the log for an hour.
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		history(t, s, k, 3)
		_, complete := changesSince(t, s, k, 0)
		require.False(t, complete)
	})

	t.Run("changes_since_the_current_revision_are_none_and_complete", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		changes, complete := changesSince(t, s, k, 1)
		require.True(t, complete)
		require.Empty(t, changes)
	})

	t.Run("changes_since_a_revision_not_reached_yet_are_incomplete", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		history(t, s, k, 3)
		for _, after := range []int64{4, 100} {
			changes, complete := changesSince(t, s, k, after)
			require.False(t, complete, "after %d", after)
			require.Empty(t, changes)
		}
	})

	t.Run("changes_since_a_revision_the_log_no_longer_holds_are_incomplete", func(t *testing.T) {
		s := newStore(t, Options{ChangeLogEntries: 4})
		k := key("c-1", "j-1")
		want := history(t, s, k, 10) // the log keeps revisions 7 to 10
		for after := range int64(6) {
			_, complete := changesSince(t, s, k, after)
			require.False(t, complete, "after %d: the log cannot reach back to %d", after, after+1)
		}
		for after := int64(6); after <= 10; after++ {
			changes, complete := changesSince(t, s, k, after)
			require.True(t, complete, "after %d", after)
			requireProtosEqual(t, want[after:], changes)
		}
	})

	t.Run("changes_are_copies", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		want := history(t, s, k, 3)
		changes, _ := changesSince(t, s, k, 1)
		changes[0].Journey.Step = "mutated"
		changes[1].Touchpoints = nil
		changes, _ = changesSince(t, s, k, 1)
		requireProtosEqual(t, want[1:], changes)
	})

	t.Run("customers_and_journeys_have_their_own_logs", func(t *testing.T) {
		s := newStore(t, Options{})
		mine := history(t, s, key("c-1", "j-1"), 3)
		history(t, s, key("c-2", "j-1"), 4)
		history(t, s, key("c-1", "j-2"), 5)
		changes, complete := changesSince(t, s, key("c-1", "j-1"), 1)
		require.True(t, complete)
		requireProtosEqual(t, mine[1:], changes)
	})
}
