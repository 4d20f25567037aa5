package browsertest_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/insightgen"
)

// TestInsight_generatedJourneysAreDrawnAsTheAPICountsThem: the
// generator's synthetic quotes (internal/insightgen: known drop-off,
// channel switches and waits for staff) are replayed through the API on
// the clock it moves, and Kees opens their days: the page draws a column
// per step, a lane per channel and the flows, with the figures the API
// gives. Its screenshot is the README's.
func TestInsight_generatedJourneysAreDrawnAsTheAPICountsThem(t *testing.T) {
	plan := insightgen.CarInsuranceQuote()
	scripts, err := plan.Generate(16, 400)
	require.NoError(t, err)
	clock := &insightgen.Clock{}
	tokens := &strings.Builder{}
	tokens.WriteString(tokensYAML + `  - {token: "kees-analyst-secret", principal: "kees", role: analyst}
  - {token: "shop-service-secret", principal: "shop-website", role: service}
`)
	for _, a := range insightgen.Agents(scripts) {
		fmt.Fprintf(tokens, "  - {token: %q, principal: %q, role: agent}\n", insightgen.AgentToken(a), a)
	}
	s := startHandoffd(t, quickCounts, func(c *config.Config) {
		c.TokensFile = filepath.Join(t.TempDir(), "tokens.yaml")
		require.NoError(t, os.WriteFile(c.TokensFile, []byte(tokens.String()), 0o600))
		c.Now = clock.Now
		c.LogLevel = slog.LevelWarn
	})
	conn, err := grpc.NewClient(s.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	replayed, err := insightgen.Replay(t.Context(), conn, clock, scripts, insightgen.Options{
		Plan: plan, ServiceToken: shopToken, AnalystToken: keesToken, Settle: 300 * time.Millisecond,
	})
	require.NoError(t, err)
	api := replayed.Insight

	b := startBrowser(t)
	// A link to the days of the replay, as an analyst would share it.
	kees := insightPage{b.page("analyst (generated)", deskWidth, deskHeight, false)}
	kees.open(fmt.Sprintf("%s/console/insight.html#type=%s&from=%s&to=%s", s.base, quoteType, replayed.From, replayed.To))
	kees.fill("#signin-token", keesToken)
	kees.click("#signin-submit")
	kees.visible("#insight-map")
	kees.waitText("#insight-title", "Journey map: Car insurance quote")

	m := kees.mapFigures()
	require.Equal(t, []string{"vehicle", "driver", "cover", "confirm"}, m.Columns)
	require.Equal(t, []string{"Vehicle", "Driver", "◆ Cover", "Confirm"}, m.Titles, "labels from the insight itself: an analyst may not read the type")
	for i, st := range api.GetSteps() {
		require.Equal(t, fmt.Sprintf("%d reached", st.GetReached()), m.Reached[i], "step %s", st.GetStep())
		shown, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(m.DropOff[i], "Drop-off "), "%"), 64)
		require.NoError(t, err, m.DropOff[i])
		require.InDelta(t, 100*st.GetDropOffRate(), shown, 0.05+1e-9, "step %s: the API's rate to a tenth of a percent", st.GetStep())
	}
	require.Equal(t, []string{"CHANNEL_WEB", "CHANNEL_APP", "CHANNEL_PHONE", "CHANNEL_CHAT", "CHANNEL_SOCIAL"}, m.Lanes, "entries on web and app, resumes on phone, chat and social")
	require.NotEmpty(t, m.Flows)
	require.Equal(t, fmt.Sprintf("%d · %.1f%%", api.GetCompleted(), 100*float64(api.GetCompleted())/float64(api.GetStarted())), kees.text("#summary-completed"))
	kees.fits(true)
	kees.screenshot("insight-generated")
	kees.noExceptions()
}
