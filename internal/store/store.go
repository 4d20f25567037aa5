// Package store defines how journeys, their timelines and handoff codes are
// kept: one interface, shaped by what Redis does well (a hash per journey, a
// list per timeline, single-key codes, every write one atomic script), with
// sentinel errors that the server maps to status codes in one place.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// Sentinel errors. Implementations wrap them (fmt.Errorf("...: %w", ErrX))
// so callers test with errors.Is and people read the wrapped text.
var (
	// ErrNotFound: no such journey, or it expired; no such handoff code, or it
	// was used or expired.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a journey or handoff code with that id exists.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: the journey changed since the etag the caller holds.
	ErrConflict = errors.New("etag does not match: the journey changed since it was read")
	// ErrUnavailable: the backing store did not answer (down, unreachable,
	// timed out). The call may be retried.
	ErrUnavailable = errors.New("store unavailable")
)

// DefaultTTL is how long a journey and its timeline live after their last
// write when no other TTL is configured.
const DefaultTTL = 30 * 24 * time.Hour

// JourneyKey identifies a journey within the customer it belongs to. All
// data of one customer lives together (one Redis Cluster slot).
type JourneyKey struct {
	Customer string
	Journey  string
}

// Name is the journey's resource name, customers/{customer}/journeys/{journey}.
func (k JourneyKey) Name() string {
	return "customers/" + k.Customer + "/journeys/" + k.Journey
}

// ParseJourneyName splits customers/{customer}/journeys/{journey}.
func ParseJourneyName(name string) (JourneyKey, error) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "customers" || parts[2] != "journeys" || parts[1] == "" || parts[3] == "" {
		return JourneyKey{}, fmt.Errorf("%q is not a journey name (customers/{customer}/journeys/{journey})", name)
	}
	return JourneyKey{Customer: parts[1], Journey: parts[3]}, nil
}

// TouchpointName is the name of the position-th (from 1) touchpoint of k.
func TouchpointName(k JourneyKey, position int) string {
	return fmt.Sprintf("%s/touchpoints/%d", k.Name(), position)
}

// JourneyCursor marks where a page of a customer's journeys ended. Journeys
// are listed newest first: by create time, then by id, both descending.
type JourneyCursor struct {
	CreateTime time.Time
	Journey    string
}

// ListJourneysQuery selects a page of a customer's journeys.
type ListJourneysQuery struct {
	// State, when not UNSPECIFIED, keeps only journeys in that state.
	State handoffv1.JourneyState
	// Limit is the most journeys to return; it is always > 0.
	Limit int
	// After continues after this cursor; nil starts at the newest journey.
	After *JourneyCursor
}

// Store keeps journeys, their append-only timelines and handoff codes.
//
// Journeys passed in and returned are the API resource. The store owns three
// of its fields: etag (an opaque version token, new on every write), and
// expire_time (update_time plus the store's TTL), which it sets on every
// write; and name, which must be set by the caller and is never changed.
// Returned values are the caller's to modify.
type Store interface {
	// CreateJourney stores a new journey and its first touchpoint. When
	// requestID is not empty and a journey was already created for this
	// customer with it, that journey is returned with created=false and
	// nothing is written. A journey with the same name gives ErrAlreadyExists.
	CreateJourney(ctx context.Context, j *handoffv1.Journey, first *handoffv1.Touchpoint, requestID string) (_ *handoffv1.Journey, created bool, _ error)

	// GetJourney returns the journey, or ErrNotFound.
	GetJourney(ctx context.Context, key JourneyKey) (*handoffv1.Journey, error)

	// ListJourneys returns a page of the customer's journeys, newest first,
	// and the cursor of the next page (nil on the last page).
	ListJourneys(ctx context.Context, customer string, q ListJourneysQuery) ([]*handoffv1.Journey, *JourneyCursor, error)

	// UpdateJourney replaces the journey named j.Name when its current etag
	// is ifEtag, and appends the touchpoints to its timeline, atomically.
	// A different etag gives ErrConflict, a missing journey ErrNotFound;
	// either way nothing changes.
	UpdateJourney(ctx context.Context, j *handoffv1.Journey, ifEtag string, appended ...*handoffv1.Touchpoint) (*handoffv1.Journey, error)

	// AppendTouchpoints adds to the journey's timeline without changing the
	// journey: its etag and expire_time stay as they are, so a caller holding
	// the etag can still save with it. A missing journey gives ErrNotFound.
	AppendTouchpoints(ctx context.Context, key JourneyKey, tps ...*handoffv1.Touchpoint) error

	// ListTouchpoints returns up to limit touchpoints, oldest first, starting
	// at position offset (from 0), and whether more follow. A journey that
	// does not exist gives ErrNotFound.
	ListTouchpoints(ctx context.Context, key JourneyKey, offset, limit int) (_ []*handoffv1.Touchpoint, more bool, _ error)

	// CreateHandoffCode stores a single-use code for the journey, valid
	// until expireTime. An existing code gives ErrAlreadyExists.
	CreateHandoffCode(ctx context.Context, code string, key JourneyKey, expireTime time.Time) error

	// RedeemHandoffCode consumes the code and returns its journey: of any
	// number of concurrent calls exactly one succeeds. Unknown, used and
	// expired codes all give ErrNotFound.
	RedeemHandoffCode(ctx context.Context, code string) (JourneyKey, error)

	// DeleteHandoffCode removes a code that could not be handed out.
	DeleteHandoffCode(ctx context.Context, code string) error

	// Ping reports whether the store answers; readiness follows it.
	Ping(ctx context.Context) error

	// Close releases the store's resources.
	Close() error
}
