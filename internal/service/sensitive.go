package service

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/answers"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/journeytype"
)

// Sensitive answers (docs/journeytypes.md): masked for every role but the
// customer in every journey the service returns, until an agent reveals
// one, on the record.

// MaskSensitiveUnary masks the sensitive answers in every journey a unary
// call returns, whatever the method: one place, and a test
// (TestEveryResponseHoldingJourneysIsOneTheMaskingKnows) fails when a
// method returns journeys in a message this does not look into. Watches
// mask in WatchJourney, per view.
func (s *Service) MaskSensitiveUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	if err != nil {
		return resp, err
	}
	p, ok := auth.PrincipalFrom(ctx)
	if ok && auth.RightsOf(p.Role).SeesSensitiveAnswers {
		return resp, nil
	}
	switch r := resp.(type) {
	case *handoffv1.Journey:
		err = s.maskJourney(ctx, r)
	case *handoffv1.ListJourneysResponse:
		for _, j := range r.GetJourneys() {
			if err = s.maskJourney(ctx, j); err != nil {
				break
			}
		}
	}
	if err != nil {
		// Never the unmasked answers: the caller learns nothing instead.
		return nil, typesError(err)
	}
	return resp, nil
}

// maskJourney masks j (the caller's own) by its type version.
func (s *Service) maskJourney(ctx context.Context, j *handoffv1.Journey) error {
	return s.types.MaskSensitive(ctx, j)
}

// MaskSensitive masks j's sensitive answers as staff read them, by its
// type version: for what leaves handoff outside a call (webhooks).
func (t *Types) MaskSensitive(ctx context.Context, j *handoffv1.Journey) error {
	tp, err := t.Version(ctx, j.GetJourneyType(), j.GetJourneyTypeVersion())
	if err != nil {
		return err
	}
	mask(tp, j)
	return nil
}

// maskedChange is c as a caller who may not see sensitive answers sees
// it: c itself when nothing in it is sensitive (the hub shares c between
// watchers, so it is never changed).
func maskedChange(tp *journeytype.Type, c *handoffv1.JourneyChange) *handoffv1.JourneyChange {
	if tp == nil || c.GetJourney().GetData() == nil {
		return c
	}
	touched := false
	for _, path := range tp.SensitivePaths() {
		if _, ok := answers.Lookup(c.GetJourney().GetData(), path); ok {
			touched = true
			break
		}
	}
	if !touched {
		return c
	}
	out := proto.CloneOf(c)
	mask(tp, out.Journey)
	return out
}

// RevealAnswer shows one sensitive answer to an agent or admin, for the
// reason they state, and records it on the timeline as REVEALED.
func (s *Service) RevealAnswer(ctx context.Context, req *handoffv1.RevealAnswerRequest) (*handoffv1.RevealAnswerResponse, error) {
	key, p, ch, detail, err := s.touchOn(ctx, req.GetName(), req.GetChannel(), req.GetChannelDetail())
	if err != nil {
		return nil, err
	}
	// `payment.iban`, or as a save's mask names it, `data.payment.iban`.
	path := strings.TrimPrefix(req.GetPath(), "data.")
	var revealed *handoffv1.RevealAnswerResponse
	_, err = s.mutate(ctx, key, "", func(cur *handoffv1.Journey) (effect, error) {
		tp, err := s.types.ofJourney(ctx, cur)
		if err != nil {
			return effect{}, typesError(err)
		}
		if _, sensitive := sensitiveIn(tp, path); !sensitive {
			return effect{}, invalidArgument("path", "NOT_SENSITIVE", "answer "+path+" of journey "+key.Name()+" is not sensitive: it is shown as it is")
		}
		v, ok := answers.Lookup(cur.GetData(), path)
		if !ok {
			return effect{}, failedPrecondition("journey %s has no answer %s yet", key.Name(), path)
		}
		revealed = &handoffv1.RevealAnswerResponse{Path: path, Value: proto.CloneOf(v)}
		return recorded(&handoffv1.Touchpoint{
			Time:          timestamppb.New(s.now()),
			Channel:       ch,
			ChannelDetail: detail,
			Actor:         actor(p),
			Kind:          handoffv1.TouchpointKind_TOUCHPOINT_KIND_REVEALED,
			Step:          cur.GetStep(),
			Answers:       []string{path},
			Reason:        req.GetReason(),
		}), nil
	})
	if err != nil {
		return nil, err
	}
	return revealed, nil
}

// sensitiveIn reports whether tp declares the answer at path sensitive.
func sensitiveIn(tp *journeytype.Type, path string) (keepLast int, ok bool) {
	if tp == nil {
		return 0, false
	}
	return tp.Sensitive(path)
}
