package redis

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/journeyhandoff/handoff/internal/store"
)

var (
	issueArgs        = args{"code", "expire_ms", "now_ms", "max_live", "max_made"}
	redeemListedArgs = args{"code", "redeem_id", "now_ms", "mark_ms", "legacy"}

	//go:embed issue.lua
	issueLua    string
	issueScript = newScript(issueArgs, issueLua)

	//go:embed redeem.lua
	redeemLua    string
	redeemScript = goredis.NewScript(redeemLua)

	//go:embed redeem_listed.lua
	redeemListedLua    string
	redeemListedScript = newScript(redeemListedArgs, redeemListedLua)
)

// listedMark starts the value of a code listed in its journey's `codes`
// (see issue.lua); a value without it was written before codes were
// listed, and is checked against the customer's codes set instead.
const listedMark = "+"

// CreateHandoffCode implements store.Store. The code's key comes first
// (SET NX, so a taken code fails instead of pointing at another journey),
// then its listing with the journey (issue.lua), which decides whether it
// works. The two live in different Cluster slots, so they cannot be one
// script; a code whose listing fails is deleted again.
func (s *Store) CreateHandoffCode(ctx context.Context, code string, key store.JourneyKey, expireTime time.Time, limits store.CodeLimits) error {
	set := func(c goredis.Cmdable) *goredis.StatusCmd {
		return c.SetArgs(ctx, s.codeKey(code), listedMark+key.Customer+"/"+key.Journey, goredis.SetArgs{
			Mode:     "NX",
			ExpireAt: expireTime,
		})
	}
	var err error
	if s.replicasAck > 0 {
		err = s.replicated(ctx, s.codeKey(code), func(p goredis.Pipeliner) goredis.Cmder { return set(p) })
	} else {
		err = set(s.client).Err()
	}
	switch {
	case errors.Is(err, goredis.Nil):
		return fmt.Errorf("create handoff code: %w", store.ErrAlreadyExists)
	case err != nil:
		return wrapErr(ctx, "create handoff code", err)
	}
	args := issueArgs.make(0)
	args[issueArgs.index("code")] = code
	args[issueArgs.index("expire_ms")] = expireTime.UnixMilli()
	args[issueArgs.index("now_ms")] = time.Now().UnixMilli()
	args[issueArgs.index("max_live")] = limits.Live
	args[issueArgs.index("max_made")] = limits.Made
	res, err := s.runWrite(ctx, issueScript,
		[]string{s.journeyKey(key), s.journeyCodesKey(key), s.customerCodesKey(key.Customer)}, args...,
	).StringSlice()
	if err != nil || len(res) == 0 || res[0] != "listed" {
		// Unlisted, the code opens nothing; deleting its key only tidies.
		s.deleteCodeKeys(ctx, code)
	}
	switch {
	case errors.Is(err, goredis.Nil):
		return fmt.Errorf("create handoff code: %w", store.ErrNotFound)
	case err != nil:
		return wrapErr(ctx, "create handoff code", err)
	case len(res) == 2 && res[0] == "limited":
		ms, _ := strconv.ParseInt(res[1], 10, 64)
		return fmt.Errorf("create handoff code: %w", store.TooManyCodes(time.UnixMilli(ms)))
	case len(res) == 0 || res[0] != "listed":
		return fmt.Errorf("create handoff code: unexpected script result %q", res)
	}
	s.deleteCodeKeys(ctx, res[1:]...)
	return nil
}

// deleteCodeKeys removes the keys of codes that no longer open anything
// (withdrawn, or never listed). Failing to is harmless: they expire.
func (s *Store) deleteCodeKeys(ctx context.Context, codes ...string) {
	if len(codes) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	for _, code := range codes {
		_ = s.client.Del(ctx, s.codeKey(code)).Err()
	}
}

// redeemTombstone is how long a used code is kept, marked used, for a
// retried redeem to find (see redeem.lua); far beyond go-redis's retries.
const redeemTombstone = time.Minute

// RedeemHandoffCode implements store.Store. One script reads the code and
// marks it used, so of concurrent redeemers exactly one gets the journey;
// a second, in the customer's slot, checks that the journey still lists the
// code as working and marks it redeemed there.
func (s *Store) RedeemHandoffCode(ctx context.Context, code string) (store.JourneyKey, error) {
	id := writeID()
	v, err := s.runWrite(ctx, redeemScript, []string{s.codeKey(code)}, id, redeemTombstone.Milliseconds()).Text()
	switch {
	case errors.Is(err, goredis.Nil):
		return store.JourneyKey{}, fmt.Errorf("redeem handoff code: %w", store.ErrNotFound)
	case err != nil:
		return store.JourneyKey{}, wrapErr(ctx, "redeem handoff code", err)
	}
	v, listed := strings.CutPrefix(v, listedMark)
	customer, journey, ok := strings.Cut(v, "/")
	if !ok || customer == "" || journey == "" {
		return store.JourneyKey{}, fmt.Errorf("redeem handoff code: malformed value %q", v)
	}
	key := store.JourneyKey{Customer: customer, Journey: journey}
	legacy := "0"
	if !listed {
		legacy = "1"
	}
	opens, err := s.runWrite(ctx, redeemListedScript, s.redeemListedKeys(key, code), s.redeemListedArgs(code, id, legacy)...).Int()
	switch {
	case err != nil:
		return store.JourneyKey{}, wrapErr(ctx, "redeem handoff code", err)
	case opens != 1:
		return store.JourneyKey{}, fmt.Errorf("redeem handoff code: no longer listed with its journey: %w", store.ErrNotFound)
	}
	return key, nil
}

// redeemListedKeys and redeemListedArgs are redeem_listed.lua's.
func (s *Store) redeemListedKeys(key store.JourneyKey, code string) []string {
	return []string{s.journeyKey(key), s.journeyCodesKey(key), s.customerCodesKey(key.Customer), s.redeemMarkKey(key.Customer, code)}
}

func (s *Store) redeemListedArgs(code, redeemID, legacy string) []any {
	args := redeemListedArgs.make(0)
	args[redeemListedArgs.index("code")] = code
	args[redeemListedArgs.index("redeem_id")] = redeemID
	args[redeemListedArgs.index("now_ms")] = time.Now().UnixMilli()
	args[redeemListedArgs.index("mark_ms")] = redeemTombstone.Milliseconds()
	args[redeemListedArgs.index("legacy")] = legacy
	return args
}

// DeleteHandoffCode implements store.Store. Deleting a missing code is not
// an error: the caller only wants it gone.
func (s *Store) DeleteHandoffCode(ctx context.Context, code string) error {
	if err := s.client.Del(ctx, s.codeKey(code)).Err(); err != nil {
		return wrapErr(ctx, "delete handoff code", err)
	}
	return nil
}
