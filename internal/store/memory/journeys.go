package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/answers"
	"github.com/journeyhandoff/handoff/internal/store"
)

// CreateJourney stores j and its first touchpoint, or returns the journey
// an earlier create with the same request id made.
func (s *Store) CreateJourney(_ context.Context, j *handoffv1.Journey, first *handoffv1.Touchpoint, requestID string) (*handoffv1.Journey, bool, error) {
	key, err := store.ParseJourneyName(j.GetName())
	if err != nil {
		return nil, false, fmt.Errorf("create journey: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	c := s.customers[key.Customer]
	if c == nil {
		c = &customer{journeys: make(map[string]*journeyEntry), requests: make(map[string]requestEntry)}
		s.customers[key.Customer] = c
	}
	// The request id is checked before the name so that a retried create
	// answers like the first one did instead of failing with AlreadyExists.
	// If the journey it made has expired there is nothing to answer with,
	// and the create goes ahead as a new one.
	if r, ok := c.requests[requestID]; ok && requestID != "" && now.Before(r.expires) {
		if e := c.live(r.journey, now); e != nil {
			return e.out(), false, nil
		}
	}
	if c.live(key.Journey, now) != nil {
		return nil, false, fmt.Errorf("journey %s: %w", key.Name(), store.ErrAlreadyExists)
	}
	// A journey that expired but was not swept yet is replaced whole,
	// timeline included, as if it had been swept.
	e := &journeyEntry{listedAt: j.GetCreateTime().AsTime().Truncate(time.Microsecond)}
	c.journeys[key.Journey] = e
	if requestID != "" {
		c.requests[requestID] = requestEntry{journey: key.Journey, expires: now.Add(requestTTL)}
	}
	body := proto.CloneOf(j)
	// The store sets the reminder (RemindJourney), not its callers.
	body.ReminderTime = nil
	s.commit(key, e, body, now, true, []*handoffv1.Touchpoint{first}, slices.Clone(store.CreatePaths))
	// Every answer and the step are written at the first etag, by the
	// first touchpoint.
	e.written = make(map[string]int64)
	e.writtenBy = make(map[string]int)
	for _, l := range answers.Leaves(e.body.GetData()) {
		e.written[l.Path] = e.etag
		if first != nil {
			e.writtenBy[l.Path] = 1
		}
	}
	e.stepEtag = e.etag
	s.writes.Report(s.written(key, e, opCreate, store.Moment{}, time.Time{}, e.body.GetCreateTime().AsTime(), []*handoffv1.Touchpoint{first}))
	return e.out(), true, nil
}

// GetJourney returns a copy of the journey.
func (s *Store) GetJourney(_ context.Context, key store.JourneyKey) (*handoffv1.Journey, error) {
	return s.read(key, (*journeyEntry).out)
}

// JourneyWithProvenance returns a copy of the journey with who last
// changed each answer.
func (s *Store) JourneyWithProvenance(_ context.Context, key store.JourneyKey) (*handoffv1.Journey, error) {
	return s.read(key, (*journeyEntry).withProvenance)
}

// read is the live journey at key, as view copies it.
func (s *Store) read(key store.JourneyKey, view func(*journeyEntry) *handoffv1.Journey) (*handoffv1.Journey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.live(key, time.Now())
	if e == nil {
		return nil, fmt.Errorf("journey %s: %w", key.Name(), store.ErrNotFound)
	}
	return view(e), nil
}

// UpdateJourney applies u if the journey is still at the revision and etag
// u.Journey was read at. It replaces every field but the answers, which
// change only through CreateJourney and SaveJourney (whose per-answer
// etag checks rely on knowing every write of an answer).
func (s *Store) UpdateJourney(_ context.Context, u store.Update) (*handoffv1.Journey, error) {
	j := u.Journey
	key, err := store.ParseJourneyName(j.GetName())
	if err != nil {
		return nil, fmt.Errorf("update journey: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	e := s.live(key, now)
	if e == nil {
		return nil, fmt.Errorf("journey %s: %w", key.Name(), store.ErrNotFound)
	}
	if j.GetRevision() != e.revision || j.GetEtag() != strconv.FormatInt(e.etag, 10) {
		return nil, fmt.Errorf("journey %s at revision %d, etag %q: %w", key.Name(), j.GetRevision(), j.GetEtag(), store.ErrConflict)
	}
	body := proto.CloneOf(j)
	body.Data = e.body.Data
	body.JourneyType, body.JourneyTypeVersion = e.body.GetJourneyType(), e.body.GetJourneyTypeVersion()
	body.AnswerProvenance, body.MaskedAnswers = nil, nil
	body.ReminderTime = e.body.GetReminderTime()
	stepChanged := body.GetStep() != e.body.GetStep()
	before, reminder := e.moment(), e.reminder()
	s.commit(key, e, body, now, u.ContentChanged, u.Touchpoints, slices.Clone(store.UpdatePaths))
	if stepChanged {
		e.stepEtag = e.etag
	}
	at := now
	if body.UpdateTime != nil {
		at = body.UpdateTime.AsTime()
	}
	s.writes.Report(s.written(key, e, opUpdate, before, reminder, at, u.Touchpoints))
	return e.out(), nil
}

// ListJourneys returns a page of the customer's journeys, newest first.
func (s *Store) ListJourneys(_ context.Context, customer string, q store.ListJourneysQuery) ([]*handoffv1.Journey, *store.JourneyCursor, error) {
	if q.Limit <= 0 {
		return nil, nil, fmt.Errorf("list journeys: limit is %d, it must be > 0", q.Limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.customers[customer]
	if c == nil {
		return nil, nil, nil
	}
	type item struct {
		id string
		e  *journeyEntry
	}
	now := time.Now()
	var items []item
	for id, e := range c.journeys {
		if !now.Before(e.expires) ||
			(q.State != handoffv1.JourneyState_JOURNEY_STATE_UNSPECIFIED && e.body.GetState() != q.State) ||
			(q.After != nil && !listedAfter(e.listedAt, id, q.After)) {
			continue
		}
		items = append(items, item{id, e})
	}
	// Sorting every call is O(n log n) per customer; a customer has a
	// handful of journeys, so an index would cost more than it saves.
	slices.SortFunc(items, func(a, b item) int {
		return cmp.Or(b.e.listedAt.Compare(a.e.listedAt), strings.Compare(b.id, a.id))
	})
	var next *store.JourneyCursor
	if len(items) > q.Limit {
		items = items[:q.Limit]
		last := items[len(items)-1]
		next = &store.JourneyCursor{CreateTime: last.e.listedAt, Journey: last.id}
	}
	page := make([]*handoffv1.Journey, len(items))
	for i, it := range items {
		page[i] = it.e.out()
	}
	return page, next, nil
}

// ListTouchpoints returns up to limit touchpoints from position offset.
func (s *Store) ListTouchpoints(_ context.Context, key store.JourneyKey, offset, limit int) ([]*handoffv1.Touchpoint, bool, error) {
	if offset < 0 || limit <= 0 {
		return nil, false, fmt.Errorf("list touchpoints: offset %d and limit %d, want offset >= 0 and limit > 0", offset, limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.live(key, time.Now())
	if e == nil {
		return nil, false, fmt.Errorf("journey %s: %w", key.Name(), store.ErrNotFound)
	}
	if offset >= len(e.timeline) {
		return nil, false, nil
	}
	end := len(e.timeline)
	if limit < end-offset {
		end = offset + limit
	}
	page := make([]*handoffv1.Touchpoint, 0, end-offset)
	for _, tp := range e.timeline[offset:end] {
		page = append(page, proto.CloneOf(tp))
	}
	return page, end < len(e.timeline), nil
}

// commit makes body, which the store owns from now on (callers get
// copies), the entry's next revision (and its next etag when the content
// changed), appends tps, and logs and announces the change as the delta
// to the fields paths names.
func (s *Store) commit(key store.JourneyKey, e *journeyEntry, body *handoffv1.Journey, now time.Time, contentChanged bool, tps []*handoffv1.Touchpoint, paths []string) {
	body.Etag, body.Revision = "", 0
	// expire_time follows update_time, which the service sets; a caller that
	// left it unset still gets a journey that expires.
	updated := now
	if body.UpdateTime != nil {
		updated = body.UpdateTime.AsTime()
	}
	e.expires = updated.Add(s.journeyTTL(body))
	body.ExpireTime = timestamppb.New(e.expires)
	e.body = body
	e.revision++
	if contentChanged {
		e.etag++
	}
	ch := e.change(paths, e.appendTimeline(key, tps))
	s.logChange(key, e, ch, now)
	s.changed(key, e, ch, now)
}

// appendTimeline keeps copies of tps, named by their position, and returns
// other copies of them for the change log.
func (e *journeyEntry) appendTimeline(key store.JourneyKey, tps []*handoffv1.Touchpoint) []*handoffv1.Touchpoint {
	var appended []*handoffv1.Touchpoint
	for _, tp := range tps {
		if tp == nil {
			continue
		}
		tp = proto.CloneOf(tp)
		tp.Name = store.TouchpointName(key, len(e.timeline)+1)
		e.timeline = append(e.timeline, tp)
		appended = append(appended, proto.CloneOf(tp))
	}
	return appended
}

// live returns the journey unless it is missing or expired.
func (s *Store) live(key store.JourneyKey, now time.Time) *journeyEntry {
	return s.customers[key.Customer].live(key.Journey, now)
}

func (c *customer) live(journey string, now time.Time) *journeyEntry {
	if c == nil {
		return nil
	}
	e := c.journeys[journey]
	if e == nil || !now.Before(e.expires) {
		return nil
	}
	return e
}

// listedAfter reports whether a journey listed at (at, id) comes after the
// cursor in newest-first order. The cursor need not name a journey that
// still exists: it is a position, not a reference.
func listedAfter(at time.Time, id string, c *store.JourneyCursor) bool {
	if ct := c.CreateTime.Truncate(time.Microsecond); !at.Equal(ct) {
		return at.Before(ct)
	}
	return id < c.Journey
}
