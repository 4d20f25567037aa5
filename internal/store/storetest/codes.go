package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/store"
)

func testHandoffCodes(t *testing.T, newStore Factory) {
	k := key("c-1", "j-1")
	later := func() time.Time { return time.Now().Add(10 * time.Minute) }

	t.Run("a_code_redeems_to_its_journey_once", func(t *testing.T) {
		s := newStore(t, Options{})
		require.NoError(t, s.CreateHandoffCode(t.Context(), "K7QMX2HD", k, later()))
		got, err := s.RedeemHandoffCode(t.Context(), "K7QMX2HD")
		require.NoError(t, err)
		require.Equal(t, k, got)
		_, err = s.RedeemHandoffCode(t.Context(), "K7QMX2HD")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("of_concurrent_redeems_exactly_one_succeeds", func(t *testing.T) {
		s := newStore(t, Options{})
		require.NoError(t, s.CreateHandoffCode(t.Context(), "K7QMX2HD", k, later()))
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
		s := newStore(t, Options{})
		expires := time.Now().Add(100 * time.Millisecond)
		require.NoError(t, s.CreateHandoffCode(t.Context(), "K7QMX2HD", k, expires))
		require.NoError(t, s.CreateHandoffCode(t.Context(), "Z9P0A1B2", k, expires))
		sleepUntil(expires.Add(slack))
		_, err := s.RedeemHandoffCode(t.Context(), "K7QMX2HD")
		require.ErrorIs(t, err, store.ErrNotFound)

		// Not redeemed first: expiry alone must free the code.
		other := key("c-2", "j-2")
		require.NoError(t, s.CreateHandoffCode(t.Context(), "Z9P0A1B2", other, later()))
		got, err := s.RedeemHandoffCode(t.Context(), "Z9P0A1B2")
		require.NoError(t, err)
		require.Equal(t, other, got)
	})

	t.Run("creating_an_existing_code_fails_and_keeps_the_first", func(t *testing.T) {
		s := newStore(t, Options{})
		require.NoError(t, s.CreateHandoffCode(t.Context(), "K7QMX2HD", k, later()))
		err := s.CreateHandoffCode(t.Context(), "K7QMX2HD", key("c-2", "j-2"), later())
		require.ErrorIs(t, err, store.ErrAlreadyExists)
		got, err := s.RedeemHandoffCode(t.Context(), "K7QMX2HD")
		require.NoError(t, err)
		require.Equal(t, k, got)
	})

	t.Run("a_deleted_code_is_not_found_and_others_stay", func(t *testing.T) {
		s := newStore(t, Options{})
		require.NoError(t, s.CreateHandoffCode(t.Context(), "K7QMX2HD", k, later()))
		require.NoError(t, s.CreateHandoffCode(t.Context(), "Z9P0A1B2", k, later()))
		require.NoError(t, s.DeleteHandoffCode(t.Context(), "K7QMX2HD"))
		_, err := s.RedeemHandoffCode(t.Context(), "K7QMX2HD")
		require.ErrorIs(t, err, store.ErrNotFound)
		got, err := s.RedeemHandoffCode(t.Context(), "Z9P0A1B2")
		require.NoError(t, err)
		require.Equal(t, k, got)
	})

	t.Run("a_code_never_created_is_not_found", func(t *testing.T) {
		s := newStore(t, Options{})
		require.NoError(t, s.CreateHandoffCode(t.Context(), "K7QMX2HD", k, later()))
		_, err := s.RedeemHandoffCode(t.Context(), "Z9P0A1B2")
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}
