package loadgen

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Op is one request. worker numbers the goroutine calling it (stable for
// that goroutine's life and never shared, so an op may keep per-worker
// state); seq numbers the request within the run from 0, so a workload can
// pick what to do deterministically.
type Op func(ctx context.Context, worker int, seq uint64) error

// Result is one run's measurement. Requests started (closed loop) or
// scheduled (open loop) during the warm-up are not in it.
type Result struct {
	Latency    Summary
	Hist       *Latencies
	OK, Errors int64
	FirstError error
	// Elapsed is the measured window: the duration for a closed loop; for an
	// open loop, from the first measured request's intended start to the
	// last one's completion, so a service that falls behind shows a
	// throughput below the rate asked for.
	Elapsed    time.Duration
	Throughput float64 // OK requests per second of Elapsed
}

// counters gathers a run's outcome from its workers.
type counters struct {
	ok, errs atomic.Int64
	mu       sync.Mutex
	first    error
}

func (c *counters) fail(err error) {
	if c.errs.Add(1) == 1 {
		c.mu.Lock()
		c.first = err
		c.mu.Unlock()
	}
}

func (c *counters) result(lat *Latencies, elapsed time.Duration) Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := Result{Latency: lat.Summary(), Hist: lat, OK: c.ok.Load(), Errors: c.errs.Load(), FirstError: c.first, Elapsed: elapsed}
	if elapsed > 0 {
		r.Throughput = float64(r.OK) / elapsed.Seconds()
	}
	return r
}

// Combine joins the results of several runs of one workload (rounds of it,
// interleaved with other workloads so that both meet the same noise):
// counts add up, latencies merge, and throughput is over the windows added
// together. The first error kept is the earliest run's.
func Combine(rs ...Result) Result {
	lat := NewLatencies(1)
	var out Result
	for _, r := range rs {
		if r.Hist != nil {
			lat.Merge(r.Hist)
		}
		out.OK += r.OK
		out.Errors += r.Errors
		out.Elapsed += r.Elapsed
		if out.FirstError == nil {
			out.FirstError = r.FirstError
		}
	}
	out.Hist = lat
	out.Latency = lat.Summary()
	if out.Elapsed > 0 {
		out.Throughput = float64(out.OK) / out.Elapsed.Seconds()
	}
	return out
}

// Closed runs a fixed number of callers, each sending its next request as
// soon as the last one answered. Its throughput is what the system sustains
// at that concurrency; its latencies are only those the callers waited for.
type Closed struct {
	Callers  int
	Warmup   time.Duration
	Duration time.Duration
}

// Run calls op from c.Callers goroutines until the warm-up and the measured
// window have passed (or ctx ends), then waits for the calls in flight.
func (c Closed) Run(ctx context.Context, op Op) Result {
	callers := max(c.Callers, 1)
	lat := NewLatencies(callers)
	var cs counters
	var next atomic.Uint64
	from := time.Now().Add(c.Warmup)
	to := from.Add(c.Duration)
	var wg sync.WaitGroup
	for w := range callers {
		wg.Go(func() {
			for ctx.Err() == nil {
				began := time.Now()
				if !began.Before(to) {
					return
				}
				err := op(ctx, w, next.Add(1)-1)
				if began.Before(from) {
					continue // warm-up
				}
				if err != nil {
					cs.fail(err)
					continue
				}
				lat.Record(w, time.Since(began))
				cs.ok.Add(1)
			}
		})
	}
	wg.Wait()
	return cs.result(lat, c.Duration)
}

// Open sends requests at a fixed rate whatever the answers do, as many
// independent users would. A request's latency runs from when it was meant
// to start, so time spent waiting behind a slow one counts.
type Open struct {
	Rate     float64 // requests per second
	Warmup   time.Duration
	Duration time.Duration
	// MaxInFlight bounds the requests outstanding (and so the goroutines
	// sending them). When all are busy, the next request waits, and that
	// wait is part of its latency.
	MaxInFlight int
}

// Intended is when request seq of a run started at start at rate per
// second is meant to begin. It is computed from the start, not from the
// previous request, so scheduling never drifts.
func Intended(start time.Time, rate float64, seq uint64) time.Time {
	return start.Add(time.Duration(float64(seq) / rate * float64(time.Second)))
}

// Run schedules rate × (warm-up + duration) requests and waits for all of
// them to finish.
func (o Open) Run(ctx context.Context, op Op) Result {
	inFlight := max(o.MaxInFlight, 1)
	lat := NewLatencies(inFlight)
	var cs counters
	type job struct {
		seq uint64
		at  time.Time
	}
	jobs := make(chan job, inFlight)
	start := time.Now()
	from := start.Add(o.Warmup)
	var lastDone atomic.Int64 // UnixNano of the last measured completion
	var wg sync.WaitGroup
	for w := range inFlight {
		wg.Go(func() {
			for j := range jobs {
				err := op(ctx, w, j.seq)
				done := time.Now()
				if j.at.Before(from) {
					continue // warm-up
				}
				for {
					last := lastDone.Load()
					if done.UnixNano() <= last || lastDone.CompareAndSwap(last, done.UnixNano()) {
						break
					}
				}
				if err != nil {
					cs.fail(err)
					continue
				}
				lat.Record(w, done.Sub(j.at))
				cs.ok.Add(1)
			}
		})
	}

	total := uint64((o.Warmup + o.Duration).Seconds() * o.Rate)
	timer := time.NewTimer(0)
	<-timer.C
	var measuredFrom time.Time
	for seq := uint64(0); seq < total && ctx.Err() == nil; seq++ {
		at := Intended(start, o.Rate, seq)
		if measuredFrom.IsZero() && !at.Before(from) {
			measuredFrom = at
		}
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
			}
		}
		select {
		case jobs <- job{seq: seq, at: at}:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	var elapsed time.Duration
	if last := lastDone.Load(); last > 0 && !measuredFrom.IsZero() {
		elapsed = time.Unix(0, last).Sub(measuredFrom)
	}
	return cs.result(lat, elapsed)
}
