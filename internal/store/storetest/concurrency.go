package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

func testConcurrency(t *testing.T, newStore Factory) {
	// One writer changes content and the other does not, so that the
	// revision alone must decide (the etag of one of them would not move).
	t.Run("two_updates_at_the_same_revision_at_once_let_exactly_one_win", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))

		// Several rounds, since one race can be won by luck.
		for round := range 6 {
			cur := get(t, s, k)
			start := make(chan struct{})
			var wg sync.WaitGroup
			var got [2]*handoffv1.Journey
			var errs [2]error
			for i := range 2 {
				// Two agents claiming the case at once.
				j := proto.CloneOf(cur)
				j.Assignee = fmt.Sprintf("agent-%d", i)
				tp := newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_CLAIMED, "vehicle", now())
				tp.Note = fmt.Sprintf("round %d, writer %d", round, i)
				u := store.Update{Journey: j, ContentChanged: (i+round)%2 == 0, Touchpoints: []*handoffv1.Touchpoint{tp}}
				wg.Go(func() {
					<-start
					got[i], errs[i] = s.UpdateJourney(t.Context(), u)
				})
			}
			close(start)
			wg.Wait()

			winner, loser := 0, 1
			if errs[0] != nil {
				winner, loser = 1, 0
			}
			require.NoError(t, errs[winner], "round %d: neither update won", round)
			require.ErrorIs(t, errs[loser], store.ErrConflict, "round %d: both updates won", round)
			require.Equal(t, cur.GetRevision()+1, got[winner].GetRevision())
			requireProtoEqual(t, got[winner], get(t, s, k))
			tl := timeline(t, s, k)
			require.Len(t, tl, 2+round, "round %d: one touchpoint per winning update", round)
			require.Equal(t, fmt.Sprintf("round %d, writer %d", round, winner), tl[len(tl)-1].GetNote())
		}
	})

	// Every save counts n up from what it read, with the etag it read, so
	// any two that overlap write n over each other: per-answer etags must
	// refuse one of them, or an increment is lost. Each writer also counts
	// its own answer, which nobody else writes.
	t.Run("concurrent_saves_that_retry_on_conflict_all_apply", func(t *testing.T) {
		const writers, saves = 8, 100
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))

		// save is what a careful client does: read, change, save with the
		// etag read, and start over if it lost.
		save := func(ctx context.Context, writer, i int) error {
			for {
				j, err := s.GetJourney(ctx, k)
				if err != nil {
					return err
				}
				own := fmt.Sprintf("w%d", writer)
				at := now()
				tp := newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, "", at)
				tp.Note = fmt.Sprintf("%s %d", own, i)
				_, err = s.SaveJourney(ctx, store.Save{
					Key:    k,
					IfEtag: j.GetEtag(),
					Answers: []store.AnswerChange{
						{Path: "n", Value: structpb.NewNumberValue(j.Data.Fields["n"].GetNumberValue() + 1)},
						{Path: own, Value: structpb.NewNumberValue(j.Data.Fields[own].GetNumberValue() + 1)},
					},
					Channel:    handoffv1.Channel_CHANNEL_WEB,
					UpdateTime: at,
					Touchpoint: tp,
					Limits:     roomyAnswers,
				})
				if !errors.Is(err, store.ErrConflict) {
					return err
				}
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for w := range writers {
			wg.Go(func() {
				for i := range saves {
					if err := save(t.Context(), w, i); err != nil {
						errs[w] = fmt.Errorf("writer %d, save %d: %w", w, i, err)
						return
					}
				}
			})
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs...))

		j := get(t, s, k)
		require.EqualValues(t, writers*saves, j.Data.Fields["n"].GetNumberValue(), "lost updates")
		require.Equal(t, int64(1+writers*saves), j.GetRevision())
		for w := range writers {
			require.EqualValues(t, saves, j.Data.Fields[fmt.Sprintf("w%d", w)].GetNumberValue(), "writer %d", w)
		}
		tl := timeline(t, s, k)
		require.Len(t, tl, 1+writers*saves)
		next := make([]int, writers) // each writer's touchpoints keep its order
		for pos, tp := range tl {
			require.Equal(t, store.TouchpointName(k, pos+1), tp.GetName())
			if pos == 0 {
				continue
			}
			var w, i int
			_, err := fmt.Sscanf(tp.GetNote(), "w%d %d", &w, &i)
			require.NoError(t, err, "touchpoint %d", pos+1)
			require.Equal(t, next[w], i, "writer %d's saves out of order", w)
			next[w]++
		}
	})

	// Writers that share no answer never refuse each other, however their
	// saves interleave: each saves with the etag its own last save returned.
	t.Run("concurrent_saves_of_different_answers_with_their_own_etags_never_conflict", func(t *testing.T) {
		const writers, saves = 8, 50
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		first := create(t, s, newJourney(t, k, now())).GetEtag()
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for w := range writers {
			wg.Go(func() {
				etag := first
				for i := range saves {
					at := now()
					got, err := s.SaveJourney(t.Context(), store.Save{
						Key:        k,
						IfEtag:     etag,
						Answers:    []store.AnswerChange{{Path: fmt.Sprintf("w%d.n", w), Value: structpb.NewNumberValue(float64(i + 1))}},
						Channel:    handoffv1.Channel_CHANNEL_WEB,
						UpdateTime: at,
						Touchpoint: newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, "", at),
						Limits:     roomyAnswers,
					})
					if err != nil {
						errs[w] = fmt.Errorf("writer %d, save %d: %w", w, i, err)
						return
					}
					etag = got.GetEtag()
				}
			})
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs...))
		j := get(t, s, k)
		require.Equal(t, int64(1+writers*saves), j.GetRevision())
		for w := range writers {
			require.EqualValues(t, saves, j.Data.Fields[fmt.Sprintf("w%d", w)].GetStructValue().GetFields()["n"].GetNumberValue(), "writer %d", w)
		}
	})
}
