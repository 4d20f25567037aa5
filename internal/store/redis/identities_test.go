package redis_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

// The conformance suite sees only that an erased or unlinked customer is
// not found (its hash, the truth, is gone); this checks that the digest's
// index set forgets it too, so a dump names no erased customer beside a
// digest.
func TestTheDigestsIndexForgetsUnlinkedAndErasedCustomersAndCountsOnlyHeldLinks(t *testing.T) {
	s, prefix := newStore(t, storetest.Options{})
	ctx := t.Context()
	at := time.Now()
	link := func(customer, id, digest string) {
		_, _, err := s.LinkIdentity(ctx, customer, store.IdentityLink{ID: id, Digest: digest, Kind: handoffv1.IdentityKind_IDENTITY_KIND_PHONE, CreateTime: at, ExpireTime: at.Add(time.Hour)}, nil)
		require.NoError(t, err)
	}
	link("c-1", "l1", "k1.aa")
	link("c-1", "l2", "k1.bb")
	link("c-2", "l1", "k1.aa")
	index := func(digest string) []string {
		members, err := client.SMembers(ctx, prefix+"{idn:"+digest+"}").Result()
		require.NoError(t, err)
		return members
	}
	require.ElementsMatch(t, []string{"c-1", "c-2"}, index("k1.aa"))

	require.NoError(t, s.UnlinkIdentity(ctx, "c-1", "l2"))
	require.Empty(t, index("k1.bb"))
	_, err := s.EraseCustomer(ctx, "c-1")
	require.NoError(t, err)
	require.Equal(t, []string{"c-2"}, index("k1.aa"))
	// An entry whose customer holds no such link (left by a crash between
	// the two writes, say) finds nobody: the customer's hash decides.
	require.NoError(t, client.SAdd(ctx, prefix+"{idn:k1.aa}", "c-1", "c-9").Err())
	found, err := s.LinkedCustomers(ctx, []string{"k1.aa"})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"k1.aa": {"c-2"}}, found)

	ttl, err := client.PTTL(ctx, prefix+"{idn:k1.aa}").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 59*time.Minute, "the index set lives as long as its longest-lived link")
}
