package insightgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// Weighted is one choice of a mix and its share.
type Weighted[T any] struct {
	Value T
	Share float64
}

// LogNormal is a distribution of durations: the logarithm of the
// duration is normal with the median's logarithm and Sigma. Draws are
// whole seconds, at least Min and below Max (drawn again when not).
type LogNormal struct {
	Median   time.Duration
	Sigma    float64
	Min, Max time.Duration
}

// Plan is the known behaviour of the generated customers and staff on
// a journey type whose steps run in order.
type Plan struct {
	// Type is the journey type's id; Steps its steps in order.
	Type  string
	Steps []string
	// EntryChannels is the channel customers start on (customer
	// channels: web, app).
	EntryChannels []Weighted[handoffv1.Channel]
	// GoOn[i] is the probability that a customer on Steps[i] goes on to
	// Steps[i+1] (one fewer than Steps).
	GoOn []float64
	// Resume[i] is the probability that a customer who stopped on
	// Steps[i] (and did not complete) is resumed by staff.
	Resume []float64
	// ResumeChannels is the channel staff resume on (staff desks: phone,
	// chat, social).
	ResumeChannels []Weighted[handoffv1.Channel]
	// ResumeDelay is the time from the customer's last save to the
	// resume. Max must stay under a day: replayed expiries must all fall
	// before the day Replay reads on (see Replay).
	ResumeDelay LogNormal
	// CustomerCompletes is the probability that a customer who reached
	// the last step completes the journey there.
	CustomerCompletes float64
	// AgentCompletes is the probability that the agent completes a
	// journey they resumed.
	AgentCompletes float64
	// Agents is how many agents share the resumes.
	Agents int
}

// CarInsuranceQuote is a plan for examples/journey-types/car-insurance-quote.yaml.
func CarInsuranceQuote() Plan {
	return Plan{
		Type:  "car-insurance-quote",
		Steps: []string{"vehicle", "driver", "cover", "confirm"},
		EntryChannels: []Weighted[handoffv1.Channel]{
			{handoffv1.Channel_CHANNEL_WEB, 0.7},
			{handoffv1.Channel_CHANNEL_APP, 0.3},
		},
		GoOn:   []float64{0.8, 0.75, 0.6},
		Resume: []float64{0.05, 0.15, 0.35, 0.25},
		ResumeChannels: []Weighted[handoffv1.Channel]{
			{handoffv1.Channel_CHANNEL_PHONE, 0.6},
			{handoffv1.Channel_CHANNEL_CHAT, 0.25},
			{handoffv1.Channel_CHANNEL_SOCIAL, 0.15},
		},
		ResumeDelay:       LogNormal{Median: 40 * time.Minute, Sigma: 1.2, Min: time.Second, Max: 23 * time.Hour},
		CustomerCompletes: 0.7,
		AgentCompletes:    0.5,
		Agents:            24,
	}
}

// Validate says what is wrong with p, if anything.
func (p Plan) Validate() error {
	switch {
	case p.Type == "" || len(p.Steps) == 0:
		return fmt.Errorf("plan: a type and its steps are required")
	case len(p.GoOn) != len(p.Steps)-1:
		return fmt.Errorf("plan: GoOn has %d probabilities, want one per step but the last (%d)", len(p.GoOn), len(p.Steps)-1)
	case len(p.Resume) != len(p.Steps):
		return fmt.Errorf("plan: Resume has %d probabilities, want one per step (%d)", len(p.Resume), len(p.Steps))
	case len(p.EntryChannels) == 0 || len(p.ResumeChannels) == 0:
		return fmt.Errorf("plan: entry and resume channels are required")
	case p.Agents < 1:
		return fmt.Errorf("plan: at least one agent is required")
	case p.ResumeDelay.Median <= 0 || p.ResumeDelay.Min < time.Second || p.ResumeDelay.Max <= p.ResumeDelay.Min:
		return fmt.Errorf("plan: resume delay needs a median, a minimum of a second at least and a maximum above it")
	case p.ResumeDelay.Max >= 24*time.Hour:
		return fmt.Errorf("plan: resume delay maximum %s must stay under a day", p.ResumeDelay.Max)
	}
	for _, ch := range p.ResumeChannels {
		for _, e := range p.EntryChannels {
			if ch.Value == e.Value {
				return fmt.Errorf("plan: %s is both an entry and a resume channel; a resume must switch channel", ch.Value)
			}
		}
	}
	return nil
}

func pick[T any](r *rand.Rand, mix []Weighted[T]) T {
	var total float64
	for _, w := range mix {
		total += w.Share
	}
	x := r.Float64() * total
	for _, w := range mix {
		if x < w.Share {
			return w.Value
		}
		x -= w.Share
	}
	return mix[len(mix)-1].Value
}

func (d LogNormal) draw(r *rand.Rand) time.Duration {
	for {
		s := math.Round(d.Median.Seconds() * math.Exp(d.Sigma*r.NormFloat64()))
		t := time.Duration(s) * time.Second
		if t >= d.Min && t < d.Max {
			return t
		}
	}
}

// Markdown describes the plan as a list.
func (p Plan) Markdown() string {
	var b strings.Builder
	mix := func(m []Weighted[handoffv1.Channel]) string {
		var parts []string
		for _, w := range m {
			parts = append(parts, fmt.Sprintf("%s %.0f%%", channelName(w.Value), 100*w.Share))
		}
		return strings.Join(parts, ", ")
	}
	fmt.Fprintf(&b, "- journey type `%s`, steps %s\n", p.Type, strings.Join(p.Steps, " → "))
	fmt.Fprintf(&b, "- entry channel: %s\n", mix(p.EntryChannels))
	for i, g := range p.GoOn {
		fmt.Fprintf(&b, "- goes on from %s to %s: %.0f%%\n", p.Steps[i], p.Steps[i+1], 100*g)
	}
	fmt.Fprintf(&b, "- completes on %s (of those who reach it): %.0f%%\n", p.Steps[len(p.Steps)-1], 100*p.CustomerCompletes)
	var resume []string
	for i, r := range p.Resume {
		resume = append(resume, fmt.Sprintf("%s %.0f%%", p.Steps[i], 100*r))
	}
	fmt.Fprintf(&b, "- resumed by staff, of those who stopped (and did not complete) on: %s\n", strings.Join(resume, ", "))
	fmt.Fprintf(&b, "- resume channel: %s; %d agents\n", mix(p.ResumeChannels), p.Agents)
	fmt.Fprintf(&b, "- resume delay after the customer's last save: log-normal, median %s, σ %.1f, whole seconds from %s, below %s\n",
		p.ResumeDelay.Median, p.ResumeDelay.Sigma, p.ResumeDelay.Min, p.ResumeDelay.Max)
	fmt.Fprintf(&b, "- the agent completes a resumed journey: %.0f%%\n", 100*p.AgentCompletes)
	return b.String()
}
