package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

func TestARedisOutageFailsFastAndHealsWithoutARestart(t *testing.T) {
	h := start(t, durableRedisStore)
	j := newJourney(t, h, "c-42")
	status, _ := h.rest(t, "GET", "/readyz", "", nil)
	require.Equal(t, http.StatusOK, status)

	h.redis.Stop()

	t.Run("calls_fail_fast_with_unavailable", func(t *testing.T) {
		began := time.Now()
		_, err := h.api.GetJourney(as(t, aliceToken), &handoffv1.GetJourneyRequest{Name: j.GetName()})
		requireCode(t, err, codes.Unavailable)
		_, err = h.api.HandoffJourney(as(t, websiteToken), &handoffv1.HandoffJourneyRequest{Name: j.GetName()})
		requireCode(t, err, codes.Unavailable)
		// "Fast" is the client's dial timeout and one retry, not the 30 s a
		// hanging call would take; generous for a loaded CI machine.
		require.Less(t, time.Since(began), 5*time.Second)
	})
	t.Run("readyz_says_not_ready", func(t *testing.T) {
		status, body := h.rest(t, "GET", "/readyz", "", nil)
		require.Equal(t, http.StatusServiceUnavailable, status, "%v", body)
		status, _ = h.rest(t, "GET", "/healthz", "", nil)
		require.Equal(t, http.StatusOK, status, "liveness must not follow Redis")
	})

	h.redis.Start()

	t.Run("the_service_works_again_without_a_restart", func(t *testing.T) {
		// The pool redials on demand; the first call after the restart may
		// still meet a dead connection, so allow a few seconds.
		require.Eventually(t, func() bool {
			status, _ := h.rest(t, "GET", "/readyz", "", nil)
			return status == http.StatusOK
		}, 10*time.Second, 100*time.Millisecond)
		// Redis keeps an append-only file, so the journey saved before the
		// outage is still there, and new work goes through.
		got, err := h.api.GetJourney(as(t, aliceToken), &handoffv1.GetJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		require.Equal(t, j.GetEtag(), got.GetEtag())
		fresh := newJourney(t, h, "c-42")
		require.NotEqual(t, j.GetName(), fresh.GetName())
	})
}
