package redis

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestOpen(t *testing.T) {
	type want struct {
		maxRetries, dialerRetries int
		dial, read, write, pool   time.Duration
		addrs                     []string // set for a Cluster
		tls                       bool
	}
	fast := want{maxRetries: 1, dialerRetries: 2, dial: time.Second, read: 2 * time.Second, write: 2 * time.Second, pool: time.Second}
	tests := []struct {
		name string
		url  string
		want want
	}{
		{
			name: "a_plain_url_gets_the_fail_fast_defaults",
			url:  "redis://127.0.0.1:6379/0",
			want: fast,
		},
		{
			name: "settings_in_the_url_win_over_the_defaults",
			url:  "redis://127.0.0.1:6379?max_retries=5&dial_timeout=3s&read_timeout=4s&write_timeout=5s&pool_timeout=6s",
			want: want{maxRetries: 5, dialerRetries: 2, dial: 3 * time.Second, read: 4 * time.Second, write: 5 * time.Second, pool: 6 * time.Second},
		},
		{
			name: "rediss_turns_on_tls",
			url:  "rediss://redis.example:6380",
			want: want{maxRetries: 1, dialerRetries: 2, dial: time.Second, read: 2 * time.Second, write: 2 * time.Second, pool: time.Second, tls: true},
		},
		{
			name: "addr_parameters_make_a_cluster_client",
			url:  "redis://10.0.0.1:7000?addr=10.0.0.2:7000&addr=10.0.0.3:7000&dialer_retries=4",
			want: want{
				maxRetries: 1, dialerRetries: 4, dial: time.Second, read: 2 * time.Second, write: 2 * time.Second, pool: time.Second,
				addrs: []string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.url)
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, s.Close()) })
			var got want
			switch c := s.client.(type) {
			case *goredis.Client:
				o := c.Options()
				got = want{o.MaxRetries, o.DialerRetries, o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, nil, o.TLSConfig != nil}
				require.True(t, o.ContextTimeoutEnabled)
			case *goredis.ClusterClient:
				o := c.Options()
				got = want{o.MaxRetries, o.DialerRetries, o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.Addrs, o.TLSConfig != nil}
				require.True(t, o.ContextTimeoutEnabled)
			default:
				t.Fatalf("Open made a %T", c)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestOpenRejects(t *testing.T) {
	tests := []struct {
		name string
		url  string
	}{
		{"an_unknown_scheme", "http://secret@127.0.0.1:6379"},
		{"an_unknown_parameter", "redis://127.0.0.1:6379?bogus=1"},
		{"an_unknown_cluster_parameter", "redis://127.0.0.1:7000?addr=127.0.0.1:7001&bogus=1"},
		{"a_url_that_does_not_parse_without_repeating_the_password", "redis://user:secret@[::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(tt.url)
			require.Error(t, err)
			require.NotContains(t, err.Error(), "secret")
		})
	}
}

func TestClose(t *testing.T) {
	t.Run("a_store_from_new_leaves_the_callers_client_open", func(t *testing.T) {
		c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1})
		t.Cleanup(func() { _ = c.Close() })
		require.NoError(t, New(c).Close())
		require.NotErrorIs(t, c.Ping(t.Context()).Err(), goredis.ErrClosed)
	})

	t.Run("a_store_from_open_closes_its_client", func(t *testing.T) {
		s, err := Open("redis://127.0.0.1:1")
		require.NoError(t, err)
		require.NoError(t, s.Close())
		require.ErrorIs(t, s.client.Ping(t.Context()).Err(), goredis.ErrClosed)
	})
}

func TestOpenWithAMasterNameFollowsSentinel(t *testing.T) {
	s, err := Open("redis://10.0.0.1:26379?master_name=mymaster&addr=10.0.0.2:26379")
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	c, ok := s.client.(*goredis.Client)
	require.True(t, ok, "Open made a %T", s.client)
	o := c.Options()
	// go-redis names the connection of a Sentinel-managed master this way.
	require.Equal(t, "FailoverClient", o.Addr)
	require.Equal(t, 1, o.MaxRetries)
	require.Equal(t, time.Second, o.DialTimeout)
}

func TestOpenWithTLSRootCAs(t *testing.T) {
	roots := x509.NewCertPool()
	for _, tt := range []struct{ name, url string }{
		{"standalone", "redis://127.0.0.1:6380"},
		{"sentinel", "redis://10.0.0.1:26379?master_name=mymaster"},
		{"cluster", "redis://10.0.0.1:7000?addr=10.0.0.2:7000"},
	} {
		t.Run(tt.name+"_over_rediss_trusts_the_roots", func(t *testing.T) {
			s, err := Open("rediss"+strings.TrimPrefix(tt.url, "redis"), WithTLSRootCAs(roots))
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, s.Close()) })
			var tlsCfg *tls.Config
			switch c := s.client.(type) {
			case *goredis.Client:
				tlsCfg = c.Options().TLSConfig
			case *goredis.ClusterClient:
				tlsCfg = c.Options().TLSConfig
			default:
				t.Fatalf("Open made a %T", c)
			}
			require.NotNil(t, tlsCfg)
			require.Same(t, roots, tlsCfg.RootCAs)
			require.False(t, tlsCfg.InsecureSkipVerify)
		})
		t.Run(tt.name+"_over_plain_redis_is_refused", func(t *testing.T) {
			_, err := Open(tt.url, WithTLSRootCAs(roots))
			require.ErrorContains(t, err, "needs a rediss:// URL")
		})
	}
}
