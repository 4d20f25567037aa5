package browsertest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestConsole_aLateTimelineDoesNotUndoAClaimOnScreen: the watch's first
// snapshot makes the console read the timeline again; when that read comes
// back after the agent claimed the case, the screen keeps the claim (it
// once drew the snapshot, from before the claim, over it).
func TestConsole_aLateTimelineDoesNotUndoAClaimOnScreen(t *testing.T) {
	s := startHandoffd(t)
	b := startBrowser(t)
	s.post(t, annaToken, "customers/c-42/journeys", `{"journeyType": "hotel-booking", "step": "room"}`)

	p := b.page("agent (console)", deskWidth, deskHeight, false)
	p.open(s.base + "/console")
	p.visible("#signin-form")
	// The second timeline read (the snapshot's) is held until released.
	eval[bool](p, `(() => {
		window.__held = []; window.__timelineReads = 0;
		const f = window.fetch.bind(window);
		window.fetch = (u, o) => String(u).includes('/touchpoints') && ++window.__timelineReads === 2
			? new Promise((r) => window.__held.push(() => r(f(u, o))))
			: f(u, o);
		return true;
	})()`)
	p.fill("#signin-token", samToken)
	p.click(`input[name="signin-channel"][value="social"]`)
	p.click("#signin-submit")
	p.visible("#desk")
	sam := ravi{p}
	sam.fill("#customer-id", "c-42")
	sam.enter("#customer-id")
	sam.waitText("#results", "Hotel booking")
	sam.click("#results button.result")
	sam.visible("#journey")
	sam.waitFor("the snapshot's timeline read is held", `window.__held.length === 1`)

	sam.click("#claim")
	sam.waitText("#holder", "Sam (you)")
	eval[bool](p, `(() => { window.__held.forEach((go) => go()); return true; })()`)
	time.Sleep(time.Second) // the released read comes back and the console draws
	require.Contains(t, sam.text("#holder"), "Sam (you)")
	sam.noExceptions()
}
