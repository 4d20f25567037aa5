package redis_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/redis"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

// An upgrade loses nothing: Redis as the release before layout v2 left it
// (v1 records holding a protobuf body, whole journeys in the change logs,
// codes made before codes were listed with their journey) is read and
// written by this release without a migration step. The dump was written
// by that release's own store (see testdata/README.md), so this tests the
// bytes a live deployment holds, not our idea of them.

// upgradeDeployment is one way the previous release ran: in clear, or
// sealing with the dump's test key.
type upgradeDeployment struct {
	name     string
	recorded string // the prefix the dump's keys were written under
	sealed   bool
}

var upgradeDeployments = []upgradeDeployment{
	{"a_deployment_in_clear", "handoff:", false},
	{"a_sealing_deployment", "sealed:", true},
}

// The dump's journeys.
var (
	quoteKey   = store.JourneyKey{Customer: "c-1", Journey: "quote"}
	bookingKey = store.JourneyKey{Customer: "c-1", Journey: "booking"}
	renewalKey = store.JourneyKey{Customer: "c-1", Journey: "renewal"}
	homeKey    = store.JourneyKey{Customer: "c-2", Journey: "home"}
	v1Journeys = []store.JourneyKey{quoteKey, bookingKey, renewalKey, homeKey}
)

// open loads the dump's keys of dep under a fresh prefix and returns a
// store of this release on them, with the deployment's defaults (a 30-day
// TTL, the default change log), and what the previous release read there.
func (dep upgradeDeployment) open(t *testing.T, d *v1Dump) (*redis.Store, string, v1Expect) {
	t.Helper()
	var s *redis.Store
	var prefix string
	if dep.sealed {
		s, prefix = sealedStore(t, "", d.keyring(t), storetest.Options{})
	} else {
		s, prefix = newStore(t, storetest.Options{})
	}
	d.restore(t, client, dep.recorded, prefix)
	e, ok := d.Expect[dep.recorded]
	require.True(t, ok, "%s has no expectations for %q", v1DumpFile, dep.recorded)
	return s, prefix, e
}

func TestUpgradeFromV1Reads(t *testing.T) {
	d := readV1Dump(t)
	for _, dep := range upgradeDeployments {
		t.Run(dep.name, func(t *testing.T) {
			t.Run("every_journey_reads_as_the_previous_release_read_it", func(t *testing.T) {
				s, _, e := dep.open(t, d)
				for _, key := range v1Journeys {
					got, err := s.GetJourney(t.Context(), key)
					require.NoError(t, err, key.Name())
					requireProtoEqual(t, e.journey(t, key.Name()), got)
				}
			})

			t.Run("the_recorded_journeys_are_the_scenario_the_readme_describes", func(t *testing.T) {
				// So a dump made again by mistake from another scenario
				// cannot pass the other subtests by comparing with itself.
				s, _, _ := dep.open(t, d)
				now := time.Now()
				get := func(k store.JourneyKey) *handoffv1.Journey {
					j, err := s.GetJourney(t.Context(), k)
					require.NoError(t, err)
					return j
				}
				quote := get(quoteKey)
				require.Equal(t, "cover", quote.GetStep())
				require.Equal(t, handoffv1.JourneyState_JOURNEY_STATE_ACTIVE, quote.GetState())
				require.Equal(t, 20, countLeaves(quote.GetData()), "the benchmark's 20 answers")
				require.Equal(t, 500.0, quote.GetData().GetFields()["cover"].GetStructValue().GetFields()["excess"].GetNumberValue())
				require.Equal(t, "alice", quote.GetAssignee())
				require.Equal(t, "Alice", quote.GetAssigneeDisplayName())
				require.True(t, quote.GetClaimExpireTime().AsTime().After(now), "alice's claim holds")
				require.Positive(t, quote.GetRevision())

				booking := get(bookingKey)
				require.Equal(t, "room", booking.GetStep())
				require.NotContains(t, booking.GetData().GetFields(), "extras", "the answer without a value")
				require.Len(t, booking.GetData().GetFields()["guests"].GetListValue().GetValues(), 3)
				require.NotNil(t, booking.GetData().GetFields()["preferences"].GetStructValue(), "an empty object")
				require.NotNil(t, booking.GetData().GetFields()["comment"].GetKind(), "a null")

				require.Equal(t, handoffv1.JourneyState_JOURNEY_STATE_COMPLETED, get(renewalKey).GetState())

				home := get(homeKey)
				require.Equal(t, "bob", home.GetAssignee())
				require.True(t, home.GetClaimExpireTime().AsTime().Before(now), "bob's claim lapsed")
			})

			t.Run("the_answer_without_a_value_is_in_the_record_and_dropped_on_read", func(t *testing.T) {
				s, prefix, e := dep.open(t, d)
				require.Equal(t, []string{"extras"}, e.Journeys[bookingKey.Name()].Kindless)
				body, err := client.HGet(t.Context(), prefix+"{c-1}:j:booking", "body").Bytes()
				require.NoError(t, err)
				if dep.sealed {
					body, err = d.keyring(t).Open(body, []byte(bookingKey.Name()))
					require.NoError(t, err)
				}
				var v1 handoffv1.Journey
				require.NoError(t, proto.Unmarshal(body, &v1))
				extras, ok := v1.GetData().GetFields()["extras"]
				require.True(t, ok, "the v1 body holds the answer")
				require.Nil(t, extras.GetKind(), "without a value")

				got, err := s.GetJourney(t.Context(), bookingKey)
				require.NoError(t, err)
				delete(v1.Data.Fields, "extras")
				requireProtoEqual(t, v1.GetData(), got.GetData())
			})

			t.Run("each_customer's_list_holds_every_journey_newest_first", func(t *testing.T) {
				s, _, e := dep.open(t, d)
				for customer, want := range e.Lists {
					page, next, err := s.ListJourneys(t.Context(), customer, store.ListJourneysQuery{Limit: 100})
					require.NoError(t, err, customer)
					require.Nil(t, next)
					require.Equal(t, want, names(page))
					for i, j := range page {
						requireProtoEqual(t, e.journey(t, want[i]), j)
					}
				}
				require.Len(t, e.Lists["c-1"], 3)
				require.Len(t, e.Lists["c-2"], 1)

				// Pages and the state filter walk the v1 index as before.
				page, next, err := s.ListJourneys(t.Context(), "c-1", store.ListJourneysQuery{Limit: 2})
				require.NoError(t, err)
				require.Equal(t, e.Lists["c-1"][:2], names(page))
				require.NotNil(t, next)
				page, next, err = s.ListJourneys(t.Context(), "c-1", store.ListJourneysQuery{Limit: 2, After: next})
				require.NoError(t, err)
				require.Equal(t, e.Lists["c-1"][2:], names(page))
				require.Nil(t, next)
				page, _, err = s.ListJourneys(t.Context(), "c-1", store.ListJourneysQuery{Limit: 10, State: handoffv1.JourneyState_JOURNEY_STATE_COMPLETED})
				require.NoError(t, err)
				require.Equal(t, []string{renewalKey.Name()}, names(page))
			})

			t.Run("every_timeline_reads_in_full_with_names_and_notes", func(t *testing.T) {
				s, _, e := dep.open(t, d)
				notes := map[string]bool{}
				for _, key := range v1Journeys {
					want := e.touchpoints(t, key.Name())
					require.NotEmpty(t, want)
					got, more, err := s.ListTouchpoints(t.Context(), key, 0, 100)
					require.NoError(t, err, key.Name())
					require.False(t, more)
					require.Len(t, got, len(want), key.Name())
					for i := range want {
						require.Equal(t, store.TouchpointName(key, i+1), got[i].GetName())
						requireProtoEqual(t, want[i], got[i])
						if n := got[i].GetNote(); n != "" {
							notes[n] = true
						}
					}
					// A page from the middle is named by its positions.
					page, more, err := s.ListTouchpoints(t.Context(), key, 1, 1)
					require.NoError(t, err)
					require.Equal(t, len(want) > 2, more)
					require.Equal(t, store.TouchpointName(key, 2), page[0].GetName())
				}
				require.Equal(t, map[string]bool{
					"would like to talk about the excess": true,
					"calling back after lunch":            true,
					"renewed for 2027":                    true,
				}, notes)
			})

			t.Run("a_v1_change_log_reads_as_snapshots", func(t *testing.T) {
				s, _, e := dep.open(t, d)
				for _, key := range v1Journeys {
					want := e.changes(t, key.Name())
					cur := e.journey(t, key.Name())
					require.Len(t, want, int(cur.GetRevision()), "the log holds every change")

					got, complete, err := s.ChangesSince(t.Context(), key, 0)
					require.NoError(t, err, key.Name())
					require.True(t, complete)
					require.Len(t, got, len(want))
					for i := range want {
						// A v1 change holds the whole journey: it is delivered
						// as a snapshot, and otherwise as it was logged.
						want[i].Snapshot = true
						requireProtoEqual(t, want[i], got[i])
					}
					requireProtoEqual(t, cur, got[len(got)-1].GetJourney())

					got, complete, err = s.ChangesSince(t.Context(), key, cur.GetRevision()-1)
					require.NoError(t, err)
					require.True(t, complete)
					require.Len(t, got, 1)
					require.Equal(t, cur.GetRevision(), got[0].GetRevision())

					got, complete, err = s.ChangesSince(t.Context(), key, cur.GetRevision())
					require.NoError(t, err)
					require.True(t, complete, "nothing was missed")
					require.Empty(t, got)
				}
			})

			t.Run("the_live_code_redeems_once_to_its_journey_and_the_used_one_never", func(t *testing.T) {
				s, _, e := dep.open(t, d)
				require.NotEmpty(t, e.LiveCode)
				_, err := s.RedeemHandoffCode(t.Context(), e.UsedCode)
				require.ErrorIs(t, err, store.ErrNotFound, "redeemed before the upgrade")
				got, err := s.RedeemHandoffCode(t.Context(), e.LiveCode)
				require.NoError(t, err)
				require.Equal(t, quoteKey, got)
				_, err = s.RedeemHandoffCode(t.Context(), e.LiveCode)
				require.ErrorIs(t, err, store.ErrNotFound, "used once")
			})

			t.Run("a_create_retried_with_a_request_id_from_before_gets_that_journey", func(t *testing.T) {
				s, _, e := dep.open(t, d)
				retry := newJourney(store.JourneyKey{Customer: "c-1", Journey: "quote-again"}, time.Now())
				got, created, err := s.CreateJourney(t.Context(), retry, touchpoint("vehicle"), e.RequestID)
				require.NoError(t, err)
				require.False(t, created)
				requireProtoEqual(t, e.journey(t, quoteKey.Name()), got)
			})
		})
	}
}

func names(js []*handoffv1.Journey) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.GetName()
	}
	return out
}

// countLeaves counts the answers as the v2 record keeps them: one per leaf.
func countLeaves(s *structpb.Struct) int {
	n := 0
	for _, v := range s.GetFields() {
		if obj := v.GetStructValue(); len(obj.GetFields()) > 0 {
			n += countLeaves(obj)
			continue
		}
		n++
	}
	return n
}

func requireProtoEqual(t *testing.T, want, got proto.Message) {
	t.Helper()
	require.True(t, proto.Equal(want, got), "want %v\n got %v", fmt.Sprint(want), fmt.Sprint(got))
}
