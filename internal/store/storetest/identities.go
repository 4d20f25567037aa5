package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// Digests as internal/identity writes them; the store sees nothing else.
const (
	phoneDigest    = "k1.0a1b"
	phoneDigestNew = "k2.9f8e"
	emailDigest    = "k1.c3d4"
)

// msNow is a time as identity links are kept: to the millisecond.
func msNow() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func phoneLink(id, digest string, at time.Time, ttl time.Duration) store.IdentityLink {
	return store.IdentityLink{ID: id, Digest: digest, Kind: handoffv1.IdentityKind_IDENTITY_KIND_PHONE, CreateTime: at, ExpireTime: at.Add(ttl)}
}

func link(t *testing.T, s store.Store, customer string, l store.IdentityLink, replaces ...string) (store.IdentityLink, bool) {
	t.Helper()
	got, created, err := s.LinkIdentity(t.Context(), customer, l, replaces, 0)
	require.NoError(t, err)
	return got, created
}

func linkedCustomers(t *testing.T, s store.Store, digests ...string) map[string][]string {
	t.Helper()
	got, err := s.LinkedCustomers(t.Context(), digests)
	require.NoError(t, err)
	return got
}

func links(t *testing.T, s store.Store, customer string) []store.IdentityLink {
	t.Helper()
	got, err := s.IdentityLinks(t.Context(), customer)
	require.NoError(t, err)
	return got
}

func testIdentities(t *testing.T, newStore Factory) {
	t.Run("a_link_is_listed_found_by_its_digest_and_unlinked", func(t *testing.T) {
		s := newStore(t, Options{})
		at := msNow()
		phone := phoneLink("l1", phoneDigest, at, time.Hour)
		email := store.IdentityLink{ID: "l2", Digest: emailDigest, Kind: handoffv1.IdentityKind_IDENTITY_KIND_EMAIL, CreateTime: at.Add(time.Millisecond), ExpireTime: at.Add(time.Hour)}
		handle := store.IdentityLink{ID: "l3", Digest: "k1.5566", Kind: handoffv1.IdentityKind_IDENTITY_KIND_SOCIAL, Network: "instagram", CreateTime: at.Add(2 * time.Millisecond), ExpireTime: at.Add(time.Hour)}
		for _, l := range []store.IdentityLink{phone, email, handle} {
			got, created := link(t, s, "c-1", l)
			require.True(t, created)
			require.Equal(t, l, got)
		}
		require.Equal(t, []store.IdentityLink{phone, email, handle}, links(t, s, "c-1"), "oldest first, as linked")
		require.Empty(t, links(t, s, "c-2"))
		require.Equal(t, map[string][]string{phoneDigest: {"c-1"}, emailDigest: {"c-1"}}, linkedCustomers(t, s, phoneDigest, emailDigest, "k1.ffff"))

		require.NoError(t, s.UnlinkIdentity(t.Context(), "c-1", "l1"))
		require.ErrorIs(t, s.UnlinkIdentity(t.Context(), "c-1", "l1"), store.ErrNotFound)
		require.ErrorIs(t, s.UnlinkIdentity(t.Context(), "c-2", "l2"), store.ErrNotFound, "another customer's link is not there to unlink")
		require.Equal(t, []store.IdentityLink{email, handle}, links(t, s, "c-1"))
		require.Equal(t, map[string][]string{emailDigest: {"c-1"}}, linkedCustomers(t, s, phoneDigest, emailDigest))
	})
	t.Run("customers_sharing_an_identity_are_all_found", func(t *testing.T) {
		s := newStore(t, Options{})
		link(t, s, "c-1", phoneLink("l1", phoneDigest, msNow(), time.Hour))
		link(t, s, "c-2", phoneLink("l9", phoneDigest, msNow(), time.Hour))
		got := linkedCustomers(t, s, phoneDigest)
		require.ElementsMatch(t, []string{"c-1", "c-2"}, got[phoneDigest])
		require.NoError(t, s.UnlinkIdentity(t.Context(), "c-1", "l1"))
		require.Equal(t, map[string][]string{phoneDigest: {"c-2"}}, linkedCustomers(t, s, phoneDigest), "one customer's unlink leaves the other's link")
	})
	t.Run("linking_again_keeps_the_link_id_and_create_time_and_moves_its_expiry", func(t *testing.T) {
		s := newStore(t, Options{})
		at := msNow()
		first, _ := link(t, s, "c-1", phoneLink("l1", phoneDigest, at, time.Hour))
		again, created := link(t, s, "c-1", phoneLink("l2", phoneDigest, at.Add(time.Second), 2*time.Hour))
		require.False(t, created)
		require.Equal(t, "l1", again.ID)
		require.Equal(t, first.CreateTime, again.CreateTime)
		require.Equal(t, at.Add(time.Second+2*time.Hour), again.ExpireTime)
		require.Equal(t, []store.IdentityLink{again}, links(t, s, "c-1"))
	})
	t.Run("a_link_under_a_new_key_replaces_the_one_under_the_old", func(t *testing.T) {
		s := newStore(t, Options{})
		at := msNow()
		link(t, s, "c-1", phoneLink("l1", phoneDigest, at, time.Hour))
		got, created := link(t, s, "c-1", phoneLink("l2", phoneDigestNew, at.Add(time.Second), time.Hour), phoneDigest)
		require.False(t, created)
		require.Equal(t, "l1", got.ID)
		require.Equal(t, phoneDigestNew, got.Digest)
		require.Equal(t, at, got.CreateTime)
		require.Equal(t, []store.IdentityLink{got}, links(t, s, "c-1"))
		require.Equal(t, map[string][]string{phoneDigestNew: {"c-1"}}, linkedCustomers(t, s, phoneDigest, phoneDigestNew), "the old digest finds nobody")
	})
	t.Run("replacing_a_digest_nobody_holds_makes_a_new_link", func(t *testing.T) {
		s := newStore(t, Options{})
		_, created := link(t, s, "c-1", phoneLink("l1", phoneDigestNew, msNow(), time.Hour), phoneDigest)
		require.True(t, created)
	})
	t.Run("links_expire", func(t *testing.T) {
		s := newStore(t, Options{})
		at := msNow()
		link(t, s, "c-1", phoneLink("l1", phoneDigest, at, 150*time.Millisecond))
		kept := store.IdentityLink{ID: "l2", Digest: emailDigest, Kind: handoffv1.IdentityKind_IDENTITY_KIND_EMAIL, CreateTime: at, ExpireTime: at.Add(time.Hour)}
		link(t, s, "c-1", kept)
		link(t, s, "c-2", phoneLink("l3", phoneDigest, at, 150*time.Millisecond))
		time.Sleep(300 * time.Millisecond)
		require.Equal(t, []store.IdentityLink{kept}, links(t, s, "c-1"))
		require.Empty(t, links(t, s, "c-2"))
		require.Equal(t, map[string][]string{emailDigest: {"c-1"}}, linkedCustomers(t, s, phoneDigest, emailDigest))
		require.ErrorIs(t, s.UnlinkIdentity(t.Context(), "c-1", "l1"), store.ErrNotFound)
		// An expired link is gone: linking the identity again makes a new one.
		_, created := link(t, s, "c-1", phoneLink("l4", phoneDigest, msNow(), time.Hour))
		require.True(t, created)
	})
	t.Run("a_customer_holds_at_most_limit_live_links_and_relinks_always", func(t *testing.T) {
		s := newStore(t, Options{})
		at := msNow()
		limited := func(l store.IdentityLink, replaces ...string) (store.IdentityLink, bool, error) {
			return s.LinkIdentity(t.Context(), "c-1", l, replaces, 2)
		}
		_, _, err := limited(phoneLink("l1", "k1.01", at, time.Hour))
		require.NoError(t, err)
		_, _, err = limited(phoneLink("l2", "k1.02", at, time.Hour))
		require.NoError(t, err)
		_, _, err = limited(phoneLink("l3", "k1.03", at, time.Hour))
		require.ErrorIs(t, err, store.ErrLinkLimit)
		require.Len(t, links(t, s, "c-1"), 2, "the refused link is not kept")
		require.Empty(t, linkedCustomers(t, s, "k1.03"))

		again, created, err := limited(phoneLink("l4", "k1.01", at, 2*time.Hour))
		require.NoError(t, err, "linking a held identity again is no new link")
		require.False(t, created)
		require.Equal(t, "l1", again.ID)
		moved, created, err := limited(phoneLink("l5", "k2.02", at, time.Hour), "k1.02")
		require.NoError(t, err, "relinking under a new key is no new link")
		require.False(t, created)
		require.Equal(t, "l2", moved.ID)
		_, _, err = s.LinkIdentity(t.Context(), "c-2", phoneLink("l6", "k1.03", at, time.Hour), nil, 2)
		require.NoError(t, err, "the limit is the customer's")

		require.NoError(t, s.UnlinkIdentity(t.Context(), "c-1", "l1"))
		_, created, err = limited(phoneLink("l3", "k1.03", at, time.Hour))
		require.NoError(t, err)
		require.True(t, created)
	})
	t.Run("expired_links_do_not_count_against_the_limit", func(t *testing.T) {
		s := newStore(t, Options{})
		_, _, err := s.LinkIdentity(t.Context(), "c-1", phoneLink("l1", "k1.01", msNow(), 100*time.Millisecond), nil, 1)
		require.NoError(t, err)
		time.Sleep(250 * time.Millisecond)
		_, created, err := s.LinkIdentity(t.Context(), "c-1", phoneLink("l2", "k1.02", msNow(), time.Hour), nil, 1)
		require.NoError(t, err)
		require.True(t, created)
	})
	t.Run("an_erased_customer_is_not_found_by_its_identities", func(t *testing.T) {
		s := newStore(t, Options{})
		link(t, s, "c-1", phoneLink("l1", phoneDigest, msNow(), time.Hour))
		link(t, s, "c-2", phoneLink("l2", phoneDigest, msNow(), time.Hour))
		_, err := s.EraseCustomer(t.Context(), "c-1")
		require.NoError(t, err)
		require.Empty(t, links(t, s, "c-1"))
		require.Equal(t, map[string][]string{phoneDigest: {"c-2"}}, linkedCustomers(t, s, phoneDigest))
	})
	t.Run("a_lookup_is_kept_until_deleted", func(t *testing.T) {
		s := newStore(t, Options{})
		l := store.IdentityLookup{ID: "q1", Principal: "alice", Matches: []store.JourneyKey{key("c-1", "j-2"), key("c-1", "j-1")}, ExpireTime: msNow().Add(time.Minute)}
		require.NoError(t, s.PutIdentityLookup(t.Context(), l))
		got, err := s.IdentityLookup(t.Context(), "q1")
		require.NoError(t, err)
		require.Equal(t, l, got)
		_, err = s.IdentityLookup(t.Context(), "q2")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, s.DeleteIdentityLookup(t.Context(), "q1"))
		_, err = s.IdentityLookup(t.Context(), "q1")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, s.DeleteIdentityLookup(t.Context(), "q1"), "deleting a missing lookup is no error")
	})
	t.Run("a_lookup_with_no_matches_is_kept_too", func(t *testing.T) {
		s := newStore(t, Options{})
		l := store.IdentityLookup{ID: "q1", Principal: "alice", ExpireTime: msNow().Add(time.Minute)}
		require.NoError(t, s.PutIdentityLookup(t.Context(), l))
		got, err := s.IdentityLookup(t.Context(), "q1")
		require.NoError(t, err)
		require.Equal(t, "alice", got.Principal)
		require.Empty(t, got.Matches)
	})
	t.Run("a_lookup_expires", func(t *testing.T) {
		s := newStore(t, Options{})
		require.NoError(t, s.PutIdentityLookup(t.Context(), store.IdentityLookup{ID: "q1", Principal: "alice", ExpireTime: msNow().Add(100 * time.Millisecond)}))
		time.Sleep(250 * time.Millisecond)
		_, err := s.IdentityLookup(t.Context(), "q1")
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}
