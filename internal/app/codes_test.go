package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
)

// notValid is the one answer to a code that does not open anything.
const notValid = "that code is not valid or has expired"

// TestNoCodeIssuedBeforeAnErasureOpensAnythingAfterIt races handoffs
// against the erasure of their customer, as an outside test found: codes
// could outlive the erasure, answer with the erased journey's name, and
// open a journey created again under the same id.
func TestNoCodeIssuedBeforeAnErasureOpensAnythingAfterIt(t *testing.T) {
	h := start(t, redisStore, func(c *config.Config) {
		// Every code a round makes must be tried, without the guessing
		// limits or the per-journey ones getting in the way.
		c.RedeemFailures, c.AddressRedeemFailures = 1_000_000, 1_000_000
		c.MaxCodesPerJourney, c.HandoffsPerJourney = 1_000_000, 1_000_000
	})
	rdb := goredis.NewClient(&goredis.Options{Addr: h.redis.Addr()})
	defer rdb.Close()

	const rounds, handers = 25, 4
	for round := range rounds {
		customer := fmt.Sprintf("c-race-%d", round)
		name := "customers/" + customer + "/journeys/quote"
		create := func() {
			_, err := h.api.CreateJourney(as(t, websiteToken), &handoffv1.CreateJourneyRequest{
				Parent: "customers/" + customer, JourneyId: "quote", Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote", Step: "vehicle"},
			})
			require.NoError(t, err)
		}
		create()

		// Handoffs run until the erasure is over; each keeps the codes it was given.
		ctx, stop := context.WithCancel(t.Context())
		var mu sync.Mutex
		var issued []string
		var wg sync.WaitGroup
		firstCode := make(chan struct{})
		var once sync.Once
		for range handers {
			wg.Go(func() {
				for ctx.Err() == nil {
					resp, err := h.api.HandoffJourney(as(t, websiteToken), &handoffv1.HandoffJourneyRequest{Name: name})
					if err == nil {
						mu.Lock()
						issued = append(issued, resp.GetCode())
						mu.Unlock()
						once.Do(func() { close(firstCode) })
					}
				}
			})
		}
		// Erase while handoffs are under way.
		<-firstCode
		_, err := h.api.DeleteCustomer(as(t, adminToken), &handoffv1.DeleteCustomerRequest{Name: "customers/" + customer})
		require.NoError(t, err)
		stop()
		wg.Wait()

		// The same journey again, and every code that could still be around:
		// those handed out, and any code key Redis still holds.
		create()
		tried := map[string]bool{}
		for _, code := range append(issued, codeKeys(t, rdb)...) {
			if tried[code] {
				continue
			}
			tried[code] = true
			_, err := h.api.RedeemHandoff(as(t, aliceToken), &handoffv1.RedeemHandoffRequest{Code: code})
			st := requireCode(t, err, codes.NotFound)
			require.Contains(t, st.Message(), notValid, "round %d, code %s", round, code)
			require.NotContains(t, st.Message(), customer, "a code that does not work names no journey")
		}
		j, err := h.api.GetJourney(as(t, websiteToken), &handoffv1.GetJourneyRequest{Name: name})
		require.NoError(t, err)
		require.Empty(t, j.GetAssignee(), "round %d: no agent may hold the new journey through an old code", round)
	}
}

// codeKeys are the codes whose keys Redis holds.
func codeKeys(t *testing.T, rdb *goredis.Client) []string {
	keys, err := rdb.Keys(t.Context(), "handoff:code:*").Result()
	require.NoError(t, err)
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, "handoff:code:")
	}
	return keys
}

func TestAJourneyHasAFewWorkingCodesAndAFewHandoffsPerCodeLifetime(t *testing.T) {
	h := start(t, redisStore, func(c *config.Config) {
		c.MaxCodesPerJourney, c.HandoffsPerJourney = 2, 4
	})
	rdb := goredis.NewClient(&goredis.Options{Addr: h.redis.Addr()})
	defer rdb.Close()
	j := newJourney(t, h, "c-42")
	path := "/v1/" + j.GetName() + ":handoff"

	var made []string
	for range 4 {
		status, body := h.rest(t, "POST", path, c42Token, map[string]any{})
		require.Equal(t, http.StatusOK, status, "%v", body)
		made = append(made, body["code"].(string))
	}
	t.Run("the_fifth_handoff_within_the_code_lifetime_is_refused_with_a_retry_delay", func(t *testing.T) {
		status, body := h.rest(t, "POST", path, c42Token, map[string]any{})
		require.Equal(t, http.StatusTooManyRequests, status, "%v", body)
		require.Contains(t, body["message"], "try again in")
		details, _ := body["details"].([]any)
		require.NotEmpty(t, details)
		require.Equal(t, "type.googleapis.com/google.rpc.RetryInfo", details[0].(map[string]any)["@type"])
	})
	t.Run("the_timeline_records_only_the_handoffs_that_gave_a_code", func(t *testing.T) {
		offers := 0
		for _, tp := range websiteTimeline(t, h, j.GetName()) {
			if tp.GetKind() == handoffv1.TouchpointKind_TOUCHPOINT_KIND_HANDOFF_OFFERED {
				offers++
			}
		}
		require.Equal(t, 4, offers)
	})
	t.Run("only_the_two_newest_codes_exist_in_redis", func(t *testing.T) {
		require.ElementsMatch(t, []string{strings.ReplaceAll(made[2], "-", ""), strings.ReplaceAll(made[3], "-", "")}, codeKeys(t, rdb))
	})
	t.Run("the_withdrawn_codes_answer_like_any_code_that_does_not_work", func(t *testing.T) {
		for _, code := range made[:2] {
			status, body := h.rest(t, "POST", "/v1/handoffs/"+code+":redeem", aliceToken, map[string]any{})
			require.Equal(t, http.StatusNotFound, status)
			require.Contains(t, body["message"], notValid)
		}
	})
	t.Run("the_two_newest_codes_work", func(t *testing.T) {
		for _, code := range made[2:] {
			status, body := h.rest(t, "POST", "/v1/handoffs/"+code+":redeem", aliceToken, map[string]any{}, "X-Handoff-Channel", "phone")
			require.Equal(t, http.StatusOK, status, "%v", body)
			require.Equal(t, "alice", body["assignee"])
		}
	})
}
