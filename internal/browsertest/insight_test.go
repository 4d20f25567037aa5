package browsertest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/config"
)

// Kees, the customer-experience lead, reads insight with an analyst token:
// insight and nothing else. The supervisor has an admin token; the shop's
// website a service token.
const (
	keesToken = "kees-analyst-secret"
	olaToken  = "ola-admin-secret-1"
	shopToken = "shop-service-secret"
)

// withInsightTokens adds Kees, a supervisor and the shop's website to the
// people of the story.
func withInsightTokens(t *testing.T) func(*config.Config) {
	return func(c *config.Config) {
		c.TokensFile = filepath.Join(t.TempDir(), "tokens.yaml")
		require.NoError(t, os.WriteFile(c.TokensFile, []byte(tokensYAML+`  - {token: "kees-analyst-secret", principal: "kees", role: analyst}
  - {token: "ola-admin-secret-1", principal: "ola", role: admin, display_name: "Ola"}
  - {token: "shop-service-secret", principal: "shop-website", role: service}
`), 0o600))
	}
}

// insightPage is the console's Insight page.
type insightPage struct{ *page }

// openInsight signs in on the Insight page with a token, as a person
// pastes it.
func openInsight(b *browser, s *handoffd, name, token string) insightPage {
	p := b.page(name, deskWidth, deskHeight, false)
	p.open(s.base + "/console/insight.html")
	p.visible("#signin-form")
	require.Equal(p.t, "signin-token", eval[string](p, `document.activeElement.id`))
	p.fill("#signin-token", token)
	p.click("#signin-submit")
	p.visible("#query")
	return insightPage{p}
}

// recordedInsight is an answer of GetJourneyTypeInsight as the REST API
// gives it (int64 as strings, zero values left out), for drawing without
// a server that counts.
const recordedInsight = `{
  "name": "journeyTypes/car-insurance-quote/insight", "from": "2026-10-31", "to": "2026-11-29",
  "started": "120", "completed": "41",
  "steps": [
    {"step": "vehicle", "reached": "120", "leftForward": "96", "stopped": "24", "dropOffRate": 0.2,
     "switches": [{"from": "CHANNEL_WEB", "to": "CHANNEL_APP", "count": "6", "rate": 0.05}],
     "resumes": [{"from": "CHANNEL_WEB", "to": "CHANNEL_PHONE", "count": "4", "rate": 0.0333}],
     "resumed": "4", "resumeRate": 0.0333, "timeToResume": {"count": "4", "p50": "754.2s", "p90": "5400s"},
     "expired": "15", "expiredUnresumed": "14"},
    {"step": "driver", "reached": "96", "leftForward": "80", "stopped": "16", "dropOffRate": 0.1667,
     "switches": [{"from": "CHANNEL_WEB", "to": "CHANNEL_PHONE", "count": "5", "rate": 0.052}],
     "resumes": [{"from": "CHANNEL_WEB", "to": "CHANNEL_PHONE", "count": "9", "rate": 0.094},
                 {"from": "CHANNEL_WEB", "to": "CHANNEL_SOCIAL", "count": "3", "rate": 0.031}],
     "resumed": "12", "resumeRate": 0.125, "timeToResume": {"count": "12", "p50": "1201s", "p90": "14400s"},
     "expired": "9", "expiredUnresumed": "5"},
    {"step": "cover", "momentOfTruth": true, "reached": "80", "leftForward": "45", "stopped": "35", "dropOffRate": 0.4375,
     "switches": [{"from": "CHANNEL_WEB", "to": "CHANNEL_PHONE", "count": "12", "rate": 0.15},
                  {"from": "CHANNEL_PHONE", "to": "CHANNEL_WEB", "count": "3", "rate": 0.0375}],
     "resumes": [{"from": "CHANNEL_WEB", "to": "CHANNEL_PHONE", "count": "14", "rate": 0.175},
                 {"from": "CHANNEL_WEB", "to": "CHANNEL_SOCIAL", "count": "4", "rate": 0.05},
                 {"from": "CHANNEL_APP", "to": "CHANNEL_CHAT", "count": "2", "rate": 0.025}],
     "resumed": "20", "resumeRate": 0.25, "timeToResume": {"count": "20", "p50": "1830s", "p90": "30600s"},
     "expired": "20", "expiredUnresumed": "12"},
    {"step": "confirm", "reached": "45", "leftForward": "41", "stopped": "4", "dropOffRate": 0.0889,
     "resumed": "6", "resumeRate": 0.1333, "timeToResume": {"count": "6", "p50": "400s", "p90": "2000s"}, "expired": "2"}
  ],
  "entryChannels": [
    {"channel": "CHANNEL_APP", "started": "20", "completed": "8", "completionRate": 0.4},
    {"channel": "CHANNEL_WEB", "started": "100", "completed": "33", "completionRate": 0.33}
  ],
  "timeToResume": {"count": "42", "p50": "1500s", "p90": "21600s"},
  "switches": [{"from": "CHANNEL_WEB", "to": "CHANNEL_PHONE", "count": "17", "rate": 0.14}],
  "resumes": [{"from": "CHANNEL_WEB", "to": "CHANNEL_PHONE", "count": "27", "rate": 0.225}],
  "reminders": {"sent": "30", "broughtBack": "9", "rate": 0.3},
  "expiredThrough": "2026-11-28"
}`

// drawRecorded draws recordedInsight on the page, with the type's form
// read by the page's own token when withForm (null otherwise).
func (p insightPage) drawRecorded(withForm bool) {
	p.t.Helper()
	form := "null"
	if withForm {
		form = "formOf(await client.call('GET', 'journeyTypes/car-insurance-quote'))"
	}
	eval[bool](p.page, fmt.Sprintf(`(async () => {
		const { draw } = await import('/console/insight.js');
		const { formOf } = await import('/forms/forms.js');
		const { HandoffClient } = await import('/sdk/handoff.js');
		const client = new HandoffClient({ token: sessionStorage.getItem('handoff-console-token'), channel: '' });
		draw(%s, %s);
		return true;
	})()`, recordedInsight, form))
	p.visible("#insight-map")
}

// mapFigures is what the drawn map holds, read from its parts.
type mapFigures struct {
	Columns, Titles, Lanes []string
	Flows                  []string
	Reached                []string
	DropOff                []string
}

func (p insightPage) mapFigures() mapFigures {
	p.t.Helper()
	return eval[mapFigures](p.page, `(() => {
		const all = (sel, f) => [...document.querySelectorAll(sel)].map(f);
		return {
			Columns: all('#insight-map g.column', (g) => g.dataset.step),
			Titles: all('#insight-map g.column .step-title', (t) => t.textContent),
			Lanes: all('#insight-map g.lane', (g) => g.dataset.channel),
			Flows: all('#insight-map path.flow', (f) => [f.dataset.step, f.dataset.kind, f.dataset.from, f.dataset.to, f.dataset.count].join(' ')),
			Reached: all('#insight-map text.reached', (t) => t.textContent),
			DropOff: all('#insight-map .fig-drop-off text', (t) => t.textContent),
		};
	})()`)
}

// csv is what a table's Download CSV button hands the browser: the click
// runs as a person's would, and the file's text is caught on its way to
// the download (which the browser is told to refuse).
func (p insightPage) csv(table string) string {
	p.t.Helper()
	return eval[string](p.page, fmt.Sprintf(`new Promise((resolve, reject) => {
		const create = URL.createObjectURL;
		URL.createObjectURL = (blob) => {
			URL.createObjectURL = create;
			blob.text().then(resolve, reject);
			return 'data:text/plain,';
		};
		document.querySelector('section[data-table=%q] button.csv').click();
		setTimeout(() => reject(new Error('no download')), 5000);
	})`, table))
}

// TestInsight_aRecordedAnswerIsDrawnAsAMap: Kees signs in with an analyst
// token, which may not list journey types, so the page asks for the type's
// id; a recorded answer is drawn as the journey map (a column per step,
// titled from its id, a lane per channel, flows between lanes), its
// figures in tables that download as CSV, at 1280×720 and in print.
func TestInsight_aRecordedAnswerIsDrawnAsAMap(t *testing.T) {
	s := startHandoffd(t, withInsightTokens(t))
	b := startBrowser(t)
	kees := openInsight(b, s, "analyst (insight)", keesToken)
	kees.visible("#query-type-id")
	require.Contains(t, kees.text("#query-type-hint"), "may not list journey types")
	require.Equal(t, "query-type-id", eval[string](kees.page, `document.activeElement.id`), "an analyst types the type first")
	kees.drawRecorded(false)

	m := kees.mapFigures()
	require.Equal(t, []string{"vehicle", "driver", "cover", "confirm"}, m.Columns)
	require.Equal(t, []string{"Vehicle", "Driver", "◆ Cover", "Confirm"}, m.Titles, "steps titled from their ids; the moment of truth marked")
	require.Equal(t, []string{"CHANNEL_WEB", "CHANNEL_APP", "CHANNEL_PHONE", "CHANNEL_CHAT", "CHANNEL_SOCIAL"}, m.Lanes,
		"one lane per channel seen, in the channels' order")
	require.Contains(t, m.Flows, "cover switch CHANNEL_WEB CHANNEL_PHONE 12")
	require.Contains(t, m.Flows, "cover resume CHANNEL_APP CHANNEL_CHAT 2")
	require.Len(t, m.Flows, 10)
	require.Equal(t, []string{"120 reached", "96 reached", "80 reached", "45 reached"}, m.Reached)
	require.Equal(t, []string{"Drop-off 20.0%", "Drop-off 16.7%", "Drop-off 43.8%", "Drop-off 8.9%"}, m.DropOff)
	require.Equal(t, "cover", kees.attr("#insight-map g.column.mot", "data-step"), "the moment of truth stands out")
	require.Contains(t, kees.attr(`#insight-map path.flow[data-step="cover"][data-kind="switch"][data-from="CHANNEL_WEB"]`, "d"), "C",
		"a switch is a curve from one lane to another")
	hover := eval[string](kees.page, `document.querySelector('#insight-map path.flow[data-step="cover"][data-to="CHANNEL_PHONE"]').parentNode.querySelector('title').textContent`)
	require.Equal(t, "Cover: 12 changed channel from Web to Phone (15.0% of those who reached it)", hover, "pointing at a flow gives its figures")
	require.Contains(t, textContent(kees.page, `#insight-map .step-figures[data-step="cover"]`), "Wait p50 30 min 30 s · p90 8 h 30 min")
	require.Equal(t, "Journey map: car-insurance-quote", kees.text("#insight-title"))
	require.Contains(t, kees.text("#insight-range"), "steps named by their ids")
	require.Equal(t, "41 · 34.2%", kees.text("#summary-completed"))

	// The tables hold every figure, and download as they are.
	require.Equal(t, "Step,Step id,Moment of truth,Reached,Left forward,Stopped,Drop-off rate\r\n"+
		"Vehicle,vehicle,,120,96,24,0.2\r\n"+
		"Driver,driver,,96,80,16,0.1667\r\n"+
		"Cover,cover,yes,80,45,35,0.4375\r\n"+
		"Confirm,confirm,,45,41,4,0.0889\r\n", kees.csv("funnel"))
	require.Equal(t, "Step,Step id,Resumed,Resume rate,Waits timed,Wait p50 (s),Wait p90 (s)\r\n"+
		"Vehicle,vehicle,4,0.0333,4,754.2,5400\r\n"+
		"Driver,driver,12,0.125,12,1201,14400\r\n"+
		"Cover,cover,20,0.25,20,1830,30600\r\n"+
		"Confirm,confirm,6,0.1333,6,400,2000\r\n"+
		"All steps,,42,,42,1500,21600\r\n", kees.csv("resumes"))
	require.Equal(t, "Entry channel,Started,Completed,Completion rate\r\nWeb,100,33,0.33\r\nApp,20,8,0.4\r\nAll channels,120,41,0.341667\r\n",
		kees.csv("entry-channels"))
	require.Equal(t, "Sent,Brought back,Rate\r\n30,9,0.3\r\n", kees.csv("reminders"))
	require.Equal(t, 6, eval[int](kees.page, `document.querySelectorAll('#tables button.csv').length`), "every table downloads")

	kees.fits(true)
	require.True(t, eval[bool](kees.page, `document.querySelector('#insight-map').getBoundingClientRect().bottom <= innerHeight`),
		"the whole map is in view at 1280×720")
	kees.screenshot("insight-recorded")

	// Printed: the map and the tables, no controls.
	require.Equal(t, []bool{true, true, true, false, false}, eval[[]bool](kees.page, `(() => {
		const print = [...document.styleSheets].flatMap((sheet) => [...sheet.cssRules])
			.filter((r) => r instanceof CSSMediaRule && r.media.mediaText === 'print')
			.flatMap((r) => [...r.cssRules]);
		return ['.bar', '#query', '#tables button.csv', '#insight-map', '#table-funnel'].map((sel) =>
			print.some((r) => r.style?.display === 'none' && document.querySelector(sel).matches(r.selectorText)));
	})()`), "printed: the map and the tables, without the controls")
	kees.noExceptions()
}
