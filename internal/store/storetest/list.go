package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

var (
	active    = handoffv1.JourneyState_JOURNEY_STATE_ACTIVE
	completed = handoffv1.JourneyState_JOURNEY_STATE_COMPLETED
)

// seedOrder stores c-1's journeys with create times (seconds after base)
// whose order is unlike both their ids and the order they are created in,
// with ties at +2s and update times in reverse; c-2 has journeys of the
// same ids and times. It updates the oldest journey last, since an update
// must not move a journey in the list. It returns base and c-1's ids newest first.
func seedOrder(t *testing.T, s store.Store) (time.Time, []string) {
	t.Helper()
	base := now().Add(-time.Minute)
	for _, seed := range []struct {
		customer, journey string
		at                int
	}{
		{"c-1", "j-04", 2}, {"c-1", "j-00", 4}, {"c-1", "j-01", 0}, {"c-2", "j-99", 5},
		{"c-1", "j-10", 2}, {"c-2", "j-04", 2}, {"c-1", "j-05", 3}, {"c-2", "j-07", 2},
		{"c-1", "j-03", 2}, {"c-1", "j-02", 1},
	} {
		j := newJourney(t, key(seed.customer, seed.journey), base.Add(time.Duration(seed.at)*time.Second))
		// Update times in the opposite order, so listing by them shows.
		j.UpdateTime = timestamppb.New(base.Add(time.Duration(10-seed.at) * time.Second))
		create(t, s, j)
	}
	oldest := get(t, s, key("c-1", "j-01"))
	oldest.UpdateTime = timestamppb.New(now())
	update(t, s, oldest)
	return base, []string{"j-00", "j-05", "j-10", "j-04", "j-03", "j-02", "j-01"}
}

// listPages pages through the customer's journeys from q and returns each
// page's ids, checking that every cursor marks the end of its page.
func listPages(t *testing.T, s store.Store, customer string, q store.ListJourneysQuery) [][]string {
	t.Helper()
	var pages [][]string
	for range 100 {
		page, next, err := s.ListJourneys(t.Context(), customer, q)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), q.Limit)
		for _, j := range page {
			require.Contains(t, j.GetName(), "customers/"+customer+"/", "another customer's journey")
			if q.State != handoffv1.JourneyState_JOURNEY_STATE_UNSPECIFIED {
				require.Equal(t, q.State, j.GetState(), "%s is not in the state asked for", j.GetName())
			}
		}
		pages = append(pages, ids(t, page))
		if next == nil {
			return pages
		}
		require.NotEmpty(t, page, "a page with a next cursor is empty")
		last := page[len(page)-1]
		require.Equal(t, ids(t, page)[len(page)-1], next.Journey, "the cursor is not the page's last journey")
		require.True(t, last.GetCreateTime().AsTime().Equal(next.CreateTime), "the cursor's time %v is not the last journey's create time %v", next.CreateTime, last.GetCreateTime().AsTime())
		q.After = next
	}
	require.FailNow(t, "more than 100 pages")
	return nil
}

func testListJourneys(t *testing.T, newStore Factory) {
	t.Run("a_customer_without_journeys_gets_one_empty_last_page", func(t *testing.T) {
		s := newStore(t, Options{})
		create(t, s, newJourney(t, key("c-2", "j-1"), now()))
		page, next, err := s.ListJourneys(t.Context(), "c-1", store.ListJourneysQuery{Limit: 10})
		require.NoError(t, err)
		require.Empty(t, page)
		require.Nil(t, next)
	})

	t.Run("listed_journeys_are_the_stored_journeys", func(t *testing.T) {
		s := newStore(t, Options{})
		seedOrder(t, s)
		page, _, err := s.ListJourneys(t.Context(), "c-1", store.ListJourneysQuery{Limit: 10})
		require.NoError(t, err)
		require.Len(t, page, 7)
		for _, j := range page {
			k, err := store.ParseJourneyName(j.GetName())
			require.NoError(t, err)
			requireProtoEqual(t, get(t, s, k), j)
		}
	})

	// Limit 1 pages through the tie one journey at a time; limit 7 is
	// exactly all of them, so its only page is the last.
	t.Run("paging_newest_first_visits_every_journey_exactly_once", func(t *testing.T) {
		for _, limit := range []int{1, 2, 3, 4, 6, 7, 100} {
			t.Run(fmt.Sprintf("limit_%d", limit), func(t *testing.T) {
				s := newStore(t, Options{})
				_, want := seedOrder(t, s)
				got := listPages(t, s, "c-1", store.ListJourneysQuery{Limit: limit})
				require.Equal(t, pagesOf(want, limit), got)
			})
		}
	})

	// A cursor is a position, not a journey: it works whether or not a
	// journey sits there.
	t.Run("a_cursor_continues_after_its_position", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			at      int // seconds after base
			journey string
			want    []string
		}{
			{"at_a_journey_in_a_tie", 2, "j-10", []string{"j-04", "j-03", "j-02", "j-01"}},
			{"at_the_last_journey_of_a_tie", 2, "j-03", []string{"j-02", "j-01"}},
			{"inside_a_tie_where_no_journey_is", 2, "j-035", []string{"j-03", "j-02", "j-01"}},
			{"at_a_time_without_journeys", 1800, "", []string{"j-00", "j-05", "j-10", "j-04", "j-03", "j-02", "j-01"}},
			{"at_the_oldest_journey", 0, "j-01", []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t, Options{})
				base, _ := seedOrder(t, s)
				after := &store.JourneyCursor{CreateTime: base.Add(time.Duration(tc.at) * time.Second), Journey: tc.journey}
				got := listPages(t, s, "c-1", store.ListJourneysQuery{Limit: 10, After: after})
				require.Equal(t, [][]string{tc.want}, got)
			})
		}
	})

	// Journeys j-1 … j-9 are created a second apart and four of them are
	// then completed; c-2 has completed journeys too. The last completed
	// one is followed by an active one, so a store must look past
	// filtered-out journeys to know a page is the last.
	t.Run("the_state_filter_pages_across_the_journeys_it_skips", func(t *testing.T) {
		for _, tc := range []struct {
			state handoffv1.JourneyState
			limit int
			want  []string
		}{
			{completed, 1, []string{"j-8", "j-5", "j-4", "j-2"}},
			{completed, 2, []string{"j-8", "j-5", "j-4", "j-2"}},
			{completed, 3, []string{"j-8", "j-5", "j-4", "j-2"}},
			{active, 2, []string{"j-9", "j-7", "j-6", "j-3", "j-1"}},
			{handoffv1.JourneyState_JOURNEY_STATE_ABANDONED, 2, []string{}},
			{handoffv1.JourneyState_JOURNEY_STATE_UNSPECIFIED, 4, []string{"j-9", "j-8", "j-7", "j-6", "j-5", "j-4", "j-3", "j-2", "j-1"}},
		} {
			t.Run(fmt.Sprintf("%s_limit_%d", strings.ToLower(strings.TrimPrefix(tc.state.String(), "JOURNEY_STATE_")), tc.limit), func(t *testing.T) {
				s := newStore(t, Options{})
				base := now().Add(-time.Minute)
				for i := 1; i <= 9; i++ {
					at := base.Add(time.Duration(i) * time.Second)
					for _, customer := range []string{"c-1", "c-2"} {
						create(t, s, newJourney(t, key(customer, fmt.Sprintf("j-%d", i)), at))
					}
				}
				for _, done := range []store.JourneyKey{
					key("c-1", "j-8"), key("c-1", "j-5"), key("c-1", "j-4"), key("c-1", "j-2"),
					key("c-2", "j-9"), key("c-2", "j-1"),
				} {
					j := get(t, s, done)
					j.State = completed
					update(t, s, j)
				}
				got := listPages(t, s, "c-1", store.ListJourneysQuery{State: tc.state, Limit: tc.limit})
				require.Equal(t, pagesOf(tc.want, tc.limit), got)
			})
		}
	})

	t.Run("customers_are_isolated", func(t *testing.T) {
		s := newStore(t, Options{})
		seedOrder(t, s)
		got := listPages(t, s, "c-2", store.ListJourneysQuery{Limit: 2})
		require.Equal(t, [][]string{{"j-99", "j-07"}, {"j-04"}}, got)

		// Same journey id, other customer: a different journey.
		theirs := get(t, s, key("c-2", "j-04"))
		theirs.Step = "driver"
		update(t, s, theirs)
		require.Equal(t, "vehicle", get(t, s, key("c-1", "j-04")).GetStep())
	})
}

func testListTouchpoints(t *testing.T, newStore Factory) {
	for _, tc := range []struct {
		offset, limit int
		want          []int // positions, from 1
		more          bool
	}{
		{0, 3, []int{1, 2, 3}, true},
		{3, 3, []int{4, 5, 6}, true},
		{6, 3, []int{7}, false},
		{0, 7, []int{1, 2, 3, 4, 5, 6, 7}, false},
		{0, 100, []int{1, 2, 3, 4, 5, 6, 7}, false},
		{5, 1, []int{6}, true},
		{7, 3, []int{}, false},
		{20, 1, []int{}, false},
	} {
		t.Run(fmt.Sprintf("offset_%d_limit_%d_lists_oldest_first", tc.offset, tc.limit), func(t *testing.T) {
			s := newStore(t, Options{})
			k := key("c-1", "j-1")
			j := newJourney(t, k, now().Add(-time.Minute))
			all := []*handoffv1.Touchpoint{started(j)}
			_, _, err := s.CreateJourney(t.Context(), j, all[0], "")
			require.NoError(t, err)
			// Two updates, so positions must carry on across writes.
			for _, steps := range [][]string{{"s-2", "s-3", "s-4"}, {"s-5", "s-6", "s-7"}} {
				var tps []*handoffv1.Touchpoint
				for _, step := range steps {
					tps = append(tps, newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, step, now()))
				}
				update(t, s, get(t, s, k), tps...)
				all = append(all, tps...)
			}
			all = named(k, 1, all...)

			got, more, err := s.ListTouchpoints(t.Context(), k, tc.offset, tc.limit)
			require.NoError(t, err)
			want := make([]*handoffv1.Touchpoint, 0, len(tc.want))
			for _, pos := range tc.want {
				want = append(want, all[pos-1])
			}
			requireProtosEqual(t, want, got)
			require.Equal(t, tc.more, more)
		})
	}
}
