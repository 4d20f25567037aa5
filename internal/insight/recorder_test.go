package insight_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/insight"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/memory"
	redisstore "github.com/journeyhandoff/handoff/internal/store/redis"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

func quoteSteps(string, int64) []string { return []string{"vehicle", "driver"} }

func created(at time.Time) store.Written {
	return store.Written{
		Type: "car-insurance-quote", TypeVersion: 1, Time: at, Created: true, Counted: true,
		Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_STARTED, Entry: handoffv1.Channel_CHANNEL_WEB, FurthestAfter: 1,
		After: store.Moment{State: handoffv1.JourneyState_JOURNEY_STATE_ACTIVE, Step: "vehicle", Channel: handoffv1.Channel_CHANNEL_WEB, Expire: at.Add(time.Hour)},
	}
}

func TestRecorder_countsWaitForTheNextFlushWhenTheStoreIsAway(t *testing.T) {
	r := insight.NewRecorder(quoteSteps, 24*time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	at := time.Now().UTC()
	r.Observe(created(at))
	r.Observe(created(at))

	srv := testutil.StartRedis(t)
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = client.Close() })
	away := redisstore.New(client)
	srv.Stop()
	require.Error(t, r.Flush(t.Context(), away))

	back := memory.New()
	t.Cleanup(func() { _ = back.Close() })
	require.NoError(t, r.Flush(t.Context(), back))
	got, err := back.InsightDays(t.Context(), "car-insurance-quote", []string{insight.Day(at)})
	require.NoError(t, err)
	require.Equal(t, int64(2), got[insight.Day(at)]["e:1"], "both creates, once")
	require.Equal(t, int64(2), got[insight.Day(at)]["r:vehicle"])

	require.NoError(t, r.Flush(t.Context(), back))
	got, err = back.InsightDays(t.Context(), "car-insurance-quote", []string{insight.Day(at)})
	require.NoError(t, err)
	require.Equal(t, int64(2), got[insight.Day(at)]["e:1"], "a flush writes what it has once")
}
