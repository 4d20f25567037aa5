package loadgen

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedisInfoFieldsAreFoundInTheirSection(t *testing.T) {
	info := "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nused_memory_rss:2097152\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=3\r\n"
	n, err := RedisInfoInt(info, "used_memory")
	require.NoError(t, err)
	require.EqualValues(t, 1<<20, n)
	v, ok := RedisInfoField(info, "db0")
	require.True(t, ok)
	require.Equal(t, "keys=3,expires=3", v)
	_, err = RedisInfoInt(info, "used_memory_peak")
	require.Error(t, err)
	_, err = RedisInfoInt(info, "used_memory_human")
	require.Error(t, err)
}

func TestPromValueReadsUnlabelledSamplesOnly(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
go_goroutines_total{x="y"} 7
go_memstats_heap_inuse_bytes 1.2345e+07
grpc_server_handled_total{grpc_code="OK"} 3
`
	for _, tc := range []struct {
		name string
		want float64
	}{
		{"go_goroutines", 42},
		{"go_memstats_heap_inuse_bytes", 12345000},
	} {
		got, err := PromValue(text, tc.name)
		require.NoError(t, err, tc.name)
		require.InDelta(t, tc.want, got, 1e-6, tc.name)
	}
	_, err := PromValue(text, "grpc_server_handled_total")
	require.Error(t, err, "labelled samples are not what is asked for")
}
