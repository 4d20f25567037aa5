package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/delta"
	"github.com/journeyhandoff/handoff/internal/store"
)

// Before answers without a value (gRPC's `value {}`) were refused, a save
// could store one in Redis, in the record layout of that release (v1: the
// journey as a protobuf body). protojson cannot write such a Value, so
// from then on GET, the customer's whole list, watch and redeem of that
// journey answered 500 over REST (a redeem after using up the code), and a
// browser's event stream closed at once. Every read now answers with the
// journey without that answer, and its next write converts the record
// without it.
func TestAJourneyStoredWithAnAnswerWithoutAValueReadsWithoutIt(t *testing.T) {
	h := start(t, redisStore)
	good := newJourney(t, h, "c-42")
	bad := newJourney(t, h, "c-42")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	// Watches open before the bad save get it as a published change. Both
	// callers' reads are not audited, so every later event is a change.
	grpcWatch, err := h.api.WatchJourney(as(t, websiteToken), &handoffv1.WatchJourneyRequest{Name: bad.GetName()})
	require.NoError(t, err)
	snapshot, err := grpcWatch.Recv()
	require.NoError(t, err)
	require.True(t, snapshot.GetSnapshot())
	events := sseLines(ctx, t, h.base+"/v1/"+bad.GetName()+":watch", c42Token, "")
	require.Contains(t, nextEvent(t, events), fmt.Sprintf("id: %d", bad.GetRevision()))

	// Save as the release before the fix did: its store checked no answers
	// and kept the journey as one protobuf body, beside its etag and
	// revision; it logged and published the whole journey.
	none, red := &structpb.Value{}, structpb.NewStringValue("red")
	list := func(vs ...*structpb.Value) *structpb.Value {
		return structpb.NewListValue(&structpb.ListValue{Values: vs})
	}
	old := proto.CloneOf(bad)
	old.Data = &structpb.Struct{Fields: map[string]*structpb.Value{
		"colour": none,
		"vehicle": structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			"plate": structpb.NewStringValue("AB-123-C"), "colour": none, "colours": list(red, none),
		}}),
		"owners": list(none, list(red, none), red),
	}}
	old.Step = "driver"
	old.UpdateTime = timestamppb.Now()
	stored := writeV1Journey(t, h, old, bad.GetRevision()+1, "2")

	// What every read shows: each answer that has a value, where it was.
	want := map[string]any{
		"vehicle": map[string]any{"plate": "AB-123-C", "colours": []any{"red"}},
		"owners":  []any{[]any{"red"}, "red"},
	}
	wantData, err := structpb.NewStruct(want)
	require.NoError(t, err)
	requireData := func(t *testing.T, j *handoffv1.Journey) {
		t.Helper()
		require.True(t, proto.Equal(wantData, j.GetData()), "answers: %v", j.GetData())
	}
	requireJSONData := func(t *testing.T, j any) {
		t.Helper()
		require.Equal(t, want, j.(map[string]any)["data"])
	}

	// What the first watch has seen of the journey, change by change.
	var seen *handoffv1.Journey
	t.Run("watches_open_before_get_the_change_without_the_answers", func(t *testing.T) {
		c, err := grpcWatch.Recv()
		require.NoError(t, err)
		seen = c.GetJourney()
		require.Equal(t, stored.GetRevision(), c.GetRevision())
		require.True(t, c.GetSnapshot(), "a whole journey of the previous release arrives as the journey as it is")
		requireData(t, c.GetJourney())
		ev := nextEvent(t, events)
		require.Contains(t, ev, fmt.Sprintf("id: %d", stored.GetRevision()))
		requireJSONData(t, eventJSON(t, ev)["journey"])
	})

	t.Run("get_over_rest_and_grpc_answers_without_them", func(t *testing.T) {
		for _, token := range []string{c42Token, aliceToken, websiteToken} {
			status, j := h.rest(t, "GET", "/v1/"+bad.GetName(), token, nil)
			require.Equal(t, http.StatusOK, status, "%v", j)
			requireJSONData(t, j)
			got, err := h.api.GetJourney(as(t, token), &handoffv1.GetJourneyRequest{Name: bad.GetName()})
			require.NoError(t, err)
			requireData(t, got)
		}
	})

	t.Run("the_customers_list_over_rest_and_grpc_holds_every_journey", func(t *testing.T) {
		for _, token := range []string{c42Token, aliceToken} {
			status, body := h.rest(t, "GET", "/v1/customers/c-42/journeys", token, nil)
			require.Equal(t, http.StatusOK, status, "%v", body)
			byName := map[string]any{}
			for _, j := range body["journeys"].([]any) {
				byName[j.(map[string]any)["name"].(string)] = j
			}
			require.Len(t, byName, 2)
			requireJSONData(t, byName[bad.GetName()])
			require.Equal(t, good.GetData().AsMap(), byName[good.GetName()].(map[string]any)["data"])

			resp, err := h.api.ListJourneys(as(t, token), &handoffv1.ListJourneysRequest{Parent: "customers/c-42"})
			require.NoError(t, err)
			require.Len(t, resp.GetJourneys(), 2)
			for _, j := range resp.GetJourneys() {
				if j.GetName() == bad.GetName() {
					requireData(t, j)
				} else {
					require.True(t, proto.Equal(good.GetData(), j.GetData()))
				}
			}
		}
	})

	// From just before the bad save, a watch replays it from the change
	// log; from nothing, it starts with the journey as it is.
	for _, after := range []int64{stored.GetRevision() - 1, 0} {
		what := "a_new_watch_starts_with_the_journey"
		if after > 0 {
			what = "a_watch_resumed_before_the_change_replays_it"
		}
		t.Run(what+"_without_the_answers_over_grpc_sse_and_ndjson", func(t *testing.T) {
			wctx, stop := context.WithCancel(ctx)
			defer stop()
			w, err := h.api.WatchJourney(as(t, aliceToken, "x-handoff-channel", "phone"), &handoffv1.WatchJourneyRequest{Name: bad.GetName(), AfterRevision: after})
			require.NoError(t, err)
			c, err := w.Recv()
			require.NoError(t, err)
			require.True(t, c.GetSnapshot())
			requireData(t, c.GetJourney())

			lastID := ""
			if after > 0 {
				lastID = fmt.Sprint(after)
			}
			ev := nextEvent(t, sseLines(wctx, t, h.base+"/v1/"+bad.GetName()+":watch", c42Token, lastID))
			requireJSONData(t, eventJSON(t, ev)["journey"])

			line := firstLine(wctx, t, fmt.Sprintf("%s/v1/%s:watch?afterRevision=%d", h.base, bad.GetName(), after), c42Token)
			require.Contains(t, line, "result", "%s", line)
			requireJSONData(t, line["result"].(map[string]any)["journey"])
		})
	}

	t.Run("redeem_over_rest_and_grpc_resumes_the_journey_without_them", func(t *testing.T) {
		offer, err := h.api.HandoffJourney(as(t, websiteToken), &handoffv1.HandoffJourneyRequest{Name: bad.GetName()})
		require.NoError(t, err)
		status, j := h.rest(t, "POST", "/v1/handoffs/"+offer.GetCode()+":redeem", aliceToken, map[string]any{}, "X-Handoff-Channel", "phone")
		require.Equal(t, http.StatusOK, status, "%v", j)
		require.Equal(t, "alice", j["assignee"])
		requireJSONData(t, j)

		offer, err = h.api.HandoffJourney(as(t, websiteToken), &handoffv1.HandoffJourneyRequest{Name: bad.GetName()})
		require.NoError(t, err)
		resumed, err := h.api.RedeemHandoff(as(t, aliceToken), &handoffv1.RedeemHandoffRequest{Code: offer.GetCode()})
		require.NoError(t, err)
		require.Equal(t, "alice", resumed.GetAssignee())
		requireData(t, resumed)
	})

	t.Run("the_customer_saves_on_and_the_watches_open_before_see_it", func(t *testing.T) {
		status, j := h.rest(t, "PATCH", "/v1/"+bad.GetName(), c42Token, map[string]any{"step": "cover"})
		require.Equal(t, http.StatusOK, status, "%v", j)
		requireJSONData(t, j)
		// Every change since (views, redeems, this save) reached both
		// watches, which kept the journey without the answers: neither
		// stream ended.
		for c, err := grpcWatch.Recv(); ; c, err = grpcWatch.Recv() {
			require.NoError(t, err)
			seen, err = delta.Apply(seen, c)
			require.NoError(t, err)
			requireData(t, seen)
			if seen.GetStep() == "cover" {
				break
			}
		}
		for {
			change := eventJSON(t, nextEvent(t, events))
			if change["snapshot"] == true {
				requireJSONData(t, change["journey"])
			}
			if slices.Contains(change["changedPaths"].([]any), "step") && change["journey"].(map[string]any)["step"] == "cover" {
				break
			}
		}
	})
}

// writeV1Journey replaces the record of j (a journey handoffd made) with a
// record of the release before layout v2, at revision and etag: the journey
// without either as a protobuf body, beside `rev` and `seq`; a change log
// holding that change whole; and the change published as that release
// wrote it.
// It returns j as stored.
func writeV1Journey(t *testing.T, h *harness, j *handoffv1.Journey, revision int64, etag string) *handoffv1.Journey {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: h.redis.Addr()})
	defer rdb.Close()
	key, err := store.ParseJourneyName(j.GetName())
	require.NoError(t, err)
	stored := proto.CloneOf(j)
	stored.Etag, stored.Revision = "", 0
	body, err := proto.Marshal(stored)
	require.NoError(t, err)
	stored.Etag, stored.Revision = etag, revision
	change, err := proto.Marshal(&handoffv1.JourneyChange{Revision: revision, Journey: stored})
	require.NoError(t, err)
	prefix := config.Default().RedisKeyPrefix + "{" + key.Customer + "}:"
	ctx := t.Context()
	_, err = rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, prefix+"j:"+key.Journey, prefix+"log:"+key.Journey)
		p.HSet(ctx, prefix+"j:"+key.Journey, "rev", etag, "seq", revision, "body", body)
		p.Expire(ctx, prefix+"j:"+key.Journey, time.Hour)
		p.RPush(ctx, prefix+"log:"+key.Journey, change)
		p.Expire(ctx, prefix+"log:"+key.Journey, time.Hour)
		// That release published on one global channel, which this one no
		// longer hears (docs/watch.md, "Upgrading"); what is checked here is
		// its record, so it goes where a watcher of the journey listens.
		p.SPublish(ctx, prefix+"ch:"+key.Journey, change)
		return nil
	})
	require.NoError(t, err)
	return stored
}

// nextEvent is the next event of an event stream, failing the test if the
// stream ends or stays silent.
func nextEvent(t *testing.T, events <-chan string) string {
	t.Helper()
	select {
	case ev, ok := <-events:
		require.True(t, ok, "the event stream ended")
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
		return ""
	}
}

// eventJSON decodes the data line of an event stream's change event.
func eventJSON(t *testing.T, ev string) map[string]any {
	t.Helper()
	for line := range strings.SplitSeq(ev, "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var out map[string]any
			require.NoError(t, json.Unmarshal([]byte(data), &out), "%s", data)
			return out
		}
	}
	t.Fatalf("no data in event %q", ev)
	return nil
}

// firstLine is the first line of a REST watch (newline-delimited JSON), as
// a client without EventSource reads it.
func firstLine(ctx context.Context, t *testing.T, url, token string) map[string]any {
	t.Helper()
	req, err := newRequest(ctx, url, token)
	require.NoError(t, err)
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(nil, 1<<20)
	require.True(t, lines.Scan(), "the watch ended without a line: %v", lines.Err())
	var out map[string]any
	require.NoError(t, json.Unmarshal(lines.Bytes(), &out), "%s", lines.Bytes())
	return out
}
