package testutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// SentinelMaster is the name the Sentinel of StartRedisSentinel monitors.
const SentinelMaster = "handoff"

// RedisSentinel is a primary, its replica and one Sentinel watching them,
// on loopback, owned by one test.
type RedisSentinel struct {
	Primary, Replica, Sentinel *Redis
}

// StartRedisSentinel starts a primary, a replica of it and a Sentinel
// (quorum 1) that declares the primary down after downAfterMs of silence
// and then promotes the replica. All three stop in t.Cleanup. It returns
// once the replica has synced and the Sentinel knows it.
func StartRedisSentinel(t testing.TB, downAfterMs int) *RedisSentinel {
	t.Helper()
	primary := StartRedis(t)
	replica := StartRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.port))
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	// Sentinel rewrites its config file as it learns; it must be writable.
	body := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 1\nsentinel down-after-milliseconds %[1]s %[3]d\nsentinel failover-timeout %[1]s 10000\n",
		SentinelMaster, primary.port, downAfterMs)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatalf("sentinel config: %v", err)
	}
	bin, err := lookPathRedis(t)
	if err != nil {
		t.Fatal(err)
	}
	sentinel := &Redis{tb: t, bin: bin, dir: dir, sentinelConf: conf}
	t.Cleanup(sentinel.Stop)
	if err := sentinel.launchOnFreePort(); err != nil {
		t.Fatalf("redis-server --sentinel did not start: %v", err)
	}
	s := &RedisSentinel{Primary: primary, Replica: replica, Sentinel: sentinel}
	if err := s.waitReady(); err != nil {
		t.Fatalf("sentinel on %s: %v", sentinel.Addr(), err)
	}
	return s
}

// URL names the Sentinel and the master it watches, as the store's Open
// takes it.
func (s *RedisSentinel) URL() string {
	return "redis://" + s.Sentinel.Addr() + "?master_name=" + SentinelMaster
}

func lookPathRedis(t testing.TB) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", errors.New(notFoundMessage)
	}
	return bin, nil
}

// launchOnFreePort launches r on a free port, trying another when someone
// takes it first.
func (r *Redis) launchOnFreePort() error {
	var errs []error
	for range portAttempts {
		port, err := freePort()
		if err != nil {
			return err
		}
		r.port = port
		p, err := r.launch()
		if err == nil {
			r.mu.Lock()
			r.proc = p
			r.mu.Unlock()
			return nil
		}
		errs = append(errs, err)
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	return errors.Join(errs...)
}

// waitReady polls until the replica's link to the primary is up and the
// Sentinel lists the replica, so that it can promote it.
func (s *RedisSentinel) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), clusterCreateTimeout)
	defer cancel()
	replica := goredis.NewClient(&goredis.Options{Addr: s.Replica.Addr()})
	defer replica.Close()
	sentinel := goredis.NewSentinelClient(&goredis.Options{Addr: s.Sentinel.Addr()})
	defer sentinel.Close()
	var last error
	for {
		last = func() error {
			info, err := replica.Info(ctx, "replication").Result()
			if err != nil {
				return err
			}
			if f := infoFields(info); f["master_link_status"] != "up" {
				return fmt.Errorf("replica link %q", f["master_link_status"])
			}
			replicas, err := sentinel.Replicas(ctx, SentinelMaster).Result()
			if err != nil {
				return err
			}
			if len(replicas) != 1 || replicas[0]["flags"] != "slave" {
				return fmt.Errorf("sentinel sees replicas %v", replicas)
			}
			return nil
		}()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w; last: %w", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
