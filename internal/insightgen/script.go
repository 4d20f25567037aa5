package insightgen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// Script is what one generated journey does.
type Script struct {
	// Customer is the customer's id (`cust-` and 12 hex digits), Journey
	// the journey's id (`q-` and 12 hex digits).
	Customer, Journey string
	// Entry is the channel the customer starts and saves on.
	Entry handoffv1.Channel
	// Stop is the index in Plan.Steps of the furthest step the customer
	// reached; Answers holds the answers saved on each step up to it.
	Stop    int
	Answers []map[string]any
	// Completes: the customer completes the journey on the last step.
	Completes bool
	// Resume is staff picking the journey up (nil: nobody does).
	Resume *Resume
	// Distinctive are the answer values a scan looks for: strings no
	// response can hold by accident.
	Distinctive []string
}

// Resume is a resume by staff, After the customer's last save.
type Resume struct {
	After     time.Duration
	Channel   handoffv1.Channel
	Agent     string
	Completes bool
}

// Completed reports whether the journey ends completed, by the customer
// or the agent.
func (s Script) Completed() bool { return s.Completes || (s.Resume != nil && s.Resume.Completes) }

// Needles are every id and distinctive answer of the script.
func (s Script) Needles() []string {
	out := append([]string{s.Customer, s.Journey}, s.Distinctive...)
	if s.Resume != nil {
		out = append(out, s.Resume.Agent)
	}
	return out
}

// Generate draws n journeys from the plan, the same ones for the same
// seed.
func (p Plan) Generate(seed uint64, n int) ([]Script, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Type != "car-insurance-quote" {
		return nil, fmt.Errorf("plan: answers are generated for car-insurance-quote only, not %s", p.Type)
	}
	r := rand.New(rand.NewPCG(seed, 0x1a5197))
	ids := newIDs(r)
	agents := make([]string, p.Agents)
	for i := range agents {
		agents[i] = ids.next("agent-")
	}
	last := len(p.Steps) - 1
	out := make([]Script, n)
	for i := range out {
		s := Script{Customer: ids.next("cust-"), Journey: ids.next("q-"), Entry: pick(r, p.EntryChannels)}
		for s.Stop < last && r.Float64() < p.GoOn[s.Stop] {
			s.Stop++
		}
		for step := 0; step <= s.Stop; step++ {
			answers, distinctive := carAnswers(r, p.Steps[step])
			s.Answers = append(s.Answers, answers)
			s.Distinctive = append(s.Distinctive, distinctive...)
		}
		s.Completes = s.Stop == last && r.Float64() < p.CustomerCompletes
		if !s.Completes && r.Float64() < p.Resume[s.Stop] {
			s.Resume = &Resume{
				After:     p.ResumeDelay.draw(r),
				Channel:   pick(r, p.ResumeChannels),
				Agent:     agents[r.IntN(len(agents))],
				Completes: r.Float64() < p.AgentCompletes,
			}
		}
		out[i] = s
	}
	return out, nil
}

// Agents are the agents the scripts' resumes name, sorted.
func Agents(scripts []Script) []string {
	var out []string
	for _, s := range scripts {
		if s.Resume != nil {
			out = append(out, s.Resume.Agent)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// AgentToken is the bearer token Replay calls as agent id with: a tokens
// file must give it to id, role agent.
func AgentToken(id string) string { return "tok-" + id }

// ids draws random, distinct hex ids.
type ids struct {
	r    *rand.Rand
	seen map[string]bool
}

func newIDs(r *rand.Rand) *ids { return &ids{r: r, seen: map[string]bool{}} }

func (g *ids) next(prefix string) string {
	for {
		id := prefix + g.hex(12)
		if !g.seen[id] {
			g.seen[id] = true
			return id
		}
	}
}

func (g *ids) hex(n int) string {
	return fmt.Sprintf("%016x", g.r.Uint64())[16-n:]
}

// carAnswers are one customer's answers to a step of the car-insurance
// quote, valid against its schemas, and the distinctive ones among them.
func carAnswers(r *rand.Rand, step string) (map[string]any, []string) {
	h := func() string { return fmt.Sprintf("%08x", r.Uint32()) }
	switch step {
	case "vehicle":
		plate, mk, model := "PL"+strings.ToUpper(h()), "make-"+h(), "model-"+h()
		return map[string]any{"plate": plate, "make": mk, "model": model, "year": 1990 + r.IntN(36)}, []string{plate, mk, model}
	case "driver":
		name := "name-" + h()
		return map[string]any{"name": name, "birthYear": 1940 + r.IntN(67), "claimsFree": r.IntN(41)}, []string{name}
	case "cover":
		levels := []string{"third-party", "third-party-fire-theft", "comprehensive"}
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(365))
		return map[string]any{
			"level":     levels[r.IntN(len(levels))],
			"excess":    []int{0, 250, 500}[r.IntN(3)],
			"startDate": start.Format(time.DateOnly),
		}, nil
	case "confirm":
		email := "q" + h() + "@example.test"
		return map[string]any{"email": email, "consent": r.IntN(2) == 1}, []string{email}
	}
	return nil, nil
}
