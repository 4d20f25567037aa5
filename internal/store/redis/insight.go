package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// reporting says whether writes are reported, so a store without an
// observer does not build what no one reads on every write.
func (s *Store) reporting() bool { return s.writes != nil && s.writes.Observe != nil }

// WithWrites makes the store report each write (docs/insight.md).
func WithWrites(o store.WriteOptions) Option {
	return func(s *Store) { s.writes = &o }
}

// insightFields are the record fields insight counts from that a create
// writes (see record.go): the entry channel, the furthest step, the
// customer's save.
func insightFields(j *handoffv1.Journey, first *handoffv1.Touchpoint, position int) []any {
	out := []any{fEntryChannel, strconv.Itoa(int(j.GetChannel()))}
	if position > 0 {
		out = append(out, fFurthest, strconv.Itoa(position))
	}
	if first != nil && store.IsCustomerTouch(first) {
		out = append(out, fCustomerSave, micros(j.GetCreateTime()))
	}
	return out
}

// createdWritten is what a create did.
func (s *Store) createdWritten(key store.JourneyKey, out *handoffv1.Journey, first *handoffv1.Touchpoint) store.Written {
	return store.Written{
		Key: key, Type: out.GetJourneyType(), TypeVersion: out.GetJourneyTypeVersion(),
		Time: out.GetCreateTime().AsTime(), Kind: first.GetKind(), Customer: store.IsCustomerTouch(first),
		Created: true, Counted: true,
		After:         momentOf(out),
		Entry:         out.GetChannel(),
		FurthestAfter: s.writes.Position(out.GetJourneyType(), out.GetJourneyTypeVersion(), out.GetStep()),
	}
}

// savedWritten is what a save did, from save.lua's reply.
func (s *Store) savedWritten(sv store.Save, res []string) store.Written {
	update := sv.UpdateTime.Truncate(time.Microsecond)
	furthest := atoi(res[13])
	after := furthest
	if sv.SetStep {
		after = max(after, s.writes.Position(sv.Type, sv.TypeVersion, sv.Step))
	}
	active := handoffv1.JourneyState_JOURNEY_STATE_ACTIVE // a save needs an active journey
	return store.Written{
		Key: sv.Key, Type: res[5], TypeVersion: sv.TypeVersion, Time: update,
		Kind: sv.Touchpoint.GetKind(), Customer: store.IsCustomerTouch(sv.Touchpoint),
		Counted: res[12] != "",
		Before:  store.Moment{State: active, Step: res[9], Channel: channelOf(res[10]), Expire: microsTime(res[11])},
		After:   store.Moment{State: active, Step: res[8], Channel: sv.Channel, Expire: update.Add(s.journeyTTL(sv.Type, sv.TypeVersion))},
		Entry:   channelOf(res[12]), FurthestBefore: furthest, FurthestAfter: after,
		CustomerSave: microsTime(res[14]), Resume: microsTime(res[15]), Reminder: microsTime(res[6]),
	}
}

// savedInsightHead is how many items of save.lua's reply come before the
// record: savedReplyHead and what insight counts from.
const savedInsightHead = savedReplyHead + 7

// updatedWritten is what an update did, from update.lua's reply.
func (s *Store) updatedWritten(key store.JourneyKey, u store.Update, out *handoffv1.Journey, res []string) store.Written {
	furthest := atoi(res[10])
	kind, customer := store.WriteKind(u.Touchpoints)
	state, _ := strconv.Atoi(res[5])
	return store.Written{
		Key: key, Type: out.GetJourneyType(), TypeVersion: out.GetJourneyTypeVersion(),
		Time: updateTime(out), Kind: kind, Customer: customer,
		Counted: res[9] != "",
		Before:  store.Moment{State: handoffv1.JourneyState(state), Step: res[6], Channel: channelOf(res[7]), Expire: microsTime(res[8])},
		After:   momentOf(out),
		Entry:   channelOf(res[9]), FurthestBefore: furthest,
		FurthestAfter: max(furthest, s.writes.Position(out.GetJourneyType(), out.GetJourneyTypeVersion(), out.GetStep())),
		CustomerSave:  microsTime(res[11]), Resume: microsTime(res[12]), Reminder: microsTime(res[3]),
	}
}

// updatedInsightItems is how long update.lua's reply is.
const updatedInsightItems = 13

// remindedWritten is what a reminder did: nothing but the reminder.
func remindedWritten(key store.JourneyKey, j *handoffv1.Journey, tp *handoffv1.Touchpoint) store.Written {
	m := momentOf(j)
	return store.Written{
		Key: key, Type: j.GetJourneyType(), TypeVersion: j.GetJourneyTypeVersion(),
		Time: tp.GetTime().AsTime(), Kind: tp.GetKind(), Counted: true, Before: m, After: m,
	}
}

func momentOf(j *handoffv1.Journey) store.Moment {
	return store.Moment{State: j.GetState(), Step: j.GetStep(), Channel: j.GetChannel(), Expire: j.GetExpireTime().AsTime()}
}

func channelOf(v string) handoffv1.Channel {
	return handoffv1.Channel(atoi(v))
}

func atoi(v string) int {
	n, _ := strconv.Atoi(v)
	return n
}

// insightKey is a type's day of counts: a type's days share a slot.
func (s *Store) insightKey(journeyType, day string) string {
	return s.prefix + "{ins:" + journeyType + "}:" + day
}

// AddInsight implements store.Insight: one pipeline of HINCRBYs, and an
// expiry per day touched.
func (s *Store) AddInsight(ctx context.Context, batch []store.InsightCounts, retention time.Duration) error {
	if len(batch) == 0 {
		return nil
	}
	pipe := s.client.Pipeline()
	for _, b := range batch {
		end, err := time.Parse(time.DateOnly, b.Day)
		if err != nil {
			return fmt.Errorf("add insight: day %q: %w", b.Day, err)
		}
		key := s.insightKey(b.Type, b.Day)
		for field, n := range b.Counts {
			if n != 0 {
				pipe.HIncrBy(ctx, key, field, n)
			}
		}
		pipe.ExpireAt(ctx, key, end.Add(24*time.Hour+retention))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return wrapErr(ctx, "add insight", err)
	}
	return nil
}

// InsightDays implements store.Insight with one HGETALL per day,
// pipelined.
func (s *Store) InsightDays(ctx context.Context, journeyType string, days []string) (map[string]map[string]int64, error) {
	pipe := s.client.Pipeline()
	cmds := make([]*goredis.MapStringStringCmd, len(days))
	for i, day := range days {
		cmds[i] = pipe.HGetAll(ctx, s.insightKey(journeyType, day))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrapErr(ctx, "read insight", err)
	}
	out := make(map[string]map[string]int64)
	for i, cmd := range cmds {
		kv := cmd.Val()
		if len(kv) == 0 {
			continue
		}
		counts := make(map[string]int64, len(kv))
		for f, v := range kv {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("read insight: %s %s is %q, not a count", days[i], f, v)
			}
			counts[f] = n
		}
		out[days[i]] = counts
	}
	return out, nil
}

// updateTime is when an update happens: its journey's update_time, or
// now for a caller that set none.
func updateTime(j *handoffv1.Journey) time.Time {
	if j.GetUpdateTime() == nil {
		return time.Now().Truncate(time.Microsecond)
	}
	return j.GetUpdateTime().AsTime()
}
