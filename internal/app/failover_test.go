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

// failover is what killing a primary under load cost.
type failover struct {
	ackedBefore int           // saves acknowledged in the second before the kill
	acked       int           // in all
	outage      time.Duration // from the kill to the first writer's next acknowledged save
	restarted   bool          // the dead node had to come back first
	failed      map[codes.Code]int
	slowest     time.Duration
	lost        int // acknowledged saves the journeys no longer hold
}

func (f failover) String() string {
	return fmt.Sprintf("%d saves acknowledged in the second before the kill, %d in all; the first writer saved again %v after the kill "+
		"(the dead node restarted first: %v); failed calls by code %v, the slowest in %v; acknowledged saves lost: %d",
		f.ackedBefore, f.acked, f.outage.Round(10*time.Millisecond), f.restarted, f.failed, f.slowest.Round(time.Millisecond), f.lost)
}

// killUnderLoad has one writer per journey save continuously through h,
// kills a primary after a second (kill), and waits until the first
// writer's journey, which must be on that primary, saves again; if it has
// not within 10 s, it brings the dead node back (restart), as an operator
// would, and waits again. Then it counts the acknowledged saves that the
// journeys no longer hold.
func killUnderLoad(t *testing.T, h *harness, names []string, kill, restart func()) failover {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(h.logs.String())
		}
	})
	web := as(t, websiteToken)
	logs := make([]*writerLog, len(names))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range names {
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
				l.slowest = max(l.slowest, time.Since(began))
				l.lastFail.Store(time.Now().UnixNano())
				time.Sleep(10 * time.Millisecond)
			}
		})
	}

	time.Sleep(time.Second)
	var f failover
	for _, l := range logs {
		f.ackedBefore += int(l.count.Load())
	}
	killed := time.Now()
	kill()
	// A save acknowledged after the failures the kill caused.
	savedAgain := func() bool {
		failed := logs[0].lastFail.Load()
		return failed > killed.UnixNano() && logs[0].lastOK.Load() > failed
	}
	// A failover takes a few seconds; ten leave room for a loaded machine.
	deadline := time.Now().Add(10 * time.Second)
	for !savedAgain() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if f.restarted = !savedAgain(); f.restarted {
		restart()
	}
	// Sentinel makes a returning old primary a replica some 15 s after it is
	// back; a loaded machine may take longer.
	require.Eventually(t, savedAgain, 60*time.Second, 10*time.Millisecond, "the first writer's journey was never saved again")
	f.outage = time.Since(killed)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	f.failed = map[codes.Code]int{}
	for w, l := range logs {
		// A read may meet the map of the moment before the failover once
		// more, and fail as a save would.
		var j *handoffv1.Journey
		untilAvailable(t, func() (err error) {
			j, err = h.api.GetJourney(web, &handoffv1.GetJourneyRequest{Name: names[w]})
			return err
		})
		stored := int(j.GetData().GetFields()["n"].GetNumberValue())
		for _, n := range l.acked {
			if n > stored {
				f.lost++
			}
		}
		f.acked += len(l.acked)
		for code, count := range l.failures {
			f.failed[code] += count
		}
		f.slowest = max(f.slowest, l.slowest)
	}
	for code := range f.failed {
		require.Equal(t, codes.Unavailable, code, "a call during the failover failed with %v", code)
	}
	return f
}

// The two ways to run: Redis's asynchronous replication, and each write
// waiting for one replica. Without waiting, a save acknowledged just before
// the kill and not yet on the replica is lost; with it, none is, but a
// primary left without a replica refuses writes until one is back.
var replicationModes = []struct {
	name string
	ack  int
}{
	{"with_asynchronous_replication", 0},
	{"waiting_for_one_replica_to_acknowledge_each_write", 1},
}

// untilAvailable calls call again while it answers UNAVAILABLE ("try
// again in a moment"), as a client would, for up to 10 s, and requires
// that it then succeeds.
func untilAvailable(t *testing.T, call func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := call()
		if status.Code(err) != codes.Unavailable || time.Now().After(deadline) {
			require.NoError(t, err)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newReplicatedJourney is newJourney on a store that may wait for a
// replica: a create no replica acknowledged within the timeout answers
// UNAVAILABLE, as the first writes after the replica's start may on a
// loaded machine, and a caller tries again.
func newReplicatedJourney(t *testing.T, h *harness, customer string) *handoffv1.Journey {
	t.Helper()
	var j *handoffv1.Journey
	untilAvailable(t, func() (err error) {
		j, err = createJourney(t, h, customer)
		return err
	})
	return j
}

// requireFailoverOutcome checks what each mode promises.
func requireFailoverOutcome(t *testing.T, ack int, f failover) {
	t.Helper()
	if ack > 0 {
		require.Zero(t, f.lost, "a save a replica acknowledged was lost")
	} else {
		require.False(t, f.restarted, "handoffd did not carry on with the new primary by itself")
	}
}

// Killing a primary of a 3-primary Cluster while twelve writers save, one
// journey each, spread over the primaries: calls to the dead primary's
// journeys fail fast with UNAVAILABLE until its replica takes over, and
// handoffd finds the new primary by itself.
func TestKillingAClusterPrimaryUnderLoad(t *testing.T) {
	for _, tc := range replicationModes {
		t.Run(tc.name, func(t *testing.T) {
			c := testutil.StartRedisCluster(t, "--cluster-node-timeout", "1000")
			h := start(t, storeKind(c.URL()), func(cfg *config.Config) { cfg.RedisMinReplicasAck = tc.ack })
			o, err := goredis.ParseClusterURL(c.URL())
			require.NoError(t, err)
			cc := goredis.NewClusterClient(o)
			t.Cleanup(func() { _ = cc.Close() })

			const writers = 12
			names := make([]string, writers)
			onVictim := 0
			victim, err := cc.MasterForKey(t.Context(), "handoff:{c-0}:j:x")
			require.NoError(t, err)
			for w := range writers {
				names[w] = newReplicatedJourney(t, h, fmt.Sprintf("c-%d", w)).GetName()
				p, err := cc.MasterForKey(t.Context(), fmt.Sprintf("handoff:{c-%d}:j:x", w))
				require.NoError(t, err)
				if p.Options().Addr == victim.Options().Addr {
					onVictim++
				}
			}
			node := c.Node(victim.Options().Addr)
			require.NotNil(t, node)
			f := killUnderLoad(t, h, names, node.Kill, node.Start)
			t.Logf("%d writers, %d of them on the killed primary: %v", writers, onVictim, f)
			requireFailoverOutcome(t, tc.ack, f)
		})
	}
}

// The same with a primary, one replica and a Sentinel that promotes it
// after a second of silence: every journey is on the killed primary.
func TestKillingTheSentinelManagedPrimaryUnderLoad(t *testing.T) {
	for _, tc := range replicationModes {
		t.Run(tc.name, func(t *testing.T) {
			s := testutil.StartRedisSentinel(t, 1000)
			h := start(t, storeKind(s.URL()), func(cfg *config.Config) { cfg.RedisMinReplicasAck = tc.ack })
			const writers = 4
			names := make([]string, writers)
			for w := range writers {
				names[w] = newReplicatedJourney(t, h, fmt.Sprintf("c-%d", w)).GetName()
			}
			f := killUnderLoad(t, h, names, s.Primary.Kill, s.Primary.Start)
			t.Logf("%d writers: %v", writers, f)
			requireFailoverOutcome(t, tc.ack, f)
		})
	}
}
