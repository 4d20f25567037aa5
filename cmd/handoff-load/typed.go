package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/journeytype"
	"github.com/journeyhandoff/handoff/internal/store"
)

// With -typed-journeys the driver's journeys are of a declared journey
// type, bench-quote.yaml, since insight counts only those (docs/insight.md):
// handoffd loads it with --journey-types-dir, the driver stores the same
// definition again after each FLUSHALL, preloads its journeys at the
// version the store gave it, groups their answers under its steps, and
// at the end reads what insight counted. Without it (make bench) nothing
// here is used and journeys are of no declared type, as before.

//go:embed bench-quote.yaml
var benchQuoteYAML []byte

// quote is the declared journey type of the driver's journeys; nil (the
// default) when they are of none. run sets it before anything is built,
// as parseFlags sets saveReadMask.
var quote *typedQuote

// typedQuote is bench-quote.yaml, compiled, and the version the store
// numbered it (put sets it, after each FLUSHALL).
type typedQuote struct {
	def     *handoffv1.JourneyType
	tp      *journeytype.Type
	version int64
}

func loadBenchQuote() (*typedQuote, error) {
	def, err := journeytype.Parse(benchQuoteYAML, "bench-quote.yaml")
	if err != nil {
		return nil, err
	}
	tp, err := journeytype.Compile(def)
	if err != nil {
		return nil, fmt.Errorf("bench-quote.yaml: %w", err)
	}
	return &typedQuote{def: def, tp: tp}, nil
}

func (q *typedQuote) id() string { return q.tp.ID() }

// steps is a store.WriteOptions.Steps, so the driver's store writes the
// furthest step of the journeys it preloads as handoffd's would.
func (q *typedQuote) steps(journeyType string, version int64) []string {
	if journeyType != q.id() || version == 0 {
		return nil
	}
	return q.tp.StepIDs()
}

// answerPaths says where each of the driver's 20 answers (answers) sits
// in bench-quote.yaml: a step id for the three that are objects of the
// step's answers, else "<step>.<key>". Every answer keeps its leaves, so
// a typed journey stores as many answer fields as an untyped one.
var answerPaths = map[string]string{
	"vehicle":           "vehicle",
	"annualMileage":     "vehicle.annualMileage",
	"usage":             "vehicle.usage",
	"parking":           "vehicle.parking",
	"driver":            "driver",
	"claimsLast5Years":  "driver.claimsLast5Years",
	"convictions":       "driver.convictions",
	"additionalDrivers": "driver.additionalDrivers",
	"noClaimsYears":     "driver.noClaimsYears",
	"address":           "address",
	"email":             "address.email",
	"phone":             "address.phone",
	"cover":             "cover.level",
	"voluntaryExcess":   "cover.voluntaryExcess",
	"startDate":         "cover.startDate",
	"extras":            "cover.extras",
	"paymentFrequency":  "payment.frequency",
	"marketingConsent":  "review.marketingConsent",
	"referral":          "review.referral",
	"notes":             "review.notes",
}

// byStep is the driver's answers (or a page save's) grouped under the
// type's steps as answerPaths says.
func byStep(flat map[string]any) map[string]any {
	out := make(map[string]any)
	for k, v := range flat {
		path, ok := answerPaths[k]
		if !ok {
			panic("answer " + k + " has no place in bench-quote.yaml: add it to answerPaths")
		}
		step, key, leaf := strings.Cut(path, ".")
		into, _ := out[step].(map[string]any)
		if into == nil {
			into = make(map[string]any)
			out[step] = into
		}
		if leaf {
			into[key] = v
		} else {
			maps.Copy(into, v.(map[string]any))
		}
	}
	return out
}

// check refuses, before any load, answers the type would refuse: a save
// handoffd refuses is an error in every phase.
func (q *typedQuote) check(what string, data map[string]any) error {
	s, err := structpb.NewStruct(data)
	if err != nil {
		return err
	}
	if vs := q.tp.CheckAnswer("", structpb.NewStructValue(s)); len(vs) > 0 {
		return fmt.Errorf("bench-quote.yaml does not allow %s: %s: %s", what, vs[0].Path, vs[0].Reason)
	}
	return nil
}

// checkData checks a sample of the journeys and page saves against the
// type.
func (q *typedQuote) checkData() error {
	for i := range 64 {
		if err := q.check(fmt.Sprintf("journey %d's answers", i), answers(i)); err != nil {
			return err
		}
		if err := q.check(fmt.Sprintf("page save %d", i), newPageSave(uint64(i)).data()); err != nil {
			return err
		}
	}
	return nil
}

// typesDir writes the definition where handoffd's --journey-types-dir
// reads it.
func (q *typedQuote) typesDir(dir string) (string, error) {
	types := filepath.Join(dir, "journey-types")
	if err := os.MkdirAll(types, 0o700); err != nil {
		return "", err
	}
	return types, os.WriteFile(filepath.Join(types, "bench-quote.yaml"), benchQuoteYAML, 0o600)
}

// put stores the definition as handoffd does when it loads its directory
// (after a FLUSHALL no version is left) and takes the version the store
// gives it, which the preloaded journeys are created with.
func (q *typedQuote) put(ctx context.Context, st store.JourneyTypes) error {
	stored, _, err := st.PutJourneyType(ctx, q.def, store.TypePut{Same: journeytype.SameDefinition, Now: time.Now()})
	if err != nil {
		return fmt.Errorf("store bench-quote.yaml: %w", err)
	}
	q.version = stored.GetVersion()
	return nil
}

// The analyst principal reads what insight counted (-typed-journeys only).
const (
	analystToken     = "bench-analyst-secret"
	analystPrincipal = "bench-analyst"
)

// insightCount is what insight had counted when the run ended.
type insightCount struct {
	journeyType  string
	keys, fields int   // day hashes handoff:{ins:*} and their fields
	reached      int64 // GetJourneyTypeInsight: journeys that reached a step, over its steps
	resumed      int64 // and resumes by staff
	noRead       bool  // the handoffd measured has no GetJourneyTypeInsight (a build before insight)
}

func (c insightCount) String() string {
	if c.noRead {
		return fmt.Sprintf("insight counted: %d day hashes ({ins:*} keys) with %d fields; this handoffd has no GetJourneyTypeInsight", c.keys, c.fields)
	}
	return fmt.Sprintf("insight counted: %d day hashes ({ins:*} keys) with %d fields; GetJourneyTypeInsight %s: %s reached a step, %s resumed",
		c.keys, c.fields, c.journeyType, thousands(c.reached), thousands(c.resumed))
}

// countInsight waits for handoffd's next insight flush (every
// --insight-flush, 2 s unless the flags say otherwise), then reads the
// counts two ways: the day hashes in Redis, and the type's insight
// through the API as an analyst. With --insight=false both are empty.
func (d *driver) countInsight(ctx context.Context) (insightCount, error) {
	c := insightCount{journeyType: journeytype.NamePrefix + quote.id()}
	select {
	case <-time.After(insightFlush(d.opts.handoffdFlags) + time.Second):
	case <-ctx.Done():
		return c, ctx.Err()
	}
	iter := d.rc.Scan(ctx, 0, "*{ins:*", 100).Iterator()
	for iter.Next(ctx) {
		n, err := d.rc.HLen(ctx, iter.Val()).Result()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return c, err
		}
		c.keys++
		c.fields += int(n)
	}
	if err := iter.Err(); err != nil {
		return c, err
	}
	md := metadata.Pairs("authorization", "Bearer "+analystToken)
	in, err := handoffv1.NewJourneyTypeServiceClient(d.hdConns[0]).GetJourneyTypeInsight(metadata.NewOutgoingContext(ctx, md),
		&handoffv1.GetJourneyTypeInsightRequest{Name: c.journeyType + "/insight"})
	if status.Code(err) == codes.Unimplemented {
		c.noRead = true // -handoffd is a build before insight, as an A/B may run
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("GetJourneyTypeInsight: %w", err)
	}
	for _, s := range in.GetSteps() {
		c.reached += s.GetReached()
		c.resumed += s.GetResumed()
	}
	return c, nil
}

// insightFlush is handoffd's --insight-flush as the flags set it.
func insightFlush(flags []string) time.Duration {
	for _, f := range slices.Backward(flags) { // the last one counts
		if v, ok := strings.CutPrefix(strings.TrimLeft(f, "-"), "insight-flush="); ok {
			if d, err := time.ParseDuration(v); err == nil {
				return d
			}
		}
	}
	return 2 * time.Second // handoffd's default
}

// useQuote sets quote for a run: bench-quote.yaml with -typed-journeys,
// checked against the driver's answers first; else nil.
func useQuote(typed bool) error {
	quote = nil
	if !typed {
		return nil
	}
	q, err := loadBenchQuote()
	if err != nil {
		return err
	}
	quote = q
	if err := q.checkData(); err != nil {
		quote = nil
		return err
	}
	return nil
}

// knowTypes saves every journey of the workloads once through each
// handoffd. A save checks a journey against the type version its instance
// remembers for it, and the first save of a journey there pays one more
// round trip to learn it (docs/journeytypes.md, "Which version"); an
// instance that has served its journeys for a while knows them, and that
// is the state measured.
func (d *driver) knowTypes(ctx context.Context, n int) error {
	first := floorBlock(n)
	for _, g := range []*grpcAPI{d.grpc, d.grpcB} {
		if g == nil {
			continue
		}
		fmt.Fprintf(d.log, "  saving %s journeys once each, so handoffd knows each one's type version\n", thousands(int64(n-first)))
		saves, err := g.savesTo(func(k int) int { return first + k }, n-first)
		if err != nil {
			return err
		}
		if err := sendEach(ctx, timed(saves.op), n-first, d.opts.callers); err != nil {
			return fmt.Errorf("save each journey once: %w", err)
		}
	}
	return nil
}
