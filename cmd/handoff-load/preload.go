package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

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
