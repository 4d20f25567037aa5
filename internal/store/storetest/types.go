package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// sameTitle stands in for journeytype.SameDefinition: the store only
// calls what it is given.
func sameTitle(a, b *handoffv1.JourneyType) bool { return a.GetTitle()["en"] == b.GetTitle()["en"] }

func typeDef(title string) *handoffv1.JourneyType {
	return &handoffv1.JourneyType{
		Name:  "journeyTypes/home-insurance-claim",
		Title: map[string]string{"en": title},
		Steps: []*handoffv1.JourneyStep{{Id: "incident"}},
	}
}

func putType(t *testing.T, s store.Store, def *handoffv1.JourneyType, put store.TypePut) (*handoffv1.JourneyType, bool) {
	t.Helper()
	if put.Same == nil {
		put.Same = sameTitle
	}
	if put.Now.IsZero() {
		put.Now = now()
	}
	got, added, err := s.PutJourneyType(t.Context(), def, put)
	require.NoError(t, err)
	return got, added
}

func testJourneyTypes(t *testing.T, newStore Factory) {
	t.Run("a_new_definition_is_version_1_and_reads_back_as_stored", func(t *testing.T) {
		s := newStore(t, Options{})
		at := now()
		got, added := putType(t, s, typeDef("Claim"), store.TypePut{Now: at})
		require.True(t, added)
		require.Equal(t, int64(1), got.GetVersion())
		require.Equal(t, "1", got.GetEtag())
		require.True(t, got.GetCreateTime().AsTime().Equal(at))
		read, err := s.JourneyType(t.Context(), "home-insurance-claim", 0)
		require.NoError(t, err)
		requireProtoEqual(t, got, read)
		latest, err := s.LatestJourneyTypes(t.Context())
		require.NoError(t, err)
		require.Equal(t, map[string]int64{"home-insurance-claim": 1}, latest)
	})

	t.Run("storing_the_same_definition_again_adds_no_version", func(t *testing.T) {
		s := newStore(t, Options{})
		first, _ := putType(t, s, typeDef("Claim"), store.TypePut{})
		again, added := putType(t, s, typeDef("Claim"), store.TypePut{})
		require.False(t, added)
		requireProtoEqual(t, first, again)
	})

	t.Run("a_changed_definition_is_the_next_version_and_the_old_one_stays_readable", func(t *testing.T) {
		s := newStore(t, Options{})
		putType(t, s, typeDef("Claim"), store.TypePut{})
		second, added := putType(t, s, typeDef("Home claim"), store.TypePut{})
		require.True(t, added)
		require.Equal(t, int64(2), second.GetVersion())
		old, err := s.JourneyType(t.Context(), "home-insurance-claim", 1)
		require.NoError(t, err)
		require.Equal(t, "Claim", old.GetTitle()["en"])
		latest, err := s.JourneyType(t.Context(), "home-insurance-claim", 0)
		require.NoError(t, err)
		require.Equal(t, "Home claim", latest.GetTitle()["en"])
	})

	t.Run("a_put_on_a_stale_version_is_a_conflict_and_adds_nothing", func(t *testing.T) {
		s := newStore(t, Options{})
		putType(t, s, typeDef("Claim"), store.TypePut{})
		putType(t, s, typeDef("Home claim"), store.TypePut{IfVersion: 1})
		_, _, err := s.PutJourneyType(t.Context(), typeDef("Third"), store.TypePut{Same: sameTitle, IfVersion: 1, Now: now()})
		require.ErrorIs(t, err, store.ErrConflict)
		latest, err := s.LatestJourneyTypes(t.Context())
		require.NoError(t, err)
		require.Equal(t, int64(2), latest["home-insurance-claim"])
	})

	t.Run("a_put_that_must_be_new_is_refused_for_a_stored_type", func(t *testing.T) {
		s := newStore(t, Options{})
		putType(t, s, typeDef("Claim"), store.TypePut{MustBeNew: true})
		_, _, err := s.PutJourneyType(t.Context(), typeDef("Other"), store.TypePut{Same: sameTitle, MustBeNew: true, Now: now()})
		require.ErrorIs(t, err, store.ErrAlreadyExists)
	})

	t.Run("a_type_or_version_never_stored_is_not_found", func(t *testing.T) {
		s := newStore(t, Options{})
		_, err := s.JourneyType(t.Context(), "home-insurance-claim", 0)
		require.ErrorIs(t, err, store.ErrNotFound)
		putType(t, s, typeDef("Claim"), store.TypePut{})
		_, err = s.JourneyType(t.Context(), "home-insurance-claim", 2)
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("concurrent_puts_of_different_definitions_each_get_their_own_version", func(t *testing.T) {
		s := newStore(t, Options{})
		var wg sync.WaitGroup
		versions := make([]int64, 4)
		for i := range versions {
			wg.Go(func() {
				got, added, err := s.PutJourneyType(t.Context(), typeDef(string(rune('A'+i))), store.TypePut{Same: sameTitle, Now: now()})
				require.NoError(t, err)
				require.True(t, added)
				versions[i] = got.GetVersion()
			})
		}
		wg.Wait()
		require.ElementsMatch(t, []int64{1, 2, 3, 4}, versions)
	})
}

// typedJourney is a journey created with version 2 of its type.
func typedJourney(t *testing.T, s store.Store, k store.JourneyKey) *handoffv1.Journey {
	t.Helper()
	j := newJourney(t, k, now())
	j.JourneyTypeVersion = 2
	got := create(t, s, j)
	require.Equal(t, int64(2), got.GetJourneyTypeVersion())
	require.Equal(t, int64(2), get(t, s, k).GetJourneyTypeVersion())
	return got
}

func testTypedSaves(t *testing.T, newStore Factory) {
	t.Run("a_save_checked_against_another_type_version_is_refused_with_the_journeys_and_changes_nothing", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			typ     string
			version int64
		}{
			{"as_a_journey_of_no_declared_type", "", 0},
			{"against_another_version", "car-insurance-quote", 1},
			{"against_another_type", "home-insurance-claim", 2},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t, Options{})
				k := key("c-1", "j-1")
				before := typedJourney(t, s, k)
				sv := saveOf(k, answer(t, "n", 7))
				sv.Type, sv.TypeVersion = tc.typ, tc.version
				_, err := s.SaveJourney(t.Context(), sv)
				var wrong *store.TypeVersionError
				require.ErrorAs(t, err, &wrong)
				require.Equal(t, store.TypeVersionError{Type: "car-insurance-quote", Version: 2}, *wrong)
				requireProtoEqual(t, before, get(t, s, k))
			})
		}
	})

	t.Run("a_save_checked_against_the_journeys_type_version_lands", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		typedJourney(t, s, k)
		sv := saveOf(k, answer(t, "n", 7))
		sv.Type, sv.TypeVersion = "car-insurance-quote", 2
		got := save(t, s, sv)
		require.Equal(t, 7.0, got.GetData().GetFields()["n"].GetNumberValue())
	})

	t.Run("a_journey_of_no_declared_type_saves_as_one_whatever_its_type_name", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		save(t, s, saveOf(k, answer(t, "n", 7)))
	})

	t.Run("a_save_may_set_a_step_only_from_the_steps_it_names", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			from    []string
			refused bool
		}{
			{"refused_when_the_journeys_step_is_not_among_them", []string{"driver", "cover"}, true},
			{"allowed_when_it_is", []string{"vehicle", "cover"}, false},
			{"allowed_from_anywhere_when_none_are_named", nil, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t, Options{})
				k := key("c-1", "j-1")
				before := create(t, s, newJourney(t, k, now()))
				sv := saveOf(k, answer(t, "n", 7))
				sv.SetStep, sv.Step, sv.StepFrom = true, "cover", tc.from
				got, err := s.SaveJourney(t.Context(), sv)
				if !tc.refused {
					require.NoError(t, err)
					require.Equal(t, "cover", got.GetStep())
					return
				}
				var wrong *store.StepError
				require.ErrorAs(t, err, &wrong)
				require.Equal(t, "vehicle", wrong.Step)
				requireProtoEqual(t, before, get(t, s, k))
				require.Len(t, timeline(t, s, k), 1)
			})
		}
	})

	t.Run("a_save_that_sets_no_step_is_not_checked_against_the_steps_it_names", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		sv := saveOf(k, answer(t, "n", 7))
		sv.StepFrom = []string{"driver"}
		save(t, s, sv)
	})

	t.Run("a_journey_of_a_type_with_its_own_ttl_lives_that_long", func(t *testing.T) {
		s := newStore(t, Options{TTL: time.Hour, TypeTTL: func(journeyType string, version int64) time.Duration {
			if journeyType == "car-insurance-quote" && version == 2 {
				return shortTTL
			}
			return 0
		}})
		typed, untyped := key("c-1", "typed"), key("c-1", "untyped")
		got := typedJourney(t, s, typed)
		require.WithinDuration(t, got.GetUpdateTime().AsTime().Add(shortTTL), got.GetExpireTime().AsTime(), time.Millisecond)
		create(t, s, newJourney(t, untyped, now()))
		sv := saveOf(typed, answer(t, "n", 7))
		sv.Type, sv.TypeVersion = "car-insurance-quote", 2
		saved := save(t, s, sv)
		require.WithinDuration(t, sv.UpdateTime.Add(shortTTL), saved.GetExpireTime().AsTime(), time.Millisecond)

		sleepUntil(saved.GetExpireTime().AsTime().Add(slack))
		requireGone(t, s, typed)
		get(t, s, untyped)
	})
}

func actorOf(id string, role handoffv1.Role) *handoffv1.Actor {
	return &handoffv1.Actor{Id: id, Role: role}
}

// withProvenance is JourneyWithProvenance that must succeed.
func withProvenance(t *testing.T, s store.Store, k store.JourneyKey) *handoffv1.Journey {
	t.Helper()
	got, err := s.JourneyWithProvenance(t.Context(), k)
	require.NoError(t, err)
	return got
}

func testProvenance(t *testing.T, newStore Factory) {
	t.Run("each_answer_names_the_touchpoint_of_the_write_that_last_changed_it", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		created := withProvenance(t, s, k)
		for _, path := range []string{"n", "vehicle.plate", "vehicle.year"} {
			p := created.GetAnswerProvenance()[path]
			require.NotNil(t, p, "answer %s has no provenance after the create", path)
			require.Equal(t, store.TouchpointName(k, 1), p.GetTouchpoint())
			require.Equal(t, "shop-website", p.GetActor().GetId())
		}

		sv := saveOf(k, answer(t, "vehicle.plate", "XY-987"))
		sv.Channel = handoffv1.Channel_CHANNEL_PHONE
		sv.Touchpoint.Channel = handoffv1.Channel_CHANNEL_PHONE
		sv.Touchpoint.Actor = actorOf("ravi", handoffv1.Role_ROLE_AGENT)
		save(t, s, sv)
		j := withProvenance(t, s, k)
		requireProtoEqual(t, &handoffv1.AnswerProvenance{
			Actor:      actorOf("ravi", handoffv1.Role_ROLE_AGENT),
			Channel:    handoffv1.Channel_CHANNEL_PHONE,
			Time:       sv.Touchpoint.GetTime(),
			Touchpoint: store.TouchpointName(k, 2),
		}, j.GetAnswerProvenance()["vehicle.plate"])
		require.Equal(t, store.TouchpointName(k, 1), j.GetAnswerProvenance()["vehicle.year"].GetTouchpoint())
		withoutIt := proto.CloneOf(j)
		withoutIt.AnswerProvenance = nil
		requireProtoEqual(t, get(t, s, k), withoutIt, "a read with provenance is a plain read plus it")
	})

	t.Run("concurrent_saves_from_two_channels_leave_each_answer_with_its_own_writer", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		writers := map[string]*handoffv1.Actor{
			"anna": actorOf("anna", handoffv1.Role_ROLE_CUSTOMER),
			"ravi": actorOf("ravi", handoffv1.Role_ROLE_AGENT),
		}
		channels := map[string]handoffv1.Channel{"anna": handoffv1.Channel_CHANNEL_WEB, "ravi": handoffv1.Channel_CHANNEL_PHONE}
		var wg sync.WaitGroup
		for who := range writers {
			wg.Go(func() {
				for i := range 10 {
					sv := saveOf(k, answer(t, who+".answer", i))
					sv.Channel = channels[who]
					sv.Touchpoint.Channel = channels[who]
					sv.Touchpoint.Actor = writers[who]
					_, err := s.SaveJourney(t.Context(), sv)
					require.NoError(t, err)
				}
			})
		}
		wg.Wait()
		j := withProvenance(t, s, k)
		tps := timeline(t, s, k)
		for who, actor := range writers {
			p := j.GetAnswerProvenance()[who+".answer"]
			require.NotNil(t, p, "%s's answer has no provenance", who)
			requireProtoEqual(t, actor, p.GetActor())
			require.Equal(t, channels[who], p.GetChannel())
			// The touchpoint named is the last of that writer's saves.
			var last *handoffv1.Touchpoint
			for _, tp := range tps {
				if proto.Equal(tp.GetActor(), actor) {
					last = tp
				}
			}
			require.Equal(t, last.GetName(), p.GetTouchpoint())
		}
	})

	t.Run("a_write_without_a_touchpoint_leaves_its_answers_without_provenance", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		create(t, s, newJourney(t, k, now()))
		sv := saveOf(k, answer(t, "n", 7))
		sv.Touchpoint = nil
		save(t, s, sv)
		got := withProvenance(t, s, k)
		require.Nil(t, got.GetAnswerProvenance()["n"])
		require.NotNil(t, got.GetAnswerProvenance()["vehicle.plate"])
	})

	t.Run("plain_reads_writes_and_lists_carry_no_provenance", func(t *testing.T) {
		s := newStore(t, Options{})
		k := key("c-1", "j-1")
		created := create(t, s, newJourney(t, k, now()))
		saved := save(t, s, saveOf(k, answer(t, "n", 7)))
		updated := update(t, s, get(t, s, k))
		page, _, err := s.ListJourneys(t.Context(), "c-1", store.ListJourneysQuery{Limit: 10})
		require.NoError(t, err)
		require.Len(t, page, 1)
		for _, j := range []*handoffv1.Journey{created, saved, updated, get(t, s, k), page[0]} {
			require.Nil(t, j.GetAnswerProvenance())
		}
	})
}
