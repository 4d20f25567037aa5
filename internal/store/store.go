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

	"google.golang.org/protobuf/types/known/structpb"

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
	// ErrTooMany: a limit was reached. The error is a *TooManyError, which
	// says when the limit lifts.
	ErrTooMany = errors.New("too many")
)

// TooManyError is ErrTooMany with what was refused and when to try again.
type TooManyError struct {
	What    string
	RetryAt time.Time
}

func (e *TooManyError) Error() string {
	return e.What + ": too many until " + e.RetryAt.UTC().Format(time.RFC3339)
}

// Unwrap makes errors.Is(err, ErrTooMany) hold.
func (e *TooManyError) Unwrap() error { return ErrTooMany }

// TooManyCodes is the error of CreateHandoffCode past CodeLimits.Made. It
// reaches the customer asking for a code, so it names no journey.
func TooManyCodes(retryAt time.Time) error {
	return &TooManyError{What: "handoff codes for this journey", RetryAt: retryAt}
}

// CodeLimits bound the handoff codes of one journey.
type CodeLimits struct {
	// Live is how many of its codes work at once: making one more withdraws
	// the oldest working one.
	Live int
	// Made is how many codes may be made while earlier ones have not
	// expired, i.e. per code lifetime; one more gives a *TooManyError
	// saying when the oldest expires.
	Made int
}

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

// Update is one change to a journey: compare-and-set on the revision the
// journey was read at, so of two concurrent changes exactly one lands.
type Update struct {
	// Journey is the journey as it is to be. Its Revision and Etag are those
	// it was read at; both are checked.
	Journey *handoffv1.Journey
	// ContentChanged says the change touches what a save can change (the
	// step or the state; answers are SaveJourney's): only then does the
	// etag move. Claims, leases and new
	// touchpoints move the revision but keep the etag, so a website holding
	// it can still save.
	ContentChanged bool
	// Touchpoints are appended to the timeline in the same atomic write.
	Touchpoints []*handoffv1.Touchpoint
}

// Save is one save of a journey's step and answers, which the store
// applies in one step with no read before it (docs/layout.md): it checks
// what must hold at the moment of the write, the service having decided
// everything else.
type Save struct {
	Key JourneyKey
	// IfEtag, when set, is the etag the caller read: the save is refused
	// with ErrConflict when the step it sets, or an answer it writes or
	// removes (or one above or below it), changed after that etag.
	IfEtag string
	// WholeJourneyEtag makes IfEtag a plain whole-journey check (AIP-154):
	// any change of content since refuses the save.
	WholeJourneyEtag bool
	// SetStep says the save sets Step (possibly to "").
	SetStep bool
	Step    string
	// ReplaceAnswers removes every answer before Answers are applied (a
	// save of the whole of `data`).
	ReplaceAnswers bool
	// Answers are set (a value) or removed (a nil value) at their path,
	// in order; a path replaces whatever stood at it or under it, and a
	// removal that empties an object leaves it as an empty object. They
	// come from one tree of answers: no path is both set and removed.
	Answers []AnswerChange
	// Channel and ChannelDetail become the journey's last touch, at
	// UpdateTime.
	Channel       handoffv1.Channel
	ChannelDetail string
	UpdateTime    time.Time
	// Touchpoint is appended to the timeline; the store sets its step to
	// the step after the save.
	Touchpoint *handoffv1.Touchpoint
	// Agent, when set, is the calling agent: a journey another agent holds
	// gives a *HeldError.
	Agent string
	// Limits bound the journey's answers after the save.
	Limits AnswerLimits
	// WantJourney asks for the journey back; without it the store returns
	// only its name, etag, revision, and update and expire times.
	WantJourney bool
	// Type and TypeVersion are the journey type version the service
	// checked the save against (docs/journeytypes.md): a journey created
	// with another gives a *TypeVersionError, so the service checks again.
	// TypeVersion 0 means a journey of no declared type, whatever its
	// journey_type.
	Type        string
	TypeVersion int64
	// StepFrom, when not nil, lists the steps the journey may be on for
	// the save to set Step: a journey on another gives a *StepError (one
	// on no step may move anywhere). Step ids hold no spaces.
	StepFrom []string
}

// AnswerChange sets one answer (Value) or removes it (Value nil).
type AnswerChange struct {
	Path  string
	Value *structpb.Value
}

// AnswerLimits bound a journey's answers: how many leaves, and how many
// bytes of paths and JSON (answers.EncodeJSON, never sealed sizes). Zero
// allows none.
type AnswerLimits struct {
	Answers int
	Bytes   int
}

// Errors of SaveJourney, besides ErrNotFound and ErrConflict.
var (
	// ErrClaimLapsed: the journey's holder let the claim lapse; the caller
	// releases it (a read-check-write) and saves again.
	ErrClaimLapsed = errors.New("the claim on the journey lapsed")
	// ErrNotActive wraps a *NotActiveError.
	ErrNotActive = errors.New("the journey is not active")
	// ErrHeld wraps a *HeldError.
	ErrHeld = errors.New("the journey is held by another agent")
	// ErrTooLarge wraps a *TooLargeError.
	ErrTooLarge = errors.New("the journey's answers would pass a limit")
	// ErrTypeVersion wraps a *TypeVersionError.
	ErrTypeVersion = errors.New("the journey is of another journey type version")
	// ErrStepNotAllowed wraps a *StepError.
	ErrStepNotAllowed = errors.New("the journey may not move to that step from where it is")
)

// ProvenanceOf is who changed an answer, as the touchpoint of the write
// that changed it says.
func ProvenanceOf(tp *handoffv1.Touchpoint) *handoffv1.AnswerProvenance {
	return &handoffv1.AnswerProvenance{Actor: tp.GetActor(), Channel: tp.GetChannel(), Time: tp.GetTime(), Touchpoint: tp.GetName()}
}

// TTLFunc says how long a journey of a type version lives after its last
// write; 0 keeps the store's own TTL. The service provides it (a journey
// type's ttl, docs/journeytypes.md); a store calls it on every write.
type TTLFunc func(journeyType string, version int64) time.Duration

// JourneyTypes keeps journey type definitions and their versions
// (docs/journeytypes.md). Definitions are checked by the caller; the store
// numbers and keeps them.
type JourneyTypes interface {
	// PutJourneyType stores def as the next version of its type, unless
	// put.Same finds it declares what the latest version does: then
	// nothing changes and the latest is returned with added false. See
	// TypePut for the conditions. The returned definition has its version,
	// etag and create time set.
	PutJourneyType(ctx context.Context, def *handoffv1.JourneyType, put TypePut) (_ *handoffv1.JourneyType, added bool, _ error)

	// JourneyType returns a version of a type (version 0: the latest), or
	// ErrNotFound.
	JourneyType(ctx context.Context, id string, version int64) (*handoffv1.JourneyType, error)

	// LatestJourneyTypes returns every type's latest version number.
	LatestJourneyTypes(ctx context.Context) (map[string]int64, error)
}

// TypePut says how PutJourneyType may store a definition.
type TypePut struct {
	// Same reports whether two definitions declare the same.
	Same func(a, b *handoffv1.JourneyType) bool
	// IfVersion, when not 0, must be the type's latest version.
	IfVersion int64
	// MustBeNew refuses with ErrAlreadyExists when the type has a version.
	MustBeNew bool
	// Now is the new version's create time.
	Now time.Time
}

// TypeVersionError says which journey type version a journey was created
// with, when a save expected another.
type TypeVersionError struct {
	Type    string
	Version int64
}

func (e *TypeVersionError) Error() string {
	return fmt.Sprintf("the journey is of %s version %d", e.Type, e.Version)
}

// Unwrap makes errors.Is(err, ErrTypeVersion) hold.
func (e *TypeVersionError) Unwrap() error { return ErrTypeVersion }

// StepError says which step a journey is on, when a save may not move it
// to the step it sets from there.
type StepError struct{ Step string }

func (e *StepError) Error() string { return "the journey is on step " + e.Step }

// Unwrap makes errors.Is(err, ErrStepNotAllowed) hold.
func (e *StepError) Unwrap() error { return ErrStepNotAllowed }

// NotActiveError says which state a journey that can no longer be saved is in.
type NotActiveError struct{ State handoffv1.JourneyState }

func (e *NotActiveError) Error() string { return "the journey is " + e.State.String() }

// Unwrap makes errors.Is(err, ErrNotActive) hold.
func (e *NotActiveError) Unwrap() error { return ErrNotActive }

// HeldError names the agent holding the journey.
type HeldError struct{ Assignee string }

func (e *HeldError) Error() string { return "the journey is held by " + e.Assignee }

// Unwrap makes errors.Is(err, ErrHeld) hold.
func (e *HeldError) Unwrap() error { return ErrHeld }

// TooLargeError says what the answers would hold after the save.
type TooLargeError struct {
	Answers, Bytes int
	Limits         AnswerLimits
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the answers would be %d answers and %d bytes, over the limits of %d and %d", e.Answers, e.Bytes, e.Limits.Answers, e.Limits.Bytes)
}

// Unwrap makes errors.Is(err, ErrTooLarge) hold.
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// AnswerSize is what one answer counts for against AnswerLimits.Bytes: its
// path and its JSON.
func AnswerSize(path string, json []byte) int { return len(path) + len(json) }

// The paths a change names (JourneyChange.changed_paths) for each kind of
// write, the same in every store so a watcher cannot tell which store it
// watches (docs/layout.md, "Changes are deltas").
var (
	// CreatePaths: the whole journey.
	CreatePaths = []string{"name", "journey_type", "journey_type_version", "state", "step", "data", "channel", "channel_detail", "create_time", "update_time", "expire_time", "etag"}
	// UpdatePaths: every field but the answers (see UpdateJourney).
	UpdatePaths = []string{"etag", "update_time", "expire_time", "state", "step", "channel", "channel_detail", "assignee", "assignee_display_name", "assignee_channel", "claim_expire_time"}
)

// SavePaths names what sv changes: the journey's last touch, the step if
// it sets one, all answers if it replaces them, and each answer it sets or
// removes, in its order.
func SavePaths(sv Save) []string {
	paths := make([]string, 0, 7+len(sv.Answers))
	paths = append(paths, "etag", "update_time", "expire_time", "channel", "channel_detail")
	if sv.SetStep {
		paths = append(paths, "step")
	}
	if sv.ReplaceAnswers {
		paths = append(paths, "data")
	}
	for _, c := range sv.Answers {
		paths = append(paths, "data."+c.Path)
	}
	return paths
}

// ChangeHandler receives the changes a Feed delivers, in revision order per
// journey. It must not block: it runs on the store's delivery path.
type ChangeHandler func(*handoffv1.JourneyChange)

// Feed delivers the changes committed to the journeys it follows, by this
// process or (for a shared store) any other. A store sends each journey's
// changes only to the feeds that follow it, so what a process receives
// grows with what it watches, not with all traffic.
type Feed interface {
	// Follow returns once every change committed to the journey at key
	// from then on will be delivered (or, should delivery skip, resync be
	// called). Follows are counted: each needs its Unfollow.
	Follow(ctx context.Context, key JourneyKey) error

	// Unfollow undoes one Follow of the journey at key.
	Unfollow(key JourneyKey)

	// Close stops delivery: once it returns, handle and resync are not
	// called again.
	Close()
}

// Store keeps journeys, their append-only timelines, a short log of their
// recent changes, and handoff codes.
//
// Journeys passed in and returned are the API resource. The store owns four
// of its fields and sets them on every write: etag (an opaque content
// version), revision (counts every change), expire_time (update_time plus
// the store's TTL); name must be set by the caller and never changes.
// Returned values are the caller's to modify. A write never changes the
// journey passed in, but the journey it returns may share message fields
// (answers, times) with it: the caller owns the two as one.
type Store interface {
	JourneyTypes
	// Events are off unless the store was made with them (WithEvents):
	// then its calls fail.
	Events
	Identities
	// Insight keeps the counts of docs/insight.md; the writes that feed
	// it are reported through the store's WriteOptions.
	Insight

	// CreateJourney stores a new journey (revision 1) and its first
	// touchpoint. When requestID is not empty and a journey was already
	// created for this customer with it, that journey is returned with
	// created=false and nothing is written. A journey with the same name
	// gives ErrAlreadyExists.
	CreateJourney(ctx context.Context, j *handoffv1.Journey, first *handoffv1.Touchpoint, requestID string) (_ *handoffv1.Journey, created bool, _ error)

	// GetJourney returns the journey, or ErrNotFound. No write returns
	// answer_provenance, nor does this read: it costs reading the timeline.
	GetJourney(ctx context.Context, key JourneyKey) (*handoffv1.Journey, error)

	// JourneyWithProvenance is GetJourney plus answer_provenance: for each
	// answer, the touchpoint of the write that last changed it, when that
	// write had one and the store kept it.
	JourneyWithProvenance(ctx context.Context, key JourneyKey) (*handoffv1.Journey, error)

	// ListJourneys returns a page of the customer's journeys, newest first,
	// and the cursor of the next page (nil on the last page).
	ListJourneys(ctx context.Context, customer string, q ListJourneysQuery) ([]*handoffv1.Journey, *JourneyCursor, error)

	// UpdateJourney applies u atomically when the journey is still at
	// u.Journey.Revision and Etag: it replaces every field of the journey
	// but its answers, appends the touchpoints, logs the change (a delta
	// naming the fields but answers, see docs/layout.md) and announces it
	// to every subscriber. Answers change only through CreateJourney and
	// SaveJourney, so a save's per-answer etag check knows every write of
	// an answer: u.Journey.Data is not written, and the journey returned
	// carries it as passed (the answers read: the revision check means
	// none moved since). A change of step moves the step's etag as a
	// save's does. A different revision or etag gives ErrConflict, a
	// missing journey ErrNotFound; either way nothing changes.
	UpdateJourney(ctx context.Context, u Update) (*handoffv1.Journey, error)

	// SaveJourney applies a save (see Save) atomically: answers, step,
	// the journey's last touch, the touchpoint, the change log and the
	// announcement to subscribers, and returns the journey after it (or
	// only its etag and revision, see Save.WantJourney). A missing journey
	// gives ErrNotFound; a failed etag check ErrConflict; a journey that is
	// not active, held by another agent, past a limit, or whose claim
	// lapsed, the errors above; in every such case nothing changes.
	SaveJourney(ctx context.Context, s Save) (*handoffv1.Journey, error)

	// ListTouchpoints returns up to limit touchpoints, oldest first, starting
	// at position offset (from 0), and whether more follow. A journey that
	// does not exist gives ErrNotFound.
	ListTouchpoints(ctx context.Context, key JourneyKey, offset, limit int) (_ []*handoffv1.Touchpoint, more bool, _ error)

	// ChangesSince returns the logged changes after revision `after`, oldest
	// first. A create is announced to subscribers but not logged, so from
	// revision 0 the log is never complete: a watcher starts from a
	// snapshot. complete is false when the log no longer reaches back that far
	// (it keeps only recent changes): the caller must start from a snapshot.
	// A journey that does not exist gives ErrNotFound.
	ChangesSince(ctx context.Context, key JourneyKey, after int64) (_ []*handoffv1.JourneyChange, complete bool, _ error)

	// OpenFeed opens a Feed that calls handle with each change to a
	// followed journey, and resync whenever delivery may have skipped
	// changes (a connection lost and restored), so the caller can catch up
	// through ChangesSince. Neither may block.
	OpenFeed(handle ChangeHandler, resync func()) Feed

	// CreateHandoffCode stores a single-use code for the journey, valid
	// until expireTime, and lists it with the journey: a code opens only
	// the journey that listed it, and only while that journey exists (so
	// not one erased since, nor one created again under its name). Within
	// limits: past limits.Live the oldest working code is withdrawn; past
	// limits.Made a *TooManyError is returned. An existing code gives
	// ErrAlreadyExists, a missing journey ErrNotFound; on any error the code
	// does not work.
	CreateHandoffCode(ctx context.Context, code string, key JourneyKey, expireTime time.Time, limits CodeLimits) error

	// RedeemHandoffCode consumes the code and returns its journey: of any
	// number of concurrent calls exactly one succeeds. Unknown, used,
	// expired and withdrawn codes, and codes whose journey is gone, all give
	// ErrNotFound.
	RedeemHandoffCode(ctx context.Context, code string) (JourneyKey, error)

	// DeleteHandoffCode removes a code that could not be handed out.
	DeleteHandoffCode(ctx context.Context, code string) error

	// EraseCustomer deletes everything kept of the customer: journeys,
	// timelines, change logs, index entries, request ids, handoff codes
	// and identity links (the customer's and the digests' entries),
	// and returns how many journeys there were. Erasing an unknown customer
	// erases nothing and is not an error.
	EraseCustomer(ctx context.Context, customer string) (journeys int, _ error)

	// RecordAttempt counts one more attempt for key (e.g. a code redeem by
	// one principal) in the sliding window ending now, unless limit are
	// counted there already: then it records nothing, and returns ok false
	// and when the oldest counted attempt leaves the window. Check and
	// record are one step, so concurrent attempts never pass the limit
	// together. An attempt counts as a failure until ForgetAttempt takes it
	// back by the id returned; each is forgotten window after it was made.
	RecordAttempt(ctx context.Context, key string, window time.Duration, limit int) (id string, ok bool, retryAt time.Time, _ error)

	// ForgetAttempt takes back an attempt RecordAttempt counted (one that
	// succeeded). Forgetting one already forgotten does nothing.
	ForgetAttempt(ctx context.Context, key, id string) error

	// Ping reports whether the store answers; readiness follows it.
	Ping(ctx context.Context) error

	// Close releases the store's resources.
	Close() error
}
