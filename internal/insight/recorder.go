package insight

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeyhandoff/handoff/internal/store"
)

// Recorder adds up the counts of the writes it observes, per type and day,
// and writes them to the store in batches (docs/insight.md, "Counted in
// the instance, written in batches"). Safe for concurrent use.
type Recorder struct {
	steps     func(journeyType string, version int64) []string
	retention time.Duration
	log       *slog.Logger

	mu      sync.Mutex
	pending map[typeDay]map[string]int64

	flushFailures prometheus.Counter
}

type typeDay struct{ journeyType, day string }

// NewRecorder returns a Recorder whose counts are kept for retention
// after their day; steps are a type version's steps in order. It exists
// before the store it writes to, which reports writes to it.
func NewRecorder(steps func(journeyType string, version int64) []string, retention time.Duration, log *slog.Logger) *Recorder {
	return &Recorder{
		steps: steps, retention: retention, log: log, pending: make(map[typeDay]map[string]int64),
		flushFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "handoff_insight_flush_failures_total",
			Help: "Writes of this instance's insight counts that failed; the counts are kept for the next.",
		}),
	}
}

// Collectors are the recorder's metrics: failed flushes, and how many
// counts wait to be written.
func (r *Recorder) Collectors() []prometheus.Collector {
	return []prometheus.Collector{r.flushFailures, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "handoff_insight_pending_counts",
		Help: "Insight counts (type, day and field) this instance holds until its next write.",
	}, func() float64 {
		r.mu.Lock()
		defer r.mu.Unlock()
		n := 0
		for _, counts := range r.pending {
			n += len(counts)
		}
		return float64(n)
	})}
}

// Observe counts one write: a store.WriteOptions.Observe. It never blocks
// on the store.
func (r *Recorder) Observe(w store.Written) {
	if !counted(w) {
		return // before looking its steps up
	}
	steps := r.steps(w.Type, w.TypeVersion)
	r.mu.Lock()
	defer r.mu.Unlock()
	Count(w, steps, func(day, field string, n int64) { r.addLocked(typeDay{w.Type, day}, field, n) })
}

// addLocked adds n to a pending count; r.mu is held.
func (r *Recorder) addLocked(k typeDay, field string, n int64) {
	counts := r.pending[k]
	if counts == nil {
		counts = make(map[string]int64)
		r.pending[k] = counts
	}
	counts[field] += n
}

// Flush writes what is pending to st. Counts that failed to be written
// are kept for the next flush.
func (r *Recorder) Flush(ctx context.Context, st store.Insight) error {
	r.mu.Lock()
	pending := r.pending
	r.pending = make(map[typeDay]map[string]int64)
	r.mu.Unlock()
	batch := make([]store.InsightCounts, 0, len(pending))
	for k, counts := range pending {
		for f, n := range counts {
			if n == 0 {
				delete(counts, f) // a forecast moved within the day
			}
		}
		if len(counts) > 0 {
			batch = append(batch, store.InsightCounts{Type: k.journeyType, Day: k.day, Counts: counts})
		}
	}
	if len(batch) == 0 {
		return nil
	}
	err := st.AddInsight(ctx, batch, r.retention)
	if err != nil {
		r.flushFailures.Inc()
		// Put them back: a store that comes back gets them all. A batch
		// half written before the error is counted twice; statistics.
		r.mu.Lock()
		for _, b := range batch {
			for f, n := range b.Counts {
				r.addLocked(typeDay{b.Type, b.Day}, f, n)
			}
		}
		r.mu.Unlock()
	}
	return err
}

// Run flushes to st every interval until ctx ends, then once more
// (within final), so a stopping instance writes what it counted.
func (r *Recorder) Run(ctx context.Context, st store.Insight, every, final time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), final)
			if err := r.Flush(fctx, st); err != nil {
				r.log.Warn("insight counts not written at shutdown", "error", err)
			}
			cancel()
			return
		case <-tick.C:
			if err := r.Flush(ctx, st); err != nil && ctx.Err() == nil {
				r.log.Warn("insight counts not written; kept for the next flush", "error", err)
			}
		}
	}
}
