// Package service implements handoff.v1.JourneyService: the journey rules
// (which state changes are allowed, how a save applies its mask, handoff
// codes, claims, and which customer a caller may see). It keeps no state of
// its own; everything lives in the store.
package service

import (
	"context"
	"errors"
	"log/slog"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// Options are the service's tunables; zero values take the defaults.
type Options struct {
	// CodeTTL is how long a handoff code can be redeemed (default 10 minutes).
	CodeTTL time.Duration
	// MaxDataBytes caps a journey's answers, measured as their encoded
	// protobuf size, close to their JSON size (default 64 KiB).
	MaxDataBytes int
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
	// Logger receives rule-level events; never answers or notes.
	Logger *slog.Logger
}

// Defaults for Options.
const (
	DefaultCodeTTL      = 10 * time.Minute
	DefaultMaxDataBytes = 64 << 10
)

// Service implements handoffv1.JourneyServiceServer on top of a store.Store.
type Service struct {
	handoffv1.UnimplementedJourneyServiceServer
	store store.Store
	opts  Options
}

var _ handoffv1.JourneyServiceServer = (*Service)(nil)

// New returns a Service that keeps journeys in st.
func New(st store.Store, opts Options) *Service {
	if opts.CodeTTL <= 0 {
		opts.CodeTTL = DefaultCodeTTL
	}
	if opts.MaxDataBytes <= 0 {
		opts.MaxDataBytes = DefaultMaxDataBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, opts: opts}
}

func (s *Service) now() time.Time {
	return s.opts.Now().UTC().Truncate(time.Microsecond)
}

// maxUnconditionalAttempts bounds the read-modify-write loop of a save that
// carries no etag. Each lost race means somebody else's write landed, so the
// loop makes progress; the bound only stops a pathological hot spot.
const maxUnconditionalAttempts = 32

// mutation changes a copy of the current journey and returns the
// touchpoints to record with it. Returning unchanged=true writes nothing.
type mutation func(cur *handoffv1.Journey) (tps []*handoffv1.Touchpoint, unchanged bool, err error)

// mutate is the one read-check-write loop every change goes through. With
// ifEtag set, a journey that moved on fails with ABORTED; without, the
// change is reapplied to the newer journey, so concurrent saves of
// different answers never lose one another.
func (s *Service) mutate(ctx context.Context, key store.JourneyKey, ifEtag string, change mutation) (*handoffv1.Journey, error) {
	for attempt := 1; ; attempt++ {
		cur, err := s.store.GetJourney(ctx, key)
		if err != nil {
			return nil, journeyError(key, err)
		}
		if ifEtag != "" && cur.GetEtag() != ifEtag {
			return nil, journeyError(key, store.ErrConflict)
		}
		readEtag := cur.GetEtag()
		tps, unchanged, err := change(cur)
		if err != nil {
			return nil, err
		}
		if unchanged {
			return cur, nil
		}
		saved, err := s.store.UpdateJourney(ctx, cur, readEtag, tps...)
		if errors.Is(err, store.ErrConflict) && ifEtag == "" && attempt < maxUnconditionalAttempts {
			continue
		}
		if err != nil {
			return nil, journeyError(key, err)
		}
		return saved, nil
	}
}
