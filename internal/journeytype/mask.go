package journeytype

import (
	"google.golang.org/protobuf/types/known/structpb"
)

// Masked is what staff see of a sensitive answer they may not read.
const Masked = "••••"

// Mask returns what staff see of a sensitive value: a string keeps its
// last keepLast characters behind "•••• ", anything else becomes "••••".
// A string of at most 2*keepLast characters shows nothing, so that at
// least half of it always stays hidden (a 4-digit PIN with keepLast 4
// would otherwise show whole).
func Mask(v *structpb.Value, keepLast int) *structpb.Value {
	s, ok := v.GetKind().(*structpb.Value_StringValue)
	if !ok || keepLast <= 0 {
		return structpb.NewStringValue(Masked)
	}
	runes := []rune(s.StringValue)
	if len(runes) <= 2*keepLast {
		return structpb.NewStringValue(Masked)
	}
	return structpb.NewStringValue(Masked + " " + string(runes[len(runes)-keepLast:]))
}
