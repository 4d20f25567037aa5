package browsertest_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The screen sizes of the people: Anna on her phone in the train, Ravi at
// his desk.
const (
	phoneWidth, phoneHeight = 390, 844
	deskWidth, deskHeight   = 1280, 720
)

var displayedCode = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)

// anna is the customer's demo page.
type anna struct{ *page }

// ravi is the agent's console.
type ravi struct{ *page }

func openDemo(b *browser, s *handoffd) anna {
	p := b.page("customer (demo)", phoneWidth, phoneHeight, true)
	// DEV: the demo takes the customer's token from ?token= and forgets the URL.
	p.open(s.base + "/demo?token=" + annaToken)
	p.visible("#quote")
	p.waitText("#step-title", "Step 1 of 4: Vehicle")
	require.NotContains(p.t, eval[string](p, `location.href`), "token", "the token stays in the address bar")
	return anna{p}
}

// fillVehicleAndDriver is steps 1 and 2 of the quote, as Anna types them;
// she stays on the driver step.
func (a anna) fillVehicleAndDriver() {
	a.fill("#f-vehicle-plate", "AB-123-C")
	a.fill("#f-vehicle-make", "Volvo")
	a.fill("#f-vehicle-model", "V60")
	a.fill("#f-vehicle-year", "2019")
	a.screenshot("demo-1-vehicle")
	a.click("#next")
	a.waitText("#step-title", "Step 2 of 4: Driver")
	a.waitText("#save-status", "Saved at")
	a.fill("#f-driver-name", "Ana de Vries")
	a.fill("#f-driver-birthYear", "1988")
	a.fill("#f-driver-claimsFree", "7")
}

// askForCode is "Continue by phone": the answers on screen are saved and a
// code is shown, big and grouped, with its expiry.
func (a anna) askForCode() string {
	a.click("#continue-by-phone")
	a.visible("#code-panel")
	code := a.text("#handoff-code")
	require.Regexp(a.t, displayedCode, code)
	require.Contains(a.t, a.text("#code-expiry"), "Valid until")
	spoken := eval[string](a.page, `document.querySelector('#handoff-code-spoken').textContent`)
	require.Contains(a.t, spoken, strings.Join(strings.Split(code[:4], ""), " "), "screen readers spell the code")
	return code
}

func signInConsole(b *browser, s *handoffd, token, channel string) ravi {
	p := b.page("agent (console)", deskWidth, deskHeight, false)
	p.open(s.base + "/console")
	p.visible("#signin-form")
	p.fill("#signin-token", token)
	p.click(fmt.Sprintf(`input[name="signin-channel"][value=%q]`, channel))
	p.click("#signin-submit")
	p.visible("#desk")
	require.Equal(p.t, "code", eval[string](p, `document.activeElement.id`), "after sign-in the code field has the focus")
	return ravi{p}
}

// redeem types the code as the customer reads it out (lower case, with a
// space) and presses Enter.
func (r ravi) redeem(code string) {
	r.fill("#code", strings.ToLower(strings.Replace(code, "-", " ", 1)))
	r.enter("#code")
	r.visible("#journey")
	r.waitText("#holder", "Ravi")
}

// answerText is what the console shows for an answer.
func (r ravi) answerText(path string) string {
	return r.text(fmt.Sprintf(`.answer[data-path=%q] .value`, path))
}

func (r ravi) waitAnswer(path, want string) {
	r.waitText(fmt.Sprintf(`.answer[data-path=%q] .value`, path), want)
}

func (r ravi) waitCurrentStep(step string) {
	r.waitFor("step "+step+" is highlighted",
		fmt.Sprintf(`document.querySelector('#steps li[aria-current="step"]')?.dataset.step === %q`, step))
}

// edit opens the editor of an answer and types a new value.
func (r ravi) edit(path, value string) {
	r.click(fmt.Sprintf(`button.edit[data-path=%q]`, path))
	r.visible("#editor-input")
	r.fill("#editor-input", value)
}

func (r ravi) journeyName() string {
	return strings.TrimPrefix(eval[string](r.page, `decodeURIComponent(location.hash)`), "#")
}

// TestStory_annaStopsOnlineRaviContinuesOnThePhone is the whole story of
// the issue in two browser contexts.
func TestStory_annaStopsOnlineRaviContinuesOnThePhone(t *testing.T) {
	s := startHandoffd(t)
	b := startBrowser(t)

	// Anna fills in steps 1 and 2 on her phone and asks for a code.
	a := openDemo(b, s)
	a.fillVehicleAndDriver()
	code := a.askForCode()
	a.fits(true)
	a.screenshot("demo-2-code")

	// Ravi signs in on the phone desk and types the code she reads out.
	r := signInConsole(b, s, raviToken, "phone")
	r.fits(false)
	r.redeem(code)
	r.waitCurrentStep("driver")
	want := map[string]string{
		"vehicle.plate":     "AB-123-C",
		"vehicle.make":      "Volvo",
		"vehicle.model":     "V60",
		"vehicle.year":      "2019",
		"driver.name":       "Ana de Vries",
		"driver.birthYear":  "1988",
		"driver.claimsFree": "7",
	}
	for path, text := range want {
		require.Equal(t, text, r.answerText(path), "answer %s", path)
	}
	labels := r.text("#answers")
	for _, label := range []string{"Registration plate", "Make", "Year of first registration", "Full name", "Year of birth", "Years without a claim"} {
		require.Contains(t, labels, label)
	}
	require.NotContains(t, labels, "{", "answers are shown as text, not JSON")
	require.Contains(t, r.text("#holder"), "Ravi (you)")
	require.Contains(t, r.text("#holder"), "Phone")
	r.waitText("#timeline", "Resumed with the code")
	require.Contains(t, r.text("#timeline"), "Asked for a code")
	require.Contains(t, r.text("#timeline"), "Customer c-42")
	r.waitText("#live", "Live")
	r.fits(false)
	r.screenshot("console-1-case-opened")

	// Anna sees that Ravi has her quote, and the code is gone.
	a.waitText("#agent-banner", "An agent is helping you: Ravi")
	require.Contains(t, a.text("#agent-banner"), "phone")
	a.gone("#code-panel")
	a.screenshot("demo-3-agent-helping")

	// Ravi corrects the name she misspelt; her page shows it without a reload.
	eval[bool](a.page, `window.notReloaded = true`)
	r.edit("driver.name", "Anna de Vries")
	r.enter("#editor-input")
	r.gone("#editor")
	r.waitAnswer("driver.name", "Anna de Vries")
	a.waitValue("#f-driver-name", "Anna de Vries")
	a.waitText("#f-driver-name-remote", "Ravi updated this")
	require.True(t, eval[bool](a.page, `window.notReloaded === true`), "the demo reloaded")
	a.screenshot("demo-4-live-correction")
	require.Equal(t, "Anna de Vries", answer(s.journey(t, r.journeyName()), "driver.name"))

	// Anna goes on to the cover step; Ravi's screen follows, answer by answer.
	a.click("#next")
	a.waitText("#step-title", "Step 3 of 4: Cover")
	r.waitCurrentStep("cover")
	r.waitText(`.group[data-group="cover"]`, "No answers on this step yet")
	require.Equal(t, "driver.name", eval[string](r.page, `document.activeElement.dataset.path || document.activeElement.id`),
		"after saving, and through live redraws, the keyboard focus stays on the answer Ravi edited")
	a.choose("#f-cover-level", "comprehensive")
	a.choose("#f-cover-excess", "250")
	a.click("#next")
	a.waitText("#step-title", "Step 4 of 4: Confirm")
	r.waitCurrentStep("confirm")
	r.waitAnswer("cover.level", "Comprehensive")
	r.waitAnswer("cover.excess", "€250")
	require.Equal(t, "Anna de Vries", r.answerText("driver.name"))
	r.fits(false)
	r.screenshot("console-2-follows-customer")
	a.waitText("#summary", "Comprehensive")
	a.fits(true)

	j := s.journey(t, r.journeyName())
	require.Equal(t, "confirm", j["step"])
	require.Equal(t, "AB-123-C", answer(j, "vehicle.plate"))
	require.Equal(t, float64(250), answer(j, "cover.excess"))

	// A reload continues where she was.
	a.open(s.base + "/demo")
	a.waitText("#step-title", "Step 4 of 4: Confirm")
	a.waitValue("#f-vehicle-plate", "AB-123-C")
	a.waitText("#agent-banner", "Ravi")

	a.noExceptions()
	r.noExceptions()
}
