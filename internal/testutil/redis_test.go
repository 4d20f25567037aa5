package testutil_test

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/testutil"
)

func TestStartRedis(t *testing.T) {
	t.Run("starts_on_a_loopback_port_and_answers_ping", func(t *testing.T) {
		r := testutil.StartRedis(t)
		require.True(t, strings.HasPrefix(r.Addr(), "127.0.0.1:"), r.Addr())
		require.Equal(t, "redis://"+r.Addr(), r.URL())

		c := newClient(t, r)
		require.NoError(t, c.Ping(t.Context()).Err())
		save, err := c.ConfigGet(t.Context(), "save").Result()
		require.NoError(t, err)
		require.Empty(t, save["save"], "tests must not write snapshots")
	})

	t.Run("stop_is_idempotent_and_start_comes_back_on_the_same_port", func(t *testing.T) {
		r := testutil.StartRedis(t)
		addr := r.Addr()

		r.Stop()
		r.Stop()
		_, err := net.DialTimeout("tcp", addr, time.Second)
		require.Error(t, err, "the stopped server still accepts connections")

		r.Start()
		r.Start()
		require.Equal(t, addr, r.Addr())
		require.NoError(t, newClient(t, r).Ping(t.Context()).Err())
	})

	t.Run("kill_loses_nothing_acknowledged_with_appendfsync_always", func(t *testing.T) {
		r := testutil.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
		c := newClient(t, r)
		require.NoError(t, c.Set(t.Context(), "k", "v", 0).Err())

		r.Kill()
		r.Start()

		got, err := c.Get(t.Context(), "k").Result()
		require.NoError(t, err)
		require.Equal(t, "v", got)
	})

	t.Run("extra_args_reach_the_server", func(t *testing.T) {
		r := testutil.StartRedis(t, "--maxmemory", "12mb")
		got, err := newClient(t, r).ConfigGet(t.Context(), "maxmemory").Result()
		require.NoError(t, err)
		require.Equal(t, "12582912", got["maxmemory"])
	})
}

func TestStartRedisWithoutServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	tb := &fatalRecorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		testutil.StartRedis(tb)
	}()
	<-done
	require.Contains(t, tb.msg, `redis-server not found: install it with "apt-get install -y redis-server"`)
}

// fatalRecorder is the part of testing.TB that StartRedis touches before it
// looks for the binary; Fatal ends the goroutine as the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (*fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func newClient(t *testing.T, r *testutil.Redis) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: r.Addr(), MaxRetries: 3})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
