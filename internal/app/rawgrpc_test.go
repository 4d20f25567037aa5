package app_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// rawCodec sends a request's bytes as they are: the Go client would refuse
// to encode what a broken or hostile client sends.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return proto.Unmarshal(data.Materialize(), v.(proto.Message))
}

func (rawCodec) Name() string { return "proto" }

func TestGRPCRequestsThatDoNotDecodeAreInvalidArgument(t *testing.T) {
	h := start(t, memoryStore)
	j := newJourney(t, h, "c-42")
	name := []byte(j.GetName())
	field := func(num protowire.Number, v []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
	}
	invalidStep := field(1, append(field(1, name), field(4, []byte("driv\xffer"))...)) // journey{name, step}

	tests := []struct {
		name, method string
		request      []byte
	}{
		{"a_name_with_invalid_utf8", "GetJourney", field(1, append(name, 0xff))},
		{"a_step_with_invalid_utf8", "UpdateJourney", invalidStep},
		{"a_truncated_message", "GetJourney", field(1, name)[:10]},
		{"a_wrong_wire_type", "GetJourney", protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.BytesType), 1<<40)},
	}
	for _, tt := range tests {
		t.Run(tt.name+"_is_refused_as_invalid_argument", func(t *testing.T) {
			var reply handoffv1.Journey
			err := h.conn.Invoke(as(t, websiteToken), fmt.Sprintf("/handoff.v1.JourneyService/%s", tt.method), tt.request, &reply, grpc.ForceCodecV2(rawCodec{}))
			st := requireCode(t, err, codes.InvalidArgument)
			require.Equal(t, []string{"request"}, statusFieldViolations(st))
		})
	}
	t.Run("a_well_formed_request_sent_the_same_way_works", func(t *testing.T) {
		var reply handoffv1.Journey
		err := h.conn.Invoke(as(t, websiteToken), "/handoff.v1.JourneyService/GetJourney", field(1, name), &reply, grpc.ForceCodecV2(rawCodec{}))
		require.NoError(t, err)
		require.Equal(t, j.GetName(), reply.GetName())
	})
	t.Run("nothing_was_written", func(t *testing.T) {
		after, err := h.api.GetJourney(as(t, websiteToken), &handoffv1.GetJourneyRequest{Name: j.GetName()})
		require.NoError(t, err)
		require.Equal(t, j.GetStep(), after.GetStep())
		require.Equal(t, j.GetRevision(), after.GetRevision())
	})
}

// The issue's own spelling of an answer without a value, byte for byte as
// a client that writes protobuf by hand sends it:
// data { fields { key: "x" value { } } }, and the same as a list item.
func TestAValueWithoutAKindSpelledOnTheWireIsRefused(t *testing.T) {
	h := start(t, redisStore)
	j := newJourney(t, h, "c-42")
	field := func(num protowire.Number, parts ...[]byte) []byte {
		var v []byte
		for _, p := range parts {
			v = append(v, p...)
		}
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
	}
	str := func(num protowire.Number, s string) []byte { return field(num, []byte(s)) }
	// Struct.fields (1) is a map entry {key 1, value 2}; Value.list_value is
	// 6 and ListValue.values 1; Journey.data is 5.
	answer := func(key string, value []byte) []byte { return field(5, field(1, str(1, key), field(2, value))) }
	empty := []byte{}
	inList := field(6, field(1, str(3, "red")), field(1, empty)) // ["red", <no kind>]

	tests := []struct {
		name, method string
		request      []byte
		path         string
	}{
		{"a_save_with_an_empty_value", "UpdateJourney", field(1, str(1, j.GetName()), answer("x", empty)), "x"},
		{"a_save_with_an_empty_list_item", "UpdateJourney", field(1, str(1, j.GetName()), answer("colours", inList)), "colours[1]"},
		{"a_create_with_an_empty_value", "CreateJourney", append(str(1, "customers/c-42"), field(2, str(2, "car-insurance-quote"), answer("x", empty))...), "x"},
		{"a_create_with_an_empty_list_item", "CreateJourney", append(str(1, "customers/c-42"), field(2, str(2, "car-insurance-quote"), answer("colours", inList))...), "colours[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"_is_refused_on_journey_data", func(t *testing.T) {
			var reply handoffv1.Journey
			err := h.conn.Invoke(as(t, c42Token), "/handoff.v1.JourneyService/"+tt.method, tt.request, &reply, grpc.ForceCodecV2(rawCodec{}))
			requireAnswerRefused(t, err, tt.path, "red")
		})
	}
	t.Run("nothing_was_written", func(t *testing.T) {
		list, err := h.api.ListJourneys(as(t, c42Token), &handoffv1.ListJourneysRequest{Parent: "customers/c-42"})
		require.NoError(t, err)
		require.Len(t, list.GetJourneys(), 1)
		require.Equal(t, j.GetRevision(), list.GetJourneys()[0].GetRevision())
	})
}
