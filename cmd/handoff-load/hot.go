package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"

	goredis "github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/loadgen"
)

// hotResult is the one-journey run: many writers saving into the same
// journey at once, each its own answer, without etags (as the website and
// an agent would), and what the journey held afterwards.
type hotResult struct {
	writers      int
	run          loadgen.Result
	acked        int64 // saves answered OK, warm-up included
	refused      int64 // ABORTED: the service gave up after its retries, nothing written
	unknown      int64 // other failures: written or not, nobody can say
	added        int64 // touchpoints the timeline gained
	revisions    int64 // how far the revision moved
	lost         []string
	perTouchByte float64 // MEMORY USAGE of the timeline ÷ its length
}

// hotJourney creates a journey and lets writers save into it for the
// phase's duration. Writer w saves answer "w<w>" = the request number, so
// afterwards each answer must hold the writer's last acknowledged value,
// and the timeline must have gained one touchpoint per acknowledged save:
// anything else is a lost (or invented) update.
func (d *driver) hotJourney(ctx context.Context, writers int) (hotResult, error) {
	res := hotResult{writers: writers}
	g := d.grpc
	created, err := g.client(0).CreateJourney(metadata.NewOutgoingContext(ctx, g.service), &handoffv1.CreateJourneyRequest{
		Parent:    "customers/c-hot",
		JourneyId: "quote-" + strconv.FormatInt(int64(d.phaseSalt()), 36),
		Journey:   &handoffv1.Journey{JourneyType: "car-insurance-quote", Step: "vehicle", Data: mustStruct(answers(0))},
	})
	if err != nil {
		return res, fmt.Errorf("create the hot journey: %w", err)
	}
	name := created.GetName()
	tlKey := d.st.KeysOf(mustKey(name)).Timeline
	before, err := d.rc.LLen(ctx, tlKey).Result()
	if err != nil {
		return res, err
	}

	var mu sync.Mutex
	lastAcked := make([]int64, writers) // -1: none yet
	// A call that failed without a verdict may still land, even after a
	// later one of the same writer: its value is as good as the last ack.
	unknownSeqs := make([][]int64, writers)
	for w := range lastAcked {
		lastAcked[w] = -1
	}
	saves := make([]numberSave, writers)
	for w := range saves {
		if saves[w], err = newNumberSave(name, "w"+strconv.Itoa(w)); err != nil {
			return res, err
		}
	}
	op := func(ctx context.Context, w int, seq uint64) error {
		err := g.call(ctx, w, handoffv1.JourneyService_UpdateJourney_FullMethodName, g.service, saves[w].with(float64(seq)), &loadgen.Discard{})
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			res.acked++
			lastAcked[w] = int64(seq)
		case status.Code(err) == codes.Aborted:
			res.refused++
		default:
			res.unknown++
			unknownSeqs[w] = append(unknownSeqs[w], int64(seq))
		}
		return err
	}
	res.run = loadgen.Closed{Callers: writers, Warmup: d.opts.warmup, Duration: d.opts.duration}.Run(ctx, timed(op))

	final, err := g.client(0).GetJourney(metadata.NewOutgoingContext(ctx, g.service), &handoffv1.GetJourneyRequest{Name: name})
	if err != nil {
		return res, fmt.Errorf("read the hot journey back: %w", err)
	}
	after, err := d.rc.LLen(ctx, tlKey).Result()
	if err != nil {
		return res, err
	}
	res.added = after - before
	res.revisions = final.GetRevision() - created.GetRevision()
	if res.added < res.acked || res.added > res.acked+res.unknown {
		res.lost = append(res.lost, fmt.Sprintf("the timeline gained %d touchpoints for %d acknowledged saves (%d of unknown outcome)", res.added, res.acked, res.unknown))
	}
	if res.revisions != res.added {
		res.lost = append(res.lost, fmt.Sprintf("the revision moved %d for %d touchpoints", res.revisions, res.added))
	}
	fields := final.GetData().GetFields()
	for w := range writers {
		if lastAcked[w] < 0 {
			continue
		}
		v, ok := fields["w"+strconv.Itoa(w)]
		got := int64(v.GetNumberValue())
		if ok && (got == lastAcked[w] || slices.Contains(unknownSeqs[w], got)) {
			continue
		}
		res.lost = append(res.lost, fmt.Sprintf("writer %d: last acknowledged %d, the journey holds %v", w, lastAcked[w], v.AsInterface()))
	}
	if res.perTouchByte, err = perTouchpoint(ctx, d.rc, tlKey); err != nil {
		return res, err
	}
	return res, nil
}

// numberSave is a save of one numeric answer whose value differs on every
// call (the one-journey phase saves each writer's request number, to find
// lost updates afterwards). It is encoded once, with a marker for the
// value; a call copies it and writes its value over the marker's 8 bytes
// (a Struct's number is a fixed-size double), so no call encodes anything.
type numberSave struct {
	encoded []byte
	at      int // where the value's 8 bytes start
}

func newNumberSave(name, answer string) (numberSave, error) {
	const marker = 0x5a17c0de5a17c0de
	req, err := encode(&handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{
		Name: name,
		Data: &structpb.Struct{Fields: map[string]*structpb.Value{answer: structpb.NewNumberValue(math.Float64frombits(marker))}},
	}})
	if err != nil {
		return numberSave{}, err
	}
	m := binary.LittleEndian.AppendUint64(nil, marker)
	at := bytes.Index(req, m)
	if at < 0 || bytes.LastIndex(req, m) != at {
		return numberSave{}, fmt.Errorf("the encoded save of %s holds its marker %d times, not once", answer, bytes.Count(req, m))
	}
	return numberSave{encoded: req, at: at}, nil
}

func (n numberSave) with(v float64) loadgen.Raw {
	b := slices.Clone(n.encoded)
	binary.LittleEndian.PutUint64(b[n.at:], math.Float64bits(v))
	return b
}

// perTouchpoint is what one touchpoint costs in a long timeline.
func perTouchpoint(ctx context.Context, rc *goredis.Client, key string) (float64, error) {
	n, err := rc.LLen(ctx, key).Result()
	if err != nil || n == 0 {
		return 0, err
	}
	size, err := rc.MemoryUsage(ctx, key, 0).Result()
	if err != nil {
		return 0, err
	}
	return float64(size) / float64(n), nil
}

func mustStruct(m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil {
		panic(err)
	}
	return s
}
