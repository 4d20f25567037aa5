package redis

import (
	"context"
	_ "embed"
	"fmt"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

var (
	//go:embed since.lua
	sinceLua    string
	sinceArgs   = args{"after"}
	sinceScript = newScript(sinceArgs, sinceLua)
)

// ChangesSince implements store.Store.
func (s *Store) ChangesSince(ctx context.Context, key store.JourneyKey, after int64) ([]*handoffv1.JourneyChange, bool, error) {
	// No revision is below 0; clamping keeps the script's arithmetic within
	// the integers a Lua number holds exactly.
	args := sinceArgs.make(0)
	args[sinceArgs.index("after")] = max(after, -1)
	res, err := sinceScript.Run(ctx, s.client, []string{s.journeyKey(key), s.logKey(key)}, args...).Slice()
	if err != nil {
		return nil, false, wrapErr(ctx, "changes since", err)
	}
	if len(res) == 0 {
		return nil, false, fmt.Errorf("changes since: %w", store.ErrNotFound)
	}
	revision, ok := res[0].(int64)
	if !ok {
		return nil, false, fmt.Errorf("changes since: unexpected script result %v", res[0])
	}
	if after >= revision {
		// A revision from the future is not one the caller can have seen
		// (it belongs to an earlier journey of that name, or is made up).
		return nil, after == revision, nil
	}
	changes := make([]*handoffv1.JourneyChange, 0, len(res)-1)
	for _, raw := range res[1:] {
		b, _ := raw.(string)
		c, err := s.decodeChange([]byte(b))
		if err != nil {
			return nil, false, fmt.Errorf("changes since: decode change: %w", err)
		}
		// A change copied in from another journey's log (sealed ones open
		// only for the journey they name) must not be shown as this one's.
		if c.GetJourney().GetName() != key.Name() {
			return nil, false, fmt.Errorf("changes since: the log of %s holds a change of %s", key.Name(), c.GetJourney().GetName())
		}
		changes = append(changes, c)
	}
	// The log is short of `after + 1` when it was trimmed or expired.
	return changes, len(changes) > 0 && changes[0].GetRevision() == after+1, nil
}
