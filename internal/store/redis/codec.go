package redis

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/answers"
	"github.com/journeyhandoff/handoff/internal/store"
)

// storedAnswer is one answer as its field holds it: `<etag>:<size>:<value>`.
func storedAnswer(etag int64, by int, size int, value []byte) string {
	var b strings.Builder
	b.Grow(32 + len(value))
	b.WriteString(strconv.FormatInt(etag, 10))
	if by > 0 {
		b.WriteByte('.')
		b.WriteString(strconv.Itoa(by))
	}
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(size))
	b.WriteByte(':')
	b.Write(value)
	return b.String()
}

// parseStoredAnswer splits a stored answer into its etag, the position of
// the touchpoint that wrote it (0: not kept), size and value.
func parseStoredAnswer(v string) (etag int64, by int, size int, value string, err error) {
	e, rest, ok1 := strings.Cut(v, ":")
	sz, value, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		// Never the value: this error is logged.
		return 0, 0, 0, "", fmt.Errorf("malformed answer of %d bytes", len(v))
	}
	if e, b, ok := strings.Cut(e, "."); ok {
		if by, err = strconv.Atoi(b); err != nil || by < 1 {
			return 0, 0, 0, "", fmt.Errorf("malformed answer writer %q", b)
		}
		if etag, err = strconv.ParseInt(e, 10, 64); err != nil {
			return 0, 0, 0, "", fmt.Errorf("malformed answer etag %q", e)
		}
	} else if etag, err = strconv.ParseInt(e, 10, 64); err != nil {
		return 0, 0, 0, "", fmt.Errorf("malformed answer etag %q", e)
	}
	if size, err = strconv.Atoi(sz); err != nil {
		return 0, 0, 0, "", fmt.Errorf("malformed answer size %q", sz)
	}
	return etag, by, size, value, nil
}

// answerOwner is what a sealed answer is bound to: its journey and path,
// so it opens nowhere else.
func answerOwner(journey, path string) []byte {
	return []byte(journey + "/data/" + path)
}

// encodeAnswer is one answer's JSON, its size against the limits, and its
// value as stored (sealed when the store seals).
func (s *Store) encodeAnswer(key store.JourneyKey, path string, v *structpb.Value) (size int, stored []byte, err error) {
	js, err := answers.EncodeJSON(v)
	if err != nil {
		return 0, nil, err
	}
	if s.sealer != nil {
		stored = s.sealer.Seal(js, answerOwner(key.Name(), path))
	} else {
		stored = js
	}
	return store.AnswerSize(path, js), stored, nil
}

// decodeAnswer reads a stored answer's value back.
func (s *Store) decodeAnswer(journey, path string, stored []byte) (*structpb.Value, error) {
	// Only a sealing store needs the owner a sealed answer is bound to; a
	// read of 20 answers built 20 of them for nothing (1.3% of a get).
	var owner []byte
	if s.sealer != nil {
		owner = answerOwner(journey, path)
	}
	js, err := s.openOwned(stored, owner)
	if err != nil {
		return nil, fmt.Errorf("answer %s: %w", path, err)
	}
	return answers.DecodeJSON(js)
}

// micros is t in µs, the unit the record keeps times in; 0 for no time.
func micros(t *timestamppb.Timestamp) string {
	if t == nil {
		return ""
	}
	return strconv.FormatInt(t.AsTime().UnixMicro(), 10)
}

func fromMicros(v string) (*timestamppb.Timestamp, error) {
	if v == "" {
		return nil, nil
	}
	us, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("malformed time %q", v)
	}
	return timestamppb.New(time.UnixMicro(us)), nil
}

// enum is an enum's number as the record keeps it; "" for the zero value.
// decimal is n in decimal, or "" (the field absent) for 0.
func decimal(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func enum[E ~int32](e E) string {
	if e == 0 {
		return ""
	}
	return strconv.Itoa(int(e))
}

// metaFields are the record's fields of j but its answers, etag and
// revision, as field/value pairs; an empty value means the field is
// absent (HDEL on an update).
func metaFields(j *handoffv1.Journey) []any {
	return []any{
		fType, j.GetJourneyType(),
		fTypeVersion, decimal(j.GetJourneyTypeVersion()),
		fState, enum(j.GetState()),
		fStep, j.GetStep(),
		fChannel, enum(j.GetChannel()),
		fChannelDetail, j.GetChannelDetail(),
		fAssignee, j.GetAssignee(),
		fAssigneeName, j.GetAssigneeDisplayName(),
		fAssigneeChannel, enum(j.GetAssigneeChannel()),
		fClaimExpire, micros(j.GetClaimExpireTime()),
		fCreateTime, micros(j.GetCreateTime()),
		fUpdateTime, micros(j.GetUpdateTime()),
		fExpireTime, micros(j.GetExpireTime()),
	}
}

// recordFields is the whole record of j, as HSET pairs (absent fields left
// out), with every answer written at its etag: what a create and a
// conversion write. It also returns the answers as the change record
// carries them. by is the position of the touchpoint writing the answers
// (0: none).
func (s *Store) recordFields(key store.JourneyKey, j *handoffv1.Journey, etag, revision int64, by int) ([]any, []recordAnswer, error) {
	out := []any{fVersion, recordVersion, fEtag, strconv.FormatInt(etag, 10), fRevision, strconv.FormatInt(revision, 10)}
	meta := metaFields(j)
	for i := 0; i < len(meta); i += 2 {
		if meta[i+1] != "" {
			out = append(out, meta[i], meta[i+1])
		}
	}
	if j.GetStep() != "" {
		out = append(out, fStepEtag, strconv.FormatInt(etag, 10))
	}
	leaves := answers.Leaves(j.GetData())
	recAnswers := make([]recordAnswer, 0, len(leaves))
	total := 0
	for _, l := range leaves {
		size, stored, err := s.encodeAnswer(key, l.Path, l.Value)
		if err != nil {
			return nil, nil, err
		}
		total += size
		out = append(out, fAnswerPrefix+l.Path, storedAnswer(etag, by, size, stored))
		recAnswers = append(recAnswers, recordAnswer{path: l.Path, stored: stored})
	}
	out = append(out, fAnswerCount, strconv.Itoa(len(leaves)), fAnswerBytes, strconv.Itoa(total))
	return out, recAnswers, nil
}

// decodeRecord reads a journey from its hash's fields and values (HGETALL),
// of either layout; an empty hash is ErrNotFound. writers are the timeline
// entries that wrote its answers, by position (see provenanceRead); an
// answer whose writer is not among them has no provenance.
func (s *Store) decodeRecord(key store.JourneyKey, kv map[string]string, writers map[int]*handoffv1.Touchpoint) (*handoffv1.Journey, error) {
	if len(kv) == 0 {
		return nil, store.ErrNotFound
	}
	if kv[fVersion] == "" {
		if _, v1 := kv[fBody]; v1 {
			var seq any
			if sq, ok := kv[fRevision]; ok {
				seq = sq
			}
			return s.decodeJourney(key, kv[fEtag], seq, kv[fBody])
		}
	}
	if v := kv[fVersion]; v != recordVersion {
		return nil, fmt.Errorf("decode journey: record layout %q is not one this version of handoff reads", v)
	}
	name := key.Name()
	j := &handoffv1.Journey{
		Name:                name,
		JourneyType:         kv[fType],
		Step:                kv[fStep],
		ChannelDetail:       kv[fChannelDetail],
		Assignee:            kv[fAssignee],
		AssigneeDisplayName: kv[fAssigneeName],
		Etag:                kv[fEtag],
		Data:                &structpb.Struct{Fields: map[string]*structpb.Value{}},
	}
	var errs []error
	number := func(f string) int64 {
		v := kv[f]
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("field %s: %q is not a number", f, v))
		}
		return n
	}
	timeOf := func(f string) *timestamppb.Timestamp {
		t, err := fromMicros(kv[f])
		if err != nil {
			errs = append(errs, fmt.Errorf("field %s: %w", f, err))
		}
		return t
	}
	j.State = handoffv1.JourneyState(number(fState))
	j.Channel = handoffv1.Channel(number(fChannel))
	j.AssigneeChannel = handoffv1.Channel(number(fAssigneeChannel))
	j.Revision = number(fRevision)
	j.JourneyTypeVersion = number(fTypeVersion)
	j.ClaimExpireTime = timeOf(fClaimExpire)
	j.CreateTime = timeOf(fCreateTime)
	j.UpdateTime = timeOf(fUpdateTime)
	j.ExpireTime = timeOf(fExpireTime)
	j.ReminderTime = timeOf(fReminderTime)
	for f, v := range kv {
		path, ok := strings.CutPrefix(f, fAnswerPrefix)
		if !ok {
			continue
		}
		_, by, _, stored, err := parseStoredAnswer(v)
		if err == nil {
			var value *structpb.Value
			if value, err = s.decodeAnswer(name, path, []byte(stored)); err == nil {
				answers.Set(j.Data, path, value)
				if tp := writers[by]; tp != nil {
					if j.AnswerProvenance == nil {
						j.AnswerProvenance = make(map[string]*handoffv1.AnswerProvenance)
					}
					j.AnswerProvenance[path] = store.ProvenanceOf(tp)
				}
				continue
			}
		}
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("decode journey %s: %w", name, err)
	}
	return j, nil
}

// recordAnswer is one answer of a change record: its path and its value
// as stored; nil for an answer removed.
type recordAnswer struct {
	path   string
	stored []byte
}

// recordHead is the part of a change record Go writes (see record.go):
// the journey's name, the changed fields but answers (meta, a partial
// journey), the change's update_mask in order, and the answers set or
// removed. The scripts add revision, etag and touchpoints.
func recordHead(key store.JourneyKey, meta *handoffv1.Journey, mask []string, ans []recordAnswer) ([]byte, error) {
	m, err := proto.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("encode change: %w", err)
	}
	// Each answer is written in place, its length computed first, so that
	// the record is one allocation however many answers it names.
	answerSize := func(a recordAnswer) int {
		n := protowire.SizeTag(recAnswerPath) + protowire.SizeBytes(len(a.path))
		if a.stored != nil {
			n += protowire.SizeTag(recAnswerValue) + protowire.SizeBytes(len(a.stored))
		}
		return n
	}
	size := protowire.SizeTag(recJourney) + protowire.SizeBytes(len(key.Name())) +
		protowire.SizeTag(recMeta) + protowire.SizeBytes(len(m))
	for _, p := range mask {
		size += protowire.SizeTag(recMask) + protowire.SizeBytes(len(p))
	}
	for _, a := range ans {
		size += protowire.SizeTag(recAnswer) + protowire.SizeBytes(answerSize(a))
	}
	b := make([]byte, 0, size)
	b = protowire.AppendTag(b, recJourney, protowire.BytesType)
	b = protowire.AppendString(b, key.Name())
	b = protowire.AppendTag(b, recMeta, protowire.BytesType)
	b = protowire.AppendBytes(b, m)
	for _, p := range mask {
		b = protowire.AppendTag(b, recMask, protowire.BytesType)
		b = protowire.AppendString(b, p)
	}
	for _, a := range ans {
		b = protowire.AppendTag(b, recAnswer, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(answerSize(a)))
		b = protowire.AppendTag(b, recAnswerPath, protowire.BytesType)
		b = protowire.AppendString(b, a.path)
		if a.stored != nil {
			b = protowire.AppendTag(b, recAnswerValue, protowire.BytesType)
			b = protowire.AppendBytes(b, a.stored)
		}
	}
	return b, nil
}

// decodeRecordChange reads a v2 change record (without its marker) into
// the delta a watch delivers.
func (s *Store) decodeRecordChange(b []byte) (*handoffv1.JourneyChange, error) {
	return s.decodeRecordChangeOf(b, true)
}

// decodeRecordChangeOf is decodeRecordChange, leaving the answers out
// (named in the paths, absent from the journey) unless withAnswers: what
// a change's events need, which never carry an answer.
func (s *Store) decodeRecordChangeOf(b []byte, withAnswers bool) (*handoffv1.JourneyChange, error) {
	c := &handoffv1.JourneyChange{}
	var name string
	j := &handoffv1.Journey{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, errors.New("malformed change record")
		}
		b = b[n:]
		if typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 || num != recRevision {
				return nil, fmt.Errorf("malformed change record: field %d", num)
			}
			c.Revision = int64(v)
			b = b[n:]
			continue
		}
		if typ != protowire.BytesType {
			return nil, fmt.Errorf("malformed change record: field %d", num)
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, errors.New("malformed change record")
		}
		b = b[n:]
		switch num {
		case recJourney:
			name = string(v)
		case recEtag:
			j.Etag = string(v)
		case recMeta:
			if err := proto.Unmarshal(v, j); err != nil {
				return nil, fmt.Errorf("change record: %w", err)
			}
		case recMask:
			c.ChangedPaths = append(c.ChangedPaths, string(v))
		case recAnswer:
			path, ok := bytesField(v, recAnswerPath)
			if !ok {
				return nil, errors.New("malformed change record: an answer without a path")
			}
			if j.Data == nil {
				j.Data = &structpb.Struct{Fields: map[string]*structpb.Value{}}
			}
			stored, ok := bytesField(v, recAnswerValue)
			if !ok || !withAnswers {
				continue // removed: named in the mask, absent here
			}
			if name == "" {
				return nil, errors.New("malformed change record: no journey name first")
			}
			value, err := s.decodeAnswer(name, string(path), stored)
			if err != nil {
				return nil, fmt.Errorf("change record: %w", err)
			}
			answers.Set(j.Data, string(path), value)
		case recTouchpoint:
			tp, err := s.decodeRecordTouchpoint(v, name)
			if err != nil {
				return nil, err
			}
			c.Touchpoints = append(c.Touchpoints, tp)
		default:
			return nil, fmt.Errorf("malformed change record: field %d", num)
		}
	}
	if name == "" {
		return nil, errors.New("malformed change record: no journey name")
	}
	j.Name = name
	for _, p := range c.GetChangedPaths() {
		if p == "data" && j.Data == nil {
			j.Data = &structpb.Struct{Fields: map[string]*structpb.Value{}}
		}
	}
	c.Journey = j
	return c, nil
}

func (s *Store) decodeRecordTouchpoint(v []byte, journey string) (*handoffv1.Touchpoint, error) {
	name, ok1 := bytesField(v, recTouchName)
	entry, ok2 := bytesField(v, recTouchEntry)
	if !ok1 || !ok2 {
		return nil, errors.New("malformed change record: touchpoint")
	}
	tp, err := s.decodeEntry(entry, []byte(journey))
	if err != nil {
		return nil, fmt.Errorf("change record: touchpoint: %w", err)
	}
	tp.Name = string(name)
	return tp, nil
}

// encodeEntry is a touchpoint as the timeline keeps it: protobuf without
// its name (derived from its position), sealed when the store seals.
func (s *Store) encodeEntry(key store.JourneyKey, tp *handoffv1.Touchpoint) ([]byte, error) {
	if tp.GetName() != "" {
		tp = proto.CloneOf(tp)
		tp.Name = ""
	}
	b, err := proto.Marshal(tp)
	if err != nil {
		return nil, fmt.Errorf("encode touchpoint: %w", err)
	}
	return s.seal(b, key), nil
}

// decodeEntry reads a timeline entry of the journey named owner: a
// touchpoint, possibly stamped with the step a save's script knew (see
// stampMark).
func (s *Store) decodeEntry(b, owner []byte) (*handoffv1.Touchpoint, error) {
	var step []byte
	stamped := false
	if rest, ok := bytes.CutPrefix(b, []byte(stampMark)); ok {
		var found bool
		step, b, found = bytes.Cut(rest, []byte(stampMark))
		if !found {
			return nil, errors.New("malformed timeline entry")
		}
		stamped = true
	}
	plain, err := s.openOwned(b, owner)
	if err != nil {
		return nil, err
	}
	tp := &handoffv1.Touchpoint{}
	if err := proto.Unmarshal(plain, tp); err != nil {
		return nil, err
	}
	if stamped {
		tp.Step = string(step)
	}
	return tp, nil
}
