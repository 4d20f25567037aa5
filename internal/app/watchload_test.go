package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/testutil"
	"github.com/journeyhandoff/handoff/internal/watch"
)

func TestWatchesLeaveNoGoroutinesBehind(t *testing.T) {
	h := start(t, memoryStore)
	j := newJourney(t, h, "c-42")
	ctx := as(t, websiteToken)
	open := func() {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := h.api.WatchJourney(wctx, &handoffv1.WatchJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		_, err = stream.Recv()
		require.NoError(t, err)
	}
	open() // warm up the connection and the hub
	baseline := goleak.IgnoreCurrent()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 100 {
				open()
			}
		})
	}
	wg.Wait()
	require.NoError(t, goleak.Find(baseline), "after 5,000 watches")
	// A watch runs on one of the kept call workers, which goleak cannot see
	// end, and ends when the server hears of its client's cancel, a moment
	// after the client returns.
	require.Eventually(t, func() bool { return h.app.OpenWatches() == 0 }, 5*time.Second, 10*time.Millisecond,
		"watches still open after their clients left")
}

func TestShutdownEndsOpenWatchesWithAReconnectStatus(t *testing.T) {
	const watchers = 1000
	r := testutil.StartRedis(t)
	a, api, stop, done, grace := startStoppable(t, r.URL())
	defer stop()
	j, err := api.CreateJourney(as(t, websiteToken), &handoffv1.CreateJourneyRequest{
		Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote"},
	})
	require.NoError(t, err)

	ended := make(chan error, watchers)
	var ready sync.WaitGroup
	for range watchers {
		ready.Add(1)
		go func() {
			stream, err := api.WatchJourney(as(t, websiteToken), &handoffv1.WatchJourneyRequest{Name: j.GetName()})
			if err == nil {
				_, err = stream.Recv()
			}
			ready.Done()
			for err == nil {
				_, err = stream.Recv()
			}
			ended <- err
		}()
	}
	ready.Wait()
	require.Equal(t, watchers, a.OpenWatches())

	// A unary call in flight across the stop: Redis is frozen under it.
	r.Pause()
	inFlight := make(chan error, 1)
	go func() {
		_, err := api.GetJourney(as(t, websiteToken), &handoffv1.GetJourneyRequest{Name: j.GetName()})
		inFlight <- err
	}()
	time.Sleep(100 * time.Millisecond)
	began := time.Now()
	stop() // SIGTERM
	time.Sleep(100 * time.Millisecond)
	r.Resume()

	for range watchers {
		reason, after := resumeAfter(t, <-ended)
		require.Equal(t, watch.ReasonShuttingDown, reason)
		require.Equal(t, "1", after)
	}
	require.NoError(t, <-inFlight)
	require.NoError(t, <-done)
	require.Less(t, time.Since(began), grace)
}
