package redis

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// createArgs, updateArgs and convertArgs are the scripts' arguments (see
// record.go); each script's header says what follows the fixed part.
var (
	createArgs = args{"write_id", "index_member", "expire_ms", "journey_id", "request_expire_ms", "stale_request",
		"head", "touchpoint_prefix", "log_entries", "log_ttl_ms", "feed_channel", "touchpoints", "rest"}
	updateArgs = args{"read_etag", "read_revision", "new_etag", "new_revision", "write_id", "expire_ms",
		"step_position", "resume_us", "head", "touchpoint_prefix", "log_entries", "log_ttl_ms", "feed_channel", "touchpoints", "rest"}
	convertArgs = args{"read_etag", "read_revision", "rest"}

	//go:embed create.lua
	createLua    string
	createScript = newScript(createArgs, createLua)
	//go:embed update.lua
	updateLua    string
	updateScript = newScript(updateArgs, updateLua)
	//go:embed get.lua
	getLua    string
	getScript = newScript(args{}, getLua)
	//go:embed convert.lua
	convertLua    string
	convertScript = newScript(convertArgs, convertLua)
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
		res, err := s.runWrite(ctx, createScript, keys, args...).StringSlice()
		if err != nil {
			return nil, false, wrapErr(ctx, "create journey", err)
		}
		switch res[0] {
		case "created":
			if err := s.createdEvents(ctx, key, out, first, args[createArgs.index("write_id")].(string)); err != nil {
				return nil, false, fmt.Errorf("create journey: %w", err)
			}
			if s.reporting() {
				s.writes.Report(s.createdWritten(key, out, first))
			}
			return out, true, nil
		case "exists":
			return nil, false, fmt.Errorf("create journey: %w", store.ErrAlreadyExists)
		case "replayed":
			made := store.JourneyKey{Customer: key.Customer, Journey: res[1]}
			var got *handoffv1.Journey
			if s.events != nil {
				// The create that made it may have failed to append its
				// events: the retry does.
				got, err = s.catchUp(ctx, made)
			} else {
				got, err = s.GetJourney(ctx, made)
			}
			if errors.Is(err, store.ErrNotFound) {
				args[createArgs.index("stale_request")] = made.Journey
				continue
			}
			if err != nil {
				return nil, false, fmt.Errorf("create journey: %w", err)
			}
			return got, false, nil
		default:
			return nil, false, fmt.Errorf("create journey: unexpected script result %q", res)
		}
	}
	return nil, false, fmt.Errorf("create journey: request id %q keeps pointing at a missing journey", requestID)
}

// createCall is the journey a create returns, and the keys and arguments
// of its script (see create.lua).
func (s *Store) createCall(key store.JourneyKey, j *handoffv1.Journey, first *handoffv1.Touchpoint, requestID string) (*handoffv1.Journey, []string, []any, error) {
	out := s.stamped(j, "1", 1)
	out.ReminderTime = nil // the store's to set (RemindJourney)
	by := 0
	if first != nil {
		by = 1 // the timeline starts anew with it (create.lua)
	}
	fields, recAnswers, err := s.recordFields(key, out, 1, 1, by)
	if err != nil {
		return nil, nil, nil, err
	}
	meta := shallowCopy(out)
	meta.Name, meta.Data, meta.Etag, meta.Revision = "", nil, "", 0
	head, err := recordHead(key, meta, store.CreatePaths, recAnswers)
	if err != nil {
		return nil, nil, nil, err
	}
	keys := []string{s.journeyKey(key), s.timelineKey(key), s.indexKey(key.Customer), s.logKey(key)}
	if requestID != "" {
		keys = append(keys, s.requestKey(key.Customer, requestID))
	}
	expireAt := out.GetExpireTime().AsTime()
	var tps []any
	if first != nil {
		entry, err := s.encodeEntry(key, first)
		if err != nil {
			return nil, nil, nil, err
		}
		tps = append(tps, entry)
	}
	args := createArgs.make(len(tps) + len(fields))
	args[createArgs.index("write_id")] = writeID()
	args[createArgs.index("index_member")] = indexMember(out.GetCreateTime().AsTime(), key.Journey)
	args[createArgs.index("expire_ms")] = expireAt.UnixMilli()
	args[createArgs.index("journey_id")] = key.Journey
	// The request id never outlives the journey it made: a retry after the
	// journey expired creates a new one instead of pointing at nothing.
	args[createArgs.index("request_expire_ms")] = min(time.Now().Add(requestIDTTL).UnixMilli(), expireAt.UnixMilli())
	args[createArgs.index("touchpoints")] = len(tps)
	s.changeArgs(args, createArgs, key, head)
	fields = append(fields, insightFields(out, first, s.writes.Position(out.GetJourneyType(), out.GetJourneyTypeVersion(), out.GetStep()))...)
	return out, keys, append(append(args, tps...), fields...), nil
}

// changeArgs fills the arguments every writing script shares: the change
// record's head, how touchpoints are named, the log's bounds, the channel.
func (s *Store) changeArgs(args []any, a args, key store.JourneyKey, head []byte) {
	args[a.index("head")] = head
	args[a.index("touchpoint_prefix")] = key.Name() + "/touchpoints/" // + position, as store.TouchpointName
	args[a.index("log_entries")] = s.logEntries
	args[a.index("log_ttl_ms")] = max(s.logTTL.Milliseconds(), 1)
	args[a.index("feed_channel")] = s.journeyChannel(key)
}

// stamped is a shallow copy of j with the etag, revision and the
// expire_time (update_time plus the TTL) a write gives it. The copy shares
// answers and times with j: a deep one cost 6% of a save's CPU, and the
// returned journey may share them (see store.Store).
func (s *Store) stamped(j *handoffv1.Journey, etag string, revision int64) *handoffv1.Journey {
	out := shallowCopy(j)
	base := time.Now()
	if out.GetUpdateTime() != nil {
		base = out.GetUpdateTime().AsTime()
	}
	out.ExpireTime = timestamppb.New(base.Add(s.journeyTTL(out.GetJourneyType(), out.GetJourneyTypeVersion())))
	// The record keeps times to the microsecond; return them as it will
	// read them.
	for _, t := range []**timestamppb.Timestamp{&out.CreateTime, &out.UpdateTime, &out.ExpireTime, &out.ClaimExpireTime} {
		if *t != nil {
			*t = timestamppb.New((*t).AsTime().Truncate(time.Microsecond))
		}
	}
	out.Etag, out.Revision = etag, revision
	if out.Data == nil {
		// As it reads back: a record holds answers, perhaps none.
		out.Data = &structpb.Struct{Fields: map[string]*structpb.Value{}}
	}
	return out
}

// GetJourney implements store.Store.
func (s *Store) GetJourney(ctx context.Context, key store.JourneyKey) (*handoffv1.Journey, error) {
	kv, err := s.client.HGetAll(ctx, s.journeyKey(key)).Result()
	if err != nil {
		return nil, wrapErr(ctx, "get journey", err)
	}
	j, err := s.decodeRecord(key, kv, nil)
	if err != nil {
		return nil, fmt.Errorf("get journey: %w", err)
	}
	return j, nil
}

// JourneyWithProvenance implements store.Store: the record and the
// timeline entries that wrote its answers, in one script.
func (s *Store) JourneyWithProvenance(ctx context.Context, key store.JourneyKey) (*handoffv1.Journey, error) {
	res, err := getScript.Run(ctx, s.client, []string{s.journeyKey(key), s.timelineKey(key)}).StringSlice()
	if err != nil {
		return nil, wrapErr(ctx, "get journey", err)
	}
	j, err := s.decodeReply(key, res)
	if err != nil {
		return nil, fmt.Errorf("get journey: %w", err)
	}
	return j, nil
}

// decodeReply reads a journey from a script's reply of the record's
// fields and its answers' writers (get.lua): the
// number of record items, the record's fields and values, then positions
// and timeline entries.
func (s *Store) decodeReply(key store.JourneyKey, res []string) (*handoffv1.Journey, error) {
	if len(res) == 0 {
		return nil, errors.New("an empty reply")
	}
	n, err := strconv.Atoi(res[0])
	if err != nil || n < 0 || 1+n > len(res) {
		return nil, fmt.Errorf("a malformed reply: %d items, %q first", len(res), res[0])
	}
	kv := make(map[string]string, n/2)
	for i := 1; i+1 <= n; i += 2 {
		kv[res[i]] = res[i+1]
	}
	var writers map[int]*handoffv1.Touchpoint
	for i := 1 + n; i+1 < len(res); i += 2 {
		pos, err := strconv.Atoi(res[i])
		if err != nil {
			return nil, fmt.Errorf("a malformed reply: writer %q", res[i])
		}
		tp, err := s.decodeEntry([]byte(res[i+1]), []byte(key.Name()))
		if err != nil {
			return nil, fmt.Errorf("touchpoint %d: %w", pos, err)
		}
		tp.Name = store.TouchpointName(key, pos)
		if writers == nil {
			writers = make(map[int]*handoffv1.Touchpoint)
		}
		writers[pos] = tp
	}
	return s.decodeRecord(key, kv, writers)
}

// UpdateJourney implements store.Store: every field but the answers, if
// the journey is still at the revision and etag read.
func (s *Store) UpdateJourney(ctx context.Context, u store.Update) (*handoffv1.Journey, error) {
	key, err := store.ParseJourneyName(u.Journey.GetName())
	if err != nil {
		return nil, fmt.Errorf("update journey: %w", err)
	}
	out, keys, args, err := s.updateCall(key, u)
	if err != nil {
		return nil, fmt.Errorf("update journey: %w", err)
	}
	for range 2 {
		res, err := s.runWrite(ctx, updateScript, keys, args...).StringSlice()
		if err != nil {
			return nil, wrapErr(ctx, "update journey", err)
		}
		switch res[0] {
		case "updated":
			if len(res) < updatedInsightItems {
				return nil, fmt.Errorf("update journey: unexpected script result %q", res)
			}
			if err := s.updatedEvents(ctx, key, out, res); err != nil {
				return nil, fmt.Errorf("update journey: %w", err)
			}
			if s.reporting() {
				s.writes.Report(s.updatedWritten(key, u, out, res))
			}
			return out, nil
		case "replayed":
			if s.events != nil {
				if _, err := s.catchUp(ctx, key); err != nil {
					return nil, fmt.Errorf("update journey: %w", err)
				}
			}
			return out, nil
		case "missing":
			return nil, fmt.Errorf("update journey: %w", store.ErrNotFound)
		case "conflict":
			return nil, fmt.Errorf("update journey: %w", store.ErrConflict)
		case "convert":
			if err := s.convert(ctx, key); err != nil {
				return nil, fmt.Errorf("update journey: %w", err)
			}
		default:
			return nil, fmt.Errorf("update journey: unexpected script result %q", res)
		}
	}
	return nil, fmt.Errorf("update journey: %w", store.ErrConflict)
}

// updateCall is the journey an update returns, and the keys and arguments
// of its script (see update.lua).
func (s *Store) updateCall(key store.JourneyKey, u store.Update) (*handoffv1.Journey, []string, []any, error) {
	// Known before the write, since the write happens only at the revision
	// and etag read: the returned journey and the logged change carry them.
	readEtag, readRevision := u.Journey.GetEtag(), u.Journey.GetRevision()
	out := s.stamped(u.Journey, nextEtag(readEtag, u.ContentChanged), readRevision+1)
	meta := shallowCopy(out)
	meta.Name, meta.Data, meta.Etag, meta.Revision = "", nil, "", 0
	meta.JourneyType, meta.JourneyTypeVersion, meta.CreateTime = "", 0, nil
	meta.AnswerProvenance, meta.MaskedAnswers = nil, nil
	head, err := recordHead(key, meta, store.UpdatePaths, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	var tps []any
	for _, tp := range u.Touchpoints {
		if tp == nil {
			continue
		}
		entry, err := s.encodeEntry(key, tp)
		if err != nil {
			return nil, nil, nil, err
		}
		tps = append(tps, entry)
	}
	fields := metaFields(out)
	keys := []string{s.journeyKey(key), s.timelineKey(key), s.indexKey(key.Customer), s.logKey(key)}
	args := updateArgs.make(len(tps) + len(fields))
	args[updateArgs.index("read_etag")] = readEtag
	args[updateArgs.index("read_revision")] = readRevision
	args[updateArgs.index("new_etag")] = out.GetEtag()
	args[updateArgs.index("new_revision")] = out.GetRevision()
	args[updateArgs.index("write_id")] = writeID()
	args[updateArgs.index("expire_ms")] = out.GetExpireTime().AsTime().UnixMilli()
	args[updateArgs.index("touchpoints")] = len(tps)
	args[updateArgs.index("step_position")] = decimal(int64(s.writes.Position(out.GetJourneyType(), out.GetJourneyTypeVersion(), out.GetStep())))
	for _, tp := range u.Touchpoints {
		if store.IsResume(tp) {
			args[updateArgs.index("resume_us")] = updateTime(out).UnixMicro()
			break
		}
	}
	s.changeArgs(args, updateArgs, key, head)
	return out, keys, append(append(args, tps...), fields...), nil
}

// convert rewrites a v1 record (a protobuf body) in the current layout,
// if nobody changed it meanwhile (see convert.lua).
func (s *Store) convert(ctx context.Context, key store.JourneyKey) error {
	for range 3 {
		kv, err := s.client.HGetAll(ctx, s.journeyKey(key)).Result()
		if err != nil {
			return wrapErr(ctx, "convert journey", err)
		}
		j, err := s.decodeRecord(key, kv, nil)
		if err != nil {
			return fmt.Errorf("convert journey: %w", err)
		}
		etag, err := strconv.ParseInt(j.GetEtag(), 10, 64)
		if err != nil {
			return fmt.Errorf("convert journey: etag %q is not a number", j.GetEtag())
		}
		fields, _, err := s.recordFields(key, j, etag, j.GetRevision(), 0)
		if err != nil {
			return fmt.Errorf("convert journey: %w", err)
		}
		args := convertArgs.make(len(fields))
		args[convertArgs.index("read_etag")] = kv[fEtag]
		args[convertArgs.index("read_revision")] = strconv.FormatInt(j.GetRevision(), 10)
		res, err := s.runWrite(ctx, convertScript, []string{s.journeyKey(key), s.logKey(key)}, append(args, fields...)...).Text()
		if err != nil {
			return wrapErr(ctx, "convert journey", err)
		}
		switch res {
		case "converted":
			return nil
		case "missing":
			return fmt.Errorf("convert journey: %w", store.ErrNotFound)
		case "conflict":
			continue // written meanwhile by an instance of the previous version: read again
		default:
			return fmt.Errorf("convert journey: unexpected script result %q", res)
		}
	}
	return fmt.Errorf("convert journey: %w", store.ErrConflict)
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

// writeID is a random id for one write: 12 bytes, base64 (16 characters).
// It makes the scripts safe to retry: go-redis resends a command whose
// reply was lost with its connection, and the script, which did run, then
// finds its id among the journey's recent writes instead of failing as a
// conflict (and the service applying the change again).
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
		tp, err := s.decodeEntry([]byte(b), []byte(key.Name()))
		if err != nil {
			return nil, false, fmt.Errorf("list touchpoints: touchpoint %d: %w", offset+i+1, err)
		}
		// Names are positions, so they are not stored but derived.
		tp.Name = store.TouchpointName(key, offset+i+1)
		tps = append(tps, tp)
	}
	return tps, more, nil
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
