package service

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc/status"

	"github.com/journeyhandoff/handoff/internal/store"
)

// writeQueue lets one change at a time per journey go to the store from
// this process (one that waits too long goes anyway: see maxTurnWait).
// Changes to one journey then wait their turn here instead of racing in
// the store, where all but one of them would lose, read the journey again
// and redo their write: a hot journey (16 writers) costs one read and one
// write per save instead of several. Other processes still race with this
// one; the store's revision check keeps that safe.
//
// Hand-written: golang.org/x/sync has a semaphore and singleflight, but no
// lock per key that honours a context.
type writeQueue struct {
	mu    sync.Mutex
	turns map[store.JourneyKey]*turn
	// maxWait replaces maxTurnWait when set: tests that check the turns
	// themselves must not depend on how busy the machine is.
	maxWait time.Duration
}

// turn is one journey's queue: a token passed from change to change, and
// how many changes hold or wait for it (so it is dropped when none do).
type turn struct {
	token chan struct{}
	refs  int
}

// maxTurnWait bounds how long a change waits for its turn. Past it the
// change goes ahead and races in the store as if there were no queue,
// which is safe (the store checks revisions): with Redis hung, every
// change queued on a journey would otherwise wait out the Redis timeouts
// of all the changes before it.
const maxTurnWait = 100 * time.Millisecond

// wait blocks until it is this change's turn on the journey at key, for at
// most maxTurnWait, or until ctx ends. done ends the turn (if it came) and
// must be called exactly once.
func (q *writeQueue) wait(ctx context.Context, key store.JourneyKey) (done func(), _ error) {
	q.mu.Lock()
	if q.turns == nil {
		q.turns = map[store.JourneyKey]*turn{}
	}
	t := q.turns[key]
	if t == nil {
		t = &turn{token: make(chan struct{}, 1)}
		q.turns[key] = t
	}
	t.refs++
	q.mu.Unlock()

	myTurn := func() {
		<-t.token
		q.leave(key, t)
	}
	select {
	case t.token <- struct{}{}:
		return myTurn, nil
	default:
	}
	wait := maxTurnWait
	if q.maxWait > 0 {
		wait = q.maxWait
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case t.token <- struct{}{}:
		return myTurn, nil
	case <-timer.C:
		return func() { q.leave(key, t) }, nil
	case <-ctx.Done():
		q.leave(key, t)
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

func (q *writeQueue) leave(key store.JourneyKey, t *turn) {
	q.mu.Lock()
	defer q.mu.Unlock()
	t.refs--
	if t.refs == 0 {
		delete(q.turns, key)
	}
}

// len is how many journeys have a change holding or waiting for its turn.
func (q *writeQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.turns)
}
