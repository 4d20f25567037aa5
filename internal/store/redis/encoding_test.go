package redis

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/answers"
	"github.com/journeyhandoff/handoff/internal/store"
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

func TestRecordHeadIsOneAllocationItsDecoderReads(t *testing.T) {
	key := store.JourneyKey{Customer: "anna", Journey: "quote"}
	s := New(nil)
	tests := []struct {
		name    string
		answers []recordAnswer
	}{
		{"a change that names no answer", nil},
		{"a change that sets one answer", []recordAnswer{{path: "vehicle.plate", stored: []byte(`"AB-12-CD"`)}}},
		{"a change that sets one answer and removes another", []recordAnswer{
			{path: "vehicle.plate", stored: []byte(`"AB-12-CD"`)}, {path: "driver.age"}}},
		{"a change whose answer is longer than one length byte holds", []recordAnswer{
			{path: "notes", stored: []byte(`"` + strings.Repeat("x", 300) + `"`)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mask := []string{"step"}
			for _, a := range tt.answers {
				mask = append(mask, "data."+a.path)
			}
			head, err := recordHead(key, &handoffv1.Journey{Step: "driver"}, mask, tt.answers)
			require.NoError(t, err)
			require.Equal(t, len(head), cap(head), "the record was not sized up front")

			c, err := s.decodeRecordChange(head)
			require.NoError(t, err)
			require.Equal(t, key.Name(), c.GetJourney().GetName())
			require.Equal(t, "driver", c.GetJourney().GetStep())
			require.Equal(t, mask, c.GetChangedPaths())
			for _, a := range tt.answers {
				v, ok := answers.Lookup(c.GetJourney().GetData(), a.path)
				require.Equal(t, a.stored != nil, ok, "answer %s", a.path)
				if ok {
					js, err := answers.EncodeJSON(v)
					require.NoError(t, err)
					require.JSONEq(t, string(a.stored), string(js))
				}
			}
		})
	}
}

func TestReadingAnUnsealedAnswerBuildsNoSealingOwner(t *testing.T) {
	s := New(nil)
	stored := []byte(`"AB-12-CD"`)
	decode := func() {
		if _, err := s.decodeAnswer("customers/anna/journeys/quote", "vehicle.plate", stored); err != nil {
			t.Fatal(err)
		}
	}
	decode()
	// The value, its kind and its string, no more: the owner a sealed
	// answer is bound to (its journey and path) cost one more per answer.
	require.LessOrEqual(t, testing.AllocsPerRun(100, decode), 3.0)
}
