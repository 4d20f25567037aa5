package redis_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

// The store writes what it is given, and saves before the service refused
// kindless Values (gRPC's `value {}`) gave it some. Every read drops them,
// so each journey it returns can be written as JSON.
func TestEveryReadDropsAnswersWithoutAValue(t *testing.T) {
	stores := []struct {
		name  string
		store func(t *testing.T) store.Store
	}{
		{"a_clear_store", func(t *testing.T) store.Store { s, _ := newStore(t, storetest.Options{}); return s }},
		{"a_sealing_store", func(t *testing.T) store.Store {
			s, _ := sealedStore(t, "", keyring(t, sealingKey(t, "k1")), storetest.Options{})
			return s
		}},
	}
	none, red := &structpb.Value{}, structpb.NewStringValue("red")
	stored := &structpb.Struct{Fields: map[string]*structpb.Value{
		"plate":   structpb.NewStringValue("AB-123-C"),
		"colour":  none,
		"colours": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{none, red}}),
	}}
	want, err := structpb.NewStruct(map[string]any{"plate": "AB-123-C", "colours": []any{"red"}})
	require.NoError(t, err)
	requireReadable := func(t *testing.T, j *handoffv1.Journey) {
		t.Helper()
		require.True(t, proto.Equal(want, j.GetData()), "answers: %v", j.GetData())
		_, err := protojson.Marshal(j)
		require.NoError(t, err)
	}

	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s := st.store(t)
			rec, rs := storetest.NewRecorder(), &resyncs{}
			runSubscribe(t, s, rec, rs)
			rs.waitFor(t, 1)
			key := store.JourneyKey{Customer: "c", Journey: "j"}
			j, _, err := s.CreateJourney(t.Context(), newJourney(key, time.Now()), touchpoint("start"), "")
			require.NoError(t, err)
			j.Data = stored
			j, err = s.UpdateJourney(t.Context(), store.Update{Journey: j, ContentChanged: true, Touchpoints: []*handoffv1.Touchpoint{touchpoint("vehicle")}})
			require.NoError(t, err)

			t.Run("get_returns_the_journey_without_them", func(t *testing.T) {
				got, err := s.GetJourney(t.Context(), key)
				require.NoError(t, err)
				requireReadable(t, got)
			})
			t.Run("a_list_returns_it_without_them", func(t *testing.T) {
				got, _, err := s.ListJourneys(t.Context(), "c", store.ListJourneysQuery{Limit: 10})
				require.NoError(t, err)
				require.Len(t, got, 1)
				requireReadable(t, got[0])
			})
			t.Run("the_logged_change_reads_without_them", func(t *testing.T) {
				changes, complete, err := s.ChangesSince(t.Context(), key, j.GetRevision()-1)
				require.NoError(t, err)
				require.True(t, complete)
				require.Len(t, changes, 1)
				requireReadable(t, changes[0].GetJourney())
			})
			t.Run("the_published_change_arrives_without_them", func(t *testing.T) {
				rec.WaitFor(t, key, j.GetRevision())
				published := rec.Of(key)
				requireReadable(t, published[len(published)-1].GetJourney())
			})
		})
	}
}
