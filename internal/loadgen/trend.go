package loadgen

import (
	"fmt"
	"slices"
)

// Growth compares the start and the end of a series of samples taken at
// even intervals: the median of its last quarter less the median of its
// first. Medians, because a garbage-collected heap saws up and down between
// collections and a single sample says little; quarters, so a leak that
// grows steadily shows as a clear difference. It needs 4 samples or more.
func Growth(samples []float64) (first, last float64, err error) {
	if len(samples) < 4 {
		return 0, 0, fmt.Errorf("%d samples: need at least 4", len(samples))
	}
	q := len(samples) / 4
	return median(samples[:q]), median(samples[len(samples)-q:]), nil
}

// Flat says whether a series grew by no more than the larger of relTol
// (a fraction of its start) and absTol.
func Flat(samples []float64, relTol, absTol float64) (growth float64, flat bool, err error) {
	first, last, err := Growth(samples)
	if err != nil {
		return 0, false, err
	}
	growth = last - first
	return growth, growth <= max(relTol*first, absTol), nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
