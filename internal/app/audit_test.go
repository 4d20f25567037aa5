package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

func TestEveryStaffReadIsAuditedAndTheCustomerCanSeeWhoLooked(t *testing.T) {
	h := start(t, memoryStore)
	j := newJourney(t, h, "c-42")
	social := as(t, aliceToken, "x-handoff-channel", "social")

	reads := []struct {
		name string
		read func() error
	}{
		{"get", func() error {
			_, err := h.api.GetJourney(social, &handoffv1.GetJourneyRequest{Name: j.GetName()})
			return err
		}},
		{"list", func() error {
			_, err := h.api.ListJourneys(social, &handoffv1.ListJourneysRequest{Parent: "customers/c-42"})
			return err
		}},
		{"watch", func() error {
			stream, err := h.api.WatchJourney(social, &handoffv1.WatchJourneyRequest{Name: j.GetName()})
			if err == nil {
				_, err = stream.Recv()
			}
			return err
		}},
	}
	for _, r := range reads {
		t.Run("an_agents_"+r.name+"_leaves_a_viewed_touchpoint", func(t *testing.T) {
			before := len(timeline(t, h, j.GetName()))
			require.NoError(t, r.read())
			tl := timeline(t, h, j.GetName())
			require.Len(t, tl, before+1)
			v := tl[len(tl)-1]
			require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_VIEWED, v.GetKind())
			require.Equal(t, "alice", v.GetActor().GetId())
			require.Equal(t, handoffv1.Channel_CHANNEL_SOCIAL, v.GetChannel())
			require.NotNil(t, v.GetTime())
		})
	}
	t.Run("the_customer_reads_who_looked_and_their_own_reads_leave_no_trace", func(t *testing.T) {
		before := len(timeline(t, h, j.GetName()))
		mine, err := h.api.GetJourney(as(t, c42Token), &handoffv1.GetJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		resp, err := h.api.ListTouchpoints(as(t, c42Token), &handoffv1.ListTouchpointsRequest{Parent: j.GetName()})
		require.NoError(t, err)
		require.Len(t, resp.GetTouchpoints(), before)
		viewers := 0
		for _, tp := range resp.GetTouchpoints() {
			if tp.GetKind() == handoffv1.TouchpointKind_TOUCHPOINT_KIND_VIEWED {
				require.Equal(t, "alice", tp.GetActor().GetId())
				viewers++
			}
		}
		require.Equal(t, len(reads), viewers)
		require.Equal(t, j.GetEtag(), mine.GetEtag(), "views never break a website's etag")
	})
}
