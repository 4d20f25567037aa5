package redis_test

import (
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/sealing"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

// Saves before the service refused kindless Values (gRPC's `value {}`)
// stored some in v1 records. Every read drops them, so each journey the
// store returns can be written as JSON, and converting the record leaves
// them behind.
func TestEveryReadDropsAnswersWithoutAValue(t *testing.T) {
	ring := keyring(t, sealingKey(t, "k1"))
	stores := []struct {
		name   string
		store  func(t *testing.T) (store.Store, string)
		sealer func(t *testing.T) (*sealing.Keyring, bool)
	}{
		{"a_clear_store",
			func(t *testing.T) (store.Store, string) { return newStore(t, storetest.Options{TTL: time.Hour}) },
			func(*testing.T) (*sealing.Keyring, bool) { return nil, false }},
		{"a_sealing_store",
			func(t *testing.T) (store.Store, string) {
				return sealedStore(t, "", ring, storetest.Options{TTL: time.Hour})
			},
			func(*testing.T) (*sealing.Keyring, bool) { return ring, true }},
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
			s, prefix := st.store(t)
			key := store.JourneyKey{Customer: "c", Journey: "j"}
			// A v1 record, as the release before layout v2 wrote one: the
			// journey without etag and revision as a protobuf body (sealed
			// by a sealing store), beside rev and seq.
			v1 := newJourney(key, time.Now())
			v1.Data = stored
			body, err := proto.Marshal(v1)
			require.NoError(t, err)
			if ring, ok := st.sealer(t); ok {
				body = ring.Seal(body, []byte(key.Name()))
			}
			k := prefix + "{c}:j:j"
			require.NoError(t, client.HSet(t.Context(), k, "rev", "3", "seq", "5", "body", body).Err())
			require.NoError(t, client.Expire(t.Context(), k, time.Hour).Err())
			require.NoError(t, client.ZAdd(t.Context(), prefix+"{c}:idx", goredis.Z{Member: fmt.Sprintf("%016x:j", v1.GetCreateTime().AsTime().UnixMicro())}).Err())

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
			t.Run("the_next_save_converts_the_record_without_them", func(t *testing.T) {
				saved, err := s.SaveJourney(t.Context(), store.Save{
					Key: key, UpdateTime: time.Now(), SetStep: true, Step: "cover", Touchpoint: touchpoint("cover"),
					Limits: store.AnswerLimits{Answers: 100, Bytes: 10000}, WantJourney: true,
				})
				require.NoError(t, err)
				requireReadable(t, saved)
				h, err := client.HGetAll(t.Context(), k).Result()
				require.NoError(t, err)
				require.Equal(t, "2", h["v"], "converted to the current layout")
				require.Equal(t, "4", h["rev"])
				got, err := s.GetJourney(t.Context(), key)
				require.NoError(t, err)
				requireReadable(t, got)
			})
		})
	}
}
