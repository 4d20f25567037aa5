package loadgen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestOpenLoopCountsTheWaitBehindAStallFromTheIntendedStart is coordinated
// omission: with one request in flight at a time, the first stalls for
// 200 ms. The 40 requests meant to start during the stall waited for it;
// measured from their intended start, 20 of them (those meant for the
// first 100 ms) took 100 ms or more. Measured from when they were actually
// sent, only the stalled one would.
func TestOpenLoopCountsTheWaitBehindAStallFromTheIntendedStart(t *testing.T) {
	const stall = 200 * time.Millisecond
	op := func(_ context.Context, _ int, seq uint64) error {
		if seq == 0 {
			time.Sleep(stall)
		}
		return nil
	}
	r := Open{Rate: 200, Duration: time.Second, MaxInFlight: 1}.Run(t.Context(), op)
	require.NoError(t, r.FirstError)
	require.EqualValues(t, 200, r.OK, "rate × duration requests, whatever the answers do")
	require.GreaterOrEqual(t, r.Latency.Max, stall)
	require.GreaterOrEqual(t, r.Hist.CountAtLeast(stall/2), int64(20))
}

// TestOpenLoopKeepsItsScheduleWithoutDrift: request n is meant to start
// n/rate after the start, however long the run.
func TestOpenLoopKeepsItsScheduleWithoutDrift(t *testing.T) {
	start := time.Unix(0, 0)
	for _, tc := range []struct {
		rate float64
		seq  uint64
		want time.Duration
	}{
		{1000, 0, 0},
		{1000, 1, time.Millisecond},
		{1000, 3_600_000, time.Hour},
		{3, 1, 333333333 * time.Nanosecond},
		{3, 3_000_000, 1_000_000 * time.Second},
	} {
		require.Equal(t, tc.want, Intended(start, tc.rate, tc.seq).Sub(start), "rate %v seq %d", tc.rate, tc.seq)
	}
}

// TestClosedLoopKeepsExactlyItsCallersBusy: never more requests in flight
// than callers, every caller used, every sequence number given once, and
// nothing started after the window closed.
func TestClosedLoopKeepsExactlyItsCallersBusy(t *testing.T) {
	const callers = 4
	var inFlight, most atomic.Int64
	var mu sync.Mutex
	seen := map[uint64]bool{}
	dups := 0
	workers := map[int]bool{}
	var lastStart atomic.Int64
	op := func(_ context.Context, worker int, seq uint64) error {
		lastStart.Store(time.Now().UnixNano())
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		mu.Lock()
		if seen[seq] {
			dups++
		}
		seen[seq] = true
		workers[worker] = true
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		return nil
	}
	began := time.Now()
	c := Closed{Callers: callers, Warmup: 20 * time.Millisecond, Duration: 200 * time.Millisecond}
	r := c.Run(t.Context(), op)
	require.Zero(t, dups, "sequence numbers given twice")
	require.EqualValues(t, callers, most.Load())
	require.Len(t, workers, callers)
	require.Positive(t, r.OK)
	require.Equal(t, c.Duration, r.Elapsed)
	require.InDelta(t, float64(r.OK)/c.Duration.Seconds(), r.Throughput, 1e-9)
	require.Less(t, time.Unix(0, lastStart.Load()).Sub(began), c.Warmup+c.Duration+time.Second,
		"no request starts long after the window")
	require.LessOrEqual(t, r.OK+r.Errors, int64(len(seen)), "warm-up requests are not counted")
}

// TestWarmupFailuresAreNotCounted: requests that start during the warm-up
// fail here (as a cold connection might); the result counts none of them.
func TestWarmupFailuresAreNotCounted(t *testing.T) {
	const warmup = 100 * time.Millisecond
	for _, tc := range []struct {
		name string
		run  func(Op) Result
	}{
		{"closed loop", func(op Op) Result {
			return Closed{Callers: 2, Warmup: warmup, Duration: 100 * time.Millisecond}.Run(t.Context(), op)
		}},
		{"open loop", func(op Op) Result {
			return Open{Rate: 500, Warmup: warmup, Duration: 100 * time.Millisecond, MaxInFlight: 4}.Run(t.Context(), op)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The runner's warm-up ends no earlier than this.
			warm := time.Now().Add(warmup)
			var failed atomic.Int64
			r := tc.run(func(context.Context, int, uint64) error {
				if time.Now().Before(warm) {
					failed.Add(1)
					return errors.New("cold")
				}
				time.Sleep(time.Millisecond)
				return nil
			})
			require.Positive(t, failed.Load(), "the warm-up did run requests")
			require.Zero(t, r.Errors, "first: %v", r.FirstError)
			require.Positive(t, r.OK)
		})
	}
}

// TestFailuresAreCountedApartFromLatencies: a failed request adds to
// Errors, keeps its first error, and adds nothing to the histogram.
func TestFailuresAreCountedApartFromLatencies(t *testing.T) {
	boom := errors.New("boom")
	r := Open{Rate: 100, Duration: 200 * time.Millisecond, MaxInFlight: 2}.Run(t.Context(), func(_ context.Context, _ int, seq uint64) error {
		if seq%2 == 1 {
			return boom
		}
		return nil
	})
	require.EqualValues(t, 10, r.OK)
	require.EqualValues(t, 10, r.Errors)
	require.ErrorIs(t, r.FirstError, boom)
	require.EqualValues(t, 10, r.Latency.Count)
}

// TestACancelledRunStopsEarly: ending ctx stops both loops well before
// their duration.
func TestACancelledRunStopsEarly(t *testing.T) {
	op := func(ctx context.Context, _ int, _ uint64) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
			return nil
		}
	}
	for name, run := range map[string]func(context.Context){
		"closed": func(ctx context.Context) { Closed{Callers: 2, Duration: time.Hour}.Run(ctx, op) },
		"open":   func(ctx context.Context) { Open{Rate: 100, Duration: time.Hour, MaxInFlight: 2}.Run(ctx, op) },
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		done := make(chan struct{})
		go func() { run(ctx); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s loop did not stop when its context ended", name)
		}
		cancel()
	}
}

// TestCombinedRoundsAreOneMeasurement: two rounds of one workload give the
// counts, window, throughput and percentiles of a single run holding both.
func TestCombinedRoundsAreOneMeasurement(t *testing.T) {
	fast, slow := NewLatencies(2), NewLatencies(3)
	for i := range 90 {
		fast.Record(i, time.Millisecond)
	}
	for i := range 10 {
		slow.Record(i, 100*time.Millisecond)
	}
	first := errors.New("first")
	c := Combine(
		Result{Hist: fast, OK: 90, Errors: 1, FirstError: first, Elapsed: time.Second},
		Result{Hist: slow, OK: 10, Errors: 2, FirstError: errors.New("second"), Elapsed: 3 * time.Second},
	)
	require.EqualValues(t, 100, c.OK)
	require.EqualValues(t, 3, c.Errors)
	require.ErrorIs(t, c.FirstError, first)
	require.Equal(t, 4*time.Second, c.Elapsed)
	require.InDelta(t, 25, c.Throughput, 1e-9)
	require.EqualValues(t, 100, c.Latency.Count)
	require.InDelta(t, float64(time.Millisecond), float64(c.Latency.P50), 0.002*float64(time.Millisecond))
	require.InDelta(t, float64(100*time.Millisecond), float64(c.Latency.P99), 0.002*float64(100*time.Millisecond))
	require.EqualValues(t, 90, fast.Summary().Count, "the rounds' own histograms are left as they were")
}
