package memory_test

import (
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/memory"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

// Benchmarks of the memory store's hot paths, named as the Redis store's
// are (store=redis), so benchstat can set the two side by side: the
// difference is what the round trip to Redis and the encoding cost. The
// memory store never seals. Run them with
//
//	go test -run '^$' -bench . -count 10 ./internal/store/memory

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
		j := storetest.Quote(b, "quote-0")
		first := storetest.SaveTouchpoint(j)
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
				if _, err := s.EraseCustomer(ctx, storetest.QuoteCustomer); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			j.Name = store.JourneyKey{Customer: storetest.QuoteCustomer, Journey: "quote-" + strconv.Itoa(n)}.Name()
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
		want, _, err := s.CreateJourney(ctx, storetest.Quote(b, "anna-quote"), storetest.SaveTouchpoint(storetest.Quote(b, "anna-quote")), "")
		if err != nil {
			b.Fatal(err)
		}
		key := store.JourneyKey{Customer: storetest.QuoteCustomer, Journey: "anna-quote"}
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
		j, _, err := s.CreateJourney(ctx, storetest.Quote(b, "anna-quote"), storetest.SaveTouchpoint(storetest.Quote(b, "anna-quote")), "")
		if err != nil {
			b.Fatal(err)
		}
		start := j.GetRevision()
		tp := storetest.SaveTouchpoint(j)
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
