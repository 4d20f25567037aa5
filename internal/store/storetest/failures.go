package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func testFailures(t *testing.T, newStore Factory) {
	t.Run("failures_are_counted_per_key_within_the_window_and_then_forgotten", func(t *testing.T) {
		s := newStore(t, Options{})
		const window = 400 * time.Millisecond
		began := time.Now()
		for i := 1; i <= 3; i++ {
			n, leaves, err := s.CountFailures(t.Context(), "principal:mallory", window, true)
			require.NoError(t, err)
			require.Equal(t, i, n)
			require.WithinDuration(t, began.Add(window), leaves, 200*time.Millisecond)
		}
		n, _, err := s.CountFailures(t.Context(), "principal:mallory", window, false)
		require.NoError(t, err)
		require.Equal(t, 3, n, "counting without recording adds nothing")
		n, _, err = s.CountFailures(t.Context(), "principal:alice", window, false)
		require.NoError(t, err)
		require.Zero(t, n, "keys are counted apart")

		time.Sleep(window + 100*time.Millisecond)
		n, _, err = s.CountFailures(t.Context(), "principal:mallory", window, false)
		require.NoError(t, err)
		require.Zero(t, n, "failures older than the window are forgotten")
	})
}
