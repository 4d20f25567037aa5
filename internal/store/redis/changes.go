package redis

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

var (
	//go:embed since.lua
	sinceLua    string
	sinceArgs   = args{"after"}
	sinceScript = newScript(sinceArgs, sinceLua)
)

// While Redis is away, Subscribe asks again after a pause that doubles up
// to a second: back soon after Redis is, without spinning while it is not.
const (
	minResubscribeDelay = 50 * time.Millisecond
	maxResubscribeDelay = time.Second
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

// Subscribe implements store.Store with one subscription to the changes
// channel. Redis delivers a channel's messages in the order the scripts
// published them, so each journey's changes arrive in revision order; what
// is published while the subscription is down is lost, which is why every
// (re)subscription calls resync.
func (s *Store) Subscribe(ctx context.Context, wants store.ChangeFilter, handle store.ChangeHandler, resync func()) error {
	ps := s.client.Subscribe(ctx, s.changesChannel())
	defer ps.Close()
	// Receive does not watch ctx; closing the PubSub ends a Receive that
	// waits. Closing twice only gives an error, which is ignored.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()

	delay := minResubscribeDelay
	for {
		msg, err := ps.Receive(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			// The connection broke or Redis is down; the next Receive
			// reconnects and subscribes again.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(delay):
			}
			delay = min(2*delay, maxResubscribeDelay)
			continue
		}
		delay = minResubscribeDelay
		switch m := msg.(type) {
		case *goredis.Subscription:
			// The first confirmation, or one after go-redis reconnected:
			// changes published before it were not delivered.
			if m.Kind == "subscribe" {
				resync()
			}
		case *goredis.Message:
			payload := []byte(m.Payload)
			if wants != nil {
				// Every instance receives every change; most concern
				// journeys nobody here watches, so read only the name.
				key, ok := changedJourney(payload)
				if !ok || !wants(key) {
					continue
				}
			}
			c, err := s.decodeChange(payload)
			if err != nil {
				// Not a change (someone else publishing on our channel), or
				// one sealed with a key this process does not hold.
				continue
			}
			handle(c)
		}
	}
}
