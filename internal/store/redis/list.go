package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// maxListBatch bounds how many index members one round trip reads, so a
// page with a rare state filter does not fetch a customer's whole history
// at once.
const maxListBatch = 256

// ListJourneys implements store.Store. It walks the customer index newest
// first, one batch of members and one pipeline of bodies per round trip,
// until it has one journey more than the page holds: that one only tells
// that a next page exists, so the last page has no cursor.
func (s *Store) ListJourneys(ctx context.Context, customer string, q store.ListJourneysQuery) ([]*handoffv1.Journey, *store.JourneyCursor, error) {
	limit := max(q.Limit, 1)
	batch := int64(min(limit+1, maxListBatch))
	idx := s.indexKey(customer)
	from := "+"
	if q.After != nil {
		from = "(" + indexMember(q.After.CreateTime, q.After.Journey)
	}

	var page []*handoffv1.Journey
	for {
		members, err := s.client.ZRangeArgs(ctx, goredis.ZRangeArgs{
			Key: idx, Start: from, Stop: "-", ByLex: true, Rev: true, Count: batch,
		}).Result()
		if err != nil {
			return nil, nil, wrapErr(ctx, "list journeys", err)
		}
		if len(members) == 0 {
			return page, nil, nil
		}
		from = "(" + members[len(members)-1]

		found, err := s.readMembers(ctx, customer, members)
		if err != nil {
			return nil, nil, err
		}
		for _, j := range found {
			if q.State != handoffv1.JourneyState_JOURNEY_STATE_UNSPECIFIED && j.GetState() != q.State {
				continue
			}
			if len(page) == limit {
				last := page[len(page)-1]
				next, err := cursorOf(last)
				if err != nil {
					return nil, nil, fmt.Errorf("list journeys: %w", err)
				}
				return page, next, nil
			}
			page = append(page, j)
		}
		if len(members) < int(batch) {
			return page, nil, nil
		}
	}
}

// readMembers fetches the journeys of index members in one pipeline, in
// member order, and prunes the members whose journey is gone.
func (s *Store) readMembers(ctx context.Context, customer string, members []string) ([]*handoffv1.Journey, error) {
	keys := make([]store.JourneyKey, len(members))
	for i, m := range members {
		c, err := parseMember(m)
		if err != nil {
			return nil, fmt.Errorf("list journeys: %w", err)
		}
		keys[i] = store.JourneyKey{Customer: customer, Journey: c.Journey}
	}
	cmds := make([]*goredis.MapStringStringCmd, len(members))
	_, err := s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HGetAll(ctx, s.journeyKey(k))
		}
		return nil
	})
	if err != nil {
		return nil, wrapErr(ctx, "list journeys", err)
	}

	var found []*handoffv1.Journey
	pruneKeys := []string{s.indexKey(customer)}
	var stale []any
	for i, cmd := range cmds {
		kv := cmd.Val()
		j, err := s.decodeRecord(keys[i], kv, nil)
		switch {
		case err == nil && indexMember(j.GetCreateTime().AsTime(), keys[i].Journey) == members[i]:
			found = append(found, j)
			continue
		case err == nil:
			// The id was used again after its journey expired: this member
			// belongs to the old one.
		case errors.Is(err, store.ErrNotFound):
		default:
			return nil, fmt.Errorf("list journeys: %w", err)
		}
		seq := kv[fRevision]
		pruneKeys = append(pruneKeys, s.journeyKey(keys[i]))
		stale = append(stale, members[i], seq)
	}
	if len(stale) > 0 {
		// Best effort: a member left behind is skipped again next time.
		_ = pruneScript.Run(ctx, s.client, pruneKeys, append(pruneArgs.make(len(stale)), stale...)...).Err()
	}
	return found, nil
}

// cursorOf is the cursor just after j. It uses the stored create time, the
// same value the index member was made from.
func cursorOf(j *handoffv1.Journey) (*store.JourneyCursor, error) {
	key, err := store.ParseJourneyName(j.GetName())
	if err != nil {
		return nil, err
	}
	return &store.JourneyCursor{CreateTime: j.GetCreateTime().AsTime(), Journey: key.Journey}, nil
}
