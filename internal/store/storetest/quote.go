package storetest

import (
	"maps"
	"strconv"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// QuoteCustomer owns every journey Quote makes.
const QuoteCustomer = "c-42"

// QuoteStep is one step of a car-insurance quote: its name and its five
// answers.
type QuoteStep struct {
	Name    string
	Answers map[string]any
}

// QuoteSteps are a car-insurance quote's answers, five per step, in the
// order the demo website asks for them: about 1 KiB of JSON in all. The
// benchmarks of every layer share them, so their figures compare.
var QuoteSteps = []QuoteStep{
	{"vehicle", map[string]any{"plate": "AB-123-CD", "make": "Volvo", "model": "V60 Cross Country B5 AWD Plus Bright, 2.0 litre mild hybrid estate", "year": 2019, "usage": "social, domestic and pleasure use, plus commuting to a single fixed place of work"}},
	{"driver", map[string]any{"firstName": "Anna-Sofia", "lastName": "Lindqvist-Marchetti", "birthDate": "1988-04-17", "occupation": "Senior software engineer at a logistics and freight forwarding company", "email": "anna-sofia.lindqvist-marchetti@mail.example.com"}},
	{"address", map[string]any{"street": "Rue du Faubourg Saint-Antoine, bâtiment C, 3e étage", "houseNumber": "142B", "postcode": "75012", "city": "Paris", "parking": "locked private garage at the back of the building, shared with two neighbours"}},
	{"cover", map[string]any{"level": "comprehensive", "excess": 250, "startDate": "2026-12-01", "glassCover": true, "extras": "breakdown cover across Europe with a replacement car for up to 14 days, legal expenses and a courtesy car during repairs"}},
}

// QuoteAnswers returns n answers (a multiple of 5), as fresh maps: the
// quote's steps, then the same steps again under numbered names (a second
// driver, ...).
func QuoteAnswers(n int) map[string]any {
	out := map[string]any{}
	for i := range n / 5 {
		step := QuoteSteps[i%len(QuoteSteps)]
		name := step.Name
		if i >= len(QuoteSteps) {
			name += "-" + strconv.Itoa(i/len(QuoteSteps)+1)
		}
		out[name] = maps.Clone(step.Answers)
	}
	return out
}

// Quote is an active journey of QuoteCustomer with a realistic quote's 20
// answers, as the service hands it to a store: the benchmarks' journey.
func Quote(tb testing.TB, id string) *handoffv1.Journey {
	tb.Helper()
	data, err := structpb.NewStruct(QuoteAnswers(20))
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
