package redis_test

import (
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/sealing"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/redis"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

func sealingKey(t *testing.T, id string) sealing.Key {
	t.Helper()
	b := make([]byte, sealing.KeySize)
	_, _ = rand.Read(b)
	return sealing.Key{ID: id, Secret: b}
}

func keyring(t *testing.T, keys ...sealing.Key) *sealing.Keyring {
	t.Helper()
	r, err := sealing.New(keys...)
	require.NoError(t, err)
	return r
}

// sealedStore is a store on the shared server that seals with ring, under
// prefix ("" for a fresh one).
func sealedStore(t *testing.T, prefix string, ring *sealing.Keyring, o storetest.Options) (*redis.Store, string) {
	t.Helper()
	if prefix == "" {
		prefix = fmt.Sprintf("test%d:", prefixes.Add(1))
	}
	opts := append(optionsOf(o), redis.WithKeyPrefix(prefix))
	if ring != nil {
		opts = append(opts, redis.WithSealer(ring))
	}
	s := redis.New(client, opts...)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, prefix
}

func TestConformanceSealed(t *testing.T) {
	ring := keyring(t, sealingKey(t, "k1"))
	storetest.Run(t, func(t *testing.T, o storetest.Options) store.Store {
		s, _ := sealedStore(t, "", ring, o)
		return s
	})
}

// Answers and a note that must never appear in clear text in Redis.
var secrets = []string{"AB-123-CD", "Jane Doe-Secretname", "12 Privet Drive", "called about the scratched bumper"}

func answers(t *testing.T) *structpb.Struct {
	t.Helper()
	data, err := structpb.NewStruct(map[string]any{
		"vehicle": map[string]any{"plate": secrets[0]},
		"driver":  secrets[1],
	})
	require.NoError(t, err)
	return data
}

// writeStory creates a journey with answers, saves a further answer with
// a touchpoint carrying a note, and returns the journey.
func writeStory(t *testing.T, s store.Store, key store.JourneyKey) *handoffv1.Journey {
	t.Helper()
	ctx := t.Context()
	j := newJourney(key, time.Now())
	j.Data = answers(t)
	_, ok, err := s.CreateJourney(ctx, j, touchpoint("start"), "req-1")
	require.NoError(t, err)
	require.True(t, ok)
	noted := touchpoint("address")
	noted.Note = secrets[3]
	j, err = s.SaveJourney(ctx, store.Save{
		Key: key, UpdateTime: time.Now(), SetStep: true, Step: "address", Touchpoint: noted, WantJourney: true,
		Answers: []store.AnswerChange{{Path: "address", Value: structpb.NewStringValue(secrets[2])}},
		Limits:  store.AnswerLimits{Answers: 100, Bytes: 10000},
	})
	require.NoError(t, err)
	return j
}

// rawValues is every value under prefix, whatever the key's type.
func rawValues(t *testing.T, prefix string) map[string][]string {
	t.Helper()
	ctx := t.Context()
	keys, err := client.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	out := map[string][]string{}
	for _, k := range keys {
		typ, err := client.Type(ctx, k).Result()
		require.NoError(t, err)
		var vals []string
		switch typ {
		case "string":
			v, err := client.Get(ctx, k).Result()
			require.NoError(t, err)
			vals = []string{v}
		case "hash":
			h, err := client.HGetAll(ctx, k).Result()
			require.NoError(t, err)
			for f, v := range h {
				vals = append(vals, f, v)
			}
		case "list":
			vals, err = client.LRange(ctx, k, 0, -1).Result()
			require.NoError(t, err)
		case "set":
			vals, err = client.SMembers(ctx, k).Result()
			require.NoError(t, err)
		case "zset":
			vals, err = client.ZRange(ctx, k, 0, -1).Result()
			require.NoError(t, err)
		default:
			t.Fatalf("key %s has unexpected type %s", k, typ)
		}
		out[k] = vals
	}
	return out
}

func TestSealedValuesHoldNoAnswerInClearText(t *testing.T) {
	ring := keyring(t, sealingKey(t, "k1"))
	s, prefix := sealedStore(t, "", ring, storetest.Options{TTL: time.Hour})
	ctx := t.Context()
	key := store.JourneyKey{Customer: "c1", Journey: "j1"}

	// What the channel carries must be sealed too.
	ps := client.SSubscribe(ctx, prefix+"{c1}:ch:j1")
	defer ps.Close()
	_, err := ps.Receive(ctx)
	require.NoError(t, err)

	j := writeStory(t, s, key)
	err = s.CreateHandoffCode(ctx, "SEALED1", key, time.Now().Add(time.Minute), store.CodeLimits{Live: 1, Made: 1})
	require.NoError(t, err)

	raw := rawValues(t, prefix)
	require.Contains(t, raw, prefix+"{c1}:j:j1")
	require.Contains(t, raw, prefix+"{c1}:t:j1")
	require.Contains(t, raw, prefix+"{c1}:log:j1")
	for k, vals := range raw {
		for _, v := range vals {
			for _, secret := range secrets {
				require.NotContains(t, v, secret, "key %s", k)
			}
		}
	}
	for range 2 {
		msg, err := ps.ReceiveMessage(ctx)
		require.NoError(t, err)
		for _, secret := range secrets {
			require.NotContains(t, msg.Payload, secret, "published change")
		}
	}
	// The scripts' checks stay in clear text.
	h, err := client.HGetAll(ctx, prefix+"{c1}:j:j1").Result()
	require.NoError(t, err)
	require.Equal(t, "2", h["rev"])
	require.Equal(t, "2", h["seq"])
	for _, f := range []string{"d:address", "d:driver", "d:vehicle.plate"} {
		require.Regexp(t, `^\d+(\.\d+)?:\d+:hs1:k1:`, h[f], "answer %s: etag, writer and size clear, the value sealed", f)
	}

	// And everything reads back.
	got, err := s.GetJourney(ctx, key)
	require.NoError(t, err)
	require.Equal(t, secrets[2], got.GetData().GetFields()["address"].GetStringValue())
	require.Equal(t, j.GetRevision(), got.GetRevision())
	tps, _, err := s.ListTouchpoints(ctx, key, 0, 10)
	require.NoError(t, err)
	require.Len(t, tps, 2)
	require.Equal(t, secrets[3], tps[1].GetNote())
	require.Equal(t, store.TouchpointName(key, 2), tps[1].GetName())
	changes, complete, err := s.ChangesSince(ctx, key, 1)
	require.NoError(t, err)
	require.True(t, complete)
	require.Len(t, changes, 1)
	require.Equal(t, secrets[3], changes[0].GetTouchpoints()[0].GetNote())
	require.Equal(t, store.TouchpointName(key, 2), changes[0].GetTouchpoints()[0].GetName())
	require.Equal(t, secrets[2], changes[0].GetJourney().GetData().GetFields()["address"].GetStringValue())
	list, _, err := s.ListJourneys(ctx, "c1", store.ListJourneysQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, secrets[0], list[0].GetData().GetFields()["vehicle"].GetStructValue().GetFields()["plate"].GetStringValue())
}

func TestASealedValueCopiedToAnotherJourneyDoesNotOpenThere(t *testing.T) {
	ring := keyring(t, sealingKey(t, "k1"))
	s, prefix := sealedStore(t, "", ring, storetest.Options{TTL: time.Hour})
	ctx := t.Context()
	victim := store.JourneyKey{Customer: "c1", Journey: "j1"}
	other := store.JourneyKey{Customer: "c2", Journey: "j2"}
	writeStory(t, s, victim)
	writeStory(t, s, other)
	copyValue := func(t *testing.T, from, to, field string) {
		t.Helper()
		if field != "" {
			v, err := client.HGet(ctx, from, field).Result()
			require.NoError(t, err)
			require.NoError(t, client.HSet(ctx, to, field, v).Err())
			return
		}
		v, err := client.LIndex(ctx, from, -1).Result()
		require.NoError(t, err)
		require.NoError(t, client.LSet(ctx, to, -1, v).Err())
	}

	t.Run("an_answer_copied_into_another_customers_journey_is_refused", func(t *testing.T) {
		copyValue(t, prefix+"{c1}:j:j1", prefix+"{c2}:j:j2", "d:address")
		_, err := s.GetJourney(ctx, other)
		require.ErrorIs(t, err, sealing.ErrCorrupt)
		// A listing may refuse or skip the journey; it must not show it.
		list, _, _ := s.ListJourneys(ctx, "c2", store.ListJourneysQuery{Limit: 10})
		for _, j := range list {
			require.NotEqual(t, secrets[2], j.GetData().GetFields()["address"].GetStringValue(), "c2 sees c1's answers")
		}
	})
	t.Run("an_answer_copied_to_another_path_of_its_journey_is_refused", func(t *testing.T) {
		v, err := client.HGet(ctx, prefix+"{c1}:j:j1", "d:address").Result()
		require.NoError(t, err)
		require.NoError(t, client.HSet(ctx, prefix+"{c1}:j:j1", "d:driver", v).Err())
		_, err = s.GetJourney(ctx, victim)
		require.ErrorIs(t, err, sealing.ErrCorrupt)
		require.NoError(t, client.HDel(ctx, prefix+"{c1}:j:j1", "d:driver").Err())
	})
	t.Run("a_touchpoint_copied_into_another_timeline_is_refused", func(t *testing.T) {
		copyValue(t, prefix+"{c1}:t:j1", prefix+"{c2}:t:j2", "")
		_, _, err := s.ListTouchpoints(ctx, other, 0, 10)
		require.ErrorIs(t, err, sealing.ErrCorrupt)
	})
	t.Run("a_change_copied_into_another_log_is_refused", func(t *testing.T) {
		copyValue(t, prefix+"{c1}:log:j1", prefix+"{c2}:log:j2", "")
		_, _, err := s.ChangesSince(ctx, other, 0)
		require.Error(t, err)
	})
	t.Run("the_victims_journey_still_opens", func(t *testing.T) {
		got, err := s.GetJourney(ctx, victim)
		require.NoError(t, err)
		require.Equal(t, secrets[2], got.GetData().GetFields()["address"].GetStringValue())
	})
}

func TestSealingKeyRotation(t *testing.T) {
	a, b := sealingKey(t, "a"), sealingKey(t, "b")
	ctx := t.Context()
	key := store.JourneyKey{Customer: "c1", Journey: "j1"}
	sa, prefix := sealedStore(t, "", keyring(t, a), storetest.Options{TTL: time.Hour})
	writeStory(t, sa, key)

	// Rotated: b seals, a still opens.
	sab, _ := sealedStore(t, prefix, keyring(t, a, b), storetest.Options{TTL: time.Hour})
	j, err := sab.GetJourney(ctx, key)
	require.NoError(t, err)
	require.Equal(t, secrets[2], j.GetData().GetFields()["address"].GetStringValue())
	tps, _, err := sab.ListTouchpoints(ctx, key, 0, 10)
	require.NoError(t, err)
	require.Equal(t, secrets[3], tps[1].GetNote())
	changes, _, err := sab.ChangesSince(ctx, key, 1)
	require.NoError(t, err)
	require.Len(t, changes, 1)

	_, err = sab.SaveJourney(ctx, store.Save{
		Key: key, UpdateTime: time.Now(), SetStep: true, Step: "rotated", Touchpoint: touchpoint("rotated"),
		Answers: []store.AnswerChange{{Path: "address", Value: structpb.NewStringValue(secrets[2])}},
		Limits:  store.AnswerLimits{Answers: 100, Bytes: 10000},
	})
	require.NoError(t, err)
	h, err := client.HGet(ctx, prefix+"{c1}:j:j1", "d:address").Result()
	require.NoError(t, err)
	require.Regexp(t, `^\d+\.\d+:\d+:hs1:b:`, h, "new writes are sealed with the current key")
	timeline, err := client.LRange(ctx, prefix+"{c1}:t:j1", 0, -1).Result()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(timeline[0], "hs1:a:"))
	require.True(t, strings.HasPrefix(timeline[2], "hs1:b:"))

	// With a rotated out, what it sealed fails clearly; what b sealed reads.
	sb, _ := sealedStore(t, prefix, keyring(t, b), storetest.Options{TTL: time.Hour})
	_, err = sb.GetJourney(ctx, key)
	require.ErrorIs(t, err, sealing.ErrUnknownKey, "answers a sealed are still there")
	_, _, err = sb.ListTouchpoints(ctx, key, 0, 10)
	require.ErrorIs(t, err, sealing.ErrUnknownKey)
	require.Contains(t, err.Error(), `"a"`)
	_, _, err = sb.ListTouchpoints(ctx, key, 2, 10)
	require.NoError(t, err)
	_, _, err = sb.ChangesSince(ctx, key, 0)
	require.ErrorIs(t, err, sealing.ErrUnknownKey)
	changes, complete, err := sb.ChangesSince(ctx, key, 2)
	require.NoError(t, err)
	require.True(t, complete)
	require.Equal(t, "rotated", changes[0].GetJourney().GetStep())

	// A store without keys refuses sealed values clearly.
	plain, _ := sealedStore(t, prefix, nil, storetest.Options{TTL: time.Hour})
	_, err = plain.GetJourney(ctx, key)
	require.ErrorContains(t, err, "no encryption keys are configured")
	_, _, err = plain.ChangesSince(ctx, key, 0)
	require.ErrorContains(t, err, "no encryption keys are configured")
}

func TestSealingNeedsNoMigration(t *testing.T) {
	ctx := t.Context()
	key := store.JourneyKey{Customer: "c1", Journey: "j1"}
	plain, prefix := sealedStore(t, "", nil, storetest.Options{TTL: time.Hour})
	j := writeStory(t, plain, key)

	sealed, _ := sealedStore(t, prefix, keyring(t, sealingKey(t, "k1")), storetest.Options{TTL: time.Hour})
	got, err := sealed.GetJourney(ctx, key)
	require.NoError(t, err)
	require.Equal(t, secrets[2], got.GetData().GetFields()["address"].GetStringValue())
	tps, _, err := sealed.ListTouchpoints(ctx, key, 0, 10)
	require.NoError(t, err)
	require.Equal(t, secrets[3], tps[1].GetNote())

	_, err = sealed.SaveJourney(ctx, store.Save{
		Key: key, IfEtag: j.GetEtag(), UpdateTime: time.Now(), SetStep: true, Step: "sealed", Touchpoint: touchpoint("sealed"),
		Limits: store.AnswerLimits{Answers: 100, Bytes: 10000},
	})
	require.NoError(t, err)
	changes, complete, err := sealed.ChangesSince(ctx, key, 1)
	require.NoError(t, err)
	require.True(t, complete)
	require.Len(t, changes, 2, "plain and sealed changes side by side")
	require.Equal(t, secrets[3], changes[0].GetTouchpoints()[0].GetNote())
	require.Equal(t, "sealed", changes[1].GetTouchpoints()[0].GetStep())
	require.Equal(t, store.TouchpointName(key, 3), changes[1].GetTouchpoints()[0].GetName())
}
