package redis

import (
	"crypto/rand"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/sealing"
	"github.com/journeyhandoff/handoff/internal/store"
)

// BenchmarkSaveArguments builds a page save's script arguments, sealed and
// not: what sealing adds to a save on handoffd's side (Redis stores a few
// bytes more per answer and never opens anything).
func BenchmarkSaveArguments(b *testing.B) {
	secret := make([]byte, sealing.KeySize)
	_, _ = rand.Read(secret)
	ring, err := sealing.New(sealing.Key{ID: "bench", Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		s    *Store
	}{{"sealed=false", New(nil)}, {"sealed=true", New(nil, WithSealer(ring))}} {
		b.Run(tc.name, func(b *testing.B) {
			sv := store.Save{
				Key: store.JourneyKey{Customer: "c-42", Journey: "anna-quote"}, SetStep: true, Step: "driver", UpdateTime: time.Now(),
				Channel:    handoffv1.Channel_CHANNEL_WEB,
				Touchpoint: &handoffv1.Touchpoint{Kind: handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED, Note: "called about the cover"},
				Limits:     store.AnswerLimits{Answers: 1000, Bytes: 64 << 10},
				Answers: []store.AnswerChange{
					{Path: "vehicle.year", Value: structpb.NewNumberValue(2019)},
					{Path: "driver.occupation", Value: structpb.NewStringValue("nurse")},
					{Path: "cover.level", Value: structpb.NewStringValue("comprehensive")},
				},
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := tc.s.saveCall(sv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
