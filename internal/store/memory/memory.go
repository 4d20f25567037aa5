package memory

import (
	"context"
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

// Change log defaults, the same as the Redis store's: enough for a watcher
// that reconnects within the hour to catch up without a snapshot.
const (
	defaultLogEntries = 128
	defaultLogTTL     = time.Hour
)

var _ store.Store = (*Store)(nil)

// Store is the in-memory Store. Create it with New and stop its janitor
// with Close.
type Store struct {
	ttl        time.Duration
	ttlOf      store.TTLFunc
	logEntries int
	logTTL     time.Duration

	// One mutex for everything: every operation is a few map lookups, and
	// a single lock makes each create, update and redeem trivially atomic.
	mu        sync.Mutex
	customers map[string]*customer
	codes     map[string]codeEntry
	// attempts holds, per key, the recent attempts, oldest first.
	attempts   map[string][]attempt
	attemptSeq uint64
	// feeds are called under mu, which is what orders their changes.
	feeds map[*feed]struct{}
	// types holds every version of each journey type, oldest first.
	types map[string][]*handoffv1.JourneyType
	// ev keeps events and the reminder schedule; nil without WithEvents.
	ev  *eventLog
	ids identities
	// writes reports each write (WithWrites); insight keeps the counts,
	// by type and day.
	writes  *store.WriteOptions
	insight map[string]map[string]*insightDay

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
	// body has neither etag nor revision: both are set from the counters
	// below when the journey is read, so the stored copy can never carry
	// stale ones.
	body     *handoffv1.Journey
	etag     int64
	revision int64
	// listedAt is the create time the journey is listed by, fixed at
	// creation (as the Redis index is) and cut to microseconds (as the
	// Redis index and page tokens are) so cursors compare exactly.
	listedAt time.Time
	expires  time.Time
	timeline []*handoffv1.Touchpoint
	// log holds the last changes, oldest first, with consecutive revisions
	// ending at revision; it is void from logExpires on.
	log        []*handoffv1.JourneyChange
	logExpires time.Time
	// codes lists the handoff codes made for this journey within the code
	// lifetime, oldest first: a code opens the journey only while listed
	// here as working (see codes.go).
	codes []listedCode
	// What a save carrying an etag is checked against (docs/layout.md,
	// "Conflicts per answer"), as the Redis record keeps it: the etag at
	// which each answer (by leaf path) was last written, at which the step
	// last changed, and at which an answer was last removed (a removal
	// leaves no path behind to compare with).
	written     map[string]int64
	stepEtag    int64
	removedEtag int64
	// writtenBy is, per answer, the position in the timeline of the
	// touchpoint of the write that last changed it (docs/journeytypes.md,
	// "Who changed each answer"); 0 when that write had none.
	writtenBy map[string]int
	// insight is what insight counts from; nil on a journey written
	// before the store reported writes (as a Redis record without ech).
	insight *journeyInsight
	// remindedFor is the expiry the journey was last reminded of
	// (docs/reach.md): reminded again only once a touch moved it.
	remindedFor time.Time
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

// WithTypeTTL makes a journey of a type version whose ttl says so live
// that long after its last write instead of the store's TTL.
func WithTypeTTL(f store.TTLFunc) Option {
	return func(s *Store) { s.ttlOf = f }
}

// WithChangeLog sets how many of a journey's last changes are kept for
// ChangesSince, and for how long after its last change (defaults 128 and an
// hour). A value that is not positive keeps its default.
func WithChangeLog(entries int, ttl time.Duration) Option {
	return func(s *Store) {
		if entries > 0 {
			s.logEntries = entries
		}
		if ttl > 0 {
			s.logTTL = ttl
		}
	}
}

// New returns an empty Store and starts its janitor.
func New(opts ...Option) *Store {
	s := &Store{
		ttl:        store.DefaultTTL,
		logEntries: defaultLogEntries,
		logTTL:     defaultLogTTL,
		customers:  make(map[string]*customer),
		types:      make(map[string][]*handoffv1.JourneyType),
		codes:      make(map[string]codeEntry),
		attempts:   make(map[string][]attempt),
		feeds:      make(map[*feed]struct{}),
		ids:        newIdentities(),
		insight:    make(map[string]map[string]*insightDay),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
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
			switch {
			case !now.Before(e.expires):
				delete(c.journeys, j)
			case e.log != nil && !now.Before(e.logExpires):
				e.log = nil
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
	s.sweepIdentities(now)
	s.sweepInsight(now)
}

// out is what callers get: a copy of the body with the current etag and
// revision.
func (e *journeyEntry) out() *handoffv1.Journey {
	j := proto.CloneOf(e.body)
	j.Etag = strconv.FormatInt(e.etag, 10)
	j.Revision = e.revision
	j.AnswerProvenance = nil
	return j
}

// withProvenance is out plus, per answer, the touchpoint that last wrote it.
func (e *journeyEntry) withProvenance() *handoffv1.Journey {
	j := e.out()
	for path, pos := range e.writtenBy {
		if pos < 1 || pos > len(e.timeline) {
			continue
		}
		if j.AnswerProvenance == nil {
			j.AnswerProvenance = make(map[string]*handoffv1.AnswerProvenance, len(e.writtenBy))
		}
		j.AnswerProvenance[path] = proto.CloneOf(store.ProvenanceOf(e.timeline[pos-1]))
	}
	return j
}

// journeyTTL is how long the journey lives after a write.
func (s *Store) journeyTTL(j *handoffv1.Journey) time.Duration {
	if s.ttlOf != nil {
		if d := s.ttlOf(j.GetJourneyType(), j.GetJourneyTypeVersion()); d > 0 {
			return d
		}
	}
	return s.ttl
}
