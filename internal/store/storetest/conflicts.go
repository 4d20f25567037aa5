package storetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// testSaveConflicts checks the etag of a save (docs/layout.md, "Conflicts
// per answer"): refused only when something the save writes changed after
// the etag, unless it asks for the whole-journey check.
func testSaveConflicts(t *testing.T, newStore Factory) {
	// others are writes by other people; each is one change.
	setBy := func(path string, v any) func(t *testing.T, s store.Store, k store.JourneyKey) {
		return func(t *testing.T, s store.Store, k store.JourneyKey) { save(t, s, saveOf(k, answer(t, path, v))) }
	}
	removedBy := func(path string) func(t *testing.T, s store.Store, k store.JourneyKey) {
		return func(t *testing.T, s store.Store, k store.JourneyKey) { save(t, s, saveOf(k, removal(path))) }
	}
	stepBy := func(step string) func(t *testing.T, s store.Store, k store.JourneyKey) {
		return func(t *testing.T, s store.Store, k store.JourneyKey) {
			sv := saveOf(k)
			sv.SetStep, sv.Step = true, step
			save(t, s, sv)
		}
	}
	claimBy := func(agent string) func(t *testing.T, s store.Store, k store.JourneyKey) {
		return func(t *testing.T, s store.Store, k store.JourneyKey) { claimed(t, s, k, agent, now().Add(time.Minute)) }
	}
	// mine are the caller's saves, made with the etag it read.
	sets := func(path string, v any) func(t *testing.T, sv *store.Save) {
		return func(t *testing.T, sv *store.Save) { sv.Answers = append(sv.Answers, answer(t, path, v)) }
	}
	removes := func(path string) func(t *testing.T, sv *store.Save) {
		return func(_ *testing.T, sv *store.Save) { sv.Answers = append(sv.Answers, removal(path)) }
	}
	setsStep := func(step string) func(t *testing.T, sv *store.Save) {
		return func(_ *testing.T, sv *store.Save) { sv.SetStep, sv.Step = true, step }
	}
	whole := func(mine func(t *testing.T, sv *store.Save)) func(t *testing.T, sv *store.Save) {
		return func(t *testing.T, sv *store.Save) {
			sv.WholeJourneyEtag = true
			mine(t, sv)
		}
	}
	replaces := func(t *testing.T, sv *store.Save) {
		sv.ReplaceAnswers = true
		sv.Answers = append(sv.Answers, answer(t, "driver.age", 42))
	}

	// The journey is created (answers n, vehicle.plate and vehicle.year,
	// step vehicle), then changed by before, then read; then others
	// change it (since) and the caller saves with the etag it read.
	for _, tc := range []struct {
		name     string
		before   func(t *testing.T, s store.Store, k store.JourneyKey)
		since    func(t *testing.T, s store.Store, k store.JourneyKey)
		mine     func(t *testing.T, sv *store.Save)
		conflict bool
	}{
		{"nothing_changed_since_the_etag", nil, nil, sets("vehicle.plate", "XY-987"), false},
		{"an_answer_written_since_conflicts_with_a_save_of_it", nil, setBy("vehicle.plate", "CD-456"), sets("vehicle.plate", "XY-987"), true},
		{"an_answer_written_since_conflicts_with_its_removal", nil, setBy("vehicle.plate", "CD-456"), removes("vehicle.plate"), true},
		{"an_answer_written_since_conflicts_with_a_save_of_an_object_above_it", nil, setBy("vehicle.plate", "CD-456"), sets("vehicle", "none"), true},
		{"an_answer_written_since_conflicts_with_the_removal_of_an_object_above_it", nil, setBy("vehicle.plate", "CD-456"), removes("vehicle"), true},
		{"an_answer_written_since_conflicts_with_a_save_of_an_answer_under_it", setBy("cover", "none"), setBy("cover", "full"), sets("cover.level", "basic"), true},
		{"a_sibling_written_since_does_not_conflict", nil, setBy("vehicle.year", 2021), sets("vehicle.plate", "XY-987"), false},
		{"an_answer_whose_name_merely_starts_alike_does_not_conflict", nil, setBy("vehicles", 2), sets("vehicle", map[string]any{"plate": "XY-987"}), false},
		{"an_answer_written_before_the_etag_does_not_conflict", setBy("vehicle.plate", "CD-456"), nil, sets("vehicle.plate", "XY-987"), false},
		{"a_removal_since_conflicts_with_a_save_of_an_answer_not_stored", nil, removedBy("n"), sets("driver.age", 42), true},
		{"a_removal_since_conflicts_with_a_save_of_the_answer_it_removed", nil, removedBy("n"), sets("n", 1), true},
		{"a_removal_since_conflicts_with_a_removal_of_an_answer_not_stored", nil, removedBy("n"), removes("driver.age"), true},
		{"a_removal_since_does_not_conflict_with_a_save_of_a_stored_answer", nil, removedBy("n"), sets("vehicle.plate", "XY-987"), false},
		{"a_removal_since_does_not_conflict_with_a_save_over_answers_stored_under_it", nil, removedBy("n"), sets("vehicle", "none"), false},
		// An answer above the path is no answer at it: what was removed
		// may have been an object there, replaced since.
		{"a_removal_since_conflicts_with_a_save_under_an_answer_that_is_no_object", setBy("cover", "none"), removedBy("n"), sets("cover.level", "basic"), true},
		{"a_removal_before_the_etag_does_not_conflict", removedBy("n"), nil, sets("driver.age", 42), false},
		{"a_step_changed_since_conflicts_with_a_save_of_the_step", nil, stepBy("driver"), setsStep("payment"), true},
		{"a_step_changed_by_an_update_since_conflicts_with_a_save_of_the_step", nil,
			func(t *testing.T, s store.Store, k store.JourneyKey) {
				j := get(t, s, k)
				j.Step = "driver"
				update(t, s, j)
			},
			setsStep("payment"), true},
		{"a_step_changed_since_does_not_conflict_with_a_save_of_answers", nil, stepBy("driver"), sets("vehicle.plate", "XY-987"), false},
		{"answers_written_since_do_not_conflict_with_a_save_of_the_step", nil, setBy("vehicle.plate", "CD-456"), setsStep("driver"), false},
		{"a_claim_since_does_not_conflict", nil, claimBy("alice"), sets("vehicle.plate", "XY-987"), false},
		{"with_the_whole_journey_etag_any_answer_written_since_conflicts", nil, setBy("cover", "full"), whole(sets("vehicle.plate", "XY-987")), true},
		{"with_the_whole_journey_etag_a_step_changed_since_conflicts", nil, stepBy("driver"), whole(sets("vehicle.plate", "XY-987")), true},
		{"with_the_whole_journey_etag_nothing_changed_since_does_not_conflict", setBy("cover", "full"), nil, whole(sets("vehicle.plate", "XY-987")), false},
		{"with_the_whole_journey_etag_a_claim_since_does_not_conflict", nil, claimBy("alice"), whole(sets("vehicle.plate", "XY-987")), false},
		{"replacing_the_answers_conflicts_with_any_answer_written_since", nil, setBy("cover", "full"), replaces, true},
		{"replacing_the_answers_conflicts_with_any_removal_since", nil, removedBy("n"), replaces, true},
		{"replacing_the_answers_does_not_conflict_with_a_step_changed_since", nil, stepBy("driver"), replaces, false},
		{"replacing_the_answers_with_nothing_changed_since_does_not_conflict", setBy("cover", "full"), nil, replaces, false},
		{"an_etag_that_is_no_number_conflicts", nil, nil,
			func(t *testing.T, sv *store.Save) {
				sv.IfEtag = "not-an-etag"
				sets("vehicle.plate", "XY-987")(t, sv)
			}, true},
		{"etag_0_conflicts", nil, nil,
			func(t *testing.T, sv *store.Save) {
				sv.IfEtag = "0"
				sets("vehicle.plate", "XY-987")(t, sv)
			}, true},
		{"an_etag_not_given_out_yet_conflicts", nil, nil,
			func(t *testing.T, sv *store.Save) {
				read, err := strconv.ParseInt(sv.IfEtag, 10, 64)
				require.NoError(t, err, "etags are decimal counters")
				sv.IfEtag = strconv.FormatInt(read+1, 10)
				sets("vehicle.plate", "XY-987")(t, sv)
			}, true},
		{"without_an_etag_nothing_conflicts", nil, setBy("vehicle.plate", "CD-456"),
			func(t *testing.T, sv *store.Save) {
				sv.IfEtag = ""
				sets("vehicle.plate", "XY-987")(t, sv)
			}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, Options{})
			k := key("c-1", "j-1")
			create(t, s, newJourney(t, k, now()))
			if tc.before != nil {
				tc.before(t, s, k)
			}
			read := get(t, s, k).GetEtag()
			if tc.since != nil {
				tc.since(t, s, k)
			}
			before := snap(t, s, k)

			sv := saveOf(k)
			sv.IfEtag = read
			tc.mine(t, &sv)
			got, err := s.SaveJourney(t.Context(), sv)
			if tc.conflict {
				require.ErrorIs(t, err, store.ErrConflict)
				requireUnchanged(t, s, k, before)
				return
			}
			require.NoError(t, err)
			require.Equal(t, before.journey.GetRevision()+1, got.GetRevision())
			requireProtoEqual(t, got, get(t, s, k))
		})
	}

	// The Anna-and-Ravi case of docs/layout.md, over many rounds: each
	// saves only their own answers, with the etag their own last save
	// returned, and never refuses the other.
	t.Run("alternating_saves_of_different_answers_never_conflict", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		etag := create(t, s, newJourney(t, k, now())).GetEtag()
		etags := map[string]string{"anna": etag, "ravi": etag}
		for i := range 10 {
			for _, who := range []string{"anna", "ravi"} {
				sv := saveOf(k, answer(t, who+".n", i))
				sv.IfEtag = etags[who]
				sv.Channel = map[string]handoffv1.Channel{"anna": handoffv1.Channel_CHANNEL_WEB, "ravi": handoffv1.Channel_CHANNEL_PHONE}[who]
				etags[who] = save(t, s, sv).GetEtag()
			}
		}
		j := get(t, s, k)
		require.EqualValues(t, 9, j.GetData().GetFields()["anna"].GetStructValue().GetFields()["n"].GetNumberValue())
		require.EqualValues(t, 9, j.GetData().GetFields()["ravi"].GetStructValue().GetFields()["n"].GetNumberValue())
	})
}
