package loadgen

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestRawCodecSends(t *testing.T) {
	encoded, err := proto.Marshal(wrapperspb.String("customers/c-1/journeys/quote"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		msg  any
		want []byte
	}{
		{"a_raw_request_as_it_is", Raw(encoded), encoded},
		{"an_empty_raw_request_as_an_empty_message", Raw(nil), nil},
		{"a_typed_message_through_the_proto_codec", wrapperspb.String("customers/c-1/journeys/quote"), encoded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := RawCodec{}.Marshal(tc.msg)
			require.NoError(t, err)
			require.Equal(t, len(tc.want), out.Len())
			if len(tc.want) > 0 {
				require.Equal(t, tc.want, out.Materialize())
			}
		})
	}
	t.Run("a_raw_request_without_copying_it", func(t *testing.T) {
		out, err := RawCodec{}.Marshal(Raw(encoded))
		require.NoError(t, err)
		require.Len(t, out, 1)
		require.Same(t, &encoded[0], &out[0].ReadOnlyData()[0])
	})
	t.Run("nothing_that_is_neither_raw_nor_a_message", func(t *testing.T) {
		_, err := RawCodec{}.Marshal("a string")
		require.ErrorContains(t, err, "cannot send a string")
	})
}

func TestRawCodecReceives(t *testing.T) {
	// A handoff's reply: the code (field 1) and an expiry (field 2, a
	// message), in the order protobuf writes them or reversed.
	var expiry []byte
	expiry = protowire.AppendTag(expiry, 1, protowire.VarintType)
	expiry = protowire.AppendVarint(expiry, 1_800_000_000)
	code := func(b []byte, c string) []byte {
		return protowire.AppendString(protowire.AppendTag(b, 1, protowire.BytesType), c)
	}
	withExpiry := func(b []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(b, 2, protowire.BytesType), expiry)
	}
	split := func(b []byte, at int) mem.BufferSlice {
		return mem.BufferSlice{mem.SliceBuffer(b[:at]), mem.SliceBuffer(b[at:])}
	}
	whole := func(b []byte) mem.BufferSlice { return mem.BufferSlice{mem.SliceBuffer(b)} }
	reply := withExpiry(code(nil, "K7QM-X2HD"))
	for _, tc := range []struct {
		name string
		data mem.BufferSlice
		want string
	}{
		{"the_one_field_asked_for", whole(reply), "K7QM-X2HD"},
		{"the_field_after_others", whole(code(withExpiry(nil), "K7QM-X2HD")), "K7QM-X2HD"},
		{"the_field_from_a_reply_in_several_buffers", split(reply, 4), "K7QM-X2HD"},
		{"the_last_value_of_a_repeated_field_as_protobuf_does", whole(code(code(nil, "OLD"), "NEW")), "NEW"},
		{"nothing_from_a_reply_without_the_field", whole(withExpiry(nil)), ""},
		{"nothing_from_an_empty_reply", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Field{Num: 1, Value: []byte("left over from the last call")}
			require.NoError(t, RawCodec{}.Unmarshal(tc.data, &f))
			require.Equal(t, tc.want, string(f.Value))
		})
	}
	t.Run("an_error_for_a_reply_that_is_not_protobuf", func(t *testing.T) {
		f := Field{Num: 1}
		require.Error(t, RawCodec{}.Unmarshal(whole([]byte{0x0a, 0x09, 'K'}), &f))
	})
	t.Run("nothing_into_a_discard", func(t *testing.T) {
		require.NoError(t, RawCodec{}.Unmarshal(whole([]byte{0xff, 0xff}), &Discard{}))
	})
	t.Run("a_typed_message_through_the_proto_codec", func(t *testing.T) {
		var s wrapperspb.StringValue
		require.NoError(t, RawCodec{}.Unmarshal(whole(code(nil, "K7QM-X2HD")), &s))
		require.Equal(t, "K7QM-X2HD", s.GetValue())
	})
	t.Run("nothing_into_what_is_neither_a_reply_type_nor_a_message", func(t *testing.T) {
		var s string
		require.ErrorContains(t, RawCodec{}.Unmarshal(whole(reply), &s), "cannot receive into a *string")
	})
}

// TestRawCodecOnAConnection: a real grpc-go server, with its ordinary proto
// codec, answers requests sent raw, and the same client connection still
// makes typed calls.
func TestRawCodecOnAConnection(t *testing.T) {
	const echo = "/loadgen.test.Echo/Say"
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		var in wrapperspb.StringValue
		if err := stream.RecvMsg(&in); err != nil {
			return err
		}
		if in.GetValue() == "" {
			return status.Error(codes.InvalidArgument, "empty")
		}
		return stream.SendMsg(wrapperspb.String("echo " + in.GetValue()))
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(RawCodec{})))
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	hello, err := proto.Marshal(wrapperspb.String("hello"))
	require.NoError(t, err)

	t.Run("a_raw_request_gets_its_reply_with_one_field_kept", func(t *testing.T) {
		f := Field{Num: 1}
		require.NoError(t, cc.Invoke(t.Context(), echo, Raw(hello), &f))
		require.Equal(t, "echo hello", string(f.Value))
	})
	t.Run("a_raw_request_gets_its_reply_discarded", func(t *testing.T) {
		require.NoError(t, cc.Invoke(t.Context(), echo, Raw(hello), &Discard{}))
	})
	t.Run("a_discarded_reply_still_carries_the_error_status", func(t *testing.T) {
		err := cc.Invoke(t.Context(), echo, Raw(nil), &Discard{})
		require.Equal(t, codes.InvalidArgument, status.Code(err))
	})
	t.Run("a_typed_call_still_works_on_the_same_connection", func(t *testing.T) {
		var out wrapperspb.StringValue
		require.NoError(t, cc.Invoke(t.Context(), echo, wrapperspb.String("typed"), &out))
		require.Equal(t, "echo typed", out.GetValue())
	})
}
