package service

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/journeytype"
)

// A --remind-before as long as a type's ttl, or longer, would make its
// journeys due for a reminder as soon as they are written: it does not
// apply to that type, whose own remind_before still does.
func TestRemindBeforeFallbackNotShorterThanTheTypesTTLDoesNotApply(t *testing.T) {
	types := NewTypes()
	load := func(id, extra string) {
		t.Helper()
		def, err := journeytype.Parse([]byte("name: journeyTypes/"+id+"\n"+extra+"steps:\n  - id: start\n"), id+".yaml")
		require.NoError(t, err)
		tp, err := journeytype.Compile(def)
		require.NoError(t, err)
		types.versions[typeVersion{id, 1}] = tp
	}
	load("short", "ttl: 3600s\n")
	load("short-own", "ttl: 3600s\nremindBefore: 600s\n")
	load("long", "ttl: 172800s\n")
	load("default", "")

	for _, tc := range []struct {
		id       string
		fallback time.Duration
		want     time.Duration
	}{
		{"short", 2 * time.Hour, 0},
		{"short", time.Hour, 0},
		{"short", 59 * time.Minute, 59 * time.Minute},
		{"short-own", 2 * time.Hour, 10 * time.Minute},
		{"long", 2 * time.Hour, 2 * time.Hour},
		{"default", 2 * time.Hour, 2 * time.Hour}, // --journey-ttl: checked by config
		{"unknown", 2 * time.Hour, 2 * time.Hour},
	} {
		require.Equal(t, tc.want, types.RemindBefore(tc.id, 1, tc.fallback), "%s with --remind-before %s", tc.id, tc.fallback)
	}
}
