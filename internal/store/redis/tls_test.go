package redis_test

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/redis"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

func TestRedissWithACA(t *testing.T) {
	certs := testutil.WriteCertificates(t)
	server := testutil.StartRedisTLS(t, certs)
	key := store.JourneyKey{Customer: "c1", Journey: "j1"}

	t.Run("trusting_the_ca_a_journey_makes_the_round_trip", func(t *testing.T) {
		s, err := redis.Open(server.URL(), redis.WithTLSRootCAs(certs.Pool))
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		require.NoError(t, s.Ping(t.Context()))

		created, ok, err := s.CreateJourney(t.Context(), newJourney(key, time.Now()), touchpoint("start"), "")
		require.NoError(t, err)
		require.True(t, ok)
		got, err := s.GetJourney(t.Context(), key)
		require.NoError(t, err)
		require.Equal(t, created.GetEtag(), got.GetEtag())
		require.Equal(t, "start", got.GetStep())
	})

	t.Run("trusting_only_the_system_cas_nothing_gets_through", func(t *testing.T) {
		s, err := redis.Open(server.URL())
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		var unknown x509.UnknownAuthorityError
		err = s.Ping(t.Context())
		require.ErrorIs(t, err, store.ErrUnavailable)
		require.ErrorAs(t, err, &unknown)
		_, err = s.GetJourney(t.Context(), key)
		require.ErrorAs(t, err, &unknown)
	})
}
