package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// quoteSteps are the steps of the journeys the insight cases write.
var quoteSteps = []string{"vehicle", "driver", "cover", "confirm"}

// writes collects what a store reports.
type writes struct {
	mu  sync.Mutex
	all []store.Written
}

func (w *writes) options() *store.WriteOptions {
	return &store.WriteOptions{
		Observe: func(x store.Written) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.all = append(w.all, x)
		},
		Steps: func(journeyType string, version int64) []string {
			if journeyType == "car-insurance-quote" && version == 2 {
				return quoteSteps
			}
			return nil
		},
	}
}

// taken returns what was reported since the last call, times in UTC.
func (w *writes) taken() []store.Written {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.all
	w.all = nil
	for i := range out {
		x := &out[i]
		for _, t := range []*time.Time{&x.Time, &x.Before.Expire, &x.After.Expire, &x.CustomerSave, &x.Resume, &x.Reminder} {
			if !t.IsZero() {
				*t = t.UTC()
			}
		}
	}
	return out
}

func agentTouch(kind handoffv1.TouchpointKind, at time.Time) *handoffv1.Touchpoint {
	return &handoffv1.Touchpoint{
		Time: timestamppb.New(at), Channel: handoffv1.Channel_CHANNEL_PHONE,
		Actor: &handoffv1.Actor{Id: "alice", Role: handoffv1.Role_ROLE_AGENT}, Kind: kind,
	}
}

func testInsight(t *testing.T, newStore Factory) {
	t.Run("each_write_reports_what_the_journey_was_before_it_and_is_after_it", func(t *testing.T) {
		var w writes
		s := newStore(t, Options{TTL: time.Hour, Writes: w.options()})
		k := key("c-1", "j-1")
		active := handoffv1.JourneyState_JOURNEY_STATE_ACTIVE
		web, phone := handoffv1.Channel_CHANNEL_WEB, handoffv1.Channel_CHANNEL_PHONE

		created := now().Add(-time.Minute)
		j := newJourney(t, k, created)
		j.JourneyTypeVersion = 2
		create(t, s, j)
		require.Equal(t, []store.Written{{
			Key: k, Type: "car-insurance-quote", TypeVersion: 2, Time: created,
			Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_STARTED, Customer: true, Created: true, Counted: true,
			After: store.Moment{State: active, Step: "vehicle", Channel: web, Expire: created.Add(time.Hour)},
			Entry: web, FurthestAfter: 1,
		}}, w.taken(), "a create by the website")

		saved := now()
		sv := saveOf(k, answer(t, "n", 1))
		sv.Type, sv.TypeVersion, sv.SetStep, sv.Step, sv.UpdateTime = "car-insurance-quote", 2, true, "cover", saved
		sv.Touchpoint.Time = timestamppb.New(saved)
		save(t, s, sv)
		require.Equal(t, []store.Written{{
			Key: k, Type: "car-insurance-quote", TypeVersion: 2, Time: saved,
			Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, Customer: true, Counted: true,
			Before: store.Moment{State: active, Step: "vehicle", Channel: web, Expire: created.Add(time.Hour)},
			After:  store.Moment{State: active, Step: "cover", Channel: web, Expire: saved.Add(time.Hour)},
			Entry:  web, FurthestBefore: 1, FurthestAfter: 3, CustomerSave: created,
		}}, w.taken(), "a save by the website to a later step")

		resumed := saved.Add(time.Second)
		j = get(t, s, k)
		j.Channel, j.Assignee, j.UpdateTime, j.Step = phone, "alice", timestamppb.New(resumed), "driver"
		j = touch(t, s, j, agentTouch(handoffv1.TouchpointKind_TOUCHPOINT_KIND_RESUMED, resumed))
		require.Equal(t, []store.Written{{
			Key: k, Type: "car-insurance-quote", TypeVersion: 2, Time: resumed,
			Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_RESUMED, Counted: true,
			Before: store.Moment{State: active, Step: "cover", Channel: web, Expire: saved.Add(time.Hour)},
			After:  store.Moment{State: active, Step: "driver", Channel: phone, Expire: resumed.Add(time.Hour)},
			Entry:  web, FurthestBefore: 3, FurthestAfter: 3, CustomerSave: saved,
		}}, w.taken(), "a redeem on the phone, back a step: the furthest stays")

		done := resumed.Add(time.Second)
		j.State, j.UpdateTime = handoffv1.JourneyState_JOURNEY_STATE_COMPLETED, timestamppb.New(done)
		touch(t, s, j, agentTouch(handoffv1.TouchpointKind_TOUCHPOINT_KIND_COMPLETED, done))
		require.Equal(t, []store.Written{{
			Key: k, Type: "car-insurance-quote", TypeVersion: 2, Time: done,
			Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_COMPLETED, Counted: true,
			Before: store.Moment{State: active, Step: "driver", Channel: phone, Expire: resumed.Add(time.Hour)},
			After:  store.Moment{State: handoffv1.JourneyState_JOURNEY_STATE_COMPLETED, Step: "driver", Channel: phone, Expire: done.Add(time.Hour)},
			Entry:  web, FurthestBefore: 3, FurthestAfter: 3, CustomerSave: saved, Resume: resumed,
		}}, w.taken(), "completed by the agent, after the resume")
	})

	t.Run("a_refused_write_reports_nothing", func(t *testing.T) {
		var w writes
		s := newStore(t, Options{Writes: w.options()})
		k := key("c-1", "j-1")
		j := newJourney(t, k, now())
		j.JourneyTypeVersion = 2
		j = create(t, s, j)
		w.taken()
		sv := saveOf(k, answer(t, "n", 1))
		sv.Type, sv.TypeVersion = "car-insurance-quote", 1
		_, err := s.SaveJourney(t.Context(), sv)
		require.ErrorIs(t, err, store.ErrTypeVersion)
		stale := j
		touch(t, s, get(t, s, k))
		w.taken()
		_, err = s.UpdateJourney(t.Context(), store.Update{Journey: stale})
		require.ErrorIs(t, err, store.ErrConflict)
		require.Empty(t, w.taken())
	})

	t.Run("insight_counts_add_up_per_type_and_day", func(t *testing.T) {
		s := newStore(t, Options{})
		ctx := t.Context()
		today := now().Format(time.DateOnly)
		require.NoError(t, s.AddInsight(ctx, []store.InsightCounts{
			{Type: "car-insurance-quote", Day: today, Counts: map[string]int64{"r:vehicle": 2, "x:vehicle": 1}},
			{Type: "home-insurance-claim", Day: today, Counts: map[string]int64{"r:incident": 5}},
		}, 24*time.Hour))
		require.NoError(t, s.AddInsight(ctx, []store.InsightCounts{
			{Type: "car-insurance-quote", Day: today, Counts: map[string]int64{"r:vehicle": 1, "x:vehicle": -1, "e:1": 3}},
		}, 24*time.Hour))
		got, err := s.InsightDays(ctx, "car-insurance-quote", []string{"2001-01-01", today})
		require.NoError(t, err)
		require.Equal(t, map[string]map[string]int64{today: {"r:vehicle": 3, "x:vehicle": 0, "e:1": 3}}, got)
	})

	t.Run("a_day_past_its_retention_is_gone", func(t *testing.T) {
		s := newStore(t, Options{})
		ctx := t.Context()
		long := now().AddDate(0, 0, -3).Format(time.DateOnly)
		require.NoError(t, s.AddInsight(ctx, []store.InsightCounts{
			{Type: "car-insurance-quote", Day: long, Counts: map[string]int64{"r:vehicle": 2}},
		}, 24*time.Hour))
		got, err := s.InsightDays(ctx, "car-insurance-quote", []string{long})
		require.NoError(t, err)
		require.Empty(t, got)
	})
}
