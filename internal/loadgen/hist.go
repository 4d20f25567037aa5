package loadgen

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: 1 ns to 1 minute at 3 significant digits (0.1%). A
// slower call is recorded as a minute, so the tail still shows it.
const (
	histLowest  = 1
	histHighest = int64(time.Minute)
	histDigits  = 3
)

// Latencies is an HDR histogram of durations, safe for concurrent use.
// Recording from many goroutines goes through shards so they rarely meet on
// one lock.
type Latencies struct {
	shards []latencyShard
}

type latencyShard struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

// NewLatencies returns an empty histogram with the given number of shards
// (at least one); give about one per recording goroutine, up to 16.
func NewLatencies(shards int) *Latencies {
	shards = max(1, min(shards, 16))
	l := &Latencies{shards: make([]latencyShard, shards)}
	for i := range l.shards {
		l.shards[i].h = hdrhistogram.New(histLowest, histHighest, histDigits)
	}
	return l
}

// Record adds one duration, from the goroutine numbered worker.
func (l *Latencies) Record(worker int, d time.Duration) {
	s := &l.shards[worker%len(l.shards)]
	v := min(max(int64(d), histLowest), histHighest)
	s.mu.Lock()
	_ = s.h.RecordValue(v) // cannot fail: v is clamped into range
	s.mu.Unlock()
}

// Summary merges the shards and reads the percentiles.
func (l *Latencies) Summary() Summary {
	all := hdrhistogram.New(histLowest, histHighest, histDigits)
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		all.Merge(s.h)
		s.mu.Unlock()
	}
	return summarize(all)
}

// Summary is what a report shows of a histogram.
type Summary struct {
	Count                    int64
	Mean                     time.Duration
	P50, P90, P99, P999, Max time.Duration
}

func summarize(h *hdrhistogram.Histogram) Summary {
	if h.TotalCount() == 0 {
		return Summary{}
	}
	at := func(p float64) time.Duration { return time.Duration(h.ValueAtPercentile(p)) }
	return Summary{
		Count: h.TotalCount(),
		Mean:  time.Duration(h.Mean()),
		P50:   at(50),
		P90:   at(90),
		P99:   at(99),
		P999:  at(99.9),
		Max:   time.Duration(h.Max()),
	}
}

// Merge adds every duration recorded in o to l.
func (l *Latencies) Merge(o *Latencies) {
	for i := range o.shards {
		src := &o.shards[i]
		dst := &l.shards[i%len(l.shards)]
		src.mu.Lock()
		dst.mu.Lock()
		dst.h.Merge(src.h)
		dst.mu.Unlock()
		src.mu.Unlock()
	}
}
