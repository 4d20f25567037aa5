package redis

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

func TestShallowCopyCopiesEveryField(t *testing.T) {
	j := &handoffv1.Journey{}
	// Every field set, so a field the copy forgot would show.
	fields := j.ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.IsMap():
			m := j.ProtoReflect().Mutable(fd).Map()
			m.Set(protoreflect.ValueOfString("k").MapKey(), protoreflect.ValueOfMessage(m.NewValue().Message()))
		case fd.IsList():
			j.ProtoReflect().Mutable(fd).List().Append(protoreflect.ValueOfString(string(fd.Name())))
		case fd.Kind() == protoreflect.MessageKind:
			j.ProtoReflect().Set(fd, protoreflect.ValueOfMessage(j.ProtoReflect().NewField(fd).Message()))
		case fd.Kind() == protoreflect.EnumKind:
			j.ProtoReflect().Set(fd, protoreflect.ValueOfEnum(1))
		case fd.Kind() == protoreflect.StringKind:
			j.ProtoReflect().Set(fd, protoreflect.ValueOfString(string(fd.Name())))
		case fd.Kind() == protoreflect.Int64Kind:
			j.ProtoReflect().Set(fd, protoreflect.ValueOfInt64(int64(fd.Number())))
		default:
			t.Fatalf("field %s: add its kind %s to this test", fd.Name(), fd.Kind())
		}
	}
	out := shallowCopy(j)
	require.True(t, proto.Equal(j, out), "the copy differs from the journey")
	out.Step, out.Etag = "changed", "changed"
	require.Equal(t, "step", j.GetStep(), "changing the copy changed the journey")
	require.Equal(t, "etag", j.GetEtag(), "changing the copy changed the journey")
}
