package testutil_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/testutil"
)

// pingVia sends one inline PING on a new connection to addr and returns
// what came back, or the error that ended the exchange.
func pingVia(addr string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line), err
}

func TestAProxyForwardsAndCanBeSpoiled(t *testing.T) {
	r := testutil.StartRedis(t)
	p := testutil.StartProxy(t, r.Addr())
	require.NotEqual(t, r.Addr(), p.Addr())

	t.Run("forwards_to_the_upstream", func(t *testing.T) {
		got, err := pingVia(p.Addr())
		require.NoError(t, err)
		require.Equal(t, "+PONG", got)
	})
	t.Run("a_latency_toxic_delays_replies_by_at_least_its_latency", func(t *testing.T) {
		p.AddToxic(testutil.Toxic{Name: "slow", Type: "latency", Attributes: map[string]any{"latency": 200}})
		began := time.Now()
		got, err := pingVia(p.Addr())
		require.NoError(t, err)
		require.Equal(t, "+PONG", got)
		// A lower bound only: how much longer a loaded machine takes says
		// nothing about the proxy.
		require.GreaterOrEqual(t, time.Since(began), 200*time.Millisecond)
		p.RemoveToxic("slow")
	})
	t.Run("a_reset_peer_toxic_cuts_the_connection_instead_of_answering", func(t *testing.T) {
		p.AddToxic(testutil.Toxic{Name: "cut", Type: "reset_peer", Attributes: map[string]any{"timeout": 0}})
		_, err := pingVia(p.Addr())
		require.Error(t, err)
		p.RemoveToxic("cut")
		got, err := pingVia(p.Addr())
		require.NoError(t, err, "removing the toxic heals new connections")
		require.Equal(t, "+PONG", got)
	})
	t.Run("disable_refuses_connections_and_enable_serves_the_same_address_again", func(t *testing.T) {
		p.Disable()
		_, err := pingVia(p.Addr())
		require.Error(t, err)
		p.Enable()
		got, err := pingVia(p.Addr())
		require.NoError(t, err)
		require.Equal(t, "+PONG", got)
	})
}
