package app_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// BenchmarkClusterAgainstOneRedis runs the save, get and mixed workloads
// (70% saves, 20% gets, 10% handoffs with their redeem) through one
// handoffd on one Redis, then on a 3-primary, 3-replica Redis Cluster, in
// the same run, 64 callers over 4 gRPC connections on 1,000 journeys of
// 1,000 customers. On one machine this shows what the Cluster costs (six
// redis-servers and replication share the cores), not what it gains. Run
// it with make bench-cluster; docs/benchmarks.md has the latest figures.
func BenchmarkClusterAgainstOneRedis(b *testing.B) {
	for _, redis := range []string{"one", "cluster"} {
		var url string
		if redis == "one" {
			url = testutil.StartRedis(b, "--hash-max-listpack-value", "1024").URL()
		} else {
			url = testutil.StartRedisCluster(b, "--hash-max-listpack-value", "1024").URL()
		}
		// One agent redeems every code, up to 64 at once (a redeem in
		// flight counts against the failure limit until it succeeds), and
		// each journey is handed off many times within a code's lifetime.
		h := start(b, storeKind(url), func(c *config.Config) {
			c.RedeemFailures, c.AddressRedeemFailures, c.HandoffsPerJourney = 1<<20, 1<<20, 1<<20
		})
		clients := make([]handoffv1.JourneyServiceClient, 4)
		for i := range clients {
			conn, err := grpc.NewClient(h.app.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
			require.NoError(b, err)
			b.Cleanup(func() { _ = conn.Close() })
			clients[i] = handoffv1.NewJourneyServiceClient(conn)
		}
		const journeys = 1000
		names := make([]string, journeys)
		for i := range names {
			names[i] = newJourney(b, h, fmt.Sprintf("c-%d", i)).GetName()
		}
		web, phone := as(b, websiteToken), as(b, aliceToken, "x-handoff-channel", "phone")
		var next atomic.Int64
		call := map[string]func(api handoffv1.JourneyServiceClient, n int64) error{
			"save": func(api handoffv1.JourneyServiceClient, n int64) error {
				return saveForBench(web, api, names[n%journeys], n)
			},
			"get": func(api handoffv1.JourneyServiceClient, n int64) error {
				_, err := api.GetJourney(web, &handoffv1.GetJourneyRequest{Name: names[n%journeys]})
				return err
			},
		}
		call["mix"] = func(api handoffv1.JourneyServiceClient, n int64) error {
			switch n % 10 {
			case 0:
				offer, err := api.HandoffJourney(web, &handoffv1.HandoffJourneyRequest{Name: names[n%journeys]})
				if err != nil {
					return err
				}
				_, err = api.RedeemHandoff(phone, &handoffv1.RedeemHandoffRequest{Code: offer.GetCode()})
				return err
			case 1, 2:
				return call["get"](api, n)
			default:
				return call["save"](api, n)
			}
		}
		for _, workload := range []string{"save", "get", "mix"} {
			b.Run(fmt.Sprintf("workload=%s/redis=%s", workload, redis), func(b *testing.B) {
				b.SetParallelism(32) // 64 callers on 2 cores
				var conn atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					api := clients[conn.Add(1)%int64(len(clients))]
					for pb.Next() {
						if err := call[workload](api, next.Add(1)); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
			})
		}
	}
}

// saveForBench saves one answer, asking for only the next etag back, as a
// website does.
func saveForBench(ctx context.Context, api handoffv1.JourneyServiceClient, name string, n int64) error {
	_, err := api.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{
		Journey:    &handoffv1.Journey{Name: name, Data: &structpb.Struct{Fields: map[string]*structpb.Value{"n": structpb.NewNumberValue(float64(n))}}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"data.n"}},
		ReadMask:   &fieldmaskpb.FieldMask{Paths: []string{"etag"}},
	})
	return err
}
