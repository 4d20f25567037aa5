package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/answers"
	"github.com/journeyhandoff/handoff/internal/store"
)

// roomyAnswers are answer limits no case but the limit cases reaches.
var roomyAnswers = store.AnswerLimits{Answers: 1000, Bytes: 1 << 20}

// saveOf is an unconditional save of k by the shop website at the
// service's time now, within roomy limits, asking for the journey back;
// the case adds the rest. Its touchpoint has no step: the store stamps it.
func saveOf(k store.JourneyKey, changes ...store.AnswerChange) store.Save {
	at := now()
	return store.Save{
		Key:         k,
		Answers:     changes,
		Channel:     handoffv1.Channel_CHANNEL_WEB,
		UpdateTime:  at,
		Touchpoint:  newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, "", at),
		Limits:      roomyAnswers,
		WantJourney: true,
	}
}

// answer sets the answer at path to v.
func answer(t *testing.T, path string, v any) store.AnswerChange {
	t.Helper()
	value, err := structpb.NewValue(v)
	require.NoError(t, err)
	return store.AnswerChange{Path: path, Value: value}
}

// removal removes whatever stands at path.
func removal(path string) store.AnswerChange { return store.AnswerChange{Path: path} }

// save is SaveJourney that must succeed.
func save(t *testing.T, s store.Store, sv store.Save) *handoffv1.Journey {
	t.Helper()
	got, err := s.SaveJourney(t.Context(), sv)
	require.NoError(t, err)
	return got
}

// dataOf is m as a journey's answers.
func dataOf(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	data, err := structpb.NewStruct(m)
	require.NoError(t, err)
	return data
}

// totals is what data counts for against store.AnswerLimits.
func totals(t *testing.T, data *structpb.Struct) (n, size int) {
	t.Helper()
	for _, l := range answers.Leaves(data) {
		b, err := answers.EncodeJSON(l.Value)
		require.NoError(t, err)
		n++
		size += store.AnswerSize(l.Path, b)
	}
	return n, size
}

// claimed is the journey at k claimed by agent until until, a change that
// keeps the etag.
func claimed(t *testing.T, s store.Store, k store.JourneyKey, agent string, until time.Time) *handoffv1.Journey {
	t.Helper()
	j := get(t, s, k)
	j.Assignee = agent
	j.AssigneeDisplayName = agent
	j.AssigneeChannel = handoffv1.Channel_CHANNEL_PHONE
	j.ClaimExpireTime = timestamppb.New(until)
	return touch(t, s, j, newTouchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_CLAIMED, j.GetStep(), now()))
}

// mergeCase is a save of some shape, on a journey created by newJourney
// (answers n: 0 and vehicle: {plate: AB-123, year: 2019}), with the
// answers it must leave.
type mergeCase struct {
	name string
	// save changes a saveOf the journey.
	save func(t *testing.T, sv *store.Save)
	want map[string]any
}

// mergeCases are the merges a save makes, which the delta cases replay.
var mergeCases = []mergeCase{
	{"a_new_answer_is_added_beside_the_others",
		func(t *testing.T, sv *store.Save) { sv.Answers = []store.AnswerChange{answer(t, "driver.age", 42)} },
		map[string]any{"n": 0, "vehicle": map[string]any{"plate": "AB-123", "year": 2019}, "driver": map[string]any{"age": 42}}},
	{"an_answer_set_keeps_its_siblings",
		func(t *testing.T, sv *store.Save) {
			sv.Answers = []store.AnswerChange{answer(t, "vehicle.plate", "XY-987")}
		},
		map[string]any{"n": 0, "vehicle": map[string]any{"plate": "XY-987", "year": 2019}}},
	{"an_object_set_replaces_everything_under_it",
		func(t *testing.T, sv *store.Save) {
			sv.Answers = []store.AnswerChange{answer(t, "vehicle", map[string]any{"make": "Volvo", "extras": map[string]any{}})}
		},
		map[string]any{"n": 0, "vehicle": map[string]any{"make": "Volvo", "extras": map[string]any{}}}},
	{"an_answer_set_under_a_leaf_replaces_the_leaf",
		func(t *testing.T, sv *store.Save) { sv.Answers = []store.AnswerChange{answer(t, "n.first", "x")} },
		map[string]any{"n": map[string]any{"first": "x"}, "vehicle": map[string]any{"plate": "AB-123", "year": 2019}}},
	{"lists_null_and_empty_objects_are_answers",
		func(t *testing.T, sv *store.Save) {
			sv.Answers = []store.AnswerChange{answer(t, "drivers", []any{"Anna", map[string]any{"age": 42}}), answer(t, "note", nil), answer(t, "extras", map[string]any{})}
		},
		map[string]any{"n": 0, "vehicle": map[string]any{"plate": "AB-123", "year": 2019}, "drivers": []any{"Anna", map[string]any{"age": 42}}, "note": nil, "extras": map[string]any{}}},
	{"a_removal_takes_the_answer_away",
		func(t *testing.T, sv *store.Save) { sv.Answers = []store.AnswerChange{removal("n")} },
		map[string]any{"vehicle": map[string]any{"plate": "AB-123", "year": 2019}}},
	{"a_removal_of_an_object_takes_everything_under_it",
		func(t *testing.T, sv *store.Save) { sv.Answers = []store.AnswerChange{removal("vehicle")} },
		map[string]any{"n": 0}},
	{"removing_the_last_answers_under_an_object_leaves_the_empty_object",
		func(t *testing.T, sv *store.Save) {
			sv.Answers = []store.AnswerChange{removal("vehicle.plate"), removal("vehicle.year")}
		},
		map[string]any{"n": 0, "vehicle": map[string]any{}}},
	{"a_removal_of_what_is_not_there_changes_no_answer",
		func(t *testing.T, sv *store.Save) {
			sv.Answers = []store.AnswerChange{removal("driver.age"), removal("n.first")}
		},
		map[string]any{"n": 0, "vehicle": map[string]any{"plate": "AB-123", "year": 2019}}},
	{"changes_apply_in_order",
		func(t *testing.T, sv *store.Save) {
			sv.Answers = []store.AnswerChange{answer(t, "cover", "full"), answer(t, "cover.level", "basic"), answer(t, "vehicle.plate", "XY-987"), answer(t, "vehicle", map[string]any{"plate": "CD-456"})}
		},
		map[string]any{"n": 0, "vehicle": map[string]any{"plate": "CD-456"}, "cover": map[string]any{"level": "basic"}}},
	{"replacing_the_answers_removes_every_answer_first",
		func(t *testing.T, sv *store.Save) {
			sv.ReplaceAnswers = true
			sv.Answers = []store.AnswerChange{answer(t, "driver.age", 42), answer(t, "vehicle.year", 2021)}
		},
		map[string]any{"driver": map[string]any{"age": 42}, "vehicle": map[string]any{"year": 2021}}},
	{"replacing_the_answers_with_none_leaves_none",
		func(_ *testing.T, sv *store.Save) { sv.ReplaceAnswers = true },
		map[string]any{}},
	{"a_save_of_the_step_alone_keeps_the_answers",
		func(_ *testing.T, sv *store.Save) { sv.SetStep, sv.Step = true, "driver" },
		map[string]any{"n": 0, "vehicle": map[string]any{"plate": "AB-123", "year": 2019}}},
}

func testSave(t *testing.T, newStore Factory) {
	t.Run("a_save_writes_its_answers_step_and_last_touch_and_appends_its_touchpoint", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		created := create(t, s, newJourney(t, k, now().Add(-time.Minute)))

		sv := saveOf(k, answer(t, "driver.age", 42), answer(t, "vehicle.plate", "XY-987"))
		sv.SetStep, sv.Step = true, "driver"
		sv.Channel, sv.ChannelDetail = handoffv1.Channel_CHANNEL_PHONE, "desk 4"
		sv.Touchpoint.Channel, sv.Touchpoint.ChannelDetail = sv.Channel, sv.ChannelDetail
		got := save(t, s, sv)

		want := proto.CloneOf(created)
		want.Step = "driver"
		want.Data = dataOf(t, map[string]any{"n": 0, "vehicle": map[string]any{"plate": "XY-987", "year": 2019}, "driver": map[string]any{"age": 42}})
		want.Channel, want.ChannelDetail = handoffv1.Channel_CHANNEL_PHONE, "desk 4"
		want.UpdateTime = timestamppb.New(sv.UpdateTime)
		require.NotEqual(t, created.GetEtag(), got.GetEtag())
		requireProtoEqual(t, saved(want, got.GetEtag(), 2, store.DefaultTTL), got)
		requireProtoEqual(t, got, get(t, s, k))
		tp := proto.CloneOf(sv.Touchpoint)
		tp.Step = "driver"
		requireProtosEqual(t, append(named(k, 1, started(created)), named(k, 2, tp)...), timeline(t, s, k))
	})

	for _, tc := range mergeCases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, Options{})
			k := key("c-1", "j-1")
			create(t, s, newJourney(t, k, now()))
			sv := saveOf(k)
			tc.save(t, &sv)
			got := save(t, s, sv)
			requireProtoEqual(t, dataOf(t, tc.want), got.GetData())
			requireProtoEqual(t, got, get(t, s, k))
		})
	}

	t.Run("the_touchpoint_is_stamped_with_the_step_after_the_save", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			setStep bool
			step    string
			want    string
		}{
			{"a_save_that_sets_the_step", true, "driver", "driver"},
			{"a_save_that_sets_no_step", false, "", "vehicle"},
			{"a_save_that_clears_the_step", true, "", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t, Options{})
				k := key("c-1", "j-1")
				create(t, s, newJourney(t, k, now()))
				sv := saveOf(k, answer(t, "n", 1))
				sv.SetStep, sv.Step = tc.setStep, tc.step
				sv.Touchpoint.Step = "what-the-caller-guessed"
				got := save(t, s, sv)
				require.Equal(t, tc.want, got.GetStep())
				tl := timeline(t, s, k)
				require.Len(t, tl, 2)
				want := proto.CloneOf(sv.Touchpoint)
				want.Step = tc.want
				requireProtoEqual(t, named(k, 2, want)[0], tl[1])
			})
		}
	})

	t.Run("a_save_moves_the_etag_and_revision_once_and_the_expiry_with_the_update_time", func(t *testing.T) {
		s := newStore(t, Options{TTL: time.Hour})
		k := key("c-1", "j-1")
		j := create(t, s, newJourney(t, k, now()))
		etags := []string{j.GetEtag()}
		for i := range 4 {
			sv := saveOf(k, answer(t, "n", i+1))
			// The service's clock, not the store's, sets the times.
			sv.UpdateTime = now().Add(time.Duration(i+1) * time.Minute)
			j = save(t, s, sv)
			require.NotContains(t, etags, j.GetEtag())
			etags = append(etags, j.GetEtag())
			require.Equal(t, int64(i+2), j.GetRevision())
			require.True(t, sv.UpdateTime.Equal(j.GetUpdateTime().AsTime()))
			require.True(t, sv.UpdateTime.Add(time.Hour).Equal(j.GetExpireTime().AsTime()))
		}
	})

	t.Run("a_save_without_want_journey_returns_only_name_etag_revision_and_times", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		sv := saveOf(k, answer(t, "n", 1))
		sv.WantJourney = false
		got := save(t, s, sv)
		cur := get(t, s, k)
		requireProtoEqual(t, &handoffv1.Journey{
			Name:       cur.GetName(),
			Etag:       cur.GetEtag(),
			Revision:   cur.GetRevision(),
			UpdateTime: cur.GetUpdateTime(),
			ExpireTime: cur.GetExpireTime(),
		}, got)
		require.EqualValues(t, 1, cur.GetData().GetFields()["n"].GetNumberValue(), "the save landed whole")
	})

	t.Run("the_store_keeps_copies_of_what_a_save_hands_it", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		sv := saveOf(k, answer(t, "driver", map[string]any{"age": 42}))
		got := save(t, s, sv)
		want := proto.CloneOf(got)
		tl := timeline(t, s, k)

		sv.Answers[0].Value.GetStructValue().Fields["age"] = structpb.NewNumberValue(7)
		sv.Touchpoint.Note = "mutated"
		got.Data.Fields["n"] = structpb.NewStringValue("mutated")
		requireProtoEqual(t, want, get(t, s, k))
		requireProtosEqual(t, tl, timeline(t, s, k))
	})

	t.Run("two_saves_with_the_same_etag_writing_different_answers_both_land", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		read := create(t, s, newJourney(t, k, now())).GetEtag()

		anna := saveOf(k, answer(t, "vehicle.plate", "XY-987"))
		anna.IfEtag = read
		ravi := saveOf(k, answer(t, "driver.age", 42))
		ravi.IfEtag = read
		ravi.SetStep, ravi.Step = true, "driver"
		save(t, s, anna)
		got := save(t, s, ravi)
		requireProtoEqual(t, dataOf(t, map[string]any{"n": 0, "vehicle": map[string]any{"plate": "XY-987", "year": 2019}, "driver": map[string]any{"age": 42}}), got.GetData())
		require.Equal(t, "driver", got.GetStep())
	})

	for _, tc := range []struct {
		name  string
		agent string
		// holder claims the journey first, when set.
		holder string
	}{
		{"an_agents_save_of_a_journey_nobody_holds_lands", "alice", ""},
		{"an_agents_save_of_a_journey_they_hold_lands", "alice", "alice"},
		{"a_save_without_an_agent_of_a_held_journey_lands", "", "bob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, Options{})
			k := key("c-1", "j-1")
			create(t, s, newJourney(t, k, now()))
			if tc.holder != "" {
				claimed(t, s, k, tc.holder, now().Add(time.Minute))
			}
			sv := saveOf(k, answer(t, "n", 1))
			sv.Agent = tc.agent
			got := save(t, s, sv)
			require.EqualValues(t, 1, got.GetData().GetFields()["n"].GetNumberValue())
			require.Equal(t, tc.holder, got.GetAssignee(), "a save changes no holder")
		})
	}

	t.Run("a_save_just_before_the_claim_lapses_lands", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		until := now().Add(time.Minute)
		claimed(t, s, k, "alice", until)
		sv := saveOf(k, answer(t, "n", 1))
		sv.Agent = "alice"
		sv.UpdateTime = until.Add(-time.Microsecond)
		save(t, s, sv)
	})
}

func testSaveRefusals(t *testing.T, newStore Factory) {
	// Each case gets a journey at k created a minute ago with answers,
	// step and one save, and a save to change. None of them may change
	// anything: journey, timeline or change log.
	for _, tc := range []struct {
		name string
		// prepare changes the journey at k and the save.
		prepare func(t *testing.T, s store.Store, k store.JourneyKey, sv *store.Save)
		// check checks the error.
		check func(t *testing.T, err error)
	}{
		{"a_save_of_a_completed_journey_gives_not_active",
			func(t *testing.T, s store.Store, k store.JourneyKey, _ *store.Save) {
				j := get(t, s, k)
				j.State = handoffv1.JourneyState_JOURNEY_STATE_COMPLETED
				update(t, s, j)
			},
			func(t *testing.T, err error) {
				var e *store.NotActiveError
				require.ErrorAs(t, err, &e)
				require.ErrorIs(t, err, store.ErrNotActive)
				require.Equal(t, handoffv1.JourneyState_JOURNEY_STATE_COMPLETED, e.State)
			}},
		{"a_save_of_an_abandoned_journey_gives_not_active",
			func(t *testing.T, s store.Store, k store.JourneyKey, _ *store.Save) {
				j := get(t, s, k)
				j.State = handoffv1.JourneyState_JOURNEY_STATE_ABANDONED
				update(t, s, j)
			},
			func(t *testing.T, err error) {
				var e *store.NotActiveError
				require.ErrorAs(t, err, &e)
				require.Equal(t, handoffv1.JourneyState_JOURNEY_STATE_ABANDONED, e.State)
			}},
		{"an_agents_save_of_a_journey_another_agent_holds_gives_held",
			func(t *testing.T, s store.Store, k store.JourneyKey, sv *store.Save) {
				claimed(t, s, k, "bob", now().Add(time.Minute))
				sv.Agent = "alice"
			},
			func(t *testing.T, err error) {
				var e *store.HeldError
				require.ErrorAs(t, err, &e)
				require.ErrorIs(t, err, store.ErrHeld)
				require.Equal(t, "bob", e.Assignee)
			}},
		{"a_save_at_the_moment_the_claim_lapses_gives_claim_lapsed",
			func(t *testing.T, s store.Store, k store.JourneyKey, sv *store.Save) {
				until := now().Add(time.Minute)
				claimed(t, s, k, "alice", until)
				sv.Agent = "alice"
				sv.UpdateTime = until
			},
			func(t *testing.T, err error) { require.ErrorIs(t, err, store.ErrClaimLapsed) }},
		{"a_save_without_an_agent_after_the_claim_lapsed_gives_claim_lapsed",
			func(t *testing.T, s store.Store, k store.JourneyKey, sv *store.Save) {
				until := now().Add(time.Minute)
				claimed(t, s, k, "alice", until)
				sv.UpdateTime = until.Add(time.Second)
			},
			func(t *testing.T, err error) { require.ErrorIs(t, err, store.ErrClaimLapsed) }},
		// A lapsed claim holds nothing: the remedy is to release it, not
		// to ask its former holder.
		{"an_agents_save_over_another_agents_lapsed_claim_gives_claim_lapsed_not_held",
			func(t *testing.T, s store.Store, k store.JourneyKey, sv *store.Save) {
				until := now().Add(time.Minute)
				claimed(t, s, k, "bob", until)
				sv.Agent = "alice"
				sv.UpdateTime = until.Add(time.Second)
			},
			func(t *testing.T, err error) {
				require.ErrorIs(t, err, store.ErrClaimLapsed)
				require.NotErrorIs(t, err, store.ErrHeld)
			}},
		{"a_save_past_a_limit_gives_too_large",
			func(t *testing.T, _ store.Store, _ store.JourneyKey, sv *store.Save) {
				sv.Limits = store.AnswerLimits{Answers: 2, Bytes: 1000}
				sv.Answers = append(sv.Answers, answer(t, "driver.age", 42))
			},
			func(t *testing.T, err error) { require.ErrorIs(t, err, store.ErrTooLarge) }},
		{"a_save_with_a_stale_etag_gives_conflict",
			func(t *testing.T, s store.Store, k store.JourneyKey, sv *store.Save) {
				sv.IfEtag = "1"
			},
			func(t *testing.T, err error) { require.ErrorIs(t, err, store.ErrConflict) }},
		// The state is checked first: a journey that is over is over,
		// whoever holds it and whatever the caller read.
		{"a_save_of_a_completed_journey_gives_not_active_before_anything_else",
			func(t *testing.T, s store.Store, k store.JourneyKey, sv *store.Save) {
				until := now().Add(time.Minute)
				j := claimed(t, s, k, "bob", until)
				j.State = handoffv1.JourneyState_JOURNEY_STATE_COMPLETED
				update(t, s, j)
				sv.Agent = "alice"
				sv.UpdateTime = until.Add(time.Second)
				sv.IfEtag = "1"
				sv.Limits = store.AnswerLimits{}
			},
			func(t *testing.T, err error) { require.ErrorIs(t, err, store.ErrNotActive) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, Options{})
			k := key("c-1", "j-1")
			create(t, s, newJourney(t, k, now().Add(-time.Minute)))
			save(t, s, saveOf(k, answer(t, "n", 1)))
			sv := saveOf(k, answer(t, "vehicle.plate", "XY-987"), removal("n"))
			sv.SetStep, sv.Step = true, "driver"
			tc.prepare(t, s, k, &sv)
			before := snap(t, s, k)

			_, err := s.SaveJourney(t.Context(), sv)
			require.Error(t, err)
			tc.check(t, err)
			requireUnchanged(t, s, k, before)
		})
	}
}

func testSaveLimits(t *testing.T, newStore Factory) {
	// The journey newJourney makes holds 3 answers; the save changes one
	// and adds an object of two (one a list, a single answer). Totals
	// count the answers after the merge, their paths and JSON.
	for _, tc := range []struct {
		name string
		// limits are given the totals after the save.
		limits  func(n, size int) store.AnswerLimits
		refused bool
	}{
		{"a_save_at_exactly_both_limits_lands", func(n, size int) store.AnswerLimits { return store.AnswerLimits{Answers: n, Bytes: size} }, false},
		{"a_save_one_answer_past_the_limit_is_refused", func(n, size int) store.AnswerLimits { return store.AnswerLimits{Answers: n - 1, Bytes: size} }, true},
		{"a_save_one_byte_past_the_limit_is_refused", func(n, size int) store.AnswerLimits { return store.AnswerLimits{Answers: n, Bytes: size - 1} }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, Options{})
			k := key("c-1", "j-1")
			create(t, s, newJourney(t, k, now()))
			before := snap(t, s, k)
			after := dataOf(t, map[string]any{"n": 0, "vehicle": map[string]any{"plate": "Ø-123 ünïcode", "year": 2019}, "driver": map[string]any{"name": "Anna \"A\" <x>", "licences": []any{"B", map[string]any{"since": 2008}}}})
			n, size := totals(t, after)
			require.Equal(t, 5, n)

			sv := saveOf(k, answer(t, "vehicle.plate", "Ø-123 ünïcode"), answer(t, "driver", map[string]any{"name": "Anna \"A\" <x>", "licences": []any{"B", map[string]any{"since": 2008}}}))
			sv.Limits = tc.limits(n, size)
			got, err := s.SaveJourney(t.Context(), sv)
			if !tc.refused {
				require.NoError(t, err)
				requireProtoEqual(t, after, got.GetData())
				return
			}
			var tooLarge *store.TooLargeError
			require.ErrorAs(t, err, &tooLarge)
			require.Equal(t, store.TooLargeError{Answers: n, Bytes: size, Limits: sv.Limits}, *tooLarge, "the would-be totals")
			requireUnchanged(t, s, k, before)
		})
	}

	t.Run("a_save_that_brings_a_journey_over_its_limits_back_under_them_lands", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		sv := saveOf(k, removal("vehicle"), answer(t, "cover", "full"))
		sv.Limits = store.AnswerLimits{Answers: 2, Bytes: 100}
		got := save(t, s, sv)
		requireProtoEqual(t, dataOf(t, map[string]any{"n": 0, "cover": "full"}), got.GetData())
	})

	t.Run("an_object_a_removal_left_empty_counts_as_an_answer", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		sv := saveOf(k, removal("vehicle.plate"), removal("vehicle.year"), answer(t, "cover", "full"))
		// n, vehicle: {} and cover.
		sv.Limits = store.AnswerLimits{Answers: 2, Bytes: 1000}
		_, err := s.SaveJourney(t.Context(), sv)
		var tooLarge *store.TooLargeError
		require.ErrorAs(t, err, &tooLarge)
		require.Equal(t, 3, tooLarge.Answers)
	})
}
