package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/memory"
	"github.com/journeyhandoff/handoff/internal/watch"
)

func TestWriteQueue(t *testing.T) {
	journey := store.JourneyKey{Customer: "c-1", Journey: "j-1"}
	tests := []struct {
		name string
		// second is the journey of a change that comes while a change to
		// journey holds its turn.
		second store.JourneyKey
		// wantWait says whether the second change waits until the first
		// is done.
		wantWait bool
	}{
		{"a second change to the same journey waits for the first", journey, true},
		{"a change to another journey of the customer does not wait", store.JourneyKey{Customer: "c-1", Journey: "j-2"}, false},
		{"a change to another customer's journey of that id does not wait", store.JourneyKey{Customer: "c-2", Journey: "j-1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q writeQueue
			done, err := q.wait(t.Context(), journey)
			require.NoError(t, err)

			got := make(chan func(), 1)
			go func() {
				second, err := q.wait(t.Context(), tt.second)
				if err == nil {
					got <- second
				}
			}()
			if tt.wantWait {
				select {
				case <-got:
					t.Fatal("the second change did not wait for the first")
				case <-time.After(50 * time.Millisecond):
				}
				done()
				(<-got)()
			} else {
				(<-got)()
				done()
			}
			require.Zero(t, q.len(), "a queue outlived its changes")
		})
	}
}

func TestWriteQueueLetsAChangeGoAheadWhenItsTurnIsLate(t *testing.T) {
	var q writeQueue
	key := store.JourneyKey{Customer: "c-1", Journey: "j-1"}
	done, err := q.wait(t.Context(), key)
	require.NoError(t, err)

	began := time.Now()
	late, err := q.wait(t.Context(), key)
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(began), maxTurnWait, "went ahead before its turn was late")

	// The late change ends without having had the turn; the queue is
	// dropped once both are done.
	late()
	done()
	require.Zero(t, q.len(), "a queue outlived its changes")
	again, err := q.wait(t.Context(), key)
	require.NoError(t, err)
	again()
}

func TestWriteQueueWaiterGivesUpAtItsDeadline(t *testing.T) {
	var q writeQueue
	key := store.JourneyKey{Customer: "c-1", Journey: "j-1"}
	done, err := q.wait(t.Context(), key)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err = q.wait(ctx, key)
	require.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)

	done()
	require.Zero(t, q.len(), "a queue outlived its changes")
	again, err := q.wait(t.Context(), key)
	require.NoError(t, err, "the journey stayed locked after a waiter gave up")
	again()
}

// conflictCounter is the memory store, counting the writes it refused
// because the journey moved since it was read.
type conflictCounter struct {
	store.Store
	conflicts atomic.Int64
}

func (c *conflictCounter) UpdateJourney(ctx context.Context, u store.Update) (*handoffv1.Journey, error) {
	j, err := c.Store.UpdateJourney(ctx, u)
	if errors.Is(err, store.ErrConflict) {
		c.conflicts.Add(1)
	}
	return j, err
}

func TestConcurrentSavesToOneJourneyNeverRaceInTheStore(t *testing.T) {
	const writers, saves = 16, 25
	st := &conflictCounter{Store: memory.New()}
	t.Cleanup(func() { _ = st.Close() })
	svc := New(st, watch.NewHub(st, 0), Options{})
	// On a loaded machine 15 saves ahead of one can take longer than the
	// usual wait, after which it would race by design; the turns are what
	// is under test here.
	svc.writes.maxWait = time.Minute
	ctx := auth.WithPrincipal(t.Context(), auth.Principal{ID: "shop-website", Role: handoffv1.Role_ROLE_SERVICE})
	j, err := svc.CreateJourney(ctx, &handoffv1.CreateJourneyRequest{Parent: "customers/c-1", JourneyId: "j-1", Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote"}})
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range saves {
				answer := fmt.Sprintf("w%d", w)
				_, err := svc.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{
					Journey:    &handoffv1.Journey{Name: j.GetName(), Data: &structpb.Struct{Fields: map[string]*structpb.Value{answer: structpb.NewNumberValue(float64(i))}}},
					UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"data." + answer}},
				})
				if err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))

	got, err := svc.GetJourney(ctx, &handoffv1.GetJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	require.Equal(t, int64(1+writers*saves), got.GetRevision(), "a save was lost or doubled")
	for w := range writers {
		require.Equal(t, float64(saves-1), got.GetData().GetFields()[fmt.Sprintf("w%d", w)].GetNumberValue(), "writer %d's last save", w)
	}
	require.Zero(t, st.conflicts.Load(), "saves from one process raced in the store")
}
