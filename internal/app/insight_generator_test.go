package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/insight"
	"github.com/journeyhandoff/handoff/internal/insightgen"
	"github.com/journeyhandoff/handoff/internal/loadgen"
)

// Issue 16's accuracy check: journeys generated with known drop-off,
// channel-switch and resume-time distributions are replayed through the
// API, and the journey map must give back their figures (counts exactly,
// rates within 1%, percentiles within 5%). make insight-check runs it
// with 100,000 journeys and writes docs/insight-check.md.

const (
	// generatorSeed makes every run replay the same journeys.
	generatorSeed = 16
	// insightJourneysEnv sets how many; insightReportEnv names the file
	// the report goes to (none: the tables are only logged).
	insightJourneysEnv = "HANDOFF_INSIGHT_JOURNEYS"
	insightReportEnv   = "HANDOFF_INSIGHT_REPORT"
)

// generatorJourneys is how many journeys to replay: small enough by
// default for go test -race.
func generatorJourneys(t *testing.T) int {
	t.Helper()
	v := os.Getenv(insightJourneysEnv)
	if v == "" {
		return 1500
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, "%s=%q is not a number of journeys", insightJourneysEnv, v)
	require.Positive(t, n, insightJourneysEnv)
	return n
}

// startGenerated runs handoffd on the clock the replay moves, with the
// example types, counts flushed often, calls not logged (a replay makes
// hundreds of thousands) and tokens for the scripts' agents besides the
// story's.
func startGenerated(t *testing.T, kind storeKind, scripts []insightgen.Script) (*harness, *insightgen.Clock) {
	t.Helper()
	tokens := &strings.Builder{}
	tokens.WriteString(tokensYAML)
	for _, a := range insightgen.Agents(scripts) {
		fmt.Fprintf(tokens, "  - {token: %q, principal: %q, role: agent}\n", insightgen.AgentToken(a), a)
	}
	file := filepath.Join(t.TempDir(), "generator-tokens.yaml")
	require.NoError(t, os.WriteFile(file, []byte(tokens.String()), 0o600))
	clock := &insightgen.Clock{}
	h := start(t, kind, withExampleTypes(t), withInsightFlushedOften, func(c *config.Config) {
		c.TokensFile = file
		c.Now = clock.Now
		c.LogLevel = slog.LevelWarn
	})
	return h, clock
}

func replayGenerated(t *testing.T, h *harness, clock *insightgen.Clock, plan insightgen.Plan, scripts []insightgen.Script) *insightgen.Replayed {
	t.Helper()
	r, err := insightgen.Replay(t.Context(), h.conn, clock, scripts, insightgen.Options{
		Plan: plan, ServiceToken: websiteToken, AnalystToken: kees, Workers: 8, Settle: 300 * time.Millisecond,
	})
	require.NoError(t, err)
	return r
}

func TestInsight_theMapMatchesWhatTheGeneratorReplayed(t *testing.T) {
	n := generatorJourneys(t)
	loadBefore := loadgen.LoadAverage()
	plan := insightgen.CarInsuranceQuote()
	scripts, err := plan.Generate(generatorSeed, n)
	require.NoError(t, err)
	began := time.Now()
	var sections []string
	for _, kind := range []storeKind{memoryStore, redisStore} {
		t.Run(string(kind), func(t *testing.T) {
			started := time.Now()
			h, clock := startGenerated(t, kind, scripts)
			r := replayGenerated(t, h, clock, plan, scripts)
			replayed := time.Since(started)
			c := insightgen.Compare(insightgen.TruthOf(plan, scripts, r), r.Insight, insightgen.DefaultTolerance)
			t.Logf("%s: %d journeys replayed and read in %s (customers %s, staff %s, read %s)\n%s", kind, n, replayed.Round(time.Millisecond),
				r.Took.Customers.Round(time.Millisecond), r.Took.Staff.Round(time.Millisecond), r.Took.Read.Round(time.Millisecond), c.Markdown())
			for _, m := range c.Mismatches() {
				t.Errorf("out of tolerance: %s", m)
			}
			sections = append(sections, fmt.Sprintf("## %s\n\n%s journeys started, replayed and read in %s (the customers' part %s, the resumes %s, the read %s); %d figures, %d out of tolerance.\n\n%s",
				kind, thousands(n), replayed.Round(time.Second), r.Took.Customers.Round(time.Second), r.Took.Staff.Round(time.Second), r.Took.Read.Round(time.Millisecond),
				len(c.Rows), len(c.Mismatches()), c.Markdown()))
		})
	}
	if path := os.Getenv(insightReportEnv); path != "" {
		report := insightReport(plan, n, time.Since(began), loadBefore+" before, "+loadgen.LoadAverage()+" after", sections)
		require.NoError(t, os.WriteFile(path, []byte(report), 0o644))
	}
}

// insightReport is docs/insight-check.md.
func insightReport(plan insightgen.Plan, n int, took time.Duration, load string, sections []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Insight accuracy check

Written by `+"`make insight-check`"+` (do not edit): issue 16's check that the
journey map returns what happened. A generator (`+"`internal/insightgen`"+`)
draws %s car-insurance quotes (seed %d) from known distributions,
replays them through handoffd's gRPC API in process on a clock it moves
(customers at T0; resumes by staff at T0 + their delay, in order; the read
at T0 + 32 days, when every expiry is final), works out the figures the
replayed journeys imply and compares them with `+"`GetJourneyTypeInsight`"+`
for the 32 days from T0: counts must be exact, rates within 1%%,
percentiles of time to resume (from the raw delays, not buckets) within
5%%. The test is `+"`TestInsight_theMapMatchesWhatTheGeneratorReplayed`"+`
(`+"`internal/app/insight_generator_test.go`"+`); `+"`make test`"+` runs it with
1,500 journeys.

- command: `+"`make insight-check`"+`, i.e. `+"`HANDOFF_INSIGHT_JOURNEYS=%d go test ./internal/app -run '^TestInsight_theMapMatchesWhatTheGeneratorReplayed$' -count=1`"+` (no -race)
- date: %s
- run time: %s for both stores
- machine: %s; load average (1, 5, 15 min) %s: the machine is shared

The plan:

%s
`, thousands(n), generatorSeed, n, time.Now().UTC().Format("2006-01-02 15:04 MST"), took.Round(time.Second), machine(), load, plan.Markdown())
	for _, s := range sections {
		b.WriteString("\n" + s)
	}
	return b.String()
}

// thousands writes n with thousands separated: 100,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// machine says what the check ran on.
func machine() string {
	cpu := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(raw)) {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimLeft(name, "\t :"))
				break
			}
		}
	}
	out := fmt.Sprintf("%d × %s, %s/%s, %s", runtime.NumCPU(), cpu, runtime.GOOS, runtime.GOARCH, runtime.Version())
	if v, err := exec.Command("redis-server", "--version").Output(); err == nil {
		for _, f := range strings.Fields(string(v)) {
			if version, ok := strings.CutPrefix(f, "v="); ok {
				out += ", Redis " + version
			}
		}
	}
	return out
}

// needles finds any of a set of strings in bytes, ignoring ASCII case:
// one map lookup per position and needle length, so 500,000 needles
// cost what a handful do.
type needles struct {
	byLen map[int]map[string]bool
}

func newNeedles(all []string) *needles {
	n := &needles{byLen: map[int]map[string]bool{}}
	for _, s := range all {
		s = strings.ToLower(s)
		if n.byLen[len(s)] == nil {
			n.byLen[len(s)] = map[string]bool{}
		}
		n.byLen[len(s)][s] = true
	}
	return n
}

// requireNone fails the test when b holds any needle.
func (n *needles) requireNone(t *testing.T, b []byte, what string) {
	t.Helper()
	if found := n.in(b); len(found) > 0 {
		t.Fatalf("%s names %d generated ids or answers, e.g. %q", what, len(found), found[:min(len(found), 5)])
	}
}

// in returns the needles found in b.
func (n *needles) in(b []byte) []string {
	low := string(bytes.ToLower(b))
	var found []string
	for l, set := range n.byLen {
		for i := 0; i+l <= len(low); i++ {
			if set[low[i:i+l]] {
				found = append(found, low[i:i+l])
			}
		}
	}
	return found
}

func TestInsight_noResponseNamesACustomerAnAgentOrAnAnswer(t *testing.T) {
	plan := insightgen.CarInsuranceQuote()
	scripts, err := plan.Generate(generatorSeed+1, 250)
	require.NoError(t, err)
	var all []string
	for _, s := range scripts {
		all = append(all, s.Needles()...)
	}
	scan := newNeedles(all)
	agents := insightgen.Agents(scripts)
	require.NotEmpty(t, agents)

	// The scan itself finds what it looks for, wherever and however cased.
	for _, needle := range []string{scripts[0].Customer, agents[0], scripts[0].Distinctive[0], scripts[len(scripts)-1].Journey} {
		require.Equal(t, []string{strings.ToLower(needle)}, scan.in([]byte(`{"x": "`+strings.ToUpper(needle)+`"}`)))
	}

	for _, kind := range []storeKind{memoryStore, redisStore} {
		t.Run(string(kind), func(t *testing.T) {
			h, clock := startGenerated(t, kind, scripts)
			r := replayGenerated(t, h, clock, plan, scripts)
			require.Equal(t, int64(len(scripts)), r.Insight.GetStarted())
			t0 := r.T0
			ranges := [][2]string{
				{r.From, r.To},
				{"", ""}, // the default: 30 days to today (T0 + 32 days)
				{insight.Day(t0), insight.Day(t0)},
				{insight.Day(t0.AddDate(0, 0, 1)), insight.Day(t0.AddDate(0, 0, 1))},
				{insight.Day(t0.AddDate(0, 0, 30)), insight.Day(t0.AddDate(0, 0, 31))},
				{insight.Day(t0.AddDate(0, 0, -7)), insight.Day(t0.AddDate(0, 0, 60))},
			}
			var scanned, figures int
			for _, rg := range ranges {
				for _, token := range []string{kees, adminToken} {
					got, err := h.types().GetJourneyTypeInsight(as(t, token), &handoffv1.GetJourneyTypeInsightRequest{
						Name: "journeyTypes/" + quoteType + "/insight", From: rg[0], To: rg[1],
					})
					require.NoError(t, err)
					raw, err := proto.Marshal(got)
					require.NoError(t, err)
					scan.requireNone(t, raw, fmt.Sprintf("gRPC %v", rg))
					figures += int(got.GetStarted())

					q := url.Values{}
					if rg[0] != "" {
						q.Set("from", rg[0])
						q.Set("to", rg[1])
					}
					body := restInsight(t, h, token, q)
					scan.requireNone(t, body, fmt.Sprintf("REST %v", rg))
					require.Contains(t, string(body), `"steps"`)
					// A response that named one would be caught.
					require.NotEmpty(t, scan.in(append(body, scripts[scanned%len(scripts)].Needles()[scanned%3]...)))
					scanned += 2
				}
			}
			require.Positive(t, figures, "the ranges hold the replayed journeys")
			t.Logf("%d responses scanned for %d ids and answers", scanned, len(all))
		})
	}
}

func restInsight(t *testing.T, h *harness, token string, q url.Values) []byte {
	t.Helper()
	u := h.base + "/v1/journeyTypes/" + quoteType + "/insight"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := newRequest(ctx, u, token)
	require.NoError(t, err)
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	return body
}
