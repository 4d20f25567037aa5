package redis_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/redis"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// TestStoreSlowRedis makes its own server hang (DEBUG SLEEP) to show that a
// caller's deadline cuts a call short and the error says why.
func TestStoreSlowRedis(t *testing.T) {
	r := testutil.StartRedis(t, "--enable-debug-command", "yes")
	s, err := redis.Open(r.URL())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.NoError(t, s.Ping(t.Context()))

	other := goredis.NewClient(&goredis.Options{Addr: r.Addr()})
	t.Cleanup(func() { _ = other.Close() })
	slept := make(chan error, 1)
	go func() { slept <- other.Do(context.Background(), "DEBUG", "SLEEP", "0.5").Err() }()
	time.Sleep(100 * time.Millisecond) // let the sleep start

	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.GetJourney(ctx, store.JourneyKey{Customer: "c", Journey: "j"})
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 400*time.Millisecond)
	require.NoError(t, <-slept)
}

// TestStoreOutage stops and starts its own server, with an append-only file
// so that what was written before the outage is still there after it.
func TestStoreOutage(t *testing.T) {
	r := testutil.StartRedis(t, "--appendonly", "yes")
	s, err := redis.Open(r.URL(), redis.WithKeyPrefix("outage:"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	ctx := t.Context()
	key := store.JourneyKey{Customer: "c", Journey: "j"}
	saved, _, err := s.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "")
	require.NoError(t, err)

	r.Stop()
	calls := []struct {
		name string
		call func() error
	}{
		{"ping", func() error { return s.Ping(ctx) }},
		{"get_journey", func() error { _, err := s.GetJourney(ctx, key); return err }},
		{"create_journey", func() error {
			_, _, err := s.CreateJourney(ctx, newJourney(store.JourneyKey{Customer: "c", Journey: "k"}, time.Now()), nil, "r")
			return err
		}},
		{"update_journey", func() error {
			_, err := s.UpdateJourney(ctx, store.Update{Journey: saved, ContentChanged: true})
			return err
		}},
		{"list_journeys", func() error { _, _, err := s.ListJourneys(ctx, "c", store.ListJourneysQuery{Limit: 5}); return err }},
		{"list_touchpoints", func() error { _, _, err := s.ListTouchpoints(ctx, key, 0, 5); return err }},
		{"changes_since", func() error { _, _, err := s.ChangesSince(ctx, key, 0); return err }},
		{"create_handoff_code", func() error {
			return s.CreateHandoffCode(ctx, "CODE", key, time.Now().Add(time.Minute), store.CodeLimits{Live: 1, Made: 1})
		}},
		{"redeem_handoff_code", func() error { _, err := s.RedeemHandoffCode(ctx, "CODE"); return err }},
		{"delete_handoff_code", func() error { return s.DeleteHandoffCode(ctx, "CODE") }},
	}
	for _, c := range calls {
		t.Run(c.name+"_fails_fast_as_unavailable_while_redis_is_down", func(t *testing.T) {
			start := time.Now()
			err := c.call()
			require.ErrorIs(t, err, store.ErrUnavailable)
			require.Less(t, time.Since(start), time.Second)
		})
	}

	r.Start()
	t.Run("the_same_store_works_again_once_redis_is_back", func(t *testing.T) {
		require.Eventually(t, func() bool { return s.Ping(ctx) == nil }, 5*time.Second, 50*time.Millisecond)
		got, err := s.GetJourney(ctx, key)
		require.NoError(t, err)
		require.True(t, proto.Equal(saved, got))
		_, err = s.UpdateJourney(ctx, store.Update{Journey: got, ContentChanged: true, Touchpoints: []*handoffv1.Touchpoint{touchpoint("cover")}})
		require.NoError(t, err)
	})
}
