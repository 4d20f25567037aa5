package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

var _ store.Events = (*Store)(nil)

// errEventsOff answers every Events call of a store made without
// WithEvents: there is nothing to read, and nothing is scheduled.
var errEventsOff = errors.New("memory: events are off (see WithEvents)")

// WithEvents turns events on (docs/reach.md): every write appends its
// events under the store's lock, so they come in revision order per
// journey, once each.
func WithEvents(o store.EventOptions) Option {
	return func(s *Store) {
		if o.Retention <= 0 {
			o.Retention = store.DefaultEventRetention
		}
		s.ev = &eventLog{
			opts:    o,
			wake:    make(chan struct{}),
			cursors: make(map[string]eventID),
			dead:    make(map[string][]store.DeadLetter),
			leases:  make(map[string]lease),
			kept:    make(map[store.JourneyKey]keptJourney),
		}
	}
}

// eventLog is what a Redis store keeps in the {_events} slot; guarded by
// Store.mu like everything else.
type eventLog struct {
	opts store.EventOptions
	// events are oldest first, ids increasing.
	events []*handoffv1.JourneyEvent
	ids    []eventID
	last   eventID
	// wake is closed, and replaced, whenever events are appended, which
	// wakes every waiting ReadEvents.
	wake    chan struct{}
	cursors map[string]eventID
	dead    map[string][]store.DeadLetter
	leases  map[string]lease
	// kept is, per journey, what its last write left: what
	// `journey.expired` says once the journey is gone, and when it is due.
	kept map[store.JourneyKey]keptJourney
}

type lease struct {
	holder string
	until  time.Time
}

// keptJourney is the Redis store's {_events}:journeys entry.
type keptJourney struct {
	facts    store.JourneyFacts
	state    handoffv1.JourneyState
	step     string
	revision int64
	expires  time.Time
	due      time.Time
}

// eventID is a Redis stream id, <ms>-<seq>, so that both stores hand out
// ids of one form.
type eventID struct{ ms, seq int64 }

func (id eventID) String() string {
	return strconv.FormatInt(id.ms, 10) + "-" + strconv.FormatInt(id.seq, 10)
}

func (id eventID) compare(o eventID) int {
	return cmp.Or(cmp.Compare(id.ms, o.ms), cmp.Compare(id.seq, o.seq))
}

// parseEventID reads an id; "" is the zero id, before every event. A bare
// <ms> is <ms>-0, as Redis reads it.
func parseEventID(s string) (eventID, error) {
	if s == "" {
		return eventID{}, nil
	}
	msPart, seqPart, found := strings.Cut(s, "-")
	ms, err := strconv.ParseInt(msPart, 10, 64)
	if err != nil || ms < 0 {
		return eventID{}, fmt.Errorf("%q is not an event id (<ms>-<seq>)", s)
	}
	var seq int64
	if found {
		if seq, err = strconv.ParseInt(seqPart, 10, 64); err != nil || seq < 0 {
			return eventID{}, fmt.Errorf("%q is not an event id (<ms>-<seq>)", s)
		}
	}
	return eventID{ms, seq}, nil
}

// appendEvents gives evs the next ids, keeps them, trims what is past
// retention and wakes readers.
func (l *eventLog) appendEvents(now time.Time, evs ...*handoffv1.JourneyEvent) {
	if len(evs) == 0 {
		return
	}
	for _, ev := range evs {
		id := eventID{ms: now.UnixMilli()}
		if id.compare(l.last) <= 0 {
			id = eventID{l.last.ms, l.last.seq + 1}
		}
		l.last = id
		ev.Id = id.String()
		l.events = append(l.events, ev)
		l.ids = append(l.ids, id)
	}
	minMs := now.Add(-l.opts.Retention).UnixMilli()
	if n, _ := slices.BinarySearchFunc(l.ids, eventID{ms: minMs}, eventID.compare); n > 0 {
		l.events = slices.Delete(l.events, 0, n)
		l.ids = slices.Delete(l.ids, 0, n)
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

// changed appends the events of ch, the latest change to the journey at
// key (entry e), and schedules the journey by what it is now. Every write
// of a journey calls it under s.mu, so events come in revision order.
func (s *Store) changed(key store.JourneyKey, e *journeyEntry, ch *handoffv1.JourneyChange, now time.Time) {
	if s.ev == nil {
		return
	}
	facts := e.facts()
	s.ev.appendEvents(now, store.EventsOf(key, facts, ch)...)
	s.ev.kept[key] = keptJourney{
		facts:    facts,
		state:    e.body.GetState(),
		step:     e.body.GetStep(),
		revision: e.revision,
		expires:  e.expires,
		due:      s.dueTime(e),
	}
}

func (e *journeyEntry) facts() store.JourneyFacts {
	f := store.JourneyFacts{Type: e.body.GetJourneyType(), TypeVersion: e.body.GetJourneyTypeVersion()}
	if rt := e.body.GetReminderTime(); rt != nil {
		f.ReminderTime = rt.AsTime()
	}
	return f
}

// dueTime is store.EventOptions.DueTime for the journey.
func (s *Store) dueTime(e *journeyEntry) time.Time {
	return s.ev.opts.DueTime(e.body.GetState(), e.expires, e.remindedFor, e.body.GetJourneyType(), e.body.GetJourneyTypeVersion())
}

// ReadEvents implements store.Events.
func (s *Store) ReadEvents(ctx context.Context, after string, limit int, wait time.Duration) ([]*handoffv1.JourneyEvent, error) {
	from, err := parseEventID(after)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	if limit <= 0 {
		return nil, fmt.Errorf("read events: limit is %d, it must be > 0", limit)
	}
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		s.mu.Lock()
		if s.ev == nil {
			s.mu.Unlock()
			return nil, errEventsOff
		}
		l := s.ev
		i, found := slices.BinarySearchFunc(l.ids, from, eventID.compare)
		if found {
			i++
		}
		if i < len(l.events) {
			end := min(len(l.events), i+limit)
			out := make([]*handoffv1.JourneyEvent, 0, end-i)
			for _, ev := range l.events[i:end] {
				out = append(out, proto.CloneOf(ev))
			}
			s.mu.Unlock()
			return out, nil
		}
		wake := l.wake
		s.mu.Unlock()
		if timeout == nil {
			return nil, nil
		}
		select {
		case <-wake:
		case <-timeout:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// EventCursor implements store.Events.
func (s *Store) EventCursor(_ context.Context, consumer string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ev == nil {
		return "", errEventsOff
	}
	id, ok := s.ev.cursors[consumer]
	if !ok {
		return "", nil
	}
	return id.String(), nil
}

// SetEventCursor implements store.Events: an id at or before the cursor
// leaves it where it is.
func (s *Store) SetEventCursor(_ context.Context, consumer, id string) error {
	to, err := parseEventID(id)
	if err != nil || id == "" {
		return fmt.Errorf("set event cursor of %s: %q is not an event id", consumer, id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ev == nil {
		return errEventsOff
	}
	if cur, ok := s.ev.cursors[consumer]; !ok || to.compare(cur) > 0 {
		s.ev.cursors[consumer] = to
	}
	return nil
}

// DeadLetter implements store.Events. Dead letters are trimmed by the
// events' retention, as in Redis: they hold customers' names too.
func (s *Store) DeadLetter(_ context.Context, consumer string, ev *handoffv1.JourneyEvent, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ev == nil {
		return errEventsOff
	}
	now := time.Now()
	dead := append(s.ev.dead[consumer], store.DeadLetter{Event: proto.CloneOf(ev), Reason: reason, Time: now})
	cut := now.Add(-s.ev.opts.Retention)
	for len(dead) > 0 && dead[0].Time.Before(cut) {
		dead = dead[1:]
	}
	s.ev.dead[consumer] = dead
	return nil
}

// DeadLetters implements store.Events.
func (s *Store) DeadLetters(_ context.Context, consumer string, limit int) ([]store.DeadLetter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ev == nil {
		return nil, errEventsOff
	}
	// Aged out after the retention, added to or not (as in Redis, where
	// the stream expires).
	dead := s.ev.dead[consumer]
	cut := time.Now().Add(-s.ev.opts.Retention)
	for len(dead) > 0 && dead[0].Time.Before(cut) {
		dead = dead[1:]
	}
	dead = dead[max(0, len(dead)-limit):]
	out := make([]store.DeadLetter, len(dead))
	for i, d := range dead {
		out[i] = store.DeadLetter{Event: proto.CloneOf(d.Event), Reason: d.Reason, Time: d.Time}
	}
	return out, nil
}

// TakeLease implements store.Events.
func (s *Store) TakeLease(_ context.Context, name, holder string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ev == nil {
		return false, errEventsOff
	}
	now := time.Now()
	if l, ok := s.ev.leases[name]; ok && l.holder != holder && now.Before(l.until) {
		return false, nil
	}
	s.ev.leases[name] = lease{holder: holder, until: now.Add(ttl)}
	return true, nil
}

// ReleaseLease implements store.Events.
func (s *Store) ReleaseLease(_ context.Context, name, holder string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ev == nil {
		return errEventsOff
	}
	if l, ok := s.ev.leases[name]; ok && l.holder == holder {
		delete(s.ev.leases, name)
	}
	return nil
}

// PostponeDue implements store.Events.
func (s *Store) PostponeDue(_ context.Context, key store.JourneyKey, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ev == nil {
		return errEventsOff
	}
	if kj, ok := s.ev.kept[key]; ok {
		kj.due = at
		s.ev.kept[key] = kj
	}
	return nil
}

// DueJourneys implements store.Events. Sorting on every call is fine for
// a store that lives in one process.
func (s *Store) DueJourneys(_ context.Context, now time.Time, limit int) ([]store.JourneyKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ev == nil {
		return nil, errEventsOff
	}
	type item struct {
		key store.JourneyKey
		due time.Time
	}
	var due []item
	for k, kj := range s.ev.kept {
		if !kj.due.After(now) {
			due = append(due, item{k, kj.due})
		}
	}
	slices.SortFunc(due, func(a, b item) int {
		return cmp.Or(a.due.Compare(b.due), strings.Compare(a.key.Customer, b.key.Customer), strings.Compare(a.key.Journey, b.key.Journey))
	})
	keys := make([]store.JourneyKey, 0, min(len(due), limit))
	for _, it := range due[:min(len(due), limit)] {
		keys = append(keys, it.key)
	}
	return keys, nil
}

// RemindJourney implements store.Events.
func (s *Store) RemindJourney(_ context.Context, key store.JourneyKey, expireTime time.Time, tp *handoffv1.Touchpoint) (*handoffv1.Journey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ev == nil {
		return nil, errEventsOff
	}
	now := time.Now()
	e := s.live(key, now)
	if e == nil {
		return nil, fmt.Errorf("journey %s: %w", key.Name(), store.ErrNotFound)
	}
	var why string
	switch {
	case e.body.GetState() != handoffv1.JourneyState_JOURNEY_STATE_ACTIVE:
		why = "it is " + e.body.GetState().String()
	case !e.expires.Equal(expireTime):
		why = "its expiry moved"
	case e.remindedFor.Equal(e.expires):
		why = "it was reminded for this expiry"
	}
	if why != "" {
		if kj, ok := s.ev.kept[key]; ok {
			kj.due = s.dueTime(e)
			s.ev.kept[key] = kj
		}
		return nil, fmt.Errorf("remind journey %s: %s: %w", key.Name(), why, store.ErrConflict)
	}
	tp = proto.CloneOf(tp)
	if tp.Time == nil {
		tp.Time = timestamppb.New(now)
	}
	// The reminder moves the revision only: the etag stays (a website
	// holding it can still save) and so does the expiry (a reminder is
	// not a touch by the customer).
	e.body.ReminderTime = proto.CloneOf(tp.GetTime())
	e.remindedFor = e.expires
	e.revision++
	before := e.moment()
	ch := e.change(store.RemindPaths, e.appendTimeline(key, []*handoffv1.Touchpoint{tp}))
	s.logChange(key, e, ch, now)
	s.changed(key, e, ch, now)
	s.writes.Report(s.written(key, e, opRemind, before, time.Time{}, tp.GetTime().AsTime(), []*handoffv1.Touchpoint{tp}))
	return e.out(), nil
}

// ExpireJourney implements store.Events.
func (s *Store) ExpireJourney(_ context.Context, key store.JourneyKey, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ev == nil {
		return false, errEventsOff
	}
	if e := s.live(key, time.Now()); e != nil {
		// Scheduled again by what it is: a write the schedule missed
		// cannot keep it due for ever.
		if kj, ok := s.ev.kept[key]; ok {
			kj.due = s.dueTime(e)
			s.ev.kept[key] = kj
		}
		return false, nil
	}
	kj, ok := s.ev.kept[key]
	if !ok {
		// Expired (or erased) and told already.
		return true, nil
	}
	delete(s.ev.kept, key)
	s.ev.appendEvents(time.Now(), store.ExpiredEvent(key, store.KeptJourney{
		Facts: kj.facts, State: kj.state, Step: kj.step, Revision: kj.revision, ExpireTime: kj.expires,
	}, now))
	return true, nil
}

// erased appends `customer.erased` and forgets the customer's journeys'
// schedule; EraseCustomer calls it under s.mu.
func (s *Store) erased(customer string, now time.Time) {
	if s.ev == nil {
		return
	}
	for k := range s.ev.kept {
		if k.Customer == customer {
			delete(s.ev.kept, k)
		}
	}
	s.ev.appendEvents(now, store.ErasedEvent(customer, now))
}
