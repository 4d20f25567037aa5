package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

func TestErasingACustomerLeavesNoKeyOfTheirsInRedis(t *testing.T) {
	h := start(t, redisStore)
	for _, customer := range []string{"c-9", "c-10"} {
		j := newJourney(t, h, customer)
		require.NoError(t, saveAnswer(as(t, websiteToken), h.api, j.GetName(), "driver", "Anna"))
		_, err := h.api.HandoffJourney(as(t, websiteToken), &handoffv1.HandoffJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		_, err = h.api.GetJourney(as(t, aliceToken), &handoffv1.GetJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
	}
	_, err := h.api.CreateJourney(as(t, websiteToken), &handoffv1.CreateJourneyRequest{
		Parent: "customers/c-9", RequestId: "retry-9", Journey: &handoffv1.Journey{JourneyType: "hotel-booking"},
	})
	require.NoError(t, err)
	rdb := goredis.NewClient(&goredis.Options{Addr: h.redis.Addr()})
	defer rdb.Close()
	require.NotEmpty(t, keysMentioning(t, rdb, "c-9"), "the test must start with keys to erase")

	t.Run("only_an_admin_may_erase", func(t *testing.T) {
		status, _ := h.rest(t, "DELETE", "/v1/customers/c-9", aliceToken, nil)
		require.Equal(t, http.StatusForbidden, status)
		require.NotEmpty(t, keysMentioning(t, rdb, "c-9"))
	})

	status, body := h.rest(t, "DELETE", "/v1/customers/c-9", adminToken, nil)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, float64(2), body["erasedJourneys"])

	require.Empty(t, keysMentioning(t, rdb, "c-9"), "no key of the erased customer may remain")
	require.NotEmpty(t, keysMentioning(t, rdb, "c-10"), "other customers are untouched")
	list, err := h.api.ListJourneys(as(t, websiteToken), &handoffv1.ListJourneysRequest{Parent: "customers/c-9"})
	require.NoError(t, err)
	require.Empty(t, list.GetJourneys())
	_, err = h.api.ListJourneys(as(t, c2Token), &handoffv1.ListJourneysRequest{Parent: "customers/c-9"})
	requireCode(t, err, codes.NotFound)
}

// keysMentioning scans every key and returns those whose name or string
// value holds s.
func keysMentioning(t *testing.T, rdb *goredis.Client, s string) []string {
	ctx := context.Background()
	var found []string
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		if strings.Contains(k, s) {
			found = append(found, k)
			continue
		}
		if typ, _ := rdb.Type(ctx, k).Result(); typ == "string" {
			if v, _ := rdb.Get(ctx, k).Result(); strings.Contains(v, s) {
				found = append(found, k)
			}
		}
	}
	require.NoError(t, iter.Err())
	return found
}
