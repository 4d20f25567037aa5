package insight

import (
	"math"
	"slices"
	"strconv"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// Field names of a type's day (docs/insight.md, "Fields").
const (
	fieldStarted       = "e:"  // + entry channel
	fieldCompleted     = "c:"  // + entry channel
	fieldReached       = "r:"  // + step
	fieldLeft          = "f:"  // + step
	fieldSwitched      = "sw:" // + step:from:to
	fieldResumed       = "rs:" // + step:from:to
	fieldResumeTime    = "t:"  // + step:bucket
	fieldExpired       = "x:"  // + step
	fieldExpiredUnseen = "xu:" // + step
	fieldReminded      = "rm"
	fieldBroughtBack   = "rmb"
)

// OtherStep stands for a step the type version does not declare.
const OtherStep = "-"

// Day is the day (UTC) t falls on, as counts are kept.
func Day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// stepKey is how a step is counted: itself when steps declare it, else
// OtherStep, so what a count names is always bounded by the type.
func stepKey(steps []string, step string) string {
	if step != "" && slices.Contains(steps, step) {
		return step
	}
	return OtherStep
}

func channel(c handoffv1.Channel) string { return strconv.Itoa(int(c)) }

func flow(step string, from, to handoffv1.Channel) string {
	return step + ":" + channel(from) + ":" + channel(to)
}

// counted reports whether w is of a declared type. Only those are
// counted: a journey_type no one declared is any string a caller sent,
// and would grow keys without bound.
func counted(w store.Written) bool { return w.Type != "" && w.TypeVersion != 0 }

// Count calls add with each count w adds (docs/insight.md): the day it
// counts on, the field, and the amount (negative to move a forecast
// expiry). steps are the journey's type version's steps in order. Only
// journeys of a declared type count (see counted).
func Count(w store.Written, steps []string, add func(day, field string, n int64)) {
	if !counted(w) {
		return
	}
	today := Day(w.Time)
	if w.Created {
		add(today, fieldStarted+channel(w.Entry), 1)
	}
	if w.FurthestAfter > w.FurthestBefore && w.FurthestAfter <= len(steps) {
		add(today, fieldReached+steps[w.FurthestAfter-1], 1)
		if w.FurthestBefore > 0 {
			add(today, fieldLeft+steps[w.FurthestBefore-1], 1)
		}
	}
	before := stepKey(steps, w.Before.Step)
	if !w.Created && w.Kind != handoffv1.TouchpointKind_TOUCHPOINT_KIND_UNSPECIFIED &&
		w.Before.Channel != w.After.Channel && w.Before.Channel != 0 && w.After.Channel != 0 {
		add(today, fieldSwitched+flow(before, w.Before.Channel, w.After.Channel), 1)
	}
	resumes := store.IsResumeKind(w.Kind)
	if resumes && (w.Resume.IsZero() || w.CustomerSave.After(w.Resume)) {
		add(today, fieldResumed+flow(before, w.Before.Channel, w.After.Channel), 1)
		if !w.CustomerSave.IsZero() {
			add(today, fieldResumeTime+before+":"+strconv.Itoa(Bucket(w.Time.Sub(w.CustomerSave))), 1)
		}
	}
	active := handoffv1.JourneyState_JOURNEY_STATE_ACTIVE
	if w.Counted && w.Before.State == active && w.After.State == handoffv1.JourneyState_JOURNEY_STATE_COMPLETED {
		add(today, fieldCompleted+channel(w.Entry), 1)
		// A completed journey did not stop on its furthest step: it left
		// it forward, to done, wherever the form's end is.
		if w.FurthestAfter > 0 && w.FurthestAfter <= len(steps) {
			add(today, fieldLeft+steps[w.FurthestAfter-1], 1)
		}
	}
	switch w.Kind {
	case handoffv1.TouchpointKind_TOUCHPOINT_KIND_REMINDED:
		add(today, fieldReminded, 1)
	case handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED:
		if w.Customer && !w.Reminder.IsZero() && w.CustomerSave.Before(w.Reminder) {
			add(today, fieldBroughtBack, 1)
		}
	}
	// The expiry forecast: the journey leaves the day it was to expire on
	// and joins the one it expires on now (while it is active).
	if w.Counted && !w.Created && w.Before.State == active && !w.Before.Expire.IsZero() {
		day := Day(w.Before.Expire)
		add(day, fieldExpired+before, -1)
		if w.Resume.IsZero() {
			add(day, fieldExpiredUnseen+before, -1)
		}
	}
	if w.After.State == active && !w.After.Expire.IsZero() {
		day, after := Day(w.After.Expire), stepKey(steps, w.After.Step)
		add(day, fieldExpired+after, 1)
		if w.Resume.IsZero() && !resumes {
			add(day, fieldExpiredUnseen+after, 1)
		}
	}
}

// Time to resume is kept in log-linear buckets: bucketsPerDoubling per
// power of two of seconds, so a bucket is about 4.4% wide and its
// geometric middle within 2.2% of any time in it.
const bucketsPerDoubling = 16

// Bucket is the bucket of d (a second at least).
func Bucket(d time.Duration) int {
	s := max(d.Seconds(), 1)
	return int(math.Floor(bucketsPerDoubling * math.Log2(s)))
}

// BucketValue is the geometric middle of bucket b.
func BucketValue(b int) time.Duration {
	s := math.Exp2((float64(b) + 0.5) / bucketsPerDoubling)
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond)
}
