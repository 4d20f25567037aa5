package memory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// feed is one OpenFeed; a pointer, so that it can be a map key.
type feed struct {
	s      *Store
	handle store.ChangeHandler
	// follows counts the Follows of each journey; guarded by s.mu, which
	// every write holds while it delivers.
	follows map[store.JourneyKey]int
	closed  bool
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

// OpenFeed opens a feed. Nothing can be skipped in one process, so resync
// is never called.
func (s *Store) OpenFeed(handle store.ChangeHandler, _ func()) store.Feed {
	f := &feed{s: s, handle: handle, follows: map[store.JourneyKey]int{}}
	s.mu.Lock()
	s.feeds[f] = struct{}{}
	s.mu.Unlock()
	return f
}

// Follow implements store.Feed: from its return on, every write of the
// journey (each under s.mu) sees the follow.
func (f *feed) Follow(ctx context.Context, key store.JourneyKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	if f.closed {
		return errors.New("memory: the change feed is closed")
	}
	f.follows[key]++
	return nil
}

// Unfollow implements store.Feed.
func (f *feed) Unfollow(key store.JourneyKey) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	if f.follows[key]--; f.follows[key] <= 0 {
		delete(f.follows, key)
	}
}

// Close implements store.Feed.
func (f *feed) Close() {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	f.closed = true
	delete(f.s.feeds, f)
}

// logChange appends c to the log of the journey at key (entry e), keeping
// the last s.logEntries, and hands a copy to every feed that follows the
// journey. It runs under s.mu, as part of the write:
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
	for f := range s.feeds {
		if f.follows[key] > 0 {
			f.handle(proto.CloneOf(c))
		}
	}
}
