package app_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/app"
	"github.com/journeyhandoff/handoff/internal/testutil"
	"github.com/journeyhandoff/handoff/internal/watch"
)

// instance is one of several handoffd instances on one Redis.
type instance struct {
	app  *app.App
	api  handoffv1.JourneyServiceClient
	stop context.CancelFunc
	done <-chan error
}

// roundRobin is a client that spreads its calls over the instances' gRPC
// addresses in turn, as a load balancer in front of them would.
func roundRobin(t *testing.T, instances []instance) handoffv1.JourneyServiceClient {
	t.Helper()
	r := manual.NewBuilderWithScheme("instances")
	var addrs []resolver.Address
	for _, in := range instances {
		addrs = append(addrs, resolver.Address{Addr: in.app.GRPCAddr()})
	}
	r.InitialState(resolver.State{Addresses: addrs})
	conn, err := grpc.NewClient(r.Scheme()+":///handoffd",
		grpc.WithResolvers(r),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig": [{"round_robin": {}}]}`))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return handoffv1.NewJourneyServiceClient(conn)
}

// watchAll follows the journey from revision after through the given
// instances in turn: when one ends the watch as it shuts down, the watcher
// reconnects to the next from the last revision it received, as a client
// behind a load balancer does. It returns every revision
// received, snapshots marked negative, once it reached final, and how many
// instances it watched through.
func watchAll(ctx context.Context, name string, after, final int64, apis ...handoffv1.JourneyServiceClient) (got []int64, through int, err error) {
	for _, api := range apis {
		through++
		stream, err := api.WatchJourney(ctx, &handoffv1.WatchJourneyRequest{Name: name, AfterRevision: after})
		if err != nil {
			return got, through, err
		}
		for {
			c, err := stream.Recv()
			if err != nil {
				st := status.Convert(err)
				if st.Code() != codes.Unavailable {
					return got, through, err
				}
				// Resume where the server said, not where this client
				// thinks it is: they must agree.
				var info *errdetails.ErrorInfo
				for _, d := range st.Details() {
					if i, ok := d.(*errdetails.ErrorInfo); ok {
						info = i
					}
				}
				if info.GetReason() != watch.ReasonShuttingDown {
					return got, through, fmt.Errorf("the watch ended with %v, not as its instance shut down", err)
				}
				// The server says the last revision it knows it sent; one in
				// flight as it stopped may have arrived too. Never more than
				// was received: that would skip a change.
				resume, err := strconv.ParseInt(info.GetMetadata()["resume_after_revision"], 10, 64)
				if err != nil || resume > after {
					return got, through, fmt.Errorf("told to resume after %q, last received %d", info.GetMetadata()["resume_after_revision"], after)
				}
				break
			}
			if c.GetSnapshot() {
				got = append(got, -c.GetRevision())
			} else {
				got = append(got, c.GetRevision())
			}
			after = c.GetRevision()
			if after >= final {
				return got, through, nil
			}
		}
	}
	return got, through, errors.New("every instance ended the watch")
}

// requireContiguous checks that revisions run from first to last, one
// after the other, with no snapshot among them.
func requireContiguous(t *testing.T, revisions []int64, first, last int64) {
	t.Helper()
	require.NotEmpty(t, revisions)
	for i, r := range revisions {
		require.Equal(t, first+int64(i), r, "change %d of %v", i, revisions)
	}
	require.Equal(t, last, revisions[len(revisions)-1])
}

// Three handoffd instances on one Redis Cluster, each with its own hub,
// Redis connections and watchers, behind a round-robin: what one does,
// the others see, and stopping one loses nothing.
func TestThreeInstancesOnAClusterActAsOne(t *testing.T) {
	cluster := testutil.StartRedisCluster(t)
	instances := make([]instance, 3)
	for i := range instances {
		a, api, stop, done, _ := startStoppable(t, cluster.URL())
		instances[i] = instance{app: a, api: api, stop: stop, done: done}
		t.Cleanup(stop)
	}
	spread := roundRobin(t, instances)
	web := as(t, websiteToken)
	phone := as(t, aliceToken, "x-handoff-channel", "phone")

	j, err := spread.CreateJourney(web, &handoffv1.CreateJourneyRequest{
		Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote", Step: "vehicle"},
	})
	require.NoError(t, err)

	t.Run("a_code_issued_on_one_instance_opens_the_journey_on_each_other", func(t *testing.T) {
		for _, redeemOn := range []int{1, 2} {
			offer, err := instances[0].api.HandoffJourney(web, &handoffv1.HandoffJourneyRequest{Name: j.GetName()})
			require.NoError(t, err)
			got, err := instances[redeemOn].api.RedeemHandoff(phone, &handoffv1.RedeemHandoffRequest{Code: offer.GetCode()})
			require.NoError(t, err, "redeemed on instance %d", redeemOn)
			require.Equal(t, j.GetName(), got.GetName())
		}
	})

	t.Run("a_claim_made_on_one_instance_is_seen_and_kept_by_every_other", func(t *testing.T) {
		_, err := instances[1].api.ClaimJourney(phone, &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		for i, in := range instances {
			got, err := in.api.GetJourney(web, &handoffv1.GetJourneyRequest{Name: j.GetName()})
			require.NoError(t, err)
			require.Equal(t, "alice", got.GetAssignee(), "instance %d", i)
			_, err = in.api.ClaimJourney(as(t, bobToken, "x-handoff-channel", "chat"), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
			require.Error(t, err, "bob claimed alice's case on instance %d", i)
		}
	})

	t.Run("watchers_on_every_instance_see_every_save_made_through_the_round_robin", func(t *testing.T) {
		const saves = 60
		now, err := spread.GetJourney(web, &handoffv1.GetJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		start, final := now.GetRevision(), now.GetRevision()+saves
		// A watcher that misses a save waits for it until this ends.
		ctx, cancel := context.WithTimeout(web, 30*time.Second)
		defer cancel()
		results := make([][]int64, len(instances))
		errs := make([]error, len(instances))
		var watching, done sync.WaitGroup
		for i, in := range instances {
			watching.Add(1)
			done.Go(func() {
				stream, err := in.api.WatchJourney(ctx, &handoffv1.WatchJourneyRequest{Name: j.GetName(), AfterRevision: start})
				if err == nil {
					// Accepted: every save after start reaches the watch,
					// live or from the change log.
					_, err = stream.Header()
				}
				watching.Done()
				if err != nil {
					errs[i] = err
					return
				}
				for {
					c, err := stream.Recv()
					if err != nil {
						errs[i] = err
						return
					}
					results[i] = append(results[i], c.GetRevision())
					if c.GetRevision() >= final {
						return
					}
				}
			})
		}
		watching.Wait()
		for n := range saves {
			require.NoError(t, saveAnswer(web, spread, j.GetName(), "n", n))
		}
		done.Wait()
		require.NoError(t, errors.Join(errs...))
		for i := range instances {
			requireContiguous(t, results[i], start+1, final)
		}
	})

	t.Run("stopping_an_instance_moves_its_watcher_to_another_with_nothing_missed", func(t *testing.T) {
		// Enough saves that the stop, 100 ms in, falls in the middle.
		const writers, perWriter = 2, 400
		now, err := spread.GetJourney(web, &handoffv1.GetJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		start, final := now.GetRevision(), now.GetRevision()+writers*perWriter
		var got []int64
		var through int
		watched := make(chan error, 1)
		go func() {
			var err error
			ctx, cancel := context.WithTimeout(web, 30*time.Second)
			defer cancel()
			got, through, err = watchAll(ctx, j.GetName(), start, final, instances[2].api, instances[0].api)
			watched <- err
		}()
		require.Eventually(t, func() bool { return instances[2].app.OpenWatches() == 1 }, 10*time.Second, 5*time.Millisecond)

		// The writers save through the instances that stay; the last one
		// stops while they do.
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for n := range perWriter {
					if err := saveAnswer(web, instances[w].api, j.GetName(), fmt.Sprintf("w%d", w), n); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		time.Sleep(100 * time.Millisecond)
		instances[2].stop() // SIGTERM
		require.NoError(t, <-instances[2].done)
		wg.Wait()

		select {
		case err := <-watched:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Fatal("the watcher did not see the last save")
		}
		require.Equal(t, 2, through, "the stop did not end the watch mid-way")
		requireContiguous(t, got, start+1, final)
	})
}
