package redis

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

var _ store.Events = (*Store)(nil)

// errEventsOff answers every Events call of a store made without
// WithEvents.
var errEventsOff = errors.New("redis: events are off (see WithEvents)")

// WithEvents turns events on (docs/reach.md): after each write's script,
// a second one in the events slot appends the write's events.
func WithEvents(o store.EventOptions) Option {
	return func(s *Store) {
		if o.Retention <= 0 {
			o.Retention = store.DefaultEventRetention
		}
		s.events = &o
	}
}

var (
	//go:embed events.lua
	eventsLua    string
	eventsArgs   = args{"name", "incarnation", "revision", "first_revision", "force", "min_id", "due_ms", "facts", "write_us", "rest"}
	eventsScript = newScript(eventsArgs, eventsLua)

	//go:embed remind.lua
	remindLua  string
	remindArgs = args{"write_id", "active_state", "expire_us", "reminder_us", "touchpoint",
		"head", "touchpoint_prefix", "log_entries", "log_ttl_ms", "feed_channel"}
	remindScript = newScript(remindArgs, remindLua)

	// expireEventScript appends a gone journey's `journey.expired` and
	// forgets it, if what is kept of it is still what Go built the event
	// from (a journey created again meanwhile keeps it from being told).
	// KEYS: journeys hash, due set, customer's set, stream; ARGV: name,
	// kept value, min id, event.
	expireEventScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('XADD', KEYS[4], 'MINID', '~', ARGV[3], '*', 'event', ARGV[4])
return 1`)

	// eraseEventsScript forgets what is kept of an erased customer's
	// journeys, marks the customer erased (so that the events of a write
	// made before the erasure and appended after it are dropped, see
	// events.lua) and, with ARGV[3] = '1', appends `customer.erased`; an
	// erasure sent again (go-redis resends a script whose reply was lost)
	// finds its own id in the marker and does nothing twice. With ARGV[3]
	// = '0' (events off) a customer with nothing kept is left alone.
	// KEYS: customer's set, journeys hash, due set, stream, erased marker;
	// ARGV: min id, event, append, erasure id, erased µs, marker ttl ms.
	eraseEventsScript = goredis.NewScript(`
local marker = redis.call('GET', KEYS[5])
if marker and string.match(marker, '^([^:]*):') == ARGV[4] then
  return 0
end
if ARGV[3] ~= '1' and redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local names = redis.call('SMEMBERS', KEYS[1])
for i = 1, #names, 500 do
  local part = {unpack(names, i, math.min(i + 499, #names))}
  redis.call('HDEL', KEYS[2], unpack(part))
  redis.call('ZREM', KEYS[3], unpack(part))
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[5], ARGV[4] .. ':' .. ARGV[5], 'PX', ARGV[6])
if ARGV[3] == '1' then
  redis.call('XADD', KEYS[4], 'MINID', '~', ARGV[1], '*', 'event', ARGV[2])
end
return 1`)

	// cursorScript moves a consumer's cursor (KEYS[1] hash, ARGV consumer
	// and id, both ids <ms>-<seq> without leading zeros), never back.
	cursorScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local cm, cs = string.match(cur, '^(%d+)-(%d+)$')
  local nm, ns = string.match(ARGV[2], '^(%d+)-(%d+)$')
  cm, cs, nm, ns = tonumber(cm), tonumber(cs), tonumber(nm), tonumber(ns)
  if nm < cm or (nm == cm and ns <= cs) then
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`)

	// leaseScript makes ARGV[1] hold the lease KEYS[1] for ARGV[2] ms
	// unless another holds it.
	leaseScript = goredis.NewScript(`
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

	// releaseScript gives the lease KEYS[1] up if ARGV[1] holds it.
	releaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)
)

// Keys of the events slot: one hash tag for all of them, since the
// stream, the schedule and what is kept per journey change together.
const eventsTag = "{_events}"

func (s *Store) eventsKey(what string) string { return s.prefix + eventsTag + ":" + what }

func (s *Store) streamKey() string        { return s.eventsKey("stream") }
func (s *Store) keptKey() string          { return s.eventsKey("journeys") }
func (s *Store) dueKey() string           { return s.eventsKey("due") }
func (s *Store) cursorsKey() string       { return s.eventsKey("cursors") }
func (s *Store) leaseKey(n string) string { return s.eventsKey("lease:" + n) }
func (s *Store) deadKey(n string) string  { return s.eventsKey("dead:" + n) }

// erasedMarkerKey marks the customer erased, for erasedMarkerTTL: the
// events of a write its erasure overtook are dropped (events.lua).
func (s *Store) erasedMarkerKey(customer string) string { return s.eventsKey("erased:" + customer) }

// erasedMarkerTTL is how long an erasure's marker is kept: longer than a
// write's script and its append are apart, but for a process stalled.
const erasedMarkerTTL = 10 * time.Minute

// customerEventsKey names the customer's journeys that have an entry in
// the journeys hash and the due set, so an erasure finds them without
// reading either whole.
func (s *Store) customerEventsKey(customer string) string { return s.eventsKey("c:" + customer) }

// minID is the oldest stream id retention keeps.
func (s *Store) minID() string {
	return strconv.FormatInt(time.Now().Add(-s.events.Retention).UnixMilli(), 10)
}

// written is what the events of one journey's write need: the write's
// changes (consecutive, its own last; none when a replay only catches
// up), and what the journey is after it.
type written struct {
	key         store.JourneyKey
	incarnation string
	revision    int64
	facts       store.JourneyFacts
	state       handoffv1.JourneyState
	step        string
	expire      time.Time
	remindedFor time.Time
	changes     []*handoffv1.JourneyChange
	// updated is when the journey was last written (its update time): an
	// erasure after it drops its events (events.lua).
	updated time.Time
}

// appendEvents appends w's events after its write's script (see
// events.lua), filling a gap from the change log first. Its errors are
// ErrUnavailable: the caller retries, and the retry, a replay, appends
// what is missing.
func (s *Store) appendEvents(ctx context.Context, w written) error {
	first := w.revision + 1 // a catch-up: anything after the kept revision is missing
	if len(w.changes) > 0 {
		first = w.changes[0].GetRevision()
	}
	res, err := s.runEvents(ctx, w, w.changes, first, false)
	if err != nil {
		return err
	}
	if res[0] != "gap" {
		return nil
	}
	kept, err := strconv.ParseInt(res[1], 10, 64)
	if err != nil {
		return fmt.Errorf("append events: %w: kept revision %q", store.ErrUnavailable, res[1])
	}
	// The log keeps the recent changes; what it no longer holds is lost
	// (a process killed between a write and its append, long ago).
	logged, _, err := s.ChangesSince(ctx, w.key, kept)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("append events: %w: %w", store.ErrUnavailable, err)
	}
	var batch []*handoffv1.JourneyChange
	for _, c := range logged {
		if c.GetRevision() > kept && c.GetRevision() < first {
			batch = append(batch, c)
		}
	}
	_, err = s.runEvents(ctx, w, append(batch, w.changes...), first, true)
	return err
}

func (s *Store) runEvents(ctx context.Context, w written, changes []*handoffv1.JourneyChange, first int64, force bool) ([]string, error) {
	facts, err := proto.Marshal(w.expiredTemplate())
	if err != nil {
		return nil, fmt.Errorf("append events: %w", err)
	}
	var evs []any
	at := w.updated
	for _, c := range changes {
		for _, ev := range store.EventsOf(w.key, w.facts, c) {
			if t := ev.GetTime().AsTime(); ev.GetTime() != nil && t.After(at) {
				at = t
			}
			b, err := protojson.Marshal(ev)
			if err != nil {
				return nil, fmt.Errorf("append events: %w", err)
			}
			evs = append(evs, c.GetRevision(), b)
		}
	}
	args := eventsArgs.make(len(evs))
	set := func(name string, v any) { args[eventsArgs.index(name)] = v }
	set("name", w.key.Name())
	set("incarnation", w.incarnation)
	set("revision", w.revision)
	set("first_revision", first)
	set("force", flag(force))
	set("min_id", s.minID())
	set("due_ms", s.dueMs(w.state, w.expire, w.remindedFor, w.facts.Type, w.facts.TypeVersion))
	set("facts", facts)
	set("write_us", at.UnixMicro())
	keys := []string{s.streamKey(), s.keptKey(), s.dueKey(), s.customerEventsKey(w.key.Customer), s.erasedMarkerKey(w.key.Customer)}
	var cmd *goredis.Cmd
	if s.replicasAck == 0 {
		cmd = s.appends.run(ctx, s.client, eventsScript, keys, append(args, evs...))
	} else {
		// Its own pipeline, with the WAIT that counts its replicas.
		cmd = s.runWrite(ctx, eventsScript, keys, append(args, evs...)...)
	}
	res, err := cmd.StringSlice()
	if err != nil {
		return nil, fmt.Errorf("append events: %w: %w", store.ErrUnavailable, err)
	}
	if len(res) == 0 || (res[0] != "appended" && res[0] != "erased" && len(res) < 2) {
		return nil, fmt.Errorf("append events: %w: unexpected script result %q", store.ErrUnavailable, res)
	}
	return res, nil
}

// expiredTemplate is what is kept for the journey's `journey.expired`.
func (w written) expiredTemplate() *handoffv1.JourneyEvent {
	ev := &handoffv1.JourneyEvent{
		JourneyType:        w.facts.Type,
		JourneyTypeVersion: w.facts.TypeVersion,
		State:              w.state,
		Step:               w.step,
		Revision:           w.revision,
	}
	if !w.expire.IsZero() {
		ev.ExpireTime = timestamppb.New(w.expire)
	}
	if !w.facts.ReminderTime.IsZero() {
		ev.ReminderTime = timestamppb.New(w.facts.ReminderTime)
	}
	return ev
}

// dueMs is store.EventOptions.DueTime in the schedule's unit.
func (s *Store) dueMs(state handoffv1.JourneyState, expire, remindedFor time.Time, journeyType string, version int64) int64 {
	return s.events.DueTime(state, expire, remindedFor, journeyType, version).UnixMilli()
}

// writtenOf is w for a journey as a record holds it (kv: HGETALL), with
// no change: what a replay catches up from.
func (s *Store) writtenOf(key store.JourneyKey, kv map[string]string) (*handoffv1.Journey, written, error) {
	j, err := s.decodeRecord(key, kv, nil)
	if err != nil {
		return nil, written{}, err
	}
	w := written{
		key:         key,
		incarnation: kv[fIncarnation],
		revision:    j.GetRevision(),
		facts:       factsOf(j),
		state:       j.GetState(),
		step:        j.GetStep(),
		expire:      j.GetExpireTime().AsTime(),
		remindedFor: microsTime(kv[fRemindedFor]),
		updated:     j.GetUpdateTime().AsTime(),
	}
	return j, w, nil
}

// catchUp appends what is missing of the journey's events up to its
// current revision: a replayed write's, whose first run may not have.
// When the journey is at its create, the create's change (not logged) is
// rebuilt from it and its first touchpoint.
func (s *Store) catchUp(ctx context.Context, key store.JourneyKey) (*handoffv1.Journey, error) {
	kv, err := s.client.HGetAll(ctx, s.journeyKey(key)).Result()
	if err != nil {
		return nil, wrapErr(ctx, "get journey", err)
	}
	j, w, err := s.writtenOf(key, kv)
	if err != nil {
		return nil, err
	}
	if w.revision == 1 {
		tps, _, err := s.ListTouchpoints(ctx, key, 0, 1)
		if err != nil {
			return nil, err
		}
		w.changes = []*handoffv1.JourneyChange{createChange(j, tps)}
	}
	if err := s.appendEvents(ctx, w); err != nil {
		return nil, err
	}
	return j, nil
}

// createChange is the change a create publishes (see create.lua).
func createChange(j *handoffv1.Journey, tps []*handoffv1.Touchpoint) *handoffv1.JourneyChange {
	return &handoffv1.JourneyChange{Revision: 1, Journey: j, Touchpoints: tps, ChangedPaths: store.CreatePaths}
}

func microsTime(v string) time.Time {
	us, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMicro(us)
}

// ReadEvents implements store.Events: XRANGE, and XREAD BLOCK when there
// is nothing yet.
func (s *Store) ReadEvents(ctx context.Context, after string, limit int, wait time.Duration) ([]*handoffv1.JourneyEvent, error) {
	if s.events == nil {
		return nil, errEventsOff
	}
	if limit <= 0 {
		return nil, fmt.Errorf("read events: limit is %d, it must be > 0", limit)
	}
	start := "-"
	if after != "" {
		id, err := normalID(after)
		if err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		after, start = id, "("+id
	}
	msgs, err := s.client.XRangeN(ctx, s.streamKey(), start, "+", int64(limit)).Result()
	if err != nil {
		return nil, wrapErr(ctx, "read events", err)
	}
	if len(msgs) == 0 && wait > 0 {
		from := after
		if from == "" {
			from = "0-0"
		}
		streams, err := s.client.XRead(ctx, &goredis.XReadArgs{
			Streams: []string{s.streamKey(), from},
			Count:   int64(limit),
			Block:   max(wait, time.Millisecond), // 0 would block for ever
		}).Result()
		if errors.Is(err, goredis.Nil) {
			return nil, nil
		}
		if err != nil {
			return nil, wrapErr(ctx, "read events", err)
		}
		for _, st := range streams {
			msgs = append(msgs, st.Messages...)
		}
	}
	out := make([]*handoffv1.JourneyEvent, 0, len(msgs))
	for _, m := range msgs {
		ev, err := decodeEvent(m)
		if err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		out = append(out, ev)
	}
	return out, nil
}

func decodeEvent(m goredis.XMessage) (*handoffv1.JourneyEvent, error) {
	raw, _ := m.Values["event"].(string)
	ev := &handoffv1.JourneyEvent{}
	if err := protojson.Unmarshal([]byte(raw), ev); err != nil {
		return nil, fmt.Errorf("event %s: %w", m.ID, err)
	}
	ev.Id = m.ID
	return ev, nil
}

// normalID is a stream id as <ms>-<seq>, without leading zeros (a bare
// <ms> is <ms>-0, as Redis reads it), so ids compare as numbers in Lua.
func normalID(id string) (string, error) {
	msPart, seqPart, found := strings.Cut(id, "-")
	ms, err := strconv.ParseUint(msPart, 10, 63)
	if err != nil {
		return "", fmt.Errorf("%q is not an event id (<ms>-<seq>)", id)
	}
	var seq uint64
	if found {
		if seq, err = strconv.ParseUint(seqPart, 10, 63); err != nil {
			return "", fmt.Errorf("%q is not an event id (<ms>-<seq>)", id)
		}
	}
	return strconv.FormatUint(ms, 10) + "-" + strconv.FormatUint(seq, 10), nil
}

// EventCursor implements store.Events.
func (s *Store) EventCursor(ctx context.Context, consumer string) (string, error) {
	if s.events == nil {
		return "", errEventsOff
	}
	id, err := s.client.HGet(ctx, s.cursorsKey(), consumer).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", wrapErr(ctx, "event cursor", err)
	}
	return id, nil
}

// SetEventCursor implements store.Events.
func (s *Store) SetEventCursor(ctx context.Context, consumer, id string) error {
	if s.events == nil {
		return errEventsOff
	}
	id, err := normalID(id)
	if err != nil {
		return fmt.Errorf("set event cursor of %s: %w", consumer, err)
	}
	if err := s.runWrite(ctx, cursorScript, []string{s.cursorsKey()}, consumer, id).Err(); err != nil {
		return wrapErr(ctx, "set event cursor", err)
	}
	return nil
}

// DeadLetter implements store.Events: a stream per consumer, trimmed by
// the events' retention (dead letters name customers too), and expiring
// after it: a webhook that stopped failing adds none to trim the others.
func (s *Store) DeadLetter(ctx context.Context, consumer string, ev *handoffv1.JourneyEvent, reason string) error {
	if s.events == nil {
		return errEventsOff
	}
	b, err := protojson.Marshal(ev)
	if err != nil {
		return fmt.Errorf("dead letter: %w", err)
	}
	key := s.deadKey(consumer)
	_, err = s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.XAdd(ctx, &goredis.XAddArgs{
			Stream: key, MinID: s.minID(), Approx: true,
			Values: []any{"event", b, "reason", reason},
		})
		p.PExpire(ctx, key, s.events.Retention)
		return nil
	})
	if err != nil {
		return wrapErr(ctx, "dead letter", err)
	}
	return nil
}

// DeadLetters implements store.Events.
func (s *Store) DeadLetters(ctx context.Context, consumer string, limit int) ([]store.DeadLetter, error) {
	if s.events == nil {
		return nil, errEventsOff
	}
	if limit <= 0 {
		return nil, nil
	}
	msgs, err := s.client.XRevRangeN(ctx, s.deadKey(consumer), "+", "-", int64(limit)).Result()
	if err != nil {
		return nil, wrapErr(ctx, "dead letters", err)
	}
	out := make([]store.DeadLetter, len(msgs))
	for i, m := range msgs {
		raw, _ := m.Values["event"].(string)
		ev := &handoffv1.JourneyEvent{}
		// The event's own id is in its JSON; the entry's is the dead letter's.
		if err := protojson.Unmarshal([]byte(raw), ev); err != nil {
			return nil, fmt.Errorf("dead letters: %s: %w", m.ID, err)
		}
		reason, _ := m.Values["reason"].(string)
		ms, _, _ := strings.Cut(m.ID, "-")
		at, _ := strconv.ParseInt(ms, 10, 64)
		out[len(msgs)-1-i] = store.DeadLetter{Event: ev, Reason: reason, Time: time.UnixMilli(at)}
	}
	return out, nil
}

// TakeLease implements store.Events.
func (s *Store) TakeLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if s.events == nil {
		return false, errEventsOff
	}
	n, err := s.runWrite(ctx, leaseScript, []string{s.leaseKey(name)}, holder, max(ttl.Milliseconds(), 1)).Int()
	if err != nil {
		return false, wrapErr(ctx, "take lease", err)
	}
	return n == 1, nil
}

// ReleaseLease implements store.Events.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if s.events == nil {
		return errEventsOff
	}
	if err := s.runWrite(ctx, releaseScript, []string{s.leaseKey(name)}, holder).Err(); err != nil {
		return wrapErr(ctx, "release lease", err)
	}
	return nil
}

// DueJourneys implements store.Events.
func (s *Store) DueJourneys(ctx context.Context, now time.Time, limit int) ([]store.JourneyKey, error) {
	if s.events == nil {
		return nil, errEventsOff
	}
	names, err := s.client.ZRangeByScore(ctx, s.dueKey(), &goredis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Count: int64(limit),
	}).Result()
	if err != nil {
		return nil, wrapErr(ctx, "due journeys", err)
	}
	keys := make([]store.JourneyKey, 0, len(names))
	for _, n := range names {
		k, err := store.ParseJourneyName(n)
		if err != nil {
			return nil, fmt.Errorf("due journeys: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// PostponeDue implements store.Events: ZADD XX, so a journey the
// schedule forgot (expired and told, erased) stays forgotten.
func (s *Store) PostponeDue(ctx context.Context, key store.JourneyKey, at time.Time) error {
	if s.events == nil {
		return errEventsOff
	}
	if err := s.client.ZAddXX(ctx, s.dueKey(), goredis.Z{Score: float64(at.UnixMilli()), Member: key.Name()}).Err(); err != nil {
		return wrapErr(ctx, "postpone due", err)
	}
	return nil
}

// RemindJourney implements store.Events: remind.lua in the customer's
// slot, then the reminder's events.
func (s *Store) RemindJourney(ctx context.Context, key store.JourneyKey, expireTime time.Time, tp *handoffv1.Touchpoint) (*handoffv1.Journey, error) {
	if s.events == nil {
		return nil, errEventsOff
	}
	tp = proto.CloneOf(tp)
	if tp.Time == nil {
		tp.Time = timestamppb.Now()
	}
	reminder := tp.GetTime().AsTime().Truncate(time.Microsecond)
	expire := expireTime.Truncate(time.Microsecond)
	head, err := recordHead(key, &handoffv1.Journey{ReminderTime: timestamppb.New(reminder), ExpireTime: timestamppb.New(expire)}, store.RemindPaths, nil)
	if err != nil {
		return nil, fmt.Errorf("remind journey: %w", err)
	}
	entry, err := s.encodeEntry(key, tp)
	if err != nil {
		return nil, fmt.Errorf("remind journey: %w", err)
	}
	args := remindArgs.make(0)
	set := func(name string, v any) { args[remindArgs.index(name)] = v }
	set("write_id", writeID())
	set("active_state", enum(handoffv1.JourneyState_JOURNEY_STATE_ACTIVE))
	set("expire_us", expire.UnixMicro())
	set("reminder_us", reminder.UnixMicro())
	set("touchpoint", entry)
	s.changeArgs(args, remindArgs, key, head)
	keys := []string{s.journeyKey(key), s.timelineKey(key), s.logKey(key)}
	for range 2 {
		res, err := s.runWrite(ctx, remindScript, keys, args...).StringSlice()
		if err != nil {
			return nil, wrapErr(ctx, "remind journey", err)
		}
		switch res[0] {
		case "reminded":
			j, err := s.reminded(ctx, key, res)
			if err == nil && s.reporting() {
				s.writes.Report(remindedWritten(key, j, tp))
			}
			return j, err
		case "replayed":
			return s.catchUp(ctx, key)
		case "missing":
			return nil, fmt.Errorf("remind journey %s: %w", key.Name(), store.ErrNotFound)
		case "convert":
			if err := s.convert(ctx, key); err != nil {
				return nil, fmt.Errorf("remind journey: %w", err)
			}
			continue
		case "conflict":
			if len(res) < 6 {
				break
			}
			// Scheduled again by what it is; XX: a journey the schedule
			// forgot (erased, expired and told) stays forgotten.
			state, _ := strconv.Atoi(res[1])
			version, _ := strconv.ParseInt(res[5], 10, 64)
			due := s.dueMs(handoffv1.JourneyState(state), microsTime(res[2]), microsTime(res[3]), res[4], version)
			if err := s.client.ZAddXX(ctx, s.dueKey(), goredis.Z{Score: float64(due), Member: key.Name()}).Err(); err != nil {
				return nil, wrapErr(ctx, "remind journey", err)
			}
			return nil, fmt.Errorf("remind journey %s: not active, expiring at another time, or reminded already: %w", key.Name(), store.ErrConflict)
		}
		return nil, fmt.Errorf("remind journey: unexpected script result %q", res)
	}
	return nil, fmt.Errorf("remind journey: %w", store.ErrConflict)
}

// reminded is the journey a reminder returns, after its events.
func (s *Store) reminded(ctx context.Context, key store.JourneyKey, res []string) (*handoffv1.Journey, error) {
	if len(res) < 3 {
		return nil, fmt.Errorf("remind journey: unexpected script result %q", res)
	}
	change, err := s.decodeChange([]byte(res[1]))
	if err != nil {
		return nil, fmt.Errorf("remind journey: %w", err)
	}
	kv := make(map[string]string, (len(res)-3)/2)
	for i := 3; i+1 < len(res); i += 2 {
		kv[res[i]] = res[i+1]
	}
	j, w, err := s.writtenOf(key, kv)
	if err != nil {
		return nil, fmt.Errorf("remind journey: %w", err)
	}
	w.changes = []*handoffv1.JourneyChange{change}
	if err := s.appendEvents(ctx, w); err != nil {
		return nil, fmt.Errorf("remind journey: %w", err)
	}
	return j, nil
}

// ExpireJourney implements store.Events.
func (s *Store) ExpireJourney(ctx context.Context, key store.JourneyKey, now time.Time) (bool, error) {
	if s.events == nil {
		return false, errEventsOff
	}
	for range 3 {
		cur, err := s.client.HMGet(ctx, s.journeyKey(key), fEtag, fState, fExpireTime, fRemindedFor, fType, fTypeVersion).Result()
		if err != nil {
			return false, wrapErr(ctx, "expire journey", err)
		}
		if cur[0] != nil {
			str := func(i int) string { v, _ := cur[i].(string); return v }
			state, _ := strconv.Atoi(str(1))
			version, _ := strconv.ParseInt(str(5), 10, 64)
			due := s.dueMs(handoffv1.JourneyState(state), microsTime(str(2)), microsTime(str(3)), str(4), version)
			if err := s.client.ZAddXX(ctx, s.dueKey(), goredis.Z{Score: float64(due), Member: key.Name()}).Err(); err != nil {
				return false, wrapErr(ctx, "expire journey", err)
			}
			return false, nil
		}
		kept, err := s.client.HGet(ctx, s.keptKey(), key.Name()).Result()
		if errors.Is(err, goredis.Nil) {
			return true, nil // told already, or erased
		}
		if err != nil {
			return false, wrapErr(ctx, "expire journey", err)
		}
		ev, err := expiredEvent(key, kept, now)
		if err != nil {
			return false, fmt.Errorf("expire journey: %w", err)
		}
		b, err := protojson.Marshal(ev)
		if err != nil {
			return false, fmt.Errorf("expire journey: %w", err)
		}
		keys := []string{s.keptKey(), s.dueKey(), s.customerEventsKey(key.Customer), s.streamKey()}
		done, err := s.runWrite(ctx, expireEventScript, keys, key.Name(), kept, s.minID(), b).Int()
		if err != nil {
			return false, wrapErr(ctx, "expire journey", err)
		}
		if done == 1 {
			return true, nil
		}
		// Written meanwhile (created again): look again.
	}
	return false, fmt.Errorf("expire journey %s: %w", key.Name(), store.ErrConflict)
}

// expiredEvent is the `journey.expired` of a journey from what is kept of
// it (`<revision>:<incarnation>:<facts>`, see events.lua).
func expiredEvent(key store.JourneyKey, kept string, now time.Time) (*handoffv1.JourneyEvent, error) {
	_, rest, ok1 := strings.Cut(kept, ":")
	_, facts, ok2 := strings.Cut(rest, ":")
	t := &handoffv1.JourneyEvent{}
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("malformed entry of %s", key.Name())
	}
	if err := proto.Unmarshal([]byte(facts), t); err != nil {
		return nil, fmt.Errorf("entry of %s: %w", key.Name(), err)
	}
	k := store.KeptJourney{
		Facts:    store.JourneyFacts{Type: t.GetJourneyType(), TypeVersion: t.GetJourneyTypeVersion()},
		State:    t.GetState(),
		Step:     t.GetStep(),
		Revision: t.GetRevision(),
	}
	if t.GetExpireTime() != nil {
		k.ExpireTime = t.GetExpireTime().AsTime()
	}
	if t.GetReminderTime() != nil {
		k.Facts.ReminderTime = t.GetReminderTime().AsTime()
	}
	return store.ExpiredEvent(key, k, now), nil
}

// erasedEvents forgets what the events slot keeps of the customer's
// journeys, marks it erased and, with events on, appends
// `customer.erased`. With events off it runs too, but only for a
// customer with something kept (from when events were on): nothing of it
// is kept for ever.
func (s *Store) erasedEvents(ctx context.Context, customer string) error {
	return s.eraseEvents(ctx, customer, writeID(), time.Now())
}

func (s *Store) eraseEvents(ctx context.Context, customer, id string, at time.Time) error {
	keys, args, err := s.eraseEventsCall(customer, id, at)
	if err != nil {
		return err
	}
	return s.runWrite(ctx, eraseEventsScript, keys, args...).Err()
}

func (s *Store) eraseEventsCall(customer, id string, at time.Time) ([]string, []any, error) {
	minID, b, on := "0", []byte{}, "0"
	if s.events != nil {
		var err error
		if b, err = protojson.Marshal(store.ErasedEvent(customer, at)); err != nil {
			return nil, nil, err
		}
		minID, on = s.minID(), "1"
	}
	keys := []string{s.customerEventsKey(customer), s.keptKey(), s.dueKey(), s.streamKey(), s.erasedMarkerKey(customer)}
	return keys, []any{minID, b, on, id, at.UnixMicro(), erasedMarkerTTL.Milliseconds()}, nil
}

// createdEvents appends a create's events. The create's change is Go's
// own (the journey it wrote, its first touchpoint at position 1), so the
// script need not return it.
func (s *Store) createdEvents(ctx context.Context, key store.JourneyKey, out *handoffv1.Journey, first *handoffv1.Touchpoint, incarnation string) error {
	if s.events == nil {
		return nil
	}
	var tps []*handoffv1.Touchpoint
	if first != nil {
		tp := proto.CloneOf(first)
		tp.Name = store.TouchpointName(key, 1)
		tps = append(tps, tp)
	}
	return s.appendEvents(ctx, written{
		key:         key,
		incarnation: incarnation,
		revision:    1,
		facts:       store.JourneyFacts{Type: out.GetJourneyType(), TypeVersion: out.GetJourneyTypeVersion()},
		state:       out.GetState(),
		step:        out.GetStep(),
		expire:      out.GetExpireTime().AsTime(),
		changes:     []*handoffv1.JourneyChange{createChange(out, tps)},
		updated:     out.GetUpdateTime().AsTime(),
	})
}

// updatedEvents sets the reminder update.lua read on the journey an
// update returns, and appends the update's events. res is update.lua's
// reply: updated, change record, incarnation, reminder time, reminded-for
// expiry.
func (s *Store) updatedEvents(ctx context.Context, key store.JourneyKey, out *handoffv1.Journey, res []string) error {
	if len(res) < 5 {
		return fmt.Errorf("unexpected script result %q", res)
	}
	out.ReminderTime = nil
	rmt := microsTime(res[3])
	if !rmt.IsZero() {
		out.ReminderTime = timestamppb.New(rmt)
	}
	if s.events == nil {
		return nil
	}
	change, err := s.decodeChangeForEvents(res[1])
	if err != nil {
		return err
	}
	return s.appendEvents(ctx, written{
		key:         key,
		incarnation: res[2],
		revision:    out.GetRevision(),
		facts:       store.JourneyFacts{Type: out.GetJourneyType(), TypeVersion: out.GetJourneyTypeVersion(), ReminderTime: rmt},
		state:       out.GetState(),
		step:        out.GetStep(),
		expire:      out.GetExpireTime().AsTime(),
		remindedFor: microsTime(res[4]),
		changes:     []*handoffv1.JourneyChange{change},
		updated:     out.GetUpdateTime().AsTime(),
	})
}

// savedReplyHead is how many items of save.lua's reply come before the
// record: saved, etag, revision, change record, incarnation, journey type,
// reminder time, reminded-for expiry, step.
const savedReplyHead = 9

// savedEvents appends a save's events (res: save.lua's reply).
func (s *Store) savedEvents(ctx context.Context, sv store.Save, revision int64, res []string) error {
	if s.events == nil {
		return nil
	}
	change, err := s.decodeChangeForEvents(res[3])
	if err != nil {
		return err
	}
	update := sv.UpdateTime.Truncate(time.Microsecond)
	return s.appendEvents(ctx, written{
		key:         sv.Key,
		incarnation: res[4],
		revision:    revision,
		facts:       store.JourneyFacts{Type: res[5], TypeVersion: sv.TypeVersion, ReminderTime: microsTime(res[6])},
		state:       handoffv1.JourneyState_JOURNEY_STATE_ACTIVE, // a save needs an active journey
		step:        res[8],
		expire:      update.Add(s.journeyTTL(sv.Type, sv.TypeVersion)),
		remindedFor: microsTime(res[7]),
		changes:     []*handoffv1.JourneyChange{change},
		updated:     update,
	})
}

// decodeChangeForEvents decodes a change record a write script returned,
// without its answers: no event carries one, and opening sealed ones
// would cost for nothing.
func (s *Store) decodeChangeForEvents(b string) (*handoffv1.JourneyChange, error) {
	rest, ok := strings.CutPrefix(b, recordMarker)
	if !ok {
		return nil, errors.New("the script returned no change record")
	}
	c, err := s.decodeRecordChangeOf([]byte(rest), false)
	if err != nil {
		return nil, fmt.Errorf("decode change: %w", err)
	}
	return c, nil
}

// factsOf is what a journey's events say of it besides the change.
func factsOf(j *handoffv1.Journey) store.JourneyFacts {
	f := store.JourneyFacts{Type: j.GetJourneyType(), TypeVersion: j.GetJourneyTypeVersion()}
	if j.GetReminderTime() != nil {
		f.ReminderTime = j.GetReminderTime().AsTime()
	}
	return f
}
