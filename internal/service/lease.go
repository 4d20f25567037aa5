package service

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// systemActor is handoff itself, e.g. when a claim lapses.
var systemActor = &handoffv1.Actor{Id: "handoff", Role: handoffv1.Role_ROLE_SYSTEM}

// SystemActor is who handoff's own touches are recorded as (a lapsed
// claim, a reminder), for the workers outside the service.
func SystemActor() *handoffv1.Actor { return proto.CloneOf(systemActor) }

// assign gives the case to an agent with a fresh lease.
func (s *Service) assign(j *handoffv1.Journey, id, displayName string, ch handoffv1.Channel) {
	if displayName == "" {
		displayName = id
	}
	j.Assignee = id
	j.AssigneeDisplayName = displayName
	j.AssigneeChannel = ch
	j.ClaimExpireTime = timestamppb.New(s.now().Add(s.opts.ClaimLease))
}

func unassign(j *handoffv1.Journey) {
	j.Assignee = ""
	j.AssigneeDisplayName = ""
	j.AssigneeChannel = handoffv1.Channel_CHANNEL_UNSPECIFIED
	j.ClaimExpireTime = nil
}

func (s *Service) claimLapsed(j *handoffv1.Journey) bool {
	return j.GetAssignee() != "" && j.GetClaimExpireTime() != nil && !s.now().Before(j.GetClaimExpireTime().AsTime())
}

// releaseLapsedClaim frees a case whose claim was not renewed in time and
// returns the RELEASED touchpoint that says so, or nil.
func (s *Service) releaseLapsedClaim(j *handoffv1.Journey) *handoffv1.Touchpoint {
	if !s.claimLapsed(j) {
		return nil
	}
	holder, since := j.GetAssignee(), j.GetClaimExpireTime().AsTime()
	unassign(j)
	return &handoffv1.Touchpoint{
		Time:    timestamppb.New(s.now()),
		Channel: j.GetChannel(),
		Actor:   systemActor,
		Kind:    handoffv1.TouchpointKind_TOUCHPOINT_KIND_RELEASED,
		Step:    j.GetStep(),
		Note:    "claim by " + holder + " lapsed: not renewed by " + since.UTC().Format(time.RFC3339),
	}
}

// ReleaseLapsedClaims releases, every `every`, the lapsed claims of the
// journeys someone is watching here, so that watchers see the case come
// free. Other journeys are released when next read or written.
func (s *Service) ReleaseLapsedClaims(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, j := range s.hub.Watching() {
			if !s.claimLapsed(j) {
				continue
			}
			key, err := store.ParseJourneyName(j.GetName())
			if err != nil {
				continue
			}
			// Several instances may race here; the revision check lets one win.
			if _, err := s.mutate(ctx, key, "", func(*handoffv1.Journey) (effect, error) { return effect{unchanged: true}, nil }); err != nil {
				s.opts.Logger.WarnContext(ctx, "releasing a lapsed claim", "journey", j.GetName(), "error", err)
			}
		}
	}
}
