package app_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
)

// withInsightFlushedOften makes counts readable a moment after a write.
func withInsightFlushedOften(c *config.Config) { c.Insight.Flush = 100 * time.Millisecond }

// insightOf reads the type's insight of today as kees, the analyst, once
// it has counted `started` journeys.
func insightOf(t *testing.T, h *harness, journeyType string, started int64) *handoffv1.JourneyTypeInsight {
	t.Helper()
	var got *handoffv1.JourneyTypeInsight
	require.Eventually(t, func() bool {
		var err error
		got, err = h.types().GetJourneyTypeInsight(as(t, kees), &handoffv1.GetJourneyTypeInsightRequest{Name: "journeyTypes/" + journeyType + "/insight"})
		require.NoError(t, err)
		return got.GetStarted() >= started
	}, 5*time.Second, 50*time.Millisecond)
	return got
}

func stepOf(in *handoffv1.JourneyTypeInsight, id string) *handoffv1.StepInsight {
	for _, s := range in.GetSteps() {
		if s.GetStep() == id {
			return s
		}
	}
	return nil
}

func TestInsight_aJourneyStoppedOnlineAndResumedOnThePhoneIsOnTheMap(t *testing.T) {
	for _, kind := range []storeKind{memoryStore, redisStore} {
		t.Run(string(kind), func(t *testing.T) {
			h := start(t, kind, withExampleTypes(t), withInsightFlushedOften)
			web := as(t, c42Token, "x-handoff-channel", "web")
			j, err := h.api.CreateJourney(web, &handoffv1.CreateJourneyRequest{
				Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: quoteType},
			})
			require.NoError(t, err)
			data, err := structpb.NewStruct(map[string]any{"vehicle": map[string]any{"plate": "AB-123-C", "make": "Volvo"}})
			require.NoError(t, err)
			j, err = h.api.UpdateJourney(web, &handoffv1.UpdateJourneyRequest{
				Journey:    &handoffv1.Journey{Name: j.GetName(), Step: "driver", Data: data},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"data.vehicle", "step"}},
			})
			require.NoError(t, err)
			offer, err := h.api.HandoffJourney(web, &handoffv1.HandoffJourneyRequest{Name: j.GetName()})
			require.NoError(t, err)
			phone := as(t, aliceToken, "x-handoff-channel", "phone")
			_, err = h.api.RedeemHandoff(phone, &handoffv1.RedeemHandoffRequest{Code: offer.GetCode()})
			require.NoError(t, err)
			_, err = h.api.CompleteJourney(phone, &handoffv1.CompleteJourneyRequest{Name: j.GetName()})
			require.NoError(t, err)

			in := insightOf(t, h, quoteType, 1)
			require.Equal(t, []string{"vehicle", "driver", "cover", "confirm"}, stepIDs(in))
			vehicle, driver := stepOf(in, "vehicle"), stepOf(in, "driver")
			require.Equal(t, int64(1), vehicle.GetReached())
			require.Equal(t, int64(1), vehicle.GetLeftForward())
			require.Equal(t, int64(1), driver.GetReached())
			require.Equal(t, int64(1), driver.GetLeftForward(), "the furthest it came, then completed: no drop-off")
			require.Zero(t, driver.GetStopped())
			require.Zero(t, driver.GetDropOffRate())
			web2phone := []*handoffv1.ChannelFlow{{From: handoffv1.Channel_CHANNEL_WEB, To: handoffv1.Channel_CHANNEL_PHONE, Count: 1, Rate: 1}}
			require.Len(t, driver.GetResumes(), 1)
			require.Equal(t, web2phone[0].GetCount(), driver.GetResumes()[0].GetCount())
			require.Equal(t, handoffv1.Channel_CHANNEL_PHONE, driver.GetResumes()[0].GetTo())
			require.Equal(t, 1.0, driver.GetResumeRate())
			require.Equal(t, int64(1), driver.GetTimeToResume().GetCount())
			require.Len(t, driver.GetSwitches(), 1, "web to phone on the step it stopped on")
			require.True(t, stepOf(in, "cover").GetMomentOfTruth())
			require.Equal(t, int64(1), in.GetCompleted())
			require.Equal(t, []*handoffv1.EntryChannelInsight{{Channel: handoffv1.Channel_CHANNEL_WEB, Started: 1, Completed: 1, CompletionRate: 1}}, in.GetEntryChannels())
			require.Zero(t, driver.GetExpired(), "today has not ended, and it completed")

			_, err = h.api.GetJourney(as(t, kees), &handoffv1.GetJourneyRequest{Name: j.GetName()})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "an analyst reads insight and nothing else")
		})
	}
}

func stepIDs(in *handoffv1.JourneyTypeInsight) []string {
	var ids []string
	for _, s := range in.GetSteps() {
		ids = append(ids, s.GetStep())
	}
	return ids
}
