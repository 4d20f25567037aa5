package app_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
)

func TestGuessingCodesLocksThePrincipalOut(t *testing.T) {
	for _, kind := range []storeKind{memoryStore, redisStore} {
		t.Run(string(kind), func(t *testing.T) {
			const window = 1500 * time.Millisecond
			h := start(t, kind, func(c *config.Config) { c.RedeemFailureWindow = window })
			j := newJourney(t, h, "c-42")
			offer, err := h.api.HandoffJourney(as(t, websiteToken), &handoffv1.HandoffJourneyRequest{Name: j.GetName()})
			require.NoError(t, err)
			mallory := as(t, bobToken)
			began := time.Now()

			for i := range 10 {
				_, err := h.api.RedeemHandoff(mallory, &handoffv1.RedeemHandoffRequest{Code: "ZZZZ-ZZZ" + string(rune('0'+i))})
				requireCode(t, err, codes.NotFound)
			}
			_, err = h.api.RedeemHandoff(mallory, &handoffv1.RedeemHandoffRequest{Code: "ZZZZ-ZZZZ"})
			st := requireCode(t, err, codes.ResourceExhausted)
			var retry *errdetails.RetryInfo
			for _, d := range st.Details() {
				if r, ok := d.(*errdetails.RetryInfo); ok {
					retry = r
				}
			}
			require.NotNil(t, retry, "the refusal says when to try again")
			require.LessOrEqual(t, retry.GetRetryDelay().AsDuration(), window+time.Second)

			t.Run("a_correct_code_during_the_lockout_still_fails_and_is_not_used_up", func(t *testing.T) {
				_, err := h.api.RedeemHandoff(mallory, &handoffv1.RedeemHandoffRequest{Code: offer.GetCode()})
				requireCode(t, err, codes.ResourceExhausted)
			})
			t.Run("another_agent_at_the_same_address_is_not_locked_out", func(t *testing.T) {
				_, err := h.api.RedeemHandoff(as(t, aliceToken), &handoffv1.RedeemHandoffRequest{Code: "ZZZZ-ZZZZ"})
				requireCode(t, err, codes.NotFound)
			})
			t.Run("the_lockout_ends_after_the_window", func(t *testing.T) {
				time.Sleep(time.Until(began.Add(window + 200*time.Millisecond)))
				got, err := h.api.RedeemHandoff(mallory, &handoffv1.RedeemHandoffRequest{Code: offer.GetCode()})
				require.NoError(t, err)
				require.Equal(t, "bob", got.GetAssignee())
			})
		})
	}
}

func TestGuessingInParallelCannotPassTheLimit(t *testing.T) {
	for _, kind := range []storeKind{memoryStore, redisStore} {
		t.Run(string(kind), func(t *testing.T) {
			h := start(t, kind)
			mallory := as(t, bobToken)
			const guesses = 40
			var mu sync.Mutex
			got := map[codes.Code]int{}
			var wg sync.WaitGroup
			for i := range guesses {
				wg.Go(func() {
					_, err := h.api.RedeemHandoff(mallory, &handoffv1.RedeemHandoffRequest{Code: fmt.Sprintf("ZZZZ-Z%03d", i)})
					mu.Lock()
					defer mu.Unlock()
					got[status.Code(err)]++
				})
			}
			wg.Wait()
			require.Equal(t, map[codes.Code]int{codes.NotFound: 10, codes.ResourceExhausted: guesses - 10}, got,
				"exactly the 10 allowed guesses were tried")
		})
	}
}

func TestASuccessfulRedeemDoesNotCountAsAFailure(t *testing.T) {
	// More codes for one journey than the default allows per code lifetime:
	// the redeem limit, not the handoff one, is under test.
	h := start(t, memoryStore, func(c *config.Config) { c.HandoffsPerJourney = 12 })
	j := newJourney(t, h, "c-42")
	for range 12 {
		offer, err := h.api.HandoffJourney(as(t, websiteToken), &handoffv1.HandoffJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		_, err = h.api.RedeemHandoff(as(t, aliceToken), &handoffv1.RedeemHandoffRequest{Code: offer.GetCode()})
		require.NoError(t, err, "an agent redeeming the codes customers read out is never locked out")
	}
}
