package app_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// These tests break the real Redis under the running service (kill -9,
// SIGSTOP, a spoiled network through toxiproxy) while writers save, and
// then check what the service promises: acknowledged saves survive as far
// as Redis's persistence allows, calls fail fast instead of hanging, the
// service heals by itself, and no save is ever half applied.

// saveID names one save call of the fault tests: writer w's n-th attempt.
// It sets the step to "w<w>-n<n>" and the answer "w<w>n<n>" to n, so both
// the timeline (a PROGRESS_SAVED touchpoint carries the step after its
// save) and the answers say which calls landed.
type saveID struct{ writer, n int }

func (s saveID) step() string   { return fmt.Sprintf("w%d-n%d", s.writer, s.n) }
func (s saveID) answer() string { return fmt.Sprintf("w%dn%d", s.writer, s.n) }

func parseStep(step string) (saveID, bool) {
	var s saveID
	_, err := fmt.Sscanf(step, "w%d-n%d", &s.writer, &s.n)
	return s, err == nil && s.step() == step
}

func parseAnswer(key string) (saveID, bool) {
	var s saveID
	_, err := fmt.Sscanf(key, "w%dn%d", &s.writer, &s.n)
	return s, err == nil && s.answer() == key
}

// outcome is what one save call returned.
type outcome struct {
	id           saveID
	journey      string
	withEtag     bool // the save sent the etag its writer had just read
	began, ended time.Time
	code         codes.Code
	revision     int64 // the saved journey's, when code is OK
}

func (o outcome) took() time.Duration { return o.ended.Sub(o.began) }

// saveLoad is a set of writers saving to a set of journeys until stopped,
// recording every call's outcome.
type saveLoad struct {
	h        *harness
	maxAcked int // per writer, so a journey stays under --max-data-keys
	stopping chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup

	mu       sync.Mutex
	outcomes []outcome
	acked    map[int]int // writer → acknowledged saves
}

// startLoad runs perJourney writers on each journey, each saving as fast
// as answers come and waiting 10 ms after a failure, as a website's retry
// would. Writers save with no etag (the service retries its own lost
// races), except that with etags every second writer of a journey reads the
// etag first and sends it, the way an agent's screen saves.
func startLoad(t *testing.T, h *harness, journeys []string, perJourney, maxAcked int, etags bool) *saveLoad {
	l := &saveLoad{h: h, maxAcked: maxAcked, stopping: make(chan struct{}), acked: map[int]int{}}
	ctx := as(t, websiteToken)
	for i, name := range journeys {
		for k := range perJourney {
			w := i*perJourney + k
			l.wg.Go(func() { l.write(ctx, w, name, etags && k%2 == 1) })
		}
	}
	t.Cleanup(l.stop) // a failed test must not leave writers running
	return l
}

func (l *saveLoad) write(ctx context.Context, w int, name string, withEtag bool) {
	for n := 0; ; n++ {
		select {
		case <-l.stopping:
			return
		default:
		}
		l.mu.Lock()
		done := l.acked[w] >= l.maxAcked
		l.mu.Unlock()
		if done {
			return
		}
		var o outcome
		if withEtag {
			o = saveAtCurrentEtag(ctx, l.h, name, saveID{w, n})
		} else {
			o = saveOnce(ctx, l.h, name, saveID{w, n})
		}
		l.mu.Lock()
		l.outcomes = append(l.outcomes, o)
		if o.code == codes.OK {
			l.acked[w]++
		}
		l.mu.Unlock()
		if o.code != codes.OK {
			select {
			case <-l.stopping:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

// saveOnce makes the save id names on journey name, with no etag.
func saveOnce(ctx context.Context, h *harness, name string, id saveID) outcome {
	return saveWithEtag(ctx, h, name, id, "")
}

// saveAtCurrentEtag reads the journey and makes the save id names with the
// etag it read. A failed read is the save's outcome: it was never sent.
func saveAtCurrentEtag(ctx context.Context, h *harness, name string, id saveID) outcome {
	began := time.Now()
	cur, err := h.api.GetJourney(ctx, &handoffv1.GetJourneyRequest{Name: name})
	if err != nil {
		return outcome{id: id, journey: name, withEtag: true, began: began, ended: time.Now(), code: status.Code(err)}
	}
	return saveWithEtag(ctx, h, name, id, cur.GetEtag())
}

func saveWithEtag(ctx context.Context, h *harness, name string, id saveID, etag string) outcome {
	o := outcome{id: id, journey: name, withEtag: etag != "", began: time.Now()}
	got, err := h.api.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{
		Journey: &handoffv1.Journey{
			Name: name, Step: id.step(), Etag: etag,
			Data: &structpb.Struct{Fields: map[string]*structpb.Value{id.answer(): structpb.NewNumberValue(float64(id.n))}},
		},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"step", "data." + id.answer()}},
	})
	o.ended = time.Now()
	o.code = status.Code(err)
	o.revision = got.GetRevision()
	return o
}

// stop ends every writer and waits for them.
func (l *saveLoad) stop() {
	l.stopOnce.Do(func() { close(l.stopping) })
	l.wg.Wait()
}

// snapshot is every outcome recorded so far.
func (l *saveLoad) snapshot() []outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.outcomes)
}

// countOutcomes is how many of seen match.
func countOutcomes(seen []outcome, match func(outcome) bool) int {
	n := 0
	for _, o := range seen {
		if match(o) {
			n++
		}
	}
	return n
}

// waitUntil fails the test unless cond holds within limit; what says what
// was awaited.
func (l *saveLoad) waitUntil(t *testing.T, limit time.Duration, what string, cond func([]outcome) bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond(l.snapshot()) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// everyWriterSavedSince says whether each of writers writers has an
// acknowledged save that began after since.
func everyWriterSavedSince(writers int, since time.Time) func([]outcome) bool {
	return func(seen []outcome) bool {
		ok := map[int]bool{}
		for _, o := range seen {
			if o.code == codes.OK && o.began.After(since) {
				ok[o.id.writer] = true
			}
		}
		return len(ok) == writers
	}
}

// createJourneys starts n journeys of c-42 with no answers.
func createJourneys(t *testing.T, h *harness, n int) []string {
	t.Helper()
	var names []string
	for range n {
		j, err := h.api.CreateJourney(as(t, websiteToken), &handoffv1.CreateJourneyRequest{
			Parent:  "customers/c-42",
			Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote", Step: "start"},
		})
		require.NoError(t, err)
		names = append(names, j.GetName())
	}
	return names
}

// readConsistently reads a journey and its whole timeline as of one
// revision: a save that failed on the client's side may still land a
// moment later (its script was already on its way to Redis), so the reads
// are repeated until the revision holds still across them. The website
// reads, so no VIEWED touchpoint is added.
func readConsistently(t *testing.T, h *harness, name string) (*handoffv1.Journey, []*handoffv1.Touchpoint) {
	t.Helper()
	ctx := as(t, websiteToken)
	for range 20 {
		before, err := h.api.GetJourney(ctx, &handoffv1.GetJourneyRequest{Name: name})
		require.NoError(t, err)
		tps := websiteTimeline(t, h, name)
		after, err := h.api.GetJourney(ctx, &handoffv1.GetJourneyRequest{Name: name})
		require.NoError(t, err)
		if before.GetRevision() == after.GetRevision() {
			return after, tps
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s kept changing after its writers stopped", name)
	return nil, nil
}

// requireNoHalfAppliedSave checks a journey the fault tests wrote against
// what one update script (state, timeline and change log written together)
// guarantees however Redis or the network failed:
//
//   - the revision counts the timeline: STARTED, then one PROGRESS_SAVED
//     per applied save, nothing else;
//   - no call was applied twice;
//   - an answer is in the state if and only if its save's touchpoint is in
//     the timeline, and the step is the last touchpoint's;
//   - every acknowledged save still there sits at the revision its call
//     returned.
//
// It returns the acknowledged saves that are not there (lost by Redis).
func requireNoHalfAppliedSave(t *testing.T, h *harness, name string, outcomes []outcome) (lost []outcome) {
	t.Helper()
	j, tps := readConsistently(t, h, name)
	require.NotEmpty(t, tps)
	require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_STARTED, tps[0].GetKind())
	require.Equal(t, int64(len(tps)), j.GetRevision(), "%s: every revision is one timeline entry", name)

	calls := map[saveID]outcome{}
	for _, o := range outcomes {
		if o.journey == name {
			calls[o.id] = o
		}
	}
	applied := map[saveID][]int64{} // save → the revisions it was applied at
	for i, tp := range tps[1:] {
		require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, tp.GetKind(), "%s: touchpoint %d", name, i+2)
		id, ok := parseStep(tp.GetStep())
		require.True(t, ok, "%s: touchpoint %d has step %q, which no save wrote", name, i+2, tp.GetStep())
		applied[id] = append(applied[id], int64(i+2))
	}
	var twice []string
	for id, revs := range applied {
		if len(revs) > 1 {
			o := calls[id]
			twice = append(twice, fmt.Sprintf("%s at revisions %v (the call answered %s after %s)", id.step(), revs, o.code, o.took().Round(time.Millisecond)))
		}
	}
	slices.Sort(twice)
	// Not fatal: the checks below still hold for such a journey, and say
	// more.
	assert.Empty(t, twice, "%s: one save call applied more than once (%d of %d applied saves)", name, len(twice), len(applied))

	answers := j.GetData().AsMap()
	for key, v := range answers {
		id, ok := parseAnswer(key)
		require.True(t, ok, "%s: answer %q, which no save wrote", name, key)
		require.Contains(t, applied, id, "%s: answer %s is in the state but its save is not in the timeline", name, key)
		require.Equal(t, float64(id.n), v, "%s: answer %s", name, key)
	}
	for id := range applied {
		require.Contains(t, answers, id.answer(), "%s: save %s is in the timeline but its answer is not in the state", name, id.step())
	}
	if len(tps) > 1 {
		require.Equal(t, tps[len(tps)-1].GetStep(), j.GetStep(), "%s: the step is the last save's", name)
	}

	for _, o := range calls {
		if revs, ok := applied[o.id]; ok && o.code == codes.Aborted {
			// AIP-154, as the README promises: a stale etag changes nothing.
			t.Errorf("%s: save %s answered ABORTED after %s but was applied at revision %v", name, o.id.step(), o.took().Round(time.Millisecond), revs)
		}
		if o.code != codes.OK {
			continue
		}
		if _, ok := applied[o.id]; !ok {
			lost = append(lost, o)
			continue
		}
		// A save's reply is the journey as that save left it, or, when the
		// reply was lost and go-redis retried the script, as it is when
		// the retry found the save done: at or after the save's revision.
		revs := applied[o.id]
		require.LessOrEqual(t, revs[0], o.revision, "%s: save %s was acknowledged with a journey from before it", name, o.id.step())
		require.GreaterOrEqual(t, j.GetRevision(), o.revision, name)
	}
	return lost
}

// TestEverySaveAcknowledgedBeforeRedisDiedIsThereAfterwards kills Redis
// (SIGKILL, nothing flushed) under a save load and starts it again on the
// same append-only file. With appendfsync always nothing acknowledged may
// be lost; with everysec the loss is Redis's documented trade-off, so it is
// counted, not judged. Either way calls fail fast while Redis is down, the
// same handoffd heals by itself, and no save is half applied.
func TestEverySaveAcknowledgedBeforeRedisDiedIsThereAfterwards(t *testing.T) {
	const (
		journeys, perJourney = 4, 2
		writers              = journeys * perJourney
		// Well under the configured timeouts: a call to a dead Redis
		// meets a refused connection at once.
		failFast = 2 * time.Second
		// Generous for a loaded CI machine; the pool redials on demand.
		recoverWithin = 10 * time.Second
	)
	for _, tc := range []struct {
		fsync     string
		lossIsBug bool
	}{
		{fsync: "always", lossIsBug: true},
		{fsync: "everysec", lossIsBug: false},
	} {
		t.Run("appendfsync_"+tc.fsync, func(t *testing.T) {
			r := testutil.StartRedis(t, "--appendonly", "yes", "--appendfsync", tc.fsync)
			h := start(t, storeKind(r.URL()))
			names := createJourneys(t, h, journeys)
			l := startLoad(t, h, names, perJourney, 250, false)

			// Kill only once the load is really running.
			l.waitUntil(t, 20*time.Second, "160 saves acknowledged before the crash", func(seen []outcome) bool {
				return countOutcomes(seen, func(o outcome) bool { return o.code == codes.OK }) >= 160
			})
			killedAt := time.Now()
			r.Kill()
			l.waitUntil(t, 10*time.Second, "40 calls failed while Redis was down", func(seen []outcome) bool {
				return countOutcomes(seen, func(o outcome) bool { return o.code != codes.OK && o.began.After(killedAt) }) >= 40
			})
			r.Start()
			restartedAt := time.Now()
			l.waitUntil(t, recoverWithin, "every writer saved again after the restart", everyWriterSavedSince(writers, restartedAt))
			recovered := time.Since(restartedAt)
			l.stop()
			outcomes := l.snapshot()

			t.Run("calls_while_redis_is_down_fail_fast_with_unavailable", func(t *testing.T) {
				failed, slowest := 0, time.Duration(0)
				for _, o := range outcomes {
					if o.code == codes.OK {
						continue
					}
					failed++
					slowest = max(slowest, o.took())
					require.Equal(t, codes.Unavailable, o.code, "save %s", o.id.step())
					require.Less(t, o.took(), failFast, "save %s", o.id.step())
					require.True(t, o.ended.After(killedAt), "save %s failed before Redis died", o.id.step())
				}
				t.Logf("%d calls failed while Redis was down, the slowest in %s", failed, slowest.Round(time.Millisecond))
			})
			t.Run("the_same_handoffd_works_again_once_redis_is_back", func(t *testing.T) {
				// waitUntil above already required it; this reports how fast.
				t.Logf("every writer saved again %s after Redis answered", recovered.Round(time.Millisecond))
				_, err := h.api.GetJourney(as(t, websiteToken), &handoffv1.GetJourneyRequest{Name: names[0]})
				require.NoError(t, err)
			})
			t.Run("no_save_is_half_applied_and_acknowledged_ones_survive", func(t *testing.T) {
				var lost []outcome
				for _, name := range names {
					lostHere := requireNoHalfAppliedSave(t, h, name, outcomes)
					// Redis loses a tail of its writes, never one in the
					// middle: every surviving save acknowledged before the
					// crash came before every lost one.
					for _, kept := range outcomes {
						if kept.journey != name || kept.code != codes.OK || !kept.ended.Before(killedAt) || slices.ContainsFunc(lostHere, func(o outcome) bool { return o.id == kept.id }) {
							continue
						}
						for _, gone := range lostHere {
							require.Less(t, kept.revision, gone.revision, "%s: save %s survived but the earlier %s did not", name, kept.id.step(), gone.id.step())
						}
					}
					lost = append(lost, lostHere...)
				}
				acked := 0
				for _, o := range outcomes {
					if o.code == codes.OK {
						acked++
					}
				}
				t.Logf("appendfsync %s: %d of %d acknowledged saves lost to kill -9 (%d calls in all)", tc.fsync, len(lost), acked, len(outcomes))
				if tc.lossIsBug {
					for _, o := range lost {
						t.Errorf("save %s on %s was acknowledged at revision %d but is gone", o.id.step(), o.journey, o.revision)
					}
				}
			})
		})
	}
}

// TestCallsToAHungRedisEndWithinTheRedisTimeouts freezes Redis (SIGSTOP:
// connections stay open, nothing answers) under 200 concurrent calls. The
// Redis URL's timeouts bound every call; handoffd has no deadline of its
// own, so a client's deadline is the only other bound.
func TestCallsToAHungRedisEndWithinTheRedisTimeouts(t *testing.T) {
	const (
		calls = 200
		// What the URL below configures for dialling, reading, writing
		// and waiting for a pooled connection.
		redisTimeout = 500 * time.Millisecond
		// A Redis command is tried twice (max_retries=1); each try may wait
		// for a connection, dial one, and read its handshake and its
		// reply. Twice that leaves room for a loaded CI machine.
		bound = 2 * 2 * 4 * redisTimeout
		// A client's own deadline on some of the calls: the client gives
		// up then whatever the server does, so these calls show that a
		// handler whose caller left does not linger (see the goroutines).
		clientDeadline = 300 * time.Millisecond
	)
	r := testutil.StartRedis(t)
	h := start(t, storeKind(fmt.Sprintf("%s?dial_timeout=%s&read_timeout=%s&write_timeout=%s&pool_timeout=%s",
		r.URL(), redisTimeout, redisTimeout, redisTimeout, redisTimeout)))
	names := createJourneys(t, h, 8)
	ctx := as(t, websiteToken)
	for i, name := range names { // warm the pool and the connection
		require.Equal(t, codes.OK, saveOnce(ctx, h, name, saveID{i, 0}).code)
	}
	time.Sleep(200 * time.Millisecond) // let start-up goroutines settle
	before := runtime.NumGoroutine()

	r.Pause()
	type result struct {
		kind string
		outcome
	}
	results := make(chan result, calls)
	var wg sync.WaitGroup
	for i := range calls {
		name := names[i%len(names)]
		id := saveID{i % len(names), 1 + i/len(names)}
		wg.Go(func() {
			switch i % 4 {
			case 0, 1:
				results <- result{"save", saveOnce(ctx, h, name, id)}
			case 2:
				dctx, cancel := context.WithTimeout(ctx, clientDeadline)
				defer cancel()
				results <- result{"save_with_deadline", saveOnce(dctx, h, name, id)}
			case 3:
				o := outcome{journey: name, began: time.Now()}
				_, err := h.api.GetJourney(ctx, &handoffv1.GetJourneyRequest{Name: name})
				o.ended, o.code = time.Now(), status.Code(err)
				results <- result{"get", o}
			}
		})
	}
	// Sample the goroutines while the calls hang.
	during := 0
	ended := make(chan struct{})
	go func() { wg.Wait(); close(ended) }()
	for waiting := true; waiting; {
		during = max(during, runtime.NumGoroutine())
		select {
		case <-ended:
			waiting = false
		case <-time.After(10 * time.Millisecond):
		}
	}
	close(results)

	t.Run("every_call_ends_with_unavailable_or_deadline_exceeded_in_time", func(t *testing.T) {
		slowest := map[string]time.Duration{}
		codesSeen := map[string]map[codes.Code]int{}
		for res := range results {
			if codesSeen[res.kind] == nil {
				codesSeen[res.kind] = map[codes.Code]int{}
			}
			codesSeen[res.kind][res.code]++
			slowest[res.kind] = max(slowest[res.kind], res.took())
			require.Contains(t, []codes.Code{codes.Unavailable, codes.DeadlineExceeded}, res.code, "%s", res.kind)
			require.Less(t, res.took(), bound, "%s", res.kind)
		}
		for kind, seen := range codesSeen {
			t.Logf("%s: %v, the slowest in %s", kind, seen, slowest[kind].Round(time.Millisecond))
		}
		// Without a client deadline only the Redis timeouts end a call.
		require.Equal(t, calls/2, codesSeen["save"][codes.Unavailable])
		require.Equal(t, calls/4, codesSeen["get"][codes.Unavailable])
	})
	t.Run("goroutines_do_not_pile_up", func(t *testing.T) {
		// While the calls hang, each holds a handful (client, stream,
		// handler); afterwards they are all gone again, though Redis
		// still hangs.
		t.Logf("goroutines: %d before, at most %d during %d hanging calls", before, during, calls)
		require.Less(t, during, before+4*calls)
		deadline := time.Now().Add(10 * time.Second)
		after := runtime.NumGoroutine()
		for after > before+20 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			after = runtime.NumGoroutine()
		}
		t.Logf("goroutines: %d after the calls ended", after)
		if after > before+20 {
			var stacks strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
			t.Fatalf("%d goroutines before the hang, still %d after every call ended:\n%s", before, after, stacks.String())
		}
	})

	r.Resume()
	t.Run("everything_works_again_after_redis_resumes", func(t *testing.T) {
		deadline := time.Now().Add(10 * time.Second)
		for i, name := range names {
			id := saveID{i, 1_000_000}
			for saveOnce(ctx, h, name, id).code != codes.OK {
				require.True(t, time.Now().Before(deadline), "no save went through within 10 s of Redis resuming")
				time.Sleep(50 * time.Millisecond)
			}
		}
	})
	t.Run("no_save_is_half_applied", func(t *testing.T) {
		// Saves that timed out may still have landed when Redis woke up
		// and read what was waiting on its sockets; each landed whole or
		// not at all.
		for _, name := range names {
			requireNoHalfAppliedSave(t, h, name, nil)
		}
	})
}

// TestSavesThroughASlowOrBrokenNetworkAreNeverHalfApplied puts toxiproxy
// between handoffd and Redis: first 50 ms of latency, which calls must
// simply absorb, then connections reset, cut after some bytes, swallowed,
// and the network gone, while writers save. Whatever failed, every journey's
// state and timeline agree.
func TestSavesThroughASlowOrBrokenNetworkAreNeverHalfApplied(t *testing.T) {
	const (
		journeys, perJourney = 4, 2
		writers              = journeys * perJourney
		latency              = 50 * time.Millisecond
	)
	r := testutil.StartRedis(t)
	p := testutil.StartProxy(t, r.Addr())
	// Short Redis timeouts, so that swallowed replies fail calls quickly.
	h := start(t, storeKind("redis://"+p.Addr()+"?dial_timeout=500ms&read_timeout=500ms&write_timeout=500ms&pool_timeout=1s"))
	names := createJourneys(t, h, journeys)

	var outcomes []outcome
	t.Run("saves_under_50ms_of_latency_succeed", func(t *testing.T) {
		p.AddToxic(testutil.Toxic{Name: "latency", Type: "latency", Attributes: map[string]any{"latency": latency.Milliseconds()}})
		defer p.RemoveToxic("latency")
		results := make(chan outcome, writers*3)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for n := range 3 {
					// Writers 100 and up, so these saves are told apart
					// from the load's below.
					results <- saveOnce(as(t, websiteToken), h, names[w/perJourney], saveID{100 + w, n})
				}
			})
		}
		wg.Wait()
		close(results)
		for o := range results {
			outcomes = append(outcomes, o)
			require.Equal(t, codes.OK, o.code, "save %s", o.id.step())
			// A save is one round trip through the proxy. (A lower bound
			// only, to show the latency was there.)
			require.GreaterOrEqual(t, o.took(), latency, "save %s", o.id.step())
		}
	})

	t.Run("no_save_is_half_applied_when_connections_break", func(t *testing.T) {
		// Enough saves per writer that none is done before the last fault
		// heals: a save is one round trip now, and a writer that stopped
		// early would never save "again once the network healed".
		l := startLoad(t, h, names, perJourney, 2000, true)
		// pulses is a fault that spoils every connection with tx for on,
		// then heals for off, times times: network blips, after each of
		// which go-redis retries on a new connection.
		pulses := func(tx testutil.Toxic, times int, on, off time.Duration) func() {
			return func() {
				for range times {
					p.AddToxic(tx)
					time.Sleep(on)
					p.RemoveToxic(tx.Name) // closes the connections it held
					time.Sleep(off)
				}
			}
		}
		faults := []struct {
			name        string
			apply, heal func()
		}{
			{"every_connection_reset_at_its_next_reply_for_100ms_five_times",
				pulses(testutil.Toxic{Name: "reset", Type: "reset_peer", Attributes: map[string]any{"timeout": 0}}, 5, 100*time.Millisecond, 100*time.Millisecond),
				func() {}},
			{"every_connection_closed_after_4_kB_of_replies",
				func() {
					p.AddToxic(testutil.Toxic{Name: "limit", Type: "limit_data", Attributes: map[string]any{"bytes": 4096}})
				},
				func() { p.RemoveToxic("limit") }},
			// Shorter than the read timeout, so the calls do not time out
			// but meet closed connections.
			{"replies_swallowed_for_150ms_then_every_connection_closed_ten_times",
				pulses(testutil.Toxic{Name: "swallow", Type: "timeout", Attributes: map[string]any{"timeout": 0}}, 10, 150*time.Millisecond, 100*time.Millisecond),
				func() {}},
			{"the_network_to_redis_is_gone", p.Disable, p.Enable},
		}
		for _, f := range faults {
			began := time.Now()
			f.apply()
			// Hold the fault until the writers have met it a few times.
			l.waitUntil(t, 20*time.Second, f.name+": 40 calls ended under the fault", func(seen []outcome) bool {
				return countOutcomes(seen, func(o outcome) bool { return o.began.After(began) }) >= 40
			})
			f.heal()
			seen := l.snapshot()
			t.Logf("%s: %d calls, %d failed", f.name,
				countOutcomes(seen, func(o outcome) bool { return o.began.After(began) }),
				countOutcomes(seen, func(o outcome) bool { return o.began.After(began) && o.code != codes.OK }))
		}
		healed := time.Now()
		l.waitUntil(t, 10*time.Second, "every writer saved again once the network healed", everyWriterSavedSince(writers, healed))
		l.stop()
		outcomes = append(outcomes, l.snapshot()...)

		for _, o := range outcomes {
			switch {
			case o.code == codes.OK, o.code == codes.Unavailable:
			case o.code == codes.Aborted && o.withEtag:
				// The other writer saved between this one's read and save.
			default:
				t.Errorf("save %s answered %s: a broken connection to Redis is UNAVAILABLE", o.id.step(), o.code)
			}
		}
		for _, name := range names {
			lost := requireNoHalfAppliedSave(t, h, name, outcomes)
			require.Empty(t, lost, "%s: Redis never went down, so nothing acknowledged may be missing", name)
		}
	})
}
