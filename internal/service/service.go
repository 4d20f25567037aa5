// Package service implements handoff.v1.JourneyService: the journey rules
// (which state changes are allowed, how a save applies its mask, handoff
// codes, claims, and which customer a caller may see). It keeps no journey
// state of its own; everything lives in the store. Changes to one journey
// queue in the process (see writeQueue) rather than race in the store.
package service

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/watch"
)

// Options are the service's tunables; zero values take the defaults.
type Options struct {
	// Limits are the service's rules in figures: handoffd's configuration
	// embeds them, so each is one field, its default and one flag.
	Limits
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
	// Logger receives rule-level events; never answers or notes.
	Logger *slog.Logger
	// Types are the journey types (default: none declared yet); the
	// service gives it its store.
	Types *Types
	// IdentityKeys digest identities (docs/reach.md); nil, or holding no
	// keyring: the IdentityService answers FAILED_PRECONDITION.
	IdentityKeys *IdentityKeys
}

// Limits are the figures the rules use; a zero field takes its default
// (DefaultLimits).
type Limits struct {
	// CodeTTL is how long a handoff code can be redeemed (default 10 minutes).
	CodeTTL time.Duration
	// ClaimLease is how long a claim holds without renewal (default 10
	// minutes).
	ClaimLease time.Duration
	// RedeemFailures is how many failed redeems one principal may make in
	// RedeemFailureWindow before every redeem is refused (default 10);
	// AddressRedeemFailures the same per client address (default 100).
	RedeemFailures        int
	AddressRedeemFailures int
	RedeemFailureWindow   time.Duration
	// MaxCodesPerJourney is how many of a journey's handoff codes work at
	// once (default 3): a new one withdraws the oldest. HandoffsPerJourney
	// is how many codes a journey may be given per CodeTTL (default 10).
	MaxCodesPerJourney int
	HandoffsPerJourney int
	// MaxDataBytes caps a journey's answers, measured as the paths and JSON
	// of its answers (default 64 KiB); a request's own answers are also
	// refused past it by their encoded size.
	MaxDataBytes int
	// MaxDataDepth, MaxDataKeys and MaxStringBytes bound the shape of a
	// journey's answers: how deeply they nest (default 32), how many
	// answers a journey holds and keys a request's answers hold in all
	// (default 1,000), and how long one string may be (default 16 KiB).
	MaxDataDepth   int
	MaxDataKeys    int
	MaxStringBytes int
	// MaxPageSize is the most journeys or touchpoints one page lists
	// (default 1,000); a larger page_size gets this many.
	MaxPageSize int
	// IdentityLinkTTL is how long an identity link lives unless linked
	// again (default 90 days). IdentityLookups is how many identity
	// lookups one principal may make per IdentityWindow (default 30);
	// IdentityCheckFailures how many failed step-up checks per principal,
	// and per journey (default 5). IdentityLinksPerCustomer is how many
	// live identity links one customer may hold (default 20).
	IdentityLinkTTL          time.Duration
	IdentityLookups          int
	IdentityCheckFailures    int
	IdentityLinksPerCustomer int
}

// DefaultLimits are the limits of a service configured with none.
func DefaultLimits() Limits {
	return Limits{
		CodeTTL: DefaultCodeTTL, ClaimLease: DefaultClaimLease,
		RedeemFailures: DefaultRedeemFailures, AddressRedeemFailures: DefaultAddressRedeemFailures, RedeemFailureWindow: DefaultRedeemFailureWindow,
		MaxCodesPerJourney: DefaultMaxCodesPerJourney, HandoffsPerJourney: DefaultHandoffsPerJourney,
		MaxDataBytes: DefaultMaxDataBytes, MaxDataDepth: DefaultMaxDataDepth, MaxDataKeys: DefaultMaxDataKeys,
		MaxStringBytes: DefaultMaxStringBytes, MaxPageSize: DefaultMaxPageSize,
		IdentityLinkTTL: DefaultIdentityLinkTTL, IdentityLookups: DefaultIdentityLookups, IdentityCheckFailures: DefaultIdentityCheckFailures,
		IdentityLinksPerCustomer: DefaultIdentityLinksPerCustomer,
	}
}

// Defaults for Options.
const (
	DefaultCodeTTL        = 10 * time.Minute
	DefaultMaxDataBytes   = 64 << 10
	DefaultMaxDataDepth   = 32
	DefaultMaxDataKeys    = 1000
	DefaultMaxStringBytes = 16 << 10
	DefaultMaxPageSize    = 1000
	DefaultClaimLease     = 10 * time.Minute
)

// Service implements handoffv1.JourneyServiceServer on top of a store.Store.
type Service struct {
	handoffv1.UnimplementedJourneyServiceServer
	store  store.Store
	types  *Types
	hub    *watch.Hub
	opts   Options
	writes writeQueue
	views  sync.Map // view → *view: see viewKey
}

var _ handoffv1.JourneyServiceServer = (*Service)(nil)

// New returns a Service that keeps journeys in st and serves watches from
// hub (which must run on the same store).
func New(st store.Store, hub *watch.Hub, opts Options) *Service {
	if opts.CodeTTL <= 0 {
		opts.CodeTTL = DefaultCodeTTL
	}
	if opts.MaxDataBytes <= 0 {
		opts.MaxDataBytes = DefaultMaxDataBytes
	}
	if opts.MaxDataDepth <= 0 {
		opts.MaxDataDepth = DefaultMaxDataDepth
	}
	if opts.MaxDataKeys <= 0 {
		opts.MaxDataKeys = DefaultMaxDataKeys
	}
	if opts.MaxStringBytes <= 0 {
		opts.MaxStringBytes = DefaultMaxStringBytes
	}
	if opts.MaxPageSize <= 0 {
		opts.MaxPageSize = DefaultMaxPageSize
	}
	if opts.ClaimLease <= 0 {
		opts.ClaimLease = DefaultClaimLease
	}
	if opts.RedeemFailures <= 0 {
		opts.RedeemFailures = DefaultRedeemFailures
	}
	if opts.AddressRedeemFailures <= 0 {
		opts.AddressRedeemFailures = DefaultAddressRedeemFailures
	}
	if opts.RedeemFailureWindow <= 0 {
		opts.RedeemFailureWindow = DefaultRedeemFailureWindow
	}
	if opts.MaxCodesPerJourney <= 0 {
		opts.MaxCodesPerJourney = DefaultMaxCodesPerJourney
	}
	if opts.HandoffsPerJourney <= 0 {
		opts.HandoffsPerJourney = DefaultHandoffsPerJourney
	}
	if opts.IdentityLinkTTL <= 0 {
		opts.IdentityLinkTTL = DefaultIdentityLinkTTL
	}
	if opts.IdentityLookups <= 0 {
		opts.IdentityLookups = DefaultIdentityLookups
	}
	if opts.IdentityCheckFailures <= 0 {
		opts.IdentityCheckFailures = DefaultIdentityCheckFailures
	}
	if opts.IdentityLinksPerCustomer <= 0 {
		opts.IdentityLinksPerCustomer = DefaultIdentityLinksPerCustomer
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Types == nil {
		opts.Types = NewTypes()
	}
	opts.Types.st, opts.Types.log = st, opts.Logger
	return &Service{store: st, hub: hub, opts: opts, types: opts.Types}
}

func (s *Service) now() time.Time {
	return s.opts.Now().UTC().Truncate(time.Microsecond)
}

// maxUnconditionalAttempts bounds the read-modify-write loop of a save that
// carries no etag. Each lost race means somebody else's write landed, so the
// loop makes progress; the bound only stops a pathological hot spot.
const maxUnconditionalAttempts = 32

// mutation changes the current journey in place and says what it did:
// the touchpoints to record, whether what a save can change (step, data,
// state) changed, so the etag must move, or that nothing changed at all.
type mutation func(cur *handoffv1.Journey) (effect, error)

type effect struct {
	touchpoints    []*handoffv1.Touchpoint
	contentChanged bool
	unchanged      bool
}

// mutate is the one read-check-write loop every change goes through, one
// at a time per journey in this process (see writeQueue). With
// ifEtag set, a journey whose content moved on fails with ABORTED; without,
// the change is reapplied to the newer journey, so concurrent saves of
// different answers never lose one another. A claim that lapsed is released
// first, in the same write.
func (s *Service) mutate(ctx context.Context, key store.JourneyKey, ifEtag string, change mutation) (*handoffv1.Journey, error) {
	done, err := s.writes.wait(ctx, key)
	if err != nil {
		return nil, err
	}
	defer done()
	for attempt := 1; ; attempt++ {
		cur, err := s.store.GetJourney(ctx, key)
		if err != nil {
			return nil, journeyError(key, err)
		}
		// Its type version must be known here before the write: the store
		// asks it for the journey's TTL (Types.TTL).
		if _, err := s.types.ofJourney(ctx, cur); err != nil {
			return nil, typesError(err)
		}
		if ifEtag != "" && cur.GetEtag() != ifEtag {
			return nil, journeyError(key, store.ErrConflict)
		}
		lapsed := s.releaseLapsedClaim(cur)
		eff, err := change(cur)
		if err != nil {
			return nil, err
		}
		if eff.unchanged && lapsed == nil {
			return cur, nil
		}
		tps := eff.touchpoints
		if lapsed != nil {
			tps = append([]*handoffv1.Touchpoint{lapsed}, tps...)
		}
		saved, err := s.store.UpdateJourney(ctx, store.Update{Journey: cur, ContentChanged: eff.contentChanged, Touchpoints: tps})
		if errors.Is(err, store.ErrConflict) && attempt == maxUnconditionalAttempts {
			return nil, apierr.Aborted("journey %s is changing too fast to save right now; try again", key.Name())
		}
		if errors.Is(err, store.ErrConflict) {
			// Someone else wrote first. Without an etag that is no conflict
			// for the caller; with one, the next read tells whether the
			// content moved (ABORTED) or only a claim or touchpoint did.
			continue
		}
		if err != nil {
			return nil, journeyError(key, err)
		}
		return saved, nil
	}
}
