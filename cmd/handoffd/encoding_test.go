package main

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/encoding"
)

// A watch encodes each change once for all the journey's watchers and
// sends those bytes on every stream (internal/service, WatchJourney). That
// is right only while every stream encodes alike: handoffd must speak only
// the protobuf codec and compress nothing. A dependency that registers a
// compressor or codec fails this test, and the sharing must then key its
// bytes by the stream's compressor.
func TestHandoffdHasOneCodecAndNoCompressor(t *testing.T) {
	for _, name := range []string{"gzip", "deflate", "snappy", "zstd", "lz4"} {
		require.Nil(t, encoding.GetCompressor(name), "a %s compressor is registered", name)
	}
	require.NotNil(t, encoding.GetCodecV2("proto"))
	for _, name := range []string{"json", "xml", "thrift", "flatbuffers"} {
		require.Nil(t, encoding.GetCodecV2(name), "a %s codec is registered", name)
	}
}
