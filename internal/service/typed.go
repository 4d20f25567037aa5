package service

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/answers"
	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/journeytype"
	"github.com/journeyhandoff/handoff/internal/store"
)

// What a journey type checks (docs/journeytypes.md, "What a type checks,
// and where"): the answers a create or save writes, the step it sets,
// and, through the store, the step it moves from.

// checkAnswers refuses values that do not fit tp, naming each failing
// answer's path and the schema's reason, never the value.
func checkAnswers(tp *journeytype.Type, changes []store.AnswerChange) error {
	var violations []*errdetails.BadRequest_FieldViolation
	for _, c := range changes {
		if c.Value == nil {
			continue // removing an answer is always allowed
		}
		for _, v := range tp.CheckAnswer(c.Path, c.Value) {
			field := "journey.data"
			if v.Path != "" {
				field += "." + v.Path
			}
			violations = append(violations, &errdetails.BadRequest_FieldViolation{Field: field, Reason: "ANSWER_NOT_ALLOWED", Description: v.Reason})
		}
	}
	if len(violations) == 0 {
		return nil
	}
	msg := make([]string, len(violations))
	for i, v := range violations {
		msg[i] = v.GetField() + ": " + v.GetDescription()
	}
	return apierr.BadRequest(typeName(tp)+" does not allow these answers: "+strings.Join(msg, "; "), violations...)
}

// checkStep refuses a step tp does not declare.
func checkStep(tp *journeytype.Type, step string) error {
	if tp.HasStep(step) {
		return nil
	}
	var steps []string
	for _, s := range tp.Definition().GetSteps() {
		steps = append(steps, s.GetId())
	}
	return invalidArgument("journey.step", "UNKNOWN_STEP", "step "+strconv.Quote(step)+" is not a step of "+typeName(tp)+": use one of "+strings.Join(steps, ", "))
}

// typeName is how errors name a type version: `journey type car-insurance-quote@2`.
func typeName(tp *journeytype.Type) string {
	return "journey type " + tp.ID() + "@" + strconv.FormatInt(tp.Version(), 10)
}

// typeSave checks sv against version tv of its journey's type and tells
// the store which version it was checked against and from which steps
// it may set its step. A caller who reads sensitive answers masked may
// not write a masked value back (seesSensitive false).
func (s *Service) typeSave(ctx context.Context, sv *store.Save, tv typeVersion, seesSensitive bool) error {
	sv.Type, sv.TypeVersion, sv.StepFrom = tv.id, tv.version, nil
	tp, err := s.types.Version(ctx, tv.id, tv.version)
	if err != nil {
		return typesError(err)
	}
	if tp == nil {
		return nil
	}
	if err := checkAnswers(tp, sv.Answers); err != nil {
		return err
	}
	if !seesSensitive {
		if err := refuseMaskedWrites(tp, sv.Answers); err != nil {
			return err
		}
	}
	if sv.SetStep {
		if err := checkStep(tp, sv.Step); err != nil {
			return err
		}
		sv.StepFrom = tp.StepsFrom(sv.Step)
	}
	return nil
}

// refuseMaskedWrites refuses a save that writes, at a sensitive answer, a
// value as the caller read it masked (`•••• 4300`): a staff form saving
// what it read would replace the answer with its mask.
func refuseMaskedWrites(tp *journeytype.Type, changes []store.AnswerChange) error {
	for _, c := range changes {
		for _, l := range answers.LeavesAt(c.Path, c.Value) {
			if _, sensitive := tp.Sensitive(l.Path); sensitive && strings.HasPrefix(l.Value.GetStringValue(), journeytype.Masked) {
				return invalidArgument("journey.data."+l.Path, "MASKED_VALUE", "answer "+l.Path+" is shown to you masked: leave it out of the save, or reveal it first")
			}
		}
	}
	return nil
}

// stepError is what a caller learns of a move between steps the type
// does not allow.
func stepError(key store.JourneyKey, from, to string) error {
	return failedPrecondition("journey %s is on step %s, from which its journey type does not allow moving to %s: it may stay, go back, or move to a step the type lists after it", key.Name(), from, to)
}

// typesError is a journey type the store could not give.
func typesError(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		// A journey names a version that is not stored: the store lost it.
		return apierr.Internal()
	}
	return err
}

// changedAnswers names what a save writes or removes, as leaf paths:
// the timeline's record of a save, names only.
func changedAnswers(sv store.Save) []string {
	var out []string
	for _, c := range sv.Answers {
		for _, l := range answers.LeavesAt(c.Path, c.Value) {
			out = append(out, l.Path)
		}
	}
	return out
}

// mask replaces the sensitive answers of j, which must be the caller's
// own, with what staff may see, and names them in masked_answers. tp is
// j's type version (nil: none). Masking twice changes nothing.
func mask(tp *journeytype.Type, j *handoffv1.Journey) {
	if tp == nil || j.GetData() == nil {
		return
	}
	for _, path := range tp.SensitivePaths() {
		v, ok := answers.Lookup(j.GetData(), path)
		if !ok || slices.Contains(j.GetMaskedAnswers(), path) {
			continue
		}
		keep, _ := tp.Sensitive(path)
		answers.Set(j.Data, path, journeytype.Mask(v, keep))
		j.MaskedAnswers = append(j.MaskedAnswers, path)
	}
}
