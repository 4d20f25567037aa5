package service

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/handoffcode"
	"github.com/journeyhandoff/handoff/internal/store"
)

// errCodeNotValid is the one answer to every code that does not redeem:
// unknown, used, expired or mistyped look the same, so a guesser learns
// nothing.
var errCodeNotValid = apierr.NotFound("that code is not valid or has expired: ask the customer to read it again, or to ask for a new one")

// HandoffJourney gives the customer a code to read aloud to an agent.
func (s *Service) HandoffJourney(ctx context.Context, req *handoffv1.HandoffJourneyRequest) (*handoffv1.HandoffJourneyResponse, error) {
	key, p, ch, detail, err := s.touchOn(ctx, req.GetName(), req.GetChannel(), req.GetChannelDetail())
	if err != nil {
		return nil, err
	}
	cur, err := s.store.GetJourney(ctx, key)
	if err != nil {
		return nil, journeyError(key, err)
	}
	if err := mustBeActive(cur, "handed off"); err != nil {
		return nil, err
	}
	now := s.now()
	expire := now.Add(s.opts.CodeTTL)
	code, err := s.newCode(ctx, key, expire)
	if err != nil {
		return nil, err
	}
	// The offer is a touchpoint only: the content does not change, so the
	// etag the website holds stays good for its next save.
	_, err = s.mutate(ctx, key, "", func(cur *handoffv1.Journey) (effect, error) {
		if err := mustBeActive(cur, "handed off"); err != nil {
			return effect{}, err
		}
		return recorded(&handoffv1.Touchpoint{
			Time:          timestamppb.New(now),
			Channel:       ch,
			ChannelDetail: detail,
			Actor:         actor(p),
			Kind:          handoffv1.TouchpointKind_TOUCHPOINT_KIND_HANDOFF_OFFERED,
			Step:          cur.GetStep(),
			Note:          req.GetNote(),
		}), nil
	})
	if err != nil {
		// Nobody was given the code; do not leave it redeemable.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = s.store.DeleteHandoffCode(cleanup, code)
		return nil, err
	}
	return &handoffv1.HandoffJourneyResponse{Code: handoffcode.Format(code), ExpireTime: timestamppb.New(expire)}, nil
}

func (s *Service) newCode(ctx context.Context, key store.JourneyKey, expire time.Time) (string, error) {
	limits := store.CodeLimits{Live: s.opts.MaxCodesPerJourney, Made: s.opts.HandoffsPerJourney}
	// With 2^40 codes a collision is rare; a few draws make it vanish.
	for range 5 {
		code := handoffcode.New()
		err := s.store.CreateHandoffCode(ctx, code, key, expire, limits)
		if errors.Is(err, store.ErrAlreadyExists) {
			continue
		}
		if err != nil {
			return "", journeyError(key, err)
		}
		return code, nil
	}
	return "", apierr.Unavailable("could not find a free handoff code; try again")
}

// RedeemHandoff exchanges a code for the journey, now held by the calling
// agent on the agent's channel.
func (s *Service) RedeemHandoff(ctx context.Context, req *handoffv1.RedeemHandoffRequest) (*handoffv1.Journey, error) {
	p, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	// Settle the channel first: a bad header must not use up the code.
	ch, detail, err := channelOf(ctx, p, req.GetChannel(), req.GetChannelDetail())
	if err != nil {
		return nil, err
	}
	attempt, err := s.startRedeem(ctx, s.redeemCounters(ctx, p))
	if err != nil {
		return nil, err
	}
	code, ok := handoffcode.Parse(req.GetCode())
	if !ok {
		return nil, errCodeNotValid // counted as failed
	}
	key, err := s.store.RedeemHandoffCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errCodeNotValid // counted as failed
	}
	// Anything else, success or not, was no wrong guess.
	s.forget(ctx, attempt)
	if err != nil {
		return nil, err
	}
	j, err := s.takeCase(ctx, p, key, ch, detail, handoffv1.TouchpointKind_TOUCHPOINT_KIND_RESUMED,
		"ask them to release it, then ask the customer for a new code")
	if status.Code(err) == codes.NotFound {
		// The journey went (erased, expired) after its code was used: the
		// caller learns no more than from any other code that does not work.
		return nil, errCodeNotValid
	}
	if err != nil || req.GetView() != handoffv1.JourneyView_JOURNEY_VIEW_FULL {
		return j, err
	}
	return s.readJourney(ctx, key, s.store.JourneyWithProvenance)
}

// takeCase gives the agent the case of an active journey nobody else
// holds, recording kind (how they found it): what a redeemed code and a
// passed identity check both do. heldAdvice tells the caller what to do
// when another agent holds it.
func (s *Service) takeCase(ctx context.Context, p auth.Principal, key store.JourneyKey, ch handoffv1.Channel, detail string,
	kind handoffv1.TouchpointKind, heldAdvice string) (*handoffv1.Journey, error) {
	return s.mutate(ctx, key, "", func(cur *handoffv1.Journey) (effect, error) {
		if err := mustBeActive(cur, "resumed"); err != nil {
			return effect{}, err
		}
		if cur.GetAssignee() != "" && cur.GetAssignee() != p.ID {
			return effect{}, failedPrecondition("journey %s is held by agent %s: %s", cur.GetName(), cur.GetAssignee(), heldAdvice)
		}
		s.assign(cur, p.ID, p.DisplayName, ch)
		s.touch(cur, ch, detail)
		return recorded(touchpoint(p, kind, cur, "")), nil
	})
}

// ClaimJourney lets an agent take the case, or renew the claim it holds.
// An admin may take over another agent's claim with take_over.
func (s *Service) ClaimJourney(ctx context.Context, req *handoffv1.ClaimJourneyRequest) (*handoffv1.Journey, error) {
	key, p, ch, detail, err := s.touchOn(ctx, req.GetName(), req.GetChannel(), req.GetChannelDetail())
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, key, "", func(cur *handoffv1.Journey) (effect, error) {
		if err := mustBeActive(cur, "claimed"); err != nil {
			return effect{}, err
		}
		holder := cur.GetAssignee()
		switch {
		case holder == p.ID:
			// A renewal: the lease moves, nothing is recorded.
			s.assign(cur, p.ID, p.DisplayName, ch)
			return recorded(), nil
		case holder == "":
			s.assign(cur, p.ID, p.DisplayName, ch)
			s.touch(cur, ch, detail)
			return recorded(touchpoint(p, handoffv1.TouchpointKind_TOUCHPOINT_KIND_CLAIMED, cur, "")), nil
		case auth.RightsOf(p.Role).OverridesHolder && req.GetTakeOver():
			s.assign(cur, p.ID, p.DisplayName, ch)
			s.touch(cur, ch, detail)
			return recorded(touchpoint(p, handoffv1.TouchpointKind_TOUCHPOINT_KIND_TAKEN_OVER, cur, "taken over from "+holder)), nil
		case auth.RightsOf(p.Role).OverridesHolder:
			return effect{}, failedPrecondition("journey %s is held by agent %s: set take_over to take it from them", cur.GetName(), holder)
		default:
			return effect{}, failedPrecondition("journey %s is held by agent %s: ask them to release or transfer it", cur.GetName(), holder)
		}
	})
}

// ReleaseJourney hands the case back; an admin may release anyone's.
func (s *Service) ReleaseJourney(ctx context.Context, req *handoffv1.ReleaseJourneyRequest) (*handoffv1.Journey, error) {
	key, p, ch, detail, err := s.touchOn(ctx, req.GetName(), req.GetChannel(), req.GetChannelDetail())
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, key, "", func(cur *handoffv1.Journey) (effect, error) {
		switch holder := cur.GetAssignee(); {
		case holder == "":
			return effect{}, failedPrecondition("journey %s is not held by anyone", cur.GetName())
		case holder != p.ID && !auth.RightsOf(p.Role).OverridesHolder:
			return effect{}, failedPrecondition("journey %s is held by agent %s: only they or an admin can release it", cur.GetName(), holder)
		}
		unassign(cur)
		s.touch(cur, ch, detail)
		return recorded(touchpoint(p, handoffv1.TouchpointKind_TOUCHPOINT_KIND_RELEASED, cur, req.GetNote())), nil
	})
}

// TransferJourney passes the case from its holder to another agent, or to
// the open queue, with a note. The journey's content is untouched.
func (s *Service) TransferJourney(ctx context.Context, req *handoffv1.TransferJourneyRequest) (*handoffv1.Journey, error) {
	key, p, ch, detail, err := s.touchOn(ctx, req.GetName(), req.GetChannel(), req.GetChannelDetail())
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, key, "", func(cur *handoffv1.Journey) (effect, error) {
		if err := mustBeActive(cur, "transferred"); err != nil {
			return effect{}, err
		}
		holder := cur.GetAssignee()
		switch {
		case holder == "":
			return effect{}, failedPrecondition("journey %s is not held by anyone: claim it before transferring it", cur.GetName())
		case holder != p.ID && !auth.RightsOf(p.Role).OverridesHolder:
			return effect{}, failedPrecondition("journey %s is held by agent %s: only they or an admin can transfer it", cur.GetName(), holder)
		case req.GetToAgent() == holder:
			return effect{}, failedPrecondition("journey %s is already held by %s", cur.GetName(), holder)
		}
		transfer := &handoffv1.Transfer{
			FromAgent:   holder,
			FromChannel: cur.GetAssigneeChannel(),
			ToAgent:     req.GetToAgent(),
			ToChannel:   req.GetToChannel(),
		}
		if req.GetToAgent() == "" {
			unassign(cur)
		} else {
			// The next agent's display name is theirs to set when they
			// renew the claim; until then their id stands in.
			s.assign(cur, req.GetToAgent(), req.GetToAgent(), req.GetToChannel())
		}
		s.touch(cur, ch, detail)
		tp := touchpoint(p, handoffv1.TouchpointKind_TOUCHPOINT_KIND_TRANSFERRED, cur, req.GetNote())
		tp.Transfer = transfer
		return recorded(tp), nil
	})
}
