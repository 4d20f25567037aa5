package redis_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/delta"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/redis"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// resyncs counts a feed's resync calls.
type resyncs struct{ n atomic.Int64 }

func (r *resyncs) call() { r.n.Add(1) }

// waitFor waits until resync was called at least n times.
func (r *resyncs) waitFor(t *testing.T, n int64) {
	t.Helper()
	require.Eventually(t, func() bool { return r.n.Load() >= n }, 20*time.Second, 5*time.Millisecond,
		"resync was called %d times, want %d", r.n.Load(), n)
}

// openFeed opens a feed of s into rec and rs that follows keys, and closes
// it when the test ends.
func openFeed(t *testing.T, s store.Store, rec *storetest.Recorder, rs *resyncs, keys ...store.JourneyKey) store.Feed {
	t.Helper()
	f := s.OpenFeed(rec.Handle, rs.call)
	t.Cleanup(f.Close)
	for _, k := range keys {
		require.NoError(t, f.Follow(t.Context(), k))
	}
	return f
}

// shardSubscribers is how many connections Redis has subscribed to the
// sharded channel.
func shardSubscribers(t *testing.T, c goredis.UniversalClient, channel string) int64 {
	t.Helper()
	n, err := c.PubSubShardNumSub(t.Context(), channel).Result()
	require.NoError(t, err)
	return n[channel]
}

func TestFeed(t *testing.T) {
	key := store.JourneyKey{Customer: "c", Journey: "j"}

	t.Run("a_change_written_through_one_store_reaches_a_feed_on_another", func(t *testing.T) {
		writer, prefix := newStore(t, storetest.Options{})
		reader := redis.New(client, redis.WithKeyPrefix(prefix))
		rec := storetest.NewRecorder()
		openFeed(t, reader, rec, &resyncs{}, key)

		j, _, err := writer.CreateJourney(t.Context(), newJourney(key, time.Now()), touchpoint("start"), "")
		require.NoError(t, err)
		rec.WaitFor(t, key, 1)
		got, err := delta.Apply(nil, rec.Of(key)[0])
		require.NoError(t, err)
		require.True(t, proto.Equal(j, got), "the create's change is the whole journey")
	})

	t.Run("a_store_with_another_prefix_hears_nothing", func(t *testing.T) {
		writer, _ := newStore(t, storetest.Options{})
		other, _ := newStore(t, storetest.Options{})
		rec := storetest.NewRecorder()
		openFeed(t, other, rec, &resyncs{}, key)

		_, _, err := writer.CreateJourney(t.Context(), newJourney(key, time.Now()), nil, "")
		require.NoError(t, err)
		time.Sleep(100 * time.Millisecond)
		require.Zero(t, rec.Count())
	})

	t.Run("redis_holds_a_journey's_subscription_only_while_it_is_followed", func(t *testing.T) {
		s, prefix := newStore(t, storetest.Options{})
		channel := prefix + "{c}:ch:j"
		f := openFeed(t, s, storetest.NewRecorder(), &resyncs{})
		require.Zero(t, shardSubscribers(t, client, channel), "before any Follow")

		require.NoError(t, f.Follow(t.Context(), key))
		require.NoError(t, f.Follow(t.Context(), key))
		require.Equal(t, int64(1), shardSubscribers(t, client, channel), "followed twice, subscribed once")

		f.Unfollow(key)
		require.Equal(t, int64(1), shardSubscribers(t, client, channel), "still followed once")
		f.Unfollow(key)
		require.Eventually(t, func() bool { return shardSubscribers(t, client, channel) == 0 },
			5*time.Second, 5*time.Millisecond, "the last Unfollow left the subscription in place")
	})

	t.Run("payloads_that_are_not_this_journey's_changes_are_skipped", func(t *testing.T) {
		s, prefix := newStore(t, storetest.Options{})
		rec := storetest.NewRecorder()
		other := store.JourneyKey{Customer: "c", Journey: "other"}
		openFeed(t, s, rec, &resyncs{}, key, other)
		_, _, err := s.CreateJourney(t.Context(), newJourney(other, time.Now()), nil, "")
		require.NoError(t, err)
		rec.WaitFor(t, other, 1)
		othersChange, err := client.LIndex(t.Context(), prefix+"{c}:log:other", -1).Result()
		if err == goredis.Nil {
			// A create is not logged: make one change that is.
			j, gerr := s.GetJourney(t.Context(), other)
			require.NoError(t, gerr)
			_, err = s.UpdateJourney(t.Context(), store.Update{Journey: j, ContentChanged: true})
			require.NoError(t, err)
			othersChange, err = client.LIndex(t.Context(), prefix+"{c}:log:other", -1).Result()
		}
		require.NoError(t, err)

		for _, junk := range []string{"not a change", "\xff\xff\xff", othersChange} {
			require.NoError(t, client.SPublish(t.Context(), prefix+"{c}:ch:j", junk).Err())
		}
		_, _, err = s.CreateJourney(t.Context(), newJourney(key, time.Now()), nil, "")
		require.NoError(t, err)
		rec.WaitFor(t, key, 1)
		require.Len(t, rec.Of(key), 1)
		require.Len(t, rec.Of(other), 2, "another journey's change, published on this one's channel, was delivered as its own")
	})

	// The server keeps its data (append-only file) so that the journey
	// written before the restart can be updated after it.
	t.Run("after_redis_restarts_the_feed_resyncs_and_keeps_delivering", func(t *testing.T) {
		r := testutil.StartRedis(t, "--appendonly", "yes")
		s, err := redis.Open(r.URL())
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		rec, rs := storetest.NewRecorder(), &resyncs{}
		openFeed(t, s, rec, rs, key)

		j, _, err := s.CreateJourney(t.Context(), newJourney(key, time.Now()), nil, "")
		require.NoError(t, err)
		rec.WaitFor(t, key, 1)

		r.Stop()
		time.Sleep(200 * time.Millisecond) // let the feed meet the outage
		r.Start()
		rs.waitFor(t, 1)

		j.Step = "cover"
		_, err = s.UpdateJourney(t.Context(), store.Update{Journey: j, ContentChanged: true})
		require.NoError(t, err)
		rec.WaitFor(t, key, 2)
		revisions := []int64{}
		for _, c := range rec.Of(key) {
			revisions = append(revisions, c.GetRevision())
		}
		require.Equal(t, []int64{1, 2}, revisions)
	})
}

func TestChangeLogExpiry(t *testing.T) {
	prefix := fmt.Sprintf("logttl%d:", prefixes.Add(1))
	s := redis.New(client, redis.WithKeyPrefix(prefix), redis.WithChangeLog(0, 200*time.Millisecond))
	ctx := t.Context()
	key := store.JourneyKey{Customer: "c", Journey: "j"}
	j, _, err := s.CreateJourney(ctx, newJourney(key, time.Now()), nil, "")
	require.NoError(t, err)
	exists, err := client.Exists(ctx, prefix+"{c}:log:j").Result()
	require.NoError(t, err)
	require.Zero(t, exists, "a create is announced, not logged")
	j, err = s.UpdateJourney(ctx, store.Update{Journey: j, ContentChanged: true})
	require.NoError(t, err)
	pttl, err := client.PTTL(ctx, prefix+"{c}:log:j").Result()
	require.NoError(t, err)
	require.Positive(t, pttl)
	require.LessOrEqual(t, pttl, 200*time.Millisecond)

	time.Sleep(250 * time.Millisecond)
	_, complete, err := s.ChangesSince(ctx, key, 1)
	require.NoError(t, err)
	require.False(t, complete, "the log expired; it cannot reach back to revision 2")
	changes, complete, err := s.ChangesSince(ctx, key, 2)
	require.NoError(t, err)
	require.True(t, complete)
	require.Empty(t, changes)

	// The next change starts a new log, complete from its own revision.
	j, err = s.UpdateJourney(ctx, store.Update{Journey: j, ContentChanged: true})
	require.NoError(t, err)
	changes, complete, err = s.ChangesSince(ctx, key, 2)
	require.NoError(t, err)
	require.True(t, complete)
	require.Len(t, changes, 1)
	require.Equal(t, j.GetRevision(), changes[0].GetRevision())
	require.Equal(t, j.GetEtag(), changes[0].GetJourney().GetEtag())
}

// A journey written before revisions were kept has no seq field; it reads
// as revision 0 and can be updated from there.
func TestJourneyWithoutRevision(t *testing.T) {
	s, prefix := newStore(t, storetest.Options{TTL: time.Hour})
	ctx := t.Context()
	key := store.JourneyKey{Customer: "c", Journey: "j"}
	body, err := proto.Marshal(newJourney(key, time.Now()))
	require.NoError(t, err)
	require.NoError(t, client.HSet(ctx, prefix+"{c}:j:j", "rev", "5", "body", body).Err())
	require.NoError(t, client.Expire(ctx, prefix+"{c}:j:j", time.Hour).Err())

	j, err := s.GetJourney(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "5", j.GetEtag())
	require.Zero(t, j.GetRevision())

	j, err = s.UpdateJourney(ctx, store.Update{Journey: j, ContentChanged: true, Touchpoints: []*handoffv1.Touchpoint{touchpoint("cover")}})
	require.NoError(t, err)
	require.Equal(t, "6", j.GetEtag())
	require.Equal(t, int64(1), j.GetRevision())
	changes, complete, err := s.ChangesSince(ctx, key, 0)
	require.NoError(t, err)
	require.True(t, complete)
	require.Len(t, changes, 1)
}
