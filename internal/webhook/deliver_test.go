package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// receiver records what a webhook was sent and answers what answer says.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []delivery
	answer func(id string, nth int) int
}

type delivery struct {
	id     string
	body   string
	status int
}

func newReceiver(t *testing.T, answer func(id string, nth int) int) *receiver {
	r := &receiver{answer: answer}
	verifier, err := standardwebhooks.NewWebhook(testSecret)
	require.NoError(t, err)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := verifier.Verify(body, req.Header); err != nil {
			t.Errorf("a delivery does not verify: %v", err)
		}
		r.mu.Lock()
		id := req.Header.Get("webhook-id")
		nth := 0
		for _, d := range r.got {
			if d.id == id {
				nth++
			}
		}
		status := r.answer(id, nth)
		r.got = append(r.got, delivery{id: id, body: string(body), status: status})
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

func loadHook(t *testing.T, yamlFields string, url string) *Webhook {
	t.Helper()
	dir := writeFiles(t, map[string]string{
		"s":      testSecret,
		"w.yaml": "webhooks: [{name: crm, url: '" + url + "', secretFile: s" + yamlFields + "}]\n",
	})
	hooks, err := LoadFile(filepath.Join(dir, "w.yaml"))
	require.NoError(t, err)
	return hooks[0]
}

func touched(journey string) *handoffv1.JourneyEvent {
	return &handoffv1.JourneyEvent{Type: store.EventTouched, Journey: journey, Customer: "c-42", Time: timestamppb.Now()}
}

func fastOptions(ev store.Events) Options {
	return Options{Events: ev, Holder: "test", Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, LeaseTTL: 300 * time.Millisecond}
}

func TestDeliveryRetriesDeadLettersAfterMaxAttemptsAndSkipsTypesNotAskedFor(t *testing.T) {
	t.Parallel()
	ev := newFakeEvents()
	ev.add(touched("customers/c-42/journeys/a"), touched("customers/c-42/journeys/b"),
		&handoffv1.JourneyEvent{Type: store.EventExpired, Journey: "customers/c-42/journeys/c", Customer: "c-42"},
		touched("customers/c-42/journeys/a"))
	rcv := newReceiver(t, func(id string, nth int) int {
		switch {
		case id == "2-0":
			return http.StatusServiceUnavailable
		case id == "1-0" && nth == 0:
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	d := Start(t.Context(), []*Webhook{loadHook(t, ", maxAttempts: 3, types: [journey.touched]", rcv.URL)}, fastOptions(ev))
	t.Cleanup(d.Stop)

	require.Eventually(t, func() bool { return ev.cursor(Consumer("crm")) == "4-0" }, 5*time.Second, 10*time.Millisecond)
	var ids []string
	for _, g := range rcv.deliveries() {
		ids = append(ids, g.id)
	}
	require.Equal(t, []string{"1-0", "1-0", "2-0", "2-0", "2-0", "4-0"}, ids, "in stream order, the expired event not sent")
	dead, err := ev.DeadLetters(context.Background(), Consumer("crm"), 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, "2-0", dead[0].Event.GetId())
	require.Equal(t, "HTTP 503", dead[0].Reason)
}

func TestAFailureIsNamedByItsClass(t *testing.T) {
	t.Parallel()
	ev := newFakeEvents()
	ev.add(touched("customers/c-42/journeys/a"))
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nothing listens there any more
	d := Start(t.Context(), []*Webhook{loadHook(t, ", maxAttempts: 2", closed.URL)}, fastOptions(ev))
	t.Cleanup(d.Stop)
	require.Eventually(t, func() bool { return ev.cursor(Consumer("crm")) == "1-0" }, 5*time.Second, 10*time.Millisecond)
	dead, _ := ev.DeadLetters(context.Background(), Consumer("crm"), 10)
	require.Len(t, dead, 1)
	require.Equal(t, "connection refused", dead[0].Reason)
}

type journeysFunc func(ctx context.Context, key store.JourneyKey) (*handoffv1.Journey, error)

func (f journeysFunc) GetJourney(ctx context.Context, key store.JourneyKey) (*handoffv1.Journey, error) {
	return f(ctx, key)
}

type ibanMasker struct{}

func (ibanMasker) MaskSensitive(_ context.Context, j *handoffv1.Journey) error {
	j.Data.Fields["payment"].GetStructValue().Fields["iban"] = structpb.NewStringValue("•••• 4300")
	return nil
}

func TestAnswersGoOnlyToAWebhookThatIncludesThemAndSensitiveOnesMasked(t *testing.T) {
	t.Parallel()
	ev := newFakeEvents()
	ev.add(touched("customers/c-42/journeys/claim"))
	journeys := journeysFunc(func(context.Context, store.JourneyKey) (*handoffv1.Journey, error) {
		data, err := structpb.NewStruct(map[string]any{"incident": map[string]any{"kind": "water"}, "payment": map[string]any{"iban": "NL91ABNA0417164300"}})
		return &handoffv1.Journey{Name: "customers/c-42/journeys/claim", Data: data, CreateTime: timestamppb.New(time.Now().Add(-time.Hour))}, err
	})
	for _, include := range []bool{false, true} {
		rcv := newReceiver(t, func(string, int) int { return http.StatusOK })
		fields := ""
		if include {
			fields = ", includeAnswers: true"
		}
		opts := fastOptions(ev)
		opts.Journeys, opts.Masker, opts.Holder = journeys, ibanMasker{}, "include-"+fields
		hook := loadHook(t, fields, rcv.URL)
		d := Start(t.Context(), []*Webhook{hook}, opts)
		require.Eventually(t, func() bool { return len(rcv.deliveries()) == 1 }, 5*time.Second, 10*time.Millisecond)
		d.Stop()
		ev.mu.Lock()
		delete(ev.cursors, Consumer("crm"))
		ev.mu.Unlock()

		body := rcv.deliveries()[0].body
		require.NotContains(t, body, "NL91ABNA0417164300")
		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &got))
		require.Equal(t, "1-0", got["id"])
		require.Equal(t, "journey.touched", got["type"])
		if !include {
			require.NotContains(t, got, "answers")
			require.NotContains(t, body, "water")
			continue
		}
		require.Equal(t, map[string]any{"incident": map[string]any{"kind": "water"}, "payment": map[string]any{"iban": "•••• 4300"}}, got["answers"])
	}
}

// The fake's leases never lapse: the second takes over only because the
// first released its lease when stopped.
func TestOneInstanceAtATimeDeliversAndAStoppedOneHandsOver(t *testing.T) {
	t.Parallel()
	ev := newFakeEvents()
	rcv := newReceiver(t, func(string, int) int { return http.StatusOK })
	hook := loadHook(t, "", rcv.URL)
	first := fastOptions(ev)
	first.Holder = "first"
	second := fastOptions(ev)
	second.Holder = "second"
	a := Start(t.Context(), []*Webhook{hook}, first)
	require.Eventually(t, func() bool { ok, _ := ev.TakeLease(t.Context(), LeaseName("crm"), "first", time.Second); return ok }, time.Second, 5*time.Millisecond)
	b := Start(t.Context(), []*Webhook{hook}, second)
	t.Cleanup(b.Stop)

	ev.add(touched("customers/c-42/journeys/a"))
	require.Eventually(t, func() bool { return ev.cursor(Consumer("crm")) == "1-0" }, 5*time.Second, 10*time.Millisecond)
	a.Stop()
	ev.add(touched("customers/c-42/journeys/a"))
	require.Eventually(t, func() bool { return ev.cursor(Consumer("crm")) == "2-0" }, 5*time.Second, 10*time.Millisecond)
	got := rcv.deliveries()
	require.Len(t, got, 2, "each event once")
	ev.mu.Lock()
	require.Equal(t, "second", ev.leases[LeaseName("crm")])
	ev.mu.Unlock()
	require.True(t, strings.HasPrefix(got[1].id, "2-"))
}
