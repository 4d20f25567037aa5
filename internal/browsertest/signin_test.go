package browsertest_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSignIn_withoutATokenThePagesAskForOne: the demo and the console ask
// for a token in a labelled field; the demo then starts the quote.
func TestSignIn_withoutATokenThePagesAskForOne(t *testing.T) {
	s := startHandoffd(t)
	b := startBrowser(t)

	demo := b.page("customer (demo)", phoneWidth, phoneHeight, true)
	demo.open(s.base + "/demo")
	demo.visible("#signin-form")
	require.Equal(t, "signin-token", eval[string](demo, `document.activeElement.id`))
	demo.fits(true)
	demo.screenshot("demo-0-sign-in")
	demo.fill("#signin-token", annaToken)
	demo.enter("#signin-token")
	demo.visible("#quote")
	demo.waitText("#step-title", "Step 1 of 4: Vehicle")

	console := b.page("agent (console)", deskWidth, deskHeight, false)
	console.open(s.base + "/console")
	console.visible("#signin-form")
	require.Equal(t, "signin-token", eval[string](console, `document.activeElement.id`))
	console.fits(false)
	console.screenshot("console-0-sign-in")

	// A wrong token is told plainly at the first call.
	console.fill("#signin-token", "not-a-token")
	console.enter("#signin-token")
	console.fill("#customer-id", "c-42")
	console.enter("#customer-id")
	console.waitText("#find-error", "That token was not accepted")

	// The demo, given a wrong token, asks for another in the form it shows,
	// rather than to sign out of a session it never had.
	wrong := b.page("customer with a wrong token", phoneWidth, phoneHeight, true)
	wrong.open(s.base + "/demo?token=not-a-token")
	wrong.waitText("#error", "That token was not accepted. Enter a valid customer token below.")
	wrong.visible("#signin-form")
	require.NotContains(t, wrong.text("#error"), "Sign out")
	require.Equal(t, "signin-token", eval[string](wrong, `document.activeElement.id`))
	wrong.noExceptions()

	demo.noExceptions()
	console.noExceptions()
}
