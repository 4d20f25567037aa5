package insightgen_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/insightgen"
)

const (
	web    = handoffv1.Channel_CHANNEL_WEB
	app    = handoffv1.Channel_CHANNEL_APP
	phone  = handoffv1.Channel_CHANNEL_PHONE
	chat   = handoffv1.Channel_CHANNEL_CHAT
	social = handoffv1.Channel_CHANNEL_SOCIAL
)

// fiveJourneys are counted by hand below.
var fiveJourneys = []insightgen.Script{
	{Entry: web, Stop: 0},
	{Entry: web, Stop: 1, Resume: &insightgen.Resume{After: 100 * time.Second, Channel: phone, Completes: true}},
	{Entry: app, Stop: 2, Resume: &insightgen.Resume{After: 300 * time.Second, Channel: chat}},
	{Entry: app, Stop: 3, Completes: true},
	{Entry: web, Stop: 3, Resume: &insightgen.Resume{After: 200 * time.Second, Channel: phone}},
}

var replayed = &insightgen.Replayed{From: "2030-01-01", To: "2030-02-01"}

func TestTruthOf_countsByTheDefinitionsOfTheJourneyMap(t *testing.T) {
	truth := insightgen.TruthOf(insightgen.CarInsuranceQuote(), fiveJourneys, replayed)
	require.Equal(t, int64(5), truth.Started)
	require.Equal(t, int64(2), truth.Completed)
	require.Equal(t, []insightgen.EntryTruth{
		{Channel: web, Started: 3, Completed: 1, CompletionRate: 1.0 / 3},
		{Channel: app, Started: 2, Completed: 1, CompletionRate: 0.5},
	}, truth.Entries)

	type step struct {
		reached, left, stopped, resumed, expired, unresumed int64
		dropOff, resumeRate                                 float64
	}
	want := map[string]step{
		"vehicle": {reached: 5, left: 4, stopped: 1, expired: 1, unresumed: 1, dropOff: 0.2},
		// completed by the agent: it left its furthest step forward, to done
		"driver": {reached: 4, left: 4, resumed: 1, resumeRate: 0.25},
		// resumed and not completed: it still expires, but not unresumed
		"cover":   {reached: 3, left: 2, stopped: 1, resumed: 1, expired: 1, dropOff: 1.0 / 3, resumeRate: 1.0 / 3},
		"confirm": {reached: 2, left: 1, stopped: 1, resumed: 1, expired: 1, dropOff: 0.5, resumeRate: 0.5},
	}
	for _, s := range truth.Steps {
		w := want[s.Step]
		got := step{s.Reached, s.LeftForward, s.Stopped, s.Resumed, s.Expired, s.ExpiredUnresumed, s.DropOffRate, s.ResumeRate}
		require.Equal(t, w, got, s.Step)
	}
	driver, cover := truth.Steps[1], truth.Steps[2]
	require.Equal(t, map[insightgen.Flow]int64{{From: web, To: phone}: 1}, driver.Resumes)
	require.Equal(t, driver.Resumes, driver.Switches, "the redeem switches channel on the step it stopped on")
	require.Equal(t, map[insightgen.Flow]int64{{From: app, To: chat}: 1}, cover.Resumes)
	require.Equal(t, insightgen.Times{Count: 1, P50: 100 * time.Second, P90: 100 * time.Second}, driver.Times)
	require.Equal(t, insightgen.Times{Count: 3, P50: 200 * time.Second, P90: 300 * time.Second}, truth.Times,
		"the ceil(p·n)-th smallest: 2nd and 3rd of 3")
	require.Equal(t, map[insightgen.Flow]int64{{From: web, To: phone}: 2, {From: app, To: chat}: 1}, truth.Resumes)
}

// asAPI is the journey map an exact API would return for truth.
func asAPI(truth *insightgen.Truth) *handoffv1.JourneyTypeInsight {
	flows := func(m map[insightgen.Flow]int64, of int64) []*handoffv1.ChannelFlow {
		var out []*handoffv1.ChannelFlow
		for f, n := range m {
			cf := &handoffv1.ChannelFlow{From: f.From, To: f.To, Count: n}
			if of > 0 {
				cf.Rate = float64(n) / float64(of)
			}
			out = append(out, cf)
		}
		return out
	}
	times := func(t insightgen.Times) *handoffv1.ResumeTimes {
		if t.Count == 0 {
			return nil
		}
		return &handoffv1.ResumeTimes{Count: t.Count, P50: durationpb.New(t.P50), P90: durationpb.New(t.P90)}
	}
	out := &handoffv1.JourneyTypeInsight{
		From: truth.From, To: truth.To, ExpiredThrough: truth.To, Started: truth.Started, Completed: truth.Completed,
		TimeToResume: times(truth.Times), Switches: flows(truth.Switches, truth.Started), Resumes: flows(truth.Resumes, truth.Started),
		Reminders: &handoffv1.Reminders{},
	}
	for _, e := range truth.Entries {
		out.EntryChannels = append(out.EntryChannels, &handoffv1.EntryChannelInsight{Channel: e.Channel, Started: e.Started, Completed: e.Completed, CompletionRate: e.CompletionRate})
	}
	for _, s := range truth.Steps {
		out.Steps = append(out.Steps, &handoffv1.StepInsight{
			Step: s.Step, Reached: s.Reached, LeftForward: s.LeftForward, Stopped: s.Stopped, DropOffRate: s.DropOffRate,
			Resumes: flows(s.Resumes, s.Reached), Resumed: s.Resumed, ResumeRate: s.ResumeRate, Switches: flows(s.Switches, s.Reached),
			TimeToResume: times(s.Times), Expired: s.Expired, ExpiredUnresumed: s.ExpiredUnresumed,
		})
	}
	return out
}

func TestCompare_findsEveryFigureOutOfTolerance(t *testing.T) {
	truth := insightgen.TruthOf(insightgen.CarInsuranceQuote(), fiveJourneys, replayed)
	exact := asAPI(truth)
	require.Empty(t, insightgen.Compare(truth, exact, insightgen.DefaultTolerance).Mismatches())

	for _, tc := range []struct {
		name    string
		change  func(*handoffv1.JourneyTypeInsight)
		figures []string // the mismatched figures; none: within tolerance
	}{
		{"a_count_one_off", func(in *handoffv1.JourneyTypeInsight) { in.Steps[1].Reached++ }, []string{"driver reached"}},
		{"a_rate_0.9_percent_off", func(in *handoffv1.JourneyTypeInsight) { in.Steps[0].DropOffRate *= 1.009 }, nil},
		{"a_rate_1.1_percent_off", func(in *handoffv1.JourneyTypeInsight) { in.Steps[0].DropOffRate *= 1.011 }, []string{"vehicle drop-off rate"}},
		{"a_percentile_4.9_percent_off", func(in *handoffv1.JourneyTypeInsight) {
			in.TimeToResume.P90 = durationpb.New(time.Duration(float64(in.TimeToResume.P90.AsDuration()) * 1.049))
		}, nil},
		{"a_percentile_5.1_percent_off", func(in *handoffv1.JourneyTypeInsight) {
			in.TimeToResume.P50 = durationpb.New(time.Duration(float64(in.TimeToResume.P50.AsDuration()) * 0.949))
		}, []string{"time to resume p50"}},
		{"a_step_the_truth_has_not", func(in *handoffv1.JourneyTypeInsight) {
			in.Steps = append(in.Steps, &handoffv1.StepInsight{Step: "-", Reached: 1})
		}, []string{"steps"}},
		{"a_flow_the_truth_has_not", func(in *handoffv1.JourneyTypeInsight) {
			in.Steps[0].Switches = append(in.Steps[0].Switches, &handoffv1.ChannelFlow{From: web, To: social, Count: 1})
		}, []string{"vehicle switches web→social"}},
		{"a_missing_resume_time", func(in *handoffv1.JourneyTypeInsight) { in.Steps[2].TimeToResume = nil },
			[]string{"cover time to resume count", "cover time to resume p50", "cover time to resume p90"}},
		{"an_entry_channel_the_truth_has_not", func(in *handoffv1.JourneyTypeInsight) {
			in.EntryChannels = append(in.EntryChannels, &handoffv1.EntryChannelInsight{Channel: phone, Started: 1})
		}, []string{"entry phone started"}},
		{"expiries_not_final", func(in *handoffv1.JourneyTypeInsight) { in.ExpiredThrough = "2030-01-31" }, []string{"expired through"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := proto.CloneOf(exact)
			tc.change(in)
			c := insightgen.Compare(truth, in, insightgen.DefaultTolerance)
			var figures []string
			for _, r := range c.Mismatches() {
				figures = append(figures, r.Figure)
			}
			require.Equal(t, tc.figures, figures)
			for _, f := range tc.figures {
				require.Contains(t, c.Markdown(), "| "+f+" |")
			}
			if len(tc.figures) > 0 {
				require.Equal(t, len(tc.figures), strings.Count(c.Markdown(), "**✗**"))
			}
		})
	}
}
