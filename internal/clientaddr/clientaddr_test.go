package clientaddr_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/clientaddr"
)

func TestResolve(t *testing.T) {
	trusted := func(prefixes ...string) func(netip.Addr) bool {
		return func(a netip.Addr) bool {
			for _, p := range prefixes {
				if netip.MustParsePrefix(p).Contains(a) {
					return true
				}
			}
			return false
		}
	}
	// The load balancers the tests trust, in IPv4 and in IPv6.
	lb := trusted("10.0.0.0/8", "2001:db8:ffff::/48")
	tests := []struct {
		name    string
		peer    string
		xff     []string
		trusted func(netip.Addr) bool
		want    string
	}{
		{"without_trusted_proxies_the_peer_is_the_client", "198.51.100.9", []string{"203.0.113.1"}, nil, "198.51.100.9"},
		{"a_peer_that_is_no_trusted_proxy_is_the_client", "198.51.100.9", []string{"203.0.113.1"}, lb, "198.51.100.9"},
		{"a_trusted_proxy_is_believed", "10.0.0.2", []string{"203.0.113.1"}, lb, "203.0.113.1"},
		{"a_chain_of_two_trusted_proxies_is_believed", "10.0.0.2", []string{"203.0.113.1, 10.0.0.3"}, lb, "203.0.113.1"},
		{"a_chain_over_two_header_lines_is_one_list", "10.0.0.2", []string{"203.0.113.1", "10.0.0.3"}, lb, "203.0.113.1"},
		{"a_forged_entry_left_of_an_untrusted_hop_is_ignored", "10.0.0.2", []string{"192.0.2.66, 203.0.113.1"}, lb, "203.0.113.1"},
		{"a_trusted_proxy_without_a_header_is_the_client", "10.0.0.2", nil, lb, "10.0.0.2"},
		{"only_trusted_hops_end_at_the_leftmost", "10.0.0.2", []string{"10.0.0.4, 10.0.0.3"}, lb, "10.0.0.4"},
		{"ipv6_hops_are_walked_alike", "2001:db8:ffff::1", []string{"2001:db8:1::7"}, lb, "2001:db8:1::7"},
		{"an_entry_with_a_port_is_its_address", "10.0.0.2", []string{"203.0.113.1:4711"}, lb, "203.0.113.1"},
		{"an_ipv6_entry_with_a_port_is_its_address", "10.0.0.2", []string{"[2001:db8:1::7]:443"}, lb, "2001:db8:1::7"},
		{"an_ipv4_mapped_peer_is_its_ipv4_address", "::ffff:10.0.0.2", []string{"203.0.113.1"}, lb, "203.0.113.1"},
		{"an_ipv4_mapped_client_is_its_ipv4_address", "10.0.0.2", []string{"::ffff:203.0.113.1"}, lb, "203.0.113.1"},
		{"a_garbage_entry_stops_at_the_proxy_that_passed_it_on", "10.0.0.2", []string{"203.0.113.1, unknown"}, lb, "10.0.0.2"},
		{"an_empty_entry_stops_at_the_proxy_that_passed_it_on", "10.0.0.2", []string{"203.0.113.1, "}, lb, "10.0.0.2"},
		{"garbage_left_of_the_client_is_never_reached", "10.0.0.2", []string{"not-an-ip, 203.0.113.1"}, lb, "203.0.113.1"},
		{"an_unknown_peer_is_no_address_whatever_the_header_says", "", []string{"203.0.113.1"}, lb, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var peer netip.Addr
			if tt.peer != "" {
				peer = netip.MustParseAddr(tt.peer)
			}
			require.Equal(t, tt.want, clientaddr.Resolve(peer, tt.xff, tt.trusted).String())
		})
	}
}

func TestTheContextCarriesOnlyAKnownAddress(t *testing.T) {
	ctx := t.Context()
	_, ok := clientaddr.FromContext(ctx)
	require.False(t, ok, "no address was put in")
	_, ok = clientaddr.FromContext(clientaddr.NewContext(ctx, netip.Addr{}))
	require.False(t, ok, "an invalid address is no address")
	got, ok := clientaddr.FromContext(clientaddr.NewContext(ctx, netip.MustParseAddr("203.0.113.1")))
	require.True(t, ok)
	require.Equal(t, "203.0.113.1", got.String())
}
