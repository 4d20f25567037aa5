package memory

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// requestTTL is how long a create's request id is remembered, as in Redis:
// long enough for any client retry, short enough not to grow without bound.
const requestTTL = 24 * time.Hour

// Janitor bounds: reads already ignore expired entries, so sweeping only
// decides how long dead entries hold memory. Half the TTL keeps that in
// proportion; the bounds keep a tiny TTL from spinning and a long one from
// leaving garbage for days.
const (
	minSweepInterval = 10 * time.Millisecond
	maxSweepInterval = time.Minute
)

var _ store.Store = (*Store)(nil)

// Store is the in-memory Store. Create it with New and stop its janitor
// with Close.
type Store struct {
	ttl time.Duration

	// One mutex for everything: every operation is a few map lookups, and
	// a single lock makes each create, update and redeem trivially atomic.
	mu        sync.Mutex
	customers map[string]*customer
	codes     map[string]codeEntry

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// customer holds all data of one customer, like one Redis hash tag.
type customer struct {
	journeys map[string]*journeyEntry
	requests map[string]requestEntry
}

type journeyEntry struct {
	// body has no etag: the etag is derived from rev when the journey is
	// read, so the stored copy can never carry a stale one.
	body *handoffv1.Journey
	rev  uint64
	// listedAt is the create time the journey is listed by, fixed at
	// creation (as the Redis index is) and cut to microseconds (as the
	// Redis index and page tokens are) so cursors compare exactly.
	listedAt time.Time
	expires  time.Time
	timeline []*handoffv1.Touchpoint
}

type requestEntry struct {
	journey string
	expires time.Time
}

type codeEntry struct {
	key     store.JourneyKey
	expires time.Time
}

// Option configures a Store.
type Option func(*Store)

// WithTTL sets how long a journey and its timeline live after their last
// write. Zero or less keeps store.DefaultTTL.
func WithTTL(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.ttl = d
		}
	}
}

// New returns an empty Store and starts its janitor.
func New(opts ...Option) *Store {
	s := &Store{
		ttl:       store.DefaultTTL,
		customers: make(map[string]*customer),
		codes:     make(map[string]codeEntry),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	for _, opt := range opts {
		opt(s)
	}
	go s.janitor(min(max(s.ttl/2, minSweepInterval), maxSweepInterval))
	return s
}

// Ping always answers: there is nothing to reach.
func (s *Store) Ping(context.Context) error { return nil }

// Close stops the janitor. It is safe to call more than once; the data stays
// readable, since callers may still be finishing requests during shutdown.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
	})
	return nil
}

func (s *Store) janitor(every time.Duration) {
	defer close(s.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-tick.C:
			s.sweep(now)
		}
	}
}

// sweep frees everything that expired by now.
func (s *Store) sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, c := range s.customers {
		for j, e := range c.journeys {
			if !now.Before(e.expires) {
				delete(c.journeys, j)
			}
		}
		for r, e := range c.requests {
			if !now.Before(e.expires) {
				delete(c.requests, r)
			}
		}
		if len(c.journeys) == 0 && len(c.requests) == 0 {
			delete(s.customers, id)
		}
	}
	for code, e := range s.codes {
		if !now.Before(e.expires) {
			delete(s.codes, code)
		}
	}
}

// CreateHandoffCode stores code for key until expireTime.
func (s *Store) CreateHandoffCode(_ context.Context, code string, key store.JourneyKey, expireTime time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.codes[code]; ok && time.Now().Before(e.expires) {
		return fmt.Errorf("handoff code: %w", store.ErrAlreadyExists)
	}
	s.codes[code] = codeEntry{key: key, expires: expireTime}
	return nil
}

// RedeemHandoffCode removes the code and returns its journey; the lock makes
// exactly one of any concurrent redeemers find it.
func (s *Store) RedeemHandoffCode(_ context.Context, code string) (store.JourneyKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.codes[code]
	delete(s.codes, code)
	if !ok || !time.Now().Before(e.expires) {
		return store.JourneyKey{}, fmt.Errorf("handoff code: %w", store.ErrNotFound)
	}
	return e.key, nil
}

// DeleteHandoffCode removes the code; a missing code is not an error, since
// the caller only wants it gone.
func (s *Store) DeleteHandoffCode(_ context.Context, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.codes, code)
	return nil
}

// out is what callers get: a copy of the body with the current etag.
func (e *journeyEntry) out() *handoffv1.Journey {
	j := proto.CloneOf(e.body)
	j.Etag = strconv.FormatUint(e.rev, 10)
	return j
}
