package service

import (
	"strconv"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/store"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

// Benchmarks of the rules every save runs besides the store: turning the
// update mask into the store's save, and checking the answers against the
// limits. Run them with
//
//	go test -run '^$' -bench . -count 10 ./internal/service

// quoteAnswers returns n answers (a multiple of 5) of the shared quote
// (storetest.QuoteAnswers) as a Struct.
func quoteAnswers(tb testing.TB, n int) *structpb.Struct {
	tb.Helper()
	s, err := structpb.NewStruct(storetest.QuoteAnswers(n))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkSaveOfARequest turns a save request into the store's save, as
// UpdateJourney does before its one write: one changed answer or a whole
// step, without an update mask (a gRPC client's save: the service derives
// the paths from the request) or with one (REST, or a gRPC client naming
// what it saves). Applying it is the store's (see the store benchmarks).
func BenchmarkSaveOfARequest(b *testing.B) {
	newVehicle := map[string]any{"plate": "XY-987-ZW", "make": "Škoda", "model": "Octavia Combi 2.0 TDI Style", "year": 2021, "usage": "social, domestic and pleasure use only"}
	tests := []struct {
		save, mask string
		// paths is the update mask; nil is none.
		paths []string
		// step and req are the request's step ("" for none) and answers.
		step string
		req  map[string]any
		// answers is how many answer changes the store is asked for.
		answers int
	}{
		{save: "one-answer", mask: "none", req: map[string]any{"vehicle": map[string]any{"plate": "XY-987-ZW"}}, answers: 1},
		{save: "one-answer", mask: "paths", paths: []string{"data.vehicle.plate"}, req: map[string]any{"vehicle": map[string]any{"plate": "XY-987-ZW"}}, answers: 1},
		{save: "step", mask: "none", step: "driver", req: map[string]any{"vehicle": newVehicle}, answers: 5},
		{
			// As the gateway derives it from a PATCH body of one step.
			save: "step", mask: "paths", paths: []string{"step", "data.vehicle.make", "data.vehicle.model", "data.vehicle.plate", "data.vehicle.usage", "data.vehicle.year"},
			step: "driver", req: map[string]any{"vehicle": newVehicle}, answers: 5,
		},
		{save: "step", mask: "step-object", paths: []string{"step", "data.vehicle"}, step: "driver", req: map[string]any{"vehicle": newVehicle}, answers: 1},
	}
	svc := New(nil, nil, Options{})
	p := auth.Principal{ID: "shop-website", Role: handoffv1.Role_ROLE_SERVICE}
	key := store.JourneyKey{Customer: "c-42", Journey: "anna-quote"}
	for _, tt := range tests {
		b.Run("save="+tt.save+"/mask="+tt.mask, func(b *testing.B) {
			req := &handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{Name: key.Name(), Step: tt.step, Data: benchStruct(b, tt.req)}}
			save := func() store.Save {
				paths, err := savePaths(tt.paths, req.GetJourney())
				if err != nil {
					b.Fatal(err)
				}
				return svc.save(key, p, req, paths, handoffv1.Channel_CHANNEL_WEB, "")
			}
			if got := len(save().Answers); got != tt.answers {
				b.Fatalf("the store is asked for %d answer changes, want %d", got, tt.answers)
			}
			b.ReportAllocs()
			for b.Loop() {
				save()
			}
		})
	}
}

// BenchmarkCheckData checks answers against the default limits, as
// UpdateJourney does twice per save (the request's answers, then the
// journey's after the save).
func BenchmarkCheckData(b *testing.B) {
	s := New(nil, nil, Options{})
	for _, n := range []int{20, 200} {
		b.Run("answers="+strconv.Itoa(n), func(b *testing.B) {
			data := quoteAnswers(b, n)
			if err := s.checkData(data, "journey.data"); err != nil {
				b.Fatalf("%d answers of the fixture are refused: %v", n, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.checkData(data, "journey.data"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchStruct(b *testing.B, m map[string]any) *structpb.Struct {
	b.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		b.Fatal(err)
	}
	return s
}
