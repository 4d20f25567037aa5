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

// Defaults for handoff codes per journey: a customer who asks again gets a
// code that works (the oldest stops working), and a script that asks
// hundreds of times neither fills the code space nor the timeline.
const (
	DefaultMaxCodesPerJourney = 3
	DefaultHandoffsPerJourney = 10
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

// redeemAttempt is one redeem counted against each of its counters.
type redeemAttempt struct {
	counters []failureCounter
	ids      []string
}

// startRedeem counts a redeem as failed before it is tried, and refuses it,
// even with a valid code, while the caller is past a limit: otherwise a
// guesser would learn which guess was right. Counting first (one atomic
// step per counter) keeps a caller guessing in parallel within the limit.
// A redeem that did not fail by guessing is taken back with succeeded.
func (s *Service) startRedeem(ctx context.Context, counters []failureCounter) (*redeemAttempt, error) {
	a := &redeemAttempt{}
	for _, c := range counters {
		id, ok, retryAt, err := s.store.RecordAttempt(ctx, c.key, s.opts.RedeemFailureWindow, c.limit)
		if err == nil && !ok {
			err = tooManyFailures(retryAt.Sub(s.opts.Now()))
		}
		if err != nil {
			s.forget(ctx, a) // a refusal is not a guess
			return nil, err
		}
		a.counters, a.ids = append(a.counters, c), append(a.ids, id)
	}
	return a, nil
}

// forget takes back the counted attempt: the code was not a wrong guess.
func (s *Service) forget(ctx context.Context, a *redeemAttempt) {
	for i, c := range a.counters {
		if err := s.store.ForgetAttempt(ctx, c.key, a.ids[i]); err != nil {
			// It stays counted as a failure until the window passes.
			s.opts.Logger.WarnContext(ctx, "taking back a redeem attempt", "error", err)
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
