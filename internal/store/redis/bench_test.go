package redis_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/sealing"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/redis"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

// Benchmarks of the store's hot paths against the package's real
// redis-server (started by TestMain), each in clear text and sealed: one
// round trip to Redis (a Lua script, or HMGET for a read) plus the encoding,
// and sealing, around it. The names match those of the memory store's
// benchmarks, so benchstat can set them side by side. Run them with
//
//	go test -run '^$' -bench . -count 10 ./internal/store/redis

// benchStore is a store on the shared server under a fresh prefix, sealing
// when sealed is set; what the benchmark wrote is erased afterwards.
func benchStore(b *testing.B, sealed bool, more ...redis.Option) *redis.Store {
	b.Helper()
	prefix := fmt.Sprintf("bench%d:", prefixes.Add(1))
	opts := append([]redis.Option{redis.WithKeyPrefix(prefix)}, more...)
	if sealed {
		secret := make([]byte, sealing.KeySize)
		_, _ = rand.Read(secret)
		ring, err := sealing.New(sealing.Key{ID: "bench", Secret: secret})
		if err != nil {
			b.Fatal(err)
		}
		opts = append(opts, redis.WithSealer(ring))
	}
	s := redis.New(client, opts...)
	b.Cleanup(func() {
		// b.Context() is already cancelled here.
		if _, err := s.EraseCustomer(context.Background(), storetest.QuoteCustomer); err != nil {
			b.Error(err)
		}
		_ = s.Close()
	})
	return s
}

// checkStored fails the benchmark unless the journey's answers in Redis
// are sealed exactly when the store seals, so the sealed variant measures
// sealing.
func checkStored(b *testing.B, s *redis.Store, journey string, sealed bool) {
	b.Helper()
	v, err := client.HGet(context.Background(), s.KeysOf(store.JourneyKey{Customer: storetest.QuoteCustomer, Journey: journey}).Journey, "d:vehicle.year").Result()
	if err != nil {
		b.Fatal(err)
	}
	// An answer is <etag>:<size>:<value>.
	if parts := strings.SplitN(v, ":", 3); len(parts) != 3 || sealing.IsSealed([]byte(parts[2])) != sealed {
		b.Fatalf("the stored answer %q is sealed: %t, want %t", v, !sealed, sealed)
	}
}

// forEachSealing runs bench as a sub-benchmark per store configuration.
func forEachSealing(b *testing.B, bench func(b *testing.B, sealed bool)) {
	for _, sealed := range []bool{false, true} {
		b.Run("store=redis/sealed="+strconv.FormatBool(sealed)+"/answers=20", func(b *testing.B) {
			bench(b, sealed)
		})
	}
}

// BenchmarkCreateJourney creates journeys of 20 answers, each with its
// first touchpoint, as CreateJourney does.
func BenchmarkCreateJourney(b *testing.B) {
	forEachSealing(b, func(b *testing.B, sealed bool) {
		s := benchStore(b, sealed)
		ctx := b.Context()
		j := storetest.Quote(b, "quote-0")
		first := storetest.SaveTouchpoint(j)
		if _, created, err := s.CreateJourney(ctx, j, first, ""); err != nil || !created {
			b.Fatalf("created %t: %v", created, err)
		}
		checkStored(b, s, "quote-0", sealed)
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n++
			if n%1024 == 0 {
				// Keep Redis small over long runs; not part of a create.
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
	forEachSealing(b, func(b *testing.B, sealed bool) {
		s := benchStore(b, sealed)
		ctx := b.Context()
		want, _, err := s.CreateJourney(ctx, storetest.Quote(b, "anna-quote"), storetest.SaveTouchpoint(storetest.Quote(b, "anna-quote")), "")
		if err != nil {
			b.Fatal(err)
		}
		checkStored(b, s, "anna-quote", sealed)
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

// BenchmarkSaveJourney saves a page of a journey of 20 answers again and
// again, as a website does (three answers and the step, its touchpoint,
// only the etag back): the save script, the timeline, the change log and
// the publish.
func BenchmarkSaveJourney(b *testing.B) {
	forEachSealing(b, func(b *testing.B, sealed bool) { benchSave(b, benchStore(b, sealed), sealed) })
}

// BenchmarkSaveJourneyWithEvents is BenchmarkSaveJourney with events on
// (docs/reach.md): each save's event is appended to the stream by a second
// script, with a reminder scheduled 10 minutes before its expiry.
func BenchmarkSaveJourneyWithEvents(b *testing.B) {
	events := redis.WithEvents(store.EventOptions{RemindBefore: func(string, int64) time.Duration { return 10 * time.Minute }})
	forEachSealing(b, func(b *testing.B, sealed bool) {
		s := benchStore(b, sealed, events)
		b.Cleanup(func() { _ = client.Del(context.Background(), s.StreamKey()).Err() })
		benchSave(b, s, sealed)
	})
}

// BenchmarkSaveJourneyWithEventsParallel is BenchmarkSaveJourneyWithEvents
// from 32 goroutines per -test.cpu (64 with -test.cpu 2), each saving its
// own journey, as a loaded handoffd does: concurrent saves' event appends
// share round trips (docs/reach.md).
func BenchmarkSaveJourneyWithEventsParallel(b *testing.B) {
	events := redis.WithEvents(store.EventOptions{RemindBefore: func(string, int64) time.Duration { return 10 * time.Minute }})
	forEachSealing(b, func(b *testing.B, sealed bool) {
		s := benchStore(b, sealed, events)
		b.Cleanup(func() { _ = client.Del(context.Background(), s.StreamKey()).Err() })
		ctx := b.Context()
		var next atomic.Int64
		sent0, calls0 := s.EventPipelines()
		b.SetParallelism(32)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			name := "quote-p" + strconv.FormatInt(next.Add(1), 10)
			j, _, err := s.CreateJourney(ctx, storetest.Quote(b, name), storetest.SaveTouchpoint(storetest.Quote(b, name)), "")
			if err != nil {
				b.Error(err)
				return
			}
			key := store.JourneyKey{Customer: storetest.QuoteCustomer, Journey: name}
			tp := storetest.SaveTouchpoint(j)
			n := int64(0)
			for pb.Next() {
				n++
				if _, err := s.SaveJourney(ctx, benchSaveOf(key, tp, n)); err != nil {
					b.Error(err)
					return
				}
			}
		})
		if sent, calls := s.EventPipelines(); sent > sent0 {
			b.ReportMetric(float64(calls-calls0)/float64(sent-sent0), "appends/round-trip")
		}
	})
}

// benchSaveOf is the n-th save of a page of three answers and the step.
func benchSaveOf(key store.JourneyKey, tp *handoffv1.Touchpoint, n int64) store.Save {
	return store.Save{
		Key: key, SetStep: true, Step: "driver", UpdateTime: time.Now(), Touchpoint: tp,
		Channel: handoffv1.Channel_CHANNEL_WEB,
		Limits:  store.AnswerLimits{Answers: 1000, Bytes: 64 << 10},
		Answers: []store.AnswerChange{
			{Path: "vehicle.year", Value: structpb.NewNumberValue(float64(2000 + n%25))},
			{Path: "driver.occupation", Value: structpb.NewStringValue("nurse")},
			{Path: "cover.level", Value: structpb.NewStringValue("comprehensive")},
		},
	}
}

func benchSave(b *testing.B, s *redis.Store, sealed bool) {
	ctx := b.Context()
	j, _, err := s.CreateJourney(ctx, storetest.Quote(b, "anna-quote"), storetest.SaveTouchpoint(storetest.Quote(b, "anna-quote")), "")
	if err != nil {
		b.Fatal(err)
	}
	checkStored(b, s, "anna-quote", sealed)
	key := store.JourneyKey{Customer: storetest.QuoteCustomer, Journey: "anna-quote"}
	tp := storetest.SaveTouchpoint(j)
	b.ReportAllocs()
	n := int64(0)
	for b.Loop() {
		n++
		saved, err := s.SaveJourney(ctx, benchSaveOf(key, tp, n))
		if err != nil {
			b.Fatal(err)
		}
		j = saved
	}
	// Every save landed.
	if j.GetRevision() != 1+n {
		b.Fatalf("revision %d after %d saves", j.GetRevision(), n)
	}
}
