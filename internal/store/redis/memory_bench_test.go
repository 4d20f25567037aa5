package redis_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/journeyhandoff/handoff/internal/loadgen"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/redis"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// BenchmarkJourneyMemory is what Redis spends per journey of the quote
// (storetest.Quote) as it is stored, and as parts of it would be stored
// alone, down to one string holding the answers' JSON: the floor of any
// layout that keeps them (docs/benchmarks.md, "Missed: Redis memory per
// journey"). Each layout fills 10,000 keys with an expiry, as journeys
// have, and reports used_memory's growth per key. Run it once:
//
//	go test -run '^$' -bench JourneyMemory -benchtime 1x ./internal/store/redis
func BenchmarkJourneyMemory(b *testing.B) {
	const journeys = 10000
	// Compact hashes as production runs them (docs/layout.md).
	srv := testutil.StartRedis(b, "--hash-max-listpack-value", "1024")
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	b.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	s := redis.New(c, redis.WithKeyPrefix("m:"))
	answersJSON, err := json.Marshal(storetest.QuoteAnswers(20))
	if err != nil {
		b.Fatal(err)
	}

	// One journey as CreateJourney stores it, split into its parts.
	j := storetest.Quote(b, "q")
	if _, _, err := s.CreateJourney(ctx, j, storetest.SaveTouchpoint(j), ""); err != nil {
		b.Fatal(err)
	}
	stored := c.HGetAll(ctx, s.KeysOf(store.JourneyKey{Customer: storetest.QuoteCustomer, Journey: "q"}).Journey).Val()
	var whole, withVersions, binaryVersions, bare []any
	for f, v := range stored {
		whole = append(whole, f, v)
		if path, ok := strings.CutPrefix(f, "d:"); ok {
			withVersions = append(withVersions, f, v)
			// <etag>[.<writer>]:<size>:<JSON>
			answer := strings.SplitN(v, ":", 3)[2]
			bare = append(bare, path, answer)
			// What versions in binary would take: etag, writer and size
			// as three short varints, about 5 bytes.
			binaryVersions = append(binaryVersions, path, "\x81\x01\x02\x9c\x01"+answer)
		}
	}
	hash := func(fields []any) func(goredis.Pipeliner, string) {
		return func(p goredis.Pipeliner, key string) { p.HSet(ctx, key, fields...) }
	}
	layouts := []struct {
		name  string
		write func(p goredis.Pipeliner, key string)
	}{
		{"the_journey_hash_as_stored", hash(whole)},
		{"its_answers_with_their_versions", hash(withVersions)},
		{"its_answers_with_versions_in_binary", hash(binaryVersions)},
		{"its_answers_as_path_and_json", hash(bare)},
		{"one_string_of_the_answers_json", func(p goredis.Pipeliner, key string) { p.Set(ctx, key, answersJSON, 0) }},
		{"a_one_byte_string", func(p goredis.Pipeliner, key string) { p.Set(ctx, key, "x", 0) }},
	}
	for _, l := range layouts {
		b.Run(l.name, func(b *testing.B) {
			var perJourney float64
			for b.Loop() {
				if err := c.FlushAll(ctx).Err(); err != nil {
					b.Fatal(err)
				}
				before := usedMemory(b, c)
				p := c.Pipeline()
				for i := range journeys {
					key := "m:{c" + strconv.Itoa(i) + "}:j:q"
					l.write(p, key)
					p.PExpire(ctx, key, 1<<40)
					if i%500 == 499 || i == journeys-1 {
						if _, err := p.Exec(ctx); err != nil {
							b.Fatal(err)
						}
					}
				}
				perJourney = float64(usedMemory(b, c)-before) / journeys
			}
			b.ReportMetric(perJourney, "B/journey")
			b.ReportMetric(perJourney/float64(len(answersJSON)), "×JSON")
		})
	}
}

// usedMemory is INFO's used_memory.
func usedMemory(b *testing.B, c *goredis.Client) int64 {
	b.Helper()
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	n, err := loadgen.RedisInfoInt(info, "used_memory")
	if err != nil {
		b.Fatal(err)
	}
	return n
}
