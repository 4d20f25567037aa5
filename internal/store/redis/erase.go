package redis

import (
	"context"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// EraseCustomer implements store.Store: the customer's codes (listed in
// its codes set, since they live in other slots), then every key with the
// customer's hash tag, found by SCAN on each node that may hold the slot,
// then the customer's entries in its identities' index sets (in their own
// slots, named by its links hash, read first).
func (s *Store) EraseCustomer(ctx context.Context, customer string) (int, error) {
	digests, err := s.linkedDigests(ctx, customer)
	if err != nil {
		return 0, wrapErr(ctx, "erase customer", err)
	}
	codes, err := s.client.SMembers(ctx, s.customerCodesKey(customer)).Result()
	if err != nil {
		return 0, wrapErr(ctx, "erase customer", err)
	}
	for _, code := range codes {
		if err := s.erased(ctx, s.client, s.codeKey(code), s.codeKey(code)); err != nil {
			return 0, wrapErr(ctx, "erase customer", err)
		}
	}
	journeys, err := s.client.ZCard(ctx, s.indexKey(customer)).Result()
	if err != nil {
		return 0, wrapErr(ctx, "erase customer", err)
	}
	pattern := globEscape(s.prefix+"{"+customer+"}") + ":*"
	erase := func(ctx context.Context, c goredis.UniversalClient) error {
		iter := c.Scan(ctx, 0, pattern, 500).Iterator()
		var batch []string
		for iter.Next(ctx) {
			batch = append(batch, iter.Val())
			if len(batch) == 500 {
				if err := s.erased(ctx, c, batch[0], batch...); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		if len(batch) > 0 {
			return s.erased(ctx, c, batch[0], batch...)
		}
		return nil
	}
	if cluster, ok := s.client.(*goredis.ClusterClient); ok {
		err = cluster.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error { return erase(ctx, node) })
	} else {
		err = erase(ctx, s.client)
	}
	if err != nil {
		return 0, wrapErr(ctx, "erase customer", err)
	}
	for _, d := range digests {
		if err := s.unindexed(ctx, d, customer); err != nil {
			return 0, wrapErr(ctx, "erase customer", err)
		}
	}
	// With events off too: what was kept while they were on names the
	// customer.
	if err := s.erasedEvents(ctx, customer); err != nil {
		return 0, wrapErr(ctx, "erase customer: events", err)
	}
	return int(journeys), nil
}

// globEscape keeps SCAN's MATCH from reading a prefix's own *, ?, [ or \.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}

// erased unlinks keys through c (the store's client, or one primary's
// while erasure walks them); with WithMinReplicasAck it also waits for the
// replicas, so that an erasure acknowledged before a failover stays done.
// slotKey names the primary: one of the keys.
func (s *Store) erased(ctx context.Context, c goredis.UniversalClient, slotKey string, keys ...string) error {
	if s.replicasAck == 0 {
		return c.Unlink(ctx, keys...).Err()
	}
	return s.replicatedOn(ctx, c, slotKey, func(p goredis.Pipeliner) goredis.Cmder { return p.Unlink(ctx, keys...) })
}

// unindexed takes customer off digest's index set, waiting for replicas as
// erased does.
func (s *Store) unindexed(ctx context.Context, digest, customer string) error {
	key := s.linkersKey(digest)
	if s.replicasAck == 0 {
		return s.client.SRem(ctx, key, customer).Err()
	}
	return s.replicatedOn(ctx, s.client, key, func(p goredis.Pipeliner) goredis.Cmder { return p.SRem(ctx, key, customer) })
}
