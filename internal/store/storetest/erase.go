package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/store"
)

func testErase(t *testing.T, newStore Factory) {
	t.Run("erasing_a_customer_removes_journeys_timelines_codes_request_ids_and_identity_links_and_nothing_of_others", func(t *testing.T) {
		s := newStore(t, Options{})
		gone, kept := key("c-9", "j-1"), key("c-10", "j-1")
		for _, k := range []store.JourneyKey{gone, kept, key("c-9", "j-2")} {
			j := newJourney(t, k, now())
			_, _, err := s.CreateJourney(t.Context(), j, started(j), "req-"+k.Journey)
			require.NoError(t, err)
		}
		require.NoError(t, s.CreateHandoffCode(t.Context(), "GONE0001", gone, time.Now().Add(time.Minute), roomy))
		require.NoError(t, s.CreateHandoffCode(t.Context(), "KEPT0001", kept, time.Now().Add(time.Minute), roomy))
		link(t, s, "c-9", phoneLink("l1", phoneDigest, msNow(), time.Hour))
		link(t, s, "c-9", phoneLink("l2", emailDigest, msNow(), time.Hour))
		keptLink, _ := link(t, s, "c-10", phoneLink("l1", phoneDigest, msNow(), time.Hour))

		n, err := s.EraseCustomer(t.Context(), "c-9")
		require.NoError(t, err)
		require.Equal(t, 2, n)

		_, err = s.GetJourney(t.Context(), gone)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, _, err = s.ListTouchpoints(t.Context(), gone, 0, 10)
		require.ErrorIs(t, err, store.ErrNotFound)
		page, _, err := s.ListJourneys(t.Context(), "c-9", store.ListJourneysQuery{Limit: 10})
		require.NoError(t, err)
		require.Empty(t, page)
		_, err = s.RedeemHandoffCode(t.Context(), "GONE0001")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Empty(t, links(t, s, "c-9"))
		require.Equal(t, map[string][]string{phoneDigest: {"c-10"}}, linkedCustomers(t, s, phoneDigest, emailDigest))
		// The request id is forgotten too: the same create makes a new journey.
		j := newJourney(t, gone, now())
		_, created, err := s.CreateJourney(t.Context(), j, started(j), "req-j-1")
		require.NoError(t, err)
		require.True(t, created)

		_, err = s.GetJourney(t.Context(), kept)
		require.NoError(t, err)
		require.Equal(t, []store.IdentityLink{keptLink}, links(t, s, "c-10"))
		got, err := s.RedeemHandoffCode(t.Context(), "KEPT0001")
		require.NoError(t, err)
		require.Equal(t, kept, got)
	})
	t.Run("erasing_an_unknown_customer_erases_nothing", func(t *testing.T) {
		s := newStore(t, Options{})
		n, err := s.EraseCustomer(t.Context(), "nobody")
		require.NoError(t, err)
		require.Zero(t, n)
	})
}
