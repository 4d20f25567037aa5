package service

import (
	"context"
	"crypto/rand"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/answers"
	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/store"
)

// CreateJourney starts a journey for a customer.
func (s *Service) CreateJourney(ctx context.Context, req *handoffv1.CreateJourneyRequest) (*handoffv1.Journey, error) {
	customer := strings.TrimPrefix(req.GetParent(), "customers/")
	p, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if !auth.CustomerCanAccess(p, customer) {
		return nil, apierr.NotFound("customer %s not found", req.GetParent())
	}
	ch, detail, err := channelOf(ctx, p, req.GetChannel(), req.GetChannelDetail())
	if err != nil {
		return nil, err
	}
	id := req.GetJourneyId()
	if id == "" {
		id = newJourneyID()
	}
	key := store.JourneyKey{Customer: customer, Journey: id}
	now := timestamppb.New(s.now())
	data := req.GetJourney().GetData()
	if data == nil {
		data = &structpb.Struct{}
	}
	if err := s.checkData(data, "journey.data"); err != nil {
		return nil, err
	}
	if err := s.checkTotals(data, "journey.data"); err != nil {
		return nil, err
	}
	step := req.GetJourney().GetStep()
	var version int64
	if tp := s.types.Latest(req.GetJourney().GetJourneyType()); tp != nil {
		// A journey of a declared type keeps its latest version for life.
		version = tp.Version()
		if step == "" {
			step = tp.FirstStep()
		}
		if err := checkStep(tp, step); err != nil {
			return nil, err
		}
		if err := checkAnswers(tp, []store.AnswerChange{{Value: structpb.NewStructValue(data)}}); err != nil {
			return nil, err
		}
	}
	j := &handoffv1.Journey{
		Name:               key.Name(),
		JourneyType:        req.GetJourney().GetJourneyType(),
		JourneyTypeVersion: version,
		State:              handoffv1.JourneyState_JOURNEY_STATE_ACTIVE,
		Step:               step,
		Data:               data,
		Channel:            ch,
		ChannelDetail:      detail,
		CreateTime:         now,
		UpdateTime:         now,
	}
	// The STARTED entry names no answers: they are all the journey's
	// first, and naming them would double a new journey's timeline.
	tp := touchpoint(p, handoffv1.TouchpointKind_TOUCHPOINT_KIND_STARTED, j, "")
	saved, _, err := s.store.CreateJourney(ctx, j, tp, req.GetRequestId())
	if errors.Is(err, store.ErrAlreadyExists) {
		return nil, apierr.AlreadyExists("journey %s already exists: choose another journey_id, or leave it empty to get a generated one", key.Name())
	}
	if err != nil {
		return nil, journeyError(key, err)
	}
	if !auth.CustomerCanAccess(p, customerOf(saved)) {
		// A request id reused across customers by one caller cannot reach
		// here (request ids are per customer), but never hand out another
		// customer's journey on the strength of an id.
		return nil, journeyNotFound(key)
	}
	s.types.remember(saved.GetName(), saved.GetJourneyType(), saved.GetJourneyTypeVersion())
	return saved, nil
}

// GetJourney reads a journey.
func (s *Service) GetJourney(ctx context.Context, req *handoffv1.GetJourneyRequest) (*handoffv1.Journey, error) {
	key, p, err := s.journeyFor(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	// FULL adds who changed each answer, which costs the store a read of
	// the timeline entries that wrote them: asked for by the console, not
	// by every website read.
	full := req.GetView() == handoffv1.JourneyView_JOURNEY_VIEW_FULL
	read := s.store.GetJourney
	if full {
		read = s.store.JourneyWithProvenance
	}
	if audited(p) {
		ch, detail, err := channelOf(ctx, p, handoffv1.Channel_CHANNEL_UNSPECIFIED, "")
		if err != nil {
			return nil, err
		}
		// The view is recorded in the same read-check-write that releases a
		// lapsed claim, so the agent sees what the customer will.
		j, err := s.recordView(ctx, p, key, ch, detail)
		if err != nil || !full {
			return j, err
		}
		return s.readJourney(ctx, key, read)
	}
	j, err := s.readJourney(ctx, key, read)
	if err != nil {
		return nil, err
	}
	if s.claimLapsed(j) {
		// Show the truth: record the release instead of a stale holder.
		if j, err = s.mutate(ctx, key, "", func(*handoffv1.Journey) (effect, error) { return effect{unchanged: true}, nil }); err != nil || !full {
			return j, err
		}
		return s.readJourney(ctx, key, read)
	}
	return j, nil
}

// readJourney reads the journey at key with read (a store's read).
func (s *Service) readJourney(ctx context.Context, key store.JourneyKey, read func(context.Context, store.JourneyKey) (*handoffv1.Journey, error)) (*handoffv1.Journey, error) {
	j, err := read(ctx, key)
	if err != nil {
		return nil, journeyError(key, err)
	}
	return j, nil
}

// UpdateJourney saves progress: the step and answers named by the mask,
// in one write of the store with no read before it (docs/layout.md).
func (s *Service) UpdateJourney(ctx context.Context, req *handoffv1.UpdateJourneyRequest) (*handoffv1.Journey, error) {
	key, p, err := s.journeyFor(ctx, req.GetJourney().GetName())
	if err != nil {
		return nil, err
	}
	paths, err := savePaths(req.GetUpdateMask().GetPaths(), req.GetJourney())
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, invalidArgument("update_mask", "NOTHING_TO_SAVE", "nothing to save: set step or data, or name them in update_mask")
	}
	reply, err := readMaskOf(req.GetReadMask().GetPaths())
	if err != nil {
		return nil, err
	}
	ch, detail, err := channelOf(ctx, p, req.GetChannel(), req.GetChannelDetail())
	if err != nil {
		return nil, err
	}
	// The request's own answers are checked here; what they make together
	// with the stored ones, the store checks as it writes.
	if err := s.checkData(req.GetJourney().GetData(), "journey.data"); err != nil {
		return nil, err
	}
	sv := s.save(key, p, req, paths, ch, detail)
	sv.WantJourney = reply.wantsJourney()
	// Checked against the type version this instance expects the journey
	// to have; the store confirms it as it writes (docs/journeytypes.md).
	seesSensitive := auth.RightsOf(p.Role).SeesSensitiveAnswers
	if err := s.typeSave(ctx, &sv, s.types.expected(key.Name()), seesSensitive); err != nil {
		return nil, err
	}
	lapsed, retyped := false, false
	for {
		saved, err := s.store.SaveJourney(ctx, sv)
		var wrongType *store.TypeVersionError
		if errors.As(err, &wrongType) && !retyped {
			retyped = true
			s.types.remember(key.Name(), wrongType.Type, wrongType.Version)
			if err := s.typeSave(ctx, &sv, typeVersion{wrongType.Type, wrongType.Version}, seesSensitive); err != nil {
				return nil, err
			}
			continue
		}
		if errors.Is(err, store.ErrClaimLapsed) && !lapsed {
			lapsed = true
			// Release the lapsed claim (a read-check-write, rare), then save.
			if _, err := s.mutate(ctx, key, "", func(*handoffv1.Journey) (effect, error) { return effect{unchanged: true}, nil }); err != nil {
				return nil, err
			}
			continue
		}
		var wrongStep *store.StepError
		if errors.As(err, &wrongStep) {
			return nil, stepError(key, wrongStep.Step, sv.Step)
		}
		if err != nil {
			return nil, s.saveError(key, err)
		}
		if !seesSensitive {
			// Masked here, before the read mask may drop the type fields
			// the interceptor would mask by.
			if err := s.maskJourney(ctx, saved); err != nil {
				return nil, typesError(err)
			}
		}
		return reply.apply(saved), nil
	}
}

// save is the store's save of a request: its step and answers by paths,
// and the touchpoint recording it.
func (s *Service) save(key store.JourneyKey, p auth.Principal, req *handoffv1.UpdateJourneyRequest, paths []string, ch handoffv1.Channel, detail string) store.Save {
	now := s.now()
	in := req.GetJourney()
	sv := store.Save{
		Key:              key,
		IfEtag:           in.GetEtag(),
		WholeJourneyEtag: req.GetWholeJourneyEtag(),
		Channel:          ch,
		ChannelDetail:    detail,
		UpdateTime:       now,
		Limits:           store.AnswerLimits{Answers: s.opts.MaxDataKeys, Bytes: s.opts.MaxDataBytes},
		Touchpoint: &handoffv1.Touchpoint{
			Time: timestamppb.New(now), Channel: ch, ChannelDetail: detail, Actor: actor(p),
			Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED,
		},
	}
	if auth.RightsOf(p.Role).OwnCasesOnly {
		// One agent must not work over another's case (see
		// mayChangeHeldJourney); the store checks it as it writes.
		sv.Agent = p.ID
	}
	for _, path := range paths {
		switch {
		case path == "step":
			sv.SetStep, sv.Step = true, in.GetStep()
			sv.Touchpoint.Step = in.GetStep()
		case path == "data":
			sv.ReplaceAnswers = true
			for _, k := range slices.Sorted(maps.Keys(in.GetData().GetFields())) {
				sv.Answers = append(sv.Answers, store.AnswerChange{Path: k, Value: in.GetData().GetFields()[k]})
			}
		default:
			path = strings.TrimPrefix(path, "data.")
			// Named but absent from the request: removed (AIP-134).
			v, _ := answers.Lookup(in.GetData(), path)
			sv.Answers = append(sv.Answers, store.AnswerChange{Path: path, Value: v})
		}
	}
	sv.Touchpoint.Answers = changedAnswers(sv)
	return sv
}

// saveError is what a caller learns of a save the store refused.
func (s *Service) saveError(key store.JourneyKey, err error) error {
	var notActive *store.NotActiveError
	var held *store.HeldError
	var tooLarge *store.TooLargeError
	switch {
	case errors.As(err, &notActive):
		state := strings.ToLower(strings.TrimPrefix(notActive.State.String(), "JOURNEY_STATE_"))
		return failedPrecondition("journey %s is %s and can no longer be saved", key.Name(), state)
	case errors.As(err, &held):
		return failedPrecondition("journey %s is held by agent %s: ask them to release or transfer it", key.Name(), held.Assignee)
	case errors.As(err, &tooLarge):
		if tooLarge.Answers > tooLarge.Limits.Answers {
			return invalidArgument("journey.data", "TOO_MANY_ANSWERS", "the journey would hold "+strconv.Itoa(tooLarge.Answers)+" answers, more than the limit of "+strconv.Itoa(tooLarge.Limits.Answers))
		}
		return invalidArgument("journey.data", "ANSWERS_TOO_LARGE", "answers would take "+byteSize(tooLarge.Bytes)+", more than the limit of "+byteSize(tooLarge.Limits.Bytes))
	}
	return journeyError(key, err)
}

// CompleteJourney marks the journey done.
func (s *Service) CompleteJourney(ctx context.Context, req *handoffv1.CompleteJourneyRequest) (*handoffv1.Journey, error) {
	return s.finish(ctx, req.GetName(), req.GetEtag(), req.GetChannel(), req.GetChannelDetail(), req.GetNote(),
		handoffv1.JourneyState_JOURNEY_STATE_COMPLETED, handoffv1.TouchpointKind_TOUCHPOINT_KIND_COMPLETED)
}

// AbandonJourney marks the journey given up.
func (s *Service) AbandonJourney(ctx context.Context, req *handoffv1.AbandonJourneyRequest) (*handoffv1.Journey, error) {
	return s.finish(ctx, req.GetName(), req.GetEtag(), req.GetChannel(), req.GetChannelDetail(), req.GetNote(),
		handoffv1.JourneyState_JOURNEY_STATE_ABANDONED, handoffv1.TouchpointKind_TOUCHPOINT_KIND_ABANDONED)
}

func (s *Service) finish(ctx context.Context, name, etag string, field handoffv1.Channel, fieldDetail, note string,
	to handoffv1.JourneyState, kind handoffv1.TouchpointKind) (*handoffv1.Journey, error) {
	key, p, ch, detail, err := s.touchOn(ctx, name, field, fieldDetail)
	if err != nil {
		return nil, err
	}
	verb := strings.ToLower(strings.TrimPrefix(to.String(), "JOURNEY_STATE_"))
	return s.mutate(ctx, key, etag, func(cur *handoffv1.Journey) (effect, error) {
		if err := mustBeActive(cur, verb); err != nil {
			return effect{}, err
		}
		if err := mayChangeHeldJourney(p, cur); err != nil {
			return effect{}, err
		}
		cur.State = to
		s.touch(cur, ch, detail)
		return changed(touchpoint(p, kind, cur, note)), nil
	})
}

// journeyFor resolves a journey name and the caller, and hides journeys of
// other customers from a customer behind the same NOT_FOUND a missing one
// gets.
func (s *Service) journeyFor(ctx context.Context, name string) (store.JourneyKey, auth.Principal, error) {
	p, err := s.caller(ctx)
	if err != nil {
		return store.JourneyKey{}, auth.Principal{}, err
	}
	key, err := store.ParseJourneyName(name)
	if err != nil {
		return store.JourneyKey{}, auth.Principal{}, invalidArgument("name", "INVALID_NAME", err.Error())
	}
	if !auth.CustomerCanAccess(p, key.Customer) {
		return store.JourneyKey{}, auth.Principal{}, journeyNotFound(key)
	}
	return key, p, nil
}

// touchOn is journeyFor plus the channel the caller's touch is recorded on,
// the start of every change a caller makes to an existing journey.
func (s *Service) touchOn(ctx context.Context, name string, field handoffv1.Channel, fieldDetail string) (store.JourneyKey, auth.Principal, handoffv1.Channel, string, error) {
	key, p, err := s.journeyFor(ctx, name)
	if err != nil {
		return store.JourneyKey{}, auth.Principal{}, 0, "", err
	}
	ch, detail, err := channelOf(ctx, p, field, fieldDetail)
	if err != nil {
		return store.JourneyKey{}, auth.Principal{}, 0, "", err
	}
	return key, p, ch, detail, nil
}

func (s *Service) caller(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.PrincipalFrom(ctx)
	if !ok {
		return auth.Principal{}, apierr.Unauthenticated("no principal: send Authorization: Bearer <token>")
	}
	return p, nil
}

// touch records the last touch on the journey itself.
func (s *Service) touch(j *handoffv1.Journey, ch handoffv1.Channel, detail string) {
	j.Channel = ch
	j.ChannelDetail = detail
	j.UpdateTime = timestamppb.New(s.now())
}

func mustBeActive(j *handoffv1.Journey, verb string) error {
	if j.GetState() == handoffv1.JourneyState_JOURNEY_STATE_ACTIVE {
		return nil
	}
	state := strings.ToLower(strings.TrimPrefix(j.GetState().String(), "JOURNEY_STATE_"))
	return failedPrecondition("journey %s is %s and can no longer be %s", j.GetName(), state, verb)
}

// mayChangeHeldJourney keeps one agent from working over another's case;
// customers and websites keep saving (the etag protects both sides).
func mayChangeHeldJourney(p auth.Principal, j *handoffv1.Journey) error {
	if !auth.RightsOf(p.Role).OwnCasesOnly || j.GetAssignee() == "" || j.GetAssignee() == p.ID {
		return nil
	}
	return failedPrecondition("journey %s is held by agent %s: ask them to release or transfer it", j.GetName(), j.GetAssignee())
}

// changed is the effect of a change to what a save can change.
func changed(tps ...*handoffv1.Touchpoint) effect {
	return effect{touchpoints: tps, contentChanged: true}
}

// recorded is the effect of a change that leaves the content (and so the
// etag) as it was: claims, leases, offers.
func recorded(tps ...*handoffv1.Touchpoint) effect {
	return effect{touchpoints: tps}
}

func touchpoint(p auth.Principal, kind handoffv1.TouchpointKind, j *handoffv1.Journey, note string) *handoffv1.Touchpoint {
	return &handoffv1.Touchpoint{
		Time:          j.GetUpdateTime(),
		Channel:       j.GetChannel(),
		ChannelDetail: j.GetChannelDetail(),
		Actor:         actor(p),
		Kind:          kind,
		Step:          j.GetStep(),
		Note:          note,
	}
}

func actor(p auth.Principal) *handoffv1.Actor {
	return &handoffv1.Actor{Id: p.ID, Role: p.Role}
}

func customerOf(j *handoffv1.Journey) string {
	key, _ := store.ParseJourneyName(j.GetName())
	return key.Customer
}

// newJourneyID is 20 lowercase base32 characters (100 bits): unguessable,
// and valid as an AIP-122 id because it starts with a letter.
func newJourneyID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	if b[0] > 'z' || b[0] < 'a' {
		b[0] = 'j' // a digit may not lead; the other 19 characters still carry 95 bits
	}
	return string(b)
}

func byteSize(n int) string {
	if n < 1024 {
		return strconv.Itoa(n) + " bytes"
	}
	return strconv.Itoa((n+1023)/1024) + " KiB"
}
