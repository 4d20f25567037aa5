package redis_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/delta"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/redis"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// One redis-server serves every test of the package; each store gets its own
// key prefix, so tests never see each other's keys. Tests that stop the
// server start their own.
var (
	server *testutil.Redis
	client *goredis.Client
	// mainT owns what lives as long as the test binary: the shared server,
	// and the shared cluster once a test asks for it (see onACluster).
	mainT = &mainTB{}
)

func TestMain(m *testing.M) {
	server = testutil.StartRedis(mainT)
	client = goredis.NewClient(&goredis.Options{Addr: server.Addr()})
	code := m.Run()
	_ = client.Close()
	mainT.cleanup()
	os.Exit(code)
}

var prefixes atomic.Int64

// newStore is a fresh store on the shared server.
func newStore(t *testing.T, o storetest.Options) (*redis.Store, string) {
	t.Helper()
	prefix := fmt.Sprintf("test%d:", prefixes.Add(1))
	s := redis.New(client, append(optionsOf(o), redis.WithKeyPrefix(prefix))...)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, prefix
}

// optionsOf are the options a suite case asks for.
func optionsOf(o storetest.Options) []redis.Option {
	opts := []redis.Option{redis.WithTTL(o.TTL), redis.WithChangeLog(o.ChangeLogEntries, 0), redis.WithTypeTTL(o.TypeTTL)}
	if o.Events != nil {
		opts = append(opts, redis.WithEvents(*o.Events))
	}
	if o.Writes != nil {
		opts = append(opts, redis.WithWrites(*o.Writes))
	}
	return opts
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, o storetest.Options) store.Store {
		s, _ := newStore(t, o)
		return s
	})
}

func TestStoreKeys(t *testing.T) {
	s, prefix := newStore(t, storetest.Options{TTL: time.Hour})
	ctx := t.Context()
	key := store.JourneyKey{Customer: "c1", Journey: "j1"}
	created := time.Now().Add(-time.Minute)

	j, ok, err := s.CreateJourney(ctx, newJourney(key, created), touchpoint("start"), "req-1")
	require.NoError(t, err)
	require.True(t, ok)
	asCreated := proto.CloneOf(j)
	j.Step = "cover"
	j.UpdateTime = timestamppb.Now()
	j, err = s.UpdateJourney(ctx, store.Update{Journey: j, ContentChanged: true, Touchpoints: []*handoffv1.Touchpoint{touchpoint("cover")}})
	require.NoError(t, err)
	j, err = s.UpdateJourney(ctx, store.Update{Journey: j, Touchpoints: []*handoffv1.Touchpoint{touchpoint("offer")}})
	require.NoError(t, err)
	require.Equal(t, "2", j.GetEtag())
	require.Equal(t, int64(3), j.GetRevision())
	all := []string{"{c1}:j:j1", "{c1}:t:j1", "{c1}:idx", "{c1}:req:req-1", "{c1}:log:j1"}

	t.Run("every_key_is_in_the_documented_layout", func(t *testing.T) {
		var keys []string
		iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		require.NoError(t, iter.Err())
		want := make([]string, len(all))
		for i, k := range all {
			want[i] = prefix + k
		}
		// The changes channel is no key: nothing else may show up.
		require.ElementsMatch(t, want, keys)
	})

	t.Run("keys_of_names_the_journey's_keys_in_the_layout", func(t *testing.T) {
		got := s.KeysOf(key)
		require.Equal(t, redis.JourneyKeys{
			Journey:  prefix + "{c1}:j:j1",
			Timeline: prefix + "{c1}:t:j1",
			Log:      prefix + "{c1}:log:j1",
			Index:    prefix + "{c1}:idx",
		}, got)
	})

	t.Run("every_key_expires", func(t *testing.T) {
		for _, k := range all {
			pttl, err := client.PTTL(ctx, prefix+k).Result()
			require.NoError(t, err)
			require.Positive(t, pttl, k)
		}
		at, err := client.PExpireTime(ctx, prefix+"{c1}:j:j1").Result()
		require.NoError(t, err)
		require.Equal(t, j.GetExpireTime().AsTime().UnixMilli(), at.Milliseconds())
	})

	t.Run("the_hash_holds_the_journey_field_by_field", func(t *testing.T) {
		h, err := client.HGetAll(ctx, prefix+"{c1}:j:j1").Result()
		require.NoError(t, err)
		require.Equal(t, "2", h["v"], "the layout version")
		require.Equal(t, "2", h["rev"])
		require.Equal(t, "3", h["seq"])
		require.Equal(t, "cover", h["step"])
		require.Equal(t, "2", h["sv"], "the etag at which the step changed")
		require.Equal(t, h["w1"], h["inc"], "the incarnation is the create's write id")
		require.NotEmpty(t, h["w2"])
		require.NotEmpty(t, h["w3"])
		require.Equal(t, fmt.Sprint(created.UnixMicro()), h["ct"])
		require.NotContains(t, h, "body")
	})

	t.Run("the_log_holds_each_change_as_a_delta_with_named_touchpoints", func(t *testing.T) {
		raw, err := client.LRange(ctx, prefix+"{c1}:log:j1", 0, -1).Result()
		require.NoError(t, err)
		require.Len(t, raw, 2, "the two updates; the create is announced, not logged")
		for _, r := range raw {
			require.True(t, strings.HasPrefix(r, "\x02"), "a change record")
		}
		changes, complete, err := s.ChangesSince(ctx, key, 1)
		require.NoError(t, err)
		require.True(t, complete)
		require.Len(t, changes, 2)
		rebuilt := asCreated
		for _, c := range changes {
			rebuilt, err = delta.Apply(rebuilt, c)
			require.NoError(t, err)
		}
		require.True(t, proto.Equal(j, rebuilt), "the changes, applied in turn, make the journey returned")
		last := changes[1]
		require.Equal(t, int64(3), last.GetRevision())
		require.NotContains(t, last.GetChangedPaths(), "data", "an update changes no answers")
		require.Len(t, last.GetTouchpoints(), 1)
		require.Equal(t, key.Name()+"/touchpoints/3", last.GetTouchpoints()[0].GetName())
		require.Equal(t, "offer", last.GetTouchpoints()[0].GetStep())
	})

	t.Run("the_timeline_stores_no_names_and_the_store_derives_them", func(t *testing.T) {
		raw, err := client.LRange(ctx, prefix+"{c1}:t:j1", 0, -1).Result()
		require.NoError(t, err)
		require.Len(t, raw, 3)
		for _, b := range raw {
			var tp handoffv1.Touchpoint
			require.NoError(t, proto.Unmarshal([]byte(b), &tp))
			require.Empty(t, tp.GetName())
		}
		tps, more, err := s.ListTouchpoints(ctx, key, 1, 5)
		require.NoError(t, err)
		require.False(t, more)
		require.Len(t, tps, 2)
		require.Equal(t, key.Name()+"/touchpoints/2", tps[0].GetName())
	})

	t.Run("the_index_member_is_the_create_time_in_hex_and_the_id", func(t *testing.T) {
		members, err := client.ZRangeWithScores(ctx, prefix+"{c1}:idx", 0, -1).Result()
		require.NoError(t, err)
		require.Len(t, members, 1)
		require.Equal(t, fmt.Sprintf("%016x:j1", created.UnixMicro()), members[0].Member)
		require.Zero(t, members[0].Score)
	})

	t.Run("the_index_expiry_never_moves_earlier", func(t *testing.T) {
		before, err := client.PExpireTime(ctx, prefix+"{c1}:idx").Result()
		require.NoError(t, err)
		old := store.JourneyKey{Customer: "c1", Journey: "old"}
		past := newJourney(old, time.Now().Add(-50*time.Minute))
		past.UpdateTime = past.GetCreateTime() // expires in 10 minutes
		_, _, err = s.CreateJourney(ctx, past, nil, "")
		require.NoError(t, err)
		after, err := client.PExpireTime(ctx, prefix+"{c1}:idx").Result()
		require.NoError(t, err)
		require.Equal(t, before, after)
	})
}

func TestStoreRedisBehaviour(t *testing.T) {
	t.Run("a_request_id_whose_journey_vanished_creates_a_new_journey", func(t *testing.T) {
		s, prefix := newStore(t, storetest.Options{TTL: time.Hour})
		ctx := t.Context()
		first := store.JourneyKey{Customer: "c", Journey: "first"}
		_, _, err := s.CreateJourney(ctx, newJourney(first, time.Now()), nil, "req")
		require.NoError(t, err)
		require.NoError(t, client.Del(ctx, prefix+"{c}:j:first").Err())

		second := store.JourneyKey{Customer: "c", Journey: "second"}
		got, created, err := s.CreateJourney(ctx, newJourney(second, time.Now()), nil, "req")
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, second.Name(), got.GetName())

		got, created, err = s.CreateJourney(ctx, newJourney(first, time.Now()), nil, "req")
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, second.Name(), got.GetName())
	})

	t.Run("expired_journeys_leave_the_index_when_a_list_meets_them", func(t *testing.T) {
		s, prefix := newStore(t, storetest.Options{TTL: 100 * time.Millisecond})
		ctx := t.Context()
		key := store.JourneyKey{Customer: "c", Journey: "j"}
		_, _, err := s.CreateJourney(ctx, newJourney(key, time.Now()), nil, "")
		require.NoError(t, err)
		// Keep the index alive past the journey, as a longer-lived journey
		// of the same customer would.
		require.NoError(t, client.PExpire(ctx, prefix+"{c}:idx", time.Hour).Err())
		time.Sleep(150 * time.Millisecond)

		page, next, err := s.ListJourneys(ctx, "c", store.ListJourneysQuery{Limit: 10})
		require.NoError(t, err)
		require.Empty(t, page)
		require.Nil(t, next)
		require.Zero(t, client.ZCard(ctx, prefix+"{c}:idx").Val())
	})

	t.Run("an_id_used_again_after_expiry_is_listed_once", func(t *testing.T) {
		s, prefix := newStore(t, storetest.Options{TTL: time.Hour})
		ctx := t.Context()
		key := store.JourneyKey{Customer: "c", Journey: "j"}
		_, _, err := s.CreateJourney(ctx, newJourney(key, time.Now().Add(-time.Minute)), nil, "")
		require.NoError(t, err)
		require.NoError(t, client.Del(ctx, prefix+"{c}:j:j").Err()) // as if expired
		_, _, err = s.CreateJourney(ctx, newJourney(key, time.Now()), nil, "")
		require.NoError(t, err)

		page, _, err := s.ListJourneys(ctx, "c", store.ListJourneysQuery{Limit: 10})
		require.NoError(t, err)
		require.Len(t, page, 1)
		require.Equal(t, int64(1), client.ZCard(ctx, prefix+"{c}:idx").Val())
	})

	t.Run("a_sparse_state_filter_reads_through_many_batches", func(t *testing.T) {
		s, _ := newStore(t, storetest.Options{TTL: time.Hour})
		ctx := t.Context()
		start := time.Now().Add(-time.Hour)
		for i := range 600 {
			j := newJourney(store.JourneyKey{Customer: "c", Journey: fmt.Sprintf("j%03d", i)}, start.Add(time.Duration(i)*time.Second))
			if i%200 == 0 {
				j.State = handoffv1.JourneyState_JOURNEY_STATE_COMPLETED
			}
			_, _, err := s.CreateJourney(ctx, j, nil, "")
			require.NoError(t, err)
		}
		q := store.ListJourneysQuery{State: handoffv1.JourneyState_JOURNEY_STATE_COMPLETED, Limit: 2}
		page, next, err := s.ListJourneys(ctx, "c", q)
		require.NoError(t, err)
		require.Equal(t, []string{"j400", "j200"}, ids(page))
		require.NotNil(t, next)

		q.After = next
		page, next, err = s.ListJourneys(ctx, "c", q)
		require.NoError(t, err)
		require.Equal(t, []string{"j000"}, ids(page))
		require.Nil(t, next)
	})

	t.Run("context_errors_stay_recognisable", func(t *testing.T) {
		s, _ := newStore(t, storetest.Options{TTL: time.Hour})
		cancelled, cancel := context.WithCancel(t.Context())
		cancel()
		expired, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
		defer cancel()
		for _, tc := range []struct {
			name        string
			ctx         context.Context
			want        error
			unavailable bool
		}{
			{"a_cancelled_call_is_cancelled_not_unavailable", cancelled, context.Canceled, false},
			{"a_call_past_its_deadline_is_unavailable_and_deadline_exceeded", expired, context.DeadlineExceeded, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.GetJourney(tc.ctx, store.JourneyKey{Customer: "c", Journey: "j"})
				require.ErrorIs(t, err, tc.want)
				require.Equal(t, tc.unavailable, errors.Is(err, store.ErrUnavailable), "%v", err)
			})
		}
	})
}

func newJourney(key store.JourneyKey, created time.Time) *handoffv1.Journey {
	return &handoffv1.Journey{
		Name:        key.Name(),
		JourneyType: "car-insurance-quote",
		State:       handoffv1.JourneyState_JOURNEY_STATE_ACTIVE,
		Step:        "start",
		Channel:     handoffv1.Channel_CHANNEL_WEB,
		CreateTime:  timestamppb.New(created),
		UpdateTime:  timestamppb.Now(),
	}
}

func touchpoint(step string) *handoffv1.Touchpoint {
	return &handoffv1.Touchpoint{
		Time:    timestamppb.Now(),
		Channel: handoffv1.Channel_CHANNEL_WEB,
		Kind:    handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED,
		Step:    step,
	}
}

func ids(js []*handoffv1.Journey) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.GetName()[strings.LastIndex(j.GetName(), "/")+1:]
	}
	return out
}

// mainTB lets TestMain start the shared server with testutil.StartRedis,
// which wants a testing.TB. It implements what StartRedis uses; the embedded
// nil TB makes any other call fail loudly.
type mainTB struct {
	testing.TB
	cleanups []func()
}

func (*mainTB) Helper() {}

func (tb *mainTB) Cleanup(f func()) { tb.cleanups = append(tb.cleanups, f) }

func (tb *mainTB) TempDir() string {
	dir, err := os.MkdirTemp("", "redis-store-test")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func (tb *mainTB) Fatal(args ...any) { tb.fail(fmt.Sprint(args...)) }

func (tb *mainTB) Fatalf(format string, args ...any) { tb.fail(fmt.Sprintf(format, args...)) }

func (tb *mainTB) fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	tb.cleanup()
	os.Exit(1)
}

func (tb *mainTB) cleanup() {
	for i := len(tb.cleanups) - 1; i >= 0; i-- {
		tb.cleanups[i]()
	}
	tb.cleanups = nil
}

func TestAWriteTooFewReplicasAcknowledgedFailsAsUnavailableThoughThePrimaryDidIt(t *testing.T) {
	// The shared server has no replica, so none can acknowledge.
	prefix := fmt.Sprintf("test%d:", prefixes.Add(1))
	s := redis.New(client, redis.WithKeyPrefix(prefix), redis.WithMinReplicasAck(1, 20*time.Millisecond))
	ctx := t.Context()
	key := store.JourneyKey{Customer: "c1", Journey: "j1"}

	_, _, err := s.CreateJourney(ctx, newJourney(key, time.Now()), touchpoint("start"), "")
	require.ErrorIs(t, err, store.ErrUnavailable)
	var notReplicated *redis.NotReplicatedError
	require.ErrorAs(t, err, &notReplicated)
	require.Equal(t, redis.NotReplicatedError{Acked: 0, Wanted: 1}, *notReplicated)

	j, err := s.GetJourney(ctx, key)
	require.NoError(t, err, "the primary holds the journey")
	err = s.CreateHandoffCode(ctx, "NOTREPL1", key, time.Now().Add(time.Minute), store.CodeLimits{Live: 1, Made: 1})
	require.ErrorAs(t, err, &notReplicated)
	_, err = s.UpdateJourney(ctx, store.Update{Journey: j, ContentChanged: true})
	require.ErrorAs(t, err, &notReplicated)

	// An erasure waits too: one acknowledged must not come back with a
	// replica that takes over.
	_, err = s.EraseCustomer(ctx, key.Customer)
	require.ErrorAs(t, err, &notReplicated)
	_, err = s.GetJourney(ctx, key)
	require.ErrorIs(t, err, store.ErrNotFound, "the primary erased the journey")
}
