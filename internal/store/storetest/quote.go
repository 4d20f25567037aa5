package storetest

import (
	"maps"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// QuoteCustomer owns every journey Quote makes.
const QuoteCustomer = "c-42"

// quoteSteps are a car-insurance quote's answers, five per step, grouped
// by step as the demo website saves them: about 1 KiB of JSON.
var quoteSteps = map[string]map[string]any{
	"vehicle": {"plate": "AB-123-CD", "make": "Volvo", "model": "V60 Cross Country B5 AWD Plus Bright, 2.0 litre mild hybrid estate", "year": 2019, "usage": "social, domestic and pleasure use, plus commuting to a single fixed place of work"},
	"driver":  {"firstName": "Anna-Sofia", "lastName": "Lindqvist-Marchetti", "birthDate": "1988-04-17", "occupation": "Senior software engineer at a logistics and freight forwarding company", "email": "anna-sofia.lindqvist-marchetti@mail.example.com"},
	"address": {"street": "Rue du Faubourg Saint-Antoine, bâtiment C, 3e étage", "houseNumber": "142B", "postcode": "75012", "city": "Paris", "parking": "locked private garage at the back of the building, shared with two neighbours"},
	"cover":   {"level": "comprehensive", "excess": 250, "startDate": "2026-12-01", "glassCover": true, "extras": "breakdown cover across Europe with a replacement car for up to 14 days, legal expenses and a courtesy car during repairs"},
}

// Quote is an active journey of QuoteCustomer with a realistic quote's 20
// answers, as the service hands it to a store: the benchmarks' journey.
func Quote(tb testing.TB, id string) *handoffv1.Journey {
	tb.Helper()
	answers := map[string]any{}
	for step, a := range quoteSteps {
		answers[step] = maps.Clone(a)
	}
	data, err := structpb.NewStruct(answers)
	if err != nil {
		tb.Fatal(err)
	}
	now := timestamppb.Now()
	return &handoffv1.Journey{
		Name:        store.JourneyKey{Customer: QuoteCustomer, Journey: id}.Name(),
		JourneyType: "car-insurance-quote",
		State:       handoffv1.JourneyState_JOURNEY_STATE_ACTIVE,
		Step:        "cover",
		Data:        data,
		Channel:     handoffv1.Channel_CHANNEL_WEB,
		CreateTime:  now,
		UpdateTime:  now,
	}
}

// SaveTouchpoint is the touchpoint a website's save of j appends.
func SaveTouchpoint(j *handoffv1.Journey) *handoffv1.Touchpoint {
	return &handoffv1.Touchpoint{
		Time:    j.GetUpdateTime(),
		Channel: handoffv1.Channel_CHANNEL_WEB,
		Actor:   &handoffv1.Actor{Id: "shop-website", Role: handoffv1.Role_ROLE_SERVICE},
		Kind:    handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED,
		Step:    j.GetStep(),
	}
}
