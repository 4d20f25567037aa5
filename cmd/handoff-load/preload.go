package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/journeyhandoff/handoff/internal/loadgen"
	redisstore "github.com/journeyhandoff/handoff/internal/store/redis"
)

// preloadWorkers is how many creates run at once: enough to keep Redis
// busy, few enough to stay inside the store's connection pool.
const preloadWorkers = 16

// preload creates journeys [from, to) through the real store's create
// script, the one handoffd's CreateJourney runs, so the keys are exactly
// what the service writes. It returns creates per second.
func preload(ctx context.Context, st *redisstore.Store, from, to int, progress io.Writer) (float64, error) {
	if to <= from {
		return 0, nil
	}
	began := time.Now()
	var next atomic.Int64
	next.Store(int64(from))
	var done atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	stop := make(chan struct{})
	go func() { // progress, since a million creates take a while
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fmt.Fprintf(progress, "  preloaded %d of %d journeys\n", int(done.Load())+from, to)
			}
		}
	}()
	for range preloadWorkers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= to {
					return
				}
				j, tp, err := newJourney(i, time.Now())
				if err == nil {
					_, _, err = st.CreateJourney(ctx, j, tp, "")
				}
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("preload journey %d: %w", i, err) })
					next.Store(int64(to))
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	close(stop)
	if firstErr != nil {
		return 0, firstErr
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return float64(to-from) / time.Since(began).Seconds(), nil
}

// memory is what Redis holds per journey.
type memory struct {
	journeys    int
	loadRate    float64 // creates per second while preloading
	usedPerJ    float64 // (used_memory − used_memory before the preload) ÷ journeys
	hash        float64 // MEMORY USAGE of the journey hash, mean over the sample
	index       float64 // the customer's index (one journey per customer)
	timeline    float64 // the timeline list (one touchpoint, STARTED)
	changeLog   float64 // the change log (one change, kept an hour after the last change)
	rawJSON     float64 // the answers as compact JSON
	sampled     int
	redisRSS    int64
	redisMemory int64 // used_memory
}

// withoutTimeline is the journey's own share of used_memory: everything
// Redis spends on it (keyspace entries included) less its timeline and its
// change log, which are counted apart.
func (m memory) withoutTimeline() float64 { return m.usedPerJ - m.timeline - m.changeLog }

// usedMemory is INFO memory's used_memory.
func usedMemory(ctx context.Context, rc *goredis.Client) (int64, error) {
	info, err := rc.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	return loadgen.RedisInfoInt(info, "used_memory")
}

// measureMemory samples up to sample of the n journeys, evenly spread, with
// MEMORY USAGE (SAMPLES 0: every element counted), and reads used_memory
// against base, taken before the preload.
func measureMemory(ctx context.Context, rc *goredis.Client, st *redisstore.Store, base int64, n, sample int) (memory, error) {
	m := memory{journeys: n}
	used, err := usedMemory(ctx, rc)
	if err != nil {
		return m, err
	}
	m.redisMemory = used
	m.usedPerJ = float64(used-base) / float64(n)
	sample = min(sample, n)
	for s := range sample {
		i := s * n / sample
		keys := st.KeysOf(mustKey(journeyName(i)))
		sizes := make([]int64, 4)
		for x, key := range []string{keys.Journey, keys.Index, keys.Timeline, keys.Log} {
			if sizes[x], err = rc.MemoryUsage(ctx, key, 0).Result(); err != nil {
				return m, fmt.Errorf("MEMORY USAGE %s: %w", key, err)
			}
		}
		m.hash += float64(sizes[0])
		m.index += float64(sizes[1])
		m.timeline += float64(sizes[2])
		m.changeLog += float64(sizes[3])
		m.rawJSON += float64(jsonSize(answers(i)))
	}
	if sample > 0 {
		f := float64(sample)
		m.hash, m.index, m.timeline, m.changeLog, m.rawJSON = m.hash/f, m.index/f, m.timeline/f, m.changeLog/f, m.rawJSON/f
	}
	m.sampled = sample
	return m, nil
}
