package insightgen

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/insight"
)

// Tolerance is how far the API may be from the truth, relative to it.
type Tolerance struct {
	Count, Rate, Percentile float64
}

// DefaultTolerance is issue 16's: rates within 1%, percentiles within
// 5%; counts exactly (the replay counts every journey, nothing is lost).
var DefaultTolerance = Tolerance{Count: 0, Rate: 0.01, Percentile: 0.05}

// Row is one figure compared.
type Row struct {
	Figure     string
	Truth, Got string
	Difference string // relative, "" when equal or not a number
	OK         bool
}

// Comparison is every figure of a journey map, truth against the API.
type Comparison struct{ Rows []Row }

// Mismatches are the rows out of tolerance.
func (c Comparison) Mismatches() []Row {
	var out []Row
	for _, r := range c.Rows {
		if !r.OK {
			out = append(out, r)
		}
	}
	return out
}

// String says what a mismatch is.
func (r Row) String() string {
	return fmt.Sprintf("%s: truth %s, API %s %s", r.Figure, r.Truth, r.Got, r.Difference)
}

// Markdown is the comparison as a table.
func (c Comparison) Markdown() string {
	var b strings.Builder
	b.WriteString("| figure | truth | API | difference | within |\n|---|---:|---:|---:|:-:|\n")
	for _, r := range c.Rows {
		ok := "✓"
		if !r.OK {
			ok = "**✗**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.Figure, r.Truth, r.Got, r.Difference, ok)
	}
	return b.String()
}

type comparer struct {
	tol  Tolerance
	rows []Row
}

func relative(want, got float64) float64 {
	if want == got {
		return 0
	}
	if want == 0 {
		return math.Inf(1)
	}
	return (got - want) / math.Abs(want)
}

func percent(d float64) string {
	if d == 0 {
		return ""
	}
	if math.IsInf(d, 0) {
		return "∞"
	}
	return fmt.Sprintf("%+.2f%%", 100*d)
}

func (c *comparer) count(figure string, want, got int64) {
	d := relative(float64(want), float64(got))
	c.rows = append(c.rows, Row{Figure: figure, Truth: fmt.Sprint(want), Got: fmt.Sprint(got), Difference: percent(d), OK: math.Abs(d) <= c.tol.Count})
}

func (c *comparer) rate(figure string, want, got float64) {
	d := relative(want, got)
	c.rows = append(c.rows, Row{Figure: figure, Truth: fmt.Sprintf("%.4f", want), Got: fmt.Sprintf("%.4f", got), Difference: percent(d), OK: math.Abs(d) <= c.tol.Rate})
}

func (c *comparer) percentile(figure string, want, got time.Duration) {
	d := relative(want.Seconds(), got.Seconds())
	truth := want.String()
	if want > 0 {
		truth += fmt.Sprintf(" (bucket %s)", insight.BucketValue(insight.Bucket(want)))
	}
	c.rows = append(c.rows, Row{Figure: figure, Truth: truth, Got: got.String(), Difference: percent(d), OK: math.Abs(d) <= c.tol.Percentile})
}

func (c *comparer) text(figure, want, got string) {
	c.rows = append(c.rows, Row{Figure: figure, Truth: want, Got: got, OK: want == got})
}

func (c *comparer) times(figure string, want Times, got *handoffv1.ResumeTimes) {
	c.count(figure+" count", want.Count, got.GetCount())
	if want.Count == 0 && got == nil {
		return
	}
	c.percentile(figure+" p50", want.P50, got.GetP50().AsDuration())
	c.percentile(figure+" p90", want.P90, got.GetP90().AsDuration())
}

// flows compares channel flows (counts, and rates of `of` when of > 0).
func (c *comparer) flows(figure string, want map[Flow]int64, got []*handoffv1.ChannelFlow, of int64) {
	gotBy := map[Flow]*handoffv1.ChannelFlow{}
	keys := make([]Flow, 0, len(want)+len(got))
	for f := range want {
		keys = append(keys, f)
	}
	for _, g := range got {
		f := Flow{g.GetFrom(), g.GetTo()}
		if _, dup := gotBy[f]; dup {
			c.text(figure+" "+flowName(f)+" listed once", "once", "twice")
		}
		gotBy[f] = g
		keys = append(keys, f)
	}
	slices.SortFunc(keys, func(a, b Flow) int { return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To)) })
	for _, f := range slices.Compact(keys) {
		c.count(figure+" "+flowName(f), want[f], gotBy[f].GetCount())
		if of > 0 {
			c.rate(figure+" "+flowName(f)+" rate", ratio(want[f], of), gotBy[f].GetRate())
		}
	}
}

func flowName(f Flow) string { return channelName(f.From) + "→" + channelName(f.To) }

func channelName(ch handoffv1.Channel) string {
	return strings.ToLower(strings.TrimPrefix(ch.String(), "CHANNEL_"))
}

// Compare sets the API's journey map against the truth, figure by
// figure, within tol: every count, rate and percentile of the truth, and
// anything the API holds that the truth does not (a step, a flow, an
// entry channel) as a mismatch.
func Compare(t *Truth, got *handoffv1.JourneyTypeInsight, tol Tolerance) Comparison {
	c := &comparer{tol: tol}
	c.text("range", t.From+" to "+t.To, got.GetFrom()+" to "+got.GetTo())
	c.text("expired through", t.To, got.GetExpiredThrough())
	var wantSteps, gotSteps []string
	for _, s := range t.Steps {
		wantSteps = append(wantSteps, s.Step)
	}
	for _, s := range got.GetSteps() {
		gotSteps = append(gotSteps, s.GetStep())
	}
	c.text("steps", strings.Join(wantSteps, " "), strings.Join(gotSteps, " "))
	c.count("started", t.Started, got.GetStarted())
	c.count("completed", t.Completed, got.GetCompleted())

	gotEntries := map[handoffv1.Channel]*handoffv1.EntryChannelInsight{}
	for _, e := range got.GetEntryChannels() {
		gotEntries[e.GetChannel()] = e
	}
	for _, e := range t.Entries {
		g := gotEntries[e.Channel]
		delete(gotEntries, e.Channel)
		name := "entry " + channelName(e.Channel)
		c.count(name+" started", e.Started, g.GetStarted())
		c.count(name+" completed", e.Completed, g.GetCompleted())
		c.rate(name+" completion rate", e.CompletionRate, g.GetCompletionRate())
	}
	for ch, g := range gotEntries {
		c.count("entry "+channelName(ch)+" started", 0, g.GetStarted())
	}

	for _, s := range t.Steps {
		var g *handoffv1.StepInsight
		for _, gs := range got.GetSteps() {
			if gs.GetStep() == s.Step {
				g = gs
			}
		}
		name := s.Step
		c.count(name+" reached", s.Reached, g.GetReached())
		c.count(name+" left forward", s.LeftForward, g.GetLeftForward())
		c.count(name+" stopped", s.Stopped, g.GetStopped())
		c.rate(name+" drop-off rate", s.DropOffRate, g.GetDropOffRate())
		c.count(name+" resumed", s.Resumed, g.GetResumed())
		c.rate(name+" resume rate", s.ResumeRate, g.GetResumeRate())
		c.flows(name+" resumes", s.Resumes, g.GetResumes(), s.Reached)
		c.flows(name+" switches", s.Switches, g.GetSwitches(), s.Reached)
		c.times(name+" time to resume", s.Times, g.GetTimeToResume())
		c.count(name+" expired", s.Expired, g.GetExpired())
		c.count(name+" expired unresumed", s.ExpiredUnresumed, g.GetExpiredUnresumed())
	}
	c.times("time to resume", t.Times, got.GetTimeToResume())
	c.flows("resumes", t.Resumes, got.GetResumes(), t.Started)
	c.flows("switches", t.Switches, got.GetSwitches(), t.Started)
	c.count("reminders sent", 0, got.GetReminders().GetSent())
	c.count("reminders brought back", 0, got.GetReminders().GetBroughtBack())
	return Comparison{Rows: c.rows}
}
