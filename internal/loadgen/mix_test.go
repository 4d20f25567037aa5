package loadgen

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTheMixHoldsItsProportionsExactlyAndInterleaved: over any run of 100
// consecutive requests, 70/20/10 is exactly 70, 20 and 10; and no run of 10
// strays by more than one from 7/2/1, so a short phase sees the mix too.
func TestTheMixHoldsItsProportionsExactlyAndInterleaved(t *testing.T) {
	m, err := ParseMix("save=70,get=20,handoff=10")
	require.NoError(t, err)
	require.Equal(t, "save=70,get=20,handoff=10", m.String())
	for _, start := range []uint64{0, 37, 1 << 40} {
		counts := make([]int, 3)
		for seq := start; seq < start+100; seq++ {
			counts[m.Pick(seq)]++
		}
		require.Equal(t, []int{70, 20, 10}, counts, "from %d", start)
	}
	for start := range uint64(200) {
		counts := make([]int, 3)
		for seq := start; seq < start+10; seq++ {
			counts[m.Pick(seq)]++
		}
		require.InDelta(t, 7, counts[0], 1, "saves in 10 from %d", start)
		require.InDelta(t, 2, counts[1], 1, "gets in 10 from %d", start)
		require.InDelta(t, 1, counts[2], 1, "handoffs in 10 from %d", start)
	}
}

func TestAMixOfOneKindIsAlwaysThatKind(t *testing.T) {
	m, err := NewMix(Share{Name: "save", Weight: 3})
	require.NoError(t, err)
	for seq := range uint64(10) {
		require.Equal(t, 0, m.Pick(seq))
	}
}

func TestMalformedMixesAreRefused(t *testing.T) {
	for _, s := range []string{"", "save", "save=0", "save=-1", "save=x", "=3", "save=70,get"} {
		_, err := ParseMix(s)
		require.Error(t, err, "%q", s)
	}
}
