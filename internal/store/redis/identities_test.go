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
		_, _, err := s.LinkIdentity(ctx, customer, store.IdentityLink{ID: id, Digest: digest, Kind: handoffv1.IdentityKind_IDENTITY_KIND_PHONE, CreateTime: at, ExpireTime: at.Add(time.Hour)}, nil, 0)
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

// An expired link leaves the digest's index set once the customer's hash
// drops it (on its next link, or an unlink of it), and erasure takes the
// customer off every index set its hash still names, a dropped digest's
// whose tidying failed included: another customer's link keeps such a set
// alive, so an entry left there would name the erased customer.
func TestExpiredIdentityLinksLeaveTheIndexAndErasureLeavesNoEntry(t *testing.T) {
	s, prefix := newStore(t, storetest.Options{})
	ctx := t.Context()
	link := func(customer, id, digest string, ttl time.Duration) {
		at := time.Now()
		_, _, err := s.LinkIdentity(ctx, customer, store.IdentityLink{ID: id, Digest: digest, Kind: handoffv1.IdentityKind_IDENTITY_KIND_PHONE, CreateTime: at, ExpireTime: at.Add(ttl)}, nil, 0)
		require.NoError(t, err)
	}
	index := func(digest string) []string {
		members, err := client.SMembers(ctx, prefix+"{idn:"+digest+"}").Result()
		require.NoError(t, err)
		return members
	}
	link("c-1", "l0", "k1.zz", time.Hour) // keeps the hash
	link("c-1", "l1", "k1.aa", 150*time.Millisecond)
	link("c-1", "l2", "k1.bb", 150*time.Millisecond)
	link("c-2", "l9", "k1.aa", time.Hour)
	link("c-2", "l8", "k1.bb", time.Hour)
	time.Sleep(300 * time.Millisecond)

	link("c-1", "l3", "k1.cc", time.Hour) // drops l1 and l2
	require.Equal(t, []string{"c-2"}, index("k1.aa"), "the expired link's entry is tidied")
	require.Equal(t, []string{"c-2"}, index("k1.bb"))

	link("c-1", "l4", "k1.dd", 150*time.Millisecond)
	link("c-2", "l7", "k1.dd", time.Hour)
	time.Sleep(300 * time.Millisecond)
	require.ErrorIs(t, s.UnlinkIdentity(ctx, "c-1", "l4"), store.ErrNotFound)
	require.Equal(t, []string{"c-2"}, index("k1.dd"), "unlinking an expired link tidies its entry")

	// A tidy that failed: the entry stays, the hash's mark with it.
	require.NoError(t, client.SAdd(ctx, prefix+"{idn:k1.aa}", "c-1").Err())
	require.NoError(t, client.HSet(ctx, prefix+"{c-1}:idl", "x:k1.aa", "1").Err())
	_, err := s.EraseCustomer(ctx, "c-1")
	require.NoError(t, err)
	for _, d := range []string{"k1.aa", "k1.bb", "k1.cc", "k1.dd", "k1.zz"} {
		require.NotContains(t, index(d), "c-1", d)
	}
}
