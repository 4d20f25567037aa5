package redis_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

// Codes made before codes were listed with their journey (a value without
// the leading "+", found only in the customer's codes set) are still live
// when the new version starts; they must keep working until they expire,
// and an erasure must still end them.
func TestCodesMadeBeforeCodesWereListed(t *testing.T) {
	key := store.JourneyKey{Customer: "c1", Journey: "j1"}
	// legacyCode writes a code as the previous version did: listed in the
	// customer's codes set, then its own key naming customer/journey.
	legacyCode := func(t *testing.T, prefix, code string) {
		require.NoError(t, client.SAdd(t.Context(), prefix+"{c1}:codes", code).Err())
		require.NoError(t, client.Set(t.Context(), prefix+"code:"+code, "c1/j1", time.Minute).Err())
	}
	tests := []struct {
		name   string
		before func(t *testing.T, s store.Store, prefix string)
		opens  bool
	}{
		{name: "a_code_of_a_journey_that_exists_redeems_once", opens: true},
		{name: "a_code_of_an_erased_customer_opens_nothing", before: func(t *testing.T, s store.Store, prefix string) {
			_, err := s.EraseCustomer(t.Context(), "c1")
			require.NoError(t, err)
		}},
		{name: "a_code_of_a_journey_that_is_gone_opens_nothing", before: func(t *testing.T, s store.Store, prefix string) {
			_, err := s.EraseCustomer(t.Context(), "c1")
			require.NoError(t, err)
			// Made again by an old instance racing the erasure: the journey
			// is gone all the same.
			legacyCode(t, prefix, "OLDCODE1")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, prefix := newStore(t, storetest.Options{TTL: time.Hour})
			_, _, err := s.CreateJourney(t.Context(), newJourney(key, time.Now()), touchpoint("start"), "")
			require.NoError(t, err)
			legacyCode(t, prefix, "OLDCODE1")
			if tt.before != nil {
				tt.before(t, s, prefix)
			}
			got, err := s.RedeemHandoffCode(t.Context(), "OLDCODE1")
			if !tt.opens {
				require.ErrorIs(t, err, store.ErrNotFound)
				return
			}
			require.NoError(t, err)
			require.Equal(t, key, got)
			_, err = s.RedeemHandoffCode(t.Context(), "OLDCODE1")
			require.ErrorIs(t, err, store.ErrNotFound, "used once")
		})
	}
}

// An erasure racing a handoff can leave the code's key and the journey's
// code list behind (both written after the erasure's SCAN passed them).
// They must not open a journey created again under the same name.
func TestACodeListLeftByAnErasureRaceOpensNothing(t *testing.T) {
	s, prefix := newStore(t, storetest.Options{TTL: time.Hour})
	key := store.JourneyKey{Customer: "c1", Journey: "j1"}
	_, _, err := s.CreateJourney(t.Context(), newJourney(key, time.Now()), touchpoint("start"), "")
	require.NoError(t, err)
	require.NoError(t, s.CreateHandoffCode(t.Context(), "RACED001", key, time.Now().Add(time.Minute), store.CodeLimits{Live: 3, Made: 10}))
	list, err := client.HGetAll(t.Context(), prefix+"{c1}:hc:j1").Result()
	require.NoError(t, err)
	codeValue, err := client.Get(t.Context(), prefix+"code:RACED001").Result()
	require.NoError(t, err)

	_, err = s.EraseCustomer(t.Context(), "c1")
	require.NoError(t, err)
	for field, v := range list {
		require.NoError(t, client.HSet(t.Context(), prefix+"{c1}:hc:j1", field, v).Err())
	}
	require.NoError(t, client.Set(t.Context(), prefix+"code:RACED001", codeValue, time.Minute).Err())
	_, _, err = s.CreateJourney(t.Context(), newJourney(key, time.Now()), touchpoint("start"), "")
	require.NoError(t, err)

	_, err = s.RedeemHandoffCode(t.Context(), "RACED001")
	require.ErrorIs(t, err, store.ErrNotFound)
}
