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
	//go:embed failures.lua
	failuresLua    string
	failuresScript = goredis.NewScript(failuresLua)
)

// CountFailures implements store.Store: a sorted set of failure times per
// key, `<prefix>{fail:<key>}`, expiring with the window. The key is its own
// hash tag: failures are counted per principal or address, not per customer.
func (s *Store) CountFailures(ctx context.Context, key string, window time.Duration, record bool) (int, time.Time, error) {
	var id [8]byte
	_, _ = rand.Read(id[:])
	rec := "0"
	if record {
		rec = "1"
	}
	// Redis's clock, not ours, would be better for several instances; the
	// instances' clocks are close enough for a window of minutes.
	now := time.Now().UnixMilli()
	res, err := failuresScript.Run(ctx, s.client, []string{s.prefix + "{fail:" + key + "}"},
		now, window.Milliseconds(), rec, fmt.Sprintf("%d-%s", now, hex.EncodeToString(id[:]))).Int64Slice()
	if err != nil {
		return 0, time.Time{}, wrapErr(ctx, "count failures", err)
	}
	if res[0] == 0 {
		return 0, time.Time{}, nil
	}
	return int(res[0]), time.UnixMilli(res[1]).Add(window), nil
}
