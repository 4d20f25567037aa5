package service

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/handoffcode"
	"github.com/journeyhandoff/handoff/internal/store"
)

// errCodeNotValid is the one answer to every code that does not redeem:
// unknown, used, expired or mistyped look the same, so a guesser learns
// nothing.
var errCodeNotValid = status.Error(codes.NotFound, "that code is not valid or has expired: ask the customer to read it again, or to ask for a new one")

// HandoffJourney gives the customer a code to read aloud to an agent.
func (s *Service) HandoffJourney(ctx context.Context, req *handoffv1.HandoffJourneyRequest) (*handoffv1.HandoffJourneyResponse, error) {
	key, p, err := s.journeyFor(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	ch, detail, err := channelOf(ctx, p, req.GetChannel(), req.GetChannelDetail())
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
	// The offer is a touchpoint only: the journey itself does not change, so
	// the etag the website holds stays good for its next save.
	offer := &handoffv1.Touchpoint{
		Time:          timestamppb.New(now),
		Channel:       ch,
		ChannelDetail: detail,
		Actor:         &handoffv1.Actor{Id: p.ID, Role: p.Role},
		Kind:          handoffv1.TouchpointKind_TOUCHPOINT_KIND_HANDOFF_OFFERED,
		Step:          cur.GetStep(),
		Note:          req.GetNote(),
	}
	if err := s.store.AppendTouchpoints(ctx, key, offer); err != nil {
		// Nobody was given the code; do not leave it redeemable.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = s.store.DeleteHandoffCode(cleanup, code)
		return nil, journeyError(key, err)
	}
	return &handoffv1.HandoffJourneyResponse{Code: handoffcode.Format(code), ExpireTime: timestamppb.New(expire)}, nil
}

func (s *Service) newCode(ctx context.Context, key store.JourneyKey, expire time.Time) (string, error) {
	// With 2^40 codes a collision is rare; a few draws make it vanish.
	for range 5 {
		code := handoffcode.New()
		err := s.store.CreateHandoffCode(ctx, code, key, expire)
		if errors.Is(err, store.ErrAlreadyExists) {
			continue
		}
		if err != nil {
			return "", err
		}
		return code, nil
	}
	return "", status.Error(codes.Unavailable, "could not find a free handoff code; try again")
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
	code, ok := handoffcode.Parse(req.GetCode())
	if !ok {
		return nil, errCodeNotValid
	}
	key, err := s.store.RedeemHandoffCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errCodeNotValid
	}
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, key, "", func(cur *handoffv1.Journey) ([]*handoffv1.Touchpoint, bool, error) {
		if err := mustBeActive(cur, "resumed"); err != nil {
			return nil, false, err
		}
		if cur.GetAssignee() != "" && cur.GetAssignee() != p.ID {
			return nil, false, failedPrecondition("journey %s is held by agent %s: ask them to release it, then ask the customer for a new code", cur.GetName(), cur.GetAssignee())
		}
		cur.Assignee = p.ID
		s.touch(cur, ch, detail)
		return []*handoffv1.Touchpoint{touchpoint(p, handoffv1.TouchpointKind_TOUCHPOINT_KIND_RESUMED, cur, "")}, false, nil
	})
}

// ClaimJourney lets an agent take the case.
func (s *Service) ClaimJourney(ctx context.Context, req *handoffv1.ClaimJourneyRequest) (*handoffv1.Journey, error) {
	key, p, err := s.journeyFor(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	ch, detail, err := channelOf(ctx, p, req.GetChannel(), req.GetChannelDetail())
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, key, "", func(cur *handoffv1.Journey) ([]*handoffv1.Touchpoint, bool, error) {
		if err := mustBeActive(cur, "claimed"); err != nil {
			return nil, false, err
		}
		switch cur.GetAssignee() {
		case p.ID:
			return nil, true, nil
		case "":
		default:
			return nil, false, failedPrecondition("journey %s is held by agent %s: ask them to release it", cur.GetName(), cur.GetAssignee())
		}
		cur.Assignee = p.ID
		s.touch(cur, ch, detail)
		return []*handoffv1.Touchpoint{touchpoint(p, handoffv1.TouchpointKind_TOUCHPOINT_KIND_CLAIMED, cur, "")}, false, nil
	})
}

// ReleaseJourney hands the case back; an admin may release anyone's.
func (s *Service) ReleaseJourney(ctx context.Context, req *handoffv1.ReleaseJourneyRequest) (*handoffv1.Journey, error) {
	key, p, err := s.journeyFor(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	ch, detail, err := channelOf(ctx, p, req.GetChannel(), req.GetChannelDetail())
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, key, "", func(cur *handoffv1.Journey) ([]*handoffv1.Touchpoint, bool, error) {
		switch holder := cur.GetAssignee(); {
		case holder == "":
			return nil, false, failedPrecondition("journey %s is not held by anyone", cur.GetName())
		case holder != p.ID && p.Role != handoffv1.Role_ROLE_ADMIN:
			return nil, false, failedPrecondition("journey %s is held by agent %s: only they or an admin can release it", cur.GetName(), holder)
		}
		cur.Assignee = ""
		s.touch(cur, ch, detail)
		return []*handoffv1.Touchpoint{touchpoint(p, handoffv1.TouchpointKind_TOUCHPOINT_KIND_RELEASED, cur, req.GetNote())}, false, nil
	})
}
