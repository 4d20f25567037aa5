package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/redis"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// saveOnce saves one answer to the journey at key.
func saveOnce(ctx context.Context, s store.Store, key store.JourneyKey, n int) error {
	_, err := s.SaveJourney(ctx, store.Save{
		Key:        key,
		Answers:    []store.AnswerChange{{Path: "n", Value: structpb.NewNumberValue(float64(n))}},
		Channel:    handoffv1.Channel_CHANNEL_WEB,
		UpdateTime: time.Now(),
		Touchpoint: touchpoint("n"),
		Limits:     store.AnswerLimits{Answers: 1000, Bytes: 1 << 20},
	})
	return err
}

// onePerPrimary are journeys of customers whose keys lie on different
// primaries, one for each, found among c-0, c-1, ….
func onePerPrimary(t *testing.T, cc *goredis.ClusterClient, prefix string) []store.JourneyKey {
	t.Helper()
	seen := map[string]bool{}
	var keys []store.JourneyKey
	for i := 0; len(keys) < 3; i++ {
		require.Less(t, i, 1000, "no three customers on three primaries")
		k := store.JourneyKey{Customer: fmt.Sprintf("c-%d", i), Journey: "j"}
		p := primaryOf(t, cc, prefix+"{"+k.Customer+"}:j:j")
		if !seen[p] {
			seen[p] = true
			keys = append(keys, k)
		}
	}
	return keys
}

func TestAnInstanceOnAClusterReceivesOnlyTheChangesOfTheJourneysItFollows(t *testing.T) {
	_, cc := onACluster(t)
	writer, prefix := clusterStore(t, "", nil, storetest.Options{TTL: time.Hour})
	reader, _ := clusterStore(t, prefix, nil, storetest.Options{TTL: time.Hour})
	ctx := t.Context()

	// 12 journeys over the three primaries; the reader follows three of
	// them, one on each primary, and another instance follows nothing.
	const journeys, saves = 12, 1200
	keys := make([]store.JourneyKey, journeys)
	for i := range keys {
		keys[i] = store.JourneyKey{Customer: fmt.Sprintf("c-%d", i), Journey: "j"}
		_, _, err := writer.CreateJourney(ctx, newJourney(keys[i], time.Now()), nil, "")
		require.NoError(t, err)
	}
	followed := onePerPrimary(t, cc, prefix)
	rec, idle := storetest.NewRecorder(), storetest.NewRecorder()
	openFeed(t, reader, rec, &resyncs{}, followed...)
	openFeed(t, reader, idle, &resyncs{})

	start := time.Now()
	for i := range saves {
		require.NoError(t, saveOnce(ctx, writer, keys[i%journeys], i))
	}
	elapsed := time.Since(start)
	for _, k := range followed {
		rec.WaitFor(t, k, 1+saves/journeys)
	}

	t.Run("the_follower_gets_every_change_of_each_followed_journey_and_nothing_else", func(t *testing.T) {
		want := len(followed) * saves / journeys
		require.Equal(t, want, rec.Count())
		for _, k := range followed {
			require.Len(t, rec.Of(k), saves/journeys, k.Name())
		}
		t.Logf("%d saves in %v (%.0f/s) over %d journeys; the instance following %d of them received %d changes (%.0f/s); before sharded channels it received all %d",
			saves, elapsed.Round(time.Millisecond), float64(saves)/elapsed.Seconds(), journeys, len(followed),
			rec.Count(), float64(rec.Count())/elapsed.Seconds(), saves)
	})
	t.Run("a_feed_that_follows_nothing_receives_nothing", func(t *testing.T) {
		require.Zero(t, idle.Count())
	})
	t.Run("each_followed_channel_is_subscribed_once_on_the_primary_that_holds_its_journey", func(t *testing.T) {
		for _, k := range followed {
			channel := prefix + "{" + k.Customer + "}:ch:" + k.Journey
			primary, err := cc.MasterForKey(ctx, channel)
			require.NoError(t, err)
			n, err := primary.PubSubShardNumSub(ctx, channel).Result()
			require.NoError(t, err)
			require.Equal(t, int64(1), n[channel], channel)
		}
	})
}

// replicaOf is the address of the replica of the primary at addr, from
// CLUSTER NODES.
func replicaOf(t *testing.T, c *testutil.RedisCluster, addr string) string {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rdb.Close()
	id, err := rdb.ClusterMyID(t.Context()).Result()
	require.NoError(t, err)
	nodes, err := rdb.ClusterNodes(t.Context()).Result()
	require.NoError(t, err)
	for line := range strings.SplitSeq(nodes, "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && f[3] == id && strings.Contains(f[2], "slave") {
			return strings.SplitN(f[1], "@", 2)[0]
		}
	}
	t.Fatalf("no replica of %s in %s", addr, nodes)
	return ""
}

// saveUntilDelivered saves to key until a save succeeds (calls fail while
// the cluster fails over) and rec has received it.
func saveUntilDelivered(t *testing.T, s store.Store, rec *storetest.Recorder, key store.JourneyKey) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; ; n++ {
		require.True(t, time.Now().Before(deadline), "no save was delivered within 30 s")
		err := saveOnce(t.Context(), s, key, n)
		if err == nil {
			break
		}
		require.True(t, errors.Is(err, store.ErrUnavailable), "a save during a failover fails as unavailable, not %v", err)
		time.Sleep(100 * time.Millisecond)
	}
	j, err := s.GetJourney(t.Context(), key)
	require.NoError(t, err)
	rec.WaitFor(t, key, j.GetRevision())
}

func TestAFeedKeepsItsJourneysThroughAFailover(t *testing.T) {
	c := testutil.StartRedisCluster(t, "--cluster-node-timeout", "1000")
	o, err := goredis.ParseClusterURL(c.URL())
	require.NoError(t, err)
	cc := goredis.NewClusterClient(o)
	t.Cleanup(func() { _ = cc.Close() })
	s, err := redis.Open(c.URL())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	ctx := t.Context()

	keys := onePerPrimary(t, cc, "handoff:")
	rec, rs := storetest.NewRecorder(), &resyncs{}
	for _, k := range keys {
		_, _, err := s.CreateJourney(ctx, newJourney(k, time.Now()), nil, "")
		require.NoError(t, err)
	}
	openFeed(t, s, rec, rs, keys...)
	for _, k := range keys {
		saveUntilDelivered(t, s, rec, k)
	}
	moved := keys[0]
	primary := primaryOf(t, cc, "handoff:{"+moved.Customer+"}:j:j")

	t.Run("a_manual_failover_moves_the_subscription_to_the_new_primary", func(t *testing.T) {
		replica := replicaOf(t, c, primary)
		rdb := goredis.NewClient(&goredis.Options{Addr: replica})
		defer rdb.Close()
		resynced := rs.n.Load()
		require.NoError(t, rdb.ClusterFailover(ctx).Err())
		rs.waitFor(t, resynced+1)
		for _, k := range keys {
			saveUntilDelivered(t, s, rec, k)
		}
		primary = replica
	})

	t.Run("a_killed_primary_is_replaced_and_its_journeys_are_heard_again", func(t *testing.T) {
		// Replication is asynchronous: wait until the replica has every
		// save, so the one the kill promotes has not lost one.
		rdb := goredis.NewClient(&goredis.Options{Addr: primary})
		defer rdb.Close()
		require.NoError(t, rdb.Wait(ctx, 1, 5*time.Second).Err())
		// The feed hears the journey on the new primary (the first case),
		// so its link breaks; what is published before it is placed again
		// is not heard, which is why the feed then calls resync.
		resynced := rs.n.Load()
		node := c.Node(primary)
		require.NotNil(t, node, "no node at %s", primary)
		node.Kill()
		rs.waitFor(t, resynced+1)
		for _, k := range keys {
			saveUntilDelivered(t, s, rec, k)
		}
	})

	t.Run("every_save_made_after_a_resync_was_heard_in_revision_order", func(t *testing.T) {
		for _, k := range keys {
			got := rec.Of(k)
			for i := 1; i < len(got); i++ {
				require.Equal(t, got[i-1].GetRevision()+1, got[i].GetRevision(), "%s after change %d", k.Name(), i)
			}
		}
	})
}
