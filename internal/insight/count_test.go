package insight

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

var (
	steps  = []string{"vehicle", "driver", "cover", "confirm"}
	t0     = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	ttl    = 30 * 24 * time.Hour
	active = handoffv1.JourneyState_JOURNEY_STATE_ACTIVE
	web    = handoffv1.Channel_CHANNEL_WEB
	phone  = handoffv1.Channel_CHANNEL_PHONE
)

const (
	started  = handoffv1.TouchpointKind_TOUCHPOINT_KIND_STARTED
	saved    = handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED
	resumed  = handoffv1.TouchpointKind_TOUCHPOINT_KIND_RESUMED
	claimed  = handoffv1.TouchpointKind_TOUCHPOINT_KIND_CLAIMED
	reminded = handoffv1.TouchpointKind_TOUCHPOINT_KIND_REMINDED
	viewed   = handoffv1.TouchpointKind_TOUCHPOINT_KIND_VIEWED
)

func at(step string, ch handoffv1.Channel, when time.Time) store.Moment {
	return store.Moment{State: active, Step: step, Channel: ch, Expire: when.Add(ttl)}
}

// counts is what Count adds for w, summed per day and field.
func counts(w store.Written) map[string]int64 {
	out := map[string]int64{}
	Count(w, steps, func(day, field string, n int64) { out[day+" "+field] += n })
	for k, n := range out {
		if n == 0 {
			delete(out, k)
		}
	}
	return out
}

func TestCount(t *testing.T) {
	day := Day(t0)
	expiry := Day(t0.Add(ttl))
	later := t0.Add(42 * time.Minute)
	w := func(f func(*store.Written)) store.Written {
		x := store.Written{Type: "car-insurance-quote", TypeVersion: 1, Time: t0, Counted: true, Entry: web}
		f(&x)
		return x
	}
	tests := []struct {
		name string
		w    store.Written
		want map[string]int64
	}{
		{
			name: "a_journey_started_online_reaches_its_first_step_and_is_forecast_to_expire",
			w: w(func(x *store.Written) {
				x.Created, x.Kind, x.Customer, x.After, x.FurthestAfter = true, started, true, at("vehicle", web, t0), 1
			}),
			want: map[string]int64{day + " e:1": 1, day + " r:vehicle": 1, expiry + " x:vehicle": 1, expiry + " xu:vehicle": 1},
		},
		{
			name: "a_save_to_a_later_step_reaches_it_and_leaves_the_furthest_one_forward",
			w: w(func(x *store.Written) {
				x.Kind, x.Customer = saved, true
				x.Before, x.After = at("vehicle", web, t0.Add(-time.Hour)), at("driver", web, t0)
				x.FurthestBefore, x.FurthestAfter = 1, 2
			}),
			want: map[string]int64{day + " r:driver": 1, day + " f:vehicle": 1,
				expiry + " x:driver": 1, expiry + " xu:driver": 1, expiry + " x:vehicle": -1, expiry + " xu:vehicle": -1},
		},
		{
			name: "a_save_back_to_an_earlier_step_reaches_nothing_new",
			w: w(func(x *store.Written) {
				x.Kind, x.Customer = saved, true
				x.Before, x.After = at("cover", web, t0), at("driver", web, t0)
				x.FurthestBefore, x.FurthestAfter = 3, 3
			}),
			want: map[string]int64{expiry + " x:driver": 1, expiry + " xu:driver": 1, expiry + " x:cover": -1, expiry + " xu:cover": -1},
		},
		{
			name: "a_redeem_on_the_phone_is_a_switch_and_a_resume_timed_from_the_customers_last_save",
			w: w(func(x *store.Written) {
				x.Time, x.Kind = later, resumed
				x.Before, x.After = at("driver", web, t0), at("driver", phone, later)
				x.FurthestBefore, x.FurthestAfter, x.CustomerSave = 2, 2, t0
			}),
			want: map[string]int64{
				day + " sw:driver:1:3": 1, day + " rs:driver:1:3": 1, day + " t:driver:" + itoa(Bucket(42*time.Minute)): 1,
				expiry + " x:driver": 0, expiry + " xu:driver": -1, // same day: the expiry moved within it
			},
		},
		{
			name: "a_claim_right_after_a_resume_is_not_another_resume",
			w: w(func(x *store.Written) {
				x.Time, x.Kind = later, claimed
				x.Before, x.After = at("driver", phone, later), at("driver", phone, later)
				x.CustomerSave, x.Resume, x.FurthestBefore, x.FurthestAfter = t0, later, 2, 2
			}),
			want: map[string]int64{},
		},
		{
			name: "a_claim_after_the_customer_saved_again_is_a_resume",
			w: w(func(x *store.Written) {
				x.Time, x.Kind = later, claimed
				x.Before, x.After = at("driver", web, later), at("driver", phone, later)
				x.CustomerSave, x.Resume = later.Add(-time.Minute), t0
			}),
			want: map[string]int64{day + " sw:driver:1:3": 1, day + " rs:driver:1:3": 1, day + " t:driver:" + itoa(Bucket(time.Minute)): 1},
		},
		{
			name: "completing_counts_for_the_entry_channel_and_leaves_the_expiry_forecast",
			w: w(func(x *store.Written) {
				x.Kind, x.Entry = handoffv1.TouchpointKind_TOUCHPOINT_KIND_COMPLETED, handoffv1.Channel_CHANNEL_APP
				x.Before = at("confirm", phone, t0)
				x.After = at("confirm", phone, t0)
				x.After.State = handoffv1.JourneyState_JOURNEY_STATE_COMPLETED
				x.Resume, x.FurthestBefore, x.FurthestAfter = t0, 4, 4
			}),
			want: map[string]int64{day + " c:2": 1, day + " f:confirm": 1, expiry + " x:confirm": -1},
		},
		{
			name: "a_journey_completed_before_the_forms_last_step_left_its_furthest_forward_too",
			w: w(func(x *store.Written) {
				x.Kind = handoffv1.TouchpointKind_TOUCHPOINT_KIND_COMPLETED
				x.Before, x.After = at("driver", phone, t0), at("driver", phone, t0)
				x.After.State = handoffv1.JourneyState_JOURNEY_STATE_COMPLETED
				x.FurthestBefore, x.FurthestAfter = 3, 3
			}),
			want: map[string]int64{day + " c:1": 1, day + " f:cover": 1, expiry + " x:driver": -1, expiry + " xu:driver": -1},
		},
		{
			name: "a_reminder_is_counted_and_moves_no_expiry",
			w: w(func(x *store.Written) {
				x.Kind, x.Before, x.After = reminded, at("cover", web, t0), at("cover", web, t0)
			}),
			want: map[string]int64{day + " rm": 1},
		},
		{
			name: "the_customers_first_save_after_a_reminder_was_brought_back_by_it",
			w: w(func(x *store.Written) {
				x.Time, x.Kind, x.Customer = later, saved, true
				x.Before, x.After = at("cover", web, t0), at("cover", web, t0)
				x.CustomerSave, x.Reminder = t0.Add(-48*time.Hour), t0.Add(-time.Hour)
			}),
			want: map[string]int64{day + " rmb": 1},
		},
		{
			name: "a_second_save_after_a_reminder_was_not",
			w: w(func(x *store.Written) {
				x.Kind, x.Customer = saved, true
				x.Before, x.After = at("cover", web, t0), at("cover", web, t0)
				x.CustomerSave, x.Reminder = t0.Add(-time.Minute), t0.Add(-time.Hour)
			}),
			want: map[string]int64{},
		},
		{
			name: "a_read_by_staff_on_another_channel_is_no_switch_unless_it_moves_the_journeys_channel",
			w: w(func(x *store.Written) {
				x.Kind, x.Before, x.After = viewed, at("cover", web, t0), at("cover", web, t0)
			}),
			want: map[string]int64{},
		},
		{
			name: "a_journey_written_before_insight_joins_the_forecast_without_leaving_one_it_was_never_in",
			w: w(func(x *store.Written) {
				x.Counted, x.Entry, x.Kind, x.Customer = false, 0, saved, true
				x.Before, x.After = at("cover", web, t0.Add(-time.Hour)), at("cover", web, t0)
			}),
			want: map[string]int64{expiry + " x:cover": 1, expiry + " xu:cover": 1},
		},
		{
			name: "a_step_the_type_does_not_declare_is_counted_as_other",
			w: w(func(x *store.Written) {
				x.Time, x.Kind = later, resumed
				x.Before, x.After = at("retired-step", web, t0), at("retired-step", phone, later)
				x.Resume = t0.Add(-time.Hour)
				x.CustomerSave = t0
			}),
			want: map[string]int64{day + " sw:-:1:3": 1, day + " rs:-:1:3": 1, day + " t:-:" + itoa(Bucket(42*time.Minute)): 1},
		},
		{
			name: "a_journey_of_no_declared_type_is_not_counted",
			w: w(func(x *store.Written) {
				x.TypeVersion, x.Created, x.Kind, x.After, x.FurthestAfter = 0, true, started, at("vehicle", web, t0), 1
			}),
			want: map[string]int64{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := map[string]int64{}
			for k, n := range tt.want {
				if n != 0 {
					want[k] = n
				}
			}
			require.Equal(t, want, counts(tt.w))
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestBucket_aTimeIsWithinTwoAndAQuarterPercentOfItsBucketsMiddle(t *testing.T) {
	for _, d := range []time.Duration{time.Second, 1500 * time.Millisecond, 42 * time.Minute, 3*time.Hour + 7*time.Second, 29 * 24 * time.Hour} {
		got := BucketValue(Bucket(d))
		require.LessOrEqual(t, math.Abs(got.Seconds()-d.Seconds())/d.Seconds(), 0.0225, "%s is read back as %s", d, got)
	}
	require.Equal(t, Bucket(0), Bucket(time.Second), "under a second counts as a second")
}
