package app_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/store"
)

// hookSecret signs every test webhook.
var hookSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("an-app-test-webhook-secret-32by!"))

// hookReceiver is a webhook receiver on loopback: it checks every
// delivery's signature and keeps, in the order it accepted them, the
// events it answered 2xx. Each path is one webhook; /broken always fails.
type hookReceiver struct {
	t        *testing.T
	addr     string
	verifier *standardwebhooks.Webhook

	mu       sync.Mutex
	srv      *http.Server
	status   int // what it answers, unless the path is /broken
	accepted map[string][]*handoffv1.JourneyEvent
	bodies   map[string][]string
	attempts map[string]int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	verifier, err := standardwebhooks.NewWebhook(hookSecret)
	require.NoError(t, err)
	r := &hookReceiver{t: t, verifier: verifier, status: http.StatusOK,
		accepted: map[string][]*handoffv1.JourneyEvent{}, bodies: map[string][]string{}, attempts: map[string]int{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r.addr = l.Addr().String()
	r.serve(l)
	t.Cleanup(r.closeListener)
	return r
}

func (r *hookReceiver) url(path string) string { return "http://" + r.addr + path }

func (r *hookReceiver) serve(l net.Listener) {
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(r.handle)}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

func (r *hookReceiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := r.verifier.Verify(body, req.Header); err != nil {
		r.t.Errorf("%s: a delivery whose signature does not verify: %v", req.URL.Path, err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	ev := &handoffv1.JourneyEvent{}
	if err := protojson.Unmarshal(body, ev); err != nil {
		r.t.Errorf("%s: a body that is no JourneyEvent: %v", req.URL.Path, err)
	}
	if ev.GetId() != req.Header.Get("webhook-id") {
		r.t.Errorf("webhook-id %q is not the event's id %q", req.Header.Get("webhook-id"), ev.GetId())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts[req.URL.Path]++
	status := r.status
	if req.URL.Path == "/broken" {
		status = http.StatusInternalServerError
	}
	if status < 300 {
		r.accepted[req.URL.Path] = append(r.accepted[req.URL.Path], ev)
		r.bodies[req.URL.Path] = append(r.bodies[req.URL.Path], string(body))
	}
	w.WriteHeader(status)
}

func (r *hookReceiver) answer(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = status
}

// closeListener makes the receiver's address refuse connections.
func (r *hookReceiver) closeListener() {
	r.mu.Lock()
	srv := r.srv
	r.mu.Unlock()
	_ = srv.Close()
}

// reopen listens on the same address again.
func (r *hookReceiver) reopen() {
	l, err := net.Listen("tcp", r.addr)
	require.NoError(r.t, err)
	r.serve(l)
}

func (r *hookReceiver) events(path string) []*handoffv1.JourneyEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*handoffv1.JourneyEvent(nil), r.accepted[path]...)
}

func (r *hookReceiver) bodiesOf(path string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies[path]...)
}

// withWebhooks writes a webhooks file of the given entries (YAML list
// items, each signed with hookSecret as secretFile s) and names it.
func withWebhooks(t *testing.T, entries ...string) func(*config.Config) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s"), []byte(hookSecret), 0o600))
	file := filepath.Join(dir, "webhooks.yaml")
	require.NoError(t, os.WriteFile(file, []byte("webhooks:\n"+strings.Join(entries, "\n")+"\n"), 0o600))
	return func(c *config.Config) { c.Events.WebhooksFile = file }
}

// touchpointsOf lists a journey's timeline as the website reads it (a
// read that records nothing).
func touchpointsOf(t *testing.T, h *harness, name string) []string {
	tps, err := h.api.ListTouchpoints(as(t, websiteToken), &handoffv1.ListTouchpointsRequest{Parent: name, PageSize: 1000})
	require.NoError(t, err)
	var names []string
	for _, tp := range tps.GetTouchpoints() {
		names = append(names, tp.GetName())
	}
	return names
}

// requireEachTouchpointOnceInOrder checks that the events a webhook
// accepted are the journeys' touchpoints, each once (by event id, the
// idempotency key, and by touchpoint), in revision order per journey.
func requireEachTouchpointOnceInOrder(t *testing.T, got []*handoffv1.JourneyEvent, want map[string][]string) {
	t.Helper()
	ids := map[string]bool{}
	perJourney := map[string][]string{}
	lastRevision := map[string]int64{}
	for _, ev := range got {
		require.False(t, ids[ev.GetId()], "event %s accepted twice", ev.GetId())
		ids[ev.GetId()] = true
		require.Equal(t, store.EventTouched, ev.GetType())
		require.Greater(t, ev.GetRevision(), lastRevision[ev.GetJourney()], "%s: revisions out of order", ev.GetJourney())
		lastRevision[ev.GetJourney()] = ev.GetRevision()
		perJourney[ev.GetJourney()] = append(perJourney[ev.GetJourney()], ev.GetTouchpoint().GetName())
	}
	require.Equal(t, want, perJourney)
}

func TestWebhookDeliveryOutlastsAReceiverOutageAndARestart(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t)
	hooks := withWebhooks(t, "  - {name: crm, url: '"+rcv.url("/crm")+"', secretFile: s, types: [journey.touched]}")
	first := start(t, redisStore, hooks)
	h := first
	web := as(t, websiteToken)

	var names []string
	for i := range 3 {
		j, err := h.api.CreateJourney(web, &handoffv1.CreateJourneyRequest{Parent: "customers/c-1", JourneyId: fmt.Sprintf("trip-%d", i),
			Journey: &handoffv1.Journey{JourneyType: "booking", Step: "dates"}})
		require.NoError(t, err)
		names = append(names, j.GetName())
	}
	saveAll := func(h *harness, round int) {
		for _, name := range names {
			_, err := h.api.UpdateJourney(web, &handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{
				Name: name, Data: structOf(t, map[string]any{"round": map[string]any{"n": round}}),
			}})
			require.NoError(t, err)
		}
	}
	expected := func(h *harness) map[string][]string {
		want := map[string][]string{}
		for _, name := range names {
			want[name] = touchpointsOf(t, h, name)
		}
		return want
	}
	countOf := func(m map[string][]string) (n int) {
		for _, v := range m {
			n += len(v)
		}
		return n
	}
	saveAll(h, 1)
	require.Eventually(t, func() bool { return len(rcv.events("/crm")) == countOf(expected(h)) }, 10*time.Second, 50*time.Millisecond)

	// 30 s of outage: first answering 503, then not listening at all,
	// and handoffd restarted on the same Redis meanwhile.
	rcv.answer(http.StatusServiceUnavailable)
	saveAll(h, 2)
	time.Sleep(15 * time.Second)
	rcv.closeListener()
	saveAll(h, 3)
	require.NoError(t, first.stop())
	h = start(t, sharedRedis(first), hooks)
	saveAll(h, 4)
	time.Sleep(15 * time.Second)
	rcv.answer(http.StatusOK)
	rcv.reopen()
	saveAll(h, 5)

	want := expected(h)
	require.Eventually(t, func() bool { return len(rcv.events("/crm")) >= countOf(want) }, 40*time.Second, 100*time.Millisecond)
	time.Sleep(500 * time.Millisecond) // nothing more comes
	requireEachTouchpointOnceInOrder(t, rcv.events("/crm"), want)
}

func TestAReminderGoesOutOnceForAJourneyAboutToExpireAndNeverForOneTouched(t *testing.T) {
	t.Parallel()
	for _, kind := range []storeKind{memoryStore, redisStore} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			remindOnceNeverTouched(t, kind)
		})
	}
}

func remindOnceNeverTouched(t *testing.T, kind storeKind) {
	rcv := newHookReceiver(t)
	h := start(t, kind, withWebhooks(t, "  - {name: crm, url: '"+rcv.url("/crm")+"', secretFile: s, types: [journey.expiring, journey.expired]}"),
		func(c *config.Config) { c.JourneyTTL, c.Events.RemindBefore = 6*time.Second, 3*time.Second })
	web := as(t, websiteToken)
	create := func(id string) string {
		j, err := h.api.CreateJourney(web, &handoffv1.CreateJourneyRequest{Parent: "customers/c-1", JourneyId: id,
			Journey: &handoffv1.Journey{JourneyType: "booking", Step: "dates"}})
		require.NoError(t, err)
		return j.GetName()
	}
	left, touched := create("left"), create("touched")

	// touched is saved every half second: never within 3 s of expiring
	// (the margin is for a loaded machine). left expires after 6 s.
	deadline := time.Now().Add(9 * time.Second)
	for time.Now().Before(deadline) {
		_, err := h.api.UpdateJourney(web, &handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{Name: touched, Step: "rooms"}})
		require.NoError(t, err)
		time.Sleep(500 * time.Millisecond)
	}
	var kinds []string
	for _, ev := range rcv.events("/crm") {
		require.Equal(t, left, ev.GetJourney(), "a touched journey is neither reminded nor expired")
		kinds = append(kinds, ev.GetType())
		if ev.GetType() == store.EventExpiring {
			require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_REMINDED, ev.GetTouchpoint().GetKind())
			require.Equal(t, handoffv1.Role_ROLE_SYSTEM, ev.GetTouchpoint().GetActor().GetRole())
			require.NotNil(t, ev.GetReminderTime())
		}
	}
	require.Equal(t, []string{store.EventExpiring, store.EventExpired}, kinds, "reminded once, then expired")
}

func TestWebhookAnswersOnlyWhenIncludedAndMaskedAndADeadLetterAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t)
	h := start(t, redisStore, withExampleTypes(t), withWebhooks(t,
		"  - {name: plain, url: '"+rcv.url("/plain")+"', secretFile: s}",
		"  - {name: full, url: '"+rcv.url("/full")+"', secretFile: s, includeAnswers: true}",
		"  - {name: broken, url: '"+rcv.url("/broken")+"', secretFile: s, maxAttempts: 2}",
	))
	claim := newClaim(t, h, map[string]any{
		"incident": map[string]any{"kind": "water", "description": "the washing machine leaked"},
		"payment":  map[string]any{"iban": anIBAN},
	})
	require.Eventually(t, func() bool { return len(rcv.events("/plain")) == 1 && len(rcv.events("/full")) == 1 }, 10*time.Second, 20*time.Millisecond)

	plain := rcv.bodiesOf("/plain")[0]
	for _, value := range []string{anIBAN, "washing machine", "water"} {
		require.NotContains(t, plain, value, "no answer value without includeAnswers")
	}
	require.NotContains(t, plain, `"answers"`)
	full := rcv.events("/full")[0]
	require.Equal(t, claim.GetName(), full.GetJourney())
	require.NotContains(t, rcv.bodiesOf("/full")[0], anIBAN)
	answers := full.GetAnswers().AsMap()
	require.Equal(t, "water", answers["incident"].(map[string]any)["kind"])
	require.Contains(t, answers["payment"].(map[string]any)["iban"], "••••", "masked as staff read it")

	// broken: tried twice, a second apart, then dead-lettered.
	require.Eventually(t, func() bool {
		return strings.Contains(metricsText(t, h), `handoff_webhook_dead_lettered_total{webhook="broken"} 1`)
	}, 10*time.Second, 100*time.Millisecond)
	metrics := metricsText(t, h)
	require.Contains(t, metrics, `handoff_webhook_failed_attempts_total{webhook="broken"} 2`)
	require.Contains(t, metrics, `handoff_webhook_delivered_total{webhook="full"} 1`)
	// Kept where docs/operations.md says, with the reason and no answer.
	rdb := goredis.NewClient(&goredis.Options{Addr: h.redis.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	dead, err := rdb.XRange(t.Context(), "handoff:{_events}:dead:broken", "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, "HTTP 500", dead[0].Values["reason"])
	require.NotContains(t, dead[0].Values["event"], "water")
	logs := h.logs.String()
	require.Contains(t, logs, `"msg":"webhook event dead-lettered"`)
	require.Contains(t, logs, `"reason":"HTTP 500"`)
	for _, secret := range []string{anIBAN, "washing machine", hookSecret} {
		require.NotContains(t, logs, secret)
	}
}

func metricsText(t *testing.T, h *harness) string {
	resp, err := http.Get(h.base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestAWebhooksReloadStartsANewOneAndABadFileChangesNothing(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t)
	var file string
	h := start(t, memoryStore, withWebhooks(t, "  - {name: a, url: '"+rcv.url("/a")+"', secretFile: s}"),
		func(c *config.Config) { file = c.Events.WebhooksFile })
	web := as(t, websiteToken)
	create := func() {
		_, err := h.api.CreateJourney(web, &handoffv1.CreateJourneyRequest{Parent: "customers/c-1", Journey: &handoffv1.Journey{JourneyType: "booking"}})
		require.NoError(t, err)
	}
	create()
	require.Eventually(t, func() bool { return len(rcv.events("/a")) == 1 }, 5*time.Second, 20*time.Millisecond)

	both := "webhooks:\n  - {name: a, url: '" + rcv.url("/a") + "', secretFile: s}\n  - {name: b, url: '" + rcv.url("/b") + "', secretFile: s}\n"
	require.NoError(t, os.WriteFile(file, []byte(both), 0o600))
	require.NoError(t, h.app.ReloadWebhooks())
	// b is new: it starts at the oldest event kept.
	require.Eventually(t, func() bool { return len(rcv.events("/b")) == 1 }, 5*time.Second, 20*time.Millisecond)

	require.NoError(t, os.WriteFile(file, []byte(strings.Replace(both, "name: b", "name: B", 1)), 0o600))
	err := h.app.ReloadWebhooks()
	require.ErrorContains(t, err, file)
	require.ErrorContains(t, err, "webhooks[1].name")
	create()
	require.Eventually(t, func() bool { return len(rcv.events("/a")) == 2 && len(rcv.events("/b")) == 2 }, 5*time.Second, 20*time.Millisecond)
	require.Equal(t, rcv.events("/a")[0].GetId(), rcv.events("/b")[0].GetId())
}
