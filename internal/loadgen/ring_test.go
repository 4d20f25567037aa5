package loadgen

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		size  int
		takes int
		want  []int
	}{
		{"hands_out_its_requests_in_the_order_they_were_built", 4, 3, []int{0, 10, 20}},
		{"starts_again_after_the_last_request", 3, 7, []int{0, 10, 20, 0, 10, 20, 0}},
		{"a_ring_of_one_sends_the_same_request_every_time", 1, 3, []int{0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := BuildRing(tc.size, func(k int) (int, error) { return 10 * k, nil })
			require.NoError(t, err)
			var got []int
			for range tc.takes {
				got = append(got, r.Next())
			}
			require.Equal(t, tc.want, got)
			require.EqualValues(t, tc.takes, r.Taken())
			require.Equal(t, tc.size, r.Len())
		})
	}
}

// The callers of a phase share one ring: within a lap, no two get the same
// request, so no two save the same journey at once.
func TestRingSharedByCallers(t *testing.T) {
	t.Run("gives_each_request_of_a_lap_to_exactly_one_caller", func(t *testing.T) {
		const size, callers = 1000, 8
		r, err := BuildRing(size, func(k int) (int, error) { return k, nil })
		require.NoError(t, err)
		seen := make([]int, size)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				for range size / callers {
					k := r.Next()
					mu.Lock()
					seen[k]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for k, n := range seen {
			require.Equal(t, 1, n, "request %d", k)
		}
	})
}

func TestBuildRingRefuses(t *testing.T) {
	broken := errors.New("broken")
	for _, tc := range []struct {
		name  string
		size  int
		build func(int) (int, error)
		want  error
	}{
		{"an_empty_ring", 0, func(int) (int, error) { return 0, nil }, nil},
		{"a_request_that_cannot_be_built", 3, func(k int) (int, error) {
			if k == 2 {
				return 0, broken
			}
			return k, nil
		}, broken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := BuildRing(tc.size, tc.build)
			require.Error(t, err)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			}
		})
	}
}
