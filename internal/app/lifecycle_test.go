package app_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

func TestOperatorEndpoints(t *testing.T) {
	h := start(t, memoryStore)
	newJourney(t, h, "c-42")

	t.Run("grpc_health_says_serving", func(t *testing.T) {
		resp, err := healthpb.NewHealthClient(h.conn).Check(t.Context(), &healthpb.HealthCheckRequest{Service: "handoff.v1.JourneyService"})
		require.NoError(t, err)
		require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())
	})
	t.Run("metrics_count_grpc_calls_by_method_and_code", func(t *testing.T) {
		status, body := h.rest(t, "GET", "/metrics", "", nil)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body["_text"], `grpc_server_handled_total{grpc_code="OK",grpc_method="CreateJourney"`)
	})
	t.Run("metrics_count_the_open_watches_and_the_changes_sent_to_them", func(t *testing.T) {
		metrics := func() string {
			status, body := h.rest(t, "GET", "/metrics", "", nil)
			require.Equal(t, http.StatusOK, status)
			return body["_text"].(string)
		}
		sent := func(text string) float64 {
			for line := range strings.SplitSeq(text, "\n") {
				if v, ok := strings.CutPrefix(line, "handoff_watch_changes_sent_total "); ok {
					n, err := strconv.ParseFloat(v, 64)
					require.NoError(t, err)
					return n
				}
			}
			t.Fatal("no handoff_watch_changes_sent_total")
			return 0
		}
		ctx, cancel := context.WithCancel(as(t, websiteToken))
		defer cancel()
		j := newJourney(t, h, "c-42")
		stream, err := h.api.WatchJourney(ctx, &handoffv1.WatchJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		_, err = stream.Recv()
		require.NoError(t, err)
		opened := metrics()
		require.Contains(t, opened, "\nhandoff_watches_open 1\n")
		require.Contains(t, opened, `grpc_server_started_total{grpc_method="WatchJourney"`, "a watch is still a call to the call metrics")
		for i := range 2 {
			require.NoError(t, saveAnswer(as(t, websiteToken), h.api, j.GetName(), "n", i))
			_, err = stream.Recv()
			require.NoError(t, err)
		}
		require.Equal(t, sent(opened)+2, sent(metrics()))
	})
	t.Run("openapi_json_describes_the_rest_surface", func(t *testing.T) {
		status, body := h.rest(t, "GET", "/openapi.json", "", nil)
		require.Equal(t, http.StatusOK, status)
		paths := body["paths"].(map[string]any)
		for _, p := range []string{"/v1/customers/{customer}/journeys", "/v1/handoffs/{code}:redeem", "/v1/customers/{customer}/journeys/{journey}:handoff"} {
			require.Contains(t, paths, p)
		}
	})
	t.Run("the_request_id_comes_back_and_lands_in_the_log_with_the_client's_address", func(t *testing.T) {
		var header metadata.MD
		_, err := h.api.ListJourneys(as(t, aliceToken, "x-request-id", "trace-me-42"),
			&handoffv1.ListJourneysRequest{Parent: "customers/c-42"}, grpc.Header(&header))
		require.NoError(t, err)
		require.Equal(t, []string{"trace-me-42"}, header.Get("x-request-id"))
		require.Eventually(t, func() bool { return strings.Contains(h.logs.String(), `"request_id":"trace-me-42"`) }, time.Second, 10*time.Millisecond)
		var line string
		for l := range strings.SplitSeq(h.logs.String(), "\n") {
			if strings.Contains(l, `"request_id":"trace-me-42"`) {
				line = l
			}
		}
		require.Contains(t, line, `"client_addr":"127.0.0.1"`, "the call's line names where it came from")
	})
	t.Run("logs_hold_no_answers", func(t *testing.T) {
		require.NotContains(t, h.logs.String(), "AB-123-C")
	})
}

func TestProfilesAreServedOnlyOnTheDebugAddress(t *testing.T) {
	h := start(t, memoryStore, func(c *config.Config) { c.DebugAddr = "127.0.0.1:0" })
	get := func(t *testing.T, url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	status, body := get(t, "http://"+h.app.DebugAddr()+"/debug/pprof/goroutine?debug=1")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "goroutine profile:")
	status, _ = get(t, h.base+"/debug/pprof/goroutine?debug=1")
	require.Equal(t, http.StatusNotFound, status, "the API port serves no profiles")

	plain := start(t, memoryStore)
	require.Empty(t, plain.app.DebugAddr(), "no debug listener unless asked for")
}

func TestShutdownLetsInFlightCallsFinish(t *testing.T) {
	r := testutil.StartRedis(t)
	_, api, stop, done, grace := startStoppable(t, r.URL())
	defer stop()
	created, err := api.CreateJourney(as(t, websiteToken), &handoffv1.CreateJourneyRequest{
		Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote"},
	})
	require.NoError(t, err)

	// Freeze Redis so a call is certainly in flight when the stop comes.
	r.Pause()
	inFlight := make(chan error, 1)
	go func() {
		_, err := api.GetJourney(as(t, aliceToken), &handoffv1.GetJourneyRequest{Name: created.GetName()})
		inFlight <- err
	}()
	time.Sleep(200 * time.Millisecond)
	stop() // what SIGTERM does in main
	time.Sleep(200 * time.Millisecond)
	r.Resume()

	require.NoError(t, <-inFlight, "the in-flight call must finish")
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(grace):
		t.Fatal("handoffd did not stop within its shutdown timeout")
	}
	_, err = api.GetJourney(as(t, aliceToken), &handoffv1.GetJourneyRequest{Name: created.GetName()})
	require.Error(t, err, "a stopped server takes no new calls")
}
