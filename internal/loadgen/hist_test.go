package loadgen

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPercentilesOfEvenlySpreadLatenciesAreWhereTheyFall records 1 ms to
// 1000 ms, one each, from several workers: each percentile must be the
// value at that rank, to the histogram's 0.1% precision.
func TestPercentilesOfEvenlySpreadLatenciesAreWhereTheyFall(t *testing.T) {
	l := NewLatencies(4)
	for i := 1; i <= 1000; i++ {
		l.Record(i, time.Duration(i)*time.Millisecond)
	}
	s := l.Summary()
	require.EqualValues(t, 1000, s.Count)
	for _, tc := range []struct {
		name      string
		got, want time.Duration
	}{
		{"p50", s.P50, 500 * time.Millisecond},
		{"p90", s.P90, 900 * time.Millisecond},
		{"p99", s.P99, 990 * time.Millisecond},
		{"p99.9", s.P999, 999 * time.Millisecond},
		{"max", s.Max, 1000 * time.Millisecond},
		{"mean", s.Mean, 500500 * time.Microsecond},
	} {
		require.InDelta(t, float64(tc.want), float64(tc.got), 0.002*float64(tc.want), tc.name)
	}
	require.EqualValues(t, 101, l.CountAtLeast(900*time.Millisecond))
}

// TestALatencyBeyondTheHistogramsRangeStillCounts: a call slower than a
// minute is recorded as a minute, not dropped, so the tail shows it.
func TestALatencyBeyondTheHistogramsRangeStillCounts(t *testing.T) {
	l := NewLatencies(1)
	l.Record(0, time.Millisecond)
	l.Record(0, time.Hour)
	s := l.Summary()
	require.EqualValues(t, 2, s.Count)
	require.InDelta(t, float64(time.Minute), float64(s.Max), 0.002*float64(time.Minute))
}

func TestAnEmptyHistogramSummarizesToZero(t *testing.T) {
	require.Equal(t, Summary{}, NewLatencies(3).Summary())
}

// CountAtLeast is how many recorded durations are at least d (to the
// histogram's precision): what the tests check tails with.
func (l *Latencies) CountAtLeast(d time.Duration) int64 {
	var n int64
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		for _, b := range s.h.Distribution() {
			if b.To >= int64(d) {
				n += b.Count
			}
		}
		s.mu.Unlock()
	}
	return n
}
