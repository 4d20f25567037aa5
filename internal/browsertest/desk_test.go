package browsertest_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDesk_socialAgentFindsClaimsReleasesTransfers is Sam on the
// social-media desk: the same console and the same powers as the phone.
// He finds Anna's quote by her customer number, takes the case, gives it
// back with a note, takes it again and hands it to Ravi on the phone.
func TestDesk_socialAgentFindsClaimsReleasesTransfers(t *testing.T) {
	s := startHandoffd(t)
	b := startBrowser(t)
	a := openDemo(b, s)
	a.fill("#f-vehicle-plate", "AB-123-C")
	a.fill("#f-vehicle-make", "Volvo")
	a.click("#next")
	a.waitText("#step-title", "Step 2 of 4: Driver")

	sam := signInConsole(b, s, samToken, "social")

	// A mistyped code gets one plain answer.
	sam.fill("#code", "AAAA-BBBB")
	sam.enter("#code")
	sam.waitText("#find-error", "That code is not valid or has expired")

	sam.fill("#customer-id", "c-42")
	sam.enter("#customer-id")
	sam.waitText("#results", "Car insurance quote")
	require.Contains(t, sam.text("#results"), "at Driver")
	sam.click("#results button.result")
	sam.visible("#journey")
	sam.waitCurrentStep("driver")
	require.Equal(t, "AB-123-C", sam.answerText("vehicle.plate"))
	sam.waitText("#holder", "Nobody holds this case")

	sam.click("#claim")
	sam.waitText("#holder", "Sam (you) on Social media")
	a.waitText("#agent-banner", "An agent is helping you: Sam")
	require.Contains(t, a.text("#agent-banner"), "social media")

	sam.click("#show-release")
	sam.fill("#release-note", "Customer will call back tomorrow")
	sam.click("#release-form button[type=submit]")
	sam.waitText("#holder", "Nobody holds this case")
	sam.waitText("#timeline", "Released the case")
	sam.waitText("#timeline", "“Customer will call back tomorrow”")
	a.gone("#agent-banner")

	sam.click("#claim")
	sam.waitText("#holder", "Sam (you)")
	sam.click("#show-transfer")
	sam.fill("#transfer-agent", "ravi")
	sam.choose("#transfer-channel", "phone")
	sam.fill("#transfer-note", "Prefers to talk about the cover by phone")
	sam.click("#transfer-form button[type=submit]")
	sam.waitText("#holder", "ravi")
	sam.waitText("#holder", "Phone")
	sam.waitText("#timeline", "Transferred the case")
	sam.waitText("#timeline", "sam → ravi (Phone)")
	sam.waitText("#timeline", "“Prefers to talk about the cover by phone”")
	sam.fits(false)
	sam.screenshot("console-4-transfer")

	// Staff notes stay with staff: the customer's page never shows them.
	a.waitText("#agent-banner", "phone")
	require.NotContains(t, eval[string](a.page, `document.body.textContent`), "Prefers to talk")

	a.noExceptions()
	sam.noExceptions()
}
