package insightgen_test

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/insightgen"
	"github.com/journeyhandoff/handoff/internal/journeytype"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

func TestGenerate_theSameSeedGivesTheSameJourneys(t *testing.T) {
	plan := insightgen.CarInsuranceQuote()
	a, err := plan.Generate(7, 500)
	require.NoError(t, err)
	b, err := plan.Generate(7, 500)
	require.NoError(t, err)
	require.Equal(t, a, b)
	c, err := plan.Generate(8, 500)
	require.NoError(t, err)
	require.NotEqual(t, a[0].Customer, c[0].Customer)
}

func TestGenerate_answersFitTheJourneyType(t *testing.T) {
	path := filepath.Join(testutil.RepoRoot(t), "examples", "journey-types", "car-insurance-quote.yaml")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	def, err := journeytype.Parse(raw, path)
	require.NoError(t, err)
	typ, err := journeytype.Compile(def)
	require.NoError(t, err)
	plan := insightgen.CarInsuranceQuote()
	require.Equal(t, typ.StepIDs(), plan.Steps)

	scripts, err := plan.Generate(1, 2000)
	require.NoError(t, err)
	for _, s := range scripts {
		require.Len(t, s.Answers, s.Stop+1)
		for i, answers := range s.Answers {
			v, err := structpb.NewValue(answers)
			require.NoError(t, err)
			require.Empty(t, typ.CheckAnswer(plan.Steps[i], v), "%s %v", plan.Steps[i], answers)
		}
	}
}

func TestGenerate_idsAndAnswersAreDistinctive(t *testing.T) {
	scripts, err := insightgen.CarInsuranceQuote().Generate(3, 5000)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, s := range scripts {
		require.Regexp(t, `^cust-[0-9a-f]{12}$`, s.Customer)
		require.Regexp(t, `^q-[0-9a-f]{12}$`, s.Journey)
		require.False(t, seen[s.Customer] || seen[s.Journey], "ids are distinct")
		seen[s.Customer], seen[s.Journey] = true, true
		for _, n := range s.Needles() {
			require.GreaterOrEqual(t, len(n), 10, "%q is too short not to match by chance", n)
		}
	}
	agents := insightgen.Agents(scripts)
	require.NotEmpty(t, agents)
	for _, a := range agents {
		require.Regexp(t, `^agent-[0-9a-f]{12}$`, a)
	}
}

// The generated journeys follow the plan's distributions (within four
// standard errors), so the figures the check compares are the plan's.
func TestGenerate_followsThePlan(t *testing.T) {
	plan := insightgen.CarInsuranceQuote()
	const n = 40000
	scripts, err := plan.Generate(11, n)
	require.NoError(t, err)
	near := func(what string, got, of int, p float64) {
		t.Helper()
		se := math.Sqrt(p * (1 - p) / float64(of))
		require.InDelta(t, p, float64(got)/float64(of), 4*se, what)
	}
	var web, reached [4]int
	var stopped, resumed [4]int
	var lastReached, customerDone, agentDone, resumes int
	var delays []time.Duration
	for _, s := range scripts {
		if s.Entry == handoffv1.Channel_CHANNEL_WEB {
			web[0]++
		}
		for i := 0; i <= s.Stop; i++ {
			reached[i]++
		}
		if s.Stop == 3 {
			lastReached++
			if s.Completes {
				customerDone++
			}
		}
		if !s.Completes {
			stopped[s.Stop]++
		}
		if s.Resume != nil {
			resumed[s.Stop]++
			resumes++
			delays = append(delays, s.Resume.After)
			if s.Resume.Completes {
				agentDone++
			}
			require.Equal(t, time.Duration(0), s.Resume.After%time.Second, "whole seconds")
			require.Less(t, s.Resume.After, 24*time.Hour)
		}
	}
	near("web entry", web[0], n, 0.7)
	for i, p := range plan.GoOn {
		near("go on from "+plan.Steps[i], reached[i+1], reached[i], p)
	}
	for i, p := range plan.Resume {
		near("resumed on "+plan.Steps[i], resumed[i], stopped[i], p)
	}
	near("customer completes", customerDone, lastReached, plan.CustomerCompletes)
	near("agent completes", agentDone, resumes, plan.AgentCompletes)
	slices.Sort(delays)
	median := delays[len(delays)/2]
	require.InEpsilon(t, (40 * time.Minute).Seconds(), median.Seconds(), 0.08, "median resume delay %s", median)
}
