package service

import (
	"maps"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store/storetest"
)

// Benchmarks of the rules every save runs besides the store: turning the
// update mask into paths and applying them, and checking the answers
// against the limits. Run them with
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

// BenchmarkApplySave applies a save to a stored journey of 20 answers, as
// UpdateJourney does once it has read it: one changed answer or a whole
// step, without an update mask (a gRPC client's save: the service derives
// the paths from the request) or with one (REST, or a gRPC client naming
// what it saves).
func BenchmarkApplySave(b *testing.B) {
	newVehicle := map[string]any{"plate": "XY-987-ZW", "make": "Škoda", "model": "Octavia Combi 2.0 TDI Style", "year": 2021, "usage": "social, domestic and pleasure use only"}
	tests := []struct {
		save string
		mask string
		// paths is the update mask; nil is none.
		paths []string
		// step and req are the request's step ("" for none) and answers.
		step string
		req  map[string]any
		// want are the answers of the vehicle step after the save.
		want map[string]any
	}{
		{
			save: "one-answer", mask: "none",
			req:  map[string]any{"vehicle": map[string]any{"plate": "XY-987-ZW"}},
			want: withAnswer(storetest.QuoteSteps[0].Answers, "plate", "XY-987-ZW"),
		},
		{
			save: "one-answer", mask: "paths", paths: []string{"data.vehicle.plate"},
			req:  map[string]any{"vehicle": map[string]any{"plate": "XY-987-ZW"}},
			want: withAnswer(storetest.QuoteSteps[0].Answers, "plate", "XY-987-ZW"),
		},
		{
			save: "step", mask: "none",
			step: "driver", req: map[string]any{"vehicle": newVehicle},
			want: newVehicle,
		},
		{
			// As the gateway derives it from a PATCH body of one step.
			save: "step", mask: "paths", paths: []string{"step", "data.vehicle.make", "data.vehicle.model", "data.vehicle.plate", "data.vehicle.usage", "data.vehicle.year"},
			step: "driver", req: map[string]any{"vehicle": newVehicle},
			want: newVehicle,
		},
		{
			save: "step", mask: "step-object", paths: []string{"step", "data.vehicle"},
			step: "driver", req: map[string]any{"vehicle": newVehicle},
			want: newVehicle,
		},
	}
	for _, tt := range tests {
		b.Run("save="+tt.save+"/mask="+tt.mask+"/answers=20", func(b *testing.B) {
			req := &handoffv1.Journey{Step: tt.step, Data: benchStruct(b, tt.req)}
			cur := &handoffv1.Journey{Name: "customers/c-42/journeys/anna-quote", Step: "vehicle", Data: quoteAnswers(b, 20)}
			save := func() {
				paths, err := savePaths(tt.paths, req)
				if err != nil {
					b.Fatal(err)
				}
				applySave(cur, req, paths)
			}

			save()
			wantData := quoteAnswers(b, 20)
			wantData.Fields["vehicle"] = structpb.NewStructValue(benchStruct(b, tt.want))
			if !proto.Equal(wantData, cur.GetData()) {
				b.Fatalf("after the save the answers are %v, want %v", cur.GetData().AsMap(), wantData.AsMap())
			}
			wantStep := "vehicle"
			if tt.step != "" {
				wantStep = tt.step
			}
			if cur.GetStep() != wantStep {
				b.Fatalf("after the save the step is %q, want %q", cur.GetStep(), wantStep)
			}
			// Saving the same answers again does the same lookups and map
			// writes, so one journey serves every iteration.
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

// withAnswer returns a copy of m with k set to v.
func withAnswer(m map[string]any, k string, v any) map[string]any {
	c := maps.Clone(m)
	c[k] = v
	return c
}

func benchStruct(b *testing.B, m map[string]any) *structpb.Struct {
	b.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		b.Fatal(err)
	}
	return s
}
