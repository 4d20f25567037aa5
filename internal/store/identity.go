package store

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// ErrLinkLimit: the customer holds as many live identity links as the
// caller allows; one must be unlinked before another is made.
var ErrLinkLimit = errors.New("the customer holds as many identity links as allowed")

// IdentityLink is one identity a customer linked, as the store keeps it:
// the identity only as its digest (docs/reach.md).
type IdentityLink struct {
	// ID names the link within its customer (customers/{c}/identityLinks/{id}).
	ID string
	// Digest is the identity's keyed hash, "<key id>.<hex>": the only form
	// of the identity the store ever sees.
	Digest     string
	Kind       handoffv1.IdentityKind
	Network    string
	CreateTime time.Time
	ExpireTime time.Time
}

// IdentityLookup is what one staff lookup found, kept so that the agent
// who made it (and nobody else) can verify one match, on any instance.
type IdentityLookup struct {
	ID string
	// Principal is the id of the agent who made the lookup.
	Principal string
	// Matches are the journeys found, match n at index n-1.
	Matches    []JourneyKey
	ExpireTime time.Time
}

// Identities keeps identity links and lookups (docs/reach.md). The
// customer's own record of its links is the truth: a digest's index entry
// naming a customer counts only while that customer still holds the link,
// so an erasure or an unlink racing with a link leaves nothing findable.
type Identities interface {
	// LinkIdentity links link.Digest to the customer until link.ExpireTime
	// (times are kept to the millisecond); a new link is named link.ID.
	// A digest the customer already holds, or one listed in replaces (the
	// same identity under an older key), keeps its link's id and create
	// time and gets the new digest and expiry. It returns the link as
	// stored and whether it is new. A new link when the customer already
	// holds limit live links (0: no limit) gives ErrLinkLimit, checked in
	// the same atomic step as the link; relinking is never refused.
	LinkIdentity(ctx context.Context, customer string, link IdentityLink, replaces []string, limit int) (_ IdentityLink, created bool, _ error)

	// IdentityLinks returns the customer's links, oldest first.
	IdentityLinks(ctx context.Context, customer string) ([]IdentityLink, error)

	// UnlinkIdentity removes a link, or gives ErrNotFound.
	UnlinkIdentity(ctx context.Context, customer, id string) error

	// LinkedCustomers returns, for each of digests that customers hold,
	// those customers.
	LinkedCustomers(ctx context.Context, digests []string) (map[string][]string, error)

	// PutIdentityLookup keeps a lookup until its ExpireTime.
	PutIdentityLookup(ctx context.Context, l IdentityLookup) error

	// IdentityLookup returns a kept lookup, or ErrNotFound once it expired
	// or was deleted.
	IdentityLookup(ctx context.Context, id string) (IdentityLookup, error)

	// DeleteIdentityLookup forgets a lookup; forgetting a missing one is
	// not an error.
	DeleteIdentityLookup(ctx context.Context, id string) error
}

// SortIdentityLinks puts links in the order IdentityLinks returns them:
// oldest first, then by id.
func SortIdentityLinks(links []IdentityLink) {
	slices.SortFunc(links, func(a, b IdentityLink) int {
		if c := a.CreateTime.Compare(b.CreateTime); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}
