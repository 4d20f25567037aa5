package config

import (
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := kv[k]
		return v, ok
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{
			name: "nothing_set_gives_the_bare_machine_defaults",
			check: func(t *testing.T, c Config) {
				require.Equal(t, Default(), c)
				require.Empty(t, c.RedisURL, "memory store by default")
				require.Equal(t, "localhost:9090", c.GRPCAddr)
				require.Equal(t, "localhost:8080", c.HTTPAddr)
			},
		},
		{
			name: "an_environment_variable_sets_its_flag",
			env:  map[string]string{"HANDOFF_REDIS_URL": "redis://127.0.0.1:6379", "HANDOFF_CODE_TTL": "2m", "HANDOFF_LOG_LEVEL": "debug"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "redis://127.0.0.1:6379", c.RedisURL)
				require.Equal(t, 2*time.Minute, c.CodeTTL)
				require.Equal(t, slog.LevelDebug, c.LogLevel)
			},
		},
		{
			name: "a_flag_wins_over_its_environment_variable",
			args: []string{"--tokens-file", "/etc/handoff/tokens.yaml"},
			env:  map[string]string{"HANDOFF_TOKENS_FILE": "/tmp/other.yaml"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "/etc/handoff/tokens.yaml", c.TokensFile)
			},
		},
		{name: "a_bad_duration_in_the_environment_names_the_variable", env: map[string]string{"HANDOFF_JOURNEY_TTL": "forever"}, wantErr: "HANDOFF_JOURNEY_TTL"},
		{name: "a_redis_url_without_a_scheme_names_the_flag", args: []string{"--redis-url", "localhost:6379"}, wantErr: "--redis-url"},
		{name: "an_address_without_a_port_names_the_flag", args: []string{"--grpc-addr", "localhost"}, wantErr: "--grpc-addr"},
		{name: "the_same_address_twice_is_refused", args: []string{"--grpc-addr", "localhost:7000", "--http-addr", "localhost:7000"}, wantErr: "--http-addr"},
		{name: "a_zero_code_ttl_is_refused", args: []string{"--code-ttl", "0s"}, wantErr: "--code-ttl"},
		{name: "a_body_limit_below_the_data_limit_is_refused", args: []string{"--max-body-bytes", "1000"}, wantErr: "--max-body-bytes"},
		{name: "stray_arguments_are_refused", args: []string{"serve"}, wantErr: "unexpected arguments"},
		{name: "an_unknown_flag_is_refused", args: []string{"--colour", "red"}, wantErr: "colour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, env(tt.env), io.Discard)
			if tt.wantErr != "" {
				require.Error(t, err)
				require.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestEveryFlagIsInTheREADMEConfigurationTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	var usage strings.Builder
	_, _ = Load([]string{"-h"}, env(nil), &usage)
	flags := 0
	for _, line := range strings.Split(usage.String(), "\n") {
		if !strings.HasPrefix(line, "  -") {
			continue
		}
		name := strings.Fields(strings.TrimPrefix(line, "  -"))[0]
		row := "| `--" + name + "` | `" + EnvName(name) + "` |"
		require.Contains(t, string(readme), row, "README's configuration table lacks --%s", name)
		flags++
	}
	require.Equal(t, 13, flags, "flags found in the usage text")
}
