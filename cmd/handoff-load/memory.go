package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/journeyhandoff/handoff/internal/loadgen"
	redisstore "github.com/journeyhandoff/handoff/internal/store/redis"
)

// savedPerSampled is how many journeys the second memory state saves for
// each one -memory-sample reads: used_memory moves by a few KiB with
// Redis's own housekeeping, which must be spread over enough journeys to
// vanish.
const savedPerSampled = 20

// memory is what Redis holds per journey at one size, in the two states
// the memory targets name, both measured from outside with INFO and MEMORY
// USAGE, before anything else writes.
type memory struct {
	journeys int
	loadRate float64 // creates per second while preloading
	// preloaded is right after the preload: each journey as CreateJourney
	// leaves it (hash, index, a timeline of one touchpoint, a change log of
	// one change).
	preloaded journeyMemory
	// saved is right after one save each, through handoffd as a website's,
	// of saved journeys spread over all of them: a journey in the hour
	// after a change, its change log holding what the store logs for it.
	saved       journeyMemory
	savedCount  int
	redisRSS    int64
	redisMemory int64 // used_memory after the preload
}

// journeyMemory is one state of a journey in Redis.
type journeyMemory struct {
	// used is used_memory per journey, Redis's clients apart: everything it
	// spends on a journey, keyspace and expiry entries included.
	used float64
	// MEMORY USAGE (SAMPLES 0: every element counted) of each key, and the
	// answers' compact JSON, means over the sampled journeys.
	hash, index, timeline, changeLog, rawJSON float64
	sampled                                   int
}

// atRest is the journey as the first memory target counts it: hash,
// index and keyspace; the timeline and change log apart (the log empties an
// hour after the last change, the timeline is the audit trail).
func (m memory) atRest() float64 {
	return m.preloaded.used - m.preloaded.timeline - m.preloaded.changeLog
}

// afterChange is the journey as the second counts it, for the hour after
// a change: its change log included, its timeline apart. NaN when the
// state was not measured.
func (m memory) afterChange() float64 {
	if m.savedCount == 0 {
		return nan
	}
	return m.saved.used - m.saved.timeline
}

// storedMemory is INFO memory's used_memory less its clients' buffers
// (mem_clients_normal), which follow how many connections are open and
// what they have in flight (handoffd's pool grows under load), not what is
// stored.
func storedMemory(ctx context.Context, rc *goredis.Client) (used, stored int64, err error) {
	info, err := rc.Info(ctx, "memory").Result()
	if err != nil {
		return 0, 0, err
	}
	if used, err = loadgen.RedisInfoInt(info, "used_memory"); err != nil {
		return 0, 0, err
	}
	clients, err := loadgen.RedisInfoInt(info, "mem_clients_normal")
	if err != nil {
		return 0, 0, err
	}
	return used, used - clients, nil
}

// evenly is m indexes spread evenly over [0, n).
func evenly(n, m int) []int {
	m = min(m, n)
	out := make([]int, m)
	for s := range out {
		out[s] = s * n / m
	}
	return out
}

// sampleKeys reads MEMORY USAGE of the keys of the journeys ids and the
// size of their answers as JSON (jsonOf(k) for ids[k]), as means.
func sampleKeys(ctx context.Context, rc *goredis.Client, st *redisstore.Store, ids []int, jsonOf func(k int) int) (journeyMemory, error) {
	var m journeyMemory
	for k, i := range ids {
		keys := st.KeysOf(mustKey(journeyName(i)))
		var sizes [4]int64
		for x, key := range []string{keys.Journey, keys.Index, keys.Timeline, keys.Log} {
			var err error
			if sizes[x], err = rc.MemoryUsage(ctx, key, 0).Result(); err != nil && !errors.Is(err, goredis.Nil) {
				return m, fmt.Errorf("MEMORY USAGE %s: %w", key, err)
			}
		}
		m.hash += float64(sizes[0])
		m.index += float64(sizes[1])
		m.timeline += float64(sizes[2])
		m.changeLog += float64(sizes[3])
		m.rawJSON += float64(jsonOf(k))
	}
	if n := float64(len(ids)); n > 0 {
		m.hash, m.index, m.timeline, m.changeLog, m.rawJSON = m.hash/n, m.index/n, m.timeline/n, m.changeLog/n, m.rawJSON/n
	}
	m.sampled = len(ids)
	return m, nil
}

// load empties Redis, preloads n journeys and measures what they take
// right after, then (unless only the soak runs) what they take right after
// one save each, before anything else writes.
func (d *driver) load(ctx context.Context, n int) (memory, error) {
	m := memory{journeys: n}
	if err := d.rc.Do(ctx, "FLUSHALL", "SYNC").Err(); err != nil {
		return m, err
	}
	if quote != nil {
		if err := quote.put(ctx, d.st); err != nil {
			return m, err
		}
	}
	_, base, err := storedMemory(ctx, d.rc)
	if err != nil {
		return m, err
	}
	if m.loadRate, err = preload(ctx, d.st, 0, n, d.log); err != nil {
		return m, err
	}
	used, afterPreload, err := storedMemory(ctx, d.rc)
	if err != nil {
		return m, err
	}
	m.redisMemory = used
	if s, err := loadgen.SampleProc(d.redis.pid()); err == nil {
		m.redisRSS = s.RSS
	}
	sample := evenly(n, d.opts.memorySample)
	if m.preloaded, err = sampleKeys(ctx, d.rc, d.st, sample, func(k int) int { return jsonSize(answers(sample[k])) }); err != nil {
		return m, err
	}
	m.preloaded.used = float64(afterPreload-base) / float64(n)
	if d.opts.soakOnly {
		return m, nil
	}

	saved := evenly(n, savedPerSampled*d.opts.memorySample)
	fmt.Fprintf(d.log, "  saving %s journeys once each, for their memory after a change\n", thousands(int64(len(saved))))
	saves, err := d.grpc.savesTo(func(k int) int { return saved[k] }, len(saved))
	if err != nil {
		return m, err
	}
	if err := sendEach(ctx, timed(saves.op), len(saved), d.opts.callers); err != nil {
		return m, fmt.Errorf("save each journey once: %w", err)
	}
	_, afterSaves, err := storedMemory(ctx, d.rc)
	if err != nil {
		return m, err
	}
	// The k-th saved journey got page k's answers (savesTo's request k).
	ks := evenly(len(saved), d.opts.memorySample)
	ids := make([]int, len(ks))
	for x, k := range ks {
		ids[x] = saved[k]
	}
	m.saved, err = sampleKeys(ctx, d.rc, d.st, ids, func(x int) int { return savedJSONSize(ids[x], uint64(ks[x])) })
	if err != nil {
		return m, err
	}
	m.saved.used = m.preloaded.used + float64(afterSaves-afterPreload)/float64(len(saved))
	m.savedCount = len(saved)
	return m, nil
}

// savedJSONSize is the size of journey i's answers as JSON after page
// save seq.
func savedJSONSize(i int, seq uint64) int {
	j, _, err := newJourney(i, time.Now())
	if err != nil {
		panic(err) // only maps, strings, numbers and bools
	}
	newPageSave(seq).applyTo(j)
	return jsonSize(j.GetData().AsMap())
}

// sendEach calls op count times, from workers goroutines at once, and
// returns the first errors.
func sendEach(ctx context.Context, op loadgen.Op, count, workers int) error {
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				k := next.Add(1) - 1
				if k >= int64(count) {
					return
				}
				if err := op(ctx, w, uint64(k)); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errors.Join(errs...), ctx.Err())
}
