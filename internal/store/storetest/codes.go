package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/store"
)

// roomy are limits no case but the limit cases reaches.
var roomy = store.CodeLimits{Live: 10, Made: 20}

func testHandoffCodes(t *testing.T, newStore Factory) {
	k := key("c-1", "j-1")
	later := func() time.Time { return time.Now().Add(10 * time.Minute) }
	// withJourneys is a fresh store holding a journey at each key.
	withJourneys := func(t *testing.T, keys ...store.JourneyKey) store.Store {
		s := newStore(t, Options{})
		for _, k := range keys {
			create(t, s, newJourney(t, k, now()))
		}
		return s
	}

	t.Run("a_code_redeems_to_its_journey_once", func(t *testing.T) {
		s := withJourneys(t, k)
		require.NoError(t, s.CreateHandoffCode(t.Context(), "K7QMX2HD", k, later(), roomy))
		got, err := s.RedeemHandoffCode(t.Context(), "K7QMX2HD")
		require.NoError(t, err)
		require.Equal(t, k, got)
		_, err = s.RedeemHandoffCode(t.Context(), "K7QMX2HD")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("of_concurrent_redeems_exactly_one_succeeds", func(t *testing.T) {
		s := withJourneys(t, k)
		require.NoError(t, s.CreateHandoffCode(t.Context(), "K7QMX2HD", k, later(), roomy))
		const callers = 10
		start := make(chan struct{})
		var wg sync.WaitGroup
		var keys [callers]store.JourneyKey
		var errs [callers]error
		for i := range callers {
			wg.Go(func() {
				<-start
				keys[i], errs[i] = s.RedeemHandoffCode(t.Context(), "K7QMX2HD")
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			if err == nil {
				won++
				require.Equal(t, k, keys[i])
				continue
			}
			require.ErrorIs(t, err, store.ErrNotFound)
		}
		require.Equal(t, 1, won, "redeems that succeeded")
	})

	t.Run("an_expired_code_is_not_found_and_can_be_created_again", func(t *testing.T) {
		other := key("c-2", "j-2")
		s := withJourneys(t, k, other)
		expires := time.Now().Add(100 * time.Millisecond)
		require.NoError(t, s.CreateHandoffCode(t.Context(), "K7QMX2HD", k, expires, roomy))
		require.NoError(t, s.CreateHandoffCode(t.Context(), "Z9P0A1B2", k, expires, roomy))
		sleepUntil(expires.Add(slack))
		_, err := s.RedeemHandoffCode(t.Context(), "K7QMX2HD")
		require.ErrorIs(t, err, store.ErrNotFound)

		// Not redeemed first: expiry alone must free the code.
		require.NoError(t, s.CreateHandoffCode(t.Context(), "Z9P0A1B2", other, later(), roomy))
		got, err := s.RedeemHandoffCode(t.Context(), "Z9P0A1B2")
		require.NoError(t, err)
		require.Equal(t, other, got)
	})

	t.Run("creating_an_existing_code_fails_and_keeps_the_first", func(t *testing.T) {
		other := key("c-2", "j-2")
		s := withJourneys(t, k, other)
		require.NoError(t, s.CreateHandoffCode(t.Context(), "K7QMX2HD", k, later(), roomy))
		err := s.CreateHandoffCode(t.Context(), "K7QMX2HD", other, later(), roomy)
		require.ErrorIs(t, err, store.ErrAlreadyExists)
		got, err := s.RedeemHandoffCode(t.Context(), "K7QMX2HD")
		require.NoError(t, err)
		require.Equal(t, k, got)
	})

	t.Run("a_deleted_code_is_not_found_and_others_stay", func(t *testing.T) {
		s := withJourneys(t, k)
		require.NoError(t, s.CreateHandoffCode(t.Context(), "K7QMX2HD", k, later(), roomy))
		require.NoError(t, s.CreateHandoffCode(t.Context(), "Z9P0A1B2", k, later(), roomy))
		require.NoError(t, s.DeleteHandoffCode(t.Context(), "K7QMX2HD"))
		_, err := s.RedeemHandoffCode(t.Context(), "K7QMX2HD")
		require.ErrorIs(t, err, store.ErrNotFound)
		got, err := s.RedeemHandoffCode(t.Context(), "Z9P0A1B2")
		require.NoError(t, err)
		require.Equal(t, k, got)
	})

	t.Run("a_code_never_created_is_not_found", func(t *testing.T) {
		s := withJourneys(t, k)
		require.NoError(t, s.CreateHandoffCode(t.Context(), "K7QMX2HD", k, later(), roomy))
		_, err := s.RedeemHandoffCode(t.Context(), "Z9P0A1B2")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("a_code_for_a_journey_that_does_not_exist_is_refused_and_left_nowhere", func(t *testing.T) {
		s := withJourneys(t)
		err := s.CreateHandoffCode(t.Context(), "K7QMX2HD", k, later(), roomy)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.RedeemHandoffCode(t.Context(), "K7QMX2HD")
		require.ErrorIs(t, err, store.ErrNotFound)
		// Nothing of the refused code blocks its making later.
		create(t, s, newJourney(t, k, now()))
		require.NoError(t, s.CreateHandoffCode(t.Context(), "K7QMX2HD", k, later(), roomy))
	})

	t.Run("a_new_code_past_the_live_limit_withdraws_the_oldest_working_one", func(t *testing.T) {
		s := withJourneys(t, k)
		limits := store.CodeLimits{Live: 2, Made: 10}
		for _, code := range []string{"AAAA0001", "AAAA0002", "AAAA0003"} {
			require.NoError(t, s.CreateHandoffCode(t.Context(), code, k, later(), limits))
		}
		_, err := s.RedeemHandoffCode(t.Context(), "AAAA0001")
		require.ErrorIs(t, err, store.ErrNotFound, "the oldest code was withdrawn")
		for _, code := range []string{"AAAA0002", "AAAA0003"} {
			got, err := s.RedeemHandoffCode(t.Context(), code)
			require.NoError(t, err, code)
			require.Equal(t, k, got)
		}
		// Redeemed codes no longer count as working: two more fit.
		for _, code := range []string{"AAAA0004", "AAAA0005"} {
			require.NoError(t, s.CreateHandoffCode(t.Context(), code, k, later(), limits))
		}
		got, err := s.RedeemHandoffCode(t.Context(), "AAAA0004")
		require.NoError(t, err)
		require.Equal(t, k, got)
	})

	t.Run("codes_past_the_made_limit_are_refused_until_the_oldest_expires", func(t *testing.T) {
		other := key("c-1", "j-2")
		s := withJourneys(t, k, other)
		limits := store.CodeLimits{Live: 1, Made: 2}
		first := time.Now().Add(300 * time.Millisecond)
		require.NoError(t, s.CreateHandoffCode(t.Context(), "BBBB0001", k, first, limits))
		require.NoError(t, s.CreateHandoffCode(t.Context(), "BBBB0002", k, later(), limits))
		err := s.CreateHandoffCode(t.Context(), "BBBB0003", k, later(), limits)
		require.ErrorIs(t, err, store.ErrTooMany)
		var tooMany *store.TooManyError
		require.ErrorAs(t, err, &tooMany)
		require.WithinDuration(t, first, tooMany.RetryAt, time.Millisecond, "the limit lifts when the oldest code expires")
		_, err = s.RedeemHandoffCode(t.Context(), "BBBB0003")
		require.ErrorIs(t, err, store.ErrNotFound, "a refused code opens nothing")

		// Another journey of the same customer has limits of its own.
		require.NoError(t, s.CreateHandoffCode(t.Context(), "BBBB0004", other, later(), limits))

		sleepUntil(first.Add(slack))
		require.NoError(t, s.CreateHandoffCode(t.Context(), "BBBB0003", k, later(), limits))
		got, err := s.RedeemHandoffCode(t.Context(), "BBBB0003")
		require.NoError(t, err)
		require.Equal(t, k, got)
	})

	t.Run("a_code_made_before_an_erasure_does_not_open_a_journey_created_again_under_its_name", func(t *testing.T) {
		s := withJourneys(t, k)
		require.NoError(t, s.CreateHandoffCode(t.Context(), "CCCC0001", k, later(), roomy))
		_, err := s.EraseCustomer(t.Context(), k.Customer)
		require.NoError(t, err)
		create(t, s, newJourney(t, k, now()))
		_, err = s.RedeemHandoffCode(t.Context(), "CCCC0001")
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}
