package insight

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/durationpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

func TestSummarize_sumsTheDaysIntoTheMap(t *testing.T) {
	byDay := map[string]map[string]int64{
		"2026-11-01": {
			"e:1": 8, "e:2": 2, "c:1": 3,
			"r:vehicle": 10, "f:vehicle": 6, "r:driver": 6, "f:driver": 2, "r:cover": 2,
			"sw:driver:1:3": 3, "rs:driver:1:3": 2, "rs:driver:1:5": 1,
			"t:driver:" + itoa(Bucket(10*time.Minute)): 1, "t:driver:" + itoa(Bucket(20*time.Minute)): 1, "t:driver:" + itoa(Bucket(time.Hour)): 1,
			"rm": 4, "rmb": 1,
			"r:retired": 1, "sw:-:1:3": 1,
		},
		"2026-11-02": {"r:vehicle": 2, "x:driver": 2, "xu:driver": 1},
		"2026-11-03": {"x:driver": 5, "xu:driver": 5},
	}
	got := Summarize("journeyTypes/car-insurance-quote/insight", "2026-11-01", "2026-11-30", byDay, steps, map[string]bool{"cover": true}, "2026-11-03")

	require.Equal(t, []string{"vehicle", "driver", "cover", "confirm", "retired", "-"}, stepIDs(got), "declared steps in order, then older ones, then other")
	vehicle, driver, cover := got.GetSteps()[0], got.GetSteps()[1], got.GetSteps()[2]
	require.Equal(t, int64(12), vehicle.GetReached(), "summed over days")
	require.Equal(t, int64(6), vehicle.GetStopped())
	require.InDelta(t, 0.5, vehicle.GetDropOffRate(), 1e-9)
	require.Equal(t, int64(4), driver.GetStopped())
	require.Equal(t, int64(3), driver.GetResumed())
	require.InDelta(t, 0.5, driver.GetResumeRate(), 1e-9)
	require.Equal(t, []*handoffv1.ChannelFlow{
		{From: web, To: phone, Count: 2, Rate: 2.0 / 6},
		{From: web, To: handoffv1.Channel_CHANNEL_SOCIAL, Count: 1, Rate: 1.0 / 6},
	}, driver.GetResumes())
	require.Equal(t, int64(3), driver.GetTimeToResume().GetCount())
	require.Equal(t, durationpb.New(BucketValue(Bucket(20*time.Minute))), driver.GetTimeToResume().GetP50())
	require.Equal(t, durationpb.New(BucketValue(Bucket(time.Hour))), driver.GetTimeToResume().GetP90())
	require.Equal(t, int64(2), driver.GetExpired(), "only days that ended: the 3rd is today")
	require.Equal(t, int64(1), driver.GetExpiredUnresumed())
	require.Equal(t, "2026-11-02", got.GetExpiredThrough())
	require.True(t, cover.GetMomentOfTruth())
	require.Equal(t, int64(10), got.GetStarted())
	require.Equal(t, []*handoffv1.EntryChannelInsight{
		{Channel: web, Started: 8, Completed: 3, CompletionRate: 3.0 / 8},
		{Channel: handoffv1.Channel_CHANNEL_APP, Started: 2},
	}, got.GetEntryChannels())
	require.Equal(t, &handoffv1.Reminders{Sent: 4, BroughtBack: 1, Rate: 0.25}, got.GetReminders())
	require.Equal(t, []*handoffv1.ChannelFlow{{From: web, To: phone, Count: 4, Rate: 0.4}}, got.GetSwitches(), "of started")
	require.InDelta(t, 0.5, driver.GetSwitches()[0].GetRate(), 1e-9, "of reached")
}

func TestSummarize_aRangeThatHasNotEndedHasNoFinalExpiries(t *testing.T) {
	got := Summarize("n", "2026-11-03", "2026-11-03", map[string]map[string]int64{"2026-11-03": {"x:vehicle": 4}}, steps, nil, "2026-11-03")
	require.Empty(t, got.GetExpiredThrough())
	require.Zero(t, got.GetSteps()[0].GetExpired())
}

func stepIDs(in *handoffv1.JourneyTypeInsight) []string {
	var ids []string
	for _, s := range in.GetSteps() {
		ids = append(ids, s.GetStep())
	}
	return ids
}
