package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// Options are what a subtest asks of its store; zero values mean the
// store's defaults.
type Options struct {
	// TTL is how long journeys live after their last write (default
	// store.DefaultTTL).
	TTL time.Duration
	// ChangeLogEntries is how many changes per journey the store's change
	// log keeps.
	ChangeLogEntries int
	// TypeTTL is the store's TTL per journey type version, when set.
	TypeTTL store.TTLFunc
	// Events, when set, turns the store's events on with these options
	// (docs/reach.md); the events cases set it.
	Events *store.EventOptions
	// Writes, when set, makes the store report its writes
	// (docs/insight.md); the insight cases set it.
	Writes *store.WriteOptions
}

// Factory returns a fresh, empty store configured by o. It registers
// whatever cleanup the store needs with t.
type Factory func(t *testing.T, o Options) store.Store

// Skip names a case a store does not run, by its subtest path under Run
// ("save", or "save/a_save_sets_its_answers_…"), and says why. A skip
// without a reason fails the case instead: every store passes the whole
// contract unless someone wrote down why not.
type Skip struct {
	Case   string
	Reason string
}

// Run runs the whole suite against the stores newStore builds, one fresh
// store per subtest, skipping the cases skips name.
func Run(t *testing.T, newStore Factory, skips ...Skip) {
	newStore = skipping(t.Name(), newStore, skips)
	t.Run("create", func(t *testing.T) { testCreate(t, newStore) })
	t.Run("missing", func(t *testing.T) { testMissing(t, newStore) })
	t.Run("update", func(t *testing.T) { testUpdate(t, newStore) })
	t.Run("save", func(t *testing.T) { testSave(t, newStore) })
	t.Run("save_refusals", func(t *testing.T) { testSaveRefusals(t, newStore) })
	t.Run("save_limits", func(t *testing.T) { testSaveLimits(t, newStore) })
	t.Run("save_conflicts", func(t *testing.T) { testSaveConflicts(t, newStore) })
	t.Run("revisions", func(t *testing.T) { testRevisions(t, newStore) })
	t.Run("concurrency", func(t *testing.T) { testConcurrency(t, newStore) })
	t.Run("changes_since", func(t *testing.T) { testChangesSince(t, newStore) })
	t.Run("feed", func(t *testing.T) { testFeed(t, newStore) })
	t.Run("deltas", func(t *testing.T) { testDeltas(t, newStore) })
	t.Run("list_journeys", func(t *testing.T) { testListJourneys(t, newStore) })
	t.Run("list_touchpoints", func(t *testing.T) { testListTouchpoints(t, newStore) })
	t.Run("expiry", func(t *testing.T) { testExpiry(t, newStore) })
	t.Run("handoff_codes", func(t *testing.T) { testHandoffCodes(t, newStore) })
	t.Run("attempts", func(t *testing.T) { testAttempts(t, newStore) })
	t.Run("erase", func(t *testing.T) { testErase(t, newStore) })
	t.Run("journey_types", func(t *testing.T) { testJourneyTypes(t, newStore) })
	t.Run("typed_saves", func(t *testing.T) { testTypedSaves(t, newStore) })
	t.Run("provenance", func(t *testing.T) { testProvenance(t, newStore) })
	t.Run("events", func(t *testing.T) { testEvents(t, newStore) })
	t.Run("identities", func(t *testing.T) { testIdentities(t, newStore) })
	t.Run("insight", func(t *testing.T) { testInsight(t, newStore) })
	t.Run("ping", func(t *testing.T) {
		require.NoError(t, newStore(t, Options{}).Ping(t.Context()))
	})
}

// skipping wraps newStore so that a case skips takes name is skipped
// before it gets a store. Every case starts by asking for its store, so
// this is the one place a skip needs to be looked at.
func skipping(root string, newStore Factory, skips []Skip) Factory {
	if len(skips) == 0 {
		return newStore
	}
	return func(t *testing.T, o Options) store.Store {
		t.Helper()
		name := strings.TrimPrefix(t.Name(), root+"/")
		for _, sk := range skips {
			if name != sk.Case && !strings.HasPrefix(name, sk.Case+"/") {
				continue
			}
			if strings.TrimSpace(sk.Reason) == "" {
				t.Fatalf("skip of %q states no reason", sk.Case)
			}
			t.Skip(sk.Reason)
		}
		return newStore(t, o)
	}
}

// now is a time as the service sets it: UTC, cut to microseconds, which is
// the precision every store keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func key(customer, journey string) store.JourneyKey {
	return store.JourneyKey{Customer: customer, Journey: journey}
}

// newJourney is an active journey created and last updated at at.
func newJourney(t *testing.T, k store.JourneyKey, at time.Time) *handoffv1.Journey {
	t.Helper()
	data, err := structpb.NewStruct(map[string]any{
		"n":       0,
		"vehicle": map[string]any{"plate": "AB-123", "year": 2019},
	})
	require.NoError(t, err)
	return &handoffv1.Journey{
		Name:        k.Name(),
		JourneyType: "car-insurance-quote",
		State:       handoffv1.JourneyState_JOURNEY_STATE_ACTIVE,
		Step:        "vehicle",
		Data:        data,
		Channel:     handoffv1.Channel_CHANNEL_WEB,
		CreateTime:  timestamppb.New(at),
		UpdateTime:  timestamppb.New(at),
	}
}

// newTouchpoint is a touch by the shop website. Its name is left unset: the
// store names touchpoints.
func newTouchpoint(kind handoffv1.TouchpointKind, step string, at time.Time) *handoffv1.Touchpoint {
	return &handoffv1.Touchpoint{
		Time:    timestamppb.New(at),
		Channel: handoffv1.Channel_CHANNEL_WEB,
		Actor:   &handoffv1.Actor{Id: "shop-website", Role: handoffv1.Role_ROLE_SERVICE},
		Kind:    kind,
		Step:    step,
	}
}

func started(j *handoffv1.Journey) *handoffv1.Touchpoint {
	return newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_STARTED, j.GetStep(), j.GetCreateTime().AsTime())
}

// create stores j with a STARTED touchpoint and no request id.
func create(t *testing.T, s store.Store, j *handoffv1.Journey) *handoffv1.Journey {
	t.Helper()
	got, created, err := s.CreateJourney(t.Context(), j, started(j), "")
	require.NoError(t, err)
	require.True(t, created, "create of a new journey must report created")
	return got
}

// update saves j, a change of content, over the revision and etag it
// carries, appending tps.
func update(t *testing.T, s store.Store, j *handoffv1.Journey, tps ...*handoffv1.Touchpoint) *handoffv1.Journey {
	t.Helper()
	got, err := s.UpdateJourney(t.Context(), store.Update{Journey: j, ContentChanged: true, Touchpoints: tps})
	require.NoError(t, err)
	return got
}

// touch saves j without a change of content (a claim, a handoff offer),
// appending tps.
func touch(t *testing.T, s store.Store, j *handoffv1.Journey, tps ...*handoffv1.Touchpoint) *handoffv1.Journey {
	t.Helper()
	got, err := s.UpdateJourney(t.Context(), store.Update{Journey: j, Touchpoints: tps})
	require.NoError(t, err)
	return got
}

// changesSince is ChangesSince that must succeed.
func changesSince(t *testing.T, s store.Store, k store.JourneyKey, after int64) ([]*handoffv1.JourneyChange, bool) {
	t.Helper()
	changes, complete, err := s.ChangesSince(t.Context(), k, after)
	require.NoError(t, err)
	return changes, complete
}

func get(t *testing.T, s store.Store, k store.JourneyKey) *handoffv1.Journey {
	t.Helper()
	got, err := s.GetJourney(t.Context(), k)
	require.NoError(t, err)
	return got
}

// timeline is the journey's whole timeline.
func timeline(t *testing.T, s store.Store, k store.JourneyKey) []*handoffv1.Touchpoint {
	t.Helper()
	tps, more, err := s.ListTouchpoints(t.Context(), k, 0, 10_000)
	require.NoError(t, err)
	require.False(t, more)
	return tps
}

// setData sets one answer of j.
func setData(t *testing.T, j *handoffv1.Journey, field string, v any) {
	t.Helper()
	value, err := structpb.NewValue(v)
	require.NoError(t, err)
	j.Data.Fields[field] = value
}

// saved is what the store must return after writing j: j with the etag it
// was given, the revision and expire_time = update_time + ttl.
func saved(j *handoffv1.Journey, etag string, revision int64, ttl time.Duration) *handoffv1.Journey {
	want := proto.CloneOf(j)
	want.Etag = etag
	want.Revision = revision
	want.ExpireTime = timestamppb.New(j.GetUpdateTime().AsTime().Add(ttl))
	return want
}

// named is tps as the store must keep them: copies named by their position
// in k's timeline, the first at position from.
func named(k store.JourneyKey, from int, tps ...*handoffv1.Touchpoint) []*handoffv1.Touchpoint {
	out := make([]*handoffv1.Touchpoint, len(tps))
	for i, tp := range tps {
		out[i] = proto.CloneOf(tp)
		out[i].Name = store.TouchpointName(k, from+i)
	}
	return out
}

// requireProtoEqual fails with both messages in text form, which reads far
// better than testify's dump of generated structs.
func requireProtoEqual(t *testing.T, want, got proto.Message, msgAndArgs ...any) {
	t.Helper()
	if !proto.Equal(want, got) {
		require.Failf(t, "messages differ", "want:\n%s\ngot:\n%s\n%s",
			prototext.Format(want), prototext.Format(got), messageFrom(msgAndArgs))
	}
}

func requireProtosEqual[M proto.Message](t *testing.T, want, got []M) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		requireProtoEqual(t, want[i], got[i], "at index %d", i)
	}
}

func messageFrom(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return ""
	}
	format, _ := msgAndArgs[0].(string)
	return fmt.Sprintf(format, msgAndArgs[1:]...)
}

// snapshot is what a caller can see of one journey.
type snapshot struct {
	journey  *handoffv1.Journey
	timeline []*handoffv1.Touchpoint
	changes  []*handoffv1.JourneyChange
}

func snap(t *testing.T, s store.Store, k store.JourneyKey) snapshot {
	t.Helper()
	changes, _ := changesSince(t, s, k, 0)
	return snapshot{journey: get(t, s, k), timeline: timeline(t, s, k), changes: changes}
}

// requireUnchanged fails unless the journey, its timeline and its change log
// are as before.
func requireUnchanged(t *testing.T, s store.Store, k store.JourneyKey, before snapshot) {
	t.Helper()
	requireProtoEqual(t, before.journey, get(t, s, k), "the journey changed")
	requireProtosEqual(t, before.timeline, timeline(t, s, k))
	changes, _ := changesSince(t, s, k, 0)
	requireProtosEqual(t, before.changes, changes)
}

// ids are the journey ids of a page.
func ids(t *testing.T, page []*handoffv1.Journey) []string {
	t.Helper()
	out := make([]string, 0, len(page))
	for _, j := range page {
		k, err := store.ParseJourneyName(j.GetName())
		require.NoError(t, err)
		out = append(out, k.Journey)
	}
	return out
}

// pagesOf splits ids into the pages a listing with limit must return; no
// journeys at all is one empty page.
func pagesOf(ids []string, limit int) [][]string {
	if len(ids) == 0 {
		return [][]string{{}}
	}
	return slices.Collect(slices.Chunk(ids, limit))
}
