package loadgen

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Raw is a gRPC request already in its wire form, encoded before the run,
// so sending it costs the driver the same whatever message it holds.
type Raw []byte

// Discard is a reply the driver does not read: RawCodec leaves it in the
// buffers gRPC received it in, which gRPC frees. The call's status still
// comes from its trailers, so an error is never missed.
type Discard struct{}

// Field is a reply of which the driver needs one string or bytes field
// (the code a handoff returns): RawCodec copies that field's value out and
// decodes nothing else. Num is the field's number; Value is empty when the
// reply lacks it.
type Field struct {
	Num   protowire.Number
	Value []byte
}

// RawCodec is the codec of a load driver's client connections: requests
// that are Raw go out as they are, and replies into a Discard or a Field
// stay undecoded, so every method costs the driver one copy of bytes to the
// socket. Any other message goes through gRPC's own proto codec, so the
// same connection serves ordinary typed calls (setting up, checking
// results). Pass it with grpc.ForceCodecV2 on the client only: it names
// itself "proto" so servers see the usual content type, and registering it
// with encoding.RegisterCodecV2 would replace the proto codec of every
// server in the process too.
type RawCodec struct{}

var _ encoding.CodecV2 = RawCodec{}

// protoCodec is gRPC's own, registered by grpc's encoding/proto package.
func protoCodec() (encoding.CodecV2, error) {
	if c := encoding.GetCodecV2(RawCodec{}.Name()); c != nil {
		return c, nil
	}
	return nil, errors.New("no proto codec registered")
}

// Marshal implements encoding.CodecV2.
func (RawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(Raw); ok {
		// A SliceBuffer is never returned to a pool, so gRPC only reads
		// these bytes: one request may be sent again, or by two callers.
		return mem.BufferSlice{mem.SliceBuffer(r)}, nil
	}
	if _, ok := v.(proto.Message); !ok {
		return nil, fmt.Errorf("loadgen.RawCodec: cannot send a %T", v)
	}
	c, err := protoCodec()
	if err != nil {
		return nil, err
	}
	return c.Marshal(v)
}

// Unmarshal implements encoding.CodecV2.
func (RawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	switch r := v.(type) {
	case *Discard:
		return nil
	case *Field:
		// A reply this small arrives in one buffer, which this takes a
		// reference to rather than copying; it is freed when Unmarshal
		// returns, so the value is copied out.
		buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
		defer buf.Free()
		v, err := stringField(buf.ReadOnlyData(), r.Num)
		r.Value = append(r.Value[:0], v...)
		return err
	case proto.Message:
		c, err := protoCodec()
		if err != nil {
			return err
		}
		return c.Unmarshal(data, v)
	}
	return fmt.Errorf("loadgen.RawCodec: cannot receive into a %T", v)
}

// Name implements encoding.CodecV2.
func (RawCodec) Name() string { return "proto" }

// stringField is the value of the last occurrence of field num (as
// protobuf's decoding keeps the last) in the message b, when it is
// length-delimited; nil when b does not hold it.
func stringField(b []byte, num protowire.Number) ([]byte, error) {
	var found []byte
	for len(b) > 0 {
		n, typ, tl := protowire.ConsumeTag(b)
		if tl < 0 {
			return nil, protowire.ParseError(tl)
		}
		b = b[tl:]
		if n == num && typ == protowire.BytesType {
			v, vl := protowire.ConsumeBytes(b)
			if vl < 0 {
				return nil, protowire.ParseError(vl)
			}
			found, b = v, b[vl:]
			continue
		}
		vl := protowire.ConsumeFieldValue(n, typ, b)
		if vl < 0 {
			return nil, protowire.ParseError(vl)
		}
		b = b[vl:]
	}
	return found, nil
}
