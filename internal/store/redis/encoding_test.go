package redis

import (
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/sealing"
	"github.com/journeyhandoff/handoff/internal/store"
)

func TestChangedJourney(t *testing.T) {
	key := store.JourneyKey{Customer: "c-1", Journey: "j-1"}
	journey := &handoffv1.Journey{
		Name: key.Name(),
		Step: "vehicle",
		Data: &structpb.Struct{Fields: map[string]*structpb.Value{"make": structpb.NewStringValue("Volvo")}},
	}
	plain, err := proto.Marshal(&handoffv1.JourneyChange{Revision: 7, Journey: journey})
	require.NoError(t, err)

	// Fields may come in any order: the step before the name, the journey
	// before the revision, touchpoints in between.
	var reordered []byte
	inner := protowire.AppendTag(nil, 4, protowire.BytesType) // Journey.step
	inner = protowire.AppendBytes(inner, []byte("vehicle"))
	inner = protowire.AppendTag(inner, 1, protowire.BytesType)
	inner = protowire.AppendBytes(inner, []byte(key.Name()))
	reordered = protowire.AppendTag(reordered, 3, protowire.BytesType)
	reordered = protowire.AppendBytes(reordered, []byte{0x0a, 0x01, 'x'})
	reordered = protowire.AppendTag(reordered, 2, protowire.BytesType)
	reordered = protowire.AppendBytes(reordered, inner)
	reordered = protowire.AppendTag(reordered, 1, protowire.VarintType)
	reordered = protowire.AppendVarint(reordered, 7)

	secret := make([]byte, sealing.KeySize)
	_, _ = rand.Read(secret)
	ring, err := sealing.New(sealing.Key{ID: "k1", Secret: secret})
	require.NoError(t, err)
	// A sealed v1 change: the envelope, the name in clear, the sealed head.
	sealed := []byte(sealedChangeMagic)
	sealed = protowire.AppendBytes(protowire.AppendTag(sealed, 1, protowire.BytesType), []byte(key.Name()))
	sealed = protowire.AppendBytes(protowire.AppendTag(sealed, 2, protowire.BytesType), ring.Seal(plain, []byte(key.Name())))
	// A change record (layout v2) as the scripts finish it.
	head, err := recordHead(key, &handoffv1.Journey{Step: "vehicle"}, []string{"step"}, nil)
	require.NoError(t, err)
	record := append([]byte(recordMarker), head...)
	record = protowire.AppendVarint(protowire.AppendTag(record, recRevision, protowire.VarintType), 7)

	cases := []struct {
		name   string
		change []byte
		wantOK bool
	}{
		{"a plain change names its journey", plain, true},
		{"a plain change with its fields in another order names its journey", reordered, true},
		{"a sealed change names its journey in clear", sealed, true},
		{"a change record names its journey", record, true},
		{"a change record cut short names nothing", record[:4], false},
		{"an empty payload names nothing", nil, false},
		{"a truncated plain change names nothing", plain[:5], false},
		{"a sealed change without its envelope names nothing", []byte(sealedChangeMagic), false},
		{"a change whose name is not a journey name names nothing", protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte("customers/c-1"))), false},
		{"text that is not protobuf names nothing", []byte("hello, subscribers"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := changedJourney(tc.change)
			require.Equal(t, tc.wantOK, ok)
			if tc.wantOK {
				require.Equal(t, key, got)
			}
		})
	}
}

func TestShallowCopyCopiesEveryField(t *testing.T) {
	j := &handoffv1.Journey{}
	// Every field set, so a field the copy forgot would show.
	fields := j.ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
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
