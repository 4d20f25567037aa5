package browsertest_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConflict_sameAnswerNothingIsLost has Anna and Ravi change the same
// answer at the same time, three ways. Whoever saves second sees the other's
// value and chooses; nothing is overwritten unseen.
func TestConflict_sameAnswerNothingIsLost(t *testing.T) {
	s := startHandoffd(t)
	b := startBrowser(t)
	a := openDemo(b, s)
	a.fillVehicleAndDriver()
	code := a.askForCode()
	r := signInConsole(b, s, raviToken, "phone")
	r.redeem(code)
	r.waitCurrentStep("driver")
	name := r.journeyName()

	t.Run("agent_saves_second_and_keeps_his", func(t *testing.T) {
		a, r := anna{a.on(t)}, ravi{r.on(t)}
		// Ravi starts correcting the year of birth...
		r.click(`button.edit[data-path="driver.birthYear"]`)
		r.visible("#editor-input")
		// ...while Anna changes it herself and goes on.
		a.fill("#f-driver-birthYear", "1987")
		a.click("#next")
		a.waitText("#step-title", "Step 3 of 4: Cover")
		// Ravi sees her change arrive while his editor is open.
		r.waitText("#editor-live", "The customer just changed this to “1987”")
		r.fill("#editor-input", "1989")
		r.enter("#editor-input")
		// His save carries the etag he started from: the server refuses it,
		// and the console shows both values instead of overwriting hers.
		r.visible("#editor-conflict")
		require.Equal(t, "1987", r.text("#conflict-theirs"))
		require.Equal(t, "1989", r.text("#conflict-mine"))
		require.Contains(t, r.text("#conflict-theirs-label"), "The customer saved")
		require.Equal(t, float64(1987), answer(s.journey(t, name), "driver.birthYear"), "nothing saved before Ravi chose")
		r.fits(false)
		r.screenshot("console-3-conflict")

		r.click("#keep-mine")
		r.gone("#editor")
		r.waitAnswer("driver.birthYear", "1989")
		require.Equal(t, float64(1989), answer(s.journey(t, name), "driver.birthYear"))
		a.waitValue("#f-driver-birthYear", "1989")
	})

	t.Run("agent_saves_second_and_takes_hers", func(t *testing.T) {
		a, r := anna{a.on(t)}, ravi{r.on(t)}
		a.choose("#f-cover-level", "third-party")
		a.click("#next")
		a.waitText("#step-title", "Step 4 of 4: Confirm")
		r.waitAnswer("cover.level", "Third party only")

		r.click(`button.edit[data-path="cover.level"]`)
		r.visible("#editor-input")
		a.click("#back")
		a.waitText("#step-title", "Step 3 of 4: Cover")
		a.choose("#f-cover-level", "comprehensive")
		a.click("#next")
		a.waitText("#step-title", "Step 4 of 4: Confirm")
		r.waitText("#editor-live", "“Comprehensive”")
		r.choose("#editor-input", "third-party-fire-theft")
		r.click("#editor-save")
		r.visible("#editor-conflict")
		require.Equal(t, "Comprehensive", r.text("#conflict-theirs"))
		require.Equal(t, "Third party, fire and theft", r.text("#conflict-mine"))

		r.click("#take-theirs")
		r.gone("#editor")
		r.waitAnswer("cover.level", "Comprehensive")
		require.Equal(t, "comprehensive", answer(s.journey(t, name), "cover.level"))
	})

	t.Run("customer_saves_second_and_takes_the_agents", func(t *testing.T) {
		a, r := anna{a.on(t)}, ravi{r.on(t)}
		a.click("#back")
		a.waitText("#step-title", "Step 3 of 4: Cover")
		// Anna picks another level but has not saved it yet...
		a.choose("#f-cover-level", "third-party")
		// ...when Ravi saves his choice for the same answer.
		r.waitCurrentStep("cover")
		r.click(`button.edit[data-path="cover.level"]`)
		r.visible("#editor-input")
		r.choose("#editor-input", "third-party-fire-theft")
		r.click("#editor-save")
		r.gone("#editor")
		// Her page keeps what she chose and says what Ravi saved.
		a.waitText("#f-cover-level-remote", "Ravi changed this to “Third party, fire and theft” while you were typing")
		require.Equal(t, "third-party", a.value("#f-cover-level"))
		a.click("#next")
		a.visible("#conflict")
		require.Contains(t, a.text("#conflict"), "Ravi saved “Third party, fire and theft”, you typed “Third party only”")
		a.fits(true)
		a.screenshot("demo-5-conflict")
		require.Equal(t, "third-party-fire-theft", answer(s.journey(t, name), "cover.level"), "nothing saved before Anna chose")

		a.click(`#conflict button:nth-of-type(2)`) // Use Ravi's
		a.gone("#conflict")
		require.Equal(t, "third-party-fire-theft", a.value("#f-cover-level"))
		a.click("#next")
		a.waitText("#step-title", "Step 4 of 4: Confirm")
		r.waitCurrentStep("confirm")
		require.Equal(t, "third-party-fire-theft", answer(s.journey(t, name), "cover.level"))
	})

	a.noExceptions()
	r.noExceptions()
}
