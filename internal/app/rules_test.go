package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
)

func newJourney(t testing.TB, h *harness, customer string) *handoffv1.Journey {
	t.Helper()
	j, err := createJourney(t, h, customer)
	require.NoError(t, err)
	return j
}

// createJourney is newJourney's call, with its error.
func createJourney(t testing.TB, h *harness, customer string) (*handoffv1.Journey, error) {
	t.Helper()
	data, err := structpb.NewStruct(map[string]any{"vehicle": map[string]any{"plate": "AB-123-C"}})
	require.NoError(t, err)
	return h.api.CreateJourney(as(t, websiteToken), &handoffv1.CreateJourneyRequest{
		Parent:  "customers/" + customer,
		Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote", Step: "vehicle", Data: data},
	})
}

func requireCode(t *testing.T, err error, want codes.Code) *status.Status {
	t.Helper()
	st, ok := status.FromError(err)
	require.True(t, ok, "not a status: %v", err)
	require.Equal(t, want, st.Code(), "message: %s", st.Message())
	return st
}

// websiteTimeline reads a journey's whole timeline, page by page, as the
// website (whose reads leave no touchpoint).
func websiteTimeline(t *testing.T, h *harness, name string) []*handoffv1.Touchpoint {
	t.Helper()
	var all []*handoffv1.Touchpoint
	token := ""
	for {
		resp, err := h.api.ListTouchpoints(as(t, websiteToken), &handoffv1.ListTouchpointsRequest{Parent: name, PageSize: 1000, PageToken: token})
		require.NoError(t, err)
		all = append(all, resp.GetTouchpoints()...)
		if token = resp.GetNextPageToken(); token == "" {
			return all
		}
	}
}

func timeline(t *testing.T, h *harness, name string) []*handoffv1.Touchpoint {
	t.Helper()
	resp, err := h.api.ListTouchpoints(as(t, adminToken), &handoffv1.ListTouchpointsRequest{Parent: name, PageSize: 1000})
	require.NoError(t, err)
	return resp.GetTouchpoints()
}

func TestAHandoffCodeRedeemsOnceAndEveryFailureLooksTheSame(t *testing.T) {
	h := start(t, memoryStore, func(c *config.Config) { c.CodeTTL = 300 * time.Millisecond })
	j := newJourney(t, h, "c-42")
	used, err := h.api.HandoffJourney(as(t, websiteToken), &handoffv1.HandoffJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	expiring, err := h.api.HandoffJourney(as(t, websiteToken), &handoffv1.HandoffJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)

	got, err := h.api.RedeemHandoff(as(t, aliceToken), &handoffv1.RedeemHandoffRequest{Code: used.GetCode()})
	require.NoError(t, err)
	require.Equal(t, j.GetName(), got.GetName())
	time.Sleep(400 * time.Millisecond) // past the 300 ms code TTL

	var messages []string
	for _, tc := range []struct{ name, code string }{
		{"a_second_redeem", used.GetCode()},
		{"an_expired_code", expiring.GetCode()},
		{"an_unknown_code", "K7QM-X2HD"},
		{"a_mistyped_code", "K7QM-X2H"},
		{"an_absurdly_long_code", strings.Repeat("K7QM-", 100)},
		{"an_empty_code", ""},
	} {
		t.Run(tc.name+"_fails_with_not_found", func(t *testing.T) {
			_, err := h.api.RedeemHandoff(as(t, bobToken), &handoffv1.RedeemHandoffRequest{Code: tc.code})
			st := requireCode(t, err, codes.NotFound)
			messages = append(messages, st.Message())
		})
	}
	for _, m := range messages[1:] {
		require.Equal(t, messages[0], m, "every failed redeem must read alike")
	}
	cur, err := h.api.GetJourney(as(t, adminToken), &handoffv1.GetJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	require.Equal(t, "alice", cur.GetAssignee(), "failed redeems must not move the case")
}

func TestACustomerNeverReachesAnotherCustomersJourney(t *testing.T) {
	for _, kind := range []storeKind{memoryStore, redisStore} {
		t.Run(string(kind), func(t *testing.T) { customerIsolation(t, start(t, kind)) })
	}
}

func customerIsolation(t *testing.T, h *harness) {
	theirs := newJourney(t, h, "c-2")
	before := timeline(t, h, theirs.GetName())
	c1 := as(t, c1Token)
	data, _ := structpb.NewStruct(map[string]any{"vehicle": "stolen"})

	calls := []struct {
		name string
		call func() error
	}{
		{"get", func() error {
			_, err := h.api.GetJourney(c1, &handoffv1.GetJourneyRequest{Name: theirs.GetName()})
			return err
		}},
		{"list", func() error {
			_, err := h.api.ListJourneys(c1, &handoffv1.ListJourneysRequest{Parent: "customers/c-2"})
			return err
		}},
		{"save", func() error {
			_, err := h.api.UpdateJourney(c1, &handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{Name: theirs.GetName(), Data: data}})
			return err
		}},
		{"hand_off", func() error {
			_, err := h.api.HandoffJourney(c1, &handoffv1.HandoffJourneyRequest{Name: theirs.GetName()})
			return err
		}},
		{"complete", func() error {
			_, err := h.api.CompleteJourney(c1, &handoffv1.CompleteJourneyRequest{Name: theirs.GetName()})
			return err
		}},
		{"watch", func() error {
			stream, err := h.api.WatchJourney(c1, &handoffv1.WatchJourneyRequest{Name: theirs.GetName()})
			if err == nil {
				_, err = stream.Recv()
			}
			return err
		}},
		{"read_the_timeline", func() error {
			_, err := h.api.ListTouchpoints(c1, &handoffv1.ListTouchpointsRequest{Parent: theirs.GetName()})
			return err
		}},
		{"create_for_them", func() error {
			_, err := h.api.CreateJourney(c1, &handoffv1.CreateJourneyRequest{Parent: "customers/c-2", Journey: &handoffv1.Journey{JourneyType: "x"}})
			return err
		}},
	}
	missing := theirs.GetName() + "x"
	_, err := h.api.GetJourney(as(t, c2Token), &handoffv1.GetJourneyRequest{Name: missing})
	notThere := requireCode(t, err, codes.NotFound)
	for _, c := range calls {
		t.Run("customer_c-1_cannot_"+c.name, func(t *testing.T) {
			st := requireCode(t, c.call(), codes.NotFound)
			require.NotContains(t, st.Message(), "permission")
		})
	}
	t.Run("a_forbidden_journey_reads_like_a_missing_one", func(t *testing.T) {
		_, err := h.api.GetJourney(c1, &handoffv1.GetJourneyRequest{Name: missing})
		st := requireCode(t, err, codes.NotFound)
		_, err = h.api.GetJourney(c1, &handoffv1.GetJourneyRequest{Name: theirs.GetName()})
		forbidden := requireCode(t, err, codes.NotFound)
		require.Equal(t, notThere.Message(), st.Message())
		require.Equal(t, strings.ReplaceAll(notThere.Message(), missing, theirs.GetName()), forbidden.Message())
	})
	after, err := h.api.GetJourney(as(t, c2Token), &handoffv1.GetJourneyRequest{Name: theirs.GetName()})
	require.NoError(t, err)
	require.True(t, proto.Equal(theirs, after), "c-2's journey changed")
	require.Len(t, timeline(t, h, theirs.GetName()), len(before))
	list, err := h.api.ListJourneys(as(t, c2Token), &handoffv1.ListJourneysRequest{Parent: "customers/c-2"})
	require.NoError(t, err)
	require.Len(t, list.GetJourneys(), 1)
}

func TestConcurrentSaves(t *testing.T) {
	for _, kind := range []storeKind{memoryStore, redisStore} {
		t.Run(string(kind), func(t *testing.T) {
			h := start(t, kind)

			t.Run("two_saves_with_the_same_etag_let_exactly_one_win", func(t *testing.T) {
				j := newJourney(t, h, "c-42")
				errs := make(chan error, 2)
				for i := range 2 {
					go func() {
						_, err := h.api.UpdateJourney(as(t, websiteToken), &handoffv1.UpdateJourneyRequest{
							Journey:    &handoffv1.Journey{Name: j.GetName(), Step: fmt.Sprint("step-", i), Etag: j.GetEtag()},
							UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"step"}},
						})
						errs <- err
					}()
				}
				first, second := <-errs, <-errs
				if first != nil {
					first, second = second, first
				}
				require.NoError(t, first)
				requireCode(t, second, codes.Aborted)
				require.Len(t, timeline(t, h, j.GetName()), 2, "STARTED and one PROGRESS_SAVED")
			})

			t.Run("eight_writers_retrying_on_aborted_apply_all_800_saves", func(t *testing.T) {
				j := newJourney(t, h, "c-42")
				const writers, saves = 8, 100
				var wg sync.WaitGroup
				for w := range writers {
					wg.Go(func() {
						ctx := as(t, websiteToken)
						for n := range saves {
							save(ctx, t, h, j.GetName(), fmt.Sprintf("w%d", w), n)
						}
					})
				}
				wg.Wait()
				final, err := h.api.GetJourney(as(t, adminToken), &handoffv1.GetJourneyRequest{Name: j.GetName()})
				require.NoError(t, err)
				answers := final.GetData().AsMap()
				for w := range writers {
					require.Equal(t, float64(saves-1), answers[fmt.Sprintf("w%d", w)], "writer %d's last save", w)
				}
				saved := 0
				for _, tp := range timeline(t, h, j.GetName()) {
					if tp.GetKind() == handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED {
						saved++
					}
				}
				require.Equal(t, writers*saves, saved)
			})
		})
	}
}

// save writes answer key=n with the etag it read, retrying on ABORTED the
// way a website does: read again, reapply, save again.
func save(ctx context.Context, t *testing.T, h *harness, name, key string, n int) {
	for {
		cur, err := h.api.GetJourney(ctx, &handoffv1.GetJourneyRequest{Name: name})
		if err != nil {
			t.Error(err)
			return
		}
		_, err = h.api.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{
			Journey:    &handoffv1.Journey{Name: name, Etag: cur.GetEtag(), Data: &structpb.Struct{Fields: map[string]*structpb.Value{key: structpb.NewNumberValue(float64(n))}}},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"data." + key}},
		})
		if status.Code(err) == codes.Aborted {
			continue
		}
		if err != nil {
			t.Error(err)
		}
		return
	}
}

func TestStateAndClaimRules(t *testing.T) {
	h := start(t, memoryStore)
	phone := as(t, aliceToken, "x-handoff-channel", "phone")

	t.Run("a_second_agents_claim_fails_naming_the_holder", func(t *testing.T) {
		j := newJourney(t, h, "c-42")
		_, err := h.api.ClaimJourney(phone, &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		_, err = h.api.ClaimJourney(as(t, bobToken), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		st := requireCode(t, err, codes.FailedPrecondition)
		require.Contains(t, st.Message(), "alice")
	})
	t.Run("the_holder_releases_and_then_another_agent_can_claim", func(t *testing.T) {
		j := newJourney(t, h, "c-42")
		_, err := h.api.ClaimJourney(phone, &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		_, err = h.api.ReleaseJourney(as(t, bobToken), &handoffv1.ReleaseJourneyRequest{Name: j.GetName()})
		requireCode(t, err, codes.FailedPrecondition)
		_, err = h.api.ReleaseJourney(phone, &handoffv1.ReleaseJourneyRequest{Name: j.GetName(), Note: "customer will call back"})
		require.NoError(t, err)
		got, err := h.api.ClaimJourney(as(t, bobToken), &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		require.Equal(t, "bob", got.GetAssignee())
	})
	t.Run("an_agent_cannot_save_a_case_another_agent_holds", func(t *testing.T) {
		j := newJourney(t, h, "c-42")
		_, err := h.api.ClaimJourney(phone, &handoffv1.ClaimJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		_, err = h.api.UpdateJourney(as(t, bobToken), &handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{Name: j.GetName(), Step: "driver"}})
		st := requireCode(t, err, codes.FailedPrecondition)
		require.Contains(t, st.Message(), "alice")
	})
	t.Run("a_completed_journey_cannot_be_saved_and_stays_as_it_was", func(t *testing.T) {
		j := newJourney(t, h, "c-42")
		done, err := h.api.CompleteJourney(as(t, websiteToken), &handoffv1.CompleteJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		require.Equal(t, handoffv1.JourneyState_JOURNEY_STATE_COMPLETED, done.GetState())
		_, err = h.api.UpdateJourney(as(t, websiteToken), &handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{Name: j.GetName(), Step: "driver"}})
		requireCode(t, err, codes.FailedPrecondition)
		_, err = h.api.AbandonJourney(as(t, websiteToken), &handoffv1.AbandonJourneyRequest{Name: j.GetName()})
		requireCode(t, err, codes.FailedPrecondition)
		after, err := h.api.GetJourney(as(t, websiteToken), &handoffv1.GetJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		require.True(t, proto.Equal(done, after))
	})
	t.Run("a_service_may_not_redeem_and_an_agent_may_not_ask_for_a_code", func(t *testing.T) {
		j := newJourney(t, h, "c-42")
		_, err := h.api.HandoffJourney(phone, &handoffv1.HandoffJourneyRequest{Name: j.GetName()})
		requireCode(t, err, codes.PermissionDenied)
		_, err = h.api.RedeemHandoff(as(t, websiteToken), &handoffv1.RedeemHandoffRequest{Code: "K7QM-X2HD"})
		requireCode(t, err, codes.PermissionDenied)
	})
	t.Run("a_retried_create_with_the_same_request_id_returns_the_first_journey", func(t *testing.T) {
		req := &handoffv1.CreateJourneyRequest{Parent: "customers/c-77", RequestId: "retry-1", Journey: &handoffv1.Journey{JourneyType: "hotel-booking"}}
		first, err := h.api.CreateJourney(as(t, websiteToken), req)
		require.NoError(t, err)
		again, err := h.api.CreateJourney(as(t, websiteToken), req)
		require.NoError(t, err)
		require.True(t, proto.Equal(first, again))
		list, err := h.api.ListJourneys(as(t, websiteToken), &handoffv1.ListJourneysRequest{Parent: "customers/c-77"})
		require.NoError(t, err)
		require.Len(t, list.GetJourneys(), 1)
	})
	t.Run("a_save_without_a_mask_merges_the_answers_it_carries_over_grpc_as_over_rest", func(t *testing.T) {
		j := newJourney(t, h, "c-42") // answers: vehicle.plate
		data, _ := structpb.NewStruct(map[string]any{"vehicle": map[string]any{"make": "Volvo"}, "driver": map[string]any{"age": 36}})
		got, err := h.api.UpdateJourney(as(t, websiteToken), &handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{Name: j.GetName(), Data: data}})
		require.NoError(t, err)
		want, _ := structpb.NewStruct(map[string]any{"vehicle": map[string]any{"plate": "AB-123-C", "make": "Volvo"}, "driver": map[string]any{"age": 36}})
		require.True(t, proto.Equal(want, got.GetData()), "got %v", got.GetData().AsMap())
	})
	t.Run("no_token_is_unauthenticated", func(t *testing.T) {
		_, err := h.api.GetJourney(t.Context(), &handoffv1.GetJourneyRequest{Name: "customers/c-42/journeys/x"})
		requireCode(t, err, codes.Unauthenticated)
	})
}
