package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
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
	out, body, err := s.prepare(j)
	if err != nil {
		return nil, false, fmt.Errorf("create journey: %w", err)
	}
	keys := []string{s.journeyKey(key), s.timelineKey(key), s.indexKey(key.Customer)}
	if requestID != "" {
		keys = append(keys, s.requestKey(key.Customer, requestID))
	}
	expireAt := out.GetExpireTime().AsTime()
	// The request id never outlives the journey it made: a retry after the
	// journey expired creates a new one instead of pointing at nothing.
	requestExpireAt := min(time.Now().Add(requestIDTTL).UnixMilli(), expireAt.UnixMilli())
	args := []any{body, indexMember(out.GetCreateTime().AsTime(), key.Journey), expireAt.UnixMilli(), key.Journey, requestExpireAt, ""}
	tps, err := marshalTouchpoints(first)
	if err != nil {
		return nil, false, fmt.Errorf("create journey: %w", err)
	}
	args = append(args, tps...)

	// Two rounds at most: the second only when the request id pointed at a
	// journey that is gone (see create.lua).
	for range 2 {
		res, err := createScript.Run(ctx, s.client, keys, args...).StringSlice()
		if err != nil {
			return nil, false, wrapErr(ctx, "create journey", err)
		}
		switch res[0] {
		case "created":
			out.Etag = "1"
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
	vals, err := s.client.HMGet(ctx, s.journeyKey(key), "rev", "body").Result()
	if err != nil {
		return nil, wrapErr(ctx, "get journey", err)
	}
	j, err := decodeJourney(vals[0], vals[1])
	if err != nil {
		return nil, fmt.Errorf("get journey: %w", err)
	}
	return j, nil
}

// UpdateJourney implements store.Store.
func (s *Store) UpdateJourney(ctx context.Context, j *handoffv1.Journey, ifEtag string, appended ...*handoffv1.Touchpoint) (*handoffv1.Journey, error) {
	key, err := store.ParseJourneyName(j.GetName())
	if err != nil {
		return nil, fmt.Errorf("update journey: %w", err)
	}
	out, body, err := s.prepare(j)
	if err != nil {
		return nil, fmt.Errorf("update journey: %w", err)
	}
	keys := []string{s.journeyKey(key), s.timelineKey(key), s.indexKey(key.Customer)}
	args := []any{ifEtag, body, out.GetExpireTime().AsTime().UnixMilli()}
	tps, err := marshalTouchpoints(appended...)
	if err != nil {
		return nil, fmt.Errorf("update journey: %w", err)
	}
	args = append(args, tps...)

	res, err := updateScript.Run(ctx, s.client, keys, args...).StringSlice()
	if err != nil {
		return nil, wrapErr(ctx, "update journey", err)
	}
	switch res[0] {
	case "updated":
		out.Etag = res[1]
		return out, nil
	case "missing":
		return nil, fmt.Errorf("update journey: %w", store.ErrNotFound)
	case "conflict":
		return nil, fmt.Errorf("update journey: %w", store.ErrConflict)
	default:
		return nil, fmt.Errorf("update journey: unexpected script result %q", res)
	}
}

// AppendTouchpoints appends to the journey's timeline without changing the
// journey, so its etag stays current (a handoff offer must not make the
// website's next save fail). A missing journey gives ErrNotFound.
func (s *Store) AppendTouchpoints(ctx context.Context, key store.JourneyKey, tps ...*handoffv1.Touchpoint) error {
	args, err := marshalTouchpoints(tps...)
	if err != nil {
		return fmt.Errorf("append touchpoints: %w", err)
	}
	res, err := appendScript.Run(ctx, s.client, []string{s.journeyKey(key), s.timelineKey(key)}, args...).Text()
	if err != nil {
		return wrapErr(ctx, "append touchpoints", err)
	}
	if res == "missing" {
		return fmt.Errorf("append touchpoints: %w", store.ErrNotFound)
	}
	return nil
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
		if err := proto.Unmarshal([]byte(b), tp); err != nil {
			return nil, false, fmt.Errorf("list touchpoints: decode touchpoint %d: %w", offset+i+1, err)
		}
		// Names are positions, so they are not stored but derived.
		tp.Name = store.TouchpointName(key, offset+i+1)
		tps = append(tps, tp)
	}
	return tps, more, nil
}

// prepare copies j with the fields the store owns set, and the body to
// store: without the etag, which lives in the hash's rev field so a write
// can check it without decoding the body.
func (s *Store) prepare(j *handoffv1.Journey) (*handoffv1.Journey, []byte, error) {
	out := proto.CloneOf(j)
	out.Etag = ""
	base := time.Now()
	if out.GetUpdateTime() != nil {
		base = out.GetUpdateTime().AsTime()
	}
	out.ExpireTime = timestamppb.New(base.Add(s.ttl))
	body, err := proto.Marshal(out)
	if err != nil {
		return nil, nil, fmt.Errorf("encode journey: %w", err)
	}
	return out, body, nil
}

// decodeJourney turns an HMGET of rev and body into a journey; a missing
// hash (both nil) is ErrNotFound.
func decodeJourney(rev, body any) (*handoffv1.Journey, error) {
	r, okRev := rev.(string)
	b, okBody := body.(string)
	if !okRev || !okBody {
		return nil, store.ErrNotFound
	}
	j := &handoffv1.Journey{}
	if err := proto.Unmarshal([]byte(b), j); err != nil {
		return nil, fmt.Errorf("decode journey: %w", err)
	}
	j.Etag = r
	return j, nil
}

// marshalTouchpoints encodes touchpoints for the timeline, without their
// names (derived from the position on read). Nil entries are skipped.
func marshalTouchpoints(tps ...*handoffv1.Touchpoint) ([]any, error) {
	out := make([]any, 0, len(tps))
	for _, tp := range tps {
		if tp == nil {
			continue
		}
		c := proto.CloneOf(tp)
		c.Name = ""
		b, err := proto.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("encode touchpoint: %w", err)
		}
		out = append(out, b)
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
