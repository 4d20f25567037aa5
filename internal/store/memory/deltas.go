package memory

import (
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/answers"
	"github.com/journeyhandoff/handoff/internal/delta"
	"github.com/journeyhandoff/handoff/internal/store"
)

// The paths each kind of write names in the changes it logs and
// announces. They are the Redis store's, path for path and in the same
// order, so a watcher cannot tell which store it watches.
var (
	createPaths = []string{"name", "journey_type", "state", "step", "data", "channel", "channel_detail", "create_time", "update_time", "expire_time", "etag"}
	// An update replaces every field but the answers (see UpdateJourney).
	updatePaths = []string{"etag", "update_time", "expire_time", "state", "step", "channel", "channel_detail", "assignee", "assignee_display_name", "assignee_channel", "claim_expire_time"}
	savePaths   = []string{"etag", "update_time", "expire_time", "channel", "channel_detail"}
)

// savePathsOf names what sv changes: the journey's last touch, the step
// if it sets one, all answers if it replaces them, and each answer it
// sets or removes, in its order.
func savePathsOf(sv store.Save) []string {
	paths := slices.Clone(savePaths)
	if sv.SetStep {
		paths = append(paths, "step")
	}
	if sv.ReplaceAnswers {
		paths = append(paths, "data")
	}
	for _, c := range sv.Answers {
		paths = append(paths, delta.DataPrefix+c.Path)
	}
	return paths
}

// change is the entry's latest write as a delta: its revision, the
// touchpoints it appended, and a journey holding its name and the values
// of the fields paths names, as they are now. An answer path takes what
// stands at that path now, nothing when it was removed.
func (e *journeyEntry) change(paths []string, tps []*handoffv1.Touchpoint) *handoffv1.JourneyChange {
	j := &handoffv1.Journey{Name: e.body.GetName()}
	src, dst := e.body.ProtoReflect(), j.ProtoReflect()
	fields := src.Descriptor().Fields()
	for _, p := range paths {
		switch {
		case p == "etag":
			// Kept beside the body, not in it (see journeyEntry).
			j.Etag = strconv.FormatInt(e.etag, 10)
		case p == "data":
			j.Data = proto.CloneOf(e.body.GetData())
		case strings.HasPrefix(p, delta.DataPrefix):
			if j.Data == nil {
				j.Data = &structpb.Struct{}
			}
			path := strings.TrimPrefix(p, delta.DataPrefix)
			if v, ok := answers.Lookup(e.body.GetData(), path); ok {
				answers.Set(j.Data, path, proto.CloneOf(v))
			}
		default:
			fd := fields.ByName(protoreflect.Name(p))
			if !src.Has(fd) {
				continue
			}
			v := src.Get(fd)
			if fd.Message() != nil {
				v = protoreflect.ValueOfMessage(proto.Clone(v.Message().Interface()).ProtoReflect())
			}
			dst.Set(fd, v)
		}
	}
	return &handoffv1.JourneyChange{
		Revision:    e.revision,
		Journey:     j,
		Touchpoints: tps,
		UpdateMask:  &fieldmaskpb.FieldMask{Paths: paths},
	}
}
