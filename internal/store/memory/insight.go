package memory

import (
	"context"
	"fmt"
	"maps"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// WithWrites makes the store report each write (docs/insight.md).
func WithWrites(o store.WriteOptions) Option {
	return func(s *Store) { s.writes = &o }
}

// journeyInsight is what insight counts from, as the Redis record keeps
// it (ech, fx, cst, rsm).
type journeyInsight struct {
	entry        handoffv1.Channel
	furthest     int
	customerSave time.Time
	resumed      time.Time
}

// insightDay is one type's counts of one day.
type insightDay struct {
	counts  map[string]int64
	expires time.Time
}

// reminder is the journey's last reminder, zero when none.
func (e *journeyEntry) reminder() time.Time {
	if rt := e.body.GetReminderTime(); rt != nil {
		return rt.AsTime()
	}
	return time.Time{}
}

// moment is what the entry is now, as insight counts it.
func (e *journeyEntry) moment() store.Moment {
	return store.Moment{State: e.body.GetState(), Step: e.body.GetStep(), Channel: e.body.GetChannel(), Expire: e.expires}
}

// writeOp is which kind of write a Written reports.
type writeOp int

const (
	opCreate writeOp = iota
	opSave
	opUpdate
	opRemind
)

// written is what a write did to e, from before (the moment before it),
// the reminder before it and what e is now; it moves e's facts as the
// scripts do.
func (s *Store) written(key store.JourneyKey, e *journeyEntry, op writeOp, before store.Moment, reminder time.Time, at time.Time, tps []*handoffv1.Touchpoint) store.Written {
	was := e.insight
	created := op == opCreate
	w := store.Written{
		Key: key, Type: e.body.GetJourneyType(), TypeVersion: e.body.GetJourneyTypeVersion(), Time: at,
		Created: created, Counted: created || was != nil, Before: before, After: e.moment(),
	}
	w.Kind, w.Customer = store.WriteKind(tps)
	now := &journeyInsight{}
	if was != nil {
		*now = *was
		w.Entry, w.FurthestBefore, w.CustomerSave, w.Resume = was.entry, was.furthest, was.customerSave, was.resumed
	}
	if created {
		now.entry = e.body.GetChannel()
		w.Entry = now.entry
	}
	if op == opRemind {
		// A reminder moves nothing but the reminder (remind.lua).
		w.Entry = handoffv1.Channel_CHANNEL_UNSPECIFIED
	} else {
		now.furthest = max(now.furthest, s.writes.Position(w.Type, w.TypeVersion, e.body.GetStep()))
	}
	w.FurthestAfter = now.furthest
	// Only creates and saves are the customer's saves; only updates
	// resume (as in save.lua and update.lua).
	if w.Customer && (op == opCreate || op == opSave) {
		now.customerSave = at
	}
	if op == opUpdate && store.IsResumeKind(w.Kind) {
		now.resumed = at
	}
	w.Reminder = reminder // a reminder's caller passes none: it is not told
	e.insight = now
	return w
}

// AddInsight implements store.Insight.
func (s *Store) AddInsight(_ context.Context, batch []store.InsightCounts, retention time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range batch {
		day, err := time.Parse(time.DateOnly, b.Day)
		if err != nil {
			return fmt.Errorf("add insight: day %q: %w", b.Day, err)
		}
		days := s.insight[b.Type]
		if days == nil {
			days = make(map[string]*insightDay)
			s.insight[b.Type] = days
		}
		d := days[b.Day]
		if d == nil {
			d = &insightDay{counts: make(map[string]int64)}
			days[b.Day] = d
		}
		for f, n := range b.Counts {
			d.counts[f] += n
		}
		d.expires = day.Add(24*time.Hour + retention)
	}
	return nil
}

// InsightDays implements store.Insight.
func (s *Store) InsightDays(_ context.Context, journeyType string, days []string) (map[string]map[string]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	out := make(map[string]map[string]int64)
	for _, day := range days {
		if d := s.insight[journeyType][day]; d != nil && now.Before(d.expires) && len(d.counts) > 0 {
			out[day] = maps.Clone(d.counts)
		}
	}
	return out, nil
}

// sweepInsight frees the days kept past their retention.
func (s *Store) sweepInsight(now time.Time) {
	for t, days := range s.insight {
		for day, d := range days {
			if !now.Before(d.expires) {
				delete(days, day)
			}
		}
		if len(days) == 0 {
			delete(s.insight, t)
		}
	}
}
