package insightgen

import (
	"sync/atomic"
	"time"
)

// Clock is a clock Replay sets: handoffd's config.Config.Now when the
// replay runs in process. Until set it reads the real time. Safe for
// concurrent use.
type Clock struct {
	ns atomic.Int64 // Unix nanoseconds; 0: not set
}

// Now is the time the clock is set to, or the real time.
func (c *Clock) Now() time.Time {
	if ns := c.ns.Load(); ns != 0 {
		return time.Unix(0, ns).UTC()
	}
	return time.Now()
}

// Set fixes the clock at t.
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }
