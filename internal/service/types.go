package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/journeytype"
	"github.com/journeyhandoff/handoff/internal/store"
)

// Types keeps this instance's compiled journey types in step with the
// store, where every instance's types live (docs/journeytypes.md).
// Versions never change once stored, so each is fetched and compiled once.
type Types struct {
	mu       sync.RWMutex
	st       store.JourneyTypes
	log      *slog.Logger
	latest   map[string]*journeytype.Type
	versions map[typeVersion]*journeytype.Type
	// journeys remembers each journey's type version: a save does not
	// read the journey first, and a journey's version never changes.
	journeys *lru.Cache[string, typeVersion]
}

// typeVersion names one version of a type; version 0 is no declared type.
type typeVersion struct {
	id      string
	version int64
}

// rememberedJourneys bounds Types.journeys: a journey not remembered costs
// its first save here one more round trip.
const rememberedJourneys = 100_000

// NewTypes returns an empty Types; Service.New gives it its store. It
// exists before the store so the store can ask it for TTLs (TTL).
func NewTypes() *Types {
	journeys, _ := lru.New[string, typeVersion](rememberedJourneys) // errs only on a size < 1
	return &Types{
		latest:   make(map[string]*journeytype.Type),
		versions: make(map[typeVersion]*journeytype.Type),
		journeys: journeys,
		log:      slog.New(slog.DiscardHandler),
	}
}

// TTL is a type version's ttl, 0 when it sets none or is not known here
// (the service loads every version it writes before it writes):
// a store.TTLFunc.
func (t *Types) TTL(id string, version int64) time.Duration {
	if version == 0 {
		return 0
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if tp := t.versions[typeVersion{id, version}]; tp != nil {
		return tp.TTL()
	}
	return 0
}

// RemindBefore is a type version's remind_before (docs/reach.md), else
// fallback (--remind-before): a store.EventOptions.RemindBefore once
// bound to it. A fallback not shorter than the type's own ttl does not
// apply to it (0: no reminders), or its journeys would be due for one
// as soon as they are written (config checks the fallback against
// --journey-ttl only). Like TTL it knows only the versions loaded here; a
// worker that may meet others loads them first (Version).
func (t *Types) RemindBefore(id string, version int64, fallback time.Duration) time.Duration {
	if version == 0 {
		return fallback
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if tp := t.versions[typeVersion{id, version}]; tp != nil {
		if d, ok := tp.RemindBefore(); ok {
			return d
		}
		if ttl := tp.TTL(); ttl > 0 && fallback >= ttl {
			return 0
		}
	}
	return fallback
}

// Steps are a type version's step ids in order, nil when it is not
// known here (Types.TTL): a store.WriteOptions.Steps.
func (t *Types) Steps(id string, version int64) []string {
	if version == 0 {
		return nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if tp := t.versions[typeVersion{id, version}]; tp != nil {
		return tp.StepIDs()
	}
	return nil
}

// Latest is the latest version of the type, or nil when it is not
// declared (as far as this instance knows; see Refresh).
func (t *Types) Latest(id string) *journeytype.Type {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.latest[id]
}

// Version is a version of a type, fetched and compiled on first use; nil
// for version 0. A version that does not compile (stored by a newer
// handoffd with rules this one does not know) is an error.
func (t *Types) Version(ctx context.Context, id string, version int64) (*journeytype.Type, error) {
	if version == 0 {
		return nil, nil
	}
	key := typeVersion{id, version}
	t.mu.RLock()
	tp := t.versions[key]
	t.mu.RUnlock()
	if tp != nil {
		return tp, nil
	}
	def, err := t.st.JourneyType(ctx, id, version)
	if err != nil {
		return nil, err
	}
	if tp, err = journeytype.Compile(def); err != nil {
		return nil, fmt.Errorf("journey type %s version %d as stored: %w", id, version, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.versions[key] = tp
	if cur := t.latest[id]; cur == nil || cur.Version() < version {
		t.latest[id] = tp
	}
	return tp, nil
}

// Refresh reads which versions are the latest and loads those it lacks.
func (t *Types) Refresh(ctx context.Context) error {
	latest, err := t.st.LatestJourneyTypes(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for id, v := range latest {
		if _, err := t.Version(ctx, id, v); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// KeepRefreshing refreshes every interval until ctx ends, so a version
// another instance stored reaches this one's creates.
func (t *Types) KeepRefreshing(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := t.Refresh(ctx); err != nil && ctx.Err() == nil {
				t.log.Warn("cannot refresh the journey types; keeping those known", "error", err)
			}
		}
	}
}

// Put stores def (checked first) as its type's next version unless it
// declares what the latest does, and makes it this instance's latest.
func (t *Types) Put(ctx context.Context, def *handoffv1.JourneyType, put store.TypePut) (*journeytype.Type, bool, error) {
	if _, err := journeytype.Compile(def); err != nil {
		return nil, false, err
	}
	put.Same = journeytype.SameDefinition
	stored, added, err := t.st.PutJourneyType(ctx, def, put)
	if err != nil {
		return nil, false, err
	}
	tp, err := t.Version(ctx, strings.TrimPrefix(stored.GetName(), journeytype.NamePrefix), stored.GetVersion())
	return tp, added, err
}

// PutAll stores each definition (see Put). defs come checked as a whole
// (journeytype.LoadDir refuses a directory with any invalid file), so a
// directory loads whole or not at all as far as checking can tell; a
// store that fails half-way leaves the earlier ones stored, each a valid
// version.
func (t *Types) PutAll(ctx context.Context, defs []*handoffv1.JourneyType, now time.Time) (added []string, _ error) {
	for _, def := range defs {
		tp, isNew, err := t.Put(ctx, def, store.TypePut{Now: now})
		if err != nil {
			return added, err
		}
		if isNew {
			added = append(added, fmt.Sprintf("%s@%d", tp.ID(), tp.Version()))
		}
	}
	return added, nil
}

// ofJourney is the type version a journey was created with, loaded.
func (t *Types) ofJourney(ctx context.Context, j *handoffv1.Journey) (*journeytype.Type, error) {
	tp, err := t.Version(ctx, j.GetJourneyType(), j.GetJourneyTypeVersion())
	if err == nil {
		t.remember(j.GetName(), j.GetJourneyType(), j.GetJourneyTypeVersion())
	}
	return tp, err
}

// remember notes a journey's type version. A journey of no declared type
// (version 0, whatever type it names) is forgotten instead: a save checks
// nothing against version 0, so not remembering it says the same (see
// expected), and remembering it filled the cache with every journey an
// instance read, up to 100,000 of them (docs/benchmarks.md, Soak).
func (t *Types) remember(journey, id string, version int64) {
	if version == 0 {
		t.journeys.Remove(journey)
		return
	}
	t.journeys.Add(journey, typeVersion{id, version})
}

// expected is the type version a save of the journey is checked against
// before the store confirms it: the one remembered, else none. Not a
// guess from the type the request names: a journey created before its
// type was declared has none, and checking it against the type would
// refuse what it may hold. A wrong "none" costs one more round trip.
func (t *Types) expected(journey string) typeVersion {
	tv, _ := t.journeys.Get(journey)
	return tv
}
