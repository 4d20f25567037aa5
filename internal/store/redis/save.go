package redis

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/answers"
	"github.com/journeyhandoff/handoff/internal/store"
)

var (
	// saveArgs are save.lua's arguments; the answers follow as triples.
	saveArgs = args{"write_id", "update_us", "expire_us", "expire_ms", "active_state", "agent",
		"if_etag", "whole_journey_etag", "set_step", "step", "replace_answers", "channel", "channel_detail",
		"max_answers", "max_bytes", "type", "type_version", "step_from", "touchpoint", "stamp_step", "want_journey",
		"want_change", "step_position", "customer",
		"head", "touchpoint_prefix", "log_entries", "log_ttl_ms", "feed_channel", "rest"}

	//go:embed save.lua
	saveLua    string
	saveScript = newScript(saveArgs, saveLua)
)

// emptyObject is what an object a removal emptied becomes.
var emptyObject = structpb.NewStructValue(&structpb.Struct{})

// cutLast splits a path into its parent and last key.
func cutLast(path string) (parent, last string, nested bool) {
	i := strings.LastIndex(path, answers.Sep)
	if i < 0 {
		return "", path, false
	}
	return path[:i], path[i+1:], true
}

// SaveJourney implements store.Store with one script and no read before it
// (docs/layout.md).
func (s *Store) SaveJourney(ctx context.Context, sv store.Save) (*handoffv1.Journey, error) {
	keys, args, err := s.saveCall(sv)
	if err != nil {
		return nil, fmt.Errorf("save journey: %w", err)
	}
	return s.save(ctx, sv, keys, args)
}

// save runs a save's script (keys and args from saveCall) and answers.
func (s *Store) save(ctx context.Context, sv store.Save, keys []string, args []any) (*handoffv1.Journey, error) {
	for range 2 {
		res, err := s.runWrite(ctx, saveScript, keys, args...).StringSlice()
		if err != nil {
			return nil, wrapErr(ctx, "save journey", err)
		}
		switch res[0] {
		case "saved":
			return s.saved(ctx, sv, res)
		case "replayed":
			// This very save ran and its reply was lost: answer with what
			// is there now, and append what its first run may not have.
			var j *handoffv1.Journey
			if s.events != nil {
				j, err = s.catchUp(ctx, sv.Key)
			} else {
				j, err = s.GetJourney(ctx, sv.Key)
			}
			if err != nil || sv.WantJourney {
				return j, err
			}
			return brief(j), nil
		case "convert":
			if err := s.convert(ctx, sv.Key); err != nil {
				return nil, fmt.Errorf("save journey: %w", err)
			}
			continue
		}
		return nil, fmt.Errorf("save journey: %w", saveRefusal(res, sv.Limits))
	}
	return nil, fmt.Errorf("save journey: %w", store.ErrConflict)
}

// saveRefusal is the store error of a save.lua reply that saved nothing.
func saveRefusal(res []string, limits store.AnswerLimits) error {
	arg := func(i int) string {
		if i < len(res) {
			return res[i]
		}
		return ""
	}
	switch res[0] {
	case "missing":
		return store.ErrNotFound
	case "conflict":
		return store.ErrConflict
	case "lapsed":
		return store.ErrClaimLapsed
	case "held":
		return &store.HeldError{Assignee: arg(1)}
	case "state":
		n, _ := strconv.Atoi(arg(1))
		return &store.NotActiveError{State: handoffv1.JourneyState(n)}
	case "type":
		v, _ := strconv.ParseInt(arg(2), 10, 64)
		return &store.TypeVersionError{Type: arg(1), Version: v}
	case "step":
		return &store.StepError{Step: arg(1)}
	case "limit":
		n, _ := strconv.Atoi(arg(1))
		b, _ := strconv.Atoi(arg(2))
		return &store.TooLargeError{Answers: n, Bytes: b, Limits: limits}
	}
	return fmt.Errorf("unexpected script result %q", res)
}

// saveCall is the keys and arguments of a save's script (see save.lua).
func (s *Store) saveCall(sv store.Save) ([]string, []any, error) {
	key := sv.Key
	update := sv.UpdateTime.Truncate(time.Microsecond)
	expire := update.Add(s.journeyTTL(sv.Type, sv.TypeVersion))

	meta := &handoffv1.Journey{
		UpdateTime:    timestamppb.New(update),
		ExpireTime:    timestamppb.New(expire),
		Channel:       sv.Channel,
		ChannelDetail: sv.ChannelDetail,
	}
	mask := store.SavePaths(sv)
	if sv.SetStep {
		meta.Step = sv.Step
	}
	ops := make([]any, 0, 4*len(sv.Answers))
	recAnswers := make([]recordAnswer, 0, len(sv.Answers))
	// remove is a removal op; emptied says what its parent becomes if the
	// removal leaves it empty (an empty object, as a Struct keeps it).
	remove := func(path string, emptied bool) error {
		parentSize, parentStored := "", []byte(nil)
		if parent, _, nested := cutLast(path); nested && emptied {
			size, stored, err := s.encodeAnswer(key, parent, emptyObject)
			if err != nil {
				return err
			}
			parentSize, parentStored = strconv.Itoa(size), stored
		}
		ops = append(ops, path, "", parentStored, parentSize)
		recAnswers = append(recAnswers, recordAnswer{path: path})
		return nil
	}
	for _, a := range sv.Answers {
		if a.Value == nil {
			if err := remove(a.Path, true); err != nil {
				return nil, nil, err
			}
			continue
		}
		if obj := a.Value.GetStructValue(); len(obj.GetFields()) > 0 {
			// The record keeps leaves: an object replaces what stood at its
			// path with its own leaves (which then fill the path again).
			if err := remove(a.Path, false); err != nil {
				return nil, nil, err
			}
		}
		for _, l := range answers.LeavesAt(a.Path, a.Value) {
			size, stored, err := s.encodeAnswer(key, l.Path, l.Value)
			if err != nil {
				return nil, nil, err
			}
			ops = append(ops, l.Path, size, stored, "")
			recAnswers = append(recAnswers, recordAnswer{path: l.Path, stored: stored})
		}
	}
	head, err := recordHead(key, meta, mask, recAnswers)
	if err != nil {
		return nil, nil, err
	}

	var entry []byte
	if sv.Touchpoint != nil {
		tp := sv.Touchpoint
		if sv.SetStep && tp.GetStep() != sv.Step {
			tp = proto.CloneOf(tp)
			tp.Step = sv.Step
		}
		if entry, err = s.encodeEntry(key, tp); err != nil {
			return nil, nil, err
		}
	}

	args := saveArgs.make(len(ops))
	set := func(name string, v any) { args[saveArgs.index(name)] = v }
	set("write_id", writeID())
	set("update_us", update.UnixMicro())
	set("expire_us", expire.UnixMicro())
	set("expire_ms", expire.UnixMilli())
	set("active_state", enum(handoffv1.JourneyState_JOURNEY_STATE_ACTIVE))
	set("agent", sv.Agent)
	set("if_etag", sv.IfEtag)
	set("whole_journey_etag", flag(sv.WholeJourneyEtag))
	set("set_step", flag(sv.SetStep))
	set("step", sv.Step)
	set("replace_answers", flag(sv.ReplaceAnswers))
	set("channel", enum(sv.Channel))
	set("channel_detail", sv.ChannelDetail)
	set("max_answers", sv.Limits.Answers)
	set("max_bytes", sv.Limits.Bytes)
	set("type", sv.Type)
	set("type_version", decimal(sv.TypeVersion))
	if sv.StepFrom != nil {
		// Step ids have no spaces (the API's pattern); a journey on no step
		// may move anywhere (save.lua).
		set("step_from", " "+strings.Join(sv.StepFrom, " ")+" ")
	}
	set("touchpoint", entry)
	// The step after a save that sets none is the script's to know.
	set("stamp_step", flag(!sv.SetStep))
	set("want_journey", flag(sv.WantJourney))
	set("want_change", flag(s.events != nil))
	if sv.SetStep {
		set("step_position", decimal(int64(s.writes.Position(sv.Type, sv.TypeVersion, sv.Step))))
	}
	set("customer", flag(store.IsCustomerTouch(sv.Touchpoint)))
	s.changeArgs(args, saveArgs, key, head)
	keys := []string{s.journeyKey(key), s.timelineKey(key), s.indexKey(key.Customer), s.logKey(key)}
	return keys, append(args, ops...), nil
}

// saved is the journey a save returns, from the script's reply: the whole
// record when the caller wants the journey, else the brief one.
func (s *Store) saved(ctx context.Context, sv store.Save, res []string) (*handoffv1.Journey, error) {
	if len(res) < savedInsightHead {
		return nil, fmt.Errorf("save journey: unexpected script result %q", res)
	}
	revision, err := strconv.ParseInt(res[2], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("save journey: revision %q", res[2])
	}
	if err := s.savedEvents(ctx, sv, revision, res); err != nil {
		return nil, fmt.Errorf("save journey: %w", err)
	}
	if s.reporting() {
		s.writes.Report(s.savedWritten(sv, res))
	}
	if !sv.WantJourney {
		update := sv.UpdateTime.Truncate(time.Microsecond)
		return &handoffv1.Journey{
			Name:       sv.Key.Name(),
			Etag:       res[1],
			Revision:   revision,
			UpdateTime: timestamppb.New(update),
			ExpireTime: timestamppb.New(update.Add(s.journeyTTL(sv.Type, sv.TypeVersion))),
		}, nil
	}
	kv := make(map[string]string, (len(res)-savedInsightHead)/2)
	for i := savedInsightHead; i+1 < len(res); i += 2 {
		kv[res[i]] = res[i+1]
	}
	j, err := s.decodeRecord(sv.Key, kv, nil)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("save journey: the script returned no record")
	}
	return j, err
}

// brief is the journey a save returns to a caller that wants only its
// versions (see store.Save.WantJourney).
func brief(j *handoffv1.Journey) *handoffv1.Journey {
	return &handoffv1.Journey{Name: j.GetName(), Etag: j.GetEtag(), Revision: j.GetRevision(), UpdateTime: j.GetUpdateTime(), ExpireTime: j.GetExpireTime()}
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
