package watch_test

import (
	"context"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/memory"
	"github.com/journeyhandoff/handoff/internal/watch"
)

// A benchmark of the hub's fan-out in one process: a save to the memory
// store (which hands the change to the hub under its lock) until every
// watcher of the journey has been given it by its own send goroutine. No
// gRPC and no network: docs/watch.md has the end-to-end figures. Run it with
//
//	go test -run '^$' -bench . -count 10 ./internal/watch

// benchQuoteSteps are a car-insurance quote's answers, five per step,
// grouped by step as the demo website saves them: about 1 KiB of JSON.
var benchQuoteSteps = map[string]map[string]any{
	"vehicle": {"plate": "AB-123-CD", "make": "Volvo", "model": "V60 Cross Country B5 AWD Plus Bright, 2.0 litre mild hybrid estate", "year": 2019, "usage": "social, domestic and pleasure use, plus commuting to a single fixed place of work"},
	"driver":  {"firstName": "Anna-Sofia", "lastName": "Lindqvist-Marchetti", "birthDate": "1988-04-17", "occupation": "Senior software engineer at a logistics and freight forwarding company", "email": "anna-sofia.lindqvist-marchetti@mail.example.com"},
	"address": {"street": "Rue du Faubourg Saint-Antoine, bâtiment C, 3e étage", "houseNumber": "142B", "postcode": "75012", "city": "Paris", "parking": "locked private garage at the back of the building, shared with two neighbours"},
	"cover":   {"level": "comprehensive", "excess": 250, "startDate": "2026-12-01", "glassCover": true, "extras": "breakdown cover across Europe with a replacement car for up to 14 days, legal expenses and a courtesy car during repairs"},
}

// BenchmarkFanOut saves a journey of 20 answers watched by N watchers and
// waits until each watcher's send has been called with the change.
func BenchmarkFanOut(b *testing.B) {
	for _, watchers := range []int{1, 10, 100, 1000} {
		b.Run("watchers="+strconv.Itoa(watchers)+"/answers=20", func(b *testing.B) {
			benchFanOut(b, watchers)
		})
	}
}

func benchFanOut(b *testing.B, watchers int) {
	st := memory.New()
	b.Cleanup(func() { _ = st.Close() })
	hub := watch.NewHub(st, 0)
	ctx, cancel := context.WithCancel(context.Background())
	var running sync.WaitGroup
	b.Cleanup(func() {
		// Every goroutine of this run ends before the next run starts.
		cancel()
		running.Wait()
	})
	running.Go(func() { _ = hub.Run(ctx) })

	answers := map[string]any{}
	for step, a := range benchQuoteSteps {
		answers[step] = maps.Clone(a)
	}
	data, err := structpb.NewStruct(answers)
	if err != nil {
		b.Fatal(err)
	}
	key := store.JourneyKey{Customer: "c-42", Journey: "anna-quote"}
	now := timestamppb.Now()
	j, _, err := st.CreateJourney(ctx, &handoffv1.Journey{
		Name: key.Name(), JourneyType: "car-insurance-quote", State: handoffv1.JourneyState_JOURNEY_STATE_ACTIVE,
		Step: "cover", Data: data, CreateTime: now, UpdateTime: now,
	}, &handoffv1.Touchpoint{}, "")
	if err != nil {
		b.Fatal(err)
	}

	// The hub subscribes in its own goroutine, and a watch's snapshot comes
	// from the store, not the subscription: save until a probe watcher gets
	// a change through it, so no measured save can precede the subscription.
	probeCtx, stopProbe := context.WithCancel(ctx)
	probed := make(chan int64, 1)
	probeEnded := make(chan struct{})
	go func() {
		defer close(probeEnded)
		_ = hub.Watch(probeCtx, key, 0, func(c *watch.Change) error {
			select {
			case probed <- c.GetRevision():
			default:
			}
			return nil
		})
	}()
	snapshot := <-probed
	for subscribed := false; !subscribed; {
		j.UpdateTime = timestamppb.Now()
		if j, err = st.UpdateJourney(ctx, store.Update{Journey: j, ContentChanged: true}); err != nil {
			b.Fatal(err)
		}
		select {
		case rev := <-probed:
			subscribed = rev > snapshot
		case <-time.After(10 * time.Millisecond):
		}
	}
	stopProbe()
	<-probeEnded

	// Sends are counted in total; the send that brings the count to want,
	// the last one of the change waited for, signals.
	var got, want atomic.Int64
	delivered := make(chan struct{}, 1)
	ended := make(chan error, watchers)
	send := func(*watch.Change) error {
		if got.Add(1) == want.Load() {
			delivered <- struct{}{}
		}
		return nil
	}
	// A generous bound, so a lost change fails the benchmark instead of
	// hanging it; one timer, reset each time, so waiting allocates nothing.
	const patience = time.Minute
	timeout := time.NewTimer(patience)
	defer timeout.Stop()
	wait := func() {
		timeout.Reset(patience)
		select {
		case <-delivered:
		case err := <-ended:
			b.Fatalf("a watch ended: %v", err)
		case <-timeout.C:
			b.Fatalf("after %v, %d of %d sends", patience, got.Load(), want.Load())
		}
	}
	// Each watch starts with a snapshot: wait for all of them first, so that
	// every watcher is registered before the first save.
	want.Store(int64(watchers))
	for range watchers {
		running.Go(func() {
			if err := hub.Watch(ctx, key, 0, send); ctx.Err() == nil {
				ended <- err
			}
		})
	}
	wait()

	b.ReportAllocs()
	for b.Loop() {
		want.Add(int64(watchers))
		j.UpdateTime = timestamppb.Now()
		if j, err = st.UpdateJourney(ctx, store.Update{Journey: j, ContentChanged: true}); err != nil {
			b.Fatal(err)
		}
		wait()
	}
	// No watcher missed a change or got one twice.
	if got.Load() != want.Load() {
		b.Fatalf("%d sends, want %d", got.Load(), want.Load())
	}
}
