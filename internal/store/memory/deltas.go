package memory

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/answers"
	"github.com/journeyhandoff/handoff/internal/delta"
)

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
		Revision:     e.revision,
		Journey:      j,
		Touchpoints:  tps,
		ChangedPaths: paths,
	}
}
