package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// subscriber is one Subscribe call; a pointer, so that it can be a map key
// (funcs cannot).
type subscriber struct {
	wants  store.ChangeFilter
	handle store.ChangeHandler
}

// ChangesSince returns the logged changes after revision after.
func (s *Store) ChangesSince(_ context.Context, key store.JourneyKey, after int64) ([]*handoffv1.JourneyChange, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	e := s.live(key, now)
	if e == nil {
		return nil, false, fmt.Errorf("journey %s: %w", key.Name(), store.ErrNotFound)
	}
	if after >= e.revision {
		// Nothing happened after the current revision; a revision from the
		// future is not one the caller can have seen (it belongs to an
		// earlier journey of that name, or is made up).
		return nil, after == e.revision, nil
	}
	var log []*handoffv1.JourneyChange
	if now.Before(e.logExpires) {
		log = e.log
	}
	var out []*handoffv1.JourneyChange
	for _, c := range log {
		if c.GetRevision() > after {
			out = append(out, proto.CloneOf(c))
		}
	}
	return out, len(out) > 0 && out[0].GetRevision() == after+1, nil
}

// Subscribe calls handle with every change from now on to a journey wants
// accepts, until ctx ends. Nothing can be skipped in one process, so resync
// is never called.
func (s *Store) Subscribe(ctx context.Context, wants store.ChangeFilter, handle store.ChangeHandler, _ func()) error {
	sub := &subscriber{wants: wants, handle: handle}
	s.mu.Lock()
	s.subscribers[sub] = struct{}{}
	s.mu.Unlock()

	<-ctx.Done()

	s.mu.Lock()
	delete(s.subscribers, sub)
	s.mu.Unlock()
	return ctx.Err()
}

// logChange appends c to the log of the journey at key (entry e), keeping
// the last s.logEntries, and hands a copy to every subscriber that wants it. It runs under s.mu, as part of the write:
// that is what delivers each journey's changes in revision order, and why a
// handler must neither block nor call the store.
func (s *Store) logChange(key store.JourneyKey, e *journeyEntry, c *handoffv1.JourneyChange, now time.Time) {
	if !now.Before(e.logExpires) {
		// An expired log is gone, as its Redis key would be; what follows
		// starts a new one.
		e.log = nil
	}
	// A create (revision 1) is announced, not logged, as in Redis: a
	// watcher from revision 0 starts from a snapshot anyway.
	if c.GetRevision() > 1 {
		e.log = append(e.log, c)
		if over := len(e.log) - s.logEntries; over > 0 {
			e.log = slices.Delete(e.log, 0, over)
		}
		e.logExpires = now.Add(s.logTTL)
	}
	for sub := range s.subscribers {
		if sub.wants == nil || sub.wants(key) {
			sub.handle(proto.CloneOf(c))
		}
	}
}
