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
// feed (through Redis pub/sub, under the race detector).
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

// follow opens a feed into a new Recorder that follows keys, and closes
// it when the test ends.
func follow(t *testing.T, s store.Store, keys ...store.JourneyKey) (*Recorder, store.Feed) {
	t.Helper()
	r := NewRecorder()
	f := s.OpenFeed(r.Handle, func() {})
	t.Cleanup(f.Close)
	for _, k := range keys {
		require.NoError(t, f.Follow(t.Context(), k))
	}
	return r, f
}

// requireQuiet writes to the journey at k and checks that r records
// nothing more: a store delivers promptly (WaitFor), so a change that
// arrives in 200 ms would have arrived.
func requireQuiet(t *testing.T, s store.Store, r *Recorder, k store.JourneyKey, why string) {
	t.Helper()
	seen := r.Count()
	update(t, s, get(t, s, k))
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, seen, r.Count(), why)
}

func testFeed(t *testing.T, newStore Factory) {
	t.Run("a_feed_delivers_the_create_and_every_update_in_revision_order", func(t *testing.T) {
		const journeys, writers, updates = 2, 4, 50
		s := newStore(t, Options{})
		keys := make([]store.JourneyKey, journeys)
		for i := range keys {
			keys[i] = key("c-1", fmt.Sprintf("j-%d", i))
		}
		r, _ := follow(t, s, keys...)
		for _, k := range keys {
			create(t, s, newJourney(t, k, now()))
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
		k := key("c-1", "j-1")
		r, _ := follow(t, s, k)
		want := history(t, s, k, 4)
		r.WaitFor(t, k, 4)
		requireProtosEqual(t, want, r.Of(k))
	})

	t.Run("a_feed_delivers_only_the_journeys_it_follows", func(t *testing.T) {
		s := newStore(t, Options{})
		// Another journey of the same customer shares the slot, the other
		// customer's does not; neither is followed.
		sameCustomer, otherCustomer, followed := key("c-1", "unfollowed"), key("c-2", "unfollowed"), key("c-1", "followed")
		r, _ := follow(t, s, followed)
		// Written before the followed journey's last change, so delivered
		// before it, had the feed let them through.
		history(t, s, sameCustomer, 3)
		history(t, s, otherCustomer, 3)
		history(t, s, followed, 3)
		r.WaitFor(t, followed, 3)
		require.Empty(t, r.Of(sameCustomer), "changes to an unfollowed journey of the same customer were delivered")
		require.Empty(t, r.Of(otherCustomer), "changes to another customer's journey were delivered")
	})

	t.Run("a_journey_followed_twice_is_delivered_until_its_last_unfollow", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		r, f := follow(t, s, k, k)
		history(t, s, k, 2)
		r.WaitFor(t, k, 2)

		f.Unfollow(k)
		j := update(t, s, get(t, s, k))
		r.WaitFor(t, k, j.GetRevision())

		f.Unfollow(k)
		requireQuiet(t, s, r, k, "a change was delivered after the last Unfollow")

		// Following again delivers again.
		require.NoError(t, f.Follow(t.Context(), k))
		j = update(t, s, get(t, s, k))
		r.WaitFor(t, k, j.GetRevision())
	})

	t.Run("a_closed_feed_delivers_no_more_and_follows_nothing", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		r, f := follow(t, s, k)
		create(t, s, newJourney(t, k, now()))
		r.WaitFor(t, k, 1)

		f.Close()
		requireQuiet(t, s, r, k, "a change was delivered after Close")
		require.Error(t, f.Follow(t.Context(), k))
	})

	t.Run("follow_with_an_ended_context_returns_its_error", func(t *testing.T) {
		s := newStore(t, Options{})
		_, f := follow(t, s)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		require.ErrorIs(t, f.Follow(ctx, key("c-1", "j-1")), context.Canceled)
	})
}
