package redis_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"

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
func clusterStore(t *testing.T, prefix string, ring *sealing.Keyring, o storetest.Options, extra ...redis.Option) (*redis.Store, string) {
	t.Helper()
	c, _ := onACluster(t)
	if prefix == "" {
		prefix = fmt.Sprintf("test%d:", prefixes.Add(1))
	}
	opts := append(optionsOf(o), redis.WithKeyPrefix(prefix))
	if ring != nil {
		opts = append(opts, redis.WithSealer(ring))
	}
	s, err := redis.Open(c.URL(), append(opts, extra...)...)
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
			// lists never meet (TestListingAndErasingReachEveryPrimary runs it).
			if name != "convert" && name != "prune" {
				want = append(want, name)
			}
		}
		require.Subset(t, sortedNames(ran), want, "the suite runs every script the store writes with")
	})
}

// Every write waits for its primary's replica: each is a pipeline of the
// script and WAIT on the primary's own connection, which must behave as the
// plain script does.
func TestConformanceOnAClusterWaitingForAReplica(t *testing.T) {
	storetest.Run(t, func(t *testing.T, o storetest.Options) store.Store {
		s, _ := clusterStore(t, "", nil, o, redis.WithMinReplicasAck(1, 5*time.Second))
		return s
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

// primaryOf is the address of the primary serving key's slot.
func primaryOf(t *testing.T, cc *goredis.ClusterClient, key string) string {
	t.Helper()
	p, err := cc.MasterForKey(t.Context(), key)
	require.NoError(t, err)
	return p.Options().Addr
}

// keysOnEachPrimary scans every primary for the keys matching pattern and
// says which primary holds each.
func keysOnEachPrimary(ctx context.Context, t *testing.T, cc *goredis.ClusterClient, pattern string) map[string]string {
	t.Helper()
	var mu sync.Mutex
	where := map[string]string{}
	require.NoError(t, cc.ForEachMaster(ctx, func(ctx context.Context, p *goredis.Client) error {
		iter := p.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			where[iter.Val()] = p.Options().Addr
			mu.Unlock()
		}
		return iter.Err()
	}))
	return where
}

func TestTheLayoutSpreadsOverThePrimaries(t *testing.T) {
	_, cc := onACluster(t)
	// A prefix of its own, fixed, so which slot each code's key falls in
	// is the same on every run.
	s, prefix := clusterStore(t, "spread:", nil, storetest.Options{TTL: time.Hour})
	// So the prefix is empty again for the next run in this process
	// (-count), which makes the same codes.
	t.Cleanup(func() {
		// t.Context() is done by now.
		ctx := context.Background()
		for k := range keysOnEachPrimary(ctx, t, cc, prefix+"*") {
			require.NoError(t, cc.Del(ctx, k).Err())
		}
	})
	ctx := t.Context()
	const customers = 12
	// Codes as the service makes them look random; these are fixed, and
	// unlike "CODE0001" for "c-1" they share no pattern with the customer's
	// name (CRC16 of two names that differ alike often differs alike).
	codeOf := map[string]string{} // code → its customer
	for i := range customers {
		c := fmt.Sprintf("c-%d", i)
		sum := sha256.Sum256([]byte(c))
		code := strings.ToUpper(hex.EncodeToString(sum[:4]))
		codeOf[code] = c
		key := store.JourneyKey{Customer: c, Journey: "j-1"}
		j, _, err := s.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "req-"+c)
		require.NoError(t, err)
		j.Step = "cover"
		_, err = s.UpdateJourney(ctx, store.Update{Journey: j, ContentChanged: true, Touchpoints: []*handoffv1.Touchpoint{touchpoint("cover")}})
		require.NoError(t, err)
		require.NoError(t, s.CreateHandoffCode(ctx, code, key, time.Now().Add(time.Minute), store.CodeLimits{Live: 3, Made: 10}))
		_, ok, _, err := s.RecordAttempt(ctx, "agent:"+c, time.Minute, 10)
		require.NoError(t, err)
		require.True(t, ok)
	}
	where := keysOnEachPrimary(ctx, t, cc, prefix+"*")

	type placed struct{ slots, primaries map[string]bool }
	customerAt, codeAt, attemptAt := map[string]placed{}, placed{map[string]bool{}, map[string]bool{}}, placed{map[string]bool{}, map[string]bool{}}
	spread := 0 // codes on another primary than their customer's keys
	for k, primary := range where {
		slot := fmt.Sprint(keySlot(k))
		rest := strings.TrimPrefix(k, prefix)
		switch {
		case strings.HasPrefix(rest, "code:"):
			codeAt.slots[slot], codeAt.primaries[primary] = true, true
			if primary != primaryOf(t, cc, prefix+"{"+codeOf[strings.TrimPrefix(rest, "code:")]+"}:idx") {
				spread++
			}
		case strings.HasPrefix(rest, "{fail:"):
			attemptAt.slots[slot], attemptAt.primaries[primary] = true, true
		case strings.HasPrefix(rest, "{c-"):
			c := rest[1:strings.IndexByte(rest, '}')]
			p, ok := customerAt[c]
			if !ok {
				p = placed{map[string]bool{}, map[string]bool{}}
				customerAt[c] = p
			}
			p.slots[slot], p.primaries[primary] = true, true
		default:
			t.Fatalf("a key outside the documented layout: %s", k)
		}
	}

	t.Run("every_key_of_a_customer_is_in_one_slot_on_one_primary", func(t *testing.T) {
		require.Len(t, customerAt, customers)
		for c, p := range customerAt {
			require.Len(t, p.slots, 1, c)
			require.Len(t, p.primaries, 1, c)
		}
	})
	t.Run("customers_spread_over_every_primary", func(t *testing.T) {
		primaries := map[string]bool{}
		for _, p := range customerAt {
			for a := range p.primaries {
				primaries[a] = true
			}
		}
		require.Len(t, primaries, 3)
	})
	t.Run("codes_and_attempt_counters_spread_over_slots_of_their_own", func(t *testing.T) {
		require.Len(t, codeAt.slots, customers, "one slot per code")
		require.Len(t, codeAt.primaries, 3)
		require.Len(t, attemptAt.slots, customers, "one slot per principal")
		require.Len(t, attemptAt.primaries, 3)
		require.Positive(t, spread, "some codes live on another primary than their journey")
		t.Logf("%d of %d codes on another primary than their customer's keys", spread, customers)
	})
}

func TestListingAndErasingReachEveryPrimary(t *testing.T) {
	_, cc := onACluster(t)
	watch := watchScripts(t, cc)
	s, prefix := clusterStore(t, "", nil, storetest.Options{TTL: time.Hour})
	ctx := t.Context()
	const gone = "c-9"
	home := primaryOf(t, cc, prefix+"{"+gone+"}:idx")
	// Another customer on another primary, who must keep everything.
	kept := ""
	for i := 0; kept == ""; i++ {
		if c := fmt.Sprintf("c-%d", i); primaryOf(t, cc, prefix+"{"+c+"}:idx") != home {
			kept = c
		}
	}
	// Codes whose keys are on the two primaries the customer's keys are not.
	var codes []string
	onPrimary := map[string]int{}
	for i := 0; len(codes) < 4; i++ {
		code := fmt.Sprintf("GONE%04d", i)
		if p := primaryOf(t, cc, prefix+"code:"+code); p != home && onPrimary[p] < 2 {
			codes = append(codes, code)
			onPrimary[p]++
		}
	}
	require.Len(t, onPrimary, 2)

	limits := store.CodeLimits{Live: 3, Made: 10}
	journeys := []store.JourneyKey{{Customer: gone, Journey: "j-1"}, {Customer: gone, Journey: "j-2"}, {Customer: gone, Journey: "j-3"}}
	start := time.Now().Add(-time.Hour)
	for i, key := range journeys {
		j, _, err := s.CreateJourney(ctx, newJourney(key, start.Add(time.Duration(i)*time.Minute)), touchpoint("start"), "req-"+key.Journey)
		require.NoError(t, err)
		_, err = s.SaveJourney(ctx, store.Save{
			Key:        key,
			IfEtag:     j.GetEtag(),
			Answers:    []store.AnswerChange{{Path: "driver.name", Value: structpb.NewStringValue("Anna " + gone)}},
			Channel:    handoffv1.Channel_CHANNEL_WEB,
			UpdateTime: time.Now(),
			Touchpoint: touchpoint("driver"),
			Limits:     store.AnswerLimits{Answers: 100, Bytes: 1 << 16},
		})
		require.NoError(t, err)
	}
	for i, code := range codes {
		require.NoError(t, s.CreateHandoffCode(ctx, code, journeys[i%2], time.Now().Add(time.Minute), limits))
	}
	// A redeemed code leaves a tombstone naming the customer, and a mark.
	got, err := s.RedeemHandoffCode(ctx, codes[0])
	require.NoError(t, err)
	require.Equal(t, journeys[0], got)
	// A journey whose hash expired while its index entry stayed.
	expired := store.JourneyKey{Customer: gone, Journey: "j-0"}
	_, _, err = s.CreateJourney(ctx, newJourney(expired, start.Add(-time.Minute)), nil, "")
	require.NoError(t, err)
	require.NoError(t, cc.Del(ctx, prefix+"{"+gone+"}:j:j-0").Err())

	keptKey := store.JourneyKey{Customer: kept, Journey: "j-1"}
	_, _, err = s.CreateJourney(ctx, newJourney(keptKey, start), touchpoint("start"), "req-kept")
	require.NoError(t, err)
	keptCode := codes[3] + "K"
	require.NoError(t, s.CreateHandoffCode(ctx, keptCode, keptKey, time.Now().Add(time.Minute), limits))

	t.Run("listing_pages_through_the_journeys_newest_first_and_drops_the_expired_one", func(t *testing.T) {
		page, next, err := s.ListJourneys(ctx, gone, store.ListJourneysQuery{Limit: 2})
		require.NoError(t, err)
		require.Equal(t, []string{"j-3", "j-2"}, ids(page))
		require.NotNil(t, next)
		page, next, err = s.ListJourneys(ctx, gone, store.ListJourneysQuery{Limit: 2, After: next})
		require.NoError(t, err)
		require.Equal(t, []string{"j-1"}, ids(page))
		require.Nil(t, next)
		members, err := cc.ZRange(ctx, prefix+"{"+gone+"}:idx", 0, -1).Result()
		require.NoError(t, err)
		require.Len(t, members, 3, "the expired journey's entry was pruned")
	})

	n, err := s.EraseCustomer(ctx, gone)
	require.NoError(t, err)
	require.Equal(t, 3, n)

	t.Run("no_key_naming_the_customer_remains_on_any_primary", func(t *testing.T) {
		var left []string
		for k := range keysOnEachPrimary(ctx, t, cc, prefix+"*") {
			if strings.Contains(k, gone) {
				left = append(left, k)
				continue
			}
			if v, err := cc.Get(ctx, k).Result(); err == nil && strings.Contains(v, gone) {
				left = append(left, k+" = "+v)
			}
		}
		require.Empty(t, left)
	})
	t.Run("the_customer's_codes_open_nothing_and_the_list_is_empty", func(t *testing.T) {
		for _, code := range codes {
			_, err := s.RedeemHandoffCode(ctx, code)
			require.ErrorIs(t, err, store.ErrNotFound, code)
		}
		page, next, err := s.ListJourneys(ctx, gone, store.ListJourneysQuery{Limit: 10})
		require.NoError(t, err)
		require.Empty(t, page)
		require.Nil(t, next)
	})
	t.Run("the_other_customer_on_another_primary_keeps_everything", func(t *testing.T) {
		_, err := s.GetJourney(ctx, keptKey)
		require.NoError(t, err)
		got, err := s.RedeemHandoffCode(ctx, keptCode)
		require.NoError(t, err)
		require.Equal(t, keptKey, got)
	})
	t.Run("every_script_touched_only_keys_in_the_slot_of_its_declared_keys", func(t *testing.T) {
		ran, strays := watch.stop(t)
		require.Empty(t, strays)
		require.Subset(t, sortedNames(ran), []string{"create", "save", "issue", "redeem", "redeem_listed", "prune"})
	})
}
