package browsertest_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// TestIdentity_agentFindsACallerByPhoneAndChecksTheirAnswer is Ravi with
// Anna on the line and no code: her number is on his screen. The console
// shows which journey she has open, by type and step only, and opens it
// when the year of birth she gives matches.
func TestIdentity_agentFindsACallerByPhoneAndChecksTheirAnswer(t *testing.T) {
	s := startHandoffd(t, func(c *config.Config) {
		c.IdentityKeysFile = filepath.Join(testutil.RepoRoot(t), "examples", "identity-keys.dev.txt")
	})
	j := s.post(t, annaToken, "customers/c-42/journeys", `{"journeyType": "car-insurance-quote", "step": "driver",
		"data": {"vehicle": {"plate": "AB-123-C"}, "driver": {"name": "Ana de Vries", "birthYear": 1988}}}`)
	name := j["name"].(string)
	s.post(t, annaToken, "customers/c-42/identityLinks", `{"identity": "+31 6 1234 5678"}`)

	b := startBrowser(t)
	ravi := signInConsole(b, s, raviToken, "phone")
	ravi.fill("#identity", "+31612345678")
	ravi.enter("#identity")
	ravi.waitText("#identity-results", "Car insurance quote")
	found := ravi.text("#identity-results")
	require.Contains(t, found, "at Driver")
	require.Contains(t, found, "Ask the caller: Year of birth")
	for _, secret := range []string{"Ana", "1988", "AB-123-C", "c-42"} {
		require.NotContains(t, found, secret, "a lookup shows type and step only")
	}
	ravi.gone("#journey")
	ravi.screenshot("console-identity-1-found")

	ravi.fill("#identity-answer-1", "1987")
	ravi.enter("#identity-answer-1")
	ravi.waitText("#identity-results .match .alert", "The answer does not match")
	ravi.gone("#journey")

	ravi.fill("#identity-answer-1", "1988")
	ravi.enter("#identity-answer-1")
	ravi.visible("#journey")
	ravi.waitCurrentStep("driver")
	require.Equal(t, "Ana de Vries", ravi.answerText("driver.name"))
	ravi.waitText("#holder", "Ravi (you)")
	ravi.waitText("#timeline", "Identified the caller")
	require.Contains(t, ravi.text("#timeline"), "answer did not match")
	require.Equal(t, name, ravi.journeyName())
	ravi.screenshot("console-identity-2-identified")
	ravi.noExceptions()
}
