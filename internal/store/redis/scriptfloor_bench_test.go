package redis_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/journeyhandoff/handoff/internal/loadgen"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/redis"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// writesAlone makes the Redis writes of a page save (three answers and the
// fields every save moves, the touchpoint, the change logged and
// published, the expiries) and nothing else: no check, no merge, no
// record built. What the save script costs Redis beyond it is the script's
// own logic.
var writesAlone = goredis.NewScript(`
redis.call('HSET', KEYS[1], 'd:vehicle.year', ARGV[1], 'd:driver.occupation', ARGV[2], 'd:cover.level', ARGV[3],
  'rev', ARGV[4], 'seq', ARGV[4], 'ut', ARGV[5], 'et', ARGV[5], 'w' .. (ARGV[4] % 8), ARGV[6])
redis.call('PEXPIREAT', KEYS[1], ARGV[7])
redis.call('RPUSH', KEYS[2], ARGV[8])
redis.call('PEXPIREAT', KEYS[2], ARGV[7])
redis.call('PEXPIREAT', KEYS[3], ARGV[7])
redis.call('RPUSH', KEYS[4], ARGV[9])
redis.call('LTRIM', KEYS[4], -100, -1)
redis.call('PEXPIRE', KEYS[4], 3600000)
redis.call('SPUBLISH', ARGV[10], ARGV[9])
return 1`)

// BenchmarkSaveScriptFloor sets what the save script costs Redis beside
// what its writes alone cost, and an empty script, each from 64 callers
// on journeys of their own (docs/benchmarks.md, "Missed: CPU per save").
// It reports Redis's time in the script (INFO commandstats) and
// redis-server's CPU per call, network included:
//
//	go test -run '^$' -bench SaveScriptFloor -benchtime 20000x ./internal/store/redis
//
// Each runs twice: on compact hashes, as production runs them
// (docs/layout.md), and on hash tables, which take more memory but spare
// Redis a compact hash's linear scan for each field read or written.
func BenchmarkSaveScriptFloor(b *testing.B) {
	for _, encoding := range []struct {
		name  string
		flags []string
	}{
		{"compact_hashes", []string{"--hash-max-listpack-value", "1024"}},
		{"hash_tables", []string{"--hash-max-listpack-entries", "0"}},
	} {
		b.Run(encoding.name, func(b *testing.B) { benchSaveScriptFloor(b, encoding.flags...) })
	}
}

func benchSaveScriptFloor(b *testing.B, redisFlags ...string) {
	srv := testutil.StartRedis(b, redisFlags...)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), PoolSize: 64})
	b.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	s := redis.New(c, redis.WithKeyPrefix("f:"))
	pid, err := serverPID(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	const callers = 64
	keys := make([]store.JourneyKey, callers)
	for i := range keys {
		name := "quote-" + strconv.Itoa(i)
		j := storetest.Quote(b, name)
		if _, _, err := s.CreateJourney(ctx, j, storetest.SaveTouchpoint(j), ""); err != nil {
			b.Fatal(err)
		}
		keys[i] = store.JourneyKey{Customer: storetest.QuoteCustomer, Journey: name}
	}
	tp := storetest.SaveTouchpoint(storetest.Quote(b, "quote-0"))
	// A touchpoint and a change record of the sizes a page save writes.
	entry, change := strings.Repeat("t", 150), strings.Repeat("c", 300)

	scripts := []struct {
		name string
		call func(k store.JourneyKey, n int64) error
	}{
		{"the_save_script", func(k store.JourneyKey, n int64) error {
			_, err := s.SaveJourney(ctx, benchSaveOf(k, tp, n))
			return err
		}},
		{"its_writes_alone", func(k store.JourneyKey, n int64) error {
			ks := s.KeysOf(k)
			now := time.Now()
			return writesAlone.Run(ctx, c, []string{ks.Journey, ks.Timeline, ks.Index, ks.Log},
				"9.4:4:2011", `9.4:7:"nurse"`, `9.4:15:"comprehensive"`, n, now.UnixMicro(), "write-id-"+strconv.FormatInt(n, 10),
				now.Add(time.Hour).UnixMilli(), entry, change, "f:{c}:changes").Err()
		}},
		{"an_empty_script", func(k store.JourneyKey, n int64) error {
			ks := s.KeysOf(k)
			return c.Eval(ctx, "return 1", []string{ks.Journey, ks.Timeline, ks.Index, ks.Log}).Err()
		}},
	}
	for _, sc := range scripts {
		b.Run(sc.name, func(b *testing.B) {
			if err := c.ConfigResetStat(ctx).Err(); err != nil {
				b.Fatal(err)
			}
			before, err := loadgen.SampleProc(pid)
			if err != nil {
				b.Fatal(err)
			}
			var caller atomic.Int64
			b.SetParallelism((callers + 1) / 2) // 64 callers on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				k := keys[int(caller.Add(1)-1)%callers]
				n := int64(0)
				for pb.Next() {
					n++
					if err := sc.call(k, n); err != nil {
						b.Error(err)
						return
					}
				}
			})
			after, err := loadgen.SampleProc(pid)
			if err != nil {
				b.Fatal(err)
			}
			usec, calls := scriptTime(ctx, b, c)
			b.ReportMetric(usec/calls, "redis-script-µs/call")
			b.ReportMetric(float64((after.CPU-before.CPU).Microseconds())/float64(b.N), "redis-cpu-µs/call")
		})
	}
}

// serverPID is redis-server's process id.
func serverPID(ctx context.Context, c *goredis.Client) (int, error) {
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return 0, err
	}
	pid, err := loadgen.RedisInfoInt(info, "process_id")
	return int(pid), err
}

// scriptTime is the time Redis spent running scripts since CONFIG
// RESETSTAT, in µs, and the calls: EVAL and EVALSHA together.
func scriptTime(ctx context.Context, b *testing.B, c *goredis.Client) (usec, calls float64) {
	b.Helper()
	info, err := c.Info(ctx, "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, command := range []string{"cmdstat_eval", "cmdstat_evalsha"} {
		// calls=…,usec=…,usec_per_call=…,…
		stats, _ := loadgen.RedisInfoField(info, command)
		for _, kv := range strings.Split(stats, ",") {
			k, v, _ := strings.Cut(kv, "=")
			f, _ := strconv.ParseFloat(v, 64)
			switch k {
			case "usec":
				usec += f
			case "calls":
				calls += f
			}
		}
	}
	return usec, calls
}
