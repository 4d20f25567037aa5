package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/memory"
)

// receiver records what a webhook was sent and answers what answer says;
// hold, when set, is called first, outside the lock, and may keep the
// request waiting.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []delivery
	answer func(id string, nth int) int
	hold   func(req *http.Request, id string)
}

type delivery struct {
	id     string
	body   string
	status int
}

func newReceiver(t *testing.T, answer func(id string, nth int) int) *receiver {
	return newHoldingReceiver(t, nil, answer)
}

func newHoldingReceiver(t *testing.T, hold func(req *http.Request, id string), answer func(id string, nth int) int) *receiver {
	r := &receiver{answer: answer, hold: hold}
	verifier, err := standardwebhooks.NewWebhook(testSecret)
	require.NoError(t, err)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := verifier.Verify(body, req.Header); err != nil {
			t.Errorf("a delivery does not verify: %v", err)
		}
		id := req.Header.Get("webhook-id")
		if r.hold != nil {
			r.hold(req, id)
			if req.Context().Err() != nil {
				return // abandoned by the sender: not a delivery
			}
		}
		r.mu.Lock()
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

// newStore is the embedded memory store with events on: the store
// delivery runs on, not a stand-in for it.
func newStore(t *testing.T) *memory.Store {
	t.Helper()
	s := memory.New(memory.WithEvents(store.EventOptions{}))
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func journeyKey(journey string) store.JourneyKey {
	return store.JourneyKey{Customer: "c-42", Journey: journey}
}

func touchpoint(kind handoffv1.TouchpointKind, at time.Time) *handoffv1.Touchpoint {
	return &handoffv1.Touchpoint{
		Time:    timestamppb.New(at),
		Channel: handoffv1.Channel_CHANNEL_WEB,
		Actor:   &handoffv1.Actor{Id: "shop-website", Role: handoffv1.Role_ROLE_SERVICE},
		Kind:    kind,
	}
}

// startJourney creates the journey with answers through the store, which
// appends its `journey.touched` event; it returns that event's id.
func startJourney(t *testing.T, s *memory.Store, k store.JourneyKey, answers map[string]any) string {
	t.Helper()
	data, err := structpb.NewStruct(answers)
	require.NoError(t, err)
	at := time.Now().UTC().Truncate(time.Microsecond)
	j := &handoffv1.Journey{
		Name: k.Name(), JourneyType: "claim", State: handoffv1.JourneyState_JOURNEY_STATE_ACTIVE,
		Data: data, Channel: handoffv1.Channel_CHANNEL_WEB, CreateTime: timestamppb.New(at), UpdateTime: timestamppb.New(at),
	}
	_, created, err := s.CreateJourney(t.Context(), j, touchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_STARTED, at), "")
	require.NoError(t, err)
	require.True(t, created)
	return newestEventID(t, s, store.EventTouched)
}

// saveJourney saves the journey's progress through the store, which
// appends its `journey.touched` event; it returns that event's id.
func saveJourney(t *testing.T, s *memory.Store, k store.JourneyKey) string {
	t.Helper()
	at := time.Now().UTC().Truncate(time.Microsecond)
	_, err := s.SaveJourney(t.Context(), store.Save{
		Key: k, Channel: handoffv1.Channel_CHANNEL_WEB, UpdateTime: at,
		Touchpoint: touchpoint(handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, at),
		Limits:     store.AnswerLimits{Answers: 100, Bytes: 64 << 10},
	})
	require.NoError(t, err)
	return newestEventID(t, s, store.EventTouched)
}

// eraseCustomer erases a customer through the store, which appends its
// `customer.erased` event; it returns that event's id.
func eraseCustomer(t *testing.T, s *memory.Store, customer string) string {
	t.Helper()
	_, err := s.EraseCustomer(t.Context(), customer)
	require.NoError(t, err)
	return newestEventID(t, s, store.EventCustomerErased)
}

// newestEventID is the id of the store's newest event, which must be of
// type typ.
func newestEventID(t *testing.T, s *memory.Store, typ string) string {
	t.Helper()
	var last *handoffv1.JourneyEvent
	for after := ""; ; {
		page, err := s.ReadEvents(t.Context(), after, readBatch, 0)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		last = page[len(page)-1]
		after = last.GetId()
	}
	require.NotNil(t, last, "the write appended no event")
	require.Equal(t, typ, last.GetType())
	return last.GetId()
}

func cursor(t *testing.T, s *memory.Store) string {
	t.Helper()
	c, err := s.EventCursor(t.Context(), Consumer("crm"))
	require.NoError(t, err)
	return c
}

func fastOptions(s *memory.Store) Options {
	return Options{Events: s, Holder: "test", Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, LeaseTTL: 300 * time.Millisecond}
}

// With concurrency 1 a webhook is delivered as before lanes: one event at
// a time, in stream order across journeys.
func TestWithConcurrencyOneDeliveryIsInStreamOrderRetriesDeadLettersAfterMaxAttemptsAndSkipsTypesNotAskedForButPassesThem(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	a := startJourney(t, s, journeyKey("a"), nil)
	b := startJourney(t, s, journeyKey("b"), nil)
	eraseCustomer(t, s, "c-7")
	a2 := saveJourney(t, s, journeyKey("a"))
	lastErased := eraseCustomer(t, s, "c-8")
	rcv := newReceiver(t, func(id string, nth int) int {
		switch {
		case id == b:
			return http.StatusServiceUnavailable
		case id == a && nth == 0:
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	d := Start(t.Context(), []*Webhook{loadHook(t, ", maxAttempts: 3, concurrency: 1, types: [journey.touched]", rcv.URL)}, fastOptions(s))
	t.Cleanup(d.Stop)

	// The last event is one the webhook did not ask for: the cursor
	// passes it all the same.
	require.Eventually(t, func() bool { return cursor(t, s) == lastErased }, 5*time.Second, 10*time.Millisecond)
	var ids []string
	for _, g := range rcv.deliveries() {
		ids = append(ids, g.id)
	}
	require.Equal(t, []string{a, a, b, b, b, a2}, ids, "in stream order, customer.erased not sent")
	dead, err := s.DeadLetters(t.Context(), Consumer("crm"), 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, b, dead[0].Event.GetId())
	require.Equal(t, journeyKey("b").Name(), dead[0].Event.GetJourney())
	require.Equal(t, "HTTP 503", dead[0].Reason)
}

func TestAFailureIsNamedByItsClass(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	id := startJourney(t, s, journeyKey("a"), nil)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nothing listens there any more
	d := Start(t.Context(), []*Webhook{loadHook(t, ", maxAttempts: 2", closed.URL)}, fastOptions(s))
	t.Cleanup(d.Stop)
	require.Eventually(t, func() bool { return cursor(t, s) == id }, 5*time.Second, 10*time.Millisecond)
	dead, err := s.DeadLetters(t.Context(), Consumer("crm"), 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, "connection refused", dead[0].Reason)
}

type ibanMasker struct{}

func (ibanMasker) MaskSensitive(_ context.Context, j *handoffv1.Journey) error {
	j.Data.Fields["payment"].GetStructValue().Fields["iban"] = structpb.NewStringValue("•••• 4300")
	return nil
}

func TestAnswersGoOnlyToAWebhookThatIncludesThemAndSensitiveOnesMasked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		include bool
	}{
		{"a_webhook_without_includeAnswers_gets_none", false},
		{"a_webhook_with_includeAnswers_gets_them_masked", true},
	} {
		include := tc.include
		fields := ""
		if include {
			fields = ", includeAnswers: true"
		}
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			id := startJourney(t, s, journeyKey("claim"), map[string]any{"incident": map[string]any{"kind": "water"}, "payment": map[string]any{"iban": "NL91ABNA0417164300"}})
			rcv := newReceiver(t, func(string, int) int { return http.StatusOK })
			opts := fastOptions(s)
			opts.Journeys, opts.Masker = s, ibanMasker{}
			d := Start(t.Context(), []*Webhook{loadHook(t, fields, rcv.URL)}, opts)
			require.Eventually(t, func() bool { return len(rcv.deliveries()) == 1 }, 5*time.Second, 10*time.Millisecond)
			d.Stop()

			body := rcv.deliveries()[0].body
			require.NotContains(t, body, "NL91ABNA0417164300")
			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(body), &got))
			require.Equal(t, id, got["id"])
			require.Equal(t, "journey.touched", got["type"])
			if !include {
				require.NotContains(t, got, "answers")
				require.NotContains(t, body, "water")
				return
			}
			require.Equal(t, map[string]any{"incident": map[string]any{"kind": "water"}, "payment": map[string]any{"iban": "•••• 4300"}}, got["answers"])
		})
	}
}

// leaseHeld is what the instance that registered with reg reports of the
// webhook's lease.
func leaseHeld(t *testing.T, reg *prometheus.Registry) bool {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == "handoff_webhook_lease_held" {
			for _, m := range f.GetMetric() {
				if m.GetGauge().GetValue() == 1 {
					return true
				}
			}
		}
	}
	return false
}

// The lease lives handoverTTL unless renewed, and an instance that could
// not take it tries again every third of that: one released is taken
// within a third, one that must lapse only after two thirds at least.
const handoverTTL = 9 * time.Second

func TestOneInstanceAtATimeDeliversAndAStoppedOneHandsOverAtOnce(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	rcv := newReceiver(t, func(string, int) int { return http.StatusOK })
	hook := loadHook(t, "", rcv.URL)
	first := fastOptions(s)
	first.Holder, first.LeaseTTL = "first", handoverTTL
	second := fastOptions(s)
	second.Holder, second.LeaseTTL = "second", handoverTTL
	reg := prometheus.NewRegistry()
	first.Registerer = reg
	a := Start(t.Context(), []*Webhook{hook}, first)
	t.Cleanup(a.Stop)
	require.Eventually(t, func() bool { return leaseHeld(t, reg) }, 5*time.Second, 5*time.Millisecond, "the first instance never took the lease")
	b := Start(t.Context(), []*Webhook{hook}, second)
	t.Cleanup(b.Stop)

	id1 := startJourney(t, s, journeyKey("a"), nil)
	require.Eventually(t, func() bool { return cursor(t, s) == id1 }, 5*time.Second, 10*time.Millisecond)
	a.Stop()
	id2 := saveJourney(t, s, journeyKey("a"))
	require.Eventually(t, func() bool { return cursor(t, s) == id2 }, handoverTTL/2, 10*time.Millisecond,
		"the second instance did not take over before the stopped one's lease could lapse")
	got := rcv.deliveries()
	require.Len(t, got, 2, "each event once")
	require.Equal(t, []string{id1, id2}, []string{got[0].id, got[1].id})
	held, err := s.TakeLease(t.Context(), LeaseName("crm"), "first", handoverTTL)
	require.NoError(t, err)
	require.False(t, held, "the stopped instance's lease is free or its own")
	held, err = s.TakeLease(t.Context(), LeaseName("crm"), "second", handoverTTL)
	require.NoError(t, err)
	require.True(t, held, "the second instance does not hold the lease")
}
