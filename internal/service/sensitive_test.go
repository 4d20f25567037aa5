package service

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/reflect/protoreflect"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// maskedResponses are the response messages MaskSensitiveUnary masks the
// journeys of; streamed ones are WatchJourney's to mask.
var maskedResponses = map[protoreflect.FullName]bool{
	"handoff.v1.Journey":              true,
	"handoff.v1.ListJourneysResponse": true,
}

// TestEveryResponseHoldingJourneysIsOneTheMaskingKnows fails when a method
// comes to return journeys in a message MaskSensitiveUnary does not look
// into: its sensitive answers would reach staff in clear.
func TestEveryResponseHoldingJourneysIsOneTheMaskingKnows(t *testing.T) {
	journey := (&handoffv1.Journey{}).ProtoReflect().Descriptor().FullName()
	for _, file := range []protoreflect.FileDescriptor{handoffv1.File_handoff_v1_journey_service_proto, handoffv1.File_handoff_v1_journey_type_proto, handoffv1.File_handoff_v1_identity_proto} {
		services := file.Services()
		for i := range services.Len() {
			methods := services.Get(i).Methods()
			for j := range methods.Len() {
				m := methods.Get(j)
				if !holds(m.Output(), journey, map[protoreflect.FullName]bool{}) {
					continue
				}
				if m.IsStreamingServer() {
					require.Equal(t, protoreflect.Name("WatchJourney"), m.Name(), "a new stream of journeys must mask as WatchJourney does")
					continue
				}
				require.True(t, maskedResponses[m.Output().FullName()], "%s returns journeys in %s, which MaskSensitiveUnary does not mask", m.FullName(), m.Output().FullName())
			}
		}
	}
}

// holds reports whether a message of md can hold a message named want.
func holds(md protoreflect.MessageDescriptor, want protoreflect.FullName, seen map[protoreflect.FullName]bool) bool {
	if md.FullName() == want {
		return true
	}
	if seen[md.FullName()] {
		return false
	}
	seen[md.FullName()] = true
	fields := md.Fields()
	for i := range fields.Len() {
		if f := fields.Get(i); f.Message() != nil && holds(f.Message(), want, seen) {
			return true
		}
	}
	return false
}
