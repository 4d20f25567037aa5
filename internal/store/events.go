package store

import (
	"context"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// Event types (handoffv1.JourneyEvent.type).
const (
	EventTouched        = "journey.touched"
	EventExpiring       = "journey.expiring"
	EventExpired        = "journey.expired"
	EventCustomerErased = "customer.erased"
)

// EventOptions turn events on in a store (docs/reach.md). With them, every
// write that appends a touchpoint appends its events, in revision order
// per journey and once each, and the store schedules each journey's
// reminder and expiry.
type EventOptions struct {
	// Retention is how long events are kept; consumers that fall further
	// behind lose the oldest.
	Retention time.Duration
	// RemindBefore says how long before it expires a journey of a type
	// version is reminded; 0: never.
	RemindBefore func(journeyType string, version int64) time.Duration
}

// DueTime is when a journey is next due: its reminder while it is active,
// its type reminds and it was not reminded for its current expiry;
// otherwise its expiry. Every store schedules by it.
func (o EventOptions) DueTime(state handoffv1.JourneyState, expire, remindedFor time.Time, journeyType string, version int64) time.Time {
	if state == handoffv1.JourneyState_JOURNEY_STATE_ACTIVE && !remindedFor.Equal(expire) && o.RemindBefore != nil {
		if before := o.RemindBefore(journeyType, version); before > 0 {
			return expire.Add(-before)
		}
	}
	return expire
}

// Events keeps the events of every journey (docs/reach.md): a stream other
// systems read, consumers' cursors into it, dead letters, leases that let
// one instance at a time deliver to a webhook or send reminders, and the
// schedule of reminders and expiries.
type Events interface {
	// ReadEvents returns up to limit events appended after the event id
	// after ("" reads from the oldest kept), oldest first, each with its
	// id set. When there are none it waits up to wait for some.
	ReadEvents(ctx context.Context, after string, limit int, wait time.Duration) ([]*handoffv1.JourneyEvent, error)

	// EventCursor is the id of the last event the named consumer handled
	// ("" when it handled none); SetEventCursor moves it, never back.
	EventCursor(ctx context.Context, consumer string) (string, error)
	SetEventCursor(ctx context.Context, consumer, id string) error

	// DeadLetter keeps an event the named consumer gave up on, and why
	// (a reason holds no answer value). DeadLetters returns the newest
	// limit of them, oldest first.
	DeadLetter(ctx context.Context, consumer string, ev *handoffv1.JourneyEvent, reason string) error
	DeadLetters(ctx context.Context, consumer string, limit int) ([]DeadLetter, error)

	// TakeLease makes holder hold the named lease for ttl unless another
	// holder holds it: it reports whether holder holds it afterwards (a
	// holder renews its own lease the same way). ReleaseLease gives it up
	// if holder holds it.
	TakeLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error

	// DueJourneys returns up to limit journeys whose reminder or expiry is
	// due at now, earliest first.
	DueJourneys(ctx context.Context, now time.Time, limit int) ([]JourneyKey, error)

	// PostponeDue makes a scheduled journey due at `at` instead (a
	// journey whose handling failed, so that it does not hold back the
	// others); a journey not scheduled stays so. Its next write schedules
	// it by what it is again.
	PostponeDue(ctx context.Context, key JourneyKey, at time.Time) error

	// RemindJourney records that the journey was reminded it expires at
	// expireTime: tp (a REMINDED touchpoint) is appended, reminder_time
	// set and the revision moved, the etag and the expiry not; its
	// `journey.expiring` event is appended and the journey's next due time
	// becomes its expiry. A journey that is gone gives ErrNotFound; one
	// whose expiry moved, that is not active, or that was already reminded
	// for that expiry gives ErrConflict and is scheduled again by what it
	// is. Nothing changes on an error.
	RemindJourney(ctx context.Context, key JourneyKey, expireTime time.Time, tp *handoffv1.Touchpoint) (*handoffv1.Journey, error)

	// ExpireJourney appends `journey.expired` for a scheduled journey
	// that is gone (expired), from what its last write left (type,
	// version, state, step, revision, expiry), and forgets its schedule.
	// A journey gone and told already appends nothing. It reports false
	// when the journey still exists: then it only schedules the journey
	// again by what it is (a due entry must not stay due for ever).
	ExpireJourney(ctx context.Context, key JourneyKey, now time.Time) (bool, error)
}

// DefaultEventRetention is how long events are kept when EventOptions
// say 0: long enough for a consumer to come back from a weekend outage.
const DefaultEventRetention = 72 * time.Hour

// RemindPaths are what RemindJourney's change names: the reminder it sets
// and the expiry it keeps (which its `journey.expiring` event carries).
var RemindPaths = []string{"reminder_time", "expire_time"}

// DeadLetter is an event a consumer gave up on.
type DeadLetter struct {
	Event  *handoffv1.JourneyEvent
	Reason string
	Time   time.Time
}

// JourneyFacts are what an event says of its journey besides the change:
// what a change does not repeat.
type JourneyFacts struct {
	Type         string
	TypeVersion  int64
	ReminderTime time.Time
}

// KeptJourney is what a store keeps of a journey's last write for its
// `journey.expired` event, which it appends once the journey is gone.
type KeptJourney struct {
	Facts      JourneyFacts
	State      handoffv1.JourneyState
	Step       string
	Revision   int64
	ExpireTime time.Time
}

// ExpiredEvent is the `journey.expired` event of a journey that is gone,
// noticed at now: it happened at its expiry (or now, if that is earlier).
func ExpiredEvent(key JourneyKey, k KeptJourney, now time.Time) *handoffv1.JourneyEvent {
	at := now
	if !k.ExpireTime.IsZero() && k.ExpireTime.Before(now) {
		at = k.ExpireTime
	}
	ev := &handoffv1.JourneyEvent{
		Type:               EventExpired,
		Time:               timestamppb.New(at),
		Journey:            key.Name(),
		Customer:           key.Customer,
		JourneyType:        k.Facts.Type,
		JourneyTypeVersion: k.Facts.TypeVersion,
		State:              k.State,
		Step:               k.Step,
		Revision:           k.Revision,
	}
	if !k.ExpireTime.IsZero() {
		ev.ExpireTime = timestamppb.New(k.ExpireTime)
	}
	if !k.Facts.ReminderTime.IsZero() {
		ev.ReminderTime = timestamppb.New(k.Facts.ReminderTime)
	}
	return ev
}

// ErasedEvent is the `customer.erased` event of an erasure at now: it
// names the customer only.
func ErasedEvent(customer string, now time.Time) *handoffv1.JourneyEvent {
	return &handoffv1.JourneyEvent{Type: EventCustomerErased, Time: timestamppb.New(now), Customer: customer}
}

// EventsOf returns the events of one change to a journey: one
// `journey.touched` per touchpoint it appended (`journey.expiring` for a
// REMINDED one), in order, with notes and reasons left out. A change
// that appended no touchpoint has no events. The state is the change's,
// or ACTIVE when the change did not name it (only a save does not, and a
// save needs an active journey); the step is each touchpoint's.
func EventsOf(key JourneyKey, facts JourneyFacts, ch *handoffv1.JourneyChange) []*handoffv1.JourneyEvent {
	if len(ch.GetTouchpoints()) == 0 {
		return nil
	}
	state := handoffv1.JourneyState_JOURNEY_STATE_ACTIVE
	if slices.Contains(ch.GetChangedPaths(), "state") || ch.GetSnapshot() {
		state = ch.GetJourney().GetState()
	}
	var reminder *timestamppb.Timestamp
	if !facts.ReminderTime.IsZero() {
		reminder = timestamppb.New(facts.ReminderTime)
	}
	events := make([]*handoffv1.JourneyEvent, 0, len(ch.GetTouchpoints()))
	for _, tp := range ch.GetTouchpoints() {
		kind := EventTouched
		if tp.GetKind() == handoffv1.TouchpointKind_TOUCHPOINT_KIND_REMINDED {
			kind = EventExpiring
		}
		clean := proto.CloneOf(tp)
		clean.Note, clean.Reason = "", ""
		events = append(events, &handoffv1.JourneyEvent{
			Type:               kind,
			Time:               tp.GetTime(),
			Journey:            key.Name(),
			Customer:           key.Customer,
			JourneyType:        facts.Type,
			JourneyTypeVersion: facts.TypeVersion,
			State:              state,
			Step:               tp.GetStep(),
			Revision:           ch.GetRevision(),
			Touchpoint:         clean,
			ExpireTime:         ch.GetJourney().GetExpireTime(),
			ReminderTime:       reminder,
		})
	}
	return events
}
