package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// The linearizability check: concurrent clients call the service on the real
// Redis store, every call is recorded with when it started and returned, and
// porcupine searches for one order of those calls, each taking effect at a
// single instant inside its own interval, that a sequential model of a
// journey accepts. A lost update, a stale read, an etag accepted after the
// content moved, or a claim granted twice leaves no such order.

const (
	lzClients         = 8   // 0-3 the website, 4-5 alice, 6-7 bob
	lzJourneys        = 3   // separate histories: porcupine checks each on its own
	lzOpsPerClient    = 150 // about 400 calls per journey
	lzShortDeadlineIn = 60  // one call in this many gets a deadline it may well miss
	lzCheckTimeout    = 60 * time.Second

	// lzStallsEnv, when set, makes Redis stall for lzStall (longer than the
	// store's 2 s read timeout) every 300 ms during the load, as a slow
	// disk or a failover does: go-redis then resends scripts whose reply
	// it gave up on, and each must still land once. Off in CI because it
	// adds about 15 s:
	//
	//	HANDOFF_TEST_REDIS_STALLS=1 go test -race -count=3 -run TestConcurrentSavesClaimsAndReadsAreLinearizable ./internal/app/
	lzStallsEnv = "HANDOFF_TEST_REDIS_STALLS"
	lzStall     = 2500 * time.Millisecond
)

// lzOwnDetail marks the touchpoints of own saves (see lzDo).
const lzOwnDetail = "own"

type lzOp int

const (
	lzCreate lzOp = iota
	lzGet
	lzSave    // the step, answer v and the client's own answer
	lzSaveOwn // only the client's own answer: with an etag, it conflicts only with the client's own saves
	lzClaim
	lzRelease
)

func (o lzOp) String() string {
	return [...]string{"create", "get", "save", "save-own", "claim", "release"}[o]
}

// lzInput is what one call asked for.
type lzInput struct {
	Journey int
	Client  int
	Op      lzOp
	Who     string // the principal's id
	Agent   bool   // agents are blocked by other agents' claims, and their reads are audited
	IfEtag  string // a save's etag; empty: unconditional
	Value   string // what a save writes to answer v and to the client's own answer c<client>
}

// lzJourney is the part of a journey the model follows; it is also the
// model's state. Etags count changes of content, as both stores give them
// out (store.Store: a decimal counter); the model knows, per answer, the
// etag at which it last changed, which is what a save's etag check reads.
type lzJourney struct {
	Exists   bool
	Etag     int64
	Revision int64
	Assignee string
	V        string // the answer every full save writes, with the step
	VAt      int64
	Own      [lzClients]string // the answer only client i writes: unconditional saves merge
	OwnAt    [lzClients]int64
}

// lzOutput is how one call ended.
type lzOutput struct {
	Unknown bool       // deadline, unavailable: it may or may not have taken effect
	Busy    bool       // ABORTED after too many lost races: nothing was written
	Code    codes.Code // OK, ABORTED (stale etag) or FAILED_PRECONDITION (held)
	J       lzJourney  // the journey returned, when Code is OK
}

// lzModel is one journey's sequential specification (service/journeys.go,
// handoff.go, lease.go, and the revision and etag rules of docs/watch.md).
func lzModel() porcupine.Model {
	return porcupine.Model{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			byJourney := map[int][]porcupine.Operation{}
			for _, op := range history {
				j := op.Input.(lzInput).Journey
				byJourney[j] = append(byJourney[j], op)
			}
			var parts [][]porcupine.Operation
			for _, ops := range byJourney {
				parts = append(parts, ops)
			}
			return parts
		},
		Init: func() any { return lzJourney{} },
		Step: func(state, input, output any) (bool, any) {
			return lzStep(state.(lzJourney), input.(lzInput), output.(lzOutput))
		},
		DescribeOperation: func(input, output any) string {
			return lzDescribeOp(input.(lzInput), output.(lzOutput))
		},
		DescribeState: func(state any) string { return lzDescribe(state.(lzJourney)) },
	}
}

// lzStep says whether the call could have ended as it did from state s, and
// the state after it.
func lzStep(s lzJourney, in lzInput, out lzOutput) (bool, lzJourney) {
	if in.Op == lzCreate {
		// Creates run before the load, one per journey, and always answer.
		ok := !s.Exists && out.Code == codes.OK && out.J.Exists && out.J.Etag > 0 && out.J.Revision > 0 &&
			out.J.Assignee == "" && out.J.V == "" && out.J.Own == [lzClients]string{}
		return ok, out.J
	}
	if !s.Exists {
		return false, s
	}
	if out.Busy {
		return true, s
	}
	r := lzRule(s, in)
	switch {
	case out.Unknown && r.code == codes.OK:
		// It may have taken effect now; porcupine also tries every later
		// instant, and "never" (after everything else).
		return true, r.next
	case out.Unknown:
		return true, s
	case out.Code != r.code:
		return false, s
	case r.code != codes.OK:
		return true, s
	}
	// What the model does not follow (the other answers' versions) is
	// the answer's own business; what it follows must be exactly so.
	return out.J.Etag == r.next.Etag && out.J.Revision == r.next.Revision && out.J.Assignee == r.next.Assignee &&
		out.J.V == r.next.V && out.J.Own == r.next.Own, r.next
}

// lzRuleResult is what the service must do with a call in a given state.
type lzRuleResult struct {
	code codes.Code
	next lzJourney // the state after it, when code is OK
}

// lzRule is the service's rule for one call, checked in the order a save's
// store checks (docs/layout.md): who holds the case, then the etag, per
// answer: a save is refused only when something it writes changed after
// the etag it carries (the step and v for a full save, its own answer for
// both kinds), or the etag was never given out.
func lzRule(s lzJourney, in lzInput) lzRuleResult {
	n := s
	heldByOther := s.Assignee != "" && s.Assignee != in.Who
	switch in.Op {
	case lzGet:
		if in.Agent {
			n.Revision++ // staff reads append a VIEWED touchpoint
		}
		return lzRuleResult{code: codes.OK, next: n}
	case lzSave, lzSaveOwn:
		if in.Agent && heldByOther {
			return lzRuleResult{code: codes.FailedPrecondition}
		}
		if in.IfEtag != "" {
			e, err := strconv.ParseInt(in.IfEtag, 10, 64)
			conflict := err != nil || e < 1 || e > s.Etag || s.OwnAt[in.Client] > e
			if in.Op == lzSave {
				conflict = conflict || s.VAt > e
			}
			if conflict {
				return lzRuleResult{code: codes.Aborted}
			}
		}
		n.Revision++
		n.Etag++
		if in.Op == lzSave {
			n.V, n.VAt = in.Value, n.Etag
		}
		n.Own[in.Client], n.OwnAt[in.Client] = in.Value, n.Etag
		return lzRuleResult{code: codes.OK, next: n}
	case lzClaim:
		if heldByOther {
			return lzRuleResult{code: codes.FailedPrecondition}
		}
		n.Revision++ // a first claim, or a renewal that moves the lease
		n.Assignee = in.Who
		return lzRuleResult{code: codes.OK, next: n}
	case lzRelease:
		if s.Assignee != in.Who {
			return lzRuleResult{code: codes.FailedPrecondition}
		}
		n.Revision++
		n.Assignee = ""
		return lzRuleResult{code: codes.OK, next: n}
	}
	return lzRuleResult{code: codes.Unimplemented}
}

func lzDescribe(s lzJourney) string {
	if !s.Exists {
		return "(no journey)"
	}
	var own []string
	for i, v := range s.Own {
		if v != "" {
			own = append(own, fmt.Sprintf("c%d=%s", i, v))
		}
	}
	held := "free"
	if s.Assignee != "" {
		held = "held by " + s.Assignee
	}
	return fmt.Sprintf("rev %d etag %d %s v=%s@%d {%s}", s.Revision, s.Etag, held, s.V, s.VAt, strings.Join(own, " "))
}

func lzDescribeOp(in lzInput, out lzOutput) string {
	call := fmt.Sprintf("%s %s", in.Who, in.Op)
	if in.Op == lzSave || in.Op == lzSaveOwn {
		call += " v=" + in.Value
		if in.IfEtag != "" {
			call += " if etag " + in.IfEtag
		}
	}
	switch {
	case out.Unknown:
		return call + " → unknown outcome"
	case out.Busy:
		return call + " → ABORTED (too busy)"
	case out.Code != codes.OK:
		return call + " → " + out.Code.String()
	}
	return call + " → " + lzDescribe(out.J)
}

// lzInfinity stands for the return time of a call whose answer never came:
// it may take effect at any instant after it started. Replaced by a time
// after every other event before the check, which means the same.
const lzInfinity = -1

func TestConcurrentSavesClaimsAndReadsAreLinearizable(t *testing.T) {
	h := start(t, redisStore)
	tokens := [lzClients]string{websiteToken, websiteToken, websiteToken, websiteToken, aliceToken, aliceToken, bobToken, bobToken}
	who := [lzClients]string{"shop-website", "shop-website", "shop-website", "shop-website", "alice", "alice", "bob", "bob"}
	base := time.Now()
	clock := func() int64 { return int64(time.Since(base)) }

	names := make([]string, lzJourneys)
	var history []porcupine.Operation
	firstEtags := make([]string, lzJourneys)
	for jn := range lzJourneys {
		in := lzInput{Journey: jn, Client: 0, Op: lzCreate, Who: who[0]}
		call := clock()
		j, err := h.api.CreateJourney(as(t, websiteToken), &handoffv1.CreateJourneyRequest{
			Parent: "customers/c-42", JourneyId: fmt.Sprintf("lz-%d", jn),
			Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote", Step: "vehicle"},
		})
		require.NoError(t, err)
		history = append(history, porcupine.Operation{ClientId: 0, Input: in, Call: call, Output: lzOutput{Code: codes.OK, J: lzView(j)}, Return: clock()})
		names[jn], firstEtags[jn] = j.GetName(), j.GetEtag()
	}

	perClient := make([][]porcupine.Operation, lzClients)
	unexpected := make([][]string, lzClients)
	var wg sync.WaitGroup
	for c := range lzClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			agent := tokens[c] != websiteToken
			etags := append([]string(nil), firstEtags...) // the last etag this client saw, per journey
			for k := range lzOpsPerClient {
				in := lzInput{Journey: rand.IntN(lzJourneys), Client: c, Who: who[c], Agent: agent}
				in.Op = lzPick(agent)
				if in.Op == lzSave || in.Op == lzSaveOwn {
					in.Value = fmt.Sprintf("c%d-%d", c, k)
					if rand.IntN(2) == 0 || in.Op == lzSaveOwn {
						in.IfEtag = etags[in.Journey]
					}
				}
				timeout := 30 * time.Second
				if rand.IntN(lzShortDeadlineIn) == 0 {
					// A deadline the call may miss after Redis ran its
					// script: the outcome is unknown, and the model must
					// allow both.
					timeout = rand.N(3 * time.Millisecond)
				}
				ctx, cancel := context.WithTimeout(as(t, tokens[c]), timeout)
				call := clock()
				out, err := lzDo(ctx, h.api, names[in.Journey], in)
				ret := clock()
				cancel()
				if err != nil {
					unexpected[c] = append(unexpected[c], fmt.Sprintf("%s: %v", lzDescribeOp(in, out), err))
				}
				if out.Unknown {
					ret = lzInfinity
				} else if out.Code == codes.OK && !out.Busy {
					etags[in.Journey] = strconv.FormatInt(out.J.Etag, 10)
				}
				perClient[c] = append(perClient[c], porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
			}
		}()
	}
	if os.Getenv(lzStallsEnv) != "" {
		// Redis stalls longer than the store's read timeout (2 s) while
		// the clients call: a write whose answer timed out must not be
		// retried into a second write, nor answered as if it never landed.
		loadDone := make(chan struct{})
		go func() { wg.Wait(); close(loadDone) }()
		for stalls := 0; ; stalls++ {
			select {
			case <-loadDone:
				t.Logf("Redis stalled %d times for %v", stalls, lzStall)
			case <-time.After(300 * time.Millisecond):
				h.redis.Pause()
				time.Sleep(lzStall)
				h.redis.Resume()
				continue
			}
			break
		}
	}
	wg.Wait()
	for c := range lzClients {
		history = append(history, perClient[c]...)
		for _, u := range unexpected[c] {
			t.Errorf("client %d: an answer the API does not give for these calls: %s", c, u)
		}
	}
	// A last read of each journey pins down what the calls without an
	// answer did.
	for jn := range lzJourneys {
		in := lzInput{Journey: jn, Client: 0, Op: lzGet, Who: who[0]}
		call := clock()
		out, err := lzDo(as(t, websiteToken), h.api, names[jn], in)
		require.NoError(t, err)
		require.Equal(t, codes.OK, out.Code)
		history = append(history, porcupine.Operation{ClientId: 0, Input: in, Call: call, Output: out, Return: clock()})
	}
	history = lzCloseOpenCalls(history)
	t.Logf("%d calls on %d journeys: %s", len(history), lzJourneys, lzTally(history))

	t.Run("the_history_is_linearizable", func(t *testing.T) {
		began := time.Now()
		lzRequireResult(t, history, porcupine.Ok)
		t.Logf("checked in %v", time.Since(began).Round(time.Millisecond))
	})
	t.Run("every_save_is_on_the_timeline_once_if_acknowledged_and_at_most_once_if_not", func(t *testing.T) {
		// The same property as the check above for saves alone, told
		// plainly: a save retried into a second write shows up here.
		for jn, name := range names {
			landed := map[string]int{}
			for _, tp := range websiteTimeline(t, h, name) {
				if tp.GetKind() == handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED && !strings.HasSuffix(tp.GetChannelDetail(), lzOwnDetail) {
					landed[tp.GetStep()]++
				}
			}
			made := map[string]porcupine.Operation{}
			for _, op := range history {
				if in := op.Input.(lzInput); in.Journey == jn && in.Op == lzSave {
					made[in.Value] = op
				}
			}
			// Own saves land in the answers; the model checked those.
			for value, n := range landed {
				op, ok := made[value]
				if !ok {
					t.Errorf("%s: save %s landed but was never made", name, value)
					continue
				}
				in, out := op.Input.(lzInput), op.Output.(lzOutput)
				switch {
				case n > 1:
					t.Errorf("%s: save %s landed %d times; the call: %s", name, value, n, lzDescribeOp(in, out))
				case !out.Unknown && out.Code != codes.OK:
					t.Errorf("%s: save %s landed; the call: %s", name, value, lzDescribeOp(in, out))
				}
			}
			for value, op := range made {
				out := op.Output.(lzOutput)
				if !out.Unknown && !out.Busy && out.Code == codes.OK && landed[value] == 0 {
					t.Errorf("%s: acknowledged save %s is not on the timeline", name, value)
				}
			}
		}
	})
	t.Run("the_same_history_with_one_stale_read_added_is_not", func(t *testing.T) {
		// Journey 0 read as it was created, just after its first
		// acknowledged save returned: the read lost that update. Early in
		// the history, so that porcupine, which must try every order of
		// the calls before it to prove there is none, has few to try.
		var create, save *porcupine.Operation
		for i, op := range history {
			in, out := op.Input.(lzInput), op.Output.(lzOutput)
			switch {
			case in.Journey != 0:
			case in.Op == lzCreate:
				create = &history[i]
			case in.Op == lzSave && !out.Unknown && !out.Busy && out.Code == codes.OK && (save == nil || op.Return < save.Return):
				save = &history[i]
			}
		}
		require.NotNil(t, save, "no save of journey 0 was acknowledged")
		stale := porcupine.Operation{ClientId: 0, Input: lzInput{Journey: 0, Client: 0, Op: lzGet, Who: who[0]},
			Call: save.Return + 1, Output: create.Output, Return: save.Return + 2}
		lzRequireResult(t, append(append([]porcupine.Operation(nil), history...), stale), porcupine.Illegal)
	})
}

// lzPick draws the next call: the website saves and reads, the agents also
// claim and release. Saves of one's own answer always carry an etag, and
// land whatever others saved since: different answers, no conflict.
func lzPick(agent bool) lzOp {
	roll := rand.IntN(100)
	switch {
	case !agent && roll < 30:
		return lzGet
	case !agent && roll < 55:
		return lzSaveOwn
	case !agent:
		return lzSave
	case roll < 20:
		return lzGet
	case roll < 40:
		return lzSave
	case roll < 60:
		return lzSaveOwn
	case roll < 80:
		return lzClaim
	}
	return lzRelease
}

// lzDo makes the call and classifies how it ended. err is set only for an
// answer none of these calls may give.
func lzDo(ctx context.Context, api handoffv1.JourneyServiceClient, name string, in lzInput) (lzOutput, error) {
	var j *handoffv1.Journey
	var err error
	switch in.Op {
	case lzGet:
		j, err = api.GetJourney(ctx, &handoffv1.GetJourneyRequest{Name: name})
	case lzSave:
		data, _ := structpb.NewStruct(map[string]any{"v": in.Value, fmt.Sprintf("c%d", in.Client): in.Value})
		// No mask: the save writes exactly the two answers it carries, and
		// the step, which names it on the timeline.
		j, err = api.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{
			Journey: &handoffv1.Journey{Name: name, Etag: in.IfEtag, Step: in.Value, Data: data},
		})
	case lzSaveOwn:
		data, _ := structpb.NewStruct(map[string]any{fmt.Sprintf("c%d", in.Client): in.Value})
		// No step: its touchpoint carries the step as it is, which names the
		// last full save; the channel detail tells it apart.
		j, err = api.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{
			Journey:       &handoffv1.Journey{Name: name, Etag: in.IfEtag, Data: data},
			ChannelDetail: lzOwnDetail,
		})
	case lzClaim:
		j, err = api.ClaimJourney(ctx, &handoffv1.ClaimJourneyRequest{Name: name})
	case lzRelease:
		j, err = api.ReleaseJourney(ctx, &handoffv1.ReleaseJourneyRequest{Name: name})
	default:
		return lzOutput{Unknown: true}, fmt.Errorf("no call for %s", in.Op)
	}
	if err == nil {
		return lzOutput{Code: codes.OK, J: lzView(j)}, nil
	}
	st := status.Convert(err)
	switch st.Code() {
	case codes.DeadlineExceeded, codes.Unavailable, codes.Canceled:
		return lzOutput{Unknown: true}, nil
	case codes.Aborted:
		if strings.Contains(st.Message(), "too fast") {
			return lzOutput{Busy: true, Code: codes.Aborted}, nil
		}
		if (in.Op == lzSave || in.Op == lzSaveOwn) && in.IfEtag != "" {
			return lzOutput{Code: codes.Aborted}, nil
		}
	case codes.FailedPrecondition:
		return lzOutput{Code: codes.FailedPrecondition}, nil
	}
	// Recorded as unknown, so the check still runs; the test fails anyway.
	return lzOutput{Unknown: true}, err
}

// lzView is the part of a journey the model follows.
func lzView(j *handoffv1.Journey) lzJourney {
	etag, _ := strconv.ParseInt(j.GetEtag(), 10, 64)
	v := lzJourney{Exists: true, Etag: etag, Revision: j.GetRevision(), Assignee: j.GetAssignee()}
	answers := j.GetData().GetFields()
	v.V = answers["v"].GetStringValue()
	for i := range v.Own {
		v.Own[i] = answers[fmt.Sprintf("c%d", i)].GetStringValue()
	}
	return v
}

// lzCloseOpenCalls gives the calls without an answer a return time after
// every other event: porcupine's way of saying "may have taken effect at
// any time after it started, or never". Those that could have had no
// effect (the website's reads) are dropped: they constrain nothing, and
// each would double the orders porcupine tries after it.
func lzCloseOpenCalls(history []porcupine.Operation) []porcupine.Operation {
	var last int64
	for _, op := range history {
		last = max(last, op.Call, op.Return)
	}
	var closed []porcupine.Operation
	for _, op := range history {
		if op.Return == lzInfinity {
			if in := op.Input.(lzInput); in.Op == lzGet && !in.Agent {
				continue
			}
			op.Return = last + 1
		}
		closed = append(closed, op)
	}
	return closed
}

// lzTally counts the outcomes, to show in the log what the load exercised.
func lzTally(history []porcupine.Operation) string {
	counts := map[string]int{}
	for _, op := range history {
		in, out := op.Input.(lzInput), op.Output.(lzOutput)
		kind := in.Op.String()
		if in.Op == lzSave && in.IfEtag != "" {
			kind = "conditional save"
		}
		switch {
		case out.Unknown:
			kind += " unknown"
		case out.Busy:
			kind += " busy"
		default:
			kind += " " + out.Code.String()
		}
		counts[kind]++
	}
	var parts []string
	for k, n := range counts {
		parts = append(parts, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// lzRequireResult checks the history and, when it is not linearizable
// although it should be, writes porcupine's visualisation to test-output/.
func lzRequireResult(t *testing.T, history []porcupine.Operation, want porcupine.CheckResult) {
	t.Helper()
	model := lzModel()
	got := porcupine.CheckOperationsTimeout(model, history, lzCheckTimeout)
	if got == porcupine.Unknown {
		t.Fatalf("porcupine could not decide within %v on %d calls", lzCheckTimeout, len(history))
	}
	if got == want {
		return
	}
	msg := fmt.Sprintf("porcupine says %v, want %v", got, want)
	if got == porcupine.Illegal {
		_, info := porcupine.CheckOperationsVerbose(model, history, lzCheckTimeout)
		path := filepath.Join(lzOutputDir(t), strings.ReplaceAll(t.Name(), "/", "_")+".html")
		if err := porcupine.VisualizePath(model, info, path); err != nil {
			msg += fmt.Sprintf("; writing the visualisation failed: %v", err)
		} else {
			msg += "; the longest partial linearization of each journey is drawn in " + path + " (open it in a browser)"
		}
	}
	t.Fatal(msg)
}

// lzOutputDir is test-output/ at the repository root (git-ignored).
func lzOutputDir(t *testing.T) string {
	t.Helper()
	out := filepath.Join(testutil.RepoRoot(t), "test-output")
	require.NoError(t, os.MkdirAll(out, 0o755))
	return out
}

// The model itself, on histories written by hand: it must accept what the
// service may do and reject every way of losing an update, so that the live
// check above can fail.
func TestTheJourneyModelRejectsLostUpdatesAndStaleReads(t *testing.T) {
	web := func(c int) lzInput { return lzInput{Client: c, Who: "shop-website"} }
	alice := lzInput{Client: 4, Who: "alice", Agent: true}
	bob := lzInput{Client: 6, Who: "bob", Agent: true}
	get := func(in lzInput) lzInput { in.Op = lzGet; return in }
	claim := func(in lzInput) lzInput { in.Op = lzClaim; return in }
	save := func(in lzInput, value, ifEtag string) lzInput {
		in.Op, in.Value, in.IfEtag = lzSave, value, ifEtag
		return in
	}
	saveOwn := func(in lzInput, value, ifEtag string) lzInput {
		in.Op, in.Value, in.IfEtag = lzSaveOwn, value, ifEtag
		return in
	}
	ok := func(j lzJourney) lzOutput { j.Exists = true; return lzOutput{Code: codes.OK, J: j} }
	refused := func(c codes.Code) lzOutput { return lzOutput{Code: c} }
	unknown := lzOutput{Unknown: true}
	type call struct {
		from, to int64 // to lzInfinity: the answer never came
		in       lzInput
		out      lzOutput
	}
	j1 := lzJourney{Etag: 1, Revision: 1}
	tests := []struct {
		name  string
		calls []call
		want  porcupine.CheckResult
	}{
		{"a read after a save sees it", []call{
			{2, 3, save(web(0), "a", ""), ok(lzJourney{Etag: 2, Revision: 2, V: "a", Own: [lzClients]string{0: "a"}})},
			{4, 5, get(web(1)), ok(lzJourney{Etag: 2, Revision: 2, V: "a", Own: [lzClients]string{0: "a"}})},
		}, porcupine.Ok},
		{"a read after a newer save that returns the older value is stale", []call{
			{2, 3, save(web(0), "a", ""), ok(lzJourney{Etag: 2, Revision: 2, V: "a", Own: [lzClients]string{0: "a"}})},
			{4, 5, save(web(0), "b", ""), ok(lzJourney{Etag: 3, Revision: 3, V: "b", Own: [lzClients]string{0: "b"}})},
			{6, 7, get(web(1)), ok(lzJourney{Etag: 2, Revision: 2, V: "a", Own: [lzClients]string{0: "a"}})},
		}, porcupine.Illegal},
		{"concurrent unconditional saves of different clients both land", []call{
			{2, 5, save(web(0), "a", ""), ok(lzJourney{Etag: 3, Revision: 3, V: "a", Own: [lzClients]string{0: "a", 1: "b"}})},
			{3, 6, save(web(1), "b", ""), ok(lzJourney{Etag: 2, Revision: 2, V: "b", Own: [lzClients]string{1: "b"}})},
			{7, 8, get(web(2)), ok(lzJourney{Etag: 3, Revision: 3, V: "a", Own: [lzClients]string{0: "a", 1: "b"}})},
		}, porcupine.Ok},
		{"an unconditional save that drops the answer of another client lost an update", []call{
			{2, 5, save(web(0), "a", ""), ok(lzJourney{Etag: 2, Revision: 2, V: "a", Own: [lzClients]string{0: "a"}})},
			{3, 6, save(web(1), "b", ""), ok(lzJourney{Etag: 3, Revision: 3, V: "b", Own: [lzClients]string{1: "b"}})},
		}, porcupine.Illegal},
		{"a second save with the same etag is aborted", []call{
			{2, 3, save(web(0), "a", "1"), ok(lzJourney{Etag: 2, Revision: 2, V: "a", Own: [lzClients]string{0: "a"}})},
			{4, 5, save(web(1), "b", "1"), refused(codes.Aborted)},
		}, porcupine.Ok},
		{"a second save with the same etag that succeeds overwrote a change it had not seen", []call{
			{2, 3, save(web(0), "a", "1"), ok(lzJourney{Etag: 2, Revision: 2, V: "a", Own: [lzClients]string{0: "a"}})},
			{4, 5, save(web(1), "b", "1"), ok(lzJourney{Etag: 3, Revision: 3, V: "b", Own: [lzClients]string{0: "a", 1: "b"}})},
		}, porcupine.Illegal},
		{"a save with the current etag that is aborted is a spurious conflict", []call{
			{2, 3, save(web(0), "a", "1"), refused(codes.Aborted)},
		}, porcupine.Illegal},
		{"a claim keeps the etag and moves the revision", []call{
			{2, 3, claim(alice), ok(lzJourney{Etag: 1, Revision: 2, Assignee: "alice"})},
			{4, 5, save(web(0), "a", "1"), ok(lzJourney{Etag: 2, Revision: 3, Assignee: "alice", V: "a", Own: [lzClients]string{0: "a"}})},
		}, porcupine.Ok},
		{"a claim that moves the etag would void the next save of the website", []call{
			{2, 3, claim(alice), ok(lzJourney{Etag: 2, Revision: 2, Assignee: "alice"})},
		}, porcupine.Illegal},
		{"two agents cannot both hold the claim", []call{
			{2, 3, claim(alice), ok(lzJourney{Etag: 1, Revision: 2, Assignee: "alice"})},
			{4, 5, claim(bob), ok(lzJourney{Etag: 1, Revision: 3, Assignee: "bob"})},
		}, porcupine.Illegal},
		{"an agent cannot save over the claim of another agent", []call{
			{2, 3, claim(alice), ok(lzJourney{Etag: 1, Revision: 2, Assignee: "alice"})},
			{4, 5, save(bob, "b", ""), refused(codes.FailedPrecondition)},
			{6, 7, save(bob, "b", ""), ok(lzJourney{Etag: 2, Revision: 3, Assignee: "alice", V: "b", Own: [lzClients]string{6: "b"}})},
		}, porcupine.Illegal},
		{"a staff read moves the revision and a website read does not", []call{
			{2, 3, get(alice), ok(lzJourney{Etag: 1, Revision: 2})},
			{4, 5, get(web(0)), ok(lzJourney{Etag: 1, Revision: 2})},
			{6, 7, get(web(0)), ok(lzJourney{Etag: 1, Revision: 3})},
		}, porcupine.Illegal},
		{"a save without an answer may have landed", []call{
			{2, lzInfinity, save(web(0), "a", ""), unknown},
			{4, 5, get(web(1)), ok(lzJourney{Etag: 2, Revision: 2, V: "a", Own: [lzClients]string{0: "a"}})},
			{6, 7, save(web(1), "b", "2"), ok(lzJourney{Etag: 3, Revision: 3, V: "b", Own: [lzClients]string{0: "a", 1: "b"}})},
		}, porcupine.Ok},
		{"a save without an answer may not have landed", []call{
			{2, lzInfinity, save(web(0), "a", ""), unknown},
			{4, 5, get(web(1)), ok(j1)},
		}, porcupine.Ok},
		{"a save without an answer that landed cannot be undone", []call{
			{2, lzInfinity, save(web(0), "a", ""), unknown},
			{4, 5, get(web(1)), ok(lzJourney{Etag: 2, Revision: 2, V: "a", Own: [lzClients]string{0: "a"}})},
			{6, 7, get(web(1)), ok(j1)},
		}, porcupine.Illegal},
		{"after a save without an answer an etag read before it may have gone stale", []call{
			{2, lzInfinity, save(web(0), "a", ""), unknown},
			{4, 5, save(web(1), "b", "1"), refused(codes.Aborted)},
		}, porcupine.Ok},
		{"saves_of_different_answers_with_the_same_etag_both_land", []call{
			{2, 3, saveOwn(web(0), "a", "1"), ok(lzJourney{Etag: 2, Revision: 2, Own: [lzClients]string{0: "a"}})},
			{4, 5, saveOwn(web(1), "b", "1"), ok(lzJourney{Etag: 3, Revision: 3, Own: [lzClients]string{0: "a", 1: "b"}})},
		}, porcupine.Ok},
		{"a full save since an etag does not refuse a save of another answer", []call{
			{2, 3, save(web(0), "a", ""), ok(lzJourney{Etag: 2, Revision: 2, V: "a", Own: [lzClients]string{0: "a"}})},
			{4, 5, saveOwn(web(1), "b", "1"), ok(lzJourney{Etag: 3, Revision: 3, V: "a", Own: [lzClients]string{0: "a", 1: "b"}})},
		}, porcupine.Ok},
		{"a save of an answer changed since its etag is aborted", []call{
			{2, 3, saveOwn(web(0), "a", "1"), ok(lzJourney{Etag: 2, Revision: 2, Own: [lzClients]string{0: "a"}})},
			{4, 5, saveOwn(web(0), "b", "1"), refused(codes.Aborted)},
		}, porcupine.Ok},
		{"a save of an answer changed since its etag that lands lost an update", []call{
			{2, 3, saveOwn(web(0), "a", "1"), ok(lzJourney{Etag: 2, Revision: 2, Own: [lzClients]string{0: "a"}})},
			{4, 5, saveOwn(web(0), "b", "1"), ok(lzJourney{Etag: 3, Revision: 3, Own: [lzClients]string{0: "b"}})},
		}, porcupine.Illegal},
		{"a refused save of another answer is a spurious conflict", []call{
			{2, 3, saveOwn(web(0), "a", "1"), ok(lzJourney{Etag: 2, Revision: 2, Own: [lzClients]string{0: "a"}})},
			{4, 5, saveOwn(web(1), "b", "1"), refused(codes.Aborted)},
		}, porcupine.Illegal},
		{"an etag never given out is aborted", []call{
			{2, 3, saveOwn(web(0), "a", "2"), refused(codes.Aborted)},
		}, porcupine.Ok},
		{"an etag that was stale cannot match again", []call{
			{2, lzInfinity, save(web(0), "a", ""), unknown},
			{4, 5, save(web(1), "b", "1"), refused(codes.Aborted)},
			{6, 7, save(web(2), "c", "1"), ok(lzJourney{Etag: 3, Revision: 3, V: "c", Own: [lzClients]string{0: "a", 2: "c"}})},
		}, porcupine.Illegal},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.name, " ", "_"), func(t *testing.T) {
			history := []porcupine.Operation{{ClientId: 0, Input: lzInput{Op: lzCreate, Who: "shop-website"}, Call: 0, Output: ok(j1), Return: 1}}
			for _, c := range tt.calls {
				history = append(history, porcupine.Operation{ClientId: c.in.Client, Input: c.in, Call: c.from, Output: c.out, Return: c.to})
			}
			lzRequireResult(t, lzCloseOpenCalls(history), tt.want)
		})
	}
}
