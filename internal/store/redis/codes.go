package redis

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/journeyhandoff/handoff/internal/store"
)

// CreateHandoffCode implements store.Store. SET NX makes a taken code fail
// instead of silently pointing it at another journey.
func (s *Store) CreateHandoffCode(ctx context.Context, code string, key store.JourneyKey, expireTime time.Time) error {
	// The code's key lives in another Cluster slot than the customer's, so
	// the customer keeps a set of its codes for erasure. It is written first:
	// a code that exists is always listed.
	codes := s.customerCodesKey(key.Customer)
	if _, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.SAdd(ctx, codes, code)
		p.ExpireGT(ctx, codes, time.Until(expireTime))
		p.ExpireNX(ctx, codes, time.Until(expireTime))
		return nil
	}); err != nil {
		return wrapErr(ctx, "create handoff code", err)
	}
	err := s.client.SetArgs(ctx, s.codeKey(code), key.Customer+"/"+key.Journey, goredis.SetArgs{
		Mode:     "NX",
		ExpireAt: expireTime,
	}).Err()
	switch {
	case errors.Is(err, goredis.Nil):
		return fmt.Errorf("create handoff code: %w", store.ErrAlreadyExists)
	case err != nil:
		return wrapErr(ctx, "create handoff code", err)
	}
	return nil
}

var (
	//go:embed redeem.lua
	redeemLua    string
	redeemScript = goredis.NewScript(redeemLua)
)

// redeemTombstone is how long a used code is kept, marked used, for a
// retried redeem to find (see redeem.lua); far beyond go-redis's retries.
const redeemTombstone = time.Minute

// RedeemHandoffCode implements store.Store. One script reads the code and
// marks it used, so of concurrent redeemers exactly one gets the journey.
func (s *Store) RedeemHandoffCode(ctx context.Context, code string) (store.JourneyKey, error) {
	v, err := redeemScript.Run(ctx, s.client, []string{s.codeKey(code)}, writeID(), redeemTombstone.Milliseconds()).Text()
	switch {
	case errors.Is(err, goredis.Nil):
		return store.JourneyKey{}, fmt.Errorf("redeem handoff code: %w", store.ErrNotFound)
	case err != nil:
		return store.JourneyKey{}, wrapErr(ctx, "redeem handoff code", err)
	}
	customer, journey, ok := strings.Cut(v, "/")
	if !ok || customer == "" || journey == "" {
		return store.JourneyKey{}, fmt.Errorf("redeem handoff code: malformed value %q", v)
	}
	return store.JourneyKey{Customer: customer, Journey: journey}, nil
}

// DeleteHandoffCode implements store.Store. Deleting a missing code is not
// an error: the caller only wants it gone.
func (s *Store) DeleteHandoffCode(ctx context.Context, code string) error {
	if err := s.client.Del(ctx, s.codeKey(code)).Err(); err != nil {
		return wrapErr(ctx, "delete handoff code", err)
	}
	return nil
}
