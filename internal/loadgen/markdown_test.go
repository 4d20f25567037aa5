package loadgen

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSpliceReplacesOnlyItsSection: the hand-written text around the
// markers and other sections survive a regeneration.
func TestSpliceReplacesOnlyItsSection(t *testing.T) {
	doc := "# Benchmarks\n\nWhy the figures look so.\n\n" +
		Section("results", "old results") +
		"\nA note between.\n\n" +
		Section("soak", "old soak") +
		"\nThe end.\n"
	got, found, err := Splice(doc, "results", "new results\n| a | b |\n")
	require.NoError(t, err)
	require.True(t, found)
	want := "# Benchmarks\n\nWhy the figures look so.\n\n" +
		Section("results", "new results\n| a | b |") +
		"\nA note between.\n\n" +
		Section("soak", "old soak") +
		"\nThe end.\n"
	require.Equal(t, want, got)

	again, _, err := Splice(got, "results", "new results\n| a | b |\n")
	require.NoError(t, err)
	require.Equal(t, got, again, "splicing the same body twice changes nothing")

	same, found, err := Splice(doc, "profile", "x")
	require.NoError(t, err)
	require.False(t, found)
	require.Equal(t, doc, same)
}

func TestMalformedSectionsAreRefused(t *testing.T) {
	for name, doc := range map[string]string{
		"begin without end": "<!-- handoff-load:results -->\nx\n",
		"end before begin":  "<!-- /handoff-load:results -->\nx\n<!-- handoff-load:results -->\n",
		"twice":             Section("results", "a") + Section("results", "b"),
	} {
		_, _, err := Splice(doc, "results", "new")
		require.Error(t, err, name)
	}
}
