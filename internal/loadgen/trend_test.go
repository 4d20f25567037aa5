package loadgen

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFlatnessSeesALeakButNotTheGarbageCollectorsSaw: a heap that saws
// between 20 and 30 MB is flat; one that also gains 1 MB a sample is not;
// a goroutine count that creeps up by one every few samples is not.
func TestFlatnessSeesALeakButNotTheGarbageCollectorsSaw(t *testing.T) {
	const mb = 1 << 20
	saw := make([]float64, 60)
	leak := make([]float64, 60)
	creep := make([]float64, 60)
	for i := range saw {
		saw[i] = (25 + 5*math.Sin(float64(i))) * mb
		leak[i] = saw[i] + float64(i)*mb
		creep[i] = 40 + float64(i/5)
	}
	for _, tc := range []struct {
		name           string
		samples        []float64
		relTol, absTol float64
		flat           bool
	}{
		{"sawing heap", saw, 0.10, 2 * mb, true},
		{"leaking heap", leak, 0.10, 2 * mb, false},
		{"creeping goroutines", creep, 0, 2, false},
		{"steady goroutines", make([]float64, 8), 0, 2, true},
	} {
		_, flat, err := Flat(tc.samples, tc.relTol, tc.absTol)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.flat, flat, tc.name)
	}
	_, _, err := Flat([]float64{1, 2, 3}, 0.1, 1)
	require.Error(t, err, "too few samples to tell")
}
