package service

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/identity"
	"github.com/journeyhandoff/handoff/internal/store"
)

// Identity links and lookups (docs/reach.md, "Identity links"). No
// identity and no answer value reaches a log, an error or a touchpoint:
// identities travel as their digests, answers are compared, never shown.

// Defaults for identity links and lookups.
const (
	DefaultIdentityLinkTTL       = 90 * 24 * time.Hour
	DefaultIdentityLookups       = 30
	DefaultIdentityCheckFailures = 5
	// DefaultIdentityLinksPerCustomer bounds a customer's live links: a
	// person has a few numbers and addresses, and a lookup reads them all.
	DefaultIdentityLinksPerCustomer = 20
	// IdentityWindow is the sliding window lookups and failed checks are
	// counted in, and how long a lookup can be verified.
	IdentityWindow = 10 * time.Minute
	// maxJourneysPerLinkedCustomer bounds what one lookup lists of one
	// customer: a caller has a handful of open journeys, not hundreds.
	maxJourneysPerLinkedCustomer = 50
)

// IdentityKeys holds the digest keys, replaced whole on a reload (SIGHUP)
// while calls read them.
type IdentityKeys struct {
	ring   atomic.Pointer[identity.Keyring]
	parser identity.Parser
}

// NewIdentityKeys returns keys that parse numbers without `+` in region
// (see identity.NewParser) and digest with ring (nil: identity links are
// not configured).
func NewIdentityKeys(region string, ring *identity.Keyring) (*IdentityKeys, error) {
	p, err := identity.NewParser(region)
	if err != nil {
		return nil, err
	}
	k := &IdentityKeys{parser: p}
	k.Set(ring)
	return k, nil
}

// Set replaces the keyring.
func (k *IdentityKeys) Set(ring *identity.Keyring) { k.ring.Store(ring) }

// IdentitiesAPI implements handoffv1.IdentityServiceServer. Who may call
// what is auth's table; whose links a caller reaches is checked here.
type IdentitiesAPI struct {
	handoffv1.UnimplementedIdentityServiceServer
	svc *Service
}

var _ handoffv1.IdentityServiceServer = IdentitiesAPI{}

// IdentitiesAPI is the identity service of s.
func (s *Service) IdentitiesAPI() IdentitiesAPI { return IdentitiesAPI{svc: s} }

var errIdentitiesNotConfigured = apierr.FailedPrecondition("identity links are not configured: start handoffd with --identity-keys-file")

// keys are the current keyring, or the error every call gives without one.
func (a IdentitiesAPI) keys() (*identity.Keyring, error) {
	if k := a.svc.opts.IdentityKeys; k != nil {
		if ring := k.ring.Load(); ring != nil {
			return ring, nil
		}
	}
	return nil, errIdentitiesNotConfigured
}

// parse reads an identity; its error names the field, never the value.
func (a IdentitiesAPI) parse(field, raw string) (identity.Identity, error) {
	id, err := a.svc.opts.IdentityKeys.parser.Parse(raw)
	if err != nil {
		return identity.Identity{}, invalidArgument(field, "NOT_AN_IDENTITY", err.Error())
	}
	return id, nil
}

// ownCustomer is the customer of parent when the caller may reach it.
func (a IdentitiesAPI) ownCustomer(ctx context.Context, parent string) (string, error) {
	p, err := a.svc.caller(ctx)
	if err != nil {
		return "", err
	}
	customer := strings.TrimPrefix(parent, "customers/")
	if !auth.CustomerCanAccess(p, customer) {
		return "", apierr.NotFound("customer %s not found", parent)
	}
	return customer, nil
}

// CreateIdentityLink links an identity to the customer, or extends the
// link the customer has of it.
func (a IdentitiesAPI) CreateIdentityLink(ctx context.Context, req *handoffv1.CreateIdentityLinkRequest) (*handoffv1.IdentityLink, error) {
	customer, err := a.ownCustomer(ctx, req.GetParent())
	if err != nil {
		return nil, err
	}
	ring, err := a.keys()
	if err != nil {
		return nil, err
	}
	id, err := a.parse("identity_link.identity", req.GetIdentityLink().GetIdentity())
	if err != nil {
		return nil, err
	}
	now := a.svc.now()
	digests := ring.All(id)
	link, _, err := a.svc.store.LinkIdentity(ctx, customer, store.IdentityLink{
		ID: newJourneyID(), Digest: digests[0], Kind: id.Kind(), Network: id.Network(),
		CreateTime: now, ExpireTime: now.Add(a.svc.opts.IdentityLinkTTL),
	}, digests[1:], a.svc.opts.IdentityLinksPerCustomer)
	if errors.Is(err, store.ErrLinkLimit) {
		return nil, apierr.FailedPrecondition("customer %s holds %d identity links, the most allowed: delete one (DeleteIdentityLink) before linking another", req.GetParent(), a.svc.opts.IdentityLinksPerCustomer)
	}
	if err != nil {
		return nil, err
	}
	return linkResource(customer, link), nil
}

// ListIdentityLinks lists the customer's links: kinds and times only.
func (a IdentitiesAPI) ListIdentityLinks(ctx context.Context, req *handoffv1.ListIdentityLinksRequest) (*handoffv1.ListIdentityLinksResponse, error) {
	customer, err := a.ownCustomer(ctx, req.GetParent())
	if err != nil {
		return nil, err
	}
	if _, err := a.keys(); err != nil {
		return nil, err
	}
	links, err := a.svc.store.IdentityLinks(ctx, customer)
	if err != nil {
		return nil, err
	}
	out := &handoffv1.ListIdentityLinksResponse{}
	for _, l := range links {
		out.IdentityLinks = append(out.IdentityLinks, linkResource(customer, l))
	}
	return out, nil
}

// DeleteIdentityLink removes a link.
func (a IdentitiesAPI) DeleteIdentityLink(ctx context.Context, req *handoffv1.DeleteIdentityLinkRequest) (*emptypb.Empty, error) {
	parent, id, _ := strings.Cut(req.GetName(), "/identityLinks/")
	customer, err := a.ownCustomer(ctx, parent)
	if err != nil {
		return nil, err
	}
	if _, err := a.keys(); err != nil {
		return nil, err
	}
	err = a.svc.store.UnlinkIdentity(ctx, customer, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NotFound("identity link %s not found (it may have expired)", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func linkResource(customer string, l store.IdentityLink) *handoffv1.IdentityLink {
	return &handoffv1.IdentityLink{
		Name: "customers/" + customer + "/identityLinks/" + l.ID, Kind: l.Kind, Network: l.Network,
		CreateTime: timestamppb.New(l.CreateTime), ExpireTime: timestamppb.New(l.ExpireTime),
	}
}

// CreateIdentityLookup finds the open journeys of the customers linked to
// an identity, records a LOOKED_UP touchpoint on each, and keeps the
// lookup for the agent who made it.
func (a IdentitiesAPI) CreateIdentityLookup(ctx context.Context, req *handoffv1.CreateIdentityLookupRequest) (*handoffv1.IdentityLookup, error) {
	s := a.svc
	p, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	ring, err := a.keys()
	if err != nil {
		return nil, err
	}
	ch, detail, err := channelOf(ctx, p, req.GetChannel(), req.GetChannelDetail())
	if err != nil {
		return nil, err
	}
	id, err := a.parse("identity", req.GetIdentity())
	if err != nil {
		return nil, err
	}
	if err := a.countLookup(ctx, p); err != nil {
		return nil, err
	}
	digests := ring.All(id)
	linked, err := s.store.LinkedCustomers(ctx, digests)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var found []*handoffv1.Journey
	for _, customer := range customersOf(linked) {
		a.relink(ctx, customer, id, digests, linked)
		page, _, err := s.store.ListJourneys(ctx, customer, store.ListJourneysQuery{State: handoffv1.JourneyState_JOURNEY_STATE_ACTIVE, Limit: maxJourneysPerLinkedCustomer})
		if err != nil {
			return nil, err
		}
		for _, j := range page {
			key, _ := store.ParseJourneyName(j.GetName())
			looked, err := s.recordTouch(ctx, p, key, handoffv1.TouchpointKind_TOUCHPOINT_KIND_LOOKED_UP, ch, detail)
			if err != nil {
				if status.Code(err) == codes.NotFound {
					continue // erased or expired since it was listed
				}
				return nil, err
			}
			found = append(found, looked)
		}
	}
	// Most recently touched first: the journey the caller is most likely
	// calling about.
	slices.SortStableFunc(found, func(x, y *handoffv1.Journey) int {
		return y.GetUpdateTime().AsTime().Compare(x.GetUpdateTime().AsTime())
	})
	lookup := store.IdentityLookup{ID: newJourneyID(), Principal: p.ID, ExpireTime: now.Add(IdentityWindow)}
	out := &handoffv1.IdentityLookup{Name: "identityLookups/" + lookup.ID, ExpireTime: timestamppb.New(lookup.ExpireTime)}
	for i, j := range found {
		key, _ := store.ParseJourneyName(j.GetName())
		lookup.Matches = append(lookup.Matches, key)
		m := &handoffv1.IdentityMatch{
			Match: int32(i + 1), JourneyType: j.GetJourneyType(), JourneyTypeVersion: j.GetJourneyTypeVersion(),
			Step: j.GetStep(), UpdateTime: j.GetUpdateTime(),
		}
		if path, label, err := s.identityCheck(ctx, j); err != nil {
			return nil, err
		} else if path != "" {
			m.CheckAnswer, m.CheckLabel = path, label
		}
		out.Matches = append(out.Matches, m)
	}
	if err := s.store.PutIdentityLookup(ctx, lookup); err != nil {
		return nil, err
	}
	return out, nil
}

// customersOf are the customers linked under any digest, each once.
func customersOf(linked map[string][]string) []string {
	var out []string
	for _, cs := range linked {
		out = append(out, cs...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// relink moves a link found only under an older key to the current one,
// keeping its expiry, so the old key can be dropped in time. Only
// housekeeping: a failure leaves the old link, still found.
func (a IdentitiesAPI) relink(ctx context.Context, customer string, id identity.Identity, digests []string, linked map[string][]string) {
	if slices.Contains(linked[digests[0]], customer) {
		return
	}
	links, err := a.svc.store.IdentityLinks(ctx, customer)
	if err != nil {
		return
	}
	for _, l := range links {
		if slices.Contains(digests[1:], l.Digest) {
			l.Digest = digests[0]
			l.Kind, l.Network = id.Kind(), id.Network()
			if _, _, err := a.svc.store.LinkIdentity(ctx, customer, l, digests[1:], 0); err != nil {
				a.svc.opts.Logger.WarnContext(ctx, "relinking an identity under the current key", "error", err)
			}
			return
		}
	}
}

// countLookup counts a lookup against the caller's budget, and refuses
// one from an address past its redeem failure limit: a lookup is a way to
// a journey as a code is.
func (a IdentitiesAPI) countLookup(ctx context.Context, p auth.Principal) error {
	s := a.svc
	_, ok, retryAt, err := s.store.RecordAttempt(ctx, "identity-lookup:principal:"+p.ID, IdentityWindow, s.opts.IdentityLookups)
	if err != nil {
		return err
	}
	if !ok {
		return apierr.RetryLater("too many identity lookups", retryAt.Sub(s.opts.Now()))
	}
	addr := s.redeemCounters(ctx, p)[1:]
	if len(addr) == 0 {
		return nil
	}
	attempt, err := s.startRedeem(ctx, addr)
	if err != nil {
		return err
	}
	s.forget(ctx, attempt) // only a check that the address is within its limit
	return nil
}
