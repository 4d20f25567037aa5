package app_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/app"
	"github.com/journeyhandoff/handoff/internal/config"
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
	require.Equal(t, 0, h.app.OpenWatches())
}

func TestShutdownEndsOpenWatchesWithAReconnectStatus(t *testing.T) {
	const watchers = 1000
	r := testutil.StartRedis(t)
	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.RedisURL = r.URL()
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.TokensFile = filepath.Join(t.TempDir(), "tokens.yaml")
	require.NoError(t, os.WriteFile(cfg.TokensFile, []byte(tokensYAML), 0o600))
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	a, err := app.New(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), io.Discard)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	api := handoffv1.NewJourneyServiceClient(conn)
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
	require.Less(t, time.Since(began), cfg.ShutdownTimeout)
}
