package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// testRevisions checks the two counters a store keeps per journey: the
// revision moves on every change, the etag only when the content changes.
func testRevisions(t *testing.T, newStore Factory) {
	t.Run("the_revision_is_1_at_create_and_moves_by_one_per_save_and_update", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		j := create(t, s, newJourney(t, k, now()))
		require.Equal(t, int64(1), j.GetRevision())
		for i, op := range []string{"update", "touch", "save", "touch", "update", "save"} {
			j.ChannelDetail = fmt.Sprintf("desk %d", i+1)
			switch op {
			case "update":
				j = update(t, s, j)
			case "touch":
				j = touch(t, s, j)
			case "save":
				j = save(t, s, saveOf(k, answer(t, "n", i+1)))
			}
			require.Equal(t, int64(i+2), j.GetRevision(), "after %s %d", op, i+1)
			require.Equal(t, int64(i+2), get(t, s, k).GetRevision())
		}
		listed, _, err := s.ListJourneys(t.Context(), k.Customer, store.ListJourneysQuery{Limit: 10})
		require.NoError(t, err)
		require.Len(t, listed, 1)
		requireProtoEqual(t, j, listed[0])
	})

	t.Run("create_ignores_the_etag_and_revision_it_is_given", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		j := newJourney(t, k, now())
		j.Etag, j.Revision = "42", 42
		got := create(t, s, j)
		require.Equal(t, int64(1), got.GetRevision())
		require.NotEqual(t, "42", got.GetEtag())
		requireProtoEqual(t, got, get(t, s, k))
	})

	// A claim or a handoff offer is such an update: the website holding the
	// etag must still be able to save after it.
	t.Run("an_update_without_a_content_change_keeps_the_etag_moves_the_revision_and_appends", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		created := create(t, s, newJourney(t, k, now()))

		claimed := proto.CloneOf(created)
		claimed.Assignee = "alice"
		claimed.AssigneeDisplayName = "Alice"
		claimed.AssigneeChannel = handoffv1.Channel_CHANNEL_PHONE
		claimed.ClaimExpireTime = timestamppb.New(now().Add(5 * time.Minute))
		claimed.UpdateTime = timestamppb.New(now())
		offer := newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_HANDOFF_OFFERED, "vehicle", now())
		offer.Name = "bogus"

		got := touch(t, s, claimed, offer)
		requireProtoEqual(t, saved(claimed, created.GetEtag(), 2, store.DefaultTTL), got)
		requireProtoEqual(t, got, get(t, s, k))
		tl := timeline(t, s, k)
		require.Len(t, tl, 2)
		requireProtoEqual(t, named(k, 2, offer)[0], tl[1])

		// The etag read before the touch is the current one, so a save with
		// it, even checked against the whole journey, goes through and
		// moves it.
		sv := saveOf(k, answer(t, "n", 1))
		sv.IfEtag, sv.WholeJourneyEtag = created.GetEtag(), true
		saved := save(t, s, sv)
		require.NotEqual(t, created.GetEtag(), saved.GetEtag())
		require.Equal(t, int64(3), saved.GetRevision())
	})

	t.Run("updates_without_a_content_change_never_move_the_etag", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		j := create(t, s, newJourney(t, k, now()))
		etag := j.GetEtag()
		for range 5 {
			j = touch(t, s, j, newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_HANDOFF_OFFERED, "vehicle", now()))
			require.Equal(t, etag, j.GetEtag())
		}
		require.Equal(t, int64(6), j.GetRevision())
		require.Len(t, timeline(t, s, k), 6)
	})
}
