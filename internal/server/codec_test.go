package server

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

func TestRequestCodec(t *testing.T) {
	name := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "customers/c-1/journeys/j")
	unknown := protowire.AppendVarint(protowire.AppendTag(nil, 900, protowire.VarintType), 7)
	tests := []struct {
		name       string
		data       []byte
		wantFailed bool
		wantName   string
	}{
		{"a_valid_message_decodes_as_usual", name, false, "customers/c-1/journeys/j"},
		{"a_valid_message_with_an_unknown_field_is_no_failure", append(append([]byte{}, unknown...), name...), false, "customers/c-1/journeys/j"},
		{"invalid_utf8_leaves_an_empty_message_marked_as_failed", protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "c\xff"), true, ""},
		{"a_truncated_message_is_marked_as_failed", name[:5], true, ""},
	}
	codec := newRequestCodec()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := &handoffv1.GetJourneyRequest{}
			require.NoError(t, codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(tt.data)}, msg))
			reason, failed := decodeFailure(msg)
			require.Equal(t, tt.wantFailed, failed, "reason: %q", reason)
			if failed {
				require.NotEmpty(t, reason)
			}
			require.Equal(t, tt.wantName, msg.GetName())
		})
	}
}
