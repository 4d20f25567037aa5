package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func testAttempts(t *testing.T, newStore Factory) {
	t.Run("attempts_up_to_the_limit_are_recorded_and_the_next_is_refused_until_the_window_passes", func(t *testing.T) {
		s := newStore(t, Options{})
		const window, limit = 400 * time.Millisecond, 3
		began := time.Now()
		for range limit {
			id, ok, _, err := s.RecordAttempt(t.Context(), "principal:mallory", window, limit)
			require.NoError(t, err)
			require.True(t, ok)
			require.NotEmpty(t, id)
		}
		_, ok, retryAt, err := s.RecordAttempt(t.Context(), "principal:mallory", window, limit)
		require.NoError(t, err)
		require.False(t, ok, "the attempt past the limit is refused")
		require.WithinDuration(t, began.Add(window), retryAt, 200*time.Millisecond, "retry when the oldest attempt leaves the window")
		_, ok, _, err = s.RecordAttempt(t.Context(), "principal:alice", window, limit)
		require.NoError(t, err)
		require.True(t, ok, "keys are counted apart")

		time.Sleep(time.Until(began.Add(window + 100*time.Millisecond)))
		for range limit {
			_, ok, _, err = s.RecordAttempt(t.Context(), "principal:mallory", window, limit)
			require.NoError(t, err)
			require.True(t, ok, "attempts older than the window are forgotten, and refused ones were never counted")
		}
	})
	t.Run("a_forgotten_attempt_no_longer_counts", func(t *testing.T) {
		s := newStore(t, Options{})
		const window, limit = time.Minute, 2
		first, ok, _, err := s.RecordAttempt(t.Context(), "principal:alice", window, limit)
		require.NoError(t, err)
		require.True(t, ok)
		_, ok, _, err = s.RecordAttempt(t.Context(), "principal:alice", window, limit)
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, s.ForgetAttempt(t.Context(), "principal:alice", first))
		require.NoError(t, s.ForgetAttempt(t.Context(), "principal:alice", first), "forgetting twice is harmless")
		_, ok, _, err = s.RecordAttempt(t.Context(), "principal:alice", window, limit)
		require.NoError(t, err)
		require.True(t, ok, "the forgotten attempt freed its place")
		_, ok, _, err = s.RecordAttempt(t.Context(), "principal:alice", window, limit)
		require.NoError(t, err)
		require.False(t, ok)
	})
	t.Run("concurrent_attempts_never_pass_the_limit_together", func(t *testing.T) {
		s := newStore(t, Options{})
		const limit, callers = 10, 50
		var recorded atomic.Int32
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				_, ok, _, err := s.RecordAttempt(t.Context(), "principal:mallory", time.Minute, limit)
				if err == nil && ok {
					recorded.Add(1)
				}
			})
		}
		wg.Wait()
		require.EqualValues(t, limit, recorded.Load())
	})
}
