package redis_test

import (
	"fmt"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/sealing"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/redis"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// One Redis Cluster serves every cluster test of the package, started by
// the first that asks (about 5 s, so only when one runs) and stopped when
// the test binary ends; as on the shared server, each store gets its own
// key prefix.
var (
	clusterOnce   sync.Once
	cluster       *testutil.RedisCluster
	clusterClient *goredis.ClusterClient
)

// onACluster is the shared cluster, and a client of it that sees every
// node, for looking at what a store wrote where.
func onACluster(t *testing.T) (*testutil.RedisCluster, *goredis.ClusterClient) {
	t.Helper()
	clusterOnce.Do(func() {
		cluster = testutil.StartRedisCluster(mainT)
		o, err := goredis.ParseClusterURL(cluster.URL())
		if err != nil {
			mainT.Fatalf("parse %s: %v", cluster.URL(), err)
		}
		clusterClient = goredis.NewClusterClient(o)
		mainT.Cleanup(func() { _ = clusterClient.Close() })
	})
	return cluster, clusterClient
}

// clusterStore is a store opened on the shared cluster by its URL, as
// handoffd opens one, under prefix ("" for a fresh one), sealing with ring
// unless it is nil.
func clusterStore(t *testing.T, prefix string, ring *sealing.Keyring, o storetest.Options) (*redis.Store, string) {
	t.Helper()
	c, _ := onACluster(t)
	if prefix == "" {
		prefix = fmt.Sprintf("test%d:", prefixes.Add(1))
	}
	opts := []redis.Option{redis.WithKeyPrefix(prefix), redis.WithTTL(o.TTL), redis.WithChangeLog(o.ChangeLogEntries, 0)}
	if ring != nil {
		opts = append(opts, redis.WithSealer(ring))
	}
	s, err := redis.Open(c.URL(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, prefix
}

func TestConformanceOnACluster(t *testing.T) {
	_, cc := onACluster(t)
	watch := watchScripts(t, cc)
	storetest.Run(t, func(t *testing.T, o storetest.Options) store.Store {
		s, _ := clusterStore(t, "", nil, o)
		return s
	})
	t.Run("every_script_the_suite_ran_touched_only_keys_in_the_slot_of_its_declared_keys", func(t *testing.T) {
		ran, strays := watch.stop(t)
		require.Empty(t, strays)
		t.Logf("script runs seen: %v", ran)
		var want []string
		for _, name := range redis.ScriptNames {
			// convert upgrades a v1 record, which the suite never writes;
			// prune tidies the index after an expiry, which the suite's
			// lists never meet (a test of its own runs it).
			if name != "convert" && name != "prune" {
				want = append(want, name)
			}
		}
		require.Subset(t, sortedNames(ran), want, "the suite runs every script the store writes with")
	})
}

func TestConformanceSealedOnACluster(t *testing.T) {
	ring := keyring(t, sealingKey(t, "k1"))
	storetest.Run(t, func(t *testing.T, o storetest.Options) store.Store {
		s, _ := clusterStore(t, "", ring, o)
		return s
	})
}

func TestTheScriptWatchSeesWhatRedisLetsPass(t *testing.T) {
	_, cc := onACluster(t)
	ctx := t.Context()
	// Two keys of different slots on one primary: Redis runs a script that
	// declares one and touches the other without a word.
	declared := "watch:{a}"
	primary, err := cc.MasterForKey(ctx, declared)
	require.NoError(t, err)
	var stray string
	for i := 0; stray == ""; i++ {
		k := fmt.Sprintf("watch:{b%d}", i)
		p, err := cc.MasterForKey(ctx, k)
		require.NoError(t, err)
		if p.Options().Addr == primary.Options().Addr {
			stray = k
		}
	}
	watch := watchScripts(t, cc)
	require.NoError(t, cc.Eval(ctx, "redis.call('SET', KEYS[1], 1) return redis.call('SET', ARGV[1], 1)", []string{declared}, stray).Err(),
		"Redis 7.0 runs it: only a key on another node is refused")
	_, strays := watch.stop(t)
	require.Len(t, strays, 1)
	require.Contains(t, strays[0], stray)
}

func TestTheSlotOfAKeyIsTheOneRedisComputes(t *testing.T) {
	_, cc := onACluster(t)
	for _, key := range []string{
		"plain", "handoff:{c-42}:j:anna-quote", "handoff:code:ABCD1234", "handoff:{fail:alice}",
		"{}empty-tag", "a{b}{c}", "{{nested}}", "open{only", "close}only", "",
	} {
		want, err := cc.ClusterKeySlot(t.Context(), key).Result()
		require.NoError(t, err)
		require.Equal(t, int(want), keySlot(key), "%q", key)
	}
}
