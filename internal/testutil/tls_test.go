package testutil_test

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/testutil"
)

func TestStartRedisTLS(t *testing.T) {
	certs := testutil.WriteCertificates(t)
	r := testutil.StartRedisTLS(t, certs)
	require.Equal(t, "rediss://"+r.Addr(), r.URL())

	t.Run("a_client_trusting_the_ca_gets_pong", func(t *testing.T) {
		c := goredis.NewClient(&goredis.Options{Addr: r.Addr(), TLSConfig: &tls.Config{RootCAs: certs.Pool, MinVersion: tls.VersionTLS12}})
		t.Cleanup(func() { _ = c.Close() })
		require.NoError(t, c.Ping(t.Context()).Err())
	})

	t.Run("a_plaintext_client_gets_nothing", func(t *testing.T) {
		c := goredis.NewClient(&goredis.Options{Addr: r.Addr(), MaxRetries: -1, DialerRetries: 1})
		t.Cleanup(func() { _ = c.Close() })
		require.Error(t, c.Ping(t.Context()).Err())
	})

	t.Run("a_client_trusting_only_the_system_cas_is_refused", func(t *testing.T) {
		c := goredis.NewClient(&goredis.Options{Addr: r.Addr(), MaxRetries: -1, DialerRetries: 1, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}})
		t.Cleanup(func() { _ = c.Close() })
		var unknown x509.UnknownAuthorityError
		require.ErrorAs(t, c.Ping(t.Context()).Err(), &unknown)
	})

	t.Run("restarts_on_the_same_tls_port", func(t *testing.T) {
		addr := r.Addr()
		r.Stop()
		r.Start()
		require.Equal(t, addr, r.Addr())
		c := goredis.NewClient(&goredis.Options{Addr: r.Addr(), TLSConfig: &tls.Config{RootCAs: certs.Pool, MinVersion: tls.VersionTLS12}})
		t.Cleanup(func() { _ = c.Close() })
		require.NoError(t, c.Ping(t.Context()).Err())
	})
}
