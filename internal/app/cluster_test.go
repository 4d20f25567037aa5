package app_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// The handoff story on a Redis Cluster, across two handoffd instances:
// the website's calls reach one, the agent's desk the other, as behind a
// load balancer. Anna's keys share a slot on one primary; her codes and
// the agents' failed-redeem counters are on whichever primary their own
// slots fall.
func TestTheHandoffStoryOnARedisCluster(t *testing.T) {
	began := time.Now()
	cluster := testutil.StartRedisCluster(t)
	t.Logf("the cluster started in %s", time.Since(began).Round(time.Millisecond))
	site := start(t, storeKind(cluster.URL()))
	desk := start(t, storeKind(cluster.URL()))
	o, err := goredis.ParseClusterURL(cluster.URL())
	require.NoError(t, err)
	rdb := goredis.NewClusterClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	web := []string{"X-Handoff-Channel", "web"}
	phone := as(t, aliceToken, "x-handoff-channel", "phone")

	for _, h := range []*harness{site, desk} {
		status, body := h.rest(t, "GET", "/readyz", "", nil)
		require.Equal(t, http.StatusOK, status, "%v", body)
	}

	// Another customer, who must keep everything when Anna is erased.
	other := newJourney(t, site, "c-1")

	status, j := site.rest(t, "POST", "/v1/customers/c-42/journeys?requestId=anna-1", websiteToken,
		map[string]any{"journeyType": "car-insurance-quote", "step": "vehicle"}, web...)
	require.Equal(t, http.StatusOK, status, "%v", j)
	name := j["name"].(string)
	for _, save := range []map[string]any{
		{"step": "vehicle", "data": map[string]any{"vehicle": map[string]any{"plate": "AB-123-C", "make": "Volvo"}}},
		{"step": "cover", "data": map[string]any{"cover": map[string]any{"level": "comprehensive"}}},
	} {
		save["etag"] = j["etag"]
		status, j = site.rest(t, "PATCH", "/v1/"+name, websiteToken, save, web...)
		require.Equal(t, http.StatusOK, status, "%v", j)
	}
	status, offer := site.rest(t, "POST", "/v1/"+name+":handoff", websiteToken, map[string]any{}, web...)
	require.Equal(t, http.StatusOK, status, "%v", offer)
	code := offer["code"].(string)

	var resumed *handoffv1.Journey
	t.Run("an_agent_on_the_other_instance_redeems_the_code", func(t *testing.T) {
		// A wrong guess first: its counter lives in a slot of its own.
		_, err := desk.api.RedeemHandoff(phone, &handoffv1.RedeemHandoffRequest{Code: "ZZZZ-ZZZZ"})
		require.Error(t, err)
		resumed, err = desk.api.RedeemHandoff(phone, &handoffv1.RedeemHandoffRequest{Code: code})
		require.NoError(t, err)
		require.Equal(t, name, resumed.GetName())
		require.Equal(t, "cover", resumed.GetStep())
		require.Equal(t, "alice", resumed.GetAssignee())
		require.Equal(t, "comprehensive", resumed.GetData().AsMap()["cover"].(map[string]any)["level"])
	})
	require.NotNil(t, resumed)

	wctx, stopWatch := context.WithCancel(phone)
	defer stopWatch()
	stream, err := desk.api.WatchJourney(wctx, &handoffv1.WatchJourneyRequest{Name: name})
	require.NoError(t, err)
	changes := follow(t, stream)
	first := nextChange(t, changes, func(c *handoffv1.JourneyChange) bool { return c.GetSnapshot() })

	t.Run("a_save_through_the_website's_instance_reaches_the_watcher_on_the_agent's", func(t *testing.T) {
		// Both instances subscribe on the primary of the channel's slot; the
		// save's script publishes on Anna's, another one, so the change
		// crosses the cluster bus.
		annas, err := rdb.MasterForKey(t.Context(), "handoff:{c-42}:idx")
		require.NoError(t, err)
		channels, err := rdb.MasterForKey(t.Context(), "handoff:changes")
		require.NoError(t, err)
		require.NotEqual(t, annas.Options().Addr, channels.Options().Addr)

		status, saved := site.rest(t, "PATCH", "/v1/"+name, websiteToken,
			map[string]any{"data": map[string]any{"driver": map[string]any{"claimsFree": 7}}}, web...)
		require.Equal(t, http.StatusOK, status, "%v", saved)
		c := nextChange(t, changes, func(c *handoffv1.JourneyChange) bool {
			return c.GetJourney().GetData().GetFields()["driver"] != nil
		})
		require.Greater(t, c.GetRevision(), first.GetRevision())
		require.Equal(t, float64(7), c.GetJourney().GetData().AsMap()["driver"].(map[string]any)["claimsFree"])
	})

	t.Run("the_agent_transfers_the_case_and_the_watch_shows_the_new_holder", func(t *testing.T) {
		moved, err := desk.api.TransferJourney(phone, &handoffv1.TransferJourneyRequest{
			Name: name, ToAgent: "bob", ToChannel: handoffv1.Channel_CHANNEL_CHAT, Note: "asked about glass cover",
		})
		require.NoError(t, err)
		require.Equal(t, "bob", moved.GetAssignee())
		nextChange(t, changes, func(c *handoffv1.JourneyChange) bool { return c.GetJourney().GetAssignee() == "bob" })
		tl := timeline(t, site, name)
		require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_TRANSFERRED, tl[len(tl)-1].GetKind())
		require.Equal(t, "alice", tl[len(tl)-1].GetTransfer().GetFromAgent())
	})
	stopWatch()

	require.NotEmpty(t, keysOnEveryNode(t, rdb, false, "c-42"), "the test must start with keys to erase")
	t.Run("an_admin_erases_the_customer_and_no_key_of_theirs_remains_on_any_primary", func(t *testing.T) {
		status, body := desk.rest(t, "DELETE", "/v1/customers/c-42", adminToken, nil)
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.Equal(t, float64(1), body["erasedJourneys"])
		require.Empty(t, keysOnEveryNode(t, rdb, false, "c-42"))
		status, _ = site.rest(t, "GET", "/v1/"+name, websiteToken, nil)
		require.Equal(t, http.StatusNotFound, status)
	})
	t.Run("nor_on_any_replica_once_they_caught_up", func(t *testing.T) {
		require.Eventually(t, func() bool {
			return len(keysOnEveryNode(t, rdb, true, "c-42")) == 0
		}, 5*time.Second, 50*time.Millisecond)
	})
	t.Run("the_other_customer_keeps_their_journey", func(t *testing.T) {
		got, err := desk.api.GetJourney(as(t, websiteToken), &handoffv1.GetJourneyRequest{Name: other.GetName()})
		require.NoError(t, err)
		require.Equal(t, other.GetEtag(), got.GetEtag())
	})
}

// follow receives a watch's changes into a channel until the stream ends.
func follow(t *testing.T, stream grpc.ServerStreamingClient[handoffv1.JourneyChange]) <-chan *handoffv1.JourneyChange {
	t.Helper()
	ch := make(chan *handoffv1.JourneyChange, 64)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(ch)
		for {
			c, err := stream.Recv()
			if err != nil {
				return
			}
			ch <- c
		}
	})
	t.Cleanup(wg.Wait)
	return ch
}

// nextChange skips changes until one that want accepts, within 10 s. An
// agent's watch also shows changes of the agent's own making (an audited
// read, a claim), which a test waiting for a save does not care about.
func nextChange(t *testing.T, changes <-chan *handoffv1.JourneyChange, want func(*handoffv1.JourneyChange) bool) *handoffv1.JourneyChange {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case c, ok := <-changes:
			require.True(t, ok, "the watch ended")
			if want(c) {
				return c
			}
		case <-deadline:
			t.Fatal("the change did not arrive within 10 s")
		}
	}
}

// keysOnEveryNode scans every primary of the cluster, or every replica,
// and returns the keys whose name or string value mentions s.
func keysOnEveryNode(t *testing.T, rdb *goredis.ClusterClient, replicas bool, s string) []string {
	t.Helper()
	var mu sync.Mutex
	var found []string
	scan := func(ctx context.Context, node *goredis.Client) error {
		iter := node.Scan(ctx, 0, "*", 1000).Iterator()
		for iter.Next(ctx) {
			k := iter.Val()
			mentions := strings.Contains(k, s)
			if !mentions {
				v, err := node.Get(ctx, k).Result()
				mentions = err == nil && strings.Contains(v, s)
			}
			if mentions {
				mu.Lock()
				found = append(found, node.Options().Addr+" "+k)
				mu.Unlock()
			}
		}
		return iter.Err()
	}
	var err error
	if replicas {
		err = rdb.ForEachSlave(t.Context(), func(ctx context.Context, node *goredis.Client) error {
			// A replica answers a read of a key with MOVED unless the
			// connection said READONLY first.
			ro := goredis.NewClient(&goredis.Options{Addr: node.Options().Addr, OnConnect: func(ctx context.Context, cn *goredis.Conn) error {
				return cn.ReadOnly(ctx).Err()
			}})
			defer ro.Close()
			return scan(ctx, ro)
		})
	} else {
		err = rdb.ForEachMaster(t.Context(), scan)
	}
	require.NoError(t, err)
	return found
}
