package browsertest_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
     "switches": [{"from": "CHANNEL_WEB", "to": "CHANNEL_APP", "count": "6"}],
     "resumes": [{"from": "CHANNEL_WEB", "to": "CHANNEL_PHONE", "count": "4", "rate": 0.0333}],
     "resumed": "4", "resumeRate": 0.0333, "timeToResume": {"count": "4", "p50": "754.2s", "p90": "5400s"},
     "expired": "15", "expiredUnresumed": "14"},
    {"step": "driver", "reached": "96", "leftForward": "80", "stopped": "16", "dropOffRate": 0.1667,
     "switches": [{"from": "CHANNEL_WEB", "to": "CHANNEL_PHONE", "count": "5"}],
     "resumes": [{"from": "CHANNEL_WEB", "to": "CHANNEL_PHONE", "count": "9", "rate": 0.094},
                 {"from": "CHANNEL_WEB", "to": "CHANNEL_SOCIAL", "count": "3", "rate": 0.031}],
     "resumed": "12", "resumeRate": 0.125, "timeToResume": {"count": "12", "p50": "1201s", "p90": "14400s"},
     "expired": "9", "expiredUnresumed": "5"},
    {"step": "cover", "momentOfTruth": true, "reached": "80", "leftForward": "45", "stopped": "35", "dropOffRate": 0.4375,
     "switches": [{"from": "CHANNEL_WEB", "to": "CHANNEL_PHONE", "count": "12"},
                  {"from": "CHANNEL_PHONE", "to": "CHANNEL_WEB", "count": "3"}],
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
  "switches": [{"from": "CHANNEL_WEB", "to": "CHANNEL_PHONE", "count": "17"}],
  "resumes": [{"from": "CHANNEL_WEB", "to": "CHANNEL_PHONE", "count": "27", "rate": 0.225}],
  "reminders": {"sent": "30", "broughtBack": "9", "rate": 0.3},
  "expiredThrough": "2026-11-28"
}`

// drawRecorded draws recordedInsight with the page's own drawing, as if
// the server had answered it, steps titled from their ids.
func (p insightPage) drawRecorded() {
	p.t.Helper()
	eval[bool](p.page, fmt.Sprintf(`import('/console/insight.js').then(({ draw }) => (draw(%s), true))`, recordedInsight))
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

// download is what a table's Download CSV button hands the browser: its
// file name and text. The click runs as a person's would; the file is
// caught before the browser saves it.
func (p insightPage) download(table string) (name, text string) {
	p.t.Helper()
	file := eval[struct{ Name, Text string }](p.page, fmt.Sprintf(`new Promise((resolve, reject) => {
		const create = URL.createObjectURL;
		let blob = null;
		URL.createObjectURL = (b) => (blob = b, create.call(URL, b));
		HTMLAnchorElement.prototype.click = function () {
			URL.createObjectURL = create;
			delete HTMLAnchorElement.prototype.click;
			blob.text().then((text) => resolve({Name: this.download, Text: text}), reject);
		};
		document.querySelector('section[data-table=%q] button.csv').click();
		setTimeout(() => reject(new Error('no download')), 5000);
	})`, table))
	return file.Name, file.Text
}

// csv is the text of a table's CSV download.
func (p insightPage) csv(table string) string {
	p.t.Helper()
	_, text := p.download(table)
	return text
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
	kees.drawRecorded()

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
	require.Equal(t, "Cover: 12 changed channel from Web to Phone", hover, "pointing at a flow gives its figures")
	require.Contains(t, textContent(kees.page, `#insight-map .step-figures[data-step="cover"]`), "Wait p50 30 min 30 s · p90 8 h 30 min")
	require.Contains(t, textContent(kees.page, `#insight-map .stopped[data-step="confirm"]`), "4 stopped",
		"at the last step, the journeys not completed stopped")
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
	name, _ := kees.download("expiries")
	require.Equal(t, "insight-car-insurance-quote-2026-10-31-2026-11-29-expiries.csv", name)
	require.Equal(t, []string{"Step,Step id,What,From,To,Journeys,Rate", "Vehicle,vehicle,Changed channel,Web,App,6,", "Vehicle,vehicle,Resumed by staff,Web,Phone,4,0.0333"},
		strings.Split(kees.csv("moves"), "\r\n")[:3], "a switch has no rate; a resume's is of the journeys that reached the step")
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

// send is a REST call with a token and the channel it comes from; the
// answer as JSON (failing the test on anything but 200).
func (s *handoffd) send(t *testing.T, method, token, channel, path, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.base+"/v1/"+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if channel != "" {
		req.Header.Set("X-Handoff-Channel", channel)
	}
	return s.do(t, req)
}

// quote is one car-insurance quote the shop's website keeps for a customer.
type quote struct {
	s    *handoffd
	t    *testing.T
	name string
}

// startQuote starts a quote on a channel of the shop (web or app), at the
// vehicle step.
func startQuote(t *testing.T, s *handoffd, id, channel string) quote {
	t.Helper()
	j := s.send(t, http.MethodPost, shopToken, channel, "customers/c-"+id+"/journeys?journeyId=q-"+id,
		`{"journeyType": "car-insurance-quote", "step": "vehicle", "data": {"vehicle": {"plate": "AB-123-C", "make": "Volvo"}}}`)
	return quote{s: s, t: t, name: j["name"].(string)}
}

// answers of each step, saved when the customer moves on to it.
var quoteAnswers = map[string]string{
	"driver":  `{"driver": {"name": "Ana de Vries", "birthYear": 1988}}`,
	"cover":   `{"cover": {"level": "comprehensive"}}`,
	"confirm": `{}`,
}

// to saves the customer's way on to a step, through the shop on channel.
func (q quote) to(channel string, steps ...string) quote {
	q.t.Helper()
	for _, st := range steps {
		q.s.send(q.t, http.MethodPatch, shopToken, channel, q.name, fmt.Sprintf(`{"step": %q, "data": %s}`, st, quoteAnswers[st]))
	}
	return q
}

// resumedBy is the customer reading a code out to an agent, who opens the
// case on their desk.
func (q quote) resumedBy(agentToken, channel string) quote {
	q.t.Helper()
	code := q.s.send(q.t, http.MethodPost, shopToken, "web", q.name+":handoff", `{}`)["code"].(string)
	q.s.send(q.t, http.MethodPost, agentToken, channel, "handoffs/"+code+":redeem", `{}`)
	return q
}

// movedBy is an agent taking the case on to a step.
func (q quote) movedBy(agentToken, channel, step string) quote {
	q.t.Helper()
	q.s.send(q.t, http.MethodPatch, agentToken, channel, q.name+"?updateMask=step", fmt.Sprintf(`{"step": %q}`, step))
	return q
}

func (q quote) completedBy(token, channel string) {
	q.t.Helper()
	q.s.send(q.t, http.MethodPost, token, channel, q.name+":complete", `{}`)
}

// insight is the API's answer for the quote over days, as Kees may read it.
func (s *handoffd) insight(t *testing.T, from, to string) map[string]any {
	t.Helper()
	return s.get(t, keesToken, fmt.Sprintf("journeyTypes/%s/insight?from=%s&to=%s", quoteType, from, to))
}

// waitInsight waits until the counts of the last writes are in (an
// instance writes its counts every --insight-flush).
func (s *handoffd) waitInsight(t *testing.T, from, to string, done func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(3 * step)
	for {
		got := s.insight(t, from, to)
		if done(got) {
			return got
		}
		require.True(t, time.Now().Before(deadline), "the insight counts did not come in: %v", got)
		time.Sleep(200 * time.Millisecond)
	}
}

// channelsSeen is every channel an insight answer names, as the map's lanes.
func channelsSeen(insight map[string]any) map[string]bool {
	seen := map[string]bool{}
	flows := func(v any) {
		for _, f := range asList(v) {
			seen[f["from"].(string)] = true
			seen[f["to"].(string)] = true
		}
	}
	for _, e := range asList(insight["entryChannels"]) {
		seen[e["channel"].(string)] = true
	}
	flows(insight["switches"])
	flows(insight["resumes"])
	for _, st := range asList(insight["steps"]) {
		flows(st["switches"])
		flows(st["resumes"])
	}
	return seen
}

func asList(v any) []map[string]any {
	var out []map[string]any
	for _, x := range asSlice(v) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func asSlice(v any) []any {
	l, _ := v.([]any)
	return l
}

// number is an insight figure: int64s come as strings, doubles as
// numbers, zero values not at all.
func number(v any) float64 {
	switch x := v.(type) {
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	case float64:
		return x
	}
	return 0
}

// reached is how many journeys reached a step, in an insight answer.
func reached(insight map[string]any, step string) float64 {
	for _, st := range asList(insight["steps"]) {
		if st["step"] == step {
			return number(st["reached"])
		}
	}
	return 0
}

// quickCounts has handoffd write its insight counts often, so a test
// waits less for them.
func quickCounts(c *config.Config) { c.Insight.Flush = 100 * time.Millisecond }

// TestInsight_theMapShowsStepsLanesAndFlows: quotes started on the web and
// in the app, stopped at different steps, picked up by agents on the phone
// and on social media, some completed; Kees (an analyst) types the type
// and sees the journey map of the last 30 days: a column per declared
// step, a lane per channel seen, flows, and the figures the API gives for
// the same days, in the map, the tables and their CSV.
func TestInsight_theMapShowsStepsLanesAndFlows(t *testing.T) {
	s := startHandoffd(t, withInsightTokens(t), quickCounts)
	b := startBrowser(t)

	// Anna's story: online to the cover step, then Ravi on the phone
	// finishes it with her.
	startQuote(t, s, "1", "web").to("web", "driver", "cover").resumedBy(raviToken, "phone").
		movedBy(raviToken, "phone", "confirm").completedBy(raviToken, "phone")
	// Stuck at the driver step; Sam picks it up on the social-media desk.
	startQuote(t, s, "2", "web").to("web", "driver").resumedBy(samToken, "social")
	// Stopped at the first step.
	startQuote(t, s, "3", "web")
	// All the way in the app.
	startQuote(t, s, "4", "app").to("app", "driver", "cover", "confirm").completedBy(shopToken, "app")
	// Started on the web, went on in the app.
	startQuote(t, s, "5", "web").to("web", "driver").to("app", "cover")

	kees := openInsight(b, s, "analyst (insight)", keesToken)
	kees.fill("#query-type-id", quoteType)
	kees.enter("#query-type-id")
	kees.visible("#insight-map")
	from, to := kees.value("#query-from"), kees.value("#query-to")
	today := time.Now().UTC()
	require.Equal(t, today.Format(time.DateOnly), to, "the last 30 days, today (UTC) the last")
	require.Equal(t, today.AddDate(0, 0, -29).Format(time.DateOnly), from)

	// Quote 5 reaching the cover step was the last write: once it is
	// counted, every write before it is.
	api := s.waitInsight(t, from, to, func(in map[string]any) bool {
		return number(in["started"]) == 5 && number(in["completed"]) == 2 && reached(in, "cover") == 3
	})
	// The page asked before every count was in: ask again.
	kees.click("#query-show")
	kees.waitFor("the map is drawn again", `!document.querySelector('#query-show').disabled`)
	require.Equal(t, "2 · 40.0%", kees.text("#summary-completed"))

	m := kees.mapFigures()
	require.Equal(t, []string{"vehicle", "driver", "cover", "confirm"}, m.Columns, "one column per declared step")
	var lanes []string
	for _, c := range []string{"CHANNEL_WEB", "CHANNEL_APP", "CHANNEL_PHONE", "CHANNEL_CHAT", "CHANNEL_SOCIAL", "CHANNEL_EMAIL", "CHANNEL_IN_PERSON"} {
		if channelsSeen(api)[c] {
			lanes = append(lanes, c)
		}
	}
	require.Equal(t, lanes, m.Lanes, "one lane per channel seen")
	require.Subset(t, m.Lanes, []string{"CHANNEL_WEB", "CHANNEL_APP", "CHANNEL_PHONE", "CHANNEL_SOCIAL"})
	require.NotEmpty(t, m.Flows, "journeys that changed channel flow between lanes")

	steps := asList(api["steps"])
	require.Len(t, steps, 4)
	funnel := strings.Split(strings.TrimSpace(kees.csv("funnel")), "\r\n")
	require.Len(t, funnel, 1+len(steps))
	for i, st := range steps {
		require.Equal(t, m.Columns[i], st["step"])
		require.Equal(t, fmt.Sprintf("%d reached", int(number(st["reached"]))), m.Reached[i], "step %s", st["step"])
		require.Equal(t, fmt.Sprintf("Drop-off %.1f%%", 100*number(st["dropOffRate"])), m.DropOff[i], "step %s", st["step"])
		cells := strings.Split(funnel[1+i], ",")
		require.Equal(t, st["step"], cells[1])
		for k, field := range []string{"reached", "leftForward", "stopped", "dropOffRate"} {
			got, err := strconv.ParseFloat(cells[3+k], 64)
			require.NoError(t, err)
			require.InDelta(t, number(st[field]), got, 1e-6, "CSV of the funnel: %s of %s", field, st["step"])
		}
	}
	require.Equal(t, float64(5), number(steps[0]["reached"]), "every quote reached the first step")

	kees.fits(true)
	require.True(t, eval[bool](kees.page, `document.querySelector('#insight-map').getBoundingClientRect().bottom <= innerHeight`),
		"the whole map is in view at 1280×720")
	kees.screenshot("insight-map")
	require.Equal(t, fmt.Sprintf("#type=%s&from=%s&to=%s", quoteType, from, to), eval[string](kees.page, `location.hash`),
		"the address says what is shown, to share or come back to")
	kees.noExceptions()
}

// TestInsight_aSupervisorPicksATypeAndReadsItsLabels: a supervisor on the
// desk opens Insight from the console's bar, still signed in; an admin
// token may list the types, so the page offers them by title and draws
// the first at once, its steps by their labels in the page's language.
func TestInsight_aSupervisorPicksATypeAndReadsItsLabels(t *testing.T) {
	s := startHandoffd(t, withInsightTokens(t), quickCounts)
	b := startBrowser(t, chromedp.Flag("accept-lang", "nl-NL"))
	startQuote(t, s, "7", "web").to("web", "driver")
	api := s.waitInsight(t, "", "", func(in map[string]any) bool { return reached(in, "driver") == 1 })

	ola := signInConsole(b, s, olaToken, "phone")
	ola.click(`.bar a[href="/console/insight.html"]`)
	p := insightPage(ola)
	p.visible("#insight-map")
	require.Equal(t, []string{"Offerte autoverzekering", "Schademelding woonverzekering"},
		eval[[]string](p.page, `[...document.querySelectorAll('#query-type option')].map((o) => o.textContent)`))
	require.False(t, eval[bool](p.page, `document.querySelector('#query-type-id').offsetParent !== null`), "no id to type")
	require.Equal(t, "Journey map: Offerte autoverzekering", p.text("#insight-title"))
	m := p.mapFigures()
	require.Equal(t, []string{"Voertuig", "Bestuurder", "◆ Dekking", "Bevestigen"}, m.Titles)
	require.Equal(t, []string{"CHANNEL_WEB"}, m.Lanes)
	require.Equal(t, fmt.Sprintf("%d reached", int(number(asList(api["steps"])[0]["reached"]))), m.Reached[0])
	require.Equal(t, "Voertuig,vehicle,,1,1,0,0", strings.Split(p.csv("funnel"), "\r\n")[1], "the file has labels and ids")

	// Another type is drawn when picked.
	p.choose("#query-type", claimType)
	p.waitText("#insight-title", "Schademelding woonverzekering")
	require.Equal(t, []string{"incident", "contact", "payment", "review"}, p.mapFigures().Columns)
	require.Empty(t, p.mapFigures().Lanes, "no journey of it yet")
	p.noExceptions()
}
