package service

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/journeyhandoff/handoff/internal/auth"
)

// Defaults for guessing limits on handoff codes: a code is a key to a
// customer's data read aloud, so failed redeems are counted per principal
// and, with a higher limit (a whole contact center may share one address
// behind its proxy), per client address.
const (
	DefaultRedeemFailures        = 10
	DefaultAddressRedeemFailures = 100
	DefaultRedeemFailureWindow   = 10 * time.Minute
)

type failureCounter struct {
	key   string
	limit int
}

func (s *Service) redeemCounters(ctx context.Context, p auth.Principal) []failureCounter {
	counters := []failureCounter{{key: "redeem:principal:" + p.ID, limit: s.opts.RedeemFailures}}
	if addr := clientAddress(ctx); addr != "" {
		counters = append(counters, failureCounter{key: "redeem:addr:" + addr, limit: s.opts.AddressRedeemFailures})
	}
	return counters
}

// checkRedeemLimits refuses a redeem, even of a valid code, while the caller
// is past a limit: otherwise a guesser would learn which guess was right.
func (s *Service) checkRedeemLimits(ctx context.Context, counters []failureCounter) error {
	for _, c := range counters {
		n, leaves, err := s.store.CountFailures(ctx, c.key, s.opts.RedeemFailureWindow, false)
		if err != nil {
			return err
		}
		if n >= c.limit {
			return tooManyFailures(leaves.Sub(s.opts.Now()))
		}
	}
	return nil
}

func (s *Service) recordRedeemFailure(ctx context.Context, counters []failureCounter) {
	for _, c := range counters {
		if _, _, err := s.store.CountFailures(ctx, c.key, s.opts.RedeemFailureWindow, true); err != nil {
			s.opts.Logger.WarnContext(ctx, "recording a failed redeem", "error", err)
		}
	}
}

func tooManyFailures(retryIn time.Duration) error {
	retryIn = max(retryIn, time.Second).Round(time.Second)
	st := status.New(codes.ResourceExhausted, fmt.Sprintf("too many codes did not work; try again in %s", retryIn))
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryIn)}); err == nil {
		st = d
	}
	return st.Err()
}

// clientAddress is the address the call came from: the peer, or, when the
// peer is our own gateway on loopback, the address the gateway saw (the
// last X-Forwarded-For entry, which the gateway itself appended).
func clientAddress(ctx context.Context) string {
	var ip net.IP
	if p, ok := peer.FromContext(ctx); ok {
		if host, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
			ip = net.ParseIP(host)
		}
	}
	if ip == nil || ip.IsLoopback() {
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			if xff := md.Get("x-forwarded-for"); len(xff) > 0 {
				parts := strings.Split(xff[len(xff)-1], ",")
				if forwarded := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); forwarded != nil {
					return forwarded.String()
				}
			}
		}
	}
	if ip == nil {
		return ""
	}
	return ip.String()
}
