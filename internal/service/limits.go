package service

import (
	"context"
	"time"

	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/clientaddr"
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
	// window is the sliding window it counts in (0: RedeemFailureWindow),
	// and refusal what a caller past it is told ("": that codes failed).
	window  time.Duration
	refusal string
}

func (s *Service) redeemCounters(ctx context.Context, p auth.Principal) []failureCounter {
	counters := []failureCounter{{key: "redeem:principal:" + p.ID, limit: s.opts.RedeemFailures}}
	if addr, ok := clientaddr.FromContext(ctx); ok {
		counters = append(counters, failureCounter{key: "redeem:addr:" + addr.String(), limit: s.opts.AddressRedeemFailures})
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
		window, what := c.window, c.refusal
		if window == 0 {
			window = s.opts.RedeemFailureWindow
		}
		if what == "" {
			what = "too many codes did not work"
		}
		id, ok, retryAt, err := s.store.RecordAttempt(ctx, c.key, window, c.limit)
		if err == nil && !ok {
			err = apierr.RetryLater(what, retryAt.Sub(s.opts.Now()))
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
