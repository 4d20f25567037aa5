package memory

import (
	"context"
	"fmt"
	"slices"
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

// SaveJourney applies sv under the store's lock, which makes it the one
// step save.lua is in Redis: every check is made against the journey as it
// is at the moment of the write, and a refused save changes nothing.
func (s *Store) SaveJourney(_ context.Context, sv store.Save) (*handoffv1.Journey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	e := s.live(sv.Key, now)
	if e == nil {
		return nil, fmt.Errorf("journey %s: %w", sv.Key.Name(), store.ErrNotFound)
	}
	at := sv.UpdateTime
	if at.IsZero() {
		at = now
	}
	if err := e.checkTypeAndStep(sv); err != nil {
		return nil, fmt.Errorf("journey %s: %w", sv.Key.Name(), err)
	}
	if err := e.maySave(sv, at); err != nil {
		return nil, fmt.Errorf("journey %s: %w", sv.Key.Name(), err)
	}
	if err := e.checkEtag(sv); err != nil {
		return nil, fmt.Errorf("journey %s at etag %q: %w", sv.Key.Name(), sv.IfEtag, err)
	}
	data, leaves, err := e.merge(sv)
	if err != nil {
		return nil, fmt.Errorf("journey %s: %w", sv.Key.Name(), err)
	}

	// Nothing below can fail: the save lands whole.
	before, reminder := e.moment(), e.reminder()
	etag := e.etag + 1
	body := e.body
	if data != nil {
		body.Data = data
		by := 0
		if sv.Touchpoint != nil {
			by = len(e.timeline) + 1
		}
		e.recordWrites(sv, leaves, etag, by)
	}
	if sv.SetStep {
		if sv.Step != body.GetStep() {
			e.stepEtag = etag
		}
		body.Step = sv.Step
	}
	body.Channel = sv.Channel
	body.ChannelDetail = sv.ChannelDetail
	body.UpdateTime = timestamppb.New(at)
	var tps []*handoffv1.Touchpoint
	if sv.Touchpoint != nil {
		// The step after the save, which the service cannot know when the
		// save sets none.
		tp := proto.CloneOf(sv.Touchpoint)
		tp.Step = body.GetStep()
		tps = append(tps, tp)
	}
	s.commit(sv.Key, e, body, now, true, tps, store.SavePaths(sv))
	s.writes.Report(s.written(sv.Key, e, opSave, before, reminder, at, tps))
	if sv.WantJourney {
		return e.out(), nil
	}
	return &handoffv1.Journey{
		Name:       body.GetName(),
		Etag:       strconv.FormatInt(e.etag, 10),
		Revision:   e.revision,
		UpdateTime: proto.CloneOf(body.GetUpdateTime()),
		ExpireTime: proto.CloneOf(body.GetExpireTime()),
	}, nil
}

// maySave checks what a save must find whatever it writes: an active
// journey whose claim has not lapsed by at (the service's clock), and,
// for an agent, no other agent holding it. A lapsed claim is told apart
// from a hold: it holds nothing any more, and the caller's remedy is to
// release it, not to ask its holder.
func (e *journeyEntry) maySave(sv store.Save, at time.Time) error {
	j := e.body
	if j.GetState() != handoffv1.JourneyState_JOURNEY_STATE_ACTIVE {
		return &store.NotActiveError{State: j.GetState()}
	}
	if j.GetAssignee() != "" && j.GetClaimExpireTime() != nil && !at.Before(j.GetClaimExpireTime().AsTime()) {
		return fmt.Errorf("held by %s until %s: %w", j.GetAssignee(), j.GetClaimExpireTime().AsTime().UTC().Format(time.RFC3339Nano), store.ErrClaimLapsed)
	}
	if sv.Agent != "" && j.GetAssignee() != "" && j.GetAssignee() != sv.Agent {
		return &store.HeldError{Assignee: j.GetAssignee()}
	}
	return nil
}

// checkTypeAndStep refuses a save checked against another journey type
// version than the journey's, and one that sets a step the journey may not
// move to from the step it is on.
func (e *journeyEntry) checkTypeAndStep(sv store.Save) error {
	j := e.body
	if sv.TypeVersion != j.GetJourneyTypeVersion() || (sv.TypeVersion != 0 && sv.Type != j.GetJourneyType()) {
		return &store.TypeVersionError{Type: j.GetJourneyType(), Version: j.GetJourneyTypeVersion()}
	}
	// A journey on no step may move anywhere.
	if sv.SetStep && sv.StepFrom != nil && j.GetStep() != "" && !slices.Contains(sv.StepFrom, j.GetStep()) {
		return &store.StepError{Step: j.GetStep()}
	}
	return nil
}

// checkEtag refuses a save whose etag is stale for what it writes (see
// store.Save.IfEtag): the whole journey when WholeJourneyEtag, otherwise
// the step it sets and the answers it writes, those above and below them,
// and, for a path with nothing stored at or under it, any removal.
func (e *journeyEntry) checkEtag(sv store.Save) error {
	if sv.IfEtag == "" {
		return nil
	}
	if sv.WholeJourneyEtag {
		if sv.IfEtag != strconv.FormatInt(e.etag, 10) {
			return fmt.Errorf("the journey changed: %w", store.ErrConflict)
		}
		return nil
	}
	read, err := strconv.ParseInt(sv.IfEtag, 10, 64)
	if err != nil || read < 1 || read > e.etag || strconv.FormatInt(read, 10) != sv.IfEtag {
		return fmt.Errorf("not an etag this journey gave out: %w", store.ErrConflict)
	}
	if sv.SetStep && e.stepEtag > read {
		return fmt.Errorf("the step changed: %w", store.ErrConflict)
	}
	if sv.ReplaceAnswers {
		if e.removedEtag > read {
			return fmt.Errorf("an answer was removed: %w", store.ErrConflict)
		}
		for p, w := range e.written {
			if w > read {
				return fmt.Errorf("answer %s changed: %w", p, store.ErrConflict)
			}
		}
	}
	for _, c := range sv.Answers {
		stored := false
		for p, w := range e.written {
			if !answers.Related(p, c.Path) {
				continue
			}
			if w > read {
				return fmt.Errorf("answer %s changed: %w", p, store.ErrConflict)
			}
			stored = stored || p == c.Path || strings.HasPrefix(p, c.Path+answers.Sep)
		}
		if !stored && e.removedEtag > read {
			// Nothing to compare with: what was removed may have been
			// this very answer.
			return fmt.Errorf("answer %s has nothing stored and an answer was removed: %w", c.Path, store.ErrConflict)
		}
	}
	return nil
}

// merge returns the journey's answers as the save leaves them, and their
// leaves, on a copy, or a *store.TooLargeError past sv.Limits; nil answers
// when the save writes none.
func (e *journeyEntry) merge(sv store.Save) (*structpb.Struct, []answers.Leaf, error) {
	if !sv.ReplaceAnswers && len(sv.Answers) == 0 {
		return nil, nil, nil
	}
	data := &structpb.Struct{}
	if !sv.ReplaceAnswers && e.body.GetData() != nil {
		data = proto.CloneOf(e.body.GetData())
	}
	for _, c := range sv.Answers {
		if c.Value == nil {
			answers.Remove(data, c.Path)
			continue
		}
		answers.Set(data, c.Path, proto.CloneOf(c.Value))
	}
	leaves := answers.Leaves(data)
	size := 0
	for _, l := range leaves {
		b, err := answers.EncodeJSON(l.Value)
		if err != nil {
			return nil, nil, fmt.Errorf("answer %s: %w", l.Path, err)
		}
		size += store.AnswerSize(l.Path, b)
	}
	if len(leaves) > sv.Limits.Answers || size > sv.Limits.Bytes {
		return nil, nil, &store.TooLargeError{Answers: len(leaves), Bytes: size, Limits: sv.Limits}
	}
	return data, leaves, nil
}

// recordWrites notes, for the checks of later saves, which answers the
// save wrote (those at, under or above a path it names: an object a
// removal left empty is an answer it made; after ReplaceAnswers that is
// every answer) and whether it removed any, at etag, the etag it gives
// the journey, by the touchpoint at position by.
func (e *journeyEntry) recordWrites(sv store.Save, leaves []answers.Leaf, etag int64, by int) {
	written := make(map[string]int64, len(leaves))
	writtenBy := make(map[string]int, len(leaves))
	for _, l := range leaves {
		written[l.Path] = e.written[l.Path]
		writtenBy[l.Path] = e.writtenBy[l.Path]
		if touches(sv.Answers, l.Path) {
			written[l.Path] = etag
			writtenBy[l.Path] = by
		}
	}
	e.writtenBy = writtenBy
	for p := range e.written {
		if _, ok := written[p]; !ok {
			e.removedEtag = etag
			break
		}
	}
	e.written = written
}

// touches reports whether one of changes names path, or a path above or
// below it.
func touches(changes []store.AnswerChange, path string) bool {
	for _, c := range changes {
		if answers.Related(c.Path, path) {
			return true
		}
	}
	return false
}
