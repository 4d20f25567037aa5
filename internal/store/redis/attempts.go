package redis

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

var (
	//go:embed attempt.lua
	attemptLua    string
	attemptScript = goredis.NewScript(attemptLua)
)

// attemptsKey is `<prefix>{fail:<key>}`: its own hash tag, since attempts
// are counted per principal or address, not per customer.
func (s *Store) attemptsKey(key string) string { return s.prefix + "{fail:" + key + "}" }

// RecordAttempt implements store.Store: a sorted set of attempt times per
// key, expiring with the window.
func (s *Store) RecordAttempt(ctx context.Context, key string, window time.Duration, limit int) (string, bool, time.Time, error) {
	var random [8]byte
	_, _ = rand.Read(random[:])
	// Redis's clock, not ours, would be better for several instances; the
	// instances' clocks are close enough for a window of minutes.
	now := time.Now().UnixMilli()
	id := fmt.Sprintf("%d-%s", now, hex.EncodeToString(random[:]))
	res, err := attemptScript.Run(ctx, s.client, []string{s.attemptsKey(key)}, now, window.Milliseconds(), limit, id).Int64Slice()
	if err != nil {
		return "", false, time.Time{}, wrapErr(ctx, "record attempt", err)
	}
	if res[0] == 0 {
		return "", false, time.UnixMilli(res[1]).Add(window), nil
	}
	return id, true, time.Time{}, nil
}

// ForgetAttempt implements store.Store.
func (s *Store) ForgetAttempt(ctx context.Context, key, id string) error {
	if err := s.client.ZRem(ctx, s.attemptsKey(key), id).Err(); err != nil {
		return wrapErr(ctx, "forget attempt", err)
	}
	return nil
}
