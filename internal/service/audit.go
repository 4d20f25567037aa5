package service

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/store"
)

// audited reports whether reads by p are recorded on the journey: staff
// reading a customer's data leave a trace the customer can see. Customers
// reading their own journeys and website backends saving them do not.
func audited(p auth.Principal) bool { return auth.RightsOf(p.Role).Audited }

// recordView appends a VIEWED touchpoint for p (an agent or admin) and
// returns the journey as it is after it. The view does not move the etag.
func (s *Service) recordView(ctx context.Context, p auth.Principal, key store.JourneyKey, ch handoffv1.Channel, detail string) (*handoffv1.Journey, error) {
	return s.mutate(ctx, key, "", func(cur *handoffv1.Journey) (effect, error) {
		return recorded(&handoffv1.Touchpoint{
			Time:          timestamppb.New(s.now()),
			Channel:       ch,
			ChannelDetail: detail,
			Actor:         actor(p),
			Kind:          handoffv1.TouchpointKind_TOUCHPOINT_KIND_VIEWED,
			Step:          cur.GetStep(),
		}), nil
	})
}
