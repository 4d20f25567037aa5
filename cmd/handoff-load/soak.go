package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/journeyhandoff/handoff/internal/loadgen"
)

// Flatness tolerances: the median of the soak's last quarter may exceed
// that of its first by this much before it counts as growth. The heap
// moves with the garbage collector's cycle and the goroutines with the
// calls in flight, so neither is held to zero.
const (
	heapRelTol       = 0.10
	heapAbsTol       = 2 << 20
	goroutinesRelTol = 0.10
	goroutinesAbsTol = 5
)

// soakResult is the steady run: the gRPC mix at a fixed rate, with
// handoffd's heap, goroutines and resident set sampled throughout.
type soakResult struct {
	res                          loadgen.Result
	at                           []time.Duration // since the warm-up ended
	heap, goroutines, rss        []float64
	heapGrowth, goroutinesGrowth float64
	heapFlat, goroutinesFlat     bool
}

func (d *driver) soakRun(ctx context.Context, n int) (soakResult, error) {
	fmt.Fprintf(d.log, "  soak: gRPC mix at %s for %s\n", load{rate: d.opts.rate}, d.opts.soak)
	var s soakResult
	mix, err := d.mixOp(d.grpc, n)
	if err != nil {
		return s, err
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	done := make(chan struct{})
	sampled := make(chan error, 1)
	go func() {
		// Start sampling when the warm-up ends, then every soakEvery.
		began := time.Now().Add(d.opts.warmup)
		t := time.NewTimer(d.opts.warmup)
		defer t.Stop()
		for {
			select {
			case <-done:
				sampled <- nil
				return
			case <-t.C:
			}
			heap, gr, err := goMetrics(ctx, hc, "http://"+d.hd.httpAddr+"/metrics")
			if err != nil {
				sampled <- err
				return
			}
			p, err := loadgen.SampleProc(d.hd.pid())
			if err != nil {
				sampled <- err
				return
			}
			s.at = append(s.at, time.Since(began))
			s.heap = append(s.heap, heap)
			s.goroutines = append(s.goroutines, gr)
			s.rss = append(s.rss, float64(p.RSS))
			t.Reset(d.opts.soakEvery)
		}
	}()
	s.res = loadgen.Open{Rate: d.opts.rate, Warmup: d.opts.warmup, Duration: d.opts.soak, MaxInFlight: d.opts.maxInFlight}.Run(ctx, timed(mix.op))
	close(done)
	if err := <-sampled; err != nil {
		return s, fmt.Errorf("soak: sampling handoffd: %w", err)
	}
	if s.heapGrowth, s.heapFlat, err = loadgen.Flat(s.heap, heapRelTol, heapAbsTol); err != nil {
		return s, fmt.Errorf("soak: %w", err)
	}
	if s.goroutinesGrowth, s.goroutinesFlat, err = loadgen.Flat(s.goroutines, goroutinesRelTol, goroutinesAbsTol); err != nil {
		return s, fmt.Errorf("soak: %w", err)
	}
	return s, ctx.Err()
}

// goMetrics reads handoffd's heap in use and goroutine count from its
// Prometheus endpoint.
func goMetrics(ctx context.Context, hc *http.Client, url string) (heap, goroutines float64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	res, err := hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, 0, err
	}
	if res.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET %s: %s", url, res.Status)
	}
	if heap, err = loadgen.PromValue(string(b), "go_memstats_heap_inuse_bytes"); err != nil {
		return 0, 0, err
	}
	if goroutines, err = loadgen.PromValue(string(b), "go_goroutines"); err != nil {
		return 0, 0, err
	}
	return heap, goroutines, nil
}
