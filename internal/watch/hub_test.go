package watch_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/memory"
	"github.com/journeyhandoff/handoff/internal/watch"
)

// setup runs a hub over a memory store whose change log keeps 4 entries,
// and makes a journey with `changes` updates after its creation.
func setup(t *testing.T, changes int) (*watch.Hub, store.Store, store.JourneyKey) {
	st := memory.New(memory.WithChangeLog(4, time.Hour))
	t.Cleanup(func() { _ = st.Close() })
	hub := watch.NewHub(st, 8)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = hub.Run(ctx) }()
	key := store.JourneyKey{Customer: "c-1", Journey: "j"}
	now := timestamppb.Now()
	j, _, err := st.CreateJourney(t.Context(), &handoffv1.Journey{Name: key.Name(), State: handoffv1.JourneyState_JOURNEY_STATE_ACTIVE, Data: &structpb.Struct{}, CreateTime: now, UpdateTime: now}, &handoffv1.Touchpoint{}, "")
	require.NoError(t, err)
	for i := range changes {
		j.Step = "step-" + string(rune('a'+i))
		j, err = st.UpdateJourney(t.Context(), store.Update{Journey: j, ContentChanged: true})
		require.NoError(t, err)
	}
	return hub, st, key
}

// collect watches until n changes arrived.
func collect(t *testing.T, hub *watch.Hub, key store.JourneyKey, after int64, n int) []*handoffv1.JourneyChange {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var got []*handoffv1.JourneyChange
	done := make(chan struct{})
	go func() {
		_ = hub.Watch(ctx, key, after, func(c *watch.Change) error {
			got = append(got, c.JourneyChange)
			if len(got) == n {
				close(done)
				<-ctx.Done()
			}
			return nil
		})
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("got %d of %d changes", len(got), n)
	}
	cancel()
	return got
}

func TestWatch(t *testing.T) {
	t.Run("a_new_watch_starts_with_a_snapshot_marked_as_such", func(t *testing.T) {
		hub, _, key := setup(t, 2)
		got := collect(t, hub, key, 0, 1)
		require.True(t, got[0].GetSnapshot())
		require.Equal(t, int64(3), got[0].GetRevision())
	})
	t.Run("a_resume_within_the_log_replays_exactly_what_came_after", func(t *testing.T) {
		hub, _, key := setup(t, 3) // revisions 1..4, log holds 1..4
		got := collect(t, hub, key, 2, 2)
		require.False(t, got[0].GetSnapshot())
		require.Equal(t, []int64{3, 4}, []int64{got[0].GetRevision(), got[1].GetRevision()})
	})
	t.Run("a_resume_older_than_the_log_gets_a_fresh_snapshot_not_a_hole", func(t *testing.T) {
		hub, _, key := setup(t, 9) // revisions 1..10, log holds 7..10
		got := collect(t, hub, key, 2, 1)
		require.True(t, got[0].GetSnapshot())
		require.Equal(t, int64(10), got[0].GetRevision())
	})
	t.Run("every_watcher_of_a_journey_gets_one_change_whose_memo_is_computed_once", func(t *testing.T) {
		const watchers = 5
		hub, st, key := setup(t, 0)
		var computed atomic.Int32
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		snapshots, seen := make(chan struct{}, watchers), make(chan any, watchers)
		for range watchers {
			go func() {
				_ = hub.Watch(ctx, key, 0, func(c *watch.Change) error {
					if c.GetSnapshot() {
						snapshots <- struct{}{}
						return nil
					}
					seen <- c.Memo("wire", func() any { computed.Add(1); return new(int) })
					return nil
				})
			}()
		}
		for range watchers {
			<-snapshots
		}
		j, err := st.GetJourney(t.Context(), key)
		require.NoError(t, err)
		_, err = st.UpdateJourney(t.Context(), store.Update{Journey: j, ContentChanged: true})
		require.NoError(t, err)
		first := <-seen
		for range watchers - 1 {
			require.Same(t, first, <-seen, "a watcher got another value")
		}
		require.Equal(t, int32(1), computed.Load())
	})
	t.Run("watchers_whose_sends_block_do_not_hold_up_one_that_reads", func(t *testing.T) {
		// More blocked watchers than the hub keeps senders, registered
		// first, so they take every sender the hub starts with.
		blocked := 4*runtime.GOMAXPROCS(0) + 1
		hub, st, key := setup(t, 0)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		release := make(chan struct{})
		started := make(chan struct{}, blocked+1)
		for range blocked {
			go func() {
				_ = hub.Watch(ctx, key, 0, func(c *watch.Change) error {
					if c.GetSnapshot() {
						started <- struct{}{}
						return nil
					}
					<-release // a client that stopped reading
					return nil
				})
			}()
		}
		for range blocked {
			<-started
		}
		fast := make(chan int64, 1)
		go func() {
			_ = hub.Watch(ctx, key, 0, func(c *watch.Change) error {
				if c.GetSnapshot() {
					started <- struct{}{}
					return nil
				}
				fast <- c.GetRevision()
				return nil
			})
		}()
		<-started
		j, err := st.GetJourney(t.Context(), key)
		require.NoError(t, err)
		_, err = st.UpdateJourney(t.Context(), store.Update{Journey: j, ContentChanged: true})
		require.NoError(t, err)
		select {
		case rev := <-fast:
			require.Equal(t, j.GetRevision()+1, rev)
		case <-time.After(2 * time.Second):
			t.Fatal("the watcher that reads waited for those that do not")
		}
		close(release)
	})
	t.Run("a_watch_after_shutdown_is_told_to_reconnect", func(t *testing.T) {
		hub, _, key := setup(t, 0)
		hub.Shutdown()
		err := hub.Watch(t.Context(), key, 1, func(*watch.Change) error { return nil })
		require.ErrorContains(t, err, "after_revision=1")
	})
}
