package server

import (
	"google.golang.org/grpc/encoding"
	encproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// requestCodec is grpc-go's proto codec, except that a request that does
// not decode (invalid UTF-8 in a string, a truncated message) reaches the
// validation interceptor, which refuses it with INVALID_ARGUMENT. grpc-go
// itself answers INTERNAL for every codec error, before any interceptor
// runs, which blames the server for the client's bytes.
type requestCodec struct{ encoding.CodecV2 }

func newRequestCodec() requestCodec {
	return requestCodec{encoding.GetCodecV2(encproto.Name)}
}

// encoded is a message its sender encoded already: the codec sends its
// bytes as they are. A change goes to every watcher of a journey encoded
// once (internal/service); each stream still compresses it, or not, as its
// client asked.
// Its buffers must be read-only and free nothing (SliceBuffers): grpc-go
// frees what it sent, and the same buffers go out on many streams.
type encoded interface{ EncodedBuffers() mem.BufferSlice }

// Marshal encodes v, or passes an encoded message's buffers on.
func (c requestCodec) Marshal(v any) (mem.BufferSlice, error) {
	if e, ok := v.(encoded); ok {
		return e.EncodedBuffers(), nil
	}
	return c.CodecV2.Marshal(v)
}

// decodeFailureField is the unknown field that carries a decode error to
// the validation interceptor: the message itself, so nothing is kept
// beside it whatever happens to the call.
const decodeFailureField = protowire.MaxValidNumber

// Unmarshal decodes data into v. When that fails, v is left empty but for
// the decode error in decodeFailureField, and no error is returned.
func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	msg, ok := v.(proto.Message)
	if err == nil || !ok {
		return err
	}
	proto.Reset(msg)
	marker := protowire.AppendTag(nil, decodeFailureField, protowire.BytesType)
	msg.ProtoReflect().SetUnknown(protowire.AppendString(marker, err.Error()))
	return nil
}

// decodeFailure is the decode error requestCodec left in msg, if any.
func decodeFailure(msg proto.Message) (string, bool) {
	unknown := msg.ProtoReflect().GetUnknown()
	for len(unknown) > 0 {
		num, typ, n := protowire.ConsumeTag(unknown)
		if n < 0 {
			return "", false
		}
		unknown = unknown[n:]
		if num == decodeFailureField && typ == protowire.BytesType {
			v, n := protowire.ConsumeString(unknown)
			return v, n >= 0
		}
		n = protowire.ConsumeFieldValue(num, typ, unknown)
		if n < 0 {
			return "", false
		}
		unknown = unknown[n:]
	}
	return "", false
}
