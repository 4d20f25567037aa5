package redis

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// CreateJourney implements store.Store.
func (s *Store) CreateJourney(ctx context.Context, j *handoffv1.Journey, first *handoffv1.Touchpoint, requestID string) (*handoffv1.Journey, bool, error) {
	key, err := store.ParseJourneyName(j.GetName())
	if err != nil {
		return nil, false, fmt.Errorf("create journey: %w", err)
	}
	out, keys, args, err := s.createCall(key, j, first, requestID)
	if err != nil {
		return nil, false, fmt.Errorf("create journey: %w", err)
	}

	// Two rounds at most: the second only when the request id pointed at a
	// journey that is gone (see create.lua).
	for range 2 {
		res, err := createScript.Run(ctx, s.client, keys, args...).StringSlice()
		if err != nil {
			return nil, false, wrapErr(ctx, "create journey", err)
		}
		switch res[0] {
		case "created":
			return out, true, nil
		case "exists":
			return nil, false, fmt.Errorf("create journey: %w", store.ErrAlreadyExists)
		case "replayed":
			made := store.JourneyKey{Customer: key.Customer, Journey: res[1]}
			got, err := s.GetJourney(ctx, made)
			if errors.Is(err, store.ErrNotFound) {
				args[5] = made.Journey
				continue
			}
			return got, false, err
		default:
			return nil, false, fmt.Errorf("create journey: unexpected script result %q", res)
		}
	}
	return nil, false, fmt.Errorf("create journey: request id %q keeps pointing at a missing journey", requestID)
}

// GetJourney implements store.Store.
func (s *Store) GetJourney(ctx context.Context, key store.JourneyKey) (*handoffv1.Journey, error) {
	vals, err := s.client.HMGet(ctx, s.journeyKey(key), "rev", "seq", "body").Result()
	if err != nil {
		return nil, wrapErr(ctx, "get journey", err)
	}
	j, err := s.decodeJourney(key, vals[0], vals[1], vals[2])
	if err != nil {
		return nil, fmt.Errorf("get journey: %w", err)
	}
	return j, nil
}

// createCall is the journey a create returns, and the keys and arguments
// of its script (see create.lua).
func (s *Store) createCall(key store.JourneyKey, j *handoffv1.Journey, first *handoffv1.Touchpoint, requestID string) (*handoffv1.Journey, []string, []any, error) {
	out, plain, body, err := s.prepare(key, j)
	if err != nil {
		return nil, nil, nil, err
	}
	out.Etag, out.Revision = "1", 1
	change, err := s.changeArgs(key, plain, out.Etag, out.Revision, first)
	if err != nil {
		return nil, nil, nil, err
	}
	keys := []string{s.journeyKey(key), s.timelineKey(key), s.indexKey(key.Customer), s.logKey(key)}
	if requestID != "" {
		keys = append(keys, s.requestKey(key.Customer, requestID))
	}
	expireAt := out.GetExpireTime().AsTime()
	// The request id never outlives the journey it made: a retry after the
	// journey expired creates a new one instead of pointing at nothing.
	requestExpireAt := min(time.Now().Add(requestIDTTL).UnixMilli(), expireAt.UnixMilli())
	args := []any{body, indexMember(out.GetCreateTime().AsTime(), key.Journey), expireAt.UnixMilli(), key.Journey, requestExpireAt, ""}
	return out, keys, append(args, change...), nil
}

// UpdateJourney implements store.Store.
func (s *Store) UpdateJourney(ctx context.Context, u store.Update) (*handoffv1.Journey, error) {
	out, keys, args, err := s.updateCall(u)
	if err != nil {
		return nil, fmt.Errorf("update journey: %w", err)
	}
	res, err := updateScript.Run(ctx, s.client, keys, args...).Text()
	if err != nil {
		return nil, wrapErr(ctx, "update journey", err)
	}
	switch res {
	case "updated":
		return out, nil
	case "missing":
		return nil, fmt.Errorf("update journey: %w", store.ErrNotFound)
	case "conflict":
		return nil, fmt.Errorf("update journey: %w", store.ErrConflict)
	default:
		return nil, fmt.Errorf("update journey: unexpected script result %q", res)
	}
}

// updateCall is the journey an update returns, and the keys and arguments
// of its script (see update.lua).
func (s *Store) updateCall(u store.Update) (*handoffv1.Journey, []string, []any, error) {
	key, err := store.ParseJourneyName(u.Journey.GetName())
	if err != nil {
		return nil, nil, nil, err
	}
	out, plain, body, err := s.prepare(key, u.Journey)
	if err != nil {
		return nil, nil, nil, err
	}
	// Known before the write, since the write happens only at the revision
	// and etag read: the returned journey and the logged change carry them.
	readEtag, readRevision := u.Journey.GetEtag(), u.Journey.GetRevision()
	out.Etag, out.Revision = nextEtag(readEtag, u.ContentChanged), readRevision+1
	change, err := s.changeArgs(key, plain, out.Etag, out.Revision, u.Touchpoints...)
	if err != nil {
		return nil, nil, nil, err
	}
	keys := []string{s.journeyKey(key), s.timelineKey(key), s.indexKey(key.Customer), s.logKey(key)}
	args := []any{readEtag, readRevision, out.GetEtag(), out.GetRevision(), body, out.GetExpireTime().AsTime().UnixMilli()}
	return out, keys, append(args, change...), nil
}

// nextEtag is the etag after a change to a journey read at etag. An etag
// that is not a number was never given out by the store: the script finds
// it does not match, so what it would become does not matter.
func nextEtag(etag string, contentChanged bool) string {
	n, err := strconv.ParseInt(etag, 10, 64)
	if !contentChanged || err != nil {
		return etag
	}
	return strconv.FormatInt(n+1, 10)
}

// changeArgs are the script arguments that log and publish a change (see
// change.lua): the encoded head of the JourneyChange (its revision and the
// journey as returned: body, its encoding as stored, with etag and
// revision), how touchpoints are named, the log's bounds,
// the channel, a fresh id for the write, and then the touchpoints to
// append.
//
// The write id makes the scripts safe to retry: go-redis resends a
// command whose reply was lost with its connection, and the script, which
// did run, then finds its id among the journey's recent writes instead of
// failing as a conflict (and the service applying the save again).
func (s *Store) changeArgs(key store.JourneyKey, body []byte, etag string, revision int64, tps ...*handoffv1.Touchpoint) ([]any, error) {
	head, err := s.changeHead(key, body, etag, revision)
	if err != nil {
		return nil, err
	}
	encoded, err := s.marshalTouchpoints(key, tps...)
	if err != nil {
		return nil, err
	}
	args := []any{
		head,
		key.Name() + "/touchpoints/", // + position, as store.TouchpointName
		s.logEntries,
		max(s.logTTL.Milliseconds(), 1),
		s.changesChannel(),
		writeID(),
	}
	return append(args, encoded...), nil
}

// writeID is a random id for one write: 12 bytes, base64 (16 characters).
func writeID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ListTouchpoints implements store.Store.
func (s *Store) ListTouchpoints(ctx context.Context, key store.JourneyKey, offset, limit int) ([]*handoffv1.Touchpoint, bool, error) {
	offset, limit = max(offset, 0), max(limit, 0)
	var exists *goredis.IntCmd
	var page *goredis.StringSliceCmd
	// MULTI, so the existence check and the page are one snapshot.
	_, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		exists = p.Exists(ctx, s.journeyKey(key))
		// One more than asked tells whether more follow.
		page = p.LRange(ctx, s.timelineKey(key), int64(offset), int64(offset+limit))
		return nil
	})
	if err != nil {
		return nil, false, wrapErr(ctx, "list touchpoints", err)
	}
	if exists.Val() == 0 {
		return nil, false, fmt.Errorf("list touchpoints: %w", store.ErrNotFound)
	}
	raw := page.Val()
	more := len(raw) > limit
	raw = raw[:min(len(raw), limit)]
	tps := make([]*handoffv1.Touchpoint, 0, len(raw))
	for i, b := range raw {
		tp := &handoffv1.Touchpoint{}
		plain, err := s.open([]byte(b), key)
		if err != nil {
			return nil, false, fmt.Errorf("list touchpoints: touchpoint %d: %w", offset+i+1, err)
		}
		if err := proto.Unmarshal(plain, tp); err != nil {
			return nil, false, fmt.Errorf("list touchpoints: decode touchpoint %d: %w", offset+i+1, err)
		}
		// Names are positions, so they are not stored but derived.
		tp.Name = store.TouchpointName(key, offset+i+1)
		tps = append(tps, tp)
	}
	return tps, more, nil
}

// prepare returns a copy of j (the journey at key) with its expire_time
// set, and the body to store, clear and as stored (sealed when the store
// seals): the copy without the etag and revision, which live in the hash's
// rev and seq fields so a write can check them without decoding the body
// (and the body can never hold stale ones). The caller sets both on the
// copy. The copy is shallow: a deep one of the answers cost 6% of a save's
// CPU, and the returned journey may share them (see store.Store).
func (s *Store) prepare(key store.JourneyKey, j *handoffv1.Journey) (out *handoffv1.Journey, plain, stored []byte, _ error) {
	out = shallowCopy(j)
	out.Etag, out.Revision = "", 0
	base := time.Now()
	if out.GetUpdateTime() != nil {
		base = out.GetUpdateTime().AsTime()
	}
	out.ExpireTime = timestamppb.New(base.Add(s.ttl))
	body, err := proto.Marshal(out)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encode journey: %w", err)
	}
	return out, body, s.seal(body, key), nil
}

// shallowCopy is a new journey with j's fields; message fields (answers,
// times) are shared, not copied.
func shallowCopy(j *handoffv1.Journey) *handoffv1.Journey {
	out := &handoffv1.Journey{}
	dst := out.ProtoReflect()
	j.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		dst.Set(fd, v)
		return true
	})
	return out
}

// decodeJourney turns an HMGET of rev, seq and body of the journey at key
// into a journey; a missing hash (all nil) is ErrNotFound.
func (s *Store) decodeJourney(key store.JourneyKey, rev, seq, body any) (*handoffv1.Journey, error) {
	r, okRev := rev.(string)
	b, okBody := body.(string)
	if !okRev || !okBody {
		return nil, store.ErrNotFound
	}
	plain, err := s.open([]byte(b), key)
	if err != nil {
		return nil, fmt.Errorf("decode journey: %w", err)
	}
	j := &handoffv1.Journey{}
	if err := proto.Unmarshal(plain, j); err != nil {
		return nil, fmt.Errorf("decode journey: %w", err)
	}
	dropKindless(j.GetData())
	j.Etag = r
	// A hash written before revisions were kept has no seq: revision 0,
	// which update.lua accepts as such.
	if sq, ok := seq.(string); ok {
		n, err := strconv.ParseInt(sq, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("decode journey: revision %q: %w", sq, err)
		}
		j.Revision = n
	}
	return j, nil
}

// marshalTouchpoints encodes (and seals, when the store seals) touchpoints
// for the timeline, without their names (derived from the position on
// read). Nil entries are skipped.
func (s *Store) marshalTouchpoints(key store.JourneyKey, tps ...*handoffv1.Touchpoint) ([]any, error) {
	out := make([]any, 0, len(tps))
	for _, tp := range tps {
		if tp == nil {
			continue
		}
		if tp.GetName() != "" {
			tp = proto.CloneOf(tp)
			tp.Name = ""
		}
		b, err := proto.Marshal(tp)
		if err != nil {
			return nil, fmt.Errorf("encode touchpoint: %w", err)
		}
		out = append(out, s.seal(b, key))
	}
	return out, nil
}

// indexMember is the journey's member in the customer index. Lexical order
// of members is (create time, id) order because the time is fixed-width hex;
// times before 1970 are clamped so the width holds.
func indexMember(createTime time.Time, journey string) string {
	return fmt.Sprintf("%016x:%s", max(createTime.UnixMicro(), 0), journey)
}

// parseMember splits an index member into its cursor.
func parseMember(m string) (store.JourneyCursor, error) {
	if len(m) < 18 || m[16] != ':' {
		return store.JourneyCursor{}, fmt.Errorf("malformed index member %q", m)
	}
	us, err := strconv.ParseInt(m[:16], 16, 64)
	if err != nil {
		return store.JourneyCursor{}, fmt.Errorf("malformed index member %q: %w", m, err)
	}
	return store.JourneyCursor{CreateTime: time.UnixMicro(us).UTC(), Journey: m[17:]}, nil
}

// SaveJourney implements store.Store.
// TODO(layout-v2): save.lua; being written.
func (s *Store) SaveJourney(context.Context, store.Save) (*handoffv1.Journey, error) {
	return nil, fmt.Errorf("save journey: not yet built on the Redis store")
}
