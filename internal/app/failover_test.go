package app_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// writerLog is what one writer saw: the values it saved that handoffd
// acknowledged, and how its failed calls failed.
type writerLog struct {
	acked    []int
	failures map[codes.Code]int
	slowest  time.Duration // the longest failed call
	lastOK   atomic.Int64  // unix nanoseconds of the last acknowledged save
	lastFail atomic.Int64  // and of the last failed one
	count    atomic.Int64  // len(acked), for reading while it grows
}

// Killing a primary while twelve writers save, one journey each, spread
// over the three primaries: calls to the dead primary's journeys fail fast
// with UNAVAILABLE until its replica takes over, handoffd carries on by
// itself, and the saves it acknowledged are counted against what the
// journeys hold afterwards. Redis replicates asynchronously, so without
// --redis-min-replicas-ack a save acknowledged just before the kill and not
// yet on the replica is lost; with it, none is.
func TestKillingAPrimaryUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name string
		ack  int
	}{
		{"with_asynchronous_replication", 0},
		{"waiting_for_one_replica_to_acknowledge_each_write", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testutil.StartRedisCluster(t, "--cluster-node-timeout", "1000")
			h := start(t, storeKind(c.URL()), func(cfg *config.Config) { cfg.RedisMinReplicasAck = tc.ack })
			o, err := goredis.ParseClusterURL(c.URL())
			require.NoError(t, err)
			cc := goredis.NewClusterClient(o)
			t.Cleanup(func() { _ = cc.Close() })
			web := as(t, websiteToken)

			const writers = 12
			names := make([]string, writers)
			for w := range writers {
				t.Cleanup(func() {
					if t.Failed() {
						t.Log(h.logs.String())
					}
				})
				names[w] = newJourney(t, h, fmt.Sprintf("c-%d", w)).GetName()
			}
			victim, err := cc.MasterForKey(t.Context(), "handoff:{c-0}:j:x")
			require.NoError(t, err)
			onVictim := 0
			for w := range writers {
				p, err := cc.MasterForKey(t.Context(), fmt.Sprintf("handoff:{c-%d}:j:x", w))
				require.NoError(t, err)
				if p.Options().Addr == victim.Options().Addr {
					onVictim++
				}
			}

			logs := make([]*writerLog, writers)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for w := range writers {
				logs[w] = &writerLog{failures: map[codes.Code]int{}}
				wg.Go(func() {
					l := logs[w]
					for n := 1; ; n++ {
						select {
						case <-stop:
							return
						default:
						}
						ctx, cancel := context.WithTimeout(web, 10*time.Second)
						began := time.Now()
						err := saveAnswer(ctx, h.api, names[w], "n", n)
						cancel()
						if err == nil {
							l.acked = append(l.acked, n)
							l.count.Add(1)
							l.lastOK.Store(time.Now().UnixNano())
							continue
						}
						l.failures[status.Code(err)]++
						l.lastFail.Store(time.Now().UnixNano())
						l.slowest = max(l.slowest, time.Since(began))
						time.Sleep(10 * time.Millisecond)
					}
				})
			}

			time.Sleep(time.Second)
			ackedBefore := 0
			for _, l := range logs {
				ackedBefore += int(l.count.Load())
			}
			killed := time.Now()
			node := nodeOf(t, c, victim.Options().Addr)
			node.Kill()
			// A save acknowledged after the failures the kill caused.
			savedAgain := func() bool {
				failed := logs[0].lastFail.Load()
				return failed > killed.UnixNano() && logs[0].lastOK.Load() > failed
			}
			// Its replica takes over within seconds. With writes waiting for
			// a replica, the new primary's writes wait for one until the
			// dead node is back (it rejoins as the new primary's replica),
			// as an operator would bring it back.
			deadline := time.Now().Add(5 * time.Second)
			for !savedAgain() && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			restarted := !savedAgain()
			if restarted {
				node.Start()
			}
			require.Eventually(t, savedAgain, 30*time.Second, 10*time.Millisecond, "c-0's journey was never saved again")
			outage := time.Since(killed)
			time.Sleep(500 * time.Millisecond)
			close(stop)
			wg.Wait()

			lost, acked, failed := 0, 0, map[codes.Code]int{}
			var slowest time.Duration
			for w, l := range logs {
				// A read may meet the slot map of the moment before the
				// failover once more, and fail as a save would.
				var j *handoffv1.Journey
				require.Eventually(t, func() bool {
					j, err = h.api.GetJourney(web, &handoffv1.GetJourneyRequest{Name: names[w]})
					return status.Code(err) != codes.Unavailable
				}, 10*time.Second, 10*time.Millisecond)
				require.NoError(t, err)
				stored := int(j.GetData().GetFields()["n"].GetNumberValue())
				for _, n := range l.acked {
					if n > stored {
						lost++
					}
				}
				acked += len(l.acked)
				for code, count := range l.failures {
					failed[code] += count
				}
				slowest = max(slowest, l.slowest)
			}
			t.Logf("%d writers, %d of them on the killed primary; %d saves acknowledged in the second before the kill, %d in all; "+
				"c-0 saved again %v after the kill (the dead node restarted first: %v); failed calls by code %v, the slowest in %v; acknowledged saves lost: %d",
				writers, onVictim, ackedBefore, acked, outage.Round(10*time.Millisecond), restarted, failed, slowest.Round(time.Millisecond), lost)

			for code := range failed {
				require.Equal(t, codes.Unavailable, code, "a call during the failover failed with %v", code)
			}
			if tc.ack > 0 {
				require.Zero(t, lost, "a save a replica acknowledged was lost")
			} else {
				require.False(t, restarted, "handoffd did not carry on with the new primary by itself")
			}
		})
	}
}

// nodeOf is the cluster's node listening at addr.
func nodeOf(t *testing.T, c *testutil.RedisCluster, addr string) *testutil.Redis {
	t.Helper()
	for i, a := range c.Addrs() {
		if a == addr {
			return c.Nodes()[i]
		}
	}
	t.Fatalf("no node at %s", addr)
	return nil
}
