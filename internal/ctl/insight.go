package ctl

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/journeytype"
)

// insightCommand prints a journey type's journey map (docs/insight.md):
// one call, GetJourneyTypeInsight, the only one an analyst may make.
func insightCommand(a *app) *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "insight TYPE",
		Short: "Show where a journey type's customers stop, switch channel and are resumed (analysts, admins)",
		Long: `Prints a journey type's journey map over a range of days (UTC, both
included; default the 30 days up to today): a summary line, then the
funnel per step (a moment of truth marked *), the journeys started and
completed per entry channel, and per step the channel switches and
resumes by staff from one channel to another. A step's rates are of the
journeys that reached it, a channel's completion of those started on it
(- when there are none); TTR is the time from the customer's last save to
a resume. Expiries count only for days that have ended. -o json prints
the JourneyTypeInsight message.`,
		Example: `  handoffctl insight car-insurance-quote --from 2025-06-01 --to 2025-06-30`,
		Args:    args(1, "TYPE"),
		RunE: func(cmd *cobra.Command, arg []string) error {
			for _, d := range []struct{ flag, value string }{{"--from", from}, {"--to", to}} {
				if _, err := time.Parse(time.DateOnly, d.value); d.value != "" && err != nil {
					return &usageError{fmt.Errorf("%s %q: want a day, YYYY-MM-DD (UTC)", d.flag, d.value)}
				}
			}
			if strings.Contains(arg[0], "@") {
				return &usageError{errors.New("TYPE: insight counts every version of a type; give it without @VERSION")}
			}
			name := typeName(strings.TrimSuffix(arg[0], "/insight")) + "/insight"
			in, err := a.types.GetJourneyTypeInsight(a.call(cmd.Context()), &handoffv1.GetJourneyTypeInsightRequest{Name: name, From: from, To: to})
			if err != nil {
				return err
			}
			return a.printTables(in, insightSummary(in), funnelRows(in.GetSteps()), entryRows(in.GetEntryChannels()), flowRows(in.GetSteps()))
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the first day counted, YYYY-MM-DD (default: 29 days before --to)")
	cmd.Flags().StringVar(&to, "to", "", "the last day counted, YYYY-MM-DD (default: today, UTC)")
	return cmd
}

// printTables writes msg as JSON once, or a line and then each table
// after a blank line.
func (a *app) printTables(msg proto.Message, line string, tables ...[][]string) error {
	if a.settings.Output == "json" {
		return a.print(msg, nil)
	}
	if _, err := fmt.Fprintln(a.out, line); err != nil {
		return err
	}
	for _, rows := range tables {
		fmt.Fprintln(a.out)
		if err := a.print(msg, rows); err != nil {
			return err
		}
	}
	return nil
}

// insightSummary is the line above the tables: the type, its range and
// the figures of all steps together.
func insightSummary(in *handoffv1.JourneyTypeInsight) string {
	through := in.GetExpiredThrough()
	if through == "" {
		through = "- (no day of the range has ended)"
	}
	t, r := in.GetTimeToResume(), in.GetReminders()
	return fmt.Sprintf("%s  %s to %s  started %d  completed %d  time to resume p50 %s p90 %s  reminders sent %d, brought back %d  expired final through %s",
		strings.TrimSuffix(strings.TrimPrefix(in.GetName(), journeytype.NamePrefix), "/insight"), in.GetFrom(), in.GetTo(),
		in.GetStarted(), in.GetCompleted(), human(t.GetP50()), human(t.GetP90()), r.GetSent(), r.GetBroughtBack(), through)
}

func funnelRows(steps []*handoffv1.StepInsight) [][]string {
	rows := [][]string{{"STEP", "REACHED", "LEFT", "STOPPED", "DROP-OFF", "RESUMED", "RESUME RATE", "TTR P50", "TTR P90", "EXPIRED", "UNRESUMED"}}
	for _, s := range steps {
		step := s.GetStep()
		if s.GetMomentOfTruth() {
			step += " *"
		}
		rows = append(rows, []string{step, count(s.GetReached()), count(s.GetLeftForward()), count(s.GetStopped()),
			percent(s.GetDropOffRate(), s.GetReached()), count(s.GetResumed()), percent(s.GetResumeRate(), s.GetReached()),
			human(s.GetTimeToResume().GetP50()), human(s.GetTimeToResume().GetP90()), count(s.GetExpired()), count(s.GetExpiredUnresumed())})
	}
	return rows
}

func entryRows(entries []*handoffv1.EntryChannelInsight) [][]string {
	rows := [][]string{{"ENTRY CHANNEL", "STARTED", "COMPLETED", "COMPLETION"}}
	for _, e := range entries {
		rows = append(rows, []string{channelName(e.GetChannel()), count(e.GetStarted()), count(e.GetCompleted()), percent(e.GetCompletionRate(), e.GetStarted())})
	}
	return rows
}

// flowRows are each step's channel pairs, by from then to, each with its
// switches and its resumes.
func flowRows(steps []*handoffv1.StepInsight) [][]string {
	rows := [][]string{{"STEP", "FROM → TO", "SWITCHES", "RESUMES"}}
	for _, s := range steps {
		type pair struct{ from, to handoffv1.Channel }
		var order []pair
		counts := map[pair]*[2]int64{}
		add := func(flows []*handoffv1.ChannelFlow, i int) {
			for _, f := range flows {
				p := pair{f.GetFrom(), f.GetTo()}
				if counts[p] == nil {
					counts[p] = new([2]int64)
					order = append(order, p)
				}
				counts[p][i] += f.GetCount()
			}
		}
		add(s.GetSwitches(), 0)
		add(s.GetResumes(), 1)
		slices.SortFunc(order, func(x, y pair) int { return cmp.Or(cmp.Compare(x.from, y.from), cmp.Compare(x.to, y.to)) })
		for _, p := range order {
			rows = append(rows, []string{s.GetStep(), channelName(p.from) + " → " + channelName(p.to), count(counts[p][0]), count(counts[p][1])})
		}
	}
	return rows
}

func count(n int64) string { return strconv.FormatInt(n, 10) }

// percent is a rate with one decimal, or - when its denominator is 0 (no
// journey to have a rate of).
func percent(rate float64, of int64) string {
	if of == 0 {
		return "-"
	}
	return strconv.FormatFloat(rate*100, 'f', 1, 64) + "%"
}

// channelName is a channel as handoffctl's flags name it (web, phone,
// in_person); journeys started before insight have no entry channel.
func channelName(c handoffv1.Channel) string {
	if c == handoffv1.Channel_CHANNEL_UNSPECIFIED {
		return "unknown"
	}
	return short(c.String(), "CHANNEL_")
}

// human is a duration to the second, from days down to the smallest
// unit that is not zero: 42m10s, 3d4h, 1h0m5s; - when there is none.
func human(d *durationpb.Duration) string {
	if d == nil {
		return "-"
	}
	left := d.AsDuration().Round(time.Second)
	if left <= 0 {
		return "0s"
	}
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	var b strings.Builder
	for _, u := range units {
		n := left / u.size
		left -= n * u.size
		if n > 0 || (b.Len() > 0 && left > 0) {
			fmt.Fprintf(&b, "%d%s", n, u.name)
		}
	}
	return b.String()
}
