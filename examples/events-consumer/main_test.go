package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// consumeUntil runs Consume until it handled n events (or 10 s pass) and
// returns what it printed.
func consumeUntil(t *testing.T, rdb redis.UniversalClient, o Options, n int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	handled := 0
	err := Consume(ctx, rdb, o, func(ev *handoffv1.JourneyEvent) error {
		require.NoError(t, Print(&out, ev))
		if handled++; handled == n {
			cancel()
		}
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, n, handled)
	return out.String()
}

func appendEvent(t *testing.T, rdb redis.UniversalClient, ev *handoffv1.JourneyEvent) string {
	raw, err := protojson.Marshal(ev)
	require.NoError(t, err)
	id, err := rdb.XAdd(t.Context(), &redis.XAddArgs{Stream: DefaultStream, Values: []any{"event", string(raw)}}).Result()
	require.NoError(t, err)
	return id
}

func TestTheConsumerPrintsEachEventOnceAndAcknowledgesIt(t *testing.T) {
	r := testutil.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	o := Options{Stream: DefaultStream, Group: "crm-sync", Consumer: "one", Block: 100 * time.Millisecond}

	first := appendEvent(t, rdb, &handoffv1.JourneyEvent{Type: "journey.touched", Journey: "customers/c-42/journeys/anna-quote", Customer: "c-42", Step: "vehicle"})
	appendEvent(t, rdb, &handoffv1.JourneyEvent{Type: "journey.expiring", Journey: "customers/c-42/journeys/anna-quote", Customer: "c-42", Step: "cover"})
	appendEvent(t, rdb, &handoffv1.JourneyEvent{Type: "customer.erased", Customer: "c-7"})
	out := consumeUntil(t, rdb, o, 3)
	require.Equal(t, first+"\tjourney.touched\tcustomers/c-42/journeys/anna-quote\tvehicle\n", out[:bytes.IndexByte([]byte(out), '\n')+1])
	require.Contains(t, out, "\tjourney.expiring\tcustomers/c-42/journeys/anna-quote\tcover\n")
	require.Contains(t, out, "\tcustomer.erased\tcustomers/c-7\t\n")
	pending, err := rdb.XPending(t.Context(), DefaultStream, "crm-sync").Result()
	require.NoError(t, err)
	require.Zero(t, pending.Count, "every event acknowledged")

	// Started again, the group goes on after what it acknowledged.
	last := appendEvent(t, rdb, &handoffv1.JourneyEvent{Type: "journey.expired", Journey: "customers/c-1/journeys/trip", Customer: "c-1"})
	require.Equal(t, last+"\tjourney.expired\tcustomers/c-1/journeys/trip\t\n", consumeUntil(t, rdb, o, 1))
}
