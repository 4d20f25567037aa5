package watch

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// senders is the pool of goroutines that send watchers their changes. A
// change reaches thousands of watchers at once: a goroutine per watcher
// would wake once per watcher and change, and would each owe the garbage
// collector an assist for what grpc-go allocates per message, so that a
// collection starting during a fan-out did its whole mark inside it. A few
// senders serve the watchers with changes waiting, one at a time, in turn.
//
// A send can block (a client that stops reading fills its stream's window).
// A watchdog counts the senders that have been busy with one watcher for
// longer than stuckAfter and starts as many more, so that a slow client
// holds up one sender, never the others; the extra senders end when they
// find nothing to do.
type senders struct {
	base  int                         // senders kept while idle
	serve func(*watcher) (again bool) // sends what waits; again: more came meanwhile

	mu      sync.Mutex
	ready   sync.Cond
	queue   []*watcher // waiting for a sender, oldest first
	head    int        // queue[head:] waits
	running int        // senders started and not ended
	reading int        // senders waiting on the store (see blocking)
	closed  bool
	busy    []*sending // one per sender
	watched bool       // the watchdog runs
}

// sending says what a sender does: turns counts the watchers it took and
// finished (odd: it is sending), and seen is what the watchdog read at its
// last tick, so that a sender still on the same turn has been at it for a
// whole tick.
type sending struct {
	turns atomic.Uint64
	seen  uint64 // the watchdog's, under senders.mu
}

// stuckAfter is how long a sender may spend on one watcher before the
// watchdog stops counting on it (between one and two of them).
const stuckAfter = 5 * time.Millisecond

func newSenders(serve func(*watcher) bool) *senders {
	s := &senders{base: 2 * runtime.GOMAXPROCS(0), serve: serve}
	s.ready.L = &s.mu
	return s
}

// schedule queues watchers for a sender. The caller has marked each queued
// (watcher.queued): a watcher is in the queue, or with a sender, once.
func (s *senders) schedule(ws ...*watcher) {
	if len(ws) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.queue = append(s.queue, ws...)
	for s.running < s.base {
		s.start()
	}
	if !s.watched {
		s.watched = true
		go s.watchdog()
	}
	if len(ws) == 1 {
		s.ready.Signal()
	} else {
		s.ready.Broadcast()
	}
}

// start starts a sender; s.mu is held.
func (s *senders) start() {
	s.running++
	busy := &sending{}
	s.busy = append(s.busy, busy)
	go s.run(busy, s.running > s.base)
}

func (s *senders) run(busy *sending, extra bool) {
	defer func() {
		s.mu.Lock()
		s.running--
		for i, b := range s.busy {
			if b == busy {
				s.busy = append(s.busy[:i], s.busy[i+1:]...)
				break
			}
		}
		s.mu.Unlock()
	}()
	for {
		s.mu.Lock()
		for s.head == len(s.queue) && !s.closed && !extra {
			s.ready.Wait()
		}
		if s.closed || s.head == len(s.queue) {
			s.mu.Unlock()
			return
		}
		w := s.queue[s.head]
		s.queue[s.head] = nil
		s.head++
		switch {
		case s.head == len(s.queue):
			s.queue, s.head = s.queue[:0], 0
		case s.head > 1024 && 2*s.head > len(s.queue):
			// A queue that never empties would otherwise only grow.
			n := copy(s.queue, s.queue[s.head:])
			clear(s.queue[n:])
			s.queue, s.head = s.queue[:n], 0
		}
		s.mu.Unlock()

		busy.turns.Add(1)
		again := s.serve(w)
		busy.turns.Add(1)
		if again {
			// To the back of the queue: a watcher whose journey changes
			// all the time takes its turn with the others.
			s.schedule(w)
		}
	}
}

// watchdog starts a sender for each that is stuck while watchers wait. It
// runs while there is work, and schedule starts it again.
func (s *senders) watchdog() {
	tick := time.NewTicker(stuckAfter)
	defer tick.Stop()
	for range tick.C {
		s.mu.Lock()
		stuck, busy := 0, 0
		for _, b := range s.busy {
			turns := b.turns.Load()
			if turns%2 == 1 {
				busy++
				if turns == b.seen {
					stuck++
				}
			}
			b.seen = turns
		}
		waiting := s.head < len(s.queue)
		if s.closed || (!waiting && busy == 0) {
			s.watched = false
			s.mu.Unlock()
			return
		}
		for waiting && s.running-stuck < s.base {
			s.start()
		}
		s.mu.Unlock()
	}
}

// maxReading bounds the senders reading the store at once (see blocking):
// a reconnecting crowd's catch-ups wait for the store's connections anyway.
const maxReading = 256

// blocking tells the senders that the calling sender is about to wait on
// the store (a catch-up): while it does, another sender takes the queue,
// as the runtime hands a P on when a goroutine enters a system call, so
// that a crowd of new watches reads its snapshots side by side, not a few
// at a time. done says the wait is over.
func (s *senders) blocking() (done func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reading >= maxReading {
		return func() {}
	}
	s.reading++
	if s.head < len(s.queue) && !s.closed {
		s.start()
	}
	return func() {
		s.mu.Lock()
		s.reading--
		s.mu.Unlock()
	}
}

// close ends the senders once they finish what they are sending.
func (s *senders) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.ready.Broadcast()
}
