// Package clientaddr decides which address a call came from. The redeem
// limit counts failed guesses per address, so a caller who could pick its
// own address could guess without end, or spend someone else's budget: the
// address is the direct peer's unless that peer is a proxy the operator
// trusts (--trusted-proxies), and only then is its X-Forwarded-For read.
//
// The rule is Resolve; the server applies it once per call, to the HTTP
// request for REST and to the gRPC peer otherwise, and puts the answer in
// the call's context (NewContext) for the service to read (FromContext).
package clientaddr

import (
	"context"
	"net/netip"
	"strings"
)

// Resolve returns the address of the client behind peer, the direct peer of
// the connection. forwardedFor holds the X-Forwarded-For values in the order
// they came (each may list several addresses, comma-separated); trusted
// reports whether an address is a proxy whose X-Forwarded-For is believed
// (nil: nobody's).
//
// Starting from peer: while the hop at hand is trusted and an entry remains
// to its left, step left; the first hop that is not trusted is the client.
// Each proxy appends the address it was called from, so entries right of
// the last untrusted hop were written by trusted proxies, and anything left
// of it may be forged by the client. An entry that is not an address stops
// the walk at the trusted proxy that passed it on, so it can at worst share
// that proxy's budget, never escape the limit. The result is invalid only
// when peer is.
func Resolve(peer netip.Addr, forwardedFor []string, trusted func(netip.Addr) bool) netip.Addr {
	addr := normal(peer)
	if !addr.IsValid() || trusted == nil {
		return addr
	}
	entries := strings.Split(strings.Join(forwardedFor, ","), ",")
	for i := len(entries) - 1; i >= 0 && trusted(addr); i-- {
		next, ok := parseEntry(entries[i])
		if !ok {
			break
		}
		addr = next
	}
	return addr
}

// parseEntry reads one X-Forwarded-For entry: an address, possibly with a
// port (`203.0.113.7:4711`, `[2001:db8::1]:443`), as some proxies write it.
func parseEntry(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return normal(a), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normal(ap.Addr()), true
	}
	return netip.Addr{}, false
}

// normal spells one host one way: an IPv4-mapped IPv6 address is its IPv4
// address, and a zone says nothing about the host.
func normal(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }

type key struct{}

// NewContext returns a copy of ctx that carries the client's address.
func NewContext(ctx context.Context, addr netip.Addr) context.Context {
	return context.WithValue(ctx, key{}, addr)
}

// FromContext returns the client's address the server put into ctx; false
// when it is not known (a call that did not come over the network).
func FromContext(ctx context.Context) (netip.Addr, bool) {
	a, ok := ctx.Value(key{}).(netip.Addr)
	return a, ok && a.IsValid()
}
