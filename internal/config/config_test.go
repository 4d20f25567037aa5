package config

import (
	"flag"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/journeyhandoff/handoff/internal/auth"
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
		{
			name: "a_loopback_debug_address_turns_profiles_on",
			args: []string{"--debug-addr", "127.0.0.1:6060"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "127.0.0.1:6060", c.DebugAddr)
			},
		},
		{name: "a_debug_address_on_every_interface_is_refused", args: []string{"--debug-addr", ":6060"}, wantErr: "--debug-addr (HANDOFF_DEBUG_ADDR): \":6060\" is not a loopback address"},
		{name: "a_debug_address_on_a_public_ip_is_refused", args: []string{"--debug-addr", "10.0.0.5:6060"}, wantErr: "--debug-addr"},
		{
			name: "trusted_proxies_take_addresses_and_cidrs",
			env:  map[string]string{"HANDOFF_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7,2001:db8::/32"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "10.0.0.0/8,192.0.2.7/32,2001:db8::/32", c.TrustedProxies.String())
				require.True(t, c.TrustedProxies.Contains(netip.MustParseAddr("10.1.2.3")))
				require.True(t, c.TrustedProxies.Contains(netip.MustParseAddr("::ffff:192.0.2.7")), "an IPv4-mapped address is its IPv4 address")
				require.False(t, c.TrustedProxies.Contains(netip.MustParseAddr("192.0.2.8")))
			},
		},
		{name: "a_trusted_proxy_that_is_no_address_names_the_flag", args: []string{"--trusted-proxies", "proxy.internal"}, wantErr: "-trusted-proxies"},
		{name: "fewer_handoffs_than_live_codes_is_refused", args: []string{"--max-codes-per-journey", "5", "--handoffs-per-journey", "4"}, wantErr: "--handoffs-per-journey"},
		{name: "a_key_prefix_with_a_hash_tag_is_refused", args: []string{"--redis-key-prefix", "{handoff}:"}, wantErr: "--redis-key-prefix"},
		{name: "a_zero_code_ttl_is_refused", args: []string{"--code-ttl", "0s"}, wantErr: "--code-ttl"},
		{
			name: "cors_origins_are_read_as_a_browser_sends_them",
			env:  map[string]string{"HANDOFF_CORS_ALLOWED_ORIGINS": "https://Shop.Example.com, http://localhost:3000/"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, Origins{"https://shop.example.com", "http://localhost:3000"}, c.CORSAllowedOrigins)
			},
		},
		{name: "an_otlp_endpoint_that_is_not_a_url_is_refused", args: []string{"--otlp-endpoint", "collector:4317"}, wantErr: "--otlp-endpoint"},
		{name: "a_cors_origin_of_every_site_is_refused", args: []string{"--cors-allowed-origins", "*"}, wantErr: "-cors-allowed-origins"},
		{name: "a_cors_origin_with_a_path_is_refused", args: []string{"--cors-allowed-origins", "https://shop.example.com/quote"}, wantErr: "-cors-allowed-origins"},
		{name: "a_cors_origin_without_a_scheme_is_refused", args: []string{"--cors-allowed-origins", "shop.example.com"}, wantErr: "-cors-allowed-origins"},
		{name: "waiting_for_replicas_without_redis_is_refused", args: []string{"--redis-min-replicas-ack", "1"}, wantErr: "--redis-min-replicas-ack"},
		{name: "a_replicas_ack_timeout_of_zero_which_would_wait_for_ever_is_refused", args: []string{"--redis-replicas-ack-timeout", "0s"}, wantErr: "--redis-replicas-ack-timeout"},
		{
			name: "waiting_for_replicas_is_read_from_the_environment",
			env:  map[string]string{"HANDOFF_REDIS_URL": "redis://localhost:6379", "HANDOFF_REDIS_MIN_REPLICAS_ACK": "1", "HANDOFF_REDIS_REPLICAS_ACK_TIMEOUT": "250ms"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, 1, c.RedisMinReplicasAck)
				require.Equal(t, 250*time.Millisecond, c.RedisReplicasAckTimeout)
			},
		},
		{
			name: "events_are_off_unless_asked_for_or_implied",
			check: func(t *testing.T, c Config) {
				require.False(t, c.Events.Enabled())
				require.Equal(t, 72*time.Hour, c.Events.Retention)
				require.True(t, Events{WebhooksFile: "w.yaml"}.Enabled(), "a webhooks file implies events")
				require.True(t, Events{RemindBefore: time.Hour}.Enabled(), "a remind-before implies events")
			},
		},
		{
			name: "event_flags_are_read_from_the_environment",
			env:  map[string]string{"HANDOFF_EVENTS": "true", "HANDOFF_EVENTS_RETENTION": "24h", "HANDOFF_WEBHOOKS_FILE": "/etc/handoff/webhooks.yaml", "HANDOFF_REMIND_BEFORE": "48h"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, Events{On: true, Retention: 24 * time.Hour, WebhooksFile: "/etc/handoff/webhooks.yaml", RemindBefore: 48 * time.Hour}, c.Events)
			},
		},
		{
			name: "insight_is_on_by_default_and_its_flags_are_read_from_the_environment",
			env:  map[string]string{"HANDOFF_INSIGHT_FLUSH": "5s", "HANDOFF_INSIGHT_RETENTION": "720h"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, Insight{On: true, Flush: 5 * time.Second, Retention: 720 * time.Hour}, c.Insight)
			},
		},
		{name: "insight_can_be_turned_off", args: []string{"--insight=false"}, check: func(t *testing.T, c Config) { require.False(t, c.Insight.On) }},
		{name: "an_insight_flush_over_a_minute_is_refused", args: []string{"--insight-flush", "5m"}, wantErr: "--insight-flush"},
		{name: "an_insight_retention_under_a_day_is_refused", args: []string{"--insight-retention", "1h"}, wantErr: "--insight-retention"},
		{name: "a_retention_under_a_minute_is_refused", args: []string{"--events-retention", "30s"}, wantErr: "--events-retention"},
		{name: "a_negative_remind_before_is_refused", args: []string{"--remind-before", "-1h"}, wantErr: "--remind-before (HANDOFF_REMIND_BEFORE): must be 0"},
		{name: "a_remind_before_as_long_as_the_journey_ttl_is_refused", args: []string{"--remind-before", "24h", "--journey-ttl", "24h"}, wantErr: "--remind-before (HANDOFF_REMIND_BEFORE): must be shorter than --journey-ttl"},
		{name: "a_body_limit_below_the_data_limit_is_refused", args: []string{"--max-body-bytes", "1000"}, wantErr: "--max-body-bytes"},
		{
			name: "a_jwks_url_with_issuer_and_audience_turns_jwt_on",
			env: map[string]string{
				"HANDOFF_JWT_JWKS_URL": "https://idp.example.com/.well-known/jwks.json",
				"HANDOFF_JWT_ISSUER":   "https://idp.example.com/", "HANDOFF_JWT_AUDIENCE": "handoff",
				"HANDOFF_JWT_ROLE_CLAIM": "handoff_role", "HANDOFF_JWT_CLOCK_SKEW": "10s",
			},
			check: func(t *testing.T, c Config) {
				require.True(t, c.JWT.Enabled())
				require.Equal(t, JWT{
					JWKSURL: "https://idp.example.com/.well-known/jwks.json",
					JWTConfig: auth.JWTConfig{
						Issuer: "https://idp.example.com/", Audience: "handoff",
						RoleClaim: "handoff_role", IDClaim: "sub", NameClaim: "name", ClockSkew: 10 * time.Second,
					},
				}, c.JWT)
			},
		},
		{
			name: "an_hs256_secret_file_with_a_tokens_file_is_fine",
			args: []string{"--jwt-hs256-secret-file", "/run/secrets/jwt", "--jwt-issuer", "idp", "--jwt-audience", "handoff", "--tokens-file", "tokens.yaml"},
			check: func(t *testing.T, c Config) {
				require.True(t, c.JWT.Enabled())
				require.Equal(t, "/run/secrets/jwt", c.JWT.HS256SecretFile)
				require.Equal(t, 30*time.Second, c.JWT.ClockSkew)
			},
		},
		{
			name: "an_http_jwks_url_on_localhost_is_fine",
			args: []string{"--jwt-jwks-url", "http://127.0.0.1:8081/jwks.json", "--jwt-issuer", "idp", "--jwt-audience", "handoff"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "http://127.0.0.1:8081/jwks.json", c.JWT.JWKSURL)
			},
		},
		{name: "jwks_url_and_hs256_secret_are_exclusive", args: []string{"--jwt-jwks-url", "https://idp/jwks", "--jwt-hs256-secret-file", "s", "--jwt-issuer", "i", "--jwt-audience", "a"}, wantErr: "--jwt-hs256-secret-file (HANDOFF_JWT_HS256_SECRET_FILE): cannot be combined with --jwt-jwks-url"},
		{name: "a_jwks_url_needs_an_issuer", args: []string{"--jwt-jwks-url", "https://idp/jwks", "--jwt-audience", "a"}, wantErr: "--jwt-issuer (HANDOFF_JWT_ISSUER): is required"},
		{name: "an_hs256_secret_needs_an_audience", args: []string{"--jwt-hs256-secret-file", "s", "--jwt-issuer", "i"}, wantErr: "--jwt-audience (HANDOFF_JWT_AUDIENCE): is required"},
		{name: "an_issuer_without_a_key_source_is_refused", env: map[string]string{"HANDOFF_JWT_ISSUER": "i"}, wantErr: "--jwt-issuer (HANDOFF_JWT_ISSUER): is set but no JWT key source is"},
		{name: "a_jwks_url_over_plain_http_is_refused", args: []string{"--jwt-jwks-url", "http://idp.example.com/jwks", "--jwt-issuer", "i", "--jwt-audience", "a"}, wantErr: "--jwt-jwks-url"},
		{name: "a_jwks_url_without_a_host_is_refused", args: []string{"--jwt-jwks-url", "idp.example.com/jwks", "--jwt-issuer", "i", "--jwt-audience", "a"}, wantErr: "--jwt-jwks-url"},
		{name: "an_empty_role_claim_is_refused", args: []string{"--jwt-role-claim", ""}, wantErr: "--jwt-role-claim"},
		{name: "a_negative_clock_skew_is_refused", args: []string{"--jwt-clock-skew", "-1s"}, wantErr: "--jwt-clock-skew"},
		{name: "a_clock_skew_of_an_hour_is_refused", env: map[string]string{"HANDOFF_JWT_CLOCK_SKEW": "1h"}, wantErr: "--jwt-clock-skew"},
		{
			name: "a_certificate_and_its_key_turn_tls_on",
			env:  map[string]string{"HANDOFF_TLS_CERT_FILE": "/etc/handoff/tls.crt", "HANDOFF_TLS_KEY_FILE": "/etc/handoff/tls.key"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "/etc/handoff/tls.crt", c.TLSCertFile)
				require.Equal(t, "/etc/handoff/tls.key", c.TLSKeyFile)
			},
		},
		{name: "a_certificate_without_its_key_is_refused", args: []string{"--tls-cert-file", "tls.crt"}, wantErr: "--tls-key-file (HANDOFF_TLS_KEY_FILE): is required with --tls-cert-file"},
		{name: "a_key_without_its_certificate_is_refused", args: []string{"--tls-key-file", "tls.key"}, wantErr: "--tls-cert-file (HANDOFF_TLS_CERT_FILE): is required with --tls-key-file"},
		{
			name: "a_redis_ca_file_with_a_rediss_url_is_fine",
			args: []string{"--redis-url", "rediss://redis.internal:6380", "--redis-ca-file", "/etc/handoff/redis-ca.pem"},
			check: func(t *testing.T, c Config) {
				require.Equal(t, "/etc/handoff/redis-ca.pem", c.RedisCAFile)
			},
		},
		{name: "a_redis_ca_file_with_a_plain_redis_url_is_refused", args: []string{"--redis-url", "redis://redis.internal:6379", "--redis-ca-file", "ca.pem"}, wantErr: "--redis-ca-file (HANDOFF_REDIS_CA_FILE): is set but --redis-url is not a rediss:// URL"},
		{name: "a_redis_ca_file_without_a_redis_url_is_refused", env: map[string]string{"HANDOFF_REDIS_CA_FILE": "ca.pem"}, wantErr: "--redis-ca-file"},
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
	require.Equal(t, 56, flags, "flags found in the usage text")
}

func TestHelpSaysWhatHandoffdIsAndNamesEachFlagsEnvironmentVariable(t *testing.T) {
	var usage strings.Builder
	_, err := Load([]string{"--help"}, env(nil), &usage)
	require.ErrorIs(t, err, flag.ErrHelp)
	text := usage.String()
	require.Contains(t, text, "resumed by an agent", "what the program is for")
	require.Contains(t, text, "Usage: handoffd [flags]")
	require.Contains(t, text, EncryptionKeysEnv, "the variable that has no flag")
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		if !strings.HasPrefix(line, "  -") {
			continue
		}
		name := strings.Fields(strings.TrimPrefix(line, "  -"))[0]
		require.Less(t, i+1, len(lines))
		require.Contains(t, lines[i+1], "["+EnvName(name)+"]", "--%s's help names its environment variable", name)
	}
}

func TestEncryptionKeys(t *testing.T) {
	redis := map[string]string{"HANDOFF_REDIS_URL": "redis://localhost:6379"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range redis {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	c, err := Load(nil, env(with(map[string]string{"HANDOFF_ENCRYPTION_KEYS_FILE": "/keys"})), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "/keys", c.EncryptionKeysFile)

	c, err = Load(nil, env(with(map[string]string{"HANDOFF_ENCRYPTION_KEYS": "k1 c2VjcmV0"})), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "k1 c2VjcmV0", c.EncryptionKeys)

	_, err = Load([]string{"--encryption-keys-file", "/keys"}, env(with(map[string]string{"HANDOFF_ENCRYPTION_KEYS": "k1 c2VjcmV0"})), io.Discard)
	require.ErrorContains(t, err, "--encryption-keys-file (HANDOFF_ENCRYPTION_KEYS_FILE): cannot be combined with HANDOFF_ENCRYPTION_KEYS")

	_, err = Load([]string{"--encryption-keys-file", "/keys"}, env(nil), io.Discard)
	require.ErrorContains(t, err, "--redis-url is not")
}
