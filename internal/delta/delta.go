// Package delta applies a journey change (handoff.v1.JourneyChange) to
// the journey it changed. A change carries only what changed: the fields
// its changed_paths names, with their values after the change, applied the
// way a save applies its mask (a path named but absent was cleared or, for
// an answer, removed). A snapshot carries the whole journey. The hub keeps
// its journeys with this, and tests check every store's deltas with it;
// the console and /sdk/handoff.js do the same in JavaScript.
package delta

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/answers"
)

// DataPrefix starts the mask path of one answer: `data.vehicle.plate`.
const DataPrefix = "data."

// Apply returns j changed by c; j itself is not modified (it may be
// shared). A snapshot replaces j; a nil j is an empty journey (what a
// create's change applies to). A path that names no field of Journey is
// an error: the change comes from a newer server than this code knows.
func Apply(j *handoffv1.Journey, c *handoffv1.JourneyChange) (*handoffv1.Journey, error) {
	if c.GetSnapshot() {
		return proto.CloneOf(c.GetJourney()), nil
	}
	out := &handoffv1.Journey{}
	if j != nil {
		out = proto.CloneOf(j)
	}
	from := c.GetJourney()
	fields := out.ProtoReflect().Descriptor().Fields()
	for _, p := range c.GetChangedPaths() {
		switch {
		case p == "data":
			out.Data = proto.CloneOf(from.GetData())
		case strings.HasPrefix(p, DataPrefix):
			path := strings.TrimPrefix(p, DataPrefix)
			if out.Data == nil {
				out.Data = &structpb.Struct{}
			}
			if v, ok := answers.Lookup(from.GetData(), path); ok {
				answers.Set(out.Data, path, proto.CloneOf(v))
			} else {
				answers.Remove(out.Data, path)
			}
		default:
			fd := fields.ByName(protoreflect.Name(p))
			if fd == nil {
				return nil, fmt.Errorf("change to revision %d names an unknown field %q", c.GetRevision(), p)
			}
			if src := from.ProtoReflect(); src.Has(fd) {
				v := src.Get(fd)
				if fd.Message() != nil {
					v = protoreflect.ValueOfMessage(proto.Clone(v.Message().Interface()).ProtoReflect())
				}
				out.ProtoReflect().Set(fd, v)
			} else {
				out.ProtoReflect().Clear(fd)
			}
		}
	}
	out.Revision = c.GetRevision()
	return out, nil
}
