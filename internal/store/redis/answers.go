package redis

import (
	"slices"

	"google.golang.org/protobuf/types/known/structpb"
)

// dropKindless removes from answers, at any depth and list items included,
// every kindless Value (one whose kind is unset: gRPC's `value {}`).
//
// Saves could store such answers before the service refused them, and
// Redis may still hold some. protojson cannot write a kindless Value, so
// one would fail every REST read of its journey (get, watch, redeem) and
// of the customer's whole list; read without it, the journey reads as it
// would had the answer never been sent, and its next write stores it so.
// The memory store needs no such step: it keeps nothing across a restart,
// so it holds only answers the service checked.
func dropKindless(answers *structpb.Struct) {
	for k, v := range answers.GetFields() {
		if !keepValue(v) {
			delete(answers.Fields, k)
		}
	}
}

// keepValue reports whether v has a kind, dropping the kindless values
// within it.
func keepValue(v *structpb.Value) bool {
	switch kind := v.GetKind().(type) {
	case nil:
		return false
	case *structpb.Value_StructValue:
		dropKindless(kind.StructValue)
	case *structpb.Value_ListValue:
		if kind.ListValue != nil {
			kind.ListValue.Values = slices.DeleteFunc(kind.ListValue.Values, func(item *structpb.Value) bool { return !keepValue(item) })
		}
	}
	return true
}
