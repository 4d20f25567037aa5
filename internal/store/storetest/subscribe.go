package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// deliveryTimeout bounds how long a committed change may take to reach a
// subscriber (through Redis pub/sub, under the race detector).
const deliveryTimeout = 10 * time.Second

// Recorder is a ChangeHandler that keeps what it is given, by journey name.
// It never blocks and never calls the store, as a handler must not.
type Recorder struct {
	mu      sync.Mutex
	changes map[string][]*handoffv1.JourneyChange
	count   int
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{changes: map[string][]*handoffv1.JourneyChange{}}
}

// Handle records c.
func (r *Recorder) Handle(c *handoffv1.JourneyChange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := c.GetJourney().GetName()
	r.changes[name] = append(r.changes[name], c)
	r.count++
}

// Of returns the changes recorded for the journey k, in delivery order.
func (r *Recorder) Of(k store.JourneyKey) []*handoffv1.JourneyChange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*handoffv1.JourneyChange(nil), r.changes[k.Name()]...)
}

// Count is how many changes were recorded in all.
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

// WaitFor waits until the journey k's changes up to revision were recorded.
func (r *Recorder) WaitFor(t *testing.T, k store.JourneyKey, revision int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		got := r.Of(k)
		return len(got) > 0 && got[len(got)-1].GetRevision() >= revision
	}, deliveryTimeout, 5*time.Millisecond, "%s: revision %d was not delivered", k.Name(), revision)
}

// subscribe runs s.Subscribe into a new Recorder until cancel is called or
// the test ends, and returns once changes are delivered: a subscription may
// take a moment to start, and a change committed before it is not missed
// but never delivered either. done yields what Subscribe returned.
func subscribe(t *testing.T, s store.Store) (r *Recorder, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	return subscribeTo(t, s, nil)
}

// subscribeTo is subscribe with a filter (which must want the probe
// journey, customer "probe").
func subscribeTo(t *testing.T, s store.Store, wants store.ChangeFilter) (r *Recorder, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	r = NewRecorder()
	errc := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		errc <- s.Subscribe(ctx, wants, r.Handle, func() {})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(deliveryTimeout):
			t.Error("Subscribe did not return after its context ended")
		}
	})

	probe := key("probe", fmt.Sprintf("p-%d", time.Now().UnixNano()))
	j := create(t, s, newJourney(t, probe, now()))
	deadline := time.Now().Add(deliveryTimeout)
	for len(r.Of(probe)) == 0 {
		require.True(t, time.Now().Before(deadline), "Subscribe delivered nothing")
		time.Sleep(5 * time.Millisecond)
		j = touch(t, s, j)
	}
	return r, cancel, errc
}

func testSubscribe(t *testing.T, newStore Factory) {
	t.Run("subscribe_delivers_the_create_and_every_update_in_revision_order", func(t *testing.T) {
		const journeys, writers, updates = 2, 4, 50
		s := newStore(t, Options{})
		r, _, _ := subscribe(t, s)
		keys := make([]store.JourneyKey, journeys)
		for i := range keys {
			keys[i] = key("c-1", fmt.Sprintf("j-%d", i))
			create(t, s, newJourney(t, keys[i], now()))
		}

		// Writers share journeys, so their updates race and retry; every
		// other change is a save, which needs no retry (it carries no
		// etag). Each change appends one touchpoint.
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for w := range writers {
			k := keys[w%journeys]
			wg.Go(func() {
				for i := 0; i < updates; {
					tp := newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, "vehicle", now())
					tp.Note = fmt.Sprintf("w%d %d", w, i)
					var err error
					if i%2 == 0 {
						// Not answer() and save(): require must not fail a
						// test off its goroutine.
						_, err = s.SaveJourney(t.Context(), store.Save{
							Key:        k,
							Answers:    []store.AnswerChange{{Path: "n", Value: structpb.NewNumberValue(float64(i))}},
							Channel:    handoffv1.Channel_CHANNEL_WEB,
							UpdateTime: tp.GetTime().AsTime(),
							Touchpoint: tp,
							Limits:     roomyAnswers,
						})
					} else {
						var j *handoffv1.Journey
						if j, err = s.GetJourney(t.Context(), k); err != nil {
							errs[w] = err
							return
						}
						j.ChannelDetail = tp.Note
						_, err = s.UpdateJourney(t.Context(), store.Update{Journey: j, Touchpoints: []*handoffv1.Touchpoint{tp}})
					}
					switch {
					case errors.Is(err, store.ErrConflict):
					case err != nil:
						errs[w] = fmt.Errorf("writer %d, update %d: %w", w, i, err)
						return
					default:
						i++
					}
				}
			})
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs...))

		last := int64(1 + writers/journeys*updates)
		for _, k := range keys {
			r.WaitFor(t, k, last)
			got := r.Of(k)
			require.Len(t, got, int(last), "%s: changes missed or repeated", k.Name())
			for i, c := range got {
				require.Equal(t, int64(i+1), c.GetRevision(), "%s: out of order", k.Name())
				require.Len(t, c.GetTouchpoints(), 1)
				require.Equal(t, store.TouchpointName(k, i+1), c.GetTouchpoints()[0].GetName())
			}
			// The deltas, applied in order, make the journey as it is.
			requireProtoEqual(t, get(t, s, k), replay(t, &handoffv1.Journey{}, got...))
		}
	})

	t.Run("a_delivered_change_is_the_logged_change", func(t *testing.T) {
		s := newStore(t, Options{})
		r, _, _ := subscribe(t, s)
		k := key("c-1", "j-1")
		want := history(t, s, k, 4)
		r.WaitFor(t, k, 4)
		requireProtosEqual(t, want, r.Of(k))
	})

	t.Run("subscribe_delivers_only_the_journeys_its_filter_wants", func(t *testing.T) {
		s := newStore(t, Options{})
		unwanted, wanted := key("c-1", "unwanted"), key("c-1", "wanted")
		var asked sync.Map
		r, _, _ := subscribeTo(t, s, func(k store.JourneyKey) bool {
			asked.Store(k, true)
			return k != unwanted
		})
		// Written before the wanted journey's last change, so delivered
		// before it, had the filter let it through.
		history(t, s, unwanted, 3)
		history(t, s, wanted, 3)
		r.WaitFor(t, wanted, 3)
		require.Empty(t, r.Of(unwanted), "changes to an unwanted journey were delivered")
		_, ok := asked.Load(unwanted)
		require.True(t, ok, "the filter was never asked about the unwanted journey")
	})

	t.Run("subscribe_returns_when_its_context_ends_and_delivers_no_more", func(t *testing.T) {
		s := newStore(t, Options{})
		r, cancel, done := subscribe(t, s)
		k := key("c-1", "j-1")
		j := create(t, s, newJourney(t, k, now()))
		r.WaitFor(t, k, 1)

		cancel()
		select {
		case err := <-done:
			require.ErrorIs(t, err, context.Canceled)
		case <-time.After(deliveryTimeout):
			require.FailNow(t, "Subscribe did not return after its context ended")
		}
		seen := r.Count()
		update(t, s, j)
		time.Sleep(100 * time.Millisecond)
		require.Equal(t, seen, r.Count(), "a change was delivered after Subscribe returned")
	})

	t.Run("subscribe_with_an_ended_context_returns_at_once", func(t *testing.T) {
		s := newStore(t, Options{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := s.Subscribe(ctx, nil, NewRecorder().Handle, func() {})
		require.ErrorIs(t, err, context.Canceled)
	})
}
