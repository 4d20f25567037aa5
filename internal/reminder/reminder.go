// Package reminder sends the reminders and expiry events of journeys
// (docs/reach.md, "Reminders before expiry"): one instance at a time
// reads, each second, the journeys whose reminder or expiry the store has
// due, and reminds, expires, or lets the store schedule them again.
package reminder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// LeaseName is the store lease the sending instance holds.
const LeaseName = "reminders"

// batch is how many due journeys one read takes.
const batch = 100

// retryAfter is how much later a due journey whose handling failed is
// due again, so that a batch of failing ones does not hold back the
// others round after round.
const retryAfter = time.Minute

// Journeys reads a journey as the store holds it: an internal read,
// recorded nowhere (not a staff read).
type Journeys interface {
	GetJourney(ctx context.Context, key store.JourneyKey) (*handoffv1.Journey, error)
}

// Options are what the worker needs.
type Options struct {
	Events   store.Events
	Journeys Journeys
	// RemindBefore is the function the store got as
	// EventOptions.RemindBefore, so both agree on when a journey is due.
	RemindBefore func(journeyType string, version int64) time.Duration
	// LoadType, when set, makes a journey's type version known to
	// RemindBefore first (one this instance never loaded).
	LoadType func(ctx context.Context, journeyType string, version int64) error
	// Actor is who a REMINDED touchpoint is recorded as: handoff itself.
	Actor *handoffv1.Actor
	// Holder names this instance in the lease.
	Holder string
	Logger *slog.Logger
	// Every is how often due journeys are read; 0: 1 s.
	Every time.Duration
	// LeaseTTL is how long the lease holds unless renewed (each round
	// renews it); 0: 10 s.
	LeaseTTL time.Duration
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Run sends reminders while this instance holds the lease, until ctx
// ends; then it releases the lease so another instance takes over at once.
func Run(ctx context.Context, opts Options) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Every <= 0 {
		opts.Every = time.Second
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	w := &worker{opts: opts}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := opts.Events.ReleaseLease(rctx, LeaseName, opts.Holder); err != nil {
			opts.Logger.Warn("cannot release the reminders lease; another instance takes over when it lapses", "error", err)
		}
	}()
	tick := time.NewTicker(opts.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := w.round(ctx); err != nil && ctx.Err() == nil {
			opts.Logger.Warn("reminders: a round failed; trying again", "error", err)
		}
	}
}

type worker struct {
	opts Options
	held bool
}

// round takes (or renews) the lease and handles what is due. A journey
// handled in this round and due again stops it: the store has scheduled
// it for now, and the next round will see.
func (w *worker) round(ctx context.Context) error {
	held, err := w.opts.Events.TakeLease(ctx, LeaseName, w.opts.Holder, w.opts.LeaseTTL)
	if err != nil {
		return err
	}
	if held != w.held {
		w.held = held
		if held {
			w.opts.Logger.Info("reminders: this instance sends them")
		}
	}
	if !held {
		return nil
	}
	seen := map[store.JourneyKey]bool{}
	// Bounded by the lease: a backlog is worked through over rounds,
	// each renewing it.
	stop := time.Now().Add(w.opts.LeaseTTL / 2)
	for time.Now().Before(stop) {
		now := w.opts.Now()
		keys, err := w.opts.Events.DueJourneys(ctx, now, batch)
		if err != nil {
			return err
		}
		for _, key := range keys {
			if seen[key] {
				return nil
			}
			seen[key] = true
			if err := w.handle(ctx, key, now); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				w.opts.Logger.Warn("reminders: a due journey not handled; due again later", "journey", key.Name(), "error", err, "retry_after", retryAfter)
				// Out of the way of the others; a store that does not
				// answer ends the round.
				if err := w.opts.Events.PostponeDue(ctx, key, now.Add(retryAfter)); err != nil {
					return err
				}
			}
		}
		if len(keys) < batch {
			return nil
		}
	}
	return nil
}

// handle decides what a due journey gets: `journey.expired` when it is
// gone, a reminder when it is active, not reminded for its expiry and
// within its type's remind_before of it, else a new due time (the store
// schedules it by what it is: a journey touched since, completed, or
// reminded already).
func (w *worker) handle(ctx context.Context, key store.JourneyKey, now time.Time) error {
	j, err := w.opts.Journeys.GetJourney(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return w.expire(ctx, key, now)
	}
	if err != nil {
		return err
	}
	due, err := w.due(ctx, j, now)
	if err != nil {
		return err
	}
	if !due {
		// The journey exists: ExpireJourney only schedules it again.
		_, err := w.opts.Events.ExpireJourney(ctx, key, now)
		return err
	}
	expire := j.GetExpireTime().AsTime()
	_, err = w.opts.Events.RemindJourney(ctx, key, expire, &handoffv1.Touchpoint{
		Time: timestamppb.New(now),
		// The channel it was last touched on, as a lapsed claim's release
		// records: there is no channel of handoff's own.
		Channel: j.GetChannel(),
		Actor:   proto.CloneOf(w.opts.Actor),
		Kind:    handoffv1.TouchpointKind_TOUCHPOINT_KIND_REMINDED,
		Step:    j.GetStep(),
		Note:    "expires " + expire.UTC().Format(time.RFC3339) + " unless touched",
	})
	switch {
	case err == nil:
		w.opts.Logger.Info("reminders: journey reminded", "journey", key.Name(), "expire_time", expire)
		return nil
	case errors.Is(err, store.ErrConflict):
		// Touched, ended or reminded meanwhile: the store has scheduled
		// it again by what it is.
		return nil
	case errors.Is(err, store.ErrNotFound):
		return w.expire(ctx, key, now)
	}
	return err
}

// due reports whether j is to be reminded now; an error when its type
// version does not load (without it we cannot tell its remind_before).
func (w *worker) due(ctx context.Context, j *handoffv1.Journey, now time.Time) (bool, error) {
	if j.GetState() != handoffv1.JourneyState_JOURNEY_STATE_ACTIVE || j.GetExpireTime() == nil {
		return false, nil
	}
	if w.opts.LoadType != nil {
		if err := w.opts.LoadType(ctx, j.GetJourneyType(), j.GetJourneyTypeVersion()); err != nil {
			return false, fmt.Errorf("journey type %s version %d not loaded: %w", j.GetJourneyType(), j.GetJourneyTypeVersion(), err)
		}
	}
	before := w.opts.RemindBefore(j.GetJourneyType(), j.GetJourneyTypeVersion())
	if before <= 0 {
		return false, nil
	}
	remindAt := j.GetExpireTime().AsTime().Add(-before)
	// A reminder sent at or after this expiry's reminder time was for it;
	// one before it was for an earlier expiry.
	if rt := j.GetReminderTime(); rt != nil && !rt.AsTime().Before(remindAt) {
		return false, nil
	}
	return !now.Before(remindAt), nil
}

func (w *worker) expire(ctx context.Context, key store.JourneyKey, now time.Time) error {
	gone, err := w.opts.Events.ExpireJourney(ctx, key, now)
	if err == nil && gone {
		w.opts.Logger.Info("reminders: journey expired", "journey", key.Name())
	}
	return err
}
