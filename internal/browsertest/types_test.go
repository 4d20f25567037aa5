package browsertest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The journey types of examples/journey-types, which handoffd loads in
// these tests: the pages know them only from their definitions.
const (
	quoteType = "car-insurance-quote"
	claimType = "home-insurance-claim"
	iban      = "NL91ABNA0417164300"
)

// pickType chooses a journey type in the demo's picker: the page starts
// (or resumes) a journey of that type and draws the type's form.
func (a anna) pickType(id, title, firstStep string) {
	a.t.Helper()
	a.choose("#journey-type", id)
	a.waitAcrossReload(title+" is drawn", fmt.Sprintf(
		`document.querySelector('#quote-title')?.textContent === %q && document.querySelector('#step-title')?.textContent.includes(%q)`,
		title, firstStep))
}

// journeyName is the journey the demo saves to, as the website kit keeps it.
func (a anna) journeyName(journeyType string) string {
	a.t.Helper()
	return eval[string](a.page, fmt.Sprintf(`localStorage.getItem('handoff:c-42:%s') || ''`, journeyType))
}

// provenance is the "changed by …" line of an answer in the console.
func (r ravi) provenance(path string) string {
	r.t.Helper()
	return r.text(fmt.Sprintf(`.answer[data-path=%q] .prov`, path))
}

func (r ravi) waitProvenance(path, want string) {
	r.t.Helper()
	r.waitText(fmt.Sprintf(`.answer[data-path=%q] .prov`, path), want)
}

// textContent is an element's text, shown or not, trimmed.
func textContent(p *page, sel string) string {
	return strings.TrimSpace(eval[string](p, fmt.Sprintf(`document.querySelector(%q)?.textContent ?? ''`, sel)))
}

// noClearIBAN fails when the IBAN is anywhere in the console's document,
// text or attributes, shown or hidden; it says where.
func noClearIBAN(r ravi) {
	r.t.Helper()
	html := eval[string](r.page, `document.documentElement.outerHTML`)
	if i := strings.Index(html, iban); i >= 0 {
		r.t.Fatalf("the clear IBAN is in the console's page, masked nowhere: …%s…", html[max(0, i-200):min(len(html), i+len(iban)+40)])
	}
}

// exists is whether an element is in the DOM.
func exists(p *page, sel string) bool {
	return eval[bool](p, fmt.Sprintf(`document.querySelector(%q) !== null`, sel))
}

// TestTypes_carQuoteDrawnFromItsDefinition: the demo draws the quote from
// the definition the server holds (inputs, hints, schema limits), an
// emptied field removes its answer, and the console shows each answer with
// its label and who changed it, following changes live.
func TestTypes_carQuoteDrawnFromItsDefinition(t *testing.T) {
	s := startHandoffd(t)
	b := startBrowser(t)

	a := openDemo(b, s)
	require.Equal(t, []string{"Car insurance quote", "Home insurance claim"},
		eval[[]string](a.page, `[...document.querySelectorAll('#journey-type option')].map((o) => o.textContent)`),
		"the visitor picks from the types the server declares")
	require.Equal(t, quoteType, a.value("#journey-type"), "the quote is the default")

	// The form comes from the definition: labels, help, kinds and the
	// schema's limits as input attributes.
	require.Equal(t, "Tell us about the car you want to insure.", a.text("#step-intro"))
	require.Equal(t, "As on the number plate, e.g. AB-123-C", a.text("#f-vehicle-plate-hint"))
	require.Contains(t, a.text(`label[for="f-vehicle-plate"]`), "Registration plate")
	require.Equal(t, "12", a.attr("#f-vehicle-plate", "maxlength"))
	require.Equal(t, "2", a.attr("#f-vehicle-plate", "minlength"))
	require.Equal(t, "number", a.attr("#f-vehicle-year", "type"))
	require.Equal(t, "1950", a.attr("#f-vehicle-year", "min"))
	require.Equal(t, "2100", a.attr("#f-vehicle-year", "max"))
	require.Equal(t, "1", a.attr("#f-vehicle-year", "step"), "the schema asks for an integer")
	require.Equal(t, "email", a.attr("#f-confirm-email", "type"))
	require.Equal(t, "checkbox", a.attr("#f-confirm-consent", "type"))
	require.Equal(t, []string{"Choose…", "Third party only", "Third party, fire and theft", "Comprehensive"},
		eval[[]string](a.page, `[...document.querySelectorAll('#f-cover-level option')].map((o) => o.textContent)`))

	a.fillVehicleAndDriver()
	name := a.journeyName(quoteType)
	require.NotEmpty(t, name)
	require.Equal(t, "V60", answer(s.journey(t, name), "vehicle.model"))

	// Anna goes back and empties the model: the answer is removed, not
	// saved as '' (which the schema of another answer could refuse).
	a.click("#back")
	a.waitText("#step-title", "Step 1 of 4: Vehicle")
	a.choose("#f-vehicle-model", "")
	a.click("#next")
	a.waitText("#step-title", "Step 2 of 4: Driver")
	a.waitText("#save-status", "Saved at")
	j := s.journey(t, name)
	require.NotContains(t, j["data"].(map[string]any)["vehicle"], "model", "the emptied answer is removed")
	require.Equal(t, "AB-123-C", answer(j, "vehicle.plate"))
	a.waitValue("#f-driver-name", "Ana de Vries")
	code := a.askForCode()

	r := signInConsole(b, s, raviToken, "phone")
	r.redeem(code)
	r.waitCurrentStep("driver")
	require.Equal(t, "Car insurance quote", r.text("#journey-title"))
	require.Equal(t, "AB-123-C", r.answerText("vehicle.plate"))
	require.Equal(t, "2019", r.answerText("vehicle.year"))
	require.False(t, exists(r.page, `.answer[data-path="vehicle.model"]`), "a removed answer is not shown")
	require.Equal(t, []string{"Registration plate", "Make", "Year of first registration", "Full name", "Year of birth", "Years without a claim"},
		eval[[]string](r.page, `[...document.querySelectorAll('#answers .answer dt')].map((el) => el.textContent)`),
		"answers in the definition's order, with its labels")
	// Moments of truth are marked, subtly: the cover step is where the
	// customer picks the product.
	require.True(t, exists(r.page, `#steps li[data-step="cover"] .mot`))
	require.False(t, exists(r.page, `#steps li[data-step="vehicle"] .mot`))
	require.Equal(t, "changed by the customer on the web, just now", r.provenance("vehicle.plate"))
	require.Equal(t, "changed by the customer on the web, just now", r.provenance("driver.name"))

	// The timeline says which answers each save changed, by label, never
	// with their values.
	r.waitText("#timeline", "Registration plate, Make, Model, Year of first registration")
	timeline := r.text("#timeline")
	for _, value := range []string{"AB-123-C", "Volvo", "V60", "Ana de Vries", "1988"} {
		require.NotContains(t, timeline, value, "the timeline shows no answer's value")
	}

	// The editor asks as the definition does.
	r.click(`button.edit[data-path="driver.birthYear"]`)
	r.visible("#editor-input")
	require.Equal(t, "Edit: Year of birth", r.text("#editor-title"))
	require.Equal(t, "number", r.attr("#editor-input", "type"))
	require.Equal(t, "1900", r.attr("#editor-input", "min"))
	r.click("#editor-cancel")
	r.gone("#editor")

	// Ravi corrects the name: his console says he changed it.
	r.edit("driver.name", "Anna de Vries")
	r.enter("#editor-input")
	r.gone("#editor")
	r.waitAnswer("driver.name", "Anna de Vries")
	r.waitProvenance("driver.name", "changed by agent ravi on the phone, just now")
	require.Equal(t, "changed by the customer on the web, just now", r.provenance("driver.birthYear"))
	a.waitValue("#f-driver-name", "Anna de Vries")

	// Anna changes it again online: the console learns who from the change
	// it is watching, without reading the journey again.
	a.fill("#f-driver-name", "Anna de Vries-Jansen")
	a.click("#next")
	a.waitText("#step-title", "Step 3 of 4: Cover")
	r.waitAnswer("driver.name", "Anna de Vries-Jansen")
	r.waitProvenance("driver.name", "changed by the customer on the web")
	r.waitCurrentStep("cover")
	r.waitText(`.group[data-group="cover"] h3`, "current step")
	require.True(t, exists(r.page, `.group[data-group="cover"] h3 .mot`))
	r.fits(false)
	r.screenshot("console-5-quote-provenance")

	a.noExceptions()
	r.noExceptions()
}

// TestTypes_claimWithAMaskedIBANRevealedForAReason: Anna reports damage to
// her home online, with her IBAN, and calls. Ravi sees every answer with
// its label, the IBAN masked (nowhere in the page in clear), reveals it for
// a reason he must give, and sees it in place; the reveal and its reason
// are on the timeline Anna reads. After a reload the IBAN is masked again.
func TestTypes_claimWithAMaskedIBANRevealedForAReason(t *testing.T) {
	s := startHandoffd(t)
	b := startBrowser(t)

	a := openDemo(b, s)
	a.pickType(claimType, "Home insurance claim", "Step 1 of 4: What happened")
	require.Equal(t, "TEXTAREA", eval[string](a.page, `document.querySelector('#f-incident-description').tagName`))
	require.Equal(t, "2000", a.attr("#f-incident-description", "maxlength"))
	require.Equal(t, "date", a.attr("#f-incident-date", "type"))
	require.Equal(t, "tel", a.attr("#f-contact-phone", "type"))
	a.choose("#f-incident-date", "2026-11-01")
	a.choose("#f-incident-kind", "water")
	a.fill("#f-incident-description", "Water came through the kitchen ceiling")
	a.click("#next")
	a.waitText("#step-title", "Step 2 of 4: Contact")
	a.fill("#f-contact-name", "Anna de Vries")
	a.fill("#f-contact-phone", "+31 6 1234 5678")
	a.click("#next")
	a.waitText("#step-title", "Step 3 of 4: Payment")
	require.Equal(t, "Where should we pay the claim?", a.text("#step-intro"))
	a.fill("#f-payment-iban", iban)
	a.fill("#f-payment-accountHolder", "A. de Vries")
	a.screenshot("demo-6-claim-payment")
	code := a.askForCode()
	name := a.journeyName(claimType)
	require.Equal(t, iban, answer(s.journey(t, name), "payment.iban"), "the customer reads her own IBAN")

	r := signInConsole(b, s, raviToken, "phone")
	r.redeem(code)
	r.waitCurrentStep("payment")
	require.Equal(t, "Home insurance claim", r.text("#journey-title"))
	for path, text := range map[string]string{
		"incident.kind":         "Water",
		"incident.description":  "Water came through the kitchen ceiling",
		"contact.name":          "Anna de Vries",
		"contact.phone":         "+31 6 1234 5678",
		"payment.accountHolder": "A. de Vries",
		"payment.iban":          "•••• 4300",
	} {
		require.Equal(t, text, r.answerText(path), "answer %s", path)
	}
	require.Regexp(t, `^(1 November 2026|November 1, 2026)$`, r.answerText("incident.date"), "a date reads as a date")
	labels := r.text("#answers")
	for _, label := range []string{"Date of the damage", "Kind of damage", "Description of the damage", "Phone number", "IBAN", "Account holder"} {
		require.Contains(t, labels, label)
	}
	require.Equal(t, "changed by the customer on the web, just now", r.provenance("payment.iban"))
	require.True(t, exists(r.page, `#steps li[data-step="payment"] .mot`), "handing over bank details is a moment of truth")

	// Masked: not in the page at all, and not editable (a masked value
	// saved back would replace hers).
	noClearIBAN(r)
	require.False(t, exists(r.page, `button.edit[data-path="payment.iban"]`), "a masked answer offers no Edit")
	require.True(t, exists(r.page, `button.edit[data-path="payment.accountHolder"]`))
	r.fits(false)
	r.screenshot("console-6-claim-masked")

	// Revealing takes a reason.
	r.click(`button.reveal[data-path="payment.iban"]`)
	r.visible("#reveal-reason")
	require.Equal(t, "Reveal: IBAN", r.text("#reveal-title"))
	r.click("#reveal-submit")
	require.True(t, eval[bool](r.page, `document.querySelector('#reveal').open && !document.querySelector('#reveal-reason').validity.valid`),
		"no reveal without a reason")
	r.fill("#reveal-reason", "   ")
	r.click("#reveal-submit")
	r.waitText("#reveal-error", "Say why you need to see it")
	for _, tp := range s.timeline(t, name) {
		require.NotEqual(t, "TOUCHPOINT_KIND_REVEALED", tp["kind"], "revealed without a reason")
	}
	noClearIBAN(r)

	const reason = "Customer asked to check the account number"
	r.fill("#reveal-reason", reason)
	r.enter("#reveal-reason")
	r.gone("#reveal")
	r.waitAnswer("payment.iban", iban)
	require.Contains(t, textContent(r.page, `.answer[data-path="payment.iban"] .tag`), "revealed")
	r.waitText("#timeline", "Revealed IBAN")
	r.waitText("#timeline", "Reason: “"+reason+"”")
	require.False(t, exists(r.page, `button.edit[data-path="payment.iban"]`), "revealed, still not editable")
	r.fits(false)
	r.screenshot("console-7-claim-revealed")

	// Anna's timeline has the reveal, with Ravi's reason; her page says so
	// next to the answer.
	var reveals []map[string]any
	for _, tp := range s.timeline(t, name) {
		if tp["kind"] == "TOUCHPOINT_KIND_REVEALED" {
			reveals = append(reveals, tp)
		}
	}
	require.Len(t, reveals, 1)
	require.Equal(t, reason, reveals[0]["reason"])
	require.Equal(t, []any{"payment.iban"}, reveals[0]["answers"])
	require.Equal(t, map[string]any{"id": "ravi", "role": "ROLE_AGENT"}, reveals[0]["actor"])
	a.waitText("#f-payment-iban-remote", "Ravi looked at this answer: “"+reason+"”")
	a.screenshot("demo-7-claim-revealed")
	require.Equal(t, iban, answer(s.journey(t, name), "payment.iban"), "revealing changes nothing saved")

	// Anna corrects her IBAN (the same last four digits, so the same mask):
	// what Ravi revealed is no longer her answer, and goes.
	const corrected = "NL20INGB0001234300"
	a.fill("#f-payment-iban", corrected)
	a.click("#next")
	a.waitText("#step-title", "Step 4 of 4: Review")
	r.waitCurrentStep("review")
	r.visible(`button.reveal[data-path="payment.iban"]`)
	require.Equal(t, "•••• 4300", r.answerText("payment.iban"))
	noClearIBAN(r)
	require.NotContains(t, eval[string](r.page, `document.documentElement.outerHTML`), corrected)

	// Revealed for this agent, this once: after a reload it is masked again.
	r.do("reload", chromedp.Reload())
	r.visible("#journey")
	r.waitAnswer("payment.iban", "•••• 4300")
	noClearIBAN(r)
	require.True(t, exists(r.page, `button.reveal[data-path="payment.iban"]`))
	r.waitText("#timeline", "Revealed IBAN")

	a.noExceptions()
	r.noExceptions()
}

// TestTypes_theServersReasonShowsNextToItsField: an answer the type's
// schema refuses (here a plate too short, sent with "Continue by phone",
// which does not stop at the form's own checks) comes back as a field
// violation, and the demo shows its reason next to that field; nothing is
// saved and no code is given until it is put right.
func TestTypes_theServersReasonShowsNextToItsField(t *testing.T) {
	s := startHandoffd(t)
	b := startBrowser(t)
	a := openDemo(b, s)
	name := a.journeyName(quoteType)

	a.fill("#f-vehicle-plate", "A")
	a.fill("#f-vehicle-make", "Volvo")
	a.click("#continue-by-phone")
	a.waitText("#f-vehicle-plate-error", "Must be at least 2 characters")
	require.Equal(t, "true", a.attr("#f-vehicle-plate", "aria-invalid"))
	require.Contains(t, a.attr("#f-vehicle-plate", "aria-describedby"), "f-vehicle-plate-error", "screen readers read the reason with the field")
	require.Contains(t, a.text("#error"), "Registration plate")
	require.Empty(t, textContent(a.page, "#f-vehicle-make-error"), "only the refused answer is marked")
	require.True(t, eval[bool](a.page, `document.querySelector('#code-panel').hidden`), "no code for a refused save")
	require.Equal(t, "f-vehicle-plate", eval[string](a.page, `document.activeElement.id`))
	require.Nil(t, answer(s.journey(t, name), "vehicle.make"), "a refused save saves nothing")
	a.fits(true)
	a.screenshot("demo-8-answer-refused")

	// Put right, the reason goes and the save goes through.
	a.fill("#f-vehicle-plate", "AB-123-C")
	require.Empty(t, textContent(a.page, "#f-vehicle-plate-error"))
	require.Empty(t, a.attr("#f-vehicle-plate", "aria-invalid"))
	a.askForCode()
	require.Equal(t, "AB-123-C", answer(s.journey(t, name), "vehicle.plate"))
	a.noExceptions()
}

// TestTypes_labelsInTheVisitorsLanguage: a browser set to Dutch gets the
// definition's Dutch labels; a label missing in Dutch falls back to
// English, then to whichever the definition has.
func TestTypes_labelsInTheVisitorsLanguage(t *testing.T) {
	s := startHandoffd(t)
	// navigator.language follows --accept-lang in headless Chromium.
	b := startBrowser(t, chromedp.Flag("accept-lang", "nl-NL"))
	p := b.page("Dutch customer (demo)", phoneWidth, phoneHeight, true)
	p.open(s.base + "/demo?token=" + annaToken)
	p.visible("#quote")
	p.waitText("#step-title", "Voertuig")
	require.Equal(t, "Offerte autoverzekering", p.text("#quote-title"))
	require.Contains(t, p.text(`label[for="f-vehicle-plate"]`), "Kenteken")
	require.Equal(t, "Vertel ons over de auto die u wilt verzekeren.", p.text("#step-intro"))
	require.Equal(t, []string{"Offerte autoverzekering", "Schademelding woonverzekering"},
		eval[[]string](p, `[...document.querySelectorAll('#journey-type option')].map((o) => o.textContent)`))
	require.Equal(t, []string{"Dutch", "English", "French", ""}, eval[[]string](p, `import('/forms/forms.js').then(({ pick }) => [
		pick({ en: 'English', nl: 'Dutch' }), pick({ fr: 'French', en: 'English' }), pick({ fr: 'French' }), pick({})])`))
	p.noExceptions()
}

// TestTypes_aJourneyOfNoDeclaredTypeReadsAsBefore: a journey whose type
// the server does not declare keeps its free answers, which the console
// shows with its keys in words, and edits by the value's own kind.
func TestTypes_aJourneyOfNoDeclaredTypeReadsAsBefore(t *testing.T) {
	s := startHandoffd(t)
	b := startBrowser(t)
	j := s.post(t, annaToken, "customers/c-42/journeys",
		`{"journeyType": "hotel-booking", "step": "room", "data": {"stay": {"arrivalDate": "2026-12-20", "nights": 2}, "room": {"roomType": "double"}}}`)
	require.Equal(t, "0", j["journeyTypeVersion"], "no declared type")

	sam := signInConsole(b, s, samToken, "social")
	sam.fill("#customer-id", "c-42")
	sam.enter("#customer-id")
	sam.waitText("#results", "Hotel booking")
	require.Contains(t, sam.text("#results"), "at Room")
	sam.click("#results button.result")
	sam.visible("#journey")
	sam.waitCurrentStep("room")
	require.Equal(t, "Hotel booking", sam.text("#journey-title"))
	require.ElementsMatch(t, []string{"Stay", "Room"},
		eval[[]string](sam.page, `[...document.querySelectorAll('#answers .group h3')].map((el) => el.firstChild.textContent)`),
		"a group per step, named from its key")
	require.ElementsMatch(t, []string{"Arrival date", "Nights", "Room type"},
		eval[[]string](sam.page, `[...document.querySelectorAll('#answers .answer dt')].map((el) => el.textContent)`))
	require.Equal(t, "2", sam.answerText("stay.nights"))
	require.Equal(t, "changed by the customer on the web, just now", sam.provenance("stay.nights"))

	sam.click("#claim")
	sam.waitText("#holder", "Sam (you)")
	sam.edit("stay.nights", "3")
	require.Equal(t, "number", sam.attr("#editor-input", "type"), "a number stays a number")
	sam.enter("#editor-input")
	sam.gone("#editor")
	sam.waitAnswer("stay.nights", "3")
	sam.waitProvenance("stay.nights", "changed by agent sam on social media, just now")
	require.Equal(t, float64(3), answer(s.journey(t, j["name"].(string)), "stay.nights"))
	sam.waitText("#timeline", "Nights")
	sam.noExceptions()
}
