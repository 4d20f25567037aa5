package memory_test

import (
	"maps"
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/memory"
)

// Benchmarks of the memory store's hot paths, named as the Redis store's
// are (store=redis), so benchstat can set the two side by side: the
// difference is what the round trip to Redis and the encoding cost. The
// memory store never seals. Run them with
//
//	go test -run '^$' -bench . -count 10 ./internal/store/memory

// benchCustomer owns every journey the benchmarks write.
const benchCustomer = "c-42"

// benchQuoteSteps are a car-insurance quote's answers, five per step,
// grouped by step as the demo website saves them: about 1 KiB of JSON.
var benchQuoteSteps = map[string]map[string]any{
	"vehicle": {"plate": "AB-123-CD", "make": "Volvo", "model": "V60 Cross Country B5 AWD Plus Bright, 2.0 litre mild hybrid estate", "year": 2019, "usage": "social, domestic and pleasure use, plus commuting to a single fixed place of work"},
	"driver":  {"firstName": "Anna-Sofia", "lastName": "Lindqvist-Marchetti", "birthDate": "1988-04-17", "occupation": "Senior software engineer at a logistics and freight forwarding company", "email": "anna-sofia.lindqvist-marchetti@mail.example.com"},
	"address": {"street": "Rue du Faubourg Saint-Antoine, bâtiment C, 3e étage", "houseNumber": "142B", "postcode": "75012", "city": "Paris", "parking": "locked private garage at the back of the building, shared with two neighbours"},
	"cover":   {"level": "comprehensive", "excess": 250, "startDate": "2026-12-01", "glassCover": true, "extras": "breakdown cover across Europe with a replacement car for up to 14 days, legal expenses and a courtesy car during repairs"},
}

// benchQuote is an active journey with the quote's 20 answers, as the
// service hands it to the store.
func benchQuote(b *testing.B, id string) *handoffv1.Journey {
	b.Helper()
	answers := map[string]any{}
	for step, a := range benchQuoteSteps {
		answers[step] = maps.Clone(a)
	}
	data, err := structpb.NewStruct(answers)
	if err != nil {
		b.Fatal(err)
	}
	now := timestamppb.Now()
	return &handoffv1.Journey{
		Name:        store.JourneyKey{Customer: benchCustomer, Journey: id}.Name(),
		JourneyType: "car-insurance-quote",
		State:       handoffv1.JourneyState_JOURNEY_STATE_ACTIVE,
		Step:        "cover",
		Data:        data,
		Channel:     handoffv1.Channel_CHANNEL_WEB,
		CreateTime:  now,
		UpdateTime:  now,
	}
}

// benchSave is the touchpoint a website's save appends.
func benchSave(j *handoffv1.Journey) *handoffv1.Touchpoint {
	return &handoffv1.Touchpoint{
		Time:    j.GetUpdateTime(),
		Channel: handoffv1.Channel_CHANNEL_WEB,
		Actor:   &handoffv1.Actor{Id: "shop-website", Role: handoffv1.Role_ROLE_SERVICE},
		Kind:    handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED,
		Step:    j.GetStep(),
	}
}

func benchStore(b *testing.B) *memory.Store {
	b.Helper()
	s := memory.New()
	b.Cleanup(func() { _ = s.Close() })
	return s
}

const benchName = "store=memory/sealed=false/answers=20"

// BenchmarkCreateJourney creates journeys of 20 answers, each with its
// first touchpoint, as CreateJourney does.
func BenchmarkCreateJourney(b *testing.B) {
	b.Run(benchName, func(b *testing.B) {
		s := benchStore(b)
		ctx := b.Context()
		j := benchQuote(b, "quote-0")
		first := benchSave(j)
		if _, created, err := s.CreateJourney(ctx, j, first, ""); err != nil || !created {
			b.Fatalf("created %t: %v", created, err)
		}
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n++
			if n%1024 == 0 {
				// Keep memory small over long runs; not part of a create.
				b.StopTimer()
				if _, err := s.EraseCustomer(ctx, benchCustomer); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			j.Name = store.JourneyKey{Customer: benchCustomer, Journey: "quote-" + strconv.Itoa(n)}.Name()
			if _, _, err := s.CreateJourney(ctx, j, first, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGetJourney reads a journey of 20 answers.
func BenchmarkGetJourney(b *testing.B) {
	b.Run(benchName, func(b *testing.B) {
		s := benchStore(b)
		ctx := b.Context()
		want, _, err := s.CreateJourney(ctx, benchQuote(b, "anna-quote"), benchSave(benchQuote(b, "anna-quote")), "")
		if err != nil {
			b.Fatal(err)
		}
		key := store.JourneyKey{Customer: benchCustomer, Journey: "anna-quote"}
		got, err := s.GetJourney(ctx, key)
		if err != nil {
			b.Fatal(err)
		}
		if !proto.Equal(want, got) {
			b.Fatalf("read back %v, want %v", got, want)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.GetJourney(ctx, key); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUpdateJourney saves a journey of 20 answers again and again,
// each save at the revision the last one returned, with its touchpoint.
func BenchmarkUpdateJourney(b *testing.B) {
	b.Run(benchName, func(b *testing.B) {
		s := benchStore(b)
		ctx := b.Context()
		j, _, err := s.CreateJourney(ctx, benchQuote(b, "anna-quote"), benchSave(benchQuote(b, "anna-quote")), "")
		if err != nil {
			b.Fatal(err)
		}
		start := j.GetRevision()
		tp := benchSave(j)
		b.ReportAllocs()
		n := int64(0)
		for b.Loop() {
			n++
			// The service changes an answer and the update time each save.
			j.Data.Fields["vehicle"].GetStructValue().Fields["year"] = structpb.NewNumberValue(float64(2000 + n%25))
			j.UpdateTime = timestamppb.New(time.Now())
			if j, err = s.UpdateJourney(ctx, store.Update{Journey: j, ContentChanged: true, Touchpoints: []*handoffv1.Touchpoint{tp}}); err != nil {
				b.Fatal(err)
			}
		}
		// Every save landed, none was lost to a conflict.
		if j.GetRevision() != start+n {
			b.Fatalf("revision %d after %d saves from revision %d", j.GetRevision(), n, start)
		}
	})
}
