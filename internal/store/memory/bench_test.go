package memory_test

import (
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

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

// BenchmarkSaveJourney saves one answer of a journey of 20 again and
// again, as a website does while the customer types: with the etag its
// last save returned, asking back only the etag (read_mask etag,revision),
// with its touchpoint.
func BenchmarkSaveJourney(b *testing.B) {
	b.Run(benchName, func(b *testing.B) {
		s := benchStore(b)
		ctx := b.Context()
		j, _, err := s.CreateJourney(ctx, storetest.Quote(b, "anna-quote"), storetest.SaveTouchpoint(storetest.Quote(b, "anna-quote")), "")
		if err != nil {
			b.Fatal(err)
		}
		key := store.JourneyKey{Customer: storetest.QuoteCustomer, Journey: "anna-quote"}
		start, etag := j.GetRevision(), j.GetEtag()
		tp := storetest.SaveTouchpoint(j)
		limits := store.AnswerLimits{Answers: 1000, Bytes: 1 << 20}
		b.ReportAllocs()
		n := int64(0)
		for b.Loop() {
			n++
			at := time.Now()
			saved, err := s.SaveJourney(ctx, store.Save{
				Key:        key,
				IfEtag:     etag,
				Answers:    []store.AnswerChange{{Path: "vehicle.year", Value: structpb.NewNumberValue(float64(2000 + n%25))}},
				Channel:    handoffv1.Channel_CHANNEL_WEB,
				UpdateTime: at,
				Touchpoint: tp,
				Limits:     limits,
			})
			if err != nil {
				b.Fatal(err)
			}
			etag = saved.GetEtag()
		}
		// Every save landed, none was lost to a conflict.
		if got := revisionOf(b, s, key); got != start+n {
			b.Fatalf("revision %d after %d saves from revision %d", got, n, start)
		}
	})
}

// revisionOf is the journey's revision.
func revisionOf(b *testing.B, s *memory.Store, key store.JourneyKey) int64 {
	b.Helper()
	j, err := s.GetJourney(b.Context(), key)
	if err != nil {
		b.Fatal(err)
	}
	return j.GetRevision()
}
