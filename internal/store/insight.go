package store

import (
	"context"
	"slices"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// WriteOptions make a store report its writes (docs/insight.md): after
// each write that landed it tells Observe what the write did, from what
// the journey held before it, which the write's script hands back.
type WriteOptions struct {
	// Observe receives each write, in order per journey. It must not
	// block: it runs on the write's path.
	Observe func(Written)
	// Steps are a type version's declared steps in order (nil: none
	// known); a step's position among them is what Written's Furthest
	// fields count.
	Steps func(journeyType string, version int64) []string
}

// Position is the position of step in its type version's steps (see
// StepPosition); 0 when o is nil or knows no steps. Both stores ask it.
func (o *WriteOptions) Position(journeyType string, version int64, step string) int {
	if o == nil || o.Steps == nil || step == "" {
		return 0
	}
	return StepPosition(o.Steps(journeyType, version), step)
}

// Report hands w to Observe, if o has one.
func (o *WriteOptions) Report(w Written) {
	if o != nil && o.Observe != nil {
		o.Observe(w)
	}
}

// StepPosition is step's position (from 1) among steps, 0 when it is
// not one of them.
func StepPosition(steps []string, step string) int {
	if step == "" {
		return 0
	}
	return slices.Index(steps, step) + 1
}

// Moment is what a journey was at one instant, as insight counts it.
type Moment struct {
	State   handoffv1.JourneyState
	Step    string
	Channel handoffv1.Channel
	Expire  time.Time
}

// Written is what one write did to a journey (docs/insight.md).
type Written struct {
	Key         JourneyKey
	Type        string
	TypeVersion int64
	Time        time.Time
	// Kind and Customer are what the write's touchpoints say of it
	// (WriteKind).
	Kind     handoffv1.TouchpointKind
	Customer bool
	// Created: the write created the journey (Before is zero).
	Created bool
	// Counted: the journey was counted before this write (created, or
	// written, since insight began). A journey written before is counted
	// from this write on: its expiry was never forecast.
	Counted       bool
	Before, After Moment
	// Entry is the channel the journey started on (UNSPECIFIED when it
	// started before insight).
	Entry handoffv1.Channel
	// FurthestBefore and FurthestAfter are the positions (StepPosition)
	// of the furthest step the journey had reached; 0: none.
	FurthestBefore, FurthestAfter int
	// CustomerSave, Resume and Reminder are the customer's last save,
	// staff's last resume and the last reminder before the write (zero:
	// none).
	CustomerSave, Resume, Reminder time.Time
}

// IsCustomerTouch reports whether tp records the customer's own
// progress: its actor is the customer, or a service (a website, an IVR)
// acting for them.
func IsCustomerTouch(tp *handoffv1.Touchpoint) bool {
	switch tp.GetActor().GetRole() {
	case handoffv1.Role_ROLE_CUSTOMER, handoffv1.Role_ROLE_SERVICE:
		return true
	}
	return false
}

// IsResume reports whether tp records staff picking a journey up: a code
// redeemed, a caller identified, a case claimed.
func IsResume(tp *handoffv1.Touchpoint) bool { return IsResumeKind(tp.GetKind()) }

// IsResumeKind reports whether a touchpoint of kind k is a resume (IsResume).
func IsResumeKind(k handoffv1.TouchpointKind) bool {
	switch k {
	case handoffv1.TouchpointKind_TOUCHPOINT_KIND_RESUMED, handoffv1.TouchpointKind_TOUCHPOINT_KIND_IDENTIFIED, handoffv1.TouchpointKind_TOUCHPOINT_KIND_CLAIMED:
		return true
	}
	return false
}

// WriteKind is what a write's touchpoints say of it: the kind of the
// first, or of a resume among them (what the write did), and whether the
// first is the customer's own (IsCustomerTouch). Nil entries are skipped.
func WriteKind(tps []*handoffv1.Touchpoint) (kind handoffv1.TouchpointKind, customer bool) {
	seen := false
	for _, tp := range tps {
		if tp == nil {
			continue
		}
		if !seen {
			kind, customer, seen = tp.GetKind(), IsCustomerTouch(tp), true
		}
		if IsResume(tp) {
			return tp.GetKind(), customer
		}
	}
	return kind, customer
}

// InsightCounts are counts to add to one type's day (docs/insight.md):
// field name to amount, which may be negative.
type InsightCounts struct {
	Type   string
	Day    string // YYYY-MM-DD, UTC
	Counts map[string]int64
}

// Insight keeps the insight counts of each journey type and day.
type Insight interface {
	// AddInsight adds the counts, each type's day kept until retention
	// after it ends. Counts are statistics: a batch half added when an
	// error comes back is not undone.
	AddInsight(ctx context.Context, batch []InsightCounts, retention time.Duration) error

	// InsightDays returns the counts kept for the type on each of days
	// (a day with none is absent).
	InsightDays(ctx context.Context, journeyType string, days []string) (map[string]map[string]int64, error)
}
