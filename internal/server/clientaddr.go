package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"net/netip"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/journeyhandoff/handoff/internal/clientaddr"
)

// The gateway tells the gRPC server which client a REST call came from in
// these two metadata keys. Its own gRPC peer is this process on loopback,
// which says nothing about the client; and a gRPC caller can send any
// metadata, so the address counts only beside the key.
const (
	gatewayKeyMetadata    = "handoff-gateway-key"
	clientAddressMetadata = "handoff-client-address"
)

// gatewayKey proves that metadata came from this process's own gateway. It
// is made afresh at each start, never logged, and only ever sent to our own
// gRPC server. REST callers cannot send it either: the gateway forwards no
// metadata keys of a caller's choosing (see NewGateway), and its own values
// replace a header's under the same key.
var gatewayKey = rand.Text()

// withClientAddress decides the client's address of an HTTP request once,
// from its peer and X-Forwarded-For, for the gateway to hand on
// (gatewayMetadata).
func withClientAddress(next http.Handler, trusted func(netip.Addr) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if peerAddr, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			addr := clientaddr.Resolve(peerAddr.Addr(), r.Header.Values("X-Forwarded-For"), trusted)
			r = r.WithContext(clientaddr.NewContext(r.Context(), addr))
		}
		next.ServeHTTP(w, r)
	})
}

// gatewayMetadata is what the gateway adds to the gRPC call it makes for an
// HTTP request: the client's address withClientAddress decided, and the key.
func gatewayMetadata(ctx context.Context) metadata.MD {
	addr, ok := clientaddr.FromContext(ctx)
	if !ok {
		return nil
	}
	return metadata.Pairs(gatewayKeyMetadata, gatewayKey, clientAddressMetadata, addr.String())
}

// callerAddress is the client's address of a gRPC call: what our gateway
// said, for a call that carries its key; otherwise the rule applied to the
// gRPC peer and the x-forwarded-for metadata a proxy in front (Envoy, say)
// added.
func callerAddress(ctx context.Context, trusted func(netip.Addr) bool) netip.Addr {
	// Each header is read alone: FromIncomingContext would copy them all.
	if key, addr := metadata.ValueFromIncomingContext(ctx, gatewayKeyMetadata), metadata.ValueFromIncomingContext(ctx, clientAddressMetadata); len(key) == 1 && len(addr) == 1 &&
		subtle.ConstantTimeCompare([]byte(key[0]), []byte(gatewayKey)) == 1 {
		if a, err := netip.ParseAddr(addr[0]); err == nil {
			return a
		}
	}
	var peerAddr netip.Addr
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		if ap, err := netip.ParseAddrPort(p.Addr.String()); err == nil {
			peerAddr = ap.Addr()
		}
	}
	return clientaddr.Resolve(peerAddr, metadata.ValueFromIncomingContext(ctx, "x-forwarded-for"), trusted)
}

func clientAddressUnary(trusted func(netip.Addr) bool) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return handler(clientaddr.NewContext(ctx, callerAddress(ctx, trusted)), req)
	}
}

func clientAddressStream(trusted func(netip.Addr) bool) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx := clientaddr.NewContext(ss.Context(), callerAddress(ss.Context(), trusted))
		return handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
	}
}
