package testutil_test

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/testutil"
)

func TestStartRedisCluster(t *testing.T) {
	var addrs []string
	// A subtest of its own, so its cleanup (stopping the nodes) has run
	// when the last case looks at the ports.
	t.Run("starts", func(t *testing.T) {
		began := time.Now()
		c := testutil.StartRedisCluster(t)
		t.Logf("the cluster started in %s", time.Since(began).Round(time.Millisecond))
		addrs = c.Addrs()

		t.Run("six_nodes_on_loopback_ports_that_leave_room_for_the_bus_port", func(t *testing.T) {
			require.Len(t, addrs, 6)
			for _, a := range addrs {
				host, port, err := net.SplitHostPort(a)
				require.NoError(t, err)
				require.Equal(t, "127.0.0.1", host)
				p, err := strconv.Atoi(port)
				require.NoError(t, err)
				require.Less(t, p, 55536, "the bus listens 10000 above")
			}
			require.Equal(t, "redis://"+addrs[0]+"?addr="+strings.Join(addrs[1:], "&addr="), c.URL())
		})

		o, err := goredis.ParseClusterURL(c.URL())
		require.NoError(t, err)
		cc := goredis.NewClusterClient(o)
		t.Cleanup(func() { _ = cc.Close() })

		t.Run("three_primaries_serve_every_slot_each_with_one_replica", func(t *testing.T) {
			shards, err := cc.ClusterShards(t.Context()).Result()
			require.NoError(t, err)
			require.Len(t, shards, 3)
			slots := 0
			for _, s := range shards {
				for _, r := range s.Slots {
					slots += int(r.End-r.Start) + 1
				}
				roles := map[string]int{}
				for _, n := range s.Nodes {
					roles[n.Role]++
				}
				require.Equal(t, map[string]int{"master": 1, "replica": 1}, roles)
			}
			require.Equal(t, 16384, slots)
		})

		t.Run("the_url_reaches_keys_in_every_slot_range_through_one_client", func(t *testing.T) {
			ctx := t.Context()
			masters := map[string]bool{}
			for i := range 30 {
				key := fmt.Sprintf("k%d", i)
				require.NoError(t, cc.Set(ctx, key, i, time.Minute).Err())
				m, err := cc.MasterForKey(ctx, key)
				require.NoError(t, err)
				masters[m.Options().Addr] = true
			}
			require.Len(t, masters, 3, "30 keys spread over all three primaries")
		})

		t.Run("replicas_receive_the_primaries'_writes", func(t *testing.T) {
			ctx := t.Context()
			require.NoError(t, cc.Set(ctx, "replicated", "yes", time.Minute).Err())
			m, err := cc.MasterForKey(ctx, "replicated")
			require.NoError(t, err)
			// WAIT returns once the primary's replica acknowledged the write.
			acked, err := m.Wait(ctx, 1, 5*time.Second).Result()
			require.NoError(t, err)
			require.Equal(t, int64(1), acked)
			slot, err := cc.ClusterKeySlot(ctx, "replicated").Result()
			require.NoError(t, err)
			shards, err := cc.ClusterShards(ctx).Result()
			require.NoError(t, err)
			var replica string
			for _, s := range shards {
				for _, r := range s.Slots {
					if r.Start <= slot && slot <= r.End {
						for _, n := range s.Nodes {
							if n.Role == "replica" {
								replica = net.JoinHostPort(n.IP, strconv.FormatInt(n.Port, 10))
							}
						}
					}
				}
			}
			require.NotEmpty(t, replica, "the slot's shard has a replica")
			require.NotEqual(t, m.Options().Addr, replica)
			// READONLY is per connection: one connection for both commands.
			r := goredis.NewClient(&goredis.Options{Addr: replica, PoolSize: 1})
			t.Cleanup(func() { _ = r.Close() })
			require.NoError(t, r.ReadOnly(ctx).Err())
			got, err := r.Get(ctx, "replicated").Result()
			require.NoError(t, err)
			require.Equal(t, "yes", got)
		})
	})

	t.Run("every_node_is_stopped_on_cleanup", func(t *testing.T) {
		require.Len(t, addrs, 6)
		for _, a := range addrs {
			_, err := net.DialTimeout("tcp", a, time.Second)
			require.Error(t, err, "%s still accepts connections", a)
		}
	})
}
