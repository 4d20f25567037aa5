package testutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

const (
	// clusterNodes and clusterReplicas make the smallest cluster with a
	// replica for every primary: three primaries, so a customer's slot and
	// a code's slot are usually served by different processes.
	clusterNodes    = 6
	clusterReplicas = 1
	// clusterBusOffset is how far above its port a node listens for the
	// cluster bus (Redis's default, cluster-port 0).
	clusterBusOffset = 10000
	// clusterCreateTimeout bounds redis-cli --cluster create, which sleeps
	// a second per round while it waits for the nodes to agree.
	clusterCreateTimeout = time.Minute
	// clusterReadyTimeout bounds the wait, after create, until every node
	// says the cluster is ok and every replica has synced.
	clusterReadyTimeout = 30 * time.Second
)

// RedisCluster is a Redis Cluster of six redis-server processes on
// loopback (three primaries, each with one replica) owned by one test.
type RedisCluster struct {
	nodes []*Redis
}

// StartRedisCluster starts six cluster-enabled redis-servers on free
// loopback ports, each with its own data dir in t.TempDir(), makes them one
// cluster with redis-cli --cluster create (three primaries, one replica
// each), and stops every node in t.Cleanup. extraArgs go to every node,
// after the defaults. It returns once every node says cluster_state:ok,
// knows all six nodes, and every replica has finished its first sync, so
// a client sees the whole cluster from any node it asks first.
func StartRedisCluster(t testing.TB, extraArgs ...string) *RedisCluster {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatal(`redis-cli not found: install it with "apt-get install -y redis-server" (or run make test, which installs it)`)
	}
	args := append([]string{
		"--cluster-enabled", "yes",
		// Relative to --dir: each node keeps its own in its own dir.
		"--cluster-config-file", "nodes.conf",
		// A replica's first sync is diskless; Redis waits 5 s by default
		// for more replicas to join it, which is most of a start.
		"--repl-diskless-sync-delay", "0",
		// A node pings every node it has not heard from within half of
		// this, which is how a replica's role reaches them all after
		// create (the default, 15 s, makes a start take seconds longer);
		// it also is how long a node must be silent to count as failed,
		// far beyond any pause of a loaded test machine.
		"--cluster-node-timeout", "5000",
	}, extraArgs...)
	c := &RedisCluster{}
	for range clusterNodes {
		c.nodes = append(c.nodes, startRedis(t, nil, clusterPort, args))
	}
	// Registered after the nodes' own Stops, so it runs first: stopping
	// them at once saves the sum of six shutdowns.
	t.Cleanup(c.stop)

	ctx, cancel := context.WithTimeout(context.Background(), clusterCreateTimeout)
	defer cancel()
	create := append(append([]string{"--cluster", "create"}, c.Addrs()...),
		"--cluster-replicas", strconv.Itoa(clusterReplicas), "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, create...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v; its output:\n%s", err, out)
	}
	if err := c.waitReady(); err != nil {
		t.Fatalf("redis cluster on %v: %v", c.Addrs(), err)
	}
	return c
}

// Addrs are the nodes' addresses, "127.0.0.1:port", in the order they
// were started (which node is a primary is the cluster's choice).
func (c *RedisCluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// URL names every node the way the store's Open takes a Cluster:
// redis://first?addr=second&addr=third…, so a client finds the cluster
// through whichever node answers.
func (c *RedisCluster) URL() string {
	addrs := c.Addrs()
	return "redis://" + addrs[0] + "?addr=" + strings.Join(addrs[1:], "&addr=")
}

// Nodes are the nodes' processes, to stop, kill or pause one.
func (c *RedisCluster) Nodes() []*Redis { return c.nodes }

// Node is the node listening at addr ("127.0.0.1:port"), or nil.
func (c *RedisCluster) Node(addr string) *Redis {
	for _, n := range c.nodes {
		if n.Addr() == addr {
			return n
		}
	}
	return nil
}

func (c *RedisCluster) stop() {
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		wg.Go(n.Stop)
	}
	wg.Wait()
}

// waitReady polls every node until the cluster is ok from each one's view
// and every replica's link to its primary is up with no sync in progress.
func (c *RedisCluster) waitReady() error {
	clients := make([]*goredis.Client, len(c.nodes))
	for i, n := range c.nodes {
		clients[i] = goredis.NewClient(&goredis.Options{Addr: n.Addr(), MaxRetries: -1})
		defer clients[i].Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterReadyTimeout)
	defer cancel()
	for {
		err := c.ready(ctx, clients)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready within %s: %w", clusterReadyTimeout, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ready says why the cluster is not ready yet, or nil once it is.
func (c *RedisCluster) ready(ctx context.Context, clients []*goredis.Client) error {
	primaries := 0
	for i, cl := range clients {
		addr := c.nodes[i].Addr()
		info, err := cl.ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("%s: CLUSTER INFO: %w", addr, err)
		}
		fields := infoFields(info)
		for name, want := range map[string]string{
			"cluster_state":       "ok",
			"cluster_known_nodes": strconv.Itoa(clusterNodes),
			"cluster_size":        strconv.Itoa(clusterNodes / (1 + clusterReplicas)),
		} {
			if fields[name] != want {
				return fmt.Errorf("%s: %s is %q, not %q", addr, name, fields[name], want)
			}
		}
		// A replica's role reaches the other nodes by gossip, after it
		// synced: until then they name it a primary without slots, and a
		// client asking them would too.
		nodes, err := cl.ClusterNodes(ctx).Result()
		if err != nil {
			return fmt.Errorf("%s: CLUSTER NODES: %w", addr, err)
		}
		if err := checkRoles(nodes); err != nil {
			return fmt.Errorf("%s: %w", addr, err)
		}
		repl, err := cl.Info(ctx, "replication").Result()
		if err != nil {
			return fmt.Errorf("%s: INFO replication: %w", addr, err)
		}
		fields = infoFields(repl)
		switch fields["role"] {
		case "master":
			primaries++
		case "slave":
			if fields["master_link_status"] != "up" || fields["master_sync_in_progress"] != "0" {
				return fmt.Errorf("%s: replica not in sync yet (link %s, sync in progress %s)", addr, fields["master_link_status"], fields["master_sync_in_progress"])
			}
		default:
			return fmt.Errorf("%s: role %q", addr, fields["role"])
		}
	}
	if want := clusterNodes / (1 + clusterReplicas); primaries != want {
		return fmt.Errorf("%d primaries, not %d", primaries, want)
	}
	return nil
}

// checkRoles says what is missing from a CLUSTER NODES reply for the
// cluster's shape: every primary with one replica, every node connected.
func checkRoles(nodes string) error {
	replicas := map[string]int{} // primary id → its replicas
	for line := range strings.Lines(nodes) {
		// <id> <ip:port@cport> <flags> <primary id or -> <ping> <pong> <epoch> <link> <slot>…
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		if f[7] != "connected" {
			return fmt.Errorf("node %s is %s", f[1], f[7])
		}
		switch flags := strings.Split(f[2], ","); {
		case slices.Contains(flags, "master"):
			if len(f) == 8 {
				return fmt.Errorf("node %s is a primary without slots", f[1])
			}
			replicas[f[0]] += 0
		case slices.Contains(flags, "slave"):
			replicas[f[3]]++
		}
	}
	for id, n := range replicas {
		if n != clusterReplicas {
			return fmt.Errorf("primary %s has %d replicas, not %d", id, n, clusterReplicas)
		}
	}
	return nil
}

// infoFields reads the name:value lines of an INFO or CLUSTER INFO reply.
func infoFields(info string) map[string]string {
	fields := map[string]string{}
	for line := range strings.Lines(info) {
		if name, value, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			fields[name] = value
		}
	}
	return fields
}

// clusterPort is a free port whose cluster bus port (port + 10000) is free
// too and below 65536. Both stay free only until someone takes them, hence
// startRedis's retries.
func clusterPort() (int, error) {
	var errs []error
	for range 20 {
		port, err := freePort()
		if err != nil {
			return 0, err
		}
		if port+clusterBusOffset > 65535 {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+clusterBusOffset)))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		_ = l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free port with a free bus port 10000 above it: %w", errors.Join(errs...))
}
