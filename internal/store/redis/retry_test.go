package redis_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

// go-redis resends a command whose reply was lost with its connection, so
// each write script may run twice with the same arguments. The second run
// must report what the first did, and write nothing more.
func TestAWriteScriptRunTwiceWritesOnce(t *testing.T) {
	ctx := t.Context()
	s, prefix := sealedStore(t, "", nil, storetest.Options{TTL: time.Hour})
	key := store.JourneyKey{Customer: "c1", Journey: "j1"}

	t.Run("a_create_run_twice_is_created_once", func(t *testing.T) {
		results, err := s.CreateRunTwice(ctx, key, newJourney(key, time.Now()), touchpoint("start"))
		require.NoError(t, err)
		require.Equal(t, [2]string{"created", "created"}, results)
		tps, _, err := s.ListTouchpoints(ctx, key, 0, 10)
		require.NoError(t, err)
		require.Len(t, tps, 1)
	})
	t.Run("a_save_run_twice_is_saved_once", func(t *testing.T) {
		cur, err := s.GetJourney(ctx, key)
		require.NoError(t, err)
		results, err := s.SaveRunTwice(ctx, store.Save{
			Key: key, UpdateTime: time.Now(), Touchpoint: touchpoint("vehicle"), Limits: store.AnswerLimits{Answers: 10, Bytes: 1000},
			Answers: []store.AnswerChange{{Path: "vehicle.plate", Value: structpb.NewStringValue("AB-123-CD")}},
		})
		require.NoError(t, err)
		require.Equal(t, [2]string{"saved", "replayed"}, results)
		after, err := s.GetJourney(ctx, key)
		require.NoError(t, err)
		require.Equal(t, cur.GetRevision()+1, after.GetRevision(), "one revision, not two")
		require.Equal(t, "AB-123-CD", after.GetData().GetFields()["vehicle"].GetStructValue().GetFields()["plate"].GetStringValue())
		tps, _, err := s.ListTouchpoints(ctx, key, 0, 10)
		require.NoError(t, err)
		require.Len(t, tps, 2, "one touchpoint for the save")
		changes, _, err := s.ChangesSince(ctx, key, cur.GetRevision())
		require.NoError(t, err)
		require.Len(t, changes, 1, "one change logged for the save")
	})
	t.Run("an_update_run_twice_is_updated_once", func(t *testing.T) {
		cur, err := s.GetJourney(ctx, key)
		require.NoError(t, err)
		cur.Assignee = "alice"
		results, err := s.UpdateRunTwice(ctx, store.Update{Journey: cur, Touchpoints: []*handoffv1.Touchpoint{touchpoint("vehicle")}})
		require.NoError(t, err)
		require.Equal(t, [2]string{"updated", "replayed"}, results)
		after, err := s.GetJourney(ctx, key)
		require.NoError(t, err)
		require.Equal(t, cur.GetRevision()+1, after.GetRevision(), "one revision, not two")
		require.Equal(t, "alice", after.GetAssignee())
		tps, _, err := s.ListTouchpoints(ctx, key, 0, 10)
		require.NoError(t, err)
		require.Len(t, tps, 3, "one touchpoint for the update")
	})
	t.Run("another_save_from_the_same_read_still_conflicts", func(t *testing.T) {
		stale, err := s.GetJourney(ctx, key)
		require.NoError(t, err)
		stale.Revision-- // read before the last save
		_, err = s.UpdateJourney(ctx, store.Update{Journey: stale, ContentChanged: true})
		require.ErrorIs(t, err, store.ErrConflict)
	})
	t.Run("only_the_last_8_write_ids_are_kept", func(t *testing.T) {
		for range 10 {
			cur, err := s.GetJourney(ctx, key)
			require.NoError(t, err)
			_, err = s.UpdateJourney(ctx, store.Update{Journey: cur})
			require.NoError(t, err)
		}
		h, err := client.HGetAll(ctx, prefix+"{c1}:j:j1").Result()
		require.NoError(t, err)
		ids := 0
		for f := range h {
			if len(f) == 2 && f[0] == 'w' {
				ids++
			}
		}
		require.Equal(t, 8, ids)
	})
	t.Run("a_redeem_run_twice_gets_the_journey_both_times_and_uses_the_code", func(t *testing.T) {
		require.NoError(t, s.CreateHandoffCode(ctx, "RETRY1234", key, time.Now().Add(time.Minute), store.CodeLimits{Live: 1, Made: 1}))
		results, err := s.RedeemRunTwice(ctx, "RETRY1234")
		require.NoError(t, err)
		require.Equal(t, [2]string{"+c1/j1 opens=1", "+c1/j1 opens=1"}, results)
		_, err = s.RedeemHandoffCode(ctx, "RETRY1234")
		require.ErrorIs(t, err, store.ErrNotFound, "another redeem finds the code used")
	})
}
